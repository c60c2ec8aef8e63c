// A throwaway git repository made of this working tree's files (node_modules linked), regenerated and
// committed, on which tests run the CLIs exactly as a user would.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');

export interface TempRepo {
  dir: string;
  /** node <script> …args in the repository; never throws. */
  run(args: string[], env?: Record<string, string>): { status: number; stdout: string; stderr: string };
  git(...args: string[]): string;
  remove(): void;
}

export function tempRepo(prefix: string): TempRepo {
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
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', ...env } });
    return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  const gen = run(['scripts/generate.ts']);
  if (gen.status !== 0) throw new Error(`generate failed in the fixture repo: ${gen.stderr}`);
  git('init', '--quiet', '-b', 'main');
  git('config', 'user.email', 'test@example.invalid');
  git('config', 'user.name', 'Test');
  git('config', 'commit.gpgsign', 'false');
  git('add', '-A');
  git('commit', '--quiet', '-m', 'fixture');
  return { dir, run, git, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
