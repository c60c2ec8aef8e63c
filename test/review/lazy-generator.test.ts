// Issue 23, item 5: `validate`, like render and diff, does not load the generator (scripts/lib/generate/
// index.ts and commands.ts) when generate's remembered check is fresh: a tree exactly as a passing check
// left it. The modules a run loads are recorded by a Node module hook (node:module registerHooks).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from './cli.ts';
import { createRepoCopy, type RepoCopy } from '../support/repo-copy.ts';

let copy: RepoCopy;
let dir: string;
beforeAll(() => {
  copy = createRepoCopy();
  dir = mkdtempSync(join(tmpdir(), 'lazy-generator-'));
  writeFileSync(join(dir, 'hook.mjs'), [
    "import { registerHooks } from 'node:module';",
    "import { appendFileSync } from 'node:fs';",
    'registerHooks({ load(url, context, next) { appendFileSync(process.env.MODULE_LOG, url + "\\n"); return next(url, context); } });',
  ].join('\n'));
}, 120_000);
afterAll(() => {
  copy?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** A check is only remembered when every file is older than the racy window (2 s). */
const pastRacyWindow = (): Promise<void> => new Promise((done) => setTimeout(done, 2_200));

async function validateLoading(log: string): Promise<{ code: number; stdout: string; generator: string[] }> {
  writeFileSync(log, '');
  const env = { ...process.env, MODULE_LOG: log, NODE_OPTIONS: `--import ${join(dir, 'hook.mjs')}` };
  const r = await runScript('validate', ['dev'], copy.root, env);
  const loaded = readFileSync(log, 'utf8').split('\n');
  return { code: r.code, stdout: r.stdout, generator: loaded.filter((u) => /scripts\/lib\/generate\/(index|commands)\.ts$/.test(u)).map((u) => u.replace(/.*scripts\/lib\//, '')).sort() };
}

describe('validate and the remembered check', () => {
  it('loads the generator to check a tree, and not when the same tree was checked before', async () => {
    await pastRacyWindow();
    const cold = await validateLoading(join(dir, 'cold.log'));
    expect(cold.code).toBe(0);
    expect(cold.stdout).toContain('validated dev: no findings');
    expect(cold.generator).toEqual(['generate/commands.ts', 'generate/index.ts']);

    const warm = await validateLoading(join(dir, 'warm.log'));
    expect(warm.code).toBe(0);
    expect(warm.stdout).toBe(cold.stdout);
    expect(warm.generator).toEqual([]);
  }, 240_000);
});
