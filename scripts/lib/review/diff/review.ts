// review/diff/ owns comparing two renders for a person: the per-resource diff (diffRenders.ts), what
// changed in words (summary.ts), and the comment and page it is printed as (format.ts, html.ts).
//
// A review of two git states: which environments the changed files reach, both renders of those, and
// the per-resource diff. Commits are read straight from git objects to find what is reached and to
// look renders up in the content-addressed cache; an environment that must really be built gets a
// temporary detached worktree holding only its input files. The working tree is only ever read.
import { join, resolve } from 'node:path';
import { ARGOCD_APPS_DIR, envDir, envDotenvFile, envSpecFile } from '../../core/layout.ts';
import type { KustomizeTool } from '../../render/kustomize.ts';
import { hasParsedKustomization, listEnvironments, loadParsedKustomizations, saveParsedKustomizations } from '../../render/inputs.ts';
import { normalizeRender } from '../../render/normalize.ts';
import type { RenderedObject } from '../../render/normalize.ts';
import { canonicalObjects, RENDER_CACHE_DIR, renderEnvironments } from '../../render/render.ts';
import type { RenderedEnvironment } from '../../render/render.ts';
import { fsTree, gitTree } from '../../render/tree.ts';
import type { TreeReader } from '../../render/tree.ts';
import { diffEnvironment } from './diffRenders.ts';
import type { CommitInfo, DiffReport } from './format.ts';
import { changedFiles, git, resolveCommit, withCommitFiles, workingTreeChanges } from './git.ts';
import { summarizeEnvironment } from './summary.ts';
import { commitIndex, environmentsReached, workingTreeIndex } from './reach.ts';
import type { EnvironmentSources } from './summary.ts';
import type { Finding } from '../validate/validate.ts';

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
  /** Renders done / to do (Kustomize runs only, cache hits excluded), for a progress line. */
  onProgress?: (done: number, total: number) => void;
  /** Build many overlays per Kustomize run (default true); false: one build per environment. */
  batch?: boolean;
  /** Policy findings of the head renders (the HTML page shows them beside their resource). */
  check?: (root: string, head: RenderedEnvironment[]) => Promise<Finding[]>;
}

/** The Argo CD Application file of an environment (scripts/lib/generate/index.ts writes it). */
export const envApplicationFile = (env: string): string => `${ARGOCD_APPS_DIR}/${env}.yaml`;

function applicationObjects(tree: TreeReader, env: string): RenderedObject[] {
  const file = envApplicationFile(env);
  return tree.isFile(file) ? normalizeRender(tree.read(file).toString('utf8')) : [];
}

function readText(tree: TreeReader, file: string): string | undefined {
  return tree.isFile(file) ? tree.read(file).toString('utf8') : undefined;
}

function sourcesOf(env: string, head: TreeReader, base: TreeReader): EnvironmentSources {
  const spec = readText(head, envSpecFile(env)) ?? readText(base, envSpecFile(env));
  const dotenv = readText(head, envDotenvFile(env)) ?? readText(base, envDotenvFile(env));
  return { ...(spec !== undefined ? { envYaml: spec } : {}), ...(dotenv !== undefined ? { dotenv } : {}) };
}

/** Short SHA and subject of a commit, for headers. */
export async function commitInfo(root: string, ref: string, commit: string): Promise<CommitInfo> {
  const r = await git(root, ['log', '-1', '--format=%h%x00%s', commit]);
  const [sha, subject] = r.stdout.trim().split('\0');
  return { ref, sha: sha ?? commit.slice(0, 7), subject: subject ?? '' };
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

/** Early builds only for a change this small (a review of many environments batches its builds). */
const EARLY_LIMIT = 2;

interface Side {
  tree: TreeReader;
  /** Undefined for the working tree. */
  commit: string | undefined;
}

async function renderSide(root: string, side: Side, reached: readonly string[], kustomize: KustomizeTool, cacheDir: string | null, batch: boolean, onProgress?: (done: number, total: number) => void): Promise<RenderedEnvironment[]> {
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
    batch,
    checkout: commit === undefined ? undefined : (files, build) => withCommitFiles(root, side.tree, commit, build, files),
    ...(onProgress ? { onProgress } : {}),
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
  // The base commit's tree is listed while the changed files are found (it needs only the commit).
  // The parsed-kustomization memo first: a commit's tree then reads none of the kustomization files it
  // already holds (after the first run, usually none at all: no blob batch for the base).
  if (cacheDir) loadParsedKustomizations(cacheDir);
  const baseTreeP = gitTree(root, baseCommit, { known: hasParsedKustomization });
  baseTreeP.catch(() => undefined);
  const [{ files, dirty }, [baseInfo, headInfo]] = await Promise.all([
    headCommit === undefined ? workingTreeChanges(root, baseCommit) : changedFiles(root, baseCommit, headCommit).then((f) => ({ files: f, dirty: false })),
    commitInfos(root, { ref: source.base, commit: baseCommit }, { ref: source.head ?? 'HEAD', commit: headCommit ?? 'HEAD' }),
  ]);
  // The header names what was compared: the working tree only when it differs from HEAD; a clean
  // working tree is HEAD itself (issue 24: it said "uncommitted changes" with none).
  const report: DiffReport = {
    base: source.base,
    head: source.head ?? (dirty ? 'working tree' : 'HEAD'),
    baseCommit: baseInfo,
    headCommit: dirty ? { ...headInfo, ref: 'working tree', workingTree: true } : headInfo,
    ...(kustomize.version ? { kustomize: `${kustomize.name} ${kustomize.version}` } : {}),
    reached: [],
    envs: [],
  };
  if (files.length === 0) return report;

  // An environment whose own overlay directory holds a changed file is reached whatever the rest of the
  // repository says: its builds start now, into the render cache, while the other environments' input
  // sets are read (the builds are the critical path, and each runs on a core of its own). The full
  // render below then finds them cached. Without a cache there is nothing to hand over: no early start.
  // Builds done / to do over both sides, for the progress line: the early builds count as well (a later
  // render that finds everything cached has nothing to add and leaves the count as it is).
  const progress = [{ done: 0, total: 0 }, { done: 0, total: 0 }];
  const onSide = (i: number) => (options.onProgress ? (done: number, total: number) => {
    if (total === 0) return;
    progress[i] = { done, total };
    options.onProgress!(progress[0]!.done + progress[1]!.done, progress[0]!.total + progress[1]!.total);
  } : undefined);
  const early: Array<Promise<unknown>> = [];
  const startEarly = (side: Side, index: number): void => {
    if (!cacheDir) return;
    const touched = listEnvironments(side.tree).filter((env) => files.some((f) => f.startsWith(`${envDir(env)}/`)));
    // A quiet failure: the render below builds the environment again and reports the error itself.
    // Each render's canonical form is made (and cached) as soon as it is built, while the other side's
    // build runs: the diff below then reads it back.
    if (touched.length > 0 && touched.length <= EARLY_LIMIT) {
      early.push(renderSide(root, side, touched, kustomize, cacheDir, false, onSide(index)).then((rs) => rs.forEach((r) => canonicalObjects(r))).catch(() => undefined));
    }
  };
  const headFs = headCommit === undefined ? fsTree(root) : undefined;
  if (headFs) startEarly({ tree: headFs, commit: undefined }, 1);
  const [baseTree, headTree] = await Promise.all([
    baseTreeP,
    headFs ?? gitTree(root, headCommit!, { known: hasParsedKustomization }),
  ]);
  startEarly({ tree: baseTree, commit: baseCommit }, 0);
  if (!headFs) startEarly({ tree: headTree, commit: headCommit }, 1);
  // A file may be referenced on one side only (added or dropped from a kustomization): use both.
  // An environment's Argo CD Application is part of what it deploys (its sync policy, its revision).
  const applicationChanged = (tree: TreeReader) => listEnvironments(tree).filter((env) => files.includes(envApplicationFile(env)));
  // Each side walks only the overlays the change can reach (reach.ts); the working tree's index is the
  // base commit's with the changed files applied.
  const baseIndex = commitIndex(baseTree);
  const headIndex = headFs ? workingTreeIndex(root, baseIndex, files) : commitIndex(headTree);
  const reached = [...new Set([
    ...environmentsReached(baseTree, files, baseIndex), ...environmentsReached(headTree, files, headIndex),
    ...applicationChanged(baseTree), ...applicationChanged(headTree),
  ])].sort();
  report.reached = reached;
  if (cacheDir) saveParsedKustomizations(cacheDir);
  await Promise.all(early);
  if (reached.length === 0) return report;

  // allSettled: when one side fails, the other still finishes and removes its worktree before we throw.
  // The few files read after the renders, in one batch per commit (a commit's tree loads blobs on
  // demand), read while Kustomize runs: the builds are the critical path (issue 24).
  const perEnv = reached.flatMap((env) => [envApplicationFile(env), envSpecFile(env), envDotenvFile(env)]);
  const sides = await Promise.allSettled([
    renderSide(root, { tree: baseTree, commit: baseCommit }, reached, kustomize, cacheDir, options.batch !== false, onSide(0)),
    renderSide(root, { tree: headTree, commit: headCommit }, reached, kustomize, cacheDir, options.batch !== false, onSide(1)),
    baseTree.prefetch(perEnv),
    headTree.prefetch(perEnv),
  ]);
  const failed = sides.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  const [baseRenders, headRenders] = sides.slice(0, 2).map((s) => (s as PromiseFulfilledResult<RenderedEnvironment[]>).value) as [RenderedEnvironment[], RenderedEnvironment[]];
  const withApp = (tree: TreeReader, r: RenderedEnvironment) => [...canonicalObjects(r), ...applicationObjects(tree, r.env)];
  const baseBy = new Map(baseRenders.map((r) => [r.env, withApp(baseTree, r)]));
  const headBy = new Map(headRenders.map((r) => [r.env, withApp(headTree, r)]));
  for (const env of reached) {
    const d = diffEnvironment(env, baseBy.get(env), headBy.get(env));
    if (d) report.envs.push({ ...d, summary: summarizeEnvironment(env, baseBy.get(env), headBy.get(env), sourcesOf(env, headTree, baseTree)) });
  }
  if (options.check && report.envs.length > 0) {
    const changed = new Set(report.envs.map((d) => d.env));
    report.findings = await options.check(root, headRenders.filter((r) => changed.has(r.env)));
  }
  return report;
}
