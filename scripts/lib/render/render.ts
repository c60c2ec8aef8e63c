// Rendering environments: `kustomize build overlays/<env>` for each, in parallel within the machine's
// cores, skipping every environment whose inputs (and Kustomize itself) are byte-identical to a
// previous build: the output is then read from the content-addressed cache under .cache/render/.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { fsTree } from './tree.ts';
import type { TreeReader } from './tree.ts';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { envDir } from '../layout.ts';
import { InputError, UsageError } from '../errors.ts';
import type { Problem } from '../errors.ts';
import { KustomizeBuildError } from '../kustomize.ts';
import type { KustomizeTool } from '../kustomize.ts';
import { collectInputs, listEnvironments, loadParsedKustomizations, saveParsedKustomizations } from './inputs.ts';
import type { InputSet } from './inputs.ts';

export const RENDER_CACHE_DIR = '.cache/render';

export interface RenderedEnvironment {
  env: string;
  /** Kustomize's output, unchanged. */
  yaml: string;
  inputs: InputSet;
  cacheKey: string;
  /** True when read from the cache (Kustomize was not run). */
  cached: boolean;
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
  /** Called with (0, n) before n Kustomize builds start and after each one finishes (for progress lines). */
  onProgress?: (done: number, total: number) => void;
}

/** `digests` memoises file hashes across the environments of one run (bases are shared). */
export function cacheKeyOf(tree: TreeReader, inputs: InputSet, toolIdentity: string, digests = new Map<string, Buffer>()): string {
  const h = createHash('sha256');
  h.update(`tool\0${toolIdentity}\0`);
  for (const file of inputs.files) {
    h.update(`file\0${file}\0`);
    let digest = digests.get(file);
    if (!digest) {
      digest = createHash('sha256').update(tree.read(file)).digest();
      digests.set(file, digest);
    }
    h.update(digest);
  }
  for (const ref of inputs.external) h.update(`ref\0${ref}\0`);
  return h.digest('hex');
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

function writeCacheEntry(cacheDir: string, key: string, yaml: string): void {
  mkdirSync(cacheDir, { recursive: true });
  const target = join(cacheDir, `${key}.yaml`);
  const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, yaml);
  renameSync(tmp, target);
}

/** Every environment that names no overlay is a usage error, reported together. */
export function checkEnvironmentNames(tree: TreeReader, envs: readonly string[]): string[] {
  const known = listEnvironments(tree);
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
  const known = checkEnvironmentNames(tree, options.envs ?? []);
  const envs = options.envs && options.envs.length > 0 ? [...new Set(options.envs)].sort() : known;
  const cacheDir = options.cacheDir === undefined ? join(root, RENDER_CACHE_DIR) : options.cacheDir;
  const checkout = options.checkout ?? (<T>(_files: readonly string[], build: (dir: string) => Promise<T>) => build(root));

  if (cacheDir) loadParsedKustomizations(cacheDir);
  const digests = new Map<string, Buffer>();
  const planned = envs.map((env) => {
    const inputs = collectInputs(tree, envDir(env));
    const cacheKey = cacheKeyOf(tree, inputs, kustomize.identity, digests);
    const file = cacheDir ? join(cacheDir, `${cacheKey}.yaml`) : undefined;
    const yaml = file && existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    return { env, inputs, cacheKey, yaml };
  });
  const misses = planned.filter((p) => p.yaml === undefined);
  const failures: Problem[] = [];
  const built = new Map<string, string>();
  if (misses.length > 0) {
    const files = [...new Set(misses.flatMap((m) => m.inputs.files))].sort();
    let done = 0;
    options.onProgress?.(0, misses.length);
    await checkout(files, (dir) =>
      mapBounded(misses, options.concurrency ?? availableParallelism(), async (m) => {
        try {
          const yaml = await kustomize.build(dir, envDir(m.env));
          if (cacheDir) writeCacheEntry(cacheDir, m.cacheKey, yaml);
          built.set(m.env, yaml);
          options.onProgress?.(++done, misses.length);
        } catch (error) {
          if (!(error instanceof KustomizeBuildError)) throw error;
          failures.push({
            file: error.file ?? `${envDir(m.env)}/kustomization.yaml`,
            message: `environment ${m.env}: kustomize build failed: ${error.detail}`,
            fix: `correct the file named here, then run \`zx scripts/render.ts ${m.env}\` again`,
          });
        }
      }));
  }
  if (cacheDir) saveParsedKustomizations(cacheDir);
  if (failures.length > 0) {
    failures.sort((a, b) => a.message.localeCompare(b.message));
    throw new InputError(failures, `kustomize build failed for ${failures.length} environment${failures.length === 1 ? '' : 's'}`);
  }
  return planned.map((p) => ({
    env: p.env,
    yaml: p.yaml ?? built.get(p.env)!,
    inputs: p.inputs,
    cacheKey: p.cacheKey,
    cached: p.yaml !== undefined,
  }));
}
