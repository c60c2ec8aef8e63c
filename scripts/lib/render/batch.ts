// Building many overlays in one Kustomize run. Every `kustomize build` process pays the same start-up
// (≈ 0.1 s of the ≈ 0.12 s an overlay costs here), so a cold render of hundreds of environments builds
// them in batches: a generated, never committed kustomization under .cache/render/ lists ~50 overlays
// as its resources, one process builds it, and the output is split back per environment.
//
// Why the split is exact (the equivalence tests check it byte for byte, test/review/batch.test.ts):
// - Kustomize builds each listed directory as a target of its own (its namespace, generators, patches,
//   name references) and merges the result into the parent; a parent with no fields of its own adds no
//   transformation (kubernetes-sigs/kustomize:api/internal/target/kusttarget.go, accumulateDirectory:
//   `subKt.AccumulateTarget()` then `ra.MergeAccumulator(subRa)`).
// - The output is sorted once, for the whole build, in Kustomize's default ("legacy") order, which
//   orders by kind and then by namespace and name: the objects of one environment keep among
//   themselves the order of that environment's own build.
// - Each document is written by the same encoder, separated by "---\n" lines.
// The batch is only split when every object names, in `metadata.namespace`, the namespace of exactly
// one listed overlay (each overlay sets its own with `namespace:`), or is the Namespace object of that
// namespace (a preview overlay creates its own). Anything else — another cluster-scoped object, two
// overlays with one namespace, a build error — falls back to one build per overlay, so failures are
// reported per environment as before.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { envDir } from '../core/layout.ts';
import { KustomizeBuildError } from './kustomize.ts';
import type { KustomizeTool } from './kustomize.ts';

/** Below this many builds, batching saves less than it risks (a fallback doubles the work). */
export const MIN_BATCH_BUILDS = 8;
/** Measured (issue 18): batches of 50, two at a time; one batch of 300 was 3.6× slower. */
export const BATCH_SIZE = 50;

/** Splits `n` builds into batches of at most BATCH_SIZE, at least `parallel` of them, near-equal. */
export function batchSizes(n: number, parallel: number): number[] {
  if (n <= 0) return [];
  const count = Math.min(n, Math.max(parallel, Math.ceil(n / BATCH_SIZE)));
  return Array.from({ length: count }, (_, i) => Math.floor(n / count) + (i < n % count ? 1 : 0));
}

/** The documents of a Kustomize output stream (Kustomize separates them with "---" lines). */
export function splitDocuments(yaml: string): string[] {
  if (yaml === '') return [];
  return yaml.split(/^---\n/m);
}

/**
 * `metadata.namespace` of one Kustomize output document, read from its text: the `metadata:` block
 * at column 0 and its `namespace:` line two spaces in. Undefined when absent or not a plain scalar.
 */
export function documentNamespace(doc: string): string | undefined {
  const start = /^metadata:\n/m.exec(doc);
  if (!start) return undefined;
  const rest = doc.slice(start.index + start[0].length);
  for (const line of rest.split('\n')) {
    if (line !== '' && !line.startsWith(' ')) return undefined; // the next top-level key: metadata ended
    const m = /^ {2}namespace: ([a-z0-9][a-z0-9.-]*)$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** `metadata.name` of a `kind: Namespace` document (a preview overlay creates its own namespace). */
export function namespaceObjectName(doc: string): string | undefined {
  if (!/^kind: Namespace$/m.test(doc) || !/^apiVersion: v1$/m.test(doc)) return undefined;
  const start = /^metadata:\n/m.exec(doc);
  if (!start) return undefined;
  for (const line of doc.slice(start.index + start[0].length).split('\n')) {
    if (line !== '' && !line.startsWith(' ')) return undefined;
    const m = /^ {2}name: ([a-z0-9][a-z0-9.-]*)$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Splits a batch's output per environment. `namespaces` maps each environment of the batch to the
 * namespace its overlay sets. Returns undefined when any document cannot be attributed to exactly one
 * environment, or any environment gets no document (the caller then builds one by one).
 */
export function splitBatchOutput(yaml: string, namespaces: ReadonlyMap<string, string | undefined>): Map<string, string> | undefined {
  const envOf = new Map<string, string>();
  for (const [env, ns] of namespaces) {
    if (ns === undefined || envOf.has(ns)) return undefined;
    envOf.set(ns, env);
  }
  const docs = new Map<string, string[]>([...namespaces.keys()].map((env) => [env, []]));
  for (const doc of splitDocuments(yaml)) {
    // A namespaced object by its namespace; the Namespace object an overlay creates by its name.
    const ns = documentNamespace(doc) ?? namespaceObjectName(doc);
    const env = ns === undefined ? undefined : envOf.get(ns);
    if (env === undefined) return undefined;
    docs.get(env)!.push(doc);
  }
  const out = new Map<string, string>();
  for (const [env, list] of docs) {
    if (list.length === 0) return undefined;
    out.set(env, list.join('---\n'));
  }
  return out;
}

/** The batch kustomization: the overlays as resources, relative to where it is written. */
export function batchKustomization(batchRel: string, envs: readonly string[]): string {
  const up = batchRel.split('/').map(() => '..').join('/');
  return [
    '# Generated by scripts/lib/render/batch.ts for one render run; never committed (.cache/ is ignored).',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'resources:',
    ...envs.map((env) => `  - ${posix.join(up, envDir(env))}`),
    '',
  ].join('\n');
}

let batchCounter = 0;

/**
 * Builds `envs` (their overlays under `dir`) in one Kustomize run and splits the output. Returns
 * undefined when the batch cannot be used (a build error or an output that does not split): the
 * caller builds those environments one by one. The batch directory is always removed.
 */
export async function buildBatch(kustomize: KustomizeTool, dir: string, envs: readonly string[], namespaces: ReadonlyMap<string, string | undefined>): Promise<Map<string, string> | undefined> {
  if ([...namespaces.values()].some((ns) => ns === undefined)) return undefined;
  const rel = posix.join('.cache', 'render', `batch-${process.pid}-${++batchCounter}-${Math.random().toString(36).slice(2, 8)}`);
  const abs = join(dir, rel);
  mkdirSync(abs, { recursive: true });
  try {
    writeFileSync(join(abs, 'kustomization.yaml'), batchKustomization(rel, envs));
    let yaml: string;
    try {
      yaml = await kustomize.build(dir, rel);
    } catch (error) {
      if (error instanceof KustomizeBuildError) return undefined;
      throw error;
    }
    return splitBatchOutput(yaml, namespaces);
  } finally {
    rmSync(abs, { recursive: true, force: true });
  }
}
