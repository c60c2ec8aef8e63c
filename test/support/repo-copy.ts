// A throw-away copy of this repository's GitOps files as committed (`git archive HEAD`: tests never read or
// depend on the working tree's uncommitted state), regenerated with the current generator and committed as
// a baseline on main, optionally with a bare `origin` to push to. Scripts run from this checkout with the
// copy as their working directory, the way a user runs them in a clone.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SCRATCH_ENV } from './scratch-setup.ts';

export const REPO = resolve(import.meta.dirname, '../..');
const GITOPS_PATHS = ['.gitignore', 'gitops.yaml', 'overlays', 'apps/users-api/deploy', 'platform', 'argocd', 'previews', 'schemas'];

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RepoCopy {
  root: string;
  /** The bare repository `origin` points at, when asked for. */
  origin?: string;
  git(...args: string[]): string;
  read(file: string): string;
  write(file: string, content: string): void;
  /** Replaces `from` by `to` in a file; throws when `from` is not there (a test that edits nothing is wrong). */
  edit(file: string, from: string | RegExp, to: string): void;
  /** zx scripts/generate.ts in the copy. */
  generate(): void;
  commit(message: string): string;
  /**
   * Runs scripts/<script> of this checkout in the copy, asynchronously (a test may serve HTTP to it from
   * its own process, which a synchronous child would deadlock).
   */
  run(script: string, args: string[], env?: Record<string, string>): Promise<RunResult>;
  cleanup(): void;
}

/** The toolkit's code: copied from the working tree (the code under test), never its data. */
const CODE_PATHS = ['scripts', 'apps/users-api/src', 'package.json', 'tsconfig.json'];
const GIT_IDENTITY = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' };

/**
 * Puts `paths` of this checkout into `dest`: code (scripts, the API's source, package.json, tsconfig.json)
 * as it is in the working tree, since that is what is being tested; everything else (gitops.yaml,
 * overlays, argocd, generated bases…) as committed (`git archive HEAD`), so environments, `.env` edits
 * or any uncommitted state a user has in the checkout can never change a test's result.
 */
export function copyToolkitTree(dest: string, paths: readonly string[]): void {
  const isCode = (p: string) => CODE_PATHS.some((c) => p === c || p.startsWith(`${c}/`));
  const data = paths.filter((p) => !isCode(p));
  if (data.length > 0) {
    const tracked = execFileSync('git', ['ls-tree', '--name-only', 'HEAD', '--', ...data], { cwd: REPO, encoding: 'utf8' }).split('\n').filter(Boolean);
    if (tracked.length > 0) {
      const archive = execFileSync('git', ['archive', '--format=tar', 'HEAD', '--', ...tracked], { cwd: REPO, maxBuffer: 256 * 1024 * 1024 });
      execFileSync('tar', ['-x', '-C', dest], { input: archive });
    }
  }
  for (const p of paths.filter(isCode)) if (existsSync(join(REPO, p))) cpSync(join(REPO, p), join(dest, p), { recursive: true });
}

/**
 * A directory kept for the whole worker (the trees below, made once and read by every file the worker runs).
 * Under vitest it lies in the run's scratch directory (test/support/scratch-setup.ts), removed when the run
 * ends however the workers were stopped (a fork worker is SIGTERMed: its 'exit' never runs). Outside vitest
 * (bench/ imports these helpers), in the system's temporary directory, removed at the process's exit.
 */
function workerDir(prefix: string): string {
  const scratch = process.env[SCRATCH_ENV];
  const dir = mkdtempSync(join(scratch ?? tmpdir(), prefix));
  if (!scratch) process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let committed: string | undefined;

/** The GitOps files exactly as committed (git archive HEAD, not regenerated, no .git), once per worker. Read only. */
export function committedTree(): string {
  if (committed) return committed;
  const root = workerDir('repo-committed-');
  copyToolkitTree(root, GITOPS_PATHS);
  committed = root;
  return root;
}

let baseline: string | undefined;

/**
 * This worker's baseline repository: the committed GitOps files (git archive HEAD), regenerated with the
 * current generator and committed once on main. Every copy is a `git clone` of it (milliseconds) instead
 * of a fresh archive and generator run per test. Read it, never write it.
 */
export function committedBaseline(): string {
  if (baseline) return baseline;
  const root = workerDir('repo-baseline-');
  const env = { ...process.env, ...GIT_IDENTITY };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  copyToolkitTree(root, GITOPS_PATHS);
  git('init', '-q', '-b', 'main');
  git('config', 'commit.gpgsign', 'false');
  // The generator of this checkout may be newer than the committed files: regenerate, then the baseline.
  execFileSync(process.execPath, [join(REPO, 'scripts/generate.ts')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', 'baseline: the repository as generated');
  baseline = root;
  return root;
}

export function createRepoCopy(opts: { withOrigin?: boolean } = {}): RepoCopy {
  const source = committedBaseline();
  const root = mkdtempSync(join(tmpdir(), 'repo-copy-'));
  const env = { ...process.env, ...GIT_IDENTITY };
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  // A local clone shares the baseline's (immutable) objects by hard links; its own refs, index and files.
  execFileSync('git', ['clone', '-q', '--local', source, root], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let origin: string | undefined;
  const copy: RepoCopy = {
    root,
    git,
    read: (file) => readFileSync(join(root, file), 'utf8'),
    write: (file, content) => writeFileSync(join(root, file), content),
    edit(file, from, to) {
      const before = copy.read(file);
      const after = before.replace(from, to);
      if (after === before) throw new Error(`${file}: ${String(from)} not found`);
      copy.write(file, after);
    },
    generate() {
      execFileSync(process.execPath, [join(REPO, 'scripts/generate.ts')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    },
    commit(message) {
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD').trim();
    },
    run: (script, args, extra = {}) =>
      new Promise((done) => {
        const child = spawn(process.execPath, [join(REPO, 'scripts', script), ...args], { cwd: root, env: { ...env, FORCE_COLOR: '0', NO_COLOR: '1', ...extra } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        child.on('close', (status) => done({ status, stdout, stderr }));
      }),
    cleanup: () => {
      rmSync(root, { recursive: true, force: true });
      if (origin) rmSync(origin, { recursive: true, force: true });
    },
  };
  git('remote', 'remove', 'origin');
  git('config', 'commit.gpgsign', 'false');
  if (opts.withOrigin) {
    origin = mkdtempSync(join(tmpdir(), 'repo-copy-origin-'));
    execFileSync('git', ['init', '--quiet', '--bare', '-b', 'main', origin]);
    git('remote', 'add', 'origin', origin);
    git('push', '--quiet', 'origin', 'main');
    copy.origin = origin;
  }
  return copy;
}

/** The same copy with a synchronous runner: `run(['scripts/x.ts', …args])` blocks until the script exits. */
export interface SyncRepoCopy {
  dir: string;
  origin?: string;
  git: (...args: string[]) => string;
  run: (args: string[], env?: Record<string, string>) => RunResult;
  remove: () => void;
}

export function copyRepository(_prefix: string, opts: { withOrigin?: boolean } = {}): SyncRepoCopy {
  const copy = createRepoCopy(opts);
  return {
    dir: copy.root,
    ...(copy.origin ? { origin: copy.origin } : {}),
    git: copy.git,
    run: (args, env = {}) => {
      const [script = '', ...rest] = args;
      const r = spawnSync(process.execPath, [join(REPO, script), ...rest], { cwd: copy.root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env } });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    remove: copy.cleanup,
  };
}
