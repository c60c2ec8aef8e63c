// Batched builds (scripts/lib/render/batch.ts): many overlays in one Kustomize run, split back per
// environment, must give exactly what one build per environment gives — checked byte for byte with the
// real Kustomize on the examples and on random environments, and falling back to one build per
// environment whenever a batch cannot be split or fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateKustomize } from '../../scripts/lib/render/kustomize.ts';
import type { KustomizeTool } from '../../scripts/lib/render/kustomize.ts';
import { batchSizes, documentNamespace, namespaceObjectName, splitBatchOutput, splitDocuments } from '../../scripts/lib/render/batch.ts';
import { renderEnvironments } from '../../scripts/lib/render/render.ts';
import { InputError } from '../../scripts/lib/core/errors.ts';
import { createRepoCopy } from './repo-copy.ts';
import type { RepoCopy } from './repo-copy.ts';
import { addEnvironments, prng, randomVariation } from './scaled-repo.ts';

describe('batch output split', () => {
  it('sizes: at most 50 per batch, at least one per parallel slot, near-equal', () => {
    expect(batchSizes(0, 2)).toEqual([]);
    expect(batchSizes(1, 2)).toEqual([1]);
    expect(batchSizes(9, 2)).toEqual([5, 4]);
    expect(batchSizes(100, 2)).toEqual([50, 50]);
    expect(batchSizes(101, 2)).toEqual([34, 34, 33]);
    expect(batchSizes(300, 2)).toEqual([50, 50, 50, 50, 50, 50]);
    for (let n = 1; n < 400; n += 7) {
      const sizes = batchSizes(n, 2);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('reads metadata.namespace only from the metadata block, never from spec or data', () => {
    expect(documentNamespace('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: dev\n')).toBe('dev');
    expect(documentNamespace('apiVersion: v1\nkind: X\nmetadata:\n  labels:\n    namespace: no\n  name: a\nspec:\n  namespace: no\n')).toBeUndefined();
    expect(documentNamespace('kind: Namespace\nmetadata:\n  name: dev\n')).toBeUndefined();
    expect(namespaceObjectName('apiVersion: v1\nkind: Namespace\nmetadata:\n  labels:\n    name: no\n  name: pr-1\n')).toBe('pr-1');
    expect(namespaceObjectName('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pr-1\n')).toBeUndefined();
    expect(documentNamespace('metadata:\n  annotations:\n    a: |\n      x\n  namespace: "quoted"\n')).toBeUndefined();
  });

  it('refuses to split what it cannot attribute: no namespace, an unknown one, a shared one, an empty environment', () => {
    const doc = (ns: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ${ns}\n`;
    const stream = [doc('a'), doc('b'), doc('a')].join('---\n');
    expect(splitBatchOutput(stream, new Map([['env-a', 'a'], ['env-b', 'b']]))).toEqual(new Map([['env-a', `${doc('a')}---\n${doc('a')}`], ['env-b', doc('b')]]));
    expect(splitBatchOutput(stream, new Map([['env-a', 'a']]))).toBeUndefined();
    expect(splitBatchOutput(stream, new Map([['env-a', 'a'], ['env-b', 'b'], ['env-c', 'c']]))).toBeUndefined();
    expect(splitBatchOutput(stream, new Map([['env-a', 'a'], ['env-b', 'a']]))).toBeUndefined();
    expect(splitBatchOutput(`${stream}---\nkind: Namespace\nmetadata:\n  name: x\n`, new Map([['env-a', 'a'], ['env-b', 'b']]))).toBeUndefined();
    expect(splitDocuments('')).toEqual([]);
  });
});

describe('batched builds equal one build per environment (real kustomize)', () => {
  let copy: RepoCopy;
  let kustomize: KustomizeTool;
  const builds: string[] = [];
  beforeAll(async () => {
    copy = createRepoCopy();
    const random = prng(18);
    const names = Array.from({ length: 21 }, (_, i) => `rnd-${i}`);
    addEnvironments(copy, names, (name) => randomVariation(random, name));
    const real = await locateKustomize();
    kustomize = { ...real, build: (root, dir) => (builds.push(dir), real.build(root, dir)) };
  }, 300_000);
  afterAll(() => copy?.cleanup());

  it('every environment (the examples and 21 random ones) renders byte-identical in batches and one by one', async () => {
    builds.length = 0;
    const batched = await renderEnvironments({ root: copy.root, kustomize, cacheDir: null, concurrency: 2 });
    expect(batched.length).toBeGreaterThanOrEqual(24);
    expect(builds.every((d) => d.startsWith('.cache/render/batch-'))).toBe(true);
    expect(builds).toHaveLength(2);
    builds.length = 0;
    const single = await renderEnvironments({ root: copy.root, kustomize, cacheDir: null, concurrency: 2, batch: false });
    expect(builds).toHaveLength(single.length);
    expect(batched.map((r) => r.env)).toEqual(single.map((r) => r.env));
    for (const [i, r] of batched.entries()) {
      expect(r.yaml, r.env).toBe(single[i]!.yaml);
    }
    for (const env of ['dev', 'prod', 'staging']) expect(batched.find((r) => r.env === env)?.yaml).toContain(`kind: Deployment`);
  }, 300_000);

  it('a batch holding a broken overlay falls back to one build each: only that environment is reported', async () => {
    const good = copy.read('overlays/staging/kustomization.yaml');
    copy.edit('overlays/staging/kustomization.yaml', /^resources:\n/m, 'resources:\n  - does-not-exist.yaml\n');
    try {
      builds.length = 0;
      const error = await renderEnvironments({ root: copy.root, kustomize, cacheDir: null, concurrency: 2 }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      const problems = (error as InputError).problems;
      expect(problems.map((p) => p.message.split(':')[0])).toEqual(['environment staging']);
      expect(problems[0]!.file).toContain('overlays/staging');
      expect(builds.filter((d) => d.startsWith('overlays/'))).toContain('overlays/staging');
    } finally {
      copy.write('overlays/staging/kustomization.yaml', good);
    }
  }, 300_000);

  it('two overlays sharing a namespace are not split by namespace: built one by one, same output', async () => {
    const kfile = 'overlays/dev/kustomization.yaml';
    const before = copy.read(kfile);
    const prodNamespace = /^namespace: (\S+)$/m.exec(copy.read('overlays/prod/kustomization.yaml'))![1]!;
    copy.edit(kfile, /^namespace: \S+$/m, `namespace: ${prodNamespace}`);
    try {
      builds.length = 0;
      const batched = await renderEnvironments({ root: copy.root, kustomize, cacheDir: null, concurrency: 2, envs: ['dev', 'prod', 'staging', 'rnd-0', 'rnd-1', 'rnd-2', 'rnd-3', 'rnd-4'] });
      expect(builds.some((d) => d === 'overlays/dev')).toBe(true);
      const single = await renderEnvironments({ root: copy.root, kustomize, cacheDir: null, concurrency: 2, batch: false, envs: batched.map((r) => r.env) });
      expect(batched.map((r) => r.yaml)).toEqual(single.map((r) => r.yaml));
    } finally {
      copy.write(kfile, before);
    }
  }, 300_000);
});
