// Issue 30, "a damaged render cache is served": a cached rendering truncated to 100 bytes made `render`
// print 124 bytes and exit 0, `--out --force` wrote the damaged file, a hand-edited entry came out
// verbatim. Entries now carry their own length and SHA-256 (scripts/lib/core/cache-entry.ts); one that
// does not match is built (Kustomize's output) or computed (its canonical forms) again.
import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openEntry, sealEntry } from '../../scripts/lib/core/cache-entry.ts';
import { canonicalObjects, canonicalText, renderEnvironments } from '../../scripts/lib/render/render.ts';
import type { KustomizeTool } from '../../scripts/lib/render/kustomize.ts';
import { countingKustomize, runScript } from './cli.ts';
import { createFixtureRepo } from './fixture.ts';
import type { FixtureRepo } from './fixture.ts';

const SEED = 20261204;
// Whole CLI processes and real Kustomize builds: slow on a busy machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });
let repo: FixtureRepo;
const temporary: string[] = [];
beforeAll(() => {
  repo = createFixtureRepo();
});
afterAll(() => {
  repo.cleanup();
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const cacheDir = (): string => join(repo.root, '.cache/render');
/** The cache's entries of renders: `<key>.yaml`, `<key>.canonical.yaml`, `<key>.objects.json`. */
const renderEntries = (): string[] => readdirSync(cacheDir()).filter((f) => /^[0-9a-f]{64}\./.test(f)).map((f) => join(cacheDir(), f));
const builds = (log: string): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split('/').at(-1)!).sort();

describe('a damaged render cache is never served', () => {
  let clean: string;
  let kustomize: ReturnType<typeof countingKustomize>;
  beforeAll(async () => {
    rmSync(cacheDir(), { recursive: true, force: true });
    kustomize = countingKustomize();
    temporary.push(kustomize.dir);
    const first = await runScript('render', ['prod'], repo.root, kustomize.env);
    expect(first.code).toBe(0);
    clean = first.stdout;
    expect(clean).toContain('namespace: users-prod');
  });

  const damaged = async (damage: (file: string) => void): Promise<{ stdout: string; code: number; builds: string[] }> => {
    for (const file of renderEntries()) damage(file);
    writeFileSync(kustomize.log, '');
    const r = await runScript('render', ['prod'], repo.root, kustomize.env);
    return { stdout: r.stdout, code: r.code, builds: builds(kustomize.log) };
  };

  it('every entry truncated to 100 bytes: rendered again, the same output', async () => {
    const r = await damaged((file) => truncateSync(file, 100));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(clean);
    expect(r.builds).toEqual(['prod']);
    // and the entries were rewritten: the next run builds nothing
    const again = await damaged(() => undefined);
    expect(again.stdout).toBe(clean);
    expect(again.builds).toEqual([]);
  });

  it('a hand-edited entry (header kept, a value changed): rendered again', async () => {
    const r = await damaged((file) => writeFileSync(file, readFileSync(file, 'utf8').replaceAll('users-prod', 'users-hack')));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(clean);
    expect(r.stdout).not.toContain('users-hack');
    expect(r.builds).toEqual(['prod']);
  });

  it('an entry with bytes appended (wrong length): rendered again', async () => {
    const r = await damaged((file) => appendFileSync(file, 'extra: true\n'));
    expect(r.stdout).toBe(clean);
    expect(r.builds).toEqual(['prod']);
  });

  it('only the canonical text damaged: computed again from the intact render, no build', async () => {
    const r = await damaged((file) => file.endsWith('.canonical.yaml') && truncateSync(file, 100));
    expect(r.stdout).toBe(clean);
    expect(r.builds).toEqual([]);
  });

  it('render --out --force never writes a damaged file', async () => {
    const out = mkdtempSync(join(tmpdir(), 'render-out-damaged-'));
    temporary.push(out);
    writeFileSync(join(out, 'prod.yaml'), 'old\n');
    for (const file of renderEntries()) truncateSync(file, 100);
    const r = await runScript('render', ['prod', '--out', out, '--force'], repo.root, kustomize.env);
    expect(r.code).toBe(0);
    expect(`# environment: prod\n---\n${readFileSync(join(out, 'prod.yaml'), 'utf8')}`).toBe(clean.trimEnd() + '\n');
  });

  it('diff compares the true renders when its cached objects are damaged', async () => {
    const before = await runScript('diff', ['--base', 'HEAD', '--format', 'json'], repo.root, kustomize.env);
    expect(before.code).toBe(0);
    for (const file of renderEntries()) if (file.endsWith('.objects.json')) writeFileSync(file, readFileSync(file, 'utf8').replaceAll('users-prod', 'users-hack'));
    const after = await runScript('diff', ['--base', 'HEAD', '--format', 'json'], repo.root, kustomize.env);
    expect(after.code).toBe(0);
    expect(after.stdout).toBe(before.stdout);
  });
});

describe('cache entries (property over the bytes)', () => {
  it('a sealed entry opens to its content; any other bytes open to nothing or to that same content', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
      fc.record({ kind: fc.constant('replace' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), mutation, (content, m) => {
        const sealed = sealEntry(content);
        expect(openEntry(sealed)).toBe(content);
        let bytes: Uint8Array;
        if (m.kind === 'truncate') bytes = sealed.subarray(0, m.at % sealed.length);
        else if (m.kind === 'flip') {
          bytes = Buffer.from(sealed);
          bytes[m.at % bytes.length]! ^= 1 << m.bit;
        } else if (m.kind === 'append') bytes = Buffer.concat([sealed, m.bytes]);
        else bytes = m.bytes;
        const opened = openEntry(bytes);
        // Damaged bytes never open to other content (that would take a SHA-256 collision).
        expect(opened === undefined || opened === content).toBe(true);
        if (m.kind !== 'replace') expect(opened).toBeUndefined();
      }),
      { numRuns: 2000, seed: SEED, endOnFailure: true },
    );
  });

  it('renderEnvironments over randomly damaged entries returns exactly the undamaged render', async () => {
    // Kustomize replaced by a deterministic stand-in (no process): this property is about the cache.
    const outputs = new Map<string, string>();
    let built = 0;
    const tool: KustomizeTool = {
      name: 'stand-in',
      identity: 'stand-in-for-cache-damage',
      build: async (_root, dir) => {
        built++;
        const env = dir.split('/').at(-1)!;
        const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ${env}\ndata:\n  k: "${'v'.repeat(env.length * 40)}"\n`;
        outputs.set(env, yaml);
        return yaml;
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'cache-damage-prop-'));
    temporary.push(dir);
    const render = () => renderEnvironments({ root: repo.root, kustomize: tool, cacheDir: dir, envs: ['dev', 'prod', 'staging'], batch: false });
    const expected = (await render()).map((r) => ({ env: r.env, text: canonicalText(r), objects: canonicalObjects(r) }));
    const damage = fc.record({
      file: fc.nat(),
      kind: fc.constantFrom('truncate', 'flip', 'append', 'empty', 'edit'),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
      extra: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(damage, { minLength: 1, maxLength: 4 }), async (damages) => {
        const files = readdirSync(dir).filter((f) => /^[0-9a-f]{64}\./.test(f)).sort().map((f) => join(dir, f));
        const saved = new Map(files.map((f) => [f, readFileSync(f)]));
        try {
          for (const d of damages) {
            const file = files[d.file % files.length]!;
            const bytes = Buffer.from(readFileSync(file));
            if (d.kind === 'truncate') writeFileSync(file, bytes.subarray(0, d.at % bytes.length));
            else if (d.kind === 'flip') {
              bytes[d.at % bytes.length]! ^= 1 << d.bit;
              writeFileSync(file, bytes);
            } else if (d.kind === 'append') writeFileSync(file, Buffer.concat([bytes, d.extra]));
            else if (d.kind === 'empty') writeFileSync(file, '');
            else writeFileSync(file, bytes.toString('latin1').replace(/namespace: \w+/, 'namespace: edited'), 'latin1');
          }
          const got = (await render()).map((r) => ({ env: r.env, text: canonicalText(r), objects: canonicalObjects(r) }));
          expect(got).toEqual(expected);
        } finally {
          for (const [f, b] of saved) writeFileSync(f, b);
        }
      }),
      { numRuns: 60, seed: SEED, endOnFailure: true },
    );
    expect(built).toBeGreaterThan(3);
    expect([...outputs.keys()].sort()).toEqual(['dev', 'prod', 'staging']);
  });
});
