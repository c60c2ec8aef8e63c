// The render cache's keys (render.ts), and what a review remembers of the working tree's last renders so
// that the next one can tell, without walking any kustomization, whether an overlay it is about to build
// is already in the cache (diff.ts starts the builds that are not before anything else: issue 24). A
// small module on purpose: diff.ts loads it before the check, when every millisecond is on the clock.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readEntry, writeEntry } from '../core/cache-entry.ts';
import type { InputSet } from './inputs.ts';
import { fsTree } from './tree.ts';
import type { TreeReader } from './tree.ts';

/**
 * The cache key of one environment: the tool's identity, then each input file's path and git blob id
 * (TreeReader.blobId: free for a commit, one hash for a file on disk), then the external references.
 * `ids` memoises blob ids across the environments of one run (bases are shared).
 */
export function cacheKeyOf(tree: TreeReader, inputs: InputSet, toolIdentity: string, ids = new Map<string, string>()): string {
  const h = createHash('sha256');
  h.update(`tool\0${toolIdentity}\0`);
  for (const file of inputs.files) {
    let id = ids.get(file);
    if (id === undefined) {
      id = tree.blobId(file);
      ids.set(file, id);
    }
    h.update(`file\0${file}\0${id}\0`);
  }
  for (const ref of inputs.external) h.update(`ref\0${ref}\0`);
  return h.digest('hex');
}

/** The render cache, under the repository (or worktree) root. */
export const RENDER_CACHE_DIR = '.cache/render';

const HEADS_FILE = 'heads.json';

type Heads = Record<string, { files: string[]; external: string[]; key: string }>;

function readHeads(cacheDir: string): Heads {
  try {
    const text = readEntry(join(cacheDir, HEADS_FILE));
    const heads = text === undefined ? undefined : (JSON.parse(text) as unknown);
    return heads && typeof heads === 'object' && !Array.isArray(heads) ? (heads as Heads) : {};
  } catch {
    return {};
  }
}

/**
 * Remembers, per overlay directory, the input files and cache key of the working tree's render a review
 * just made (or found). Best effort: a read-only cache remembers nothing.
 */
export function rememberHeads(cacheDir: string, renders: ReadonlyArray<{ dir: string; inputs: InputSet; cacheKey: string }>): void {
  if (renders.length === 0) return;
  const heads = readHeads(cacheDir);
  let changed = false;
  for (const r of renders) {
    if (heads[r.dir]?.key === r.cacheKey) continue;
    heads[r.dir] = { files: r.inputs.files, external: r.inputs.external, key: r.cacheKey };
    changed = true;
  }
  if (!changed) return;
  try {
    writeEntry(join(cacheDir, HEADS_FILE), JSON.stringify(heads));
  } catch {
    // nothing remembered
  }
}

/**
 * Whether the working tree's render of the overlay `dir` is, as far as the last review knew, already in
 * the cache: the same input files (the kustomization files among them, which decide the set) with the
 * same contents give the same key. A guess either way is harmless: it only decides whether a build
 * starts early; the render itself decides from the real key.
 */
export function headCached(cacheDir: string, root: string, dir: string, toolIdentity: string): boolean {
  const head = readHeads(cacheDir)[dir];
  if (!head || !Array.isArray(head.files) || !Array.isArray(head.external)) return false;
  const tree = fsTree(root);
  if (!head.files.every((f) => typeof f === 'string' && tree.isFile(f))) return false;
  const key = cacheKeyOf(tree, { files: head.files, external: head.external, roles: {} }, toolIdentity);
  return key === head.key && existsSync(join(cacheDir, `${key}.yaml`));
}
