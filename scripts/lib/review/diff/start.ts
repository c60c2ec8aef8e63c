// The git half of a review of two states, started first: resolving the refs, then in parallel the changed
// files, both commits' headers and the commits' trees (scripts/lib/render/tree.ts). diff.ts starts it
// before it looks up the remembered check and loads the review's modules, so git runs meanwhile (issue 24);
// reviewChanges starts it itself when it is not handed one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { headCached } from '../../render/cache-key.ts';
import { hasParsedKustomization, loadParsedKustomizations } from '../../render/inputs.ts';
import { withHeadStart } from '../../render/kustomize.ts';
import type { KustomizeTool } from '../../render/kustomize.ts';
import { gitTree } from '../../render/tree.ts';
import { envDir, KUSTOMIZATION_NAMES, overlayOf } from '../../core/layout.ts';
import type { TreeReader } from '../../render/tree.ts';
import type { CommitInfo } from './format.ts';
import { changedFiles, git, resolveCommit, workingTreeChanges } from './git.ts';

/**
 * What to compare. Only git refs today; a live-cluster source (`--live <env>`) is a second member of
 * this union, handled by its own branch in the CLI, so the ref-based path does not change.
 */
export interface RefsSource {
  kind: 'refs';
  /** A ref; resolved to a commit. */
  base: string;
  /** A ref, or undefined for the working tree. */
  head: string | undefined;
}

export interface StartedReview {
  source: RefsSource;
  baseCommit: string;
  /** Undefined: the working tree. */
  headCommit: string | undefined;
  /** The files that differ, and (working tree) whether it differs from HEAD at all. */
  changes: Promise<{ files: string[]; dirty: boolean }>;
  infos: Promise<[CommitInfo, CommitInfo]>;
  baseTree: Promise<TreeReader>;
  /** Undefined for the working tree (read from disk). */
  headTree: Promise<TreeReader> | undefined;
}

/**
 * Both sides' headers in one git process: `base` is a full commit id; `head` a full commit id or
 * HEAD (the working tree's commit). `--no-walk=unsorted` prints the commits given, in order, once each.
 */
async function commitInfos(root: string, base: { ref: string; commit: string }, head: { ref: string; commit: string }): Promise<[CommitInfo, CommitInfo]> {
  const r = await git(root, ['log', '--no-walk=unsorted', '--format=%H%x00%h%x00%s', base.commit, head.commit, '--']);
  const lines = r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\0'));
  const info = (side: { ref: string; commit: string }, line: string[] | undefined): CommitInfo => ({ ref: side.ref, sha: line?.[1] ?? side.commit.slice(0, 7), subject: line?.[2] ?? '' });
  const baseLine = lines.find((l) => l[0] === base.commit);
  // The head is the other line, or the same commit (printed once) when both sides name it.
  const headLine = head.commit === base.commit ? baseLine : lines.find((l) => l[0] === head.commit) ?? lines.find((l) => l[0] !== base.commit) ?? baseLine;
  return [info(base, baseLine), info(head, headLine)];
}

/**
 * Resolves the refs (a ref that names no commit is a usage error), then starts every git read at once.
 * With the render cache's directory, the parsed-kustomization memo is loaded first: a commit's tree then
 * reads none of the kustomization files it already holds.
 */
export async function startReview(root: string, source: RefsSource, cacheDir: string | null): Promise<StartedReview> {
  if (cacheDir) loadParsedKustomizations(cacheDir);
  const [baseCommit, headCommit] = await Promise.all([
    resolveCommit(root, source.base),
    source.head === undefined ? undefined : resolveCommit(root, source.head),
  ]);
  const started: StartedReview = {
    source,
    baseCommit,
    headCommit,
    changes: headCommit === undefined ? workingTreeChanges(root, baseCommit) : changedFiles(root, baseCommit, headCommit).then((files) => ({ files, dirty: false })),
    infos: commitInfos(root, { ref: source.base, commit: baseCommit }, { ref: source.head ?? 'HEAD', commit: headCommit ?? 'HEAD' }),
    // Against the working tree, the reach proof reads the kustomization files the change leaves alone
    // from disk (same bytes): the base loads only the shared ones, which any walk reads.
    baseTree: gitTree(root, baseCommit, { known: headCommit === undefined ? (sha, path) => hasParsedKustomization(sha) || overlayOf(path) !== undefined : hasParsedKustomization }),
    headTree: headCommit === undefined ? undefined : gitTree(root, headCommit, { known: hasParsedKustomization }),
  };
  // Awaited by the review, or dropped when the tree had to be settled first: never an unhandled rejection.
  for (const p of [started.changes, started.infos, started.baseTree, started.headTree]) p?.catch(() => undefined);
  return started;
}

/** Touched by no more than this many overlays, a change's working-tree builds start before the check. */
const HEAD_START_LIMIT = 2;

/**
 * `tool` with the builds of the working tree's overlays that hold a changed file already running
 * (render/kustomize.ts `withHeadStart`): a review of the working tree spends most of its time in them.
 * Undefined when the head is a commit, when no overlay or more than HEAD_START_LIMIT are touched, or when
 * the last review left every touched overlay's render in the cache (render/cache-key.ts `headCached`).
 */
export async function startHeadBuilds(root: string, started: StartedReview, tool: KustomizeTool, cacheDir: string): Promise<KustomizeTool | undefined> {
  if (started.headCommit !== undefined) return undefined;
  const { files } = await started.changes.catch(() => ({ files: [] as string[] }));
  // overlays/<name>/…: the overlays holding a changed file that still have a kustomization on disk.
  const touched = [...new Set(files.map(overlayOf).filter((name) => name !== undefined))]
    .filter((name) => KUSTOMIZATION_NAMES.some((k) => existsSync(join(root, envDir(name), k))))
    .sort();
  if (touched.length === 0 || touched.length > HEAD_START_LIMIT) return undefined;
  const unbuilt = touched.filter((name) => !headCached(cacheDir, root, envDir(name), tool.identity));
  return unbuilt.length === 0 ? undefined : withHeadStart(tool, root, unbuilt.map(envDir));
}
