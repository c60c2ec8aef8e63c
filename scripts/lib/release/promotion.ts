// How a promotion reaches the repository, beyond a local commit:
//   --pr       the promotion is committed on a branch (promote/<env>/<tag>) built from HEAD in a temporary
//              worktree — the user's working tree is not touched — pushed, and proposed as a pull request
//              whose body is the target environment's rendered diff and the source's health;
//   --publish  what the release workflow runs for "dev follows main": commit and push straight to the
//              branch the environment tracks, or, for an environment gitops.yaml protects, a pull request.
// Before anything is written, the image is verified (signature and scan attestation, see verify.ts).
import { formatMarkdown } from '../diff/format.ts';
import { git, resolveCommit, withWorktree } from '../diff/git.ts';
import { reviewChanges } from '../diff/review.ts';
import { ConflictError, UsageError } from '../errors.ts';
import type { KustomizeTool } from '../kustomize.ts';
import { promote, PROMOTE_FROM_RELEASE } from '../promote/index.ts';
import type { PromoteResult } from '../promote/index.ts';
import { readRepoInputs } from '../repo-inputs.ts';
import { githubRepoOf, openOrUpdatePullRequest, PR_BODY_LIMIT } from './github.ts';
import type { GithubApi, GithubRepo, PullRequest } from './github.ts';

export interface DeliveryOptions {
  root: string;
  from?: string;
  to: string;
  tag?: string;
  kustomize: KustomizeTool;
  /** Verifies `<image>:<tag>`; null skips (--no-verify). Returns what was verified. */
  verify: ((imageRef: string, repo: GithubRepo) => Promise<string[]>) | null;
  /** The source environment's health now, one line (from status); undefined when not asked. */
  health?: () => Promise<string>;
  github: GithubApi | undefined;
  /** The git remote to push to. */
  remote: string;
  /** Environments gitops.yaml protects (they change only through a reviewed pull request). */
  isProtected: (env: string) => boolean;
  log: (text: string) => void;
}

export interface DeliveryResult {
  mode: 'pr' | 'push' | 'unchanged';
  tag: string;
  previousTag?: string;
  commit?: string;
  branch?: string;
  pr?: PullRequest;
  verified: string[];
}

/** The branch a promotion pull request lives on: one per target and tag, so a re-run updates it. */
export const promotionBranch = (to: string, tag: string): string => `promote/${to}/${tag}`;

/** The branch Argo CD tracks for an environment, when its targetRevision names a branch. */
function trackedBranch(targetRevision: string): string {
  if (/^[0-9a-f]{40}$/.test(targetRevision) || targetRevision === 'HEAD' || /^v\d/.test(targetRevision)) {
    throw new UsageError(`the environment tracks ${JSON.stringify(targetRevision)}, not a branch: a promotion cannot be pushed to it; change targetRevision or use --commit`);
  }
  return targetRevision.replace(/^refs\/heads\//, '');
}

export function promotionBody(p: { from?: string; to: string; previousTag: string; tag: string; diffMarkdown: string; health?: string; verified: string[]; image: string }): string {
  const source = p.from ?? PROMOTE_FROM_RELEASE;
  const lines = [
    `## Promote ${source} → ${p.to}: users-api \`${p.previousTag}\` → \`${p.tag}\``,
    '',
    `- **Image:** \`${p.image}:${p.tag}\``,
    `- **Verified:** ${p.verified.length > 0 ? p.verified.join(', ') + ' (cosign, release workflow identity)' : 'not verified (--no-verify)'}`,
  ];
  if (p.from) lines.push(`- **${p.from} health at promotion:** ${p.health ?? 'not checked'}`);
  lines.push('', `Merging this pull request deploys it: Argo CD syncs \`overlays/${p.to}\`.`, '', '### Rendered diff of the target environment', '');
  const head = lines.join('\n');
  const room = PR_BODY_LIMIT - head.length - 200;
  const diff = p.diffMarkdown.length <= room ? p.diffMarkdown : `${p.diffMarkdown.slice(0, room)}\n\n… the diff is cut here (GitHub's ${PR_BODY_LIMIT}-character limit); run \`zx scripts/diff.ts --base origin/main --head ${promotionBranch(p.to, p.tag)}\` for all of it.`;
  return `${head}${diff}\n`;
}

async function pushRef(root: string, remote: string, commit: string, ref: string, force: boolean): Promise<void> {
  const r = await git(root, ['push', '--quiet', ...(force ? ['--force'] : []), remote, `${commit}:${ref}`]);
  if (r.code !== 0) {
    throw new ConflictError(`git push ${remote} ${ref} failed: ${r.stderr.trim()}${force ? '' : '\nthe branch moved on: pull, then promote again'}`);
  }
}

export async function deliverPromotion(opts: DeliveryOptions, mode: 'pr' | 'publish'): Promise<DeliveryResult> {
  const { root, to } = opts;
  const inputs = await readRepoInputs(root);
  const target = inputs.envs[to];
  if (!target) throw new UsageError(`unknown environment ${JSON.stringify(to)}; known: ${Object.keys(inputs.envs).sort().join(', ')}`);
  if (opts.from !== undefined && !inputs.envs[opts.from]) throw new UsageError(`unknown environment ${JSON.stringify(opts.from)}; known: ${Object.keys(inputs.envs).sort().join(', ')}`);
  const tag = opts.tag ?? inputs.envs[opts.from ?? '']?.spec.tag;
  if (tag === undefined) throw new UsageError('name the environment to promote from, or the tag to set with --tag');
  const asPr = mode === 'pr' || opts.isProtected(to);
  if (mode === 'publish' && asPr) opts.log(`${to} is protected in gitops.yaml: opening a pull request instead of pushing`);
  const repo = asPr ? githubRepoOf(inputs.settings.repoURL) : undefined;
  if (asPr && !opts.github) throw new UsageError('a pull request needs a GitHub token: set GITHUB_TOKEN (or GH_TOKEN)');

  const verified = opts.verify ? await opts.verify(`${inputs.settings.image}:${tag}`, repo ?? githubRepoOf(inputs.settings.repoURL)) : [];
  const branch = trackedBranch(target.spec.targetRevision);

  if (!asPr) {
    const result = await promote({ root, from: opts.from, to, tag, commit: true, kustomize: opts.kustomize, log: opts.log });
    if (!result.changed) return { mode: 'unchanged', tag, verified };
    await pushRef(root, opts.remote, result.commit!, `refs/heads/${branch}`, false);
    return { mode: 'push', tag, previousTag: result.previousTag, commit: result.commit, branch, verified };
  }

  const base = await resolveCommit(root, 'HEAD');
  const result: PromoteResult = await withWorktree(root, base, (dir) => promote({ root: dir, from: opts.from, to, tag, commit: true, kustomize: opts.kustomize, log: opts.log }));
  if (!result.changed) return { mode: 'unchanged', tag, verified };
  const prBranch = promotionBranch(to, tag);
  await pushRef(root, opts.remote, result.commit!, `refs/heads/${prBranch}`, true);
  const report = await reviewChanges({ root, source: { kind: 'refs', base, head: result.commit! }, kustomize: opts.kustomize });
  const [diffMarkdown = ''] = formatMarkdown(report, PR_BODY_LIMIT);
  const health = opts.from && opts.health ? await opts.health().catch((e: Error) => `unknown (${e.message.split('\n')[0]})`) : undefined;
  const body = promotionBody({ from: opts.from, to, previousTag: result.previousTag, tag, diffMarkdown, health, verified, image: inputs.settings.image });
  const title = `promote ${opts.from ?? PROMOTE_FROM_RELEASE} → ${to}: users-api ${result.previousTag} → ${tag}`;
  const pr = await openOrUpdatePullRequest(opts.github!, repo!, { head: prBranch, base: branch, title, body });
  return { mode: 'pr', tag, previousTag: result.previousTag, commit: result.commit, branch: prBranch, pr, verified };
}
