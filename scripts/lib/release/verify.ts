// Before an image is promoted: was it built, scanned and signed by this repository's release workflow?
// The workflow (.github/workflows/release.yml) signs an image only after its Trivy gate passed, and attests
// the scan as a cosign `vuln` predicate; both are keyless, so the certificate names the workflow file and
// ref that ran. Verifying both against that identity proves signature and scan at once.
// Flags as documented by sigstore/cosign (docs: verifying keyless signatures, `cosign verify` and
// `cosign verify-attestation --type vuln` with --certificate-identity-regexp / --certificate-oidc-issuer).
import { UsageError } from '../core/errors.ts';
import type { GithubRepo } from './github.ts';

import { GITHUB_OIDC_ISSUER, RELEASE_WORKFLOW } from '../generate/image-policy.ts';
export { GITHUB_OIDC_ISSUER, RELEASE_WORKFLOW };

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The certificate identity of the release workflow on main or on an exact release tag vX.Y.Z (numbers
 * without leading zeros, nothing after them): a pre-release, a suffix or any other ref does not verify.
 * A tag can point at any commit, so `v*` tags must be protected by a ruleset (docs/release.md, "Identity").
 */
export function releaseIdentityRegexp(repo: GithubRepo): string {
  const n = '(0|[1-9][0-9]*)';
  return `^https://github\\.com/${escape(repo.owner)}/${escape(repo.repo)}/${escape(RELEASE_WORKFLOW)}@refs/(heads/main|tags/v${n}\\.${n}\\.${n})$`;
}

export function cosignCommands(imageRef: string, repo: GithubRepo): string[][] {
  const identity = ['--certificate-identity-regexp', releaseIdentityRegexp(repo), '--certificate-oidc-issuer', GITHUB_OIDC_ISSUER];
  return [
    ['verify', ...identity, imageRef],
    ['verify-attestation', '--type', 'vuln', ...identity, imageRef],
  ];
}

export type Exec = (file: string, args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** Runs both verifications; throws naming what failed and how to proceed. */
export async function verifyReleaseImage(exec: Exec, imageRef: string, repo: GithubRepo): Promise<string[]> {
  const done: string[] = [];
  for (const args of cosignCommands(imageRef, repo)) {
    let r: { code: number; stdout: string; stderr: string };
    try {
      r = await exec('cosign', args);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new UsageError('cosign is not installed: install it (https://docs.sigstore.dev/cosign/system_config/installation/) to verify the image before promoting, or pass --no-verify to promote an unverified image');
      }
      throw error;
    }
    const what = args[0] === 'verify' ? 'signature' : 'vulnerability-scan attestation';
    if (r.code !== 0) {
      const reason = r.stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.code}`;
      throw new UsageError(`refusing to promote ${imageRef}: its ${what} does not verify against ${RELEASE_WORKFLOW} of ${repo.owner}/${repo.repo} (${reason}). Only images built, scanned and signed by the release workflow are promoted.`);
    }
    done.push(what);
  }
  return done;
}
