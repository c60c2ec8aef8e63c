// A throw-away copy of this repository's GitOps files (the committed ones: `git archive HEAD`), regenerated
// with the current generator and committed as a baseline, for review tests that need the real layout
// (gitops.yaml, env.yaml, .env, Argo CD Applications). Tests never read or dirty the working tree.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
const GITOPS_PATHS = ['.gitignore', 'gitops.yaml', 'overlays', 'apps/users-api/deploy', 'platform', 'argocd', 'schemas'];

export interface RepoCopy {
  root: string;
  git(...args: string[]): string;
  read(file: string): string;
  write(file: string, content: string): void;
  /** Replaces `from` by `to` in a file; throws when `from` is not there (a test that edits nothing is wrong). */
  edit(file: string, from: string | RegExp, to: string): void;
  /** zx scripts/generate.ts in the copy. */
  generate(): void;
  commit(message: string): string;
  cleanup(): void;
}

export function createRepoCopy(): RepoCopy {
  const root = mkdtempSync(join(tmpdir(), 'review-repo-'));
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' };
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', env });
  const archive = execFileSync('git', ['archive', '--format=tar', 'HEAD', '--', ...GITOPS_PATHS], { cwd: REPO, maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', root], { input: archive });
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
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
  git('init', '-q', '-b', 'main');
  // The generator of this checkout may be newer than the committed files: regenerate, then the baseline.
  copy.generate();
  copy.commit('baseline: the repository as generated');
  return copy;
}
