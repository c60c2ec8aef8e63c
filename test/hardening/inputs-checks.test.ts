// Issue 11, "checks a user runs alone must not pass what generate refuses", and new-env --force as a
// reset. validate, render and diff call the same input checks as generate (checkRepository) and report
// generated files that no longer match the inputs. Against the old code validate said "no findings"
// for every .env below and for a stale overlay, diff showed nothing for an edited tag, and
// `new-env staging --force` silently reset a three-member 5Gi environment to one member and 1Gi.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, InputError } from '../../scripts/lib/core/errors.ts';
import { checkRepository } from '../../scripts/lib/generate/commands.ts';
import { makeToolkitRepo, recordFigures, runScript, snapshotTree } from './support.ts';

let dir: string;
let attacks = 0;
let held = 0;
beforeAll(async () => {
  dir = await makeToolkitRepo('inputs-checks-');
}, 180_000);
afterAll(() => {
  recordFigures({ inputsChecksAttacks: attacks, inputsChecksHeld: held });
  rmSync(dir, { recursive: true, force: true });
});

function edit(rel: string, change: (text: string) => string): () => void {
  const file = join(dir, rel);
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, change(original));
  return () => writeFileSync(file, original);
}

describe('validate, render and diff run generate\'s input checks', () => {
  it.each([
    ['quotes', 'LOG_LEVEL="debug"', /quotes are kept literally/],
    ['export', 'export LOG_LEVEL=debug', /"export" prefix/],
    ['an inline #', 'LOG_LEVEL=debug # verbose', /"#" is part of the value/],
    ['a key-only line', 'LOG_LEVEL', /has no "="/],
    ['spaces around =', 'LOG_LEVEL = debug', /spaces around "="/],
    ['a key starting with a digit', '1BAD=x', /key "1BAD" is not an environment variable name/],
    ['${HOME}', 'LOG_LEVEL=${HOME}', /"\$" and "\\" are literal/],
  ])('a .env line with %s is an input error for all of them (checkRepository)', async (_label, line, message) => {
    attacks++;
    const restore = edit('overlays/dev/.env', (t) => t.replace(/^LOG_LEVEL=.*$/m, line));
    try {
      const error = await checkRepository(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).problems.map(formatProblem).join('\n')).toMatch(message);
    } finally {
      restore();
    }
    held++;
  });

  it('validate exits 2 on a .env generate refuses (it used to say "no findings")', async () => {
    attacks++;
    const restore = edit('overlays/dev/.env', (t) => t.replace(/^LOG_LEVEL=.*$/m, 'LOG_LEVEL="debug"'));
    try {
      const r = await runScript(dir, 'validate', []);
      expect(r.code, r.out).toBe(2);
      expect(r.err).toMatch(/overlays\/dev\/\.env line \d+: LOG_LEVEL: quotes are kept literally/);
    } finally {
      restore();
    }
    held++;
  }, 120_000);

  it('a stale overlay after an env.yaml edit: validate exits 1 naming it, render refuses (exit 1), diff refuses (exit 1)', async () => {
    attacks += 3;
    const restore = edit('overlays/dev/env.yaml', (t) => t.replace(/^tag: .*$/m, 'tag: 7.7.7'));
    try {
      const validate = await runScript(dir, 'validate', ['dev']);
      expect(validate.code).toBe(1);
      expect(validate.err).toMatch(/validate: \d+ generated file\(s\) do not match the inputs[\s\S]*overlays\/dev\/kustomization\.yaml: differs[\s\S]*fix: run `zx scripts\/generate\.ts`/);
      const render = await runScript(dir, 'render', ['dev']);
      expect(render.code).toBe(1);
      expect(render.err).toContain('overlays/dev/kustomization.yaml');
      expect(render.out).toBe('');
      const diff = await runScript(dir, 'diff', []);
      expect(diff.code).toBe(1);
      expect(diff.err).toContain('overlays/dev/kustomization.yaml');
    } finally {
      restore();
    }
    held += 3;
  }, 180_000);

  it('after generate, diff shows the edited tag', async () => {
    const restore = edit('overlays/dev/env.yaml', (t) => t.replace(/^tag: .*$/m, 'tag: 7.7.7'));
    try {
      expect((await runScript(dir, 'generate', [])).code).toBe(0);
      const diff = await runScript(dir, 'diff', ['--exit-code']);
      expect(diff.code, diff.err).toBe(1);
      // The hand edit keeps dev's digest pin beside the new tag (promote would replace both).
      expect(diff.out).toMatch(/^\s*\+\s+image: ghcr\.io\/example-org\/users-api:7\.7\.7(@sha256:[0-9a-f]{64})?$/m);
    } finally {
      restore();
      expect((await runScript(dir, 'generate', [])).code).toBe(0);
    }
  }, 180_000);
});

describe('new-env --force on an existing environment is a reset', () => {
  it('staging (3 members, 5Gi) reset to the defaults: refused without --allow-shrink, exit 2, the diff shown, nothing written', async () => {
    attacks++;
    const before = snapshotTree(dir);
    const r = await runScript(dir, 'new-env', ['staging', '--force']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('refusing to reset environment staging; nothing was written');
    expect(r.err).toMatch(/would lower data-bearing settings: mongodb\.members 3 → 1, mongodb\.storage\.size 5Gi → 1Gi/);
    expect(r.err).toMatch(/^-\s+members: 3$/m);
    expect(r.err).toMatch(/^-\s+host: users\.staging\.example\.com$/m);
    expect(r.err).toContain('--allow-shrink');
    expect(r.out).not.toContain('created environment');
    expect(snapshotTree(dir)).toEqual(before);
    held++;
  }, 60_000);

  it('with --allow-shrink it resets, says "reset environment staging" and prints what changed', async () => {
    const r = await runScript(dir, 'new-env', ['staging', '--force', '--allow-shrink']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^reset environment staging \(namespace staging\) to new settings/m);
    expect(r.out).toMatch(/what the reset changed:[\s\S]*^-\s+members: 3$[\s\S]*^\+\s+members: 1$/m);
    expect(r.out).not.toContain('created environment');
    expect((await runScript(dir, 'generate', ['--check'])).code).toBe(0);
  }, 60_000);
});
