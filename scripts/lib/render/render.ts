// render/ owns turning the repository into Kubernetes objects: Kustomize (kustomize.ts) with the
// content-addressed cache, the remembered generate check (check-cache.ts), and the Helm renderer for the
// operator chart (helm.ts, helm/main.go, operator-chart.ts).
//
// Rendering environments: `kustomize build overlays/<env>` for each, skipping every environment whose
// inputs (and Kustomize itself) are byte-identical to a previous build: the output is then read from the
// content-addressed cache under .cache/render/. Many misses are built in batches of overlays, one
// Kustomize process per batch, two at a time (scripts/lib/render/batch.ts); a few are built one by one.
// The canonical form of each render (what `render` prints, what diff and validate parse) is cached
// beside it, so a warm run neither builds nor parses YAML.
import { mkdirSync } from 'node:fs';
import { readEntry, writeEntry } from '../core/cache-entry.ts';
import { fsTree } from './tree.ts';
import type { TreeReader } from './tree.ts';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { envDir } from '../core/layout.ts';
import { InputError, UsageError } from '../core/errors.ts';
import type { Problem } from '../core/errors.ts';
import { KustomizeBuildError } from './kustomize.ts';
import type { KustomizeTool } from './kustomize.ts';
import { collectInputs, listEnvironments, loadParsedKustomizations, overlayNamespace, saveParsedKustomizations } from './inputs.ts';
import type { InputSet } from './inputs.ts';
import { batchSizes, buildBatch, MIN_BATCH_BUILDS } from './batch.ts';
import { stableFingerprint } from './check-cache.ts';
import { cacheKeyOf, RENDER_CACHE_DIR } from './cache-key.ts';
export { cacheKeyOf, RENDER_CACHE_DIR } from './cache-key.ts';
import { normalizeRender, renderedText } from './normalize.ts';
import type { RenderedObject } from './normalize.ts';

export interface RenderedEnvironment {
  env: string;
  /** Kustomize's output, unchanged. */
  yaml: string;
  inputs: InputSet;
  cacheKey: string;
  /** True when read from the cache (Kustomize was not run). */
  cached: boolean;
  /** Where the canonical form is cached (canonicalText/canonicalObjects); absent: computed each time. */
  cacheDir?: string;
}

export interface RenderOptions {
  /** Repository (or worktree) to render from. */
  root: string;
  /** How to read the tree's files; default: the files under `root`. */
  tree?: TreeReader;
  /**
   * Provides a directory where the files the builds need are checked out, for as long as `build`
   * runs; default: `root` itself. Review passes a temporary worktree holding just those files.
   */
  checkout?: <T>(files: readonly string[], build: (dir: string) => Promise<T>) => Promise<T>;
  /** Environments to render; default: every overlay. */
  envs?: readonly string[];
  kustomize: KustomizeTool;
  /** Absolute cache directory; default <root>/.cache/render. `null` disables the cache. */
  cacheDir?: string | null;
  concurrency?: number;
  /** Build many overlays per Kustomize process (default true; false: one process per environment). */
  batch?: boolean;
  /** Called with (0, n) before n Kustomize builds start and after each one finishes (for progress lines). */
  onProgress?: (done: number, total: number) => void;
}

interface Plan {
  fingerprint: string;
  identity: string;
  known: string[];
  envs: Record<string, { inputs: InputSet; cacheKey: string }>;
}
const PLAN_FILE = 'plan.json';

function readPlan(cacheDir: string, fingerprint: string, identity: string): Plan | undefined {
  try {
    const text = readEntry(join(cacheDir, PLAN_FILE));
    if (text === undefined) return undefined;
    const plan = JSON.parse(text) as Plan;
    return plan.fingerprint === fingerprint && plan.identity === identity && Array.isArray(plan.known) ? plan : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Saved only when every input is a file the fingerprint covers: inside the repository, and not under
 * the directories it skips (.git, node_modules, .cache, coverage).
 */
function writePlan(cacheDir: string, plan: Plan): void {
  const outside = (ref: string): boolean => {
    const p = ref.startsWith('missing:') ? ref.slice('missing:'.length) : ref;
    return p === '..' || p.startsWith('../') || p.startsWith('/') || /^(\.git|node_modules|\.cache|coverage)(\/|$)/.test(p);
  };
  if (Object.values(plan.envs).some((e) => e.inputs.files.some(outside) || e.inputs.external.some(outside))) return;
  try {
    writeEntry(join(cacheDir, PLAN_FILE), JSON.stringify(plan));
  } catch {
    // a read-only cache: plan again next time
  }
}

/** Runs `task` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Kustomize's output for one cache key, sealed with its checksum (cache-entry.ts). */
function writeCacheEntry(cacheDir: string, key: string, yaml: string): void {
  writeEntry(join(cacheDir, `${key}.yaml`), yaml);
}

/** Kustomize's output for one cache key, or undefined when it is missing or damaged (then built again). */
function readCacheEntry(cacheDir: string, key: string): string | undefined {
  return readEntry(join(cacheDir, `${key}.yaml`));
}

/**
 * The canonical form of a render (normalize.ts), cached beside it: `<key>.objects.json`, the objects diff
 * and validate compare (JSON.parse is an order of magnitude cheaper than parsing the YAML again), and
 * `<key>.canonical.yaml`, the text `render` prints (read as is), made only when it is asked for: a
 * review never prints it, and writing YAML costs as much as half the parse (issue 24).
 */
const canonicalMemo = new Map<string, { json: string | undefined }>();

/** Plain JSON data only: strings, booleans, finite numbers (not -0), arrays and plain objects. */
function jsonSafe(value: unknown): boolean {
  if (typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(jsonSafe);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).every(jsonSafe);
  return false;
}

/** Parses Kustomize's output into canonical objects once per run, caching their JSON (undefined: not JSON-safe). */
function canonicalize(r: RenderedEnvironment): { json: string | undefined } {
  const memoKey = `${r.cacheKey}\0${r.cacheDir ?? ''}`;
  const memo = canonicalMemo.get(memoKey);
  if (memo) return memo;
  const objects = normalizeRender(r.yaml);
  // A timestamp, a binary or a non-finite number would not survive JSON: such objects are parsed each time.
  const json = objects.every((o) => jsonSafe(o.object)) ? JSON.stringify(objects) : undefined;
  if (r.cacheDir && json !== undefined) {
    mkdirSync(r.cacheDir, { recursive: true });
    writeEntry(join(r.cacheDir, `${r.cacheKey}.objects.json`), json);
  }
  if (canonicalMemo.size > 2_000) canonicalMemo.clear();
  const form = { json };
  canonicalMemo.set(memoKey, form);
  return form;
}

/**
 * The canonical YAML text of a render: `renderedText(normalizeRender(r.yaml))`, from the cache when its
 * entry is intact (a damaged or missing one is made again from the verified render and written).
 */
export function canonicalText(r: RenderedEnvironment): string {
  const file = r.cacheDir ? join(r.cacheDir, `${r.cacheKey}.canonical.yaml`) : undefined;
  const cached = file ? readEntry(file) : undefined;
  if (cached !== undefined) return cached;
  const text = renderedText(canonicalObjects(r));
  if (file) {
    mkdirSync(r.cacheDir!, { recursive: true });
    writeEntry(file, text);
  }
  return text;
}

/** The canonical objects of a render: `normalizeRender(r.yaml)`, from the cache when it can (a fresh copy each call). */
export function canonicalObjects(r: RenderedEnvironment): RenderedObject[] {
  const cached = r.cacheDir ? readEntry(join(r.cacheDir, `${r.cacheKey}.objects.json`)) : undefined;
  if (cached !== undefined) {
    try {
      return JSON.parse(cached) as RenderedObject[];
    } catch {
      // sealed but not JSON (written by something else): computed again below
    }
  }
  const { json } = canonicalize(r);
  return json === undefined ? normalizeRender(r.yaml) : (JSON.parse(json) as RenderedObject[]);
}

/** Every environment that names no overlay is a usage error, reported together. */
export function checkEnvironmentNames(tree: TreeReader, envs: readonly string[], known: readonly string[] = listEnvironments(tree)): readonly string[] {
  const unknown = envs.filter((e) => !known.includes(e));
  if (unknown.length > 0) {
    throw new UsageError(`unknown environment${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${known.join(', ') || '(none)'}`);
  }
  return known;
}

/**
 * Renders environments. Cache hits are decided from the tree alone; only the misses are built.
 * Build failures of all environments are collected and thrown together as one InputError whose
 * problems name the environment and the file Kustomize complained about.
 */
export async function renderEnvironments(options: RenderOptions): Promise<RenderedEnvironment[]> {
  const { root, kustomize } = options;
  const tree = options.tree ?? fsTree(root);
  const cacheDir = options.cacheDir === undefined ? join(root, RENDER_CACHE_DIR) : options.cacheDir;
  const checkout = options.checkout ?? (<T>(_files: readonly string[], build: (dir: string) => Promise<T>) => build(root));
  // The plan (environments, input sets, cache keys) of the very tree generate's checks fingerprinted
  // in this process, remembered from an earlier run: a warm render then reads no input file at all.
  const fingerprint = options.tree === undefined && cacheDir ? stableFingerprint(root) : undefined;
  const plan = fingerprint ? readPlan(cacheDir!, fingerprint, kustomize.identity) : undefined;
  const known = checkEnvironmentNames(tree, options.envs ?? [], plan?.known);
  const envs = options.envs && options.envs.length > 0 ? [...new Set(options.envs)].sort() : known;

  let parsedLoaded = false;
  const ids = new Map<string, string>();
  let planChanged = plan === undefined;
  const planned = envs.map((env) => {
    let entry = plan?.envs[env];
    if (!entry) {
      if (cacheDir && !parsedLoaded) loadParsedKustomizations(cacheDir);
      parsedLoaded = true;
      const inputs = collectInputs(tree, envDir(env));
      entry = { inputs, cacheKey: cacheKeyOf(tree, inputs, kustomize.identity, ids) };
      planChanged = true;
    }
    // A hit is an entry whose checksum holds: a truncated, extended or edited render is built again.
    const cached = cacheDir ? readCacheEntry(cacheDir, entry.cacheKey) : undefined;
    return { env, ...entry, hit: cached !== undefined, cached };
  });
  const misses = planned.filter((p) => !p.hit);
  const failures: Problem[] = [];
  const built = new Map<string, string>();
  if (misses.length > 0) {
    const files = [...new Set(misses.flatMap((m) => m.inputs.files))].sort();
    const parallel = Math.max(1, options.concurrency ?? availableParallelism());
    let done = 0;
    const finished = (m: (typeof misses)[number], yaml: string): void => {
      if (cacheDir) writeCacheEntry(cacheDir, m.cacheKey, yaml);
      built.set(m.env, yaml);
      options.onProgress?.(++done, misses.length);
    };
    const buildOne = async (dir: string, m: (typeof misses)[number]): Promise<void> => {
      try {
        finished(m, await kustomize.build(dir, envDir(m.env)));
      } catch (error) {
        if (!(error instanceof KustomizeBuildError)) throw error;
        failures.push({
          file: error.file ?? `${envDir(m.env)}/kustomization.yaml`,
          message: `environment ${m.env}: kustomize build failed: ${error.detail}`,
          fix: `correct the file named here, then run \`zx scripts/render.ts ${m.env}\` again`,
        });
      }
    };
    // Batches when there are many builds; a batch that fails or does not split cleanly is built again
    // one environment at a time, so errors still name their environment.
    let groups: Array<typeof misses> = misses.map((m) => [m]);
    if (options.batch !== false && misses.length >= MIN_BATCH_BUILDS) {
      let at = 0;
      groups = batchSizes(misses.length, parallel).map((n) => misses.slice(at, (at += n)));
    }
    options.onProgress?.(0, misses.length);
    await checkout(files, (dir) =>
      mapBounded(groups, parallel, async (group) => {
        if (group.length > 1) {
          const namespaces = new Map(group.map((m) => [m.env, overlayNamespace(tree, envDir(m.env))]));
          const split = await buildBatch(kustomize, dir, group.map((m) => m.env), namespaces);
          if (split) {
            for (const m of group) finished(m, split.get(m.env)!);
            return;
          }
        }
        for (const m of group) await buildOne(dir, m);
      }));
  }
  if (cacheDir && parsedLoaded) saveParsedKustomizations(cacheDir);
  if (fingerprint && planChanged && failures.length === 0) {
    writePlan(cacheDir!, { fingerprint, identity: kustomize.identity, known: [...known], envs: { ...plan?.envs, ...Object.fromEntries(planned.map((p) => [p.env, { inputs: p.inputs, cacheKey: p.cacheKey }])) } });
  }
  if (failures.length > 0) {
    failures.sort((a, b) => a.message.localeCompare(b.message));
    throw new InputError(failures, `kustomize build failed for ${failures.length} environment${failures.length === 1 ? '' : 's'}`);
  }
  return planned.map((p) => {
    const r: RenderedEnvironment = { env: p.env, yaml: '', inputs: p.inputs, cacheKey: p.cacheKey, cached: p.hit, ...(cacheDir ? { cacheDir } : {}) };
    if (!p.hit) {
      r.yaml = built.get(p.env)!;
      return r;
    }
    r.yaml = p.cached!;
    return r;
  });
}
