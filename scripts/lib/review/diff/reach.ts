// Which environments a set of changed files reaches: every environment whose Kustomize input set (the
// walk of scripts/lib/render/inputs.ts) holds one of the files, or whose own overlay directory holds one.
//
// The walk parses every overlay's kustomization, which at hundreds of environments is most of a review's
// own work (issue 24). `environmentsReached` first tries to prove, from what each kustomization file
// names (most not even parsed), that only a few environments can be reached, and walks just those; the answer is the
// walk's, exactly (test/review/reach.test.ts compares both on random repositories). The proof rests on
// one fact of path resolution: a reference from directory D (Kustomize joins it to D and cleans it)
// that lands on target T spells, as whole path segments, every segment of T after the longest common
// prefix of D and T — those can only come from the reference, not from D. So:
//   1. a kustomization names a changed file F only if its references spell those segments of F (for a
//      changed kustomization file: of its directory, which is what a reference names);
//   2. an environment's walk enters another overlay directory overlays/Z only through a kustomization
//      outside overlays/Z whose references spell "Z".
// "Spell" is the walk's own reading: the segments of the file's references as the walk parses them; a
// file whose bytes do not even contain the segment is not parsed. The overlays holding a changed file or a
// kustomization that names one are "hot"; an overlay with a kustomization that names a hot one is hot too.
// When no shared kustomization (outside every overlay) names a changed file or a hot overlay, a walk from
// a cold overlay can never reach a changed file (follow its chain of kustomizations back from the one
// naming the file: every step stays in hot overlays), and only the hot overlays are walked.
// Anything the proof cannot see through (a symbolic link or submodule in the tree, a change to a shared
// kustomization, a very large change) takes the full walk.
import { lstatSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { envDir, isKustomizationFile, overlayOf } from '../../core/layout.ts';
import { collectInputs, hasParsedKustomization, listEnvironments, referenceSegments } from '../../render/inputs.ts';
import { fsTree } from '../../render/tree.ts';
import type { TreeReader } from '../../render/tree.ts';

/** What the proof needs of a tree besides the TreeReader: every kustomization file, and what each names. */
export interface KustomizationIndex {
  /** Every kustomization file of the tree, repo-relative. */
  files: readonly string[];
  /** Whether one of the file's references spells `needle` as a whole path segment. */
  mayName(file: string, needle: string): boolean;
}

/** Past this many changed files the proof's cost (files × kustomizations) is not worth it: walk all. */
const PROOF_FILE_LIMIT = 64;

const segments = (p: string): string[] => (p === '' || p === '.' ? [] : p.split('/'));

/**
 * The segments a reference from directory `dir` must spell to land on `target` (both repo-relative,
 * clean): those of `target` after the longest common prefix. Empty when `target` is `dir` or one of its
 * ancestors (`..` needs no name): the proof then cannot exclude the reference.
 */
export function spelledSegments(dir: string, target: string): string[] {
  const d = segments(dir);
  const t = segments(target);
  let p = 0;
  while (p < d.length && p < t.length && d[p] === t[p]) p++;
  return t.slice(p);
}

/** Whether the walk of `env` reaches one of `files`: its overlay holds one, or its input set does. */
function reaches(tree: TreeReader | string, files: readonly string[]): (env: string) => boolean {
  const changed = new Set(files);
  return (env) => files.some((f) => f.startsWith(`${envDir(env)}/`)) || collectInputs(tree, envDir(env)).files.some((f) => changed.has(f));
}

/** The full walk: every environment of `tree`, its input set against `files`. */
export function walkReached(tree: TreeReader | string, files: readonly string[]): string[] {
  return files.length === 0 ? [] : listEnvironments(tree).filter(reaches(tree, files));
}

/** The last proof per index (review asks for the same change on a tree twice: to prefetch, then to walk). */
const decided = new WeakMap<KustomizationIndex, { files: readonly string[]; zones: Set<string> | undefined }>();

/**
 * The overlay directories that may be reached (a superset of the answer's environments), or undefined
 * when the proof does not hold and every environment must be walked.
 */
export function candidateZones(index: KustomizationIndex, files: readonly string[]): Set<string> | undefined {
  const known = decided.get(index);
  if (known && known.files === files) return known.zones;
  const zones = proveZones(index, files);
  decided.set(index, { files, zones });
  return zones;
}

function proveZones(index: KustomizationIndex, files: readonly string[]): Set<string> | undefined {
  if (files.length > PROOF_FILE_LIMIT) return undefined;
  // A kustomization file is reached through its directory; any other file by its own path.
  const targets = files.map((f) => (isKustomizationFile(f) ? posix.dirname(f) : f)).map((t) => (t === '.' ? '' : t));
  const hot = new Set<string>();
  for (const f of files) {
    const zone = overlayOf(f);
    if (zone !== undefined) hot.add(zone);
  }
  for (const k of index.files) {
    const dir = posix.dirname(k) === '.' ? '' : posix.dirname(k);
    const mayNameChange = targets.some((t) => {
      const spelled = spelledSegments(dir, t);
      return spelled.length === 0 || spelled.every((s) => index.mayName(k, s));
    });
    if (!mayNameChange) continue;
    const zone = overlayOf(k);
    // A shared kustomization (a base, a component) that may name a changed file: any environment may be reached.
    if (zone === undefined) return undefined;
    hot.add(zone);
  }
  // Fact 2: a walk enters a hot overlay only through a kustomization outside it that names it. One in
  // another overlay makes that overlay hot too (until nothing changes); a shared one could be walked
  // from anywhere.
  const checked = new Map<string, Set<string>>();
  for (let grew = true; grew;) {
    grew = false;
    for (const k of index.files) {
      const own = overlayOf(k);
      if (own !== undefined && hot.has(own)) continue;
      const seen = checked.get(k) ?? new Set<string>();
      checked.set(k, seen);
      for (const zone of hot) {
        if (seen.has(zone)) continue;
        seen.add(zone);
        if (!index.mayName(k, zone)) continue;
        if (own === undefined) return undefined;
        hot.add(own);
        grew = true;
        break;
      }
    }
  }
  return hot;
}

/**
 * Loads, in one batch, the kustomization files the walk of `tree` may read: those of the overlays the
 * proof leaves open and the shared ones, or all when it cannot narrow the walk (a commit's tree may have
 * left some unread: `gitTree`'s `known`). Files already loaded cost nothing.
 */
export async function prepareWalk(tree: TreeReader, index: KustomizationIndex | undefined, files: readonly string[]): Promise<void> {
  const listing = tree.listing?.();
  if (!listing) return;
  const zones = index ? candidateZones(index, files) : undefined;
  const walked = (path: string): boolean => {
    const zone = overlayOf(path);
    return !zones || zone === undefined || zones.has(zone);
  };
  // The walk reads only what the parsed memo does not know.
  await tree.prefetch(listing.files.filter((f) => isKustomizationFile(f) && walked(f) && !hasParsedKustomization(tree.blobId(f))));
}

/**
 * The environments of `tree` that `files` reach, exactly as `walkReached` finds them; with an `index`
 * of the tree, only the overlays the proof leaves open are walked.
 */
export function environmentsReached(tree: TreeReader | string, files: readonly string[], index?: KustomizationIndex): string[] {
  if (files.length === 0) return [];
  const zones = index ? candidateZones(index, files) : undefined;
  if (!zones) return walkReached(tree, files);
  const reached = reaches(tree, files);
  return listEnvironments(tree).filter((env) => zones.has(env) && reached(env));
}

/**
 * An index whose `mayName` is the walk's own answer: the segments of the file's references, parsed as the
 * walk parses them (render/inputs.ts `referenceSegments`, through the parsed memo). `bytes` spares the
 * parse: a file whose bytes hold neither the needle nor a `\\` (a double-quoted escape) cannot decode to
 * a reference spelling it — unless the needle has a space, a quote or a replacement character, which
 * line folding, quoting or decoding could produce, when the file is parsed (undefined bytes: parsed too).
 */
function indexOf(reader: TreeReader, files: readonly string[], bytes: (file: string) => Buffer | undefined): KustomizationIndex {
  const segmentsByFile = new Map<string, Set<string>>();
  const segmentsOf = (file: string): Set<string> => {
    let segs = segmentsByFile.get(file);
    if (!segs) segmentsByFile.set(file, (segs = referenceSegments(reader, file)));
    return segs;
  };
  return {
    files,
    mayName(file, needle) {
      const known = segmentsByFile.get(file);
      if (known) return known.has(needle);
      if (!/[\s'\uFFFD]/.test(needle)) {
        const b = bytes(file);
        if (b && !b.includes(needle) && !b.includes('\\')) return false;
      }
      return segmentsOf(file).has(needle);
    },
  };
}

/**
 * The index of a commit's tree (`gitTree`): its listing, and its kustomization files' bytes where they
 * are at hand: from `sameBytes` (a file the change left alone, read from the working tree) or loaded with
 * the tree; a file the parsed memo knows (not loaded) is judged by its parse. Undefined when the tree holds a
 * symbolic link or a submodule (a path could then resolve through it without spelling its target).
 */
export function commitIndex(tree: TreeReader, sameBytes?: (file: string) => Buffer | undefined): KustomizationIndex | undefined {
  const listing = tree.listing?.();
  if (!listing || !listing.plainFilesOnly) return undefined;
  return indexOf(tree, listing.files.filter(isKustomizationFile), (file) => sameBytes?.(file) ?? (tree.loaded?.(file) ? tree.read(file) : undefined));
}

/**
 * The index of the working tree, from the base commit's (`base`) and the files that differ from it:
 * the base's kustomization files, less the changed ones gone from disk, plus the changed ones on disk.
 * Undefined when a changed path is a symbolic link on disk. (A file git ignores is never a change; a
 * kustomization file it ignores is outside the proof, as it is outside every commit.)
 */
export function workingTreeIndex(root: string, base: KustomizationIndex | undefined, changed: readonly string[]): KustomizationIndex | undefined {
  if (!base) return undefined;
  const onDisk = new Map<string, boolean>();
  for (const f of changed) {
    let st;
    try {
      st = lstatSync(join(root, f));
    } catch {
      st = undefined;
    }
    if (st?.isSymbolicLink()) return undefined;
    onDisk.set(f, st?.isFile() ?? false);
  }
  const files = [...new Set([...base.files.filter((k) => onDisk.get(k) !== false), ...changed.filter((f) => isKustomizationFile(f) && onDisk.get(f))])].sort();
  return indexOf(fsTree(root), files, (file) => diskBytes(root, file));
}

/** A working-tree file's bytes, or undefined when it cannot be read. */
function diskBytes(root: string, file: string): Buffer | undefined {
  try {
    return readFileSync(join(root, file));
  } catch {
    return undefined;
  }
}

/**
 * The base commit's index when the head is the working tree: a kustomization file the change leaves alone
 * holds the same bytes on disk, read there; the changed ones from the commit.
 */
export function baseIndexAgainstWorkingTree(root: string, tree: TreeReader, changed: readonly string[]): KustomizationIndex | undefined {
  const set = new Set(changed);
  return commitIndex(tree, (file) => (set.has(file) ? undefined : diskBytes(root, file)));
}
