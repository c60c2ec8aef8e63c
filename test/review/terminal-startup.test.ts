// Start-up stays instant: `--help` of every script loads only the CLI edge (node built-ins and a few of
// our modules), never a package from node_modules; the work modules are imported inside `main`. A module
// count, not a stopwatch: it does not depend on the machine's load (bench/README.md has the times).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const SCRIPTS = join(REPO, 'scripts');
// The committed scripts (a script still being written is not part of the product yet).
const scripts = execFileSync('git', ['ls-files', '-z', '--', 'scripts/*.ts'], { cwd: REPO, encoding: 'utf8' })
  .split('\0').filter((f) => /^scripts\/[^/]+\.ts$/.test(f)).map((f) => f.slice('scripts/'.length)).sort();

/** Scripts whose help text itself needs a heavier module, with the reason. */
const EXCEPTIONS: Record<string, string> = {
  'validate.ts': 'its help lists the policy ids, from scripts/lib/review/validate/policies.ts (which imports the secret detector)',
};

// A loader hook that records every module URL the process loads, printed to stderr at exit.
const dir = mkdtempSync(join(tmpdir(), 'startup-trace-'));
const hook = join(dir, 'trace.mjs');
writeFileSync(hook, `import module from 'node:module';
const seen = new Set();
module.registerHooks({ load(url, context, next) { seen.add(url); return next(url, context); } });
process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify([...seen]) + '\\n'));
`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function loadedBy(script: string): Promise<{ code: number; urls: string[]; stdout: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', hook, join(SCRIPTS, script), '--help'], { encoding: 'utf8' }, (error, stdout, stderr) => {
      const line = stderr.split('\n').find((l) => l.startsWith('LOADED ')) ?? 'LOADED []';
      done({ code: error ? 1 : 0, urls: JSON.parse(line.slice('LOADED '.length)) as string[], stdout });
    });
  });
}

describe('start-up of every script', () => {
  it('finds the scripts', () => expect(scripts).toEqual(expect.arrayContaining(['diff.ts', 'generate.ts', 'status.ts'])));

  it.each(scripts.filter((s) => !(s in EXCEPTIONS)))('%s --help loads no package and at most 8 of our modules', async (script) => {
    const r = await loadedBy(script);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: zx scripts\//);
    const packages = r.urls.filter((u) => u.includes('/node_modules/'));
    const own = r.urls.filter((u) => u.startsWith('file:') && !u.includes('/node_modules/'));
    expect(packages, `${script} --help loads packages at start-up: import its work modules inside main (see scripts/diff.ts)`).toEqual([]);
    expect(own.length).toBeLessThanOrEqual(8);
  });

  it.each(Object.keys(EXCEPTIONS).filter((s) => scripts.includes(s)))('%s --help (exception: see EXCEPTIONS) still prints its usage', async (script) => {
    const r = await loadedBy(script);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: zx scripts\//);
  });
});
