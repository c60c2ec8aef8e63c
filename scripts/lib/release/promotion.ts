// How a promotion reaches the repository, beyond a local commit:
//   --pr       the promotion is committed on a branch (promote/<env>/<tag>) built from HEAD in a temporary
//              worktree — the user's working tree is not touched — pushed, and proposed as a pull request
//              whose body is the target environment's rendered diff and the source's health;
//   --publish  what the release workflow runs for "dev follows main": commit and push straight to the
//              branch the environment tracks, or, for an environment gitops.yaml protects, a pull request.
//              The promotion is built in a temporary worktree on the remote branch's current head (fetched
//              into a temporary ref), pushed without force, and rebuilt on the new head when the branch
//              moved meanwhile (up to PUBLISH_ATTEMPTS times). It either lands or leaves no local trace: no
//              local commit on any branch, the working tree untouched, the temporary refs deleted; on
//              failure the error says what is on the remote and what is here.
// Before anything is written, the tag is resolved to its digest in the registry (registry.ts), the image
// is verified by that digest (signature and scan attestation, see verify.ts), the tag is resolved again
// (pushed again meanwhile: refused), and env.yaml gets tag and digest.
import { randomBytes } from 'node:crypto';
import { formatMarkdown } from '../review/diff/format.ts';
import { git, resolveCommit, withWorktree } from '../review/diff/git.ts';
import { reviewChanges } from '../review/diff/review.ts';
import { ConflictError, UsageError } from '../core/errors.ts';
import type { KustomizeTool } from '../render/kustomize.ts';
import { promote, PROMOTE_FROM_RELEASE } from './promote.ts';
import type { PromoteResult } from './promote.ts';
import { readRepoInputs } from '../inputs/index.ts';
import { githubRepoOf, openOrUpdatePullRequest, PR_BODY_LIMIT } from './github.ts';
import type { GithubApi, GithubRepo, PullRequest } from './github.ts';

export interface DeliveryOptions {
  root: string;
  from?: string;
  to: string;
  tag?: string;
  kustomize: KustomizeTool;
  /** Verifies `<image>@<digest>`; null skips (--no-verify). Returns what was verified. */
  verify: ((imageRef: string, repo: GithubRepo) => Promise<string[]>) | null;
  /** The digest `<image>:<tag>` names in the registry now (registry.ts resolveDigest). */
  resolveDigest: (image: string, tag: string) => Promise<string>;
  /** --digest: the digest the caller expects; the registry must answer the same. */
  digest?: string;
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
  digest?: string;
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

export function promotionBody(p: { from?: string; to: string; previousTag: string; tag: string; digest?: string; diffMarkdown: string; health?: string; verified: string[]; image: string }): string {
  const source = p.from ?? PROMOTE_FROM_RELEASE;
  const lines = [
    `## Promote ${source} → ${p.to}: users-api \`${p.previousTag}\` → \`${p.tag}\``,
    '',
    `- **Image:** \`${p.image}:${p.tag}${p.digest ? `@${p.digest}` : ''}\``,
    `- **Verified:** ${p.verified.length > 0 ? p.verified.join(', ') + ' (cosign, release workflow identity)' : 'not verified (--no-verify)'}`,
  ];
  if (p.from) lines.push(`- **${p.from} health at promotion:** ${p.health ?? 'not checked'}`);
  lines.push('', `Merging this pull request deploys it: Argo CD syncs \`overlays/${p.to}\`.`, '', '### Rendered diff of the target environment', '');
  const head = lines.join('\n');
  const room = PR_BODY_LIMIT - head.length - 200;
  const diff = p.diffMarkdown.length <= room ? p.diffMarkdown : `${p.diffMarkdown.slice(0, room)}\n\n… the diff is cut here (GitHub's ${PR_BODY_LIMIT}-character limit); run \`zx scripts/diff.ts --base origin/main --head ${promotionBranch(p.to, p.tag)}\` for all of it.`;
  return `${head}${diff}\n`;
}

async function pushRef(root: string, remote: string, commit: string, ref: string, force: boolean): Promise<{ ok: true } | { ok: false; stderr: string }> {
  const r = await git(root, ['push', '--quiet', '--porcelain', ...(force ? ['--force'] : []), remote, `${commit}:${ref}`]);
  return r.code === 0 ? { ok: true } : { ok: false, stderr: `${r.stderr}${r.stdout}`.trim() };
}

/** How many times --publish rebuilds the promotion on a branch that moved while it was being built. */
export const PUBLISH_ATTEMPTS = 5;

const tempRef = (what: string): string => `refs/promote-tmp/${what}-${process.pid}-${randomBytes(4).toString('hex')}`;

async function deleteRef(root: string, ref: string): Promise<void> {
  await git(root, ['update-ref', '-d', ref]);
}

/** The remote branch's head now, fetched into a temporary ref (deleted again); undefined when the branch does not exist. */
async function remoteHead(root: string, remote: string, branch: string): Promise<string> {
  const ref = tempRef('base');
  const r = await git(root, ['fetch', '--quiet', '--no-tags', remote, `+refs/heads/${branch}:${ref}`]);
  if (r.code !== 0) {
    throw new ConflictError(`cannot fetch ${branch} from ${remote}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? `exit ${r.code}`}\nnothing was pushed, and nothing changed here (no commit, working tree untouched)`);
  }
  try {
    return await resolveCommit(root, ref);
  } finally {
    await deleteRef(root, ref);
  }
}

/**
 * Builds the promotion on the remote branch's head and pushes it (fast-forward only), again on the new head
 * when the branch moved meanwhile. Then moves the local branch along when that is a fast-forward of a clean
 * checkout of it; otherwise leaves it and says so.
 */
async function publishToBranch(opts: DeliveryOptions, tag: string, digest: string | undefined, branch: string): Promise<{ result: PromoteResult; commit?: string; moved: boolean }> {
  const { root, remote } = opts;
  let lastRefusal = '';
  for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
    const base = await remoteHead(root, remote, branch);
    const result = await withWorktree(root, base, (dir) => promote({ root: dir, from: opts.from, to: opts.to, tag, digest, commit: true, kustomize: opts.kustomize, log: opts.log }));
    if (!result.changed) return { result, moved: false };
    // The commit exists only in the object store; a temporary ref keeps it reachable until it is pushed.
    const hold = tempRef('commit');
    await git(root, ['update-ref', hold, result.commit!]);
    let pushed: Awaited<ReturnType<typeof pushRef>>;
    try {
      pushed = await pushRef(root, remote, result.commit!, `refs/heads/${branch}`, false);
    } finally {
      await deleteRef(root, hold);
    }
    if (pushed.ok) return { result, commit: result.commit, moved: await moveLocalBranch(root, branch, base, result.commit!, opts.log) };
    lastRefusal = pushed.stderr;
    // Rejected because the branch moved on (non-fast-forward / fetch first): build it again on the new head.
    if (!/\[rejected\]|non-fast-forward|fetch first|stale info/i.test(pushed.stderr)) {
      throw new ConflictError(`git push ${remote} ${branch} failed: ${pushed.stderr.split('\n').filter(Boolean).slice(-1)[0] ?? ''}\n${remote}/${branch} is unchanged (still ${base.slice(0, 12)}); nothing changed here: the promotion commit ${result.commit!.slice(0, 12)} was built in a temporary worktree and is on no branch, the working tree is untouched. Fix the access to ${remote} and run promote again`);
    }
    opts.log(`${remote}/${branch} moved while the promotion was built on ${base.slice(0, 12)} (attempt ${attempt} of ${PUBLISH_ATTEMPTS}): building it again on the new head`);
  }
  throw new ConflictError(`${remote}/${branch} kept moving: ${PUBLISH_ATTEMPTS} attempts were each overtaken (${lastRefusal.split('\n').filter(Boolean).slice(-1)[0] ?? ''}). Nothing was pushed and nothing changed here; run promote again`);
}

/** Fast-forwards the local branch to what was pushed when it is checked out, clean and at the base or behind it. */
async function moveLocalBranch(root: string, branch: string, base: string, commit: string, log: (t: string) => void): Promise<boolean> {
  const current = (await git(root, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim();
  const local = await git(root, ['rev-parse', '--verify', '-q', `refs/heads/${branch}^{commit}`]);
  if (local.code !== 0) return false;
  const isAncestor = (await git(root, ['merge-base', '--is-ancestor', local.stdout.trim(), base])).code === 0;
  if (!isAncestor) {
    log(`note: your local ${branch} has commits ${branch} on the remote does not; it was left as it is`);
    return false;
  }
  if (current === branch) {
    const clean = (await git(root, ['status', '--porcelain', '--untracked-files=no'])).stdout.trim() === '';
    if (!clean || (await git(root, ['merge', '--ff-only', '--quiet', commit])).code !== 0) {
      log(`note: your checkout of ${branch} has local changes; it was left as it is (git pull --ff-only brings the promotion)`);
      return false;
    }
    return true;
  }
  return (await git(root, ['update-ref', `refs/heads/${branch}`, commit, local.stdout.trim()])).code === 0;
}

/** A pull request for the terminal: never "undefined" when GitHub's answer lacks a field. */
export function describePullRequest(pr: Partial<PullRequest> | undefined): string {
  const n = typeof pr?.number === 'number' && Number.isSafeInteger(pr.number) && pr.number > 0 ? ` #${pr.number}` : '';
  const url = typeof pr?.url === 'string' && /^https:\/\/[\x21-\x7e]+$/.test(pr.url) ? `: ${pr.url}` : ' (GitHub answered without its link)';
  return `pull request${n}${url}`;
}

/** Resolves, verifies by digest, resolves again: the digest to write, and what was verified. */
async function resolveAndVerify(opts: DeliveryOptions, image: string, tag: string, repo: GithubRepo): Promise<{ digest: string; verified: string[] }> {
  const digest = await opts.resolveDigest(image, tag);
  if (opts.digest !== undefined && opts.digest !== digest) {
    throw new UsageError(`refusing to promote ${image}:${tag}: --digest ${opts.digest} was given, but the registry now answers ${digest} for that tag (pushed again?)`);
  }
  const verified = opts.verify ? await opts.verify(`${image}@${digest}`, repo) : [];
  const again = await opts.resolveDigest(image, tag);
  if (again !== digest) {
    throw new UsageError(`refusing to promote ${image}:${tag}: the tag was pushed again while it was being verified (${digest} was verified, it now names ${again}); nothing was written`);
  }
  return { digest, verified };
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

  const { digest, verified } = await resolveAndVerify(opts, inputs.settings.image, tag, repo ?? githubRepoOf(inputs.settings.repoURL));
  const branch = trackedBranch(target.spec.targetRevision);

  if (!asPr) {
    const { result, commit } = await publishToBranch(opts, tag, digest, branch);
    if (!result.changed) return { mode: 'unchanged', tag, digest, verified };
    return { mode: 'push', tag, digest, previousTag: result.previousTag, commit, branch, verified };
  }

  const base = await resolveCommit(root, 'HEAD');
  const result: PromoteResult = await withWorktree(root, base, (dir) => promote({ root: dir, from: opts.from, to, tag, digest, commit: true, kustomize: opts.kustomize, log: opts.log }));
  if (!result.changed) return { mode: 'unchanged', tag, digest, verified };
  const prBranch = promotionBranch(to, tag);
  const hold = tempRef('commit');
  await git(root, ['update-ref', hold, result.commit!]);
  try {
    const pushed = await pushRef(root, opts.remote, result.commit!, `refs/heads/${prBranch}`, true);
    if (!pushed.ok) throw new ConflictError(`git push ${opts.remote} ${prBranch} failed: ${pushed.stderr.split('\n').filter(Boolean).slice(-1)[0] ?? ''}\nnothing was pushed and no pull request opened; nothing changed here (the promotion commit was built in a temporary worktree and is on no branch)`);
  } finally {
    await deleteRef(root, hold);
  }
  const report = await reviewChanges({ root, source: { kind: 'refs', base, head: result.commit! }, kustomize: opts.kustomize });
  const [diffMarkdown = ''] = formatMarkdown(report, PR_BODY_LIMIT);
  const health = opts.from && opts.health ? await opts.health().catch((e: Error) => `unknown (${e.message.split('\n')[0]})`) : undefined;
  const body = promotionBody({ from: opts.from, to, previousTag: result.previousTag, tag, digest, diffMarkdown, health, verified, image: inputs.settings.image });
  const title = `promote ${opts.from ?? PROMOTE_FROM_RELEASE} → ${to}: users-api ${result.previousTag} → ${tag}`;
  const pr = await openOrUpdatePullRequest(opts.github!, repo!, { head: prBranch, base: branch, title, body });
  return { mode: 'pr', tag, digest, previousTag: result.previousTag, commit: result.commit, branch: prBranch, pr, verified };
}
