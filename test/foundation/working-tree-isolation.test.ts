// Issue 31: tests never read the user's working tree. A user who has just run the README's main job has a
// scratch environment (overlays/qa-7) and maybe an edited .env in the checkout; `npm test` must still pass.
// Proof: a copy of this checkout (its current files, committed there), junk added to the copy's working
// tree — a scratch environment overlays/qa-junk and a modified overlays/dev/.env — and the suite's
// repository-touching test files (in each, the tests that read the repository: SELECTED below) run in that
// copy by vitest: they stay green. The real checkout is never touched.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/repo-copy.ts';

/**
 * Test files that run commands against the repository or read its environments (without a real API
 * server: those read the same committed tree through test/support/repo-copy.ts committedBaseline()).
 * Every test file reaches the repository's data through one of test/support/repo-copy.ts's ways, and each
 * way is here at least once, in its cheapest file (the nested run repeats their work, so its cost counts
 * twice): copyToolkitTree with CLI runs (generator/cli), makeToolkitRepo of the hardening suites
 * (inputs-files; inputs-paths builds its repository the same way and reads nothing else), the per-worker
 * committedBaseline read in-process (waves) and by a script run in it (previews), committedTree (three-clusters).
 */
const REPOSITORY_TOUCHING = [
  'test/generator/cli.test.ts',
  'test/hardening/inputs-files.test.ts',
  'test/lifecycle/waves.test.ts',
  'test/clusters/three-clusters.test.ts',
  'test/release/previews.test.ts',
];

/**
 * The tests of those files the nested run runs (vitest -t, matched against "describe > test" names): in
 * each file the ones that reach the repository through its way — the committed check and the new-env
 * acceptance runs of generator/cli, the symlink and invisible-character refusals of inputs-files (its
 * toolkit repository is built in beforeAll either way), all of waves and three-clusters, the generated
 * previews and one previews.ts run against the committed baseline. The rest of those files (bad-input
 * cases, GitHub stand-in edge cases) read nothing more of the tree and run in the suite itself: the
 * nested copy of them cost a minute of the suite's four (issue 24).
 */
const SELECTED = [
  'the committed repository',
  'new-env qa-7 (acceptance)',
  'input files that are not regular files inside the repository',
  'bytes the toolkit would have to change',
  'waves and policies of the generated tree',
  'three clusters',
  'no clusters: section',
  'validate refuses',
  'what the generator writes for previews',
  'scripts/previews.ts against the GitHub stand-in > plans without changing anything',
];
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SELECTED_PATTERN = `^(${SELECTED.map(escapeRegExp).join('|')})`;

let copy: string;
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: copy, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' } });

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'checkout-copy-'));
  // The checkout's files as they are now (tracked and untracked, minus what .gitignore excludes), committed in the copy.
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter((f) => f !== '' && f !== 'node_modules' && !f.startsWith('node_modules/'));
  const tar = execFileSync('tar', ['-c', '--null', '--ignore-failed-read', '-T', '-'], { cwd: REPO, input: files.join('\0'), maxBuffer: 512 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', copy], { input: tar, maxBuffer: 512 * 1024 * 1024 });
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'));
  git('init', '-q', '-b', 'main');
  git('config', 'commit.gpgsign', 'false');
  git('add', '-A');
  git('commit', '-q', '-m', 'the checkout as it is');
  // The junk a user leaves: a scratch environment (env.yaml and .env, never committed) and an edited .env.
  mkdirSync(join(copy, 'overlays/qa-junk'), { recursive: true });
  writeFileSync(join(copy, 'overlays/qa-junk/env.yaml'), readFileSync(join(copy, 'overlays/dev/env.yaml'), 'utf8').replace(/^namespace: dev$/m, 'namespace: qa-junk'));
  writeFileSync(join(copy, 'overlays/qa-junk/.env'), 'LOG_LEVEL=debug\n');
  appendFileSync(join(copy, 'overlays/dev/.env'), 'LOG_LEVEL=trace\nJUNK_SETTING=1\n');
}, 120_000);
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('a working tree with junk in it (issue 31)', () => {
  it('the junk is really there: git sees a new environment and an edited .env', () => {
    const status = git('status', '--porcelain', '--untracked-files=all');
    expect(status).toContain('?? overlays/qa-junk/env.yaml');
    expect(status).toContain('?? overlays/qa-junk/.env');
    expect(status).toContain(' M overlays/dev/.env');
  });

  it('the repository-touching test files, run by vitest in that working tree, all pass', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
    // These files need no real API server: keep the nested run from starting one.
    delete env.KUBEBUILDER_ASSETS;
    delete env.CI;
    env.XDG_DATA_HOME = join(copy, '.no-envtest');
    env.XDG_CACHE_HOME = join(copy, '.no-envtest');
    const vitest = join(REPO, 'node_modules/vitest/vitest.mjs');
    // The report the project's vitest.config.ts writes: its json reporter names its own outputFile, which wins
    // over a command-line --outputFile (so a report asked for elsewhere was never written: the ENOENT of the merge).
    const report = join(copy, '.cache/vitest-report.json');
    rmSync(report, { force: true });
    const r = await new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn(process.execPath, [vitest, 'run', '-t', SELECTED_PATTERN, ...REPOSITORY_TOUCHING], { cwd: copy, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.on('close', (code) => done({ code, out }));
    });
    // No report: the nested run died before reporting; its own output says why.
    expect(existsSync(report), `no report from the nested run (exit ${r.code}):\n${r.out.slice(-4000)}`).toBe(true);
    const json = JSON.parse(readFileSync(report, 'utf8')) as { numFailedTests: number; numPassedTests: number; testResults: Array<{ name: string; status: string; assertionResults: Array<{ fullName: string; status: string }> }> };
    const failed = json.testResults.flatMap((f) => f.assertionResults.filter((t) => t.status === 'failed').map((t) => `${f.name}: ${t.fullName}`));
    expect(failed, r.out.slice(-4000)).toEqual([]);
    expect(json.testResults.map((f) => f.name.slice(copy.length + 1)).sort()).toEqual([...REPOSITORY_TOUCHING].sort());
    // Every selected group ran and passed in the copy (a renamed test would otherwise drop out unseen).
    const passed = json.testResults.flatMap((f) => f.assertionResults.filter((t) => t.status === 'passed').map((t) => t.fullName));
    for (const name of SELECTED) expect(passed.some((t) => t.startsWith(name.replaceAll(' > ', ' '))), `no passing test named "${name}…" in the nested run`).toBe(true);
    expect(json.numPassedTests).toBeGreaterThan(30);
    expect(r.code, r.out.slice(-4000)).toBe(0);
  }, 900_000);
});
