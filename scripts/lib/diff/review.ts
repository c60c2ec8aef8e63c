// A review of two git states: which environments the changed files reach, both renders of those, and
// the per-resource diff. Commits are read straight from git objects to find what is reached and to
// look renders up in the content-addressed cache; an environment that must really be built gets a
// temporary detached worktree holding only its input files. The working tree is only ever read.
import { join, resolve } from 'node:path';
import { envDir } from '../layout.ts';
import type { KustomizeTool } from '../kustomize.ts';
import { collectInputs, listEnvironments, loadParsedKustomizations, saveParsedKustomizations } from '../render/inputs.ts';
import { normalizeRender } from '../render/normalize.ts';
import { RENDER_CACHE_DIR, renderEnvironments } from '../render/render.ts';
import type { RenderedEnvironment } from '../render/render.ts';
import { fsTree, gitTree } from '../render/tree.ts';
import type { TreeReader } from '../render/tree.ts';
import { diffEnvironment } from './diffRenders.ts';
import type { DiffReport } from './format.ts';
import { changedFiles, resolveCommit, withWorktree } from './git.ts';

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

export interface ReviewOptions {
  root: string;
  source: RefsSource;
  kustomize: KustomizeTool;
  /** Default <root>/.cache/render; null disables the cache. */
  cacheDir?: string | null;
}

/** The environments of a tree whose input files include any of `files` (or whose overlay holds one). */
export function environmentsReached(tree: TreeReader | string, files: readonly string[]): string[] {
  if (files.length === 0) return [];
  const changed = new Set(files);
  return listEnvironments(tree).filter((env) => {
    if (files.some((f) => f.startsWith(`${envDir(env)}/`))) return true;
    return collectInputs(tree, envDir(env)).files.some((f) => changed.has(f));
  });
}

interface Side {
  tree: TreeReader;
  /** Undefined for the working tree. */
  commit: string | undefined;
}

async function renderSide(root: string, side: Side, reached: readonly string[], kustomize: KustomizeTool, cacheDir: string | null): Promise<RenderedEnvironment[]> {
  const present = new Set(listEnvironments(side.tree));
  const envs = reached.filter((e) => present.has(e));
  if (envs.length === 0) return [];
  const commit = side.commit;
  return renderEnvironments({
    root,
    tree: side.tree,
    envs,
    kustomize,
    cacheDir,
    checkout: commit === undefined ? undefined : (files, build) => withWorktree(root, commit, build, files),
  });
}

export async function reviewChanges(options: ReviewOptions): Promise<DiffReport> {
  const root = resolve(options.root);
  const { source, kustomize } = options;
  const cacheDir = options.cacheDir === undefined ? join(root, RENDER_CACHE_DIR) : options.cacheDir;
  const [baseCommit, headCommit] = await Promise.all([
    resolveCommit(root, source.base),
    source.head === undefined ? undefined : resolveCommit(root, source.head),
  ]);
  const files = await changedFiles(root, baseCommit, headCommit);
  const report: DiffReport = { base: source.base, head: source.head ?? 'working tree', reached: [], envs: [] };
  if (files.length === 0) return report;

  const [baseTree, headTree] = await Promise.all([
    gitTree(root, baseCommit),
    headCommit === undefined ? fsTree(root) : gitTree(root, headCommit),
  ]);
  if (cacheDir) loadParsedKustomizations(cacheDir);
  // A file may be referenced on one side only (added or dropped from a kustomization): use both.
  const reached = [...new Set([...environmentsReached(baseTree, files), ...environmentsReached(headTree, files)])].sort();
  report.reached = reached;
  if (cacheDir) saveParsedKustomizations(cacheDir);
  if (reached.length === 0) return report;

  // allSettled: when one side fails, the other still finishes and removes its worktree before we throw.
  const sides = await Promise.allSettled([
    renderSide(root, { tree: baseTree, commit: baseCommit }, reached, kustomize, cacheDir),
    renderSide(root, { tree: headTree, commit: headCommit }, reached, kustomize, cacheDir),
  ]);
  const failed = sides.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  const [baseRenders, headRenders] = sides.map((s) => (s as PromiseFulfilledResult<RenderedEnvironment[]>).value) as [RenderedEnvironment[], RenderedEnvironment[]];
  const baseBy = new Map(baseRenders.map((r) => [r.env, normalizeRender(r.yaml)]));
  const headBy = new Map(headRenders.map((r) => [r.env, normalizeRender(r.yaml)]));
  for (const env of reached) {
    const d = diffEnvironment(env, baseBy.get(env), headBy.get(env));
    if (d) report.envs.push(d);
  }
  return report;
}
