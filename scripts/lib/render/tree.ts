// Reading a repository tree either from disk or straight from a git commit. Review uses the commit
// reader to find which environments a change reaches and to compute their cache keys without checking
// anything out; only environments that must really be built get (a few files of) a worktree.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gitChecked } from '../core/git.ts';
import { isKustomizationFile } from '../core/layout.ts';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

/** Repo-relative POSIX paths throughout. */
export interface TreeReader {
  isFile(rel: string): boolean;
  isDirectory(rel: string): boolean;
  /** Throws when the file does not exist. */
  read(rel: string): Buffer;
  /** Names of the directories directly under `rel` (empty when it is not a directory). */
  subdirectories(rel: string): string[];
  /**
   * The file's git blob id (SHA-1 of "blob <size>\0" and the bytes), the same for a file on disk and in
   * a commit: the render cache keys on it, so a render of the working tree serves a later diff against
   * the commit and back. A commit knows it from its tree listing without reading the file.
   */
  blobId(rel: string): string;
  /** Loads these files' contents in one go before they are read (a commit reads blobs in one batch). */
  prefetch(rels: readonly string[]): Promise<void>;
  /**
   * A commit's reader only: whether every one of `rels` is a regular file (git mode 100644 or 100755,
   * not a symlink or a submodule), so that writing its bytes out reproduces what a checkout would.
   */
  regularFiles?(rels: readonly string[]): boolean;
  /** A commit's reader only: whether the file's bytes are in memory (read() then runs no git process). */
  loaded?(rel: string): boolean;
  /**
   * A commit's reader only: every file of the tree (repo-relative), and whether all are regular files
   * (no symbolic link, no submodule): what review's reach proof needs (scripts/lib/review/diff/reach.ts).
   */
  listing?(): { files: string[]; plainFilesOnly: boolean };
}

/** The git blob id of some bytes (what `git hash-object` prints). */
export function blobIdOf(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/**
 * The files under `root`. Stats are remembered for the reader's lifetime (one run): two hundred
 * overlays share the same bases, each probed for three kustomization file names.
 */
export function fsTree(root: string): TreeReader {
  const stats = new Map<string, ReturnType<typeof statSync> | undefined>();
  const stat = (rel: string) => {
    if (stats.has(rel)) return stats.get(rel);
    let st;
    try {
      st = statSync(join(root, rel));
    } catch {
      st = undefined;
    }
    stats.set(rel, st);
    return st;
  };
  return {
    isFile: (rel) => stat(rel)?.isFile() ?? false,
    isDirectory: (rel) => stat(rel)?.isDirectory() ?? false,
    read: (rel) => readFileSync(join(root, rel)),
    blobId: (rel) => blobIdOf(readFileSync(join(root, rel))),
    prefetch: async () => {},
    subdirectories(rel) {
      try {
        return readdirSync(join(root, rel), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
      } catch {
        return [];
      }
    },
  };
}

/** Whole-repository listings and blob batches can be large. */
const GIT_MAX_BUFFER = 1024 * 1024 * 1024;

/** Files larger than this are not kept in memory once read; they are read again when asked for. */
const PRELOAD_LIMIT = 4 * 1024 * 1024;

/** Reads blobs by id with one `git cat-file --batch`. */
async function catBlobs(root: string, shas: readonly string[]): Promise<Map<string, Buffer>> {
  const contents = new Map<string, Buffer>();
  if (shas.length === 0) return contents;
  const out = await gitChecked(root, ['cat-file', '--batch'], `${[...new Set(shas)].join('\n')}\n`, GIT_MAX_BUFFER);
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(0x0a, at);
    const [sha, , size] = out.subarray(at, eol).toString('utf8').split(' ');
    const n = Number(size);
    contents.set(sha!, out.subarray(eol + 1, eol + 1 + n));
    at = eol + 1 + n + 1;
  }
  return contents;
}

/**
 * A commit as a TreeReader: one `git ls-tree` for the shape and the blob ids, then the contents of the
 * kustomization files `known` does not rule out (the caller holds them parsed, in the memo of
 * render/inputs.ts, or reads them elsewhere), in one `git cat-file --batch` (none when all are ruled
 * out). Other files are loaded by `prefetch` (one batch per call) or, unfetched, one by one: a review
 * reads the few blobs the reached environments need, not the whole repository.
 */
export async function gitTree(root: string, commit: string, options: { known?: (blobId: string, path: string) => boolean } = {}): Promise<TreeReader> {
  // No `-l`: sizes would make git open every blob's object (tens of milliseconds at 300 environments
  // when the objects are loose); a blob's size is learnt when it is read.
  const listing = (await gitChecked(root, ['ls-tree', '-r', '-t', '-z', '--full-tree', commit], undefined, GIT_MAX_BUFFER)).toString('utf8');
  const blobs = new Map<string, { sha: string; mode: string }>();
  let plainFilesOnly = true;
  const dirs = new Map<string, Set<string>>([['', new Set()]]);
  for (const entry of listing.split('\0')) {
    if (entry === '') continue;
    const tab = entry.indexOf('\t');
    const [mode, type, sha] = entry.slice(0, tab).split(/\s+/);
    const path = entry.slice(tab + 1);
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (type === 'tree') {
      dirs.set(path, dirs.get(path) ?? new Set());
      const siblings = dirs.get(parent) ?? new Set<string>();
      siblings.add(path.slice(parent === '' ? 0 : parent.length + 1));
      dirs.set(parent, siblings);
    } else if (type === 'blob' && sha) {
      blobs.set(path, { sha, mode: mode ?? '' });
      if (mode !== '100644' && mode !== '100755') plainFilesOnly = false;
    } else {
      plainFilesOnly = false; // a submodule (type commit)
    }
  }
  const normal = (rel: string): string => posix.normalize(rel).replace(/^\.\/?/, '').replace(/\/$/, '');
  const contents = new Map<string, Buffer>();
  const load = async (paths: Iterable<string>): Promise<void> => {
    const wanted: string[] = [];
    for (const p of paths) {
      const blob = blobs.get(normal(p));
      if (blob && !contents.has(blob.sha)) wanted.push(blob.sha);
    }
    for (const [sha, bytes] of await catBlobs(root, wanted)) if (bytes.length <= PRELOAD_LIMIT) contents.set(sha, bytes);
  };
  const known = options.known ?? (() => false);
  await load([...blobs.entries()].filter(([p, b]) => isKustomizationFile(p) && !known(b.sha, p)).map(([p]) => p));
  const blobOf = (rel: string): { sha: string; mode: string } => {
    const blob = blobs.get(normal(rel));
    if (!blob) throw new Error(`${rel} does not exist in ${commit}`);
    return blob;
  };
  return {
    isFile: (rel) => blobs.has(normal(rel)),
    isDirectory: (rel) => dirs.has(normal(rel)),
    read(rel) {
      const blob = blobOf(rel);
      const cached = contents.get(blob.sha);
      if (cached) return cached;
      const bytes = execFileSync('git', ['cat-file', 'blob', blob.sha], { cwd: root, maxBuffer: GIT_MAX_BUFFER });
      if (bytes.length <= PRELOAD_LIMIT) contents.set(blob.sha, bytes);
      return bytes;
    },
    blobId: (rel) => blobOf(rel).sha,
    prefetch: (rels) => load(rels),
    regularFiles: (rels) => rels.every((rel) => {
      const mode = blobs.get(normal(rel))?.mode;
      return mode === '100644' || mode === '100755';
    }),
    subdirectories: (rel) => [...(dirs.get(normal(rel)) ?? [])],
    listing: () => ({ files: [...blobs.keys()], plainFilesOnly }),
    loaded: (rel) => contents.has(blobOf(rel).sha),
  };
}
