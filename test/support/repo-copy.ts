// A throwaway copy of this repository as a user's clone would be: every file git knows (tracked and
// untracked-not-ignored; in CI's clean clone that is exactly the commit), node_modules linked, generated
// files regenerated, one commit on main. Optionally with a bare "origin" to push to.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

export interface RepoCopy {
  dir: string;
  /** The bare repository `origin` points at, when asked for. */
  origin?: string;
  git: (...args: string[]) => string;
  /** Runs a script of this repository's (e.g. scripts/promote.ts) with node, in the copy. */
  run: (args: string[], env?: Record<string, string>) => { status: number | null; stdout: string; stderr: string };
  remove: () => void;
}

export function copyRepository(prefix: string, opts: { withOrigin?: boolean } = {}): RepoCopy {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      copyFileSync(join(REPO, f), join(dir, f));
    } catch {
      // listed by git but deleted in the working tree
    }
  }
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, '.gitignore'), 'node_modules\n.cache/\n.gitops-tx/\n.gitops.lock\n');
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const run: RepoCopy['run'] = (args, env = {}) => {
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const gen = run(['scripts/generate.ts']);
  if (gen.status !== 0) throw new Error(`generate failed in the copied repository: ${gen.stderr}`);
  git('init', '--quiet', '-b', 'main');
  git('config', 'user.email', 'test@example.invalid');
  git('config', 'user.name', 'Test');
  git('config', 'commit.gpgsign', 'false');
  git('add', '-A');
  git('commit', '--quiet', '-m', 'fixture');
  let origin: string | undefined;
  if (opts.withOrigin) {
    origin = mkdtempSync(join(tmpdir(), `${prefix}-origin-`));
    execFileSync('git', ['init', '--quiet', '--bare', '-b', 'main', origin]);
    git('remote', 'add', 'origin', origin);
    git('push', '--quiet', 'origin', 'main');
  }
  return {
    dir,
    origin,
    git,
    run,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      if (origin) rmSync(origin, { recursive: true, force: true });
    },
  };
}
