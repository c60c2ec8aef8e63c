import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withWorktree } from '../../scripts/lib/review/diff/git.ts';
import { toYaml, toYamlStream } from '../../scripts/lib/core/yaml.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import { runScript } from './cli.ts';
import { DUMMY_SECRET_VALUE, createFixtureRepo, overlayFiles } from './fixture.ts';
import type { FixtureRepo } from './fixture.ts';
import { createRepoCopy } from './repo-copy.ts';
import type { RepoCopy } from './repo-copy.ts';

let repo: FixtureRepo;
beforeEach(() => {
  repo = createFixtureRepo();
});
afterEach(() => repo.cleanup());

/** The +/- lines of the unified diffs in a text or markdown output, as "<sign><trimmed line>". */
function changedLines(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => !/^[-+~] [A-Z][A-Za-z]+ \S+$/.test(l)) // text-format resource headers
    .flatMap((l) => {
      const m = /^(?: {4})?([-+])(.*)$/.exec(l);
      return m ? [`${m[1]}${m[2]!.trim()}`] : [];
    });
}

describe('diff', () => {
  it('an image bump of staging shows only staging, only the Deployment, only the image line', async () => {
    repo.write(overlayFiles('staging', { tag: '1.1.0' }));
    repo.commit('staging: users-api 1.1.0');
    const r = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'markdown'], repo.root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| staging | 0 | 1 | 0 |');
    expect(r.stdout).not.toMatch(/\b(dev|prod)\b/);
    expect(r.stdout.match(/\*\*~ /g)).toHaveLength(1);
    expect(r.stdout).toContain('**~ Deployment users-staging/users-api**');
    expect(changedLines(r.stdout)).toEqual(['-image: ghcr.io/example/users-api:1.0.0', '+image: ghcr.io/example/users-api:1.1.0']);
  });

  it('a .env change shows the ConfigMap data change, the Deployment reference change and the workloads that roll', async () => {
    repo.write({ 'overlays/prod/.env': 'LOG_LEVEL=warn\nPORT=8080\n' });
    repo.commit('prod: quieter logs');
    const r = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'text', '--exit-code'], repo.root);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('== prod: 0 added, 2 changed, 0 removed');
    expect(r.stdout).toMatch(/~ ConfigMap users-prod\/users-api-config-[a-z0-9]{10}\n\s+generated name changed from users-api-config-[a-z0-9]{10}/);
    expect(r.stdout).toContain('rolls: Deployment users-prod/users-api');
    const lines = changedLines(r.stdout);
    expect(lines).toContain('-LOG_LEVEL: info');
    expect(lines).toContain('+LOG_LEVEL: warn');
    expect(lines.filter((l) => /^[-+]\s*name: users-api-config-/.test(l))).toHaveLength(4); // ConfigMap name and Deployment reference, both sides
  });

  it('runs several temporary worktrees at once and removes them all', async () => {
    const commit = repo.git('rev-parse', 'HEAD').trim();
    const seen = await Promise.all(Array.from({ length: 4 }, () =>
      withWorktree(repo.root, commit, async (dir) => existsSync(join(dir, 'overlays/dev/kustomization.yaml')), ['overlays/dev/kustomization.yaml'])));
    expect(seen).toEqual([true, true, true, true]);
    expect(repo.git('worktree', 'list').trim().split('\n')).toHaveLength(1);
  });

  it('reordering documents and keys alone is no change', async () => {
    const file = 'platform/mongodb/replicaset/resources.yaml';
    const docs = parseYamlStream(repo.read(file)).reverse();
    // Hand-written key order (kind first, metadata last) instead of the canonical one.
    const shuffled = docs.map((d) => Object.fromEntries(Object.entries(d as Record<string, unknown>).reverse()));
    repo.write({ [file]: shuffled.map((d) => JSON.stringify(d)).join('\n---\n') + '\n' });
    repo.commit('reformat');
    const r = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--exit-code'], repo.root);
    expect(r.stdout).toContain('no difference in dev, prod, staging');
    expect(r.code).toBe(0);
  });

  it('a file no environment reaches renders nothing', async () => {
    repo.write({ 'README.md': '# changed\n' });
    repo.commit('docs');
    const r = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'json'], repo.root);
    const report = JSON.parse(r.stdout) as { reached: string[]; envs: unknown[] };
    expect(report).toMatchObject({ reached: [], envs: [] });
  });

  it('shows an added environment as added resources', async () => {
    repo.write(overlayFiles('qa'));
    repo.commit('qa');
    const r = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'json'], repo.root);
    const report = JSON.parse(r.stdout) as { envs: Array<{ env: string; status: string; counts: { added: number } }> };
    expect(report.envs.map((e) => [e.env, e.status])).toEqual([['qa', 'added']]);
    expect(report.envs[0]!.counts.added).toBe(7);
  });

  it('never prints a Secret value, in any format, and says which keys changed', async () => {
    const secret = (value: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'users-api-extra' },
      stringData: { password: value },
      data: { token: Buffer.from(value).toString('base64') },
    });
    const k = overlayFiles('staging');
    const kustomization = k['overlays/staging/kustomization.yaml']!.replace('resources:\n', 'resources:\n  - secret.yaml\n');
    repo.write({ 'overlays/staging/kustomization.yaml': kustomization, 'overlays/staging/secret.yaml': toYamlStream([secret(`${DUMMY_SECRET_VALUE}-old`)]) });
    repo.commit('add secret (a policy violation, for this test)');
    repo.write({ 'overlays/staging/secret.yaml': toYamlStream([secret(DUMMY_SECRET_VALUE)]) });
    repo.commit('change secret');
    // HEAD~1: the Secret changed; HEAD~2: it was added.
    const runs: Array<[string, string]> = [['text', 'HEAD~1'], ['markdown', 'HEAD~1'], ['json', 'HEAD~1'], ['markdown', 'HEAD~2']];
    for (const [format, base] of runs) {
      {
        const r = await runScript('diff', ['--base', base, '--head', 'HEAD', '--format', format], repo.root);
        expect(r.code).toBe(0);
        const all = r.stdout + r.stderr;
        expect(all).toMatch(format === 'json' ? /"kind": "Secret"/ : /Secret users-staging\/users-api-extra/);
        expect(all).not.toContain(DUMMY_SECRET_VALUE);
        expect(all).not.toContain(Buffer.from(DUMMY_SECRET_VALUE).toString('base64').slice(0, 16));
        expect(all).not.toContain(Buffer.from(`${DUMMY_SECRET_VALUE}-old`).toString('base64').slice(0, 16));
        if (base === 'HEAD~1' && format === 'text') expect(all).toContain('password: <masked, changed>');
      }
    }
  });
});

// The working tree as the head must pass generate's checks (a real repository layout), so these use a
// copy of this repository rather than the minimal fixture.
describe('diff of the working tree (a copy of this repository)', () => {
  let copy: RepoCopy;
  beforeEach(() => {
    copy = createRepoCopy();
  });
  afterEach(() => copy.cleanup());

  it('compares two commits from worktrees exactly as it compares a commit with the working tree', async () => {
    copy.edit('overlays/dev/env.yaml', /^tag: .*$/m, 'tag: 2.0.0');
    copy.generate();
    const fromWorkingTree = await runScript('diff', ['--base', 'HEAD', '--format', 'json'], copy.root);
    copy.commit('dev: 2.0.0');
    copy.write('README.md', '# later, unrelated\n');
    copy.commit('docs');
    const fromCommits = await runScript('diff', ['--base', 'HEAD~2', '--head', 'HEAD~1', '--format', 'json'], copy.root);
    const envsOf = (out: string) => (JSON.parse(out) as { envs: unknown }).envs;
    expect(envsOf(fromCommits.stdout)).toEqual(envsOf(fromWorkingTree.stdout));
    expect(JSON.stringify(envsOf(fromCommits.stdout))).toContain('users-api:2.0.0');
    expect(copy.git('worktree', 'list').trim().split('\n')).toHaveLength(1);
  });

  it('diffs the working tree against HEAD by default, never touching it, and cleans up its worktrees', async () => {
    copy.edit('overlays/prod/env.yaml', /^replicas: .*$/m, 'replicas: 4');
    copy.generate();
    const statusBefore = copy.git('status', '--porcelain');
    const r = await runScript('diff', [], copy.root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('render diff HEAD → working tree');
    expect(r.stdout).toMatch(/head: working tree \(uncommitted changes on [0-9a-f]{7,} baseline: the repository as generated\)/);
    expect(r.stdout).toMatch(/^ {2}prod: replicas 3 → 4; no pod restarts$/m);
    expect(r.stdout).toContain('== prod: 0 added, 1 changed, 0 removed');
    expect(r.stdout).not.toMatch(/== (dev|staging)/);
    expect(copy.git('status', '--porcelain')).toBe(statusBefore);
    expect(copy.git('worktree', 'list').trim().split('\n')).toHaveLength(1);
  });
  it('on a clean working tree the header names HEAD, not "uncommitted changes" (issue 24)', async () => {
    copy.edit('overlays/prod/env.yaml', /^replicas: .*$/m, 'replicas: 4');
    copy.generate();
    const sha = copy.commit('prod: 4 replicas').slice(0, 7);
    expect(copy.git('status', '--porcelain')).toBe('');
    for (const format of ['text', 'markdown', 'html']) {
      const r = await runScript('diff', ['--base', 'HEAD~1', '--format', format], copy.root);
      expect(r.code, format).toBe(0);
      expect(r.stdout, format).not.toContain('uncommitted');
      expect(r.stdout, format).not.toContain('working tree');
      expect(r.stdout, format).toContain(sha);
      expect(r.stdout, format).toContain('prod: 4 replicas');
    }
    const json = JSON.parse((await runScript('diff', ['--base', 'HEAD~1', '--format', 'json'], copy.root)).stdout) as { head: string; headCommit: { ref: string; workingTree?: boolean } };
    expect(json.head).toBe('HEAD');
    expect(json.headCommit.ref).toBe('HEAD');
    expect(json.headCommit.workingTree).toBeUndefined();
    // An untracked file is a difference: the working tree is named again.
    copy.write('notes.txt', 'draft\n');
    const dirty = await runScript('diff', ['--base', 'HEAD~1'], copy.root);
    expect(dirty.stdout).toMatch(/head: working tree \(uncommitted changes on [0-9a-f]{7,} prod: 4 replicas\)/);
   }, 300_000);
});
