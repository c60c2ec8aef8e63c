// Reading a repository tree either from disk or straight from a git commit. Review uses the commit
// reader to find which environments a change reaches and to compute their cache keys without checking
// anything out; only environments that must really be built get (a few files of) a worktree.
import { execFileSync } from 'node:child_process';
import { gitChecked } from '../git.ts';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Repo-relative POSIX paths throughout. */
export interface TreeReader {
  isFile(rel: string): boolean;
  isDirectory(rel: string): boolean;
  /** Throws when the file does not exist. */
  read(rel: string): Buffer;
  /** Names of the directories directly under `rel` (empty when it is not a directory). */
  subdirectories(rel: string): string[];
}

export function fsTree(root: string): TreeReader {
  const stat = (rel: string) => {
    try {
      return statSync(join(root, rel));
    } catch {
      return undefined;
    }
  };
  return {
    isFile: (rel) => stat(rel)?.isFile() ?? false,
    isDirectory: (rel) => stat(rel)?.isDirectory() ?? false,
    read: (rel) => readFileSync(join(root, rel)),
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

/** Files larger than this are not preloaded; they are read on demand (rare: manifests are small). */
const PRELOAD_LIMIT = 4 * 1024 * 1024;

/**
 * A commit as a TreeReader: one `git ls-tree` for the shape, one `git cat-file --batch` for the
 * contents of every blob (so later reads are synchronous and free).
 */
export async function gitTree(root: string, commit: string): Promise<TreeReader> {
  const listing = (await gitChecked(root, ['ls-tree', '-r', '-t', '-l', '-z', '--full-tree', commit], undefined, GIT_MAX_BUFFER)).toString('utf8');
  const blobs = new Map<string, { sha: string; size: number }>();
  const dirs = new Map<string, Set<string>>([['', new Set()]]);
  for (const entry of listing.split('\0')) {
    if (entry === '') continue;
    const tab = entry.indexOf('\t');
    const [, type, sha, size] = entry.slice(0, tab).split(/\s+/);
    const path = entry.slice(tab + 1);
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (type === 'tree') {
      dirs.set(path, dirs.get(path) ?? new Set());
      const siblings = dirs.get(parent) ?? new Set<string>();
      siblings.add(path.slice(parent === '' ? 0 : parent.length + 1));
      dirs.set(parent, siblings);
    } else if (type === 'blob' && sha) {
      blobs.set(path, { sha, size: Number(size) });
    }
  }
  const wanted = [...blobs.values()].filter((b) => b.size <= PRELOAD_LIMIT).map((b) => b.sha);
  const contents = new Map<string, Buffer>();
  if (wanted.length > 0) {
    const out = await gitChecked(root, ['cat-file', '--batch'], `${[...new Set(wanted)].join('\n')}\n`, GIT_MAX_BUFFER);
    let at = 0;
    while (at < out.length) {
      const eol = out.indexOf(0x0a, at);
      const [sha, , size] = out.subarray(at, eol).toString('utf8').split(' ');
      const n = Number(size);
      contents.set(sha!, out.subarray(eol + 1, eol + 1 + n));
      at = eol + 1 + n + 1;
    }
  }
  const normal = (rel: string): string => rel.replace(/^\.\/?/, '').replace(/\/$/, '');
  return {
    isFile: (rel) => blobs.has(normal(rel)),
    isDirectory: (rel) => dirs.has(normal(rel)),
    read(rel) {
      const blob = blobs.get(normal(rel));
      if (!blob) throw new Error(`${rel} does not exist in ${commit}`);
      const cached = contents.get(blob.sha);
      if (cached) return cached;
      return execFileSync('git', ['cat-file', 'blob', blob.sha], { cwd: root, maxBuffer: GIT_MAX_BUFFER });
    },
    subdirectories: (rel) => [...(dirs.get(normal(rel)) ?? [])],
  };
}
