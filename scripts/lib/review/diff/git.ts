// The git side of a review: resolving refs, listing changed files, and checking a ref out into a
// temporary detached worktree that is always removed — the user's working tree is never touched.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, posix } from 'node:path';
import { UsageError } from '../../core/errors.ts';
import { gitChecked, gitRaw } from '../../core/git.ts';
import type { TreeReader } from '../../render/tree.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

export async function git(root: string, args: string[], input?: string): Promise<GitResult> {
  const r = await gitRaw(root, args, input);
  return { ...r, stdout: r.stdout.toString('utf8') };
}

async function gitOk(root: string, args: string[], input?: string): Promise<string> {
  return (await gitChecked(root, args, input)).toString('utf8');
}

/** The commit a ref names; a ref that names none is a usage error. */
export async function resolveCommit(root: string, ref: string): Promise<string> {
  const r = await git(root, ['rev-parse', '--verify', '-q', `${ref}^{commit}`]);
  if (r.code !== 0) throw new UsageError(`${JSON.stringify(ref)} is not a commit in ${root} (try a branch, a tag or HEAD~1)`);
  return r.stdout.trim();
}

/** `origin/main` when the repository has it (the usual PR base), else `HEAD`. */
export async function defaultBase(root: string): Promise<string> {
  const r = await git(root, ['rev-parse', '--verify', '-q', 'origin/main^{commit}']);
  return r.code === 0 ? 'origin/main' : 'HEAD';
}

function nulList(text: string): string[] {
  return text.split('\0').filter((s) => s !== '');
}

/** Files that differ between `base` and `head` (a commit), or the working tree when head is undefined. */
export async function changedFiles(root: string, base: string, head: string | undefined): Promise<string[]> {
  if (head !== undefined) return nulList(await gitOk(root, ['diff', '--name-only', '--no-renames', '-z', base, head])).sort();
  const [tracked, untracked] = await Promise.all([
    gitOk(root, ['diff', '--name-only', '--no-renames', '-z', base]),
    gitOk(root, ['ls-files', '--others', '--exclude-standard', '-z']),
  ]);
  return [...new Set([...nulList(tracked), ...nulList(untracked)])].sort();
}

/**
 * The working tree as the head side, in two git processes: the files that differ from `base` (tracked
 * changes from `git diff`, untracked not-ignored files from `git status`, as `changedFiles` lists them),
 * and whether the working tree differs from HEAD at all (any status entry). `--no-optional-locks`:
 * status never refreshes (writes) the index.
 */
export async function workingTreeChanges(root: string, base: string): Promise<{ files: string[]; dirty: boolean }> {
  const [tracked, status] = await Promise.all([
    gitOk(root, ['diff', '--name-only', '--no-renames', '-z', base]),
    gitOk(root, ['--no-optional-locks', 'status', '--porcelain', '-z', '--untracked-files=all', '--no-renames']),
  ]);
  const entries = nulList(status);
  const untracked = entries.filter((e) => e.startsWith('?? ')).map((e) => e.slice(3));
  return { files: [...new Set([...nulList(tracked), ...untracked])].sort(), dirty: entries.length > 0 };
}

/**
 * `git worktree add/remove/prune` read every worktree's admin directory, and fail when another one is
 * half-created at that moment; this process runs them one at a time. (A concurrent run in another
 * process is covered by one retry.)
 */
let worktreeAdmin: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = worktreeAdmin.then(fn, fn);
  worktreeAdmin = next.catch(() => undefined);
  return next;
}

async function worktreeAdd(root: string, args: string[]): Promise<void> {
  const r = await serialized(() => git(root, ['worktree', 'add', ...args]));
  if (r.code === 0) return;
  await new Promise((wait) => setTimeout(wait, 200));
  await serialized(() => gitOk(root, ['worktree', 'add', ...args]));
}

const live = new Set<() => void>();
let hooked = false;

function hookSignals(): void {
  if (hooked) return;
  hooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const cleanup of live) cleanup();
      process.kill(process.pid, signal);
    });
  }
}

/**
 * Runs `fn` with `commit` checked out (detached) in a temporary worktree, then removes the worktree,
 * also when `fn` throws or the process is interrupted. With `paths`, only those files are checked out
 * (a worktree without checkout, then `git checkout <commit> -- <paths>`): building one environment
 * of a hundred then costs a few files, not the whole tree. Sparse-checkout is not used because it
 * changes the repository's config (extensions.worktreeConfig).
 */
export async function withWorktree<T>(root: string, commit: string, fn: (dir: string) => Promise<T>, paths?: readonly string[]): Promise<T> {
  const parent = mkdtempSync(join(tmpdir(), 'gitops-review-'));
  // Git names the worktree's admin directory after the last path segment; a unique name keeps two
  // concurrent worktrees (base and head are rendered in parallel) from colliding.
  const dir = join(parent, basename(parent));
  const cleanup = (): void => {
    rmSync(parent, { recursive: true, force: true });
  };
  const cleanupOnSignal = (): void => {
    cleanup();
    try {
      execFileSync('git', ['worktree', 'prune'], { cwd: root, stdio: 'ignore' });
    } catch {
      // the next run's prune removes the stale entry
    }
  };
  live.add(cleanupOnSignal);
  hookSignals();
  try {
    if (paths === undefined) {
      await worktreeAdd(root, ['--detach', '--quiet', dir, commit]);
    } else {
      await worktreeAdd(root, ['--detach', '--quiet', '--no-checkout', dir, commit]);
      if (paths.length > 0) {
        await gitOk(dir, ['--literal-pathspecs', 'checkout', '--quiet', commit, '--pathspec-from-file=-', '--pathspec-file-nul'], paths.map((p) => `${p}\0`).join(''));
      }
    }
    return await fn(dir);
  } finally {
    // `worktree remove` deletes the admin entry too; only when it fails is a prune needed.
    const removed = await serialized(() => git(root, ['worktree', 'remove', '--force', dir]));
    cleanup();
    if (removed.code !== 0) await serialized(() => git(root, ['worktree', 'prune']));
    live.delete(cleanupOnSignal);
  }
}

/** Past this many files a worktree checkout (git writing them itself) is used instead of writing them out. */
const WRITE_OUT_LIMIT = 500;

/**
 * Runs `fn` in a temporary directory holding `paths` of a commit exactly as a checkout writes them,
 * then removes it (also when `fn` throws or the process is interrupted). The bytes come from the
 * commit's TreeReader (`gitTree`: one `git cat-file --batch` for all of them), so building the few input
 * files of one environment costs one git process instead of three (`worktree add`, `checkout`,
 * `worktree remove`, each touching the repository's worktree list): the base side of a review then starts
 * Kustomize as early as the working tree's side (issue 24). Anything a plain write would not reproduce
 * (a symlink, a submodule, a path leaving the tree) or many files go through `withWorktree`.
 */
export async function withCommitFiles<T>(root: string, tree: TreeReader, commit: string, fn: (dir: string) => Promise<T>, paths: readonly string[]): Promise<T> {
  const plain = paths.length <= WRITE_OUT_LIMIT
    && paths.every((p) => !isAbsolute(p) && posix.normalize(p) === p && !p.startsWith('../') && p !== '..' && !p.split('/').includes('.git'))
    && tree.regularFiles?.(paths) === true;
  if (!plain) return withWorktree(root, commit, fn, paths);
  await tree.prefetch(paths);
  const dir = mkdtempSync(join(tmpdir(), 'gitops-review-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  live.add(cleanup);
  hookSignals();
  try {
    for (const p of paths) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), tree.read(p));
    }
    return await fn(dir);
  } finally {
    cleanup();
    live.delete(cleanup);
  }
}
