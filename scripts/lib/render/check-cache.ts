// generate's input checks for render, validate and diff (checkRepository: every input read safely and
// validated, everything regenerated and compared with the files on disk), remembered while nothing they
// could read has changed. At 300 environments the checks cost most of a warm render (issue 18: 2.7 s of
// 4 s of CPU, measured loaded); a stat walk of the same files costs a few milliseconds.
//
// What "nothing changed" means: the same repository files (every file outside .git, node_modules and
// .cache, by path, type, size, mtime, ctime and inode — an edit, a rename, a new or deleted file, a link
// in place of a file all change it) and the same toolkit (its scripts/, the API's config module that
// defines the .env keys, and the installed packages' lock). Only a passing check is remembered (valid
// inputs, no stale generated file); one that fails runs again every time and reports as before. A
// result is not saved when a file changed during the check or less than RACY_MS before it: a second
// write within the file system's timestamp granularity would otherwise go unseen (git's "racy clean").
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readEntry, writeEntry } from '../core/cache-entry.ts';
import { join, resolve } from 'node:path';
import type { checkRepository as CheckRepository } from '../generate/commands.ts';

export const CHECK_CACHE_DIR = '.cache/check';
const STATE_FILE = 'state.json';
/** Named by the fingerprint, so two runs saving at once never pair one's state with the other's result. */
const resultFile = (digest: string): string => `result-${digest}.json`;
const RACY_MS = 2000;
/** Directories never read by the checks; .cache is where this memo lives. */
const SKIPPED = new Set(['.git', 'node_modules', '.cache', 'coverage']);

const TOOLKIT = resolve(import.meta.dirname, '../../..');
const TOOLKIT_PATHS = ['scripts', 'apps/users-api/src', 'package-lock.json', 'node_modules/.package-lock.json'];

type CheckResult = Awaited<ReturnType<typeof CheckRepository>>;

interface Walk {
  digest: string;
  /** Latest mtime/ctime seen (ms). */
  newest: number;
}

function walk(base: string, rels: readonly string[], skipTop: boolean, h: ReturnType<typeof createHash>, state: { newest: number }): void {
  const visit = (rel: string, depth: number): void => {
    let st;
    try {
      st = lstatSync(join(base, rel));
    } catch {
      h.update(`none\0${rel}\0`);
      return;
    }
    state.newest = Math.max(state.newest, st.mtimeMs, st.ctimeMs);
    if (st.isDirectory()) {
      h.update(`dir\0${rel}\0`);
      const names = readdirSync(join(base, rel)).sort();
      for (const name of names) {
        if (skipTop && depth === 0 && SKIPPED.has(name)) continue;
        visit(rel === '' ? name : `${rel}/${name}`, depth + 1);
      }
      return;
    }
    h.update(`${st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : 'other'}\0${rel}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}\0${st.mode}\0`);
  };
  for (const rel of rels) visit(rel, 0);
}

/** The fingerprint of the toolkit running: its scripts/, the API config module, the installed packages. */
export function toolkitFingerprint(): string {
  const h = createHash('sha256');
  h.update(`toolkit\0${TOOLKIT}\0`);
  walk(TOOLKIT, TOOLKIT_PATHS, false, h, { newest: 0 });
  return h.digest('hex');
}

/** The fingerprint of everything the checks can read in `root`, and of the toolkit running them. */
export function checkFingerprint(root: string): Walk {
  const h = createHash('sha256');
  const state = { newest: 0 };
  h.update(`root\0${resolve(root)}\0`);
  walk(resolve(root), [''], true, h, state);
  h.update(`toolkit\0${TOOLKIT}\0`);
  walk(TOOLKIT, TOOLKIT_PATHS, false, h, state);
  return { digest: h.digest('hex'), newest: state.newest };
}

/** A sealed JSON entry (cache-entry.ts): undefined when missing or damaged, so the check runs again. */
function readJson<T>(file: string): T | undefined {
  try {
    const text = readEntry(file);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  } catch {
    return undefined;
  }
}

const writeAtomically = writeEntry;

/**
 * checkRepository(root), or its remembered passing result when nothing it reads has changed. The
 * result has the same shape; `inputs` and `files` of a remembered result are read from the cache only
 * when used.
 */
const stable = new Map<string, string>();

/**
 * The fingerprint this process took of `root` for generate's checks, when no file was newer than the
 * racy window: it then names the tree exactly, and render may key other memos on it (render.ts, plan).
 */
export function stableFingerprint(root: string): string | undefined {
  return stable.get(resolve(root));
}

/**
 * The remembered passing result when the tree is exactly as that check left it, else undefined; runs
 * nothing. Such a tree also needs no settling (the check ran after it, and no lock or transaction file
 * has appeared since) and holds the generator's inputs (it was checked).
 */
export function rememberedCheck(root: string, cacheDir: string = join(root, CHECK_CACHE_DIR)): CheckResult | undefined {
  return remembered(root, checkFingerprint(root), cacheDir);
}

function remembered(root: string, before: Walk, cacheDir: string): CheckResult | undefined {
  if (before.newest < Date.now() - RACY_MS) stable.set(resolve(root), before.digest);
  const state = readJson<{ fingerprint: string; warnings: CheckResult['warnings'] }>(join(cacheDir, STATE_FILE));
  if (state && state.fingerprint === before.digest && existsSync(join(cacheDir, resultFile(before.digest)))) {
    let stored: Pick<CheckResult, 'inputs' | 'files'> | undefined;
    const load = (): Pick<CheckResult, 'inputs' | 'files'> => {
      const file = join(cacheDir, resultFile(before.digest));
      stored ??= readJson<Pick<CheckResult, 'inputs' | 'files'>>(file);
      if (!stored) throw new Error(`${file} is missing or damaged; delete ${cacheDir} and run again`);
      return stored;
    };
    const result = { drift: [], warnings: state.warnings } as unknown as CheckResult;
    Object.defineProperty(result, 'inputs', { enumerable: true, get: () => load().inputs });
    Object.defineProperty(result, 'files', { enumerable: true, get: () => load().files });
    return result;
  }
  return undefined;
}

export async function checkRepositoryCached(root: string, check: typeof CheckRepository, cacheDir: string = join(root, CHECK_CACHE_DIR)): Promise<CheckResult> {
  const before = checkFingerprint(root);
  const hit = remembered(root, before, cacheDir);
  if (hit) return hit;
  const result = await check(root);
  if (result.drift.length > 0) return result;
  const after = checkFingerprint(root);
  if (after.digest !== before.digest) stable.delete(resolve(root));
  if (after.digest === before.digest && after.newest < Date.now() - RACY_MS) {
    try {
      mkdirSync(cacheDir, { recursive: true });
      // The result first: a state naming this fingerprint always has its result beside it.
      const keep = resultFile(after.digest);
      writeAtomically(join(cacheDir, keep), JSON.stringify({ inputs: result.inputs, files: result.files }));
      writeAtomically(join(cacheDir, STATE_FILE), JSON.stringify({ fingerprint: after.digest, warnings: result.warnings }));
      for (const name of readdirSync(cacheDir)) if (/^result-[0-9a-f]{64}\.json$/.test(name) && name !== keep) rmSync(join(cacheDir, name), { force: true });
    } catch {
      // a read-only checkout: check again next time
    }
  }
  return result;
}
