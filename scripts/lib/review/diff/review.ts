// review/diff/ owns comparing two renders for a person: the per-resource diff (diffRenders.ts), what
// changed in words (summary.ts), and the comment and page it is printed as (format.ts, html.ts).
//
// A review of two git states: which environments the changed files reach, both renders of those, and
// the per-resource diff. Commits are read straight from git objects to find what is reached and to
// look renders up in the content-addressed cache; an environment that must really be built gets a
// temporary detached worktree holding only its input files. The working tree is only ever read.
import { join, resolve } from 'node:path';
import { ARGOCD_APPS_DIR, envDir, envDotenvFile, envSpecFile, isKustomizationFile } from '../../core/layout.ts';
import type { KustomizeTool } from '../../render/kustomize.ts';
import { listEnvironments, saveParsedKustomizations } from '../../render/inputs.ts';
import { normalizeRender } from '../../render/normalize.ts';
import type { RenderedObject } from '../../render/normalize.ts';
import { canonicalObjects, RENDER_CACHE_DIR, renderEnvironments } from '../../render/render.ts';
import { rememberHeads } from '../../render/cache-key.ts';
import type { RenderedEnvironment } from '../../render/render.ts';
import { fsTree } from '../../render/tree.ts';
import type { TreeReader } from '../../render/tree.ts';
import { diffEnvironment } from './diffRenders.ts';
import type { CommitInfo, DiffReport } from './format.ts';
import { git, withCommitFiles } from './git.ts';
import { startReview } from './start.ts';
import type { RefsSource, StartedReview } from './start.ts';
import { summarizeEnvironment } from './summary.ts';
import { baseIndexAgainstWorkingTree, commitIndex, environmentsReached, prepareWalk, workingTreeIndex } from './reach.ts';
import type { EnvironmentSources } from './summary.ts';
import type { Finding } from '../validate/validate.ts';

export type { RefsSource } from './start.ts';

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
  /** The git reads, already started (start.ts) for this source; default: started here. */
  started?: StartedReview;
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
  const started = options.started ?? (await startReview(root, source, cacheDir));
  const { baseCommit, headCommit } = started;
  const [{ files, dirty }, [baseInfo, headInfo]] = await Promise.all([started.changes, started.infos]);
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
  /** Resolves once the side's early builds are running (Kustomize spawned) or need none (cached, failed). */
  const startEarly = (side: Side, index: number): Promise<unknown> => {
    if (!cacheDir) return Promise.resolve();
    const touched = listEnvironments(side.tree).filter((env) => files.some((f) => f.startsWith(`${envDir(env)}/`)));
    if (touched.length === 0 || touched.length > EARLY_LIMIT) return Promise.resolve();
    let running!: () => void;
    const spawned = new Promise<void>((resolve) => (running = resolve));
    const tool: KustomizeTool = { ...kustomize, build: (dir, rel) => { const build = kustomize.build(dir, rel); running(); return build; } };
    // A quiet failure: the render below builds the environment again and reports the error itself.
    const rendered = renderSide(root, side, touched, tool, cacheDir, false, onSide(index)).catch(() => []);
    // Each render's canonical form is made (and cached) as soon as it is built, while the other side's
    // build runs: the diff below then reads it back.
    early.push(rendered.then((rs) => rs.forEach((r) => canonicalObjects(r))).catch(() => undefined));
    return Promise.race([spawned, rendered]);
  };
  const headFs = headCommit === undefined ? fsTree(root) : undefined;
  if (headFs) startEarly({ tree: headFs, commit: undefined }, 1);
  const [baseTree, headTree] = await Promise.all([started.baseTree, headFs ?? started.headTree!]);
  // The base's build (the longer path: it first writes its files out) is spawned before the reach is
  // worked out, so Kustomize does not wait for it.
  await Promise.all([startEarly({ tree: baseTree, commit: baseCommit }, 0), headFs ? undefined : startEarly({ tree: headTree, commit: headCommit }, 1)]);
  // A file may be referenced on one side only (added or dropped from a kustomization): use both.
  // An environment's Argo CD Application is part of what it deploys (its sync policy, its revision).
  const applicationChanged = (tree: TreeReader) => listEnvironments(tree).filter((env) => files.includes(envApplicationFile(env)));
  // Each side walks only the overlays the change can reach (reach.ts); the working tree's index is the
  // base commit's with the changed files applied. The changed kustomization files are read from the base
  // commit in one batch (its tree may have left them unread).
  await baseTree.prefetch(files.filter(isKustomizationFile));
  const baseIndex = headFs ? baseIndexAgainstWorkingTree(root, baseTree, files) : commitIndex(baseTree);
  const headIndex = headFs ? workingTreeIndex(root, baseIndex, files) : commitIndex(headTree);
  await Promise.all([prepareWalk(baseTree, baseIndex, files), prepareWalk(headTree, headIndex, files)]);
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
  // What the next review needs to tell, before it walks anything, that these renders are cached (diff.ts).
  if (headFs && cacheDir) rememberHeads(cacheDir, headRenders.map((r) => ({ dir: envDir(r.env), inputs: r.inputs, cacheKey: r.cacheKey })));
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
