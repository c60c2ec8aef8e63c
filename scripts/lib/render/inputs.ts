// Every file a `kustomize build` of a directory can read, found by walking kustomization files the way
// Kustomize does. The render cache keys on these files' contents, and diff maps changed files to the
// environments they reach through the same sets.
import { readEntry, writeEntry } from '../core/cache-entry.ts';
import { join, normalize, posix } from 'node:path';
import { createRequire } from 'node:module';
import { KUSTOMIZATION_NAMES, OVERLAYS_DIR } from '../core/layout.ts';
import { fsTree } from './tree.ts';
import type { TreeReader } from './tree.ts';

export interface InputSet {
  /** Repo-relative files, sorted. */
  files: string[];
  /** References Kustomize would fetch (URLs) or that do not exist: part of the key, not hashable files. */
  external: string[];
  /** How each file is used: lets findings point at the file that defines or patches an object. */
  roles: Record<string, InputRole>;
}

export type InputRole = 'kustomization' | 'resource' | 'patch' | 'generator' | 'other';

function readerOf(tree: TreeReader | string): TreeReader {
  return typeof tree === 'string' ? fsTree(tree) : tree;
}

export function kustomizationFile(tree: TreeReader | string, dir: string): string | undefined {
  const reader = readerOf(tree);
  for (const name of KUSTOMIZATION_NAMES) {
    const rel = posix.join(dir, name);
    if (reader.isFile(rel)) return rel;
  }
  return undefined;
}

function isRemote(ref: string): boolean {
  return /^(https?:|git@|ssh:|git::|github\.com\/|gitlab\.com\/|bitbucket\.org\/)/.test(ref);
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** `files:` entries may be `key=path`. */
function generatorFiles(entry: unknown): string[] {
  if (!entry || typeof entry !== 'object') return [];
  const e = entry as Record<string, unknown>;
  return [
    ...strings(e.files).map((f) => f.slice(f.indexOf('=') + 1)),
    ...strings(e.envs),
    ...strings(e.env),
  ];
}

function pathsOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((p) => (p && typeof p === 'object' && typeof (p as { path?: unknown }).path === 'string' ? [(p as { path: string }).path] : []));
}

/** The kustomization entries that name other directories or files, by how Kustomize treats them. */
function references(k: Record<string, unknown>): { dirsOrFiles: string[]; files: Array<[string, InputRole]> } {
  const dirsOrFiles = [...strings(k.resources), ...strings(k.bases), ...strings(k.components)];
  const tag = (role: InputRole) => (f: string): [string, InputRole] => [f, role];
  const files = [
    ...strings(k.patchesStrategicMerge).filter((p) => !p.includes('\n')).map(tag('patch')),
    ...pathsOf(k.patches).map(tag('patch')),
    ...pathsOf(k.patchesJson6902).map(tag('patch')),
    ...pathsOf(k.replacements).map(tag('other')),
    ...strings(k.crds).map(tag('other')),
    ...strings(k.configurations).map(tag('other')),
    ...(Array.isArray(k.configMapGenerator) ? k.configMapGenerator.flatMap(generatorFiles) : []).map(tag('generator')),
    ...(Array.isArray(k.secretGenerator) ? k.secretGenerator.flatMap(generatorFiles) : []).map(tag('generator')),
    ...(k.openapi && typeof k.openapi === 'object' ? strings((k.openapi as { path?: unknown }).path) : []).map(tag('other')),
  ];
  // transformers/generators/validators entries are file paths or inline YAML documents.
  for (const key of ['transformers', 'generators', 'validators']) {
    dirsOrFiles.push(...strings(k[key]).filter((p) => !p.includes('\n')));
  }
  return { dirsOrFiles, files };
}

/**
 * Parsed kustomization files by git blob id (TreeReader.blobId: free for a commit, one hash for a file on
 * disk): a hundred overlays share the same bases, and the two trees a review walks are mostly
 * identical, so each distinct file is parsed once. The memo can be saved next to the render cache
 * (`saveParsedKustomizations`), so the next run parses only kustomization files it has never seen.
 */
const parsedByContent = new Map<string, unknown>();
let parsedAdded = 0;
const PARSE_MEMO_LIMIT = 20_000;

// The YAML parser is loaded on the first parse: review's git phase (review/diff/start.ts) loads this
// module before the check, and a warm review parses nothing at all.
let yamlParse: ((text: string) => unknown) | undefined;
const parse = (text: string): unknown => (yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse)(text);

/** Whether the memo holds the parsed form of this blob (a commit's tree then skips reading it). */
export function hasParsedKustomization(blobId: string): boolean {
  return parsedByContent.has(blobId);
}

/**
 * The path segments of every reference a kustomization file makes, as the walk below reads them (the
 * same parse, the same fields; `\\` counts as a separator, as relPath makes it one): review's reach proof
 * (scripts/lib/review/diff/reach.ts) asks whether a file names a directory or file by these.
 */
export function referenceSegments(reader: TreeReader, file: string): Set<string> {
  const doc = parsedKustomization(reader, file);
  const out = new Set<string>();
  if (!doc || typeof doc !== 'object') return out;
  const { dirsOrFiles, files } = references(doc as Record<string, unknown>);
  for (const ref of [...dirsOrFiles, ...files.map(([f]) => f)]) for (const s of ref.split(/[\\/]/)) out.add(s);
  return out;
}

function parsedKustomization(reader: TreeReader, file: string): unknown {
  const key = reader.blobId(file);
  if (parsedByContent.has(key)) return parsedByContent.get(key);
  const text = reader.read(file).toString('utf8');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    doc = null; // Kustomize reports the syntax error with the file; the file's bytes are in the key.
  }
  if (parsedByContent.size >= PARSE_MEMO_LIMIT) parsedByContent.clear();
  parsedByContent.set(key, doc);
  parsedAdded++;
  return doc;
}

// v2: keyed by git blob id (v1 keyed by a SHA-256 of the text).
const PARSED_FILE = 'kustomizations-v2.json';

/** Loads the saved memo of parsed kustomization files, if any (a damaged file is ignored); once per directory. */
const memoLoaded = new Set<string>();
export function loadParsedKustomizations(cacheDir: string): void {
  if (memoLoaded.has(cacheDir)) return;
  memoLoaded.add(cacheDir);
  try {
    const text = readEntry(join(cacheDir, PARSED_FILE));
    if (text === undefined) return;
    const saved = JSON.parse(text) as Record<string, unknown>;
    for (const [key, doc] of Object.entries(saved)) if (!parsedByContent.has(key)) parsedByContent.set(key, doc);
  } catch {
    // first run, or an unreadable memo: parse again
  }
}

/** Saves the memo when this run parsed anything new (atomically: write, then rename). */
export function saveParsedKustomizations(cacheDir: string): void {
  if (parsedAdded === 0) return;
  writeEntry(join(cacheDir, PARSED_FILE), JSON.stringify(Object.fromEntries(parsedByContent)));
  parsedAdded = 0;
}

/**
 * What one directory's kustomization reaches, recursively: its files, external references and the
 * roles in the order they were assigned. Memoised per reader (one run over one tree), so the bases two
 * hundred overlays share are walked once, not once per overlay.
 */
interface Closure {
  files: Set<string>;
  external: Set<string>;
  /** [file, role, forced]: a forced role (the kustomization itself) always wins; others only over none or 'other'. */
  roles: Array<[string, InputRole, boolean]>;
}

const closures = new WeakMap<TreeReader, Map<string, Closure>>();

const relPath = (p: string): string => posix.normalize(p.split('\\').join('/')).replace(/\/$/, '');

/**
 * The closure of `key` computed on its own (as if it were the root), with the directories on the
 * current path in `stack`. Returns the directories of `stack` it ran into (a cycle, which Kustomize
 * rejects): a closure cut short by one is correct for the root of that walk only, so it is not memoised.
 */
function closureOf(reader: TreeReader, key: string, stack: Set<string>): { closure: Closure; cut: Set<string> } {
  let memo = closures.get(reader);
  if (!memo) closures.set(reader, (memo = new Map()));
  const known = memo.get(key);
  if (known) return { closure: known, cut: new Set() };
  const closure: Closure = { files: new Set(), external: new Set(), roles: [] };
  const cut = new Set<string>();
  const seen = new Set<string>([key]);
  const addFile = (p: string, role: InputRole): void => {
    const r = relPath(p);
    closure.roles.push([r, role, false]);
    if (reader.isFile(r)) closure.files.add(r);
    else closure.external.add(`missing:${r}`);
  };
  const kfile = kustomizationFile(reader, key);
  if (!kfile) {
    closure.external.add(`missing:${key}/kustomization.yaml`);
  } else {
    closure.files.add(kfile);
    closure.roles.push([kfile, 'kustomization', true]);
    const doc = parsedKustomization(reader, kfile);
    if (doc && typeof doc === 'object') {
      const { dirsOrFiles, files: refFiles } = references(doc as Record<string, unknown>);
      stack.add(key);
      for (const ref of dirsOrFiles) {
        if (isRemote(ref)) {
          closure.external.add(ref);
          continue;
        }
        const target = relPath(posix.join(key, ref));
        if (!reader.isDirectory(target)) {
          addFile(target, 'resource');
          continue;
        }
        if (seen.has(target)) continue;
        seen.add(target);
        if (stack.has(target)) {
          cut.add(target);
          continue;
        }
        const child = closureOf(reader, target, stack);
        for (const d of child.cut) cut.add(d);
        for (const f of child.closure.files) closure.files.add(f);
        for (const e of child.closure.external) closure.external.add(e);
        closure.roles.push(...child.closure.roles);
      }
      stack.delete(key);
      for (const [ref, role] of refFiles) {
        if (isRemote(ref)) closure.external.add(ref);
        else addFile(posix.join(key, ref), role);
      }
    }
  }
  cut.delete(key);
  if (cut.size === 0) memo.set(key, closure);
  return { closure, cut };
}

/**
 * The input set of the kustomization in `dir` (repo-relative), following every reference recursively.
 * `tree` is a directory on disk or a git commit read through a TreeReader.
 */
export function collectInputs(tree: TreeReader | string, dir: string): InputSet {
  const reader = readerOf(tree);
  const { closure } = closureOf(reader, relPath(normalize(dir)), new Set());
  const roles: Record<string, InputRole> = {};
  for (const [file, role, forced] of closure.roles) {
    if (forced || !roles[file] || roles[file] === 'other') roles[file] = role;
  }
  return { files: [...closure.files].sort(), external: [...closure.external].sort(), roles };
}

/** The `namespace:` a kustomization sets (undefined when it sets none or cannot be parsed). */
export function overlayNamespace(tree: TreeReader | string, dir: string): string | undefined {
  const reader = readerOf(tree);
  const file = kustomizationFile(reader, dir);
  if (!file) return undefined;
  const doc = parsedKustomization(reader, file) as { namespace?: unknown } | undefined;
  return doc && typeof doc === 'object' && typeof doc.namespace === 'string' ? doc.namespace : undefined;
}

/** Environments are the directories under overlays/ that hold a kustomization. Sorted. */
export function listEnvironments(tree: TreeReader | string): string[] {
  const reader = readerOf(tree);
  return reader
    .subdirectories(OVERLAYS_DIR)
    .filter((name) => kustomizationFile(reader, posix.join(OVERLAYS_DIR, name)) !== undefined)
    .sort();
}
