// The pinned upstream manifest: downloaded at run time (never vendored in the repo), or read from a
// file given with --argocd-manifest (air-gapped clusters).
import { readFileSync } from 'node:fs';
import { InputError } from '../../core/errors.ts';
import { KubeRequestError, explainDownloadError } from '../kube/errors.ts';

export async function fetchText(url: string, timeoutMs: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw explainDownloadError(error, url);
  }
  if (!res.ok) {
    throw new KubeRequestError(`cannot download ${url}: HTTP ${res.status}\n    fix: check that gitops.yaml argocd.version names a released Argo CD version`, res.status);
  }
  return res.text();
}

/** --argocd-manifest FILE: exit 2 naming the file when it cannot be read. */
export function readManifestFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError({
      file,
      message: `cannot read --argocd-manifest: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      fix: 'pass the install.yaml of the pinned Argo CD release (https://raw.githubusercontent.com/argoproj/argo-cd/<version>/manifests/install.yaml)',
    });
  }
}
