// The caches of issue 18 never hide a change: generate's checks remembered by a stat fingerprint
// (scripts/lib/render/check-cache.ts), validate's findings per render (findings-cache.ts) and Kustomize's
// version per binary (kustomize.ts). Each is shown serving a warm run, then missing on the change a
// user makes, with the same result as without the cache.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from './cli.ts';
import { createRepoCopy } from './repo-copy.ts';
import type { RepoCopy } from './repo-copy.ts';

let copy: RepoCopy;
const temporary: string[] = [];
beforeAll(() => {
  copy = createRepoCopy();
}, 120_000);
afterAll(() => {
  copy?.cleanup();
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** A check is only remembered when every file is older than the racy window (2 s). */
const pastRacyWindow = (): Promise<void> => new Promise((done) => setTimeout(done, 2_200));

describe("generate's checks, remembered (render, validate, diff)", () => {
  it('a warm run uses the remembered check; a same-size edit of an input or of a generated file is still caught', async () => {
    await pastRacyWindow();
    const first = await runScript('render', ['dev'], copy.root);
    expect(first.code).toBe(0);
    expect(existsSync(join(copy.root, '.cache/check/state.json'))).toBe(true);
    const warm = await runScript('render', ['dev'], copy.root);
    expect(warm.code).toBe(0);
    expect(warm.stdout).toBe(first.stdout);

    expect(existsSync(join(copy.root, '.cache/render/plan.json'))).toBe(true);

    // A valid input change (and what generate makes of it), right after the warm run: rendered anew.
    copy.edit('overlays/dev/.env', /^LOG_LEVEL=debug$/m, 'LOG_LEVEL=error');
    copy.generate();
    try {
      const changed = await runScript('render', ['dev'], copy.root);
      expect(changed.code).toBe(0);
      expect(changed.stdout).toContain('LOG_LEVEL: error');
      expect(changed.stdout).not.toContain('LOG_LEVEL: debug');
    } finally {
      copy.git('checkout', '--', '.');
    }

    // An invalid input of the same size, right after the warm run: refused as without the cache.
    const spec = copy.read('overlays/dev/env.yaml');
    copy.edit('overlays/dev/env.yaml', /^replicas: 1$/m, 'replicas: 0');
    try {
      const refused = await runScript('render', ['dev'], copy.root);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('overlays/dev/env.yaml');
    } finally {
      copy.write('overlays/dev/env.yaml', spec);
    }

    // A hand edit of a generated file, same size: reported stale (exit 1) by render, validate and diff.
    const kfile = 'overlays/dev/kustomization.yaml';
    const generated = copy.read(kfile);
    copy.edit(kfile, /namespace: dev/, 'namespace: deX');
    try {
      for (const [cli, args] of [['render', ['dev']], ['validate', ['dev']], ['diff', ['--base', 'HEAD']]] as const) {
        const stale = await runScript(cli, [...args], copy.root);
        expect(stale.code, cli).toBe(1);
        expect(stale.stderr, cli).toContain(`${kfile}: differs from what the specs generate`);
      }
    } finally {
      copy.write(kfile, generated);
    }
    const again = await runScript('render', ['dev'], copy.root);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
  }, 300_000);
});

describe("validate's findings, remembered per render", () => {
  it('warm output equals cold output; a changed environment is validated again, alone', async () => {
    rmSync(join(copy.root, '.cache'), { recursive: true, force: true });
    const cold = await runScript('validate', [], copy.root);
    const cached = () => readdirSync(join(copy.root, '.cache/validate')).filter((f) => f.endsWith('.json')).length;
    const entries = cached();
    expect(entries).toBeGreaterThanOrEqual(3);
    const warm = await runScript('validate', [], copy.root);
    expect(warm).toEqual(cold);
    expect(cached()).toBe(entries);

    copy.edit('overlays/staging/env.yaml', /^tag: .*$/m, 'tag: 9.9.9');
    copy.generate();
    try {
      const changed = await runScript('validate', [], copy.root);
      expect(changed.code).toBe(cold.code);
      expect(cached()).toBe(entries + 1);
      rmSync(join(copy.root, '.cache/validate'), { recursive: true, force: true });
      expect(await runScript('validate', [], copy.root)).toEqual(changed);
    } finally {
      copy.git('checkout', '--', '.');
    }
  }, 300_000);
});

describe("Kustomize's version, remembered per binary", () => {
  it('asked once per binary; a replaced binary is asked again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'version-cache-'));
    temporary.push(dir);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'version.log');
    writeFileSync(log, '');
    const fake = (version: string): void => {
      writeFileSync(join(bin, 'kustomize'), `#!/bin/sh\nif [ "$1" = version ]; then echo x >> "${log}"; echo ${version}; exit 0; fi\nexec kubectl kustomize "$2"\n`);
      chmodSync(join(bin, 'kustomize'), 0o755);
    };
    fake('v5.5.0-one');
    const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, GITOPS_TOOL_CACHE: join(dir, 'cache') };
    const calls = (): number => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    expect((await runScript('diff', ['--base', 'HEAD', '--head', 'HEAD', '--format', 'json'], copy.root, env)).code).toBe(0);
    expect((await runScript('diff', ['--base', 'HEAD', '--head', 'HEAD', '--format', 'json'], copy.root, env)).code).toBe(0);
    expect(calls()).toBe(1);
    fake('v5.5.0-replaced');
    const after = await runScript('diff', ['--base', 'HEAD', '--head', 'HEAD', '--format', 'json'], copy.root, env);
    expect(after.code).toBe(0);
    expect(calls()).toBe(2);
    expect(JSON.parse(after.stdout).kustomize).toContain('v5.5.0-replaced');
  }, 120_000);
});
