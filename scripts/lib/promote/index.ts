// promote <from> <to>: the image tag running in one environment becomes the target's. Edits one
// field of overlays/<to>/env.yaml (comments kept), regenerates, shows what the cluster will get
// (the rendered diff of the target overlay), and with --commit records it in git with that diff.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { withRepoLock, writeFilesAtomically } from '../atomic.ts';
import type { FileChanges } from '../atomic.ts';
import { setEnvSpecField } from '../envspec.ts';
import { ConflictError, InputError, UsageError } from '../errors.ts';
import { envDir, envSpecFile, GENERATED_PATHS } from '../layout.ts';
import { readInputText } from '../input-file.ts';
import { generateRepo, plannedChanges } from '../generate/index.ts';
import { envArguments, loadEnv, readRepoInputs } from '../repo-inputs.ts';
import type { KustomizeTool } from '../kustomize.ts';
import { diffEnvironment } from '../diff/diffRenders.ts';
import { formatText } from '../diff/format.ts';
import { normalizeRender } from '../render/normalize.ts';
import { git } from '../diff/git.ts';

export interface PromoteOptions {
  root: string;
  /** The environment whose tag is promoted; undefined promotes `tag` from a release build (e.g. dev follows main). */
  from?: string;
  to: string;
  /** Promote this tag instead of the one `from` runs (required without `from`). */
  tag?: string;
  commit: boolean;
  /** Renders the target overlay for the diff; without it, the diff is of the changed files. */
  kustomize?: KustomizeTool;
  log: (text: string) => void;
}

export interface PromoteResult {
  changed: boolean;
  tag: string;
  previousTag: string;
  files: string[];
  /** 'rendered': kustomize output of overlays/<to> before/after; 'files': unified diff of the changed files. */
  diffSource: 'rendered' | 'files';
  diff: string;
  commit?: string;
}

function filesDiff(root: string, changes: FileChanges): string {
  return Object.keys(changes)
    .sort()
    .map((rel) => {
      const abs = join(root, rel);
      const before = existsSync(abs) ? readFileSync(abs, 'utf8') : '';
      return createTwoFilesPatch(`a/${rel}`, `b/${rel}`, before, changes[rel] ?? '', undefined, undefined, { context: 3 }).replace(/^=+\n/, '');
    })
    .join('');
}

async function gitOut(root: string, args: string[]): Promise<string> {
  const r = await git(root, args);
  if (r.code !== 0) throw new ConflictError(`git ${args[0]} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The source named in the commit subject when a tag comes from a release build rather than an environment. */
export const PROMOTE_FROM_RELEASE = 'release';

export async function promote(opts: PromoteOptions): Promise<PromoteResult> {
  const { root, from, to } = opts;
  envArguments(root, from === undefined ? [to] : [from, to], { mustExist: true });
  const inputs = await readRepoInputs(root);
  const known = Object.keys(inputs.envs).sort();
  for (const env of from === undefined ? [to] : [from, to]) {
    if (!inputs.envs[env]) throw new UsageError(`unknown environment ${JSON.stringify(env)}; known: ${known.join(', ')}`);
  }
  if (from === to) throw new UsageError(`cannot promote ${from} to itself: name two different environments`);
  if (from === undefined && opts.tag === undefined) throw new UsageError(`name the environment to promote from, or the tag to set with --tag`);
  const source = from === undefined ? undefined : inputs.envs[from]!;
  const target = inputs.envs[to]!;
  const tag = opts.tag ?? source!.spec.tag;
  const previousTag = target.spec.tag;
  if (source && opts.tag !== undefined && opts.tag !== source.spec.tag) {
    opts.log(`note: ${from} runs ${source.spec.tag}; promoting the tag given with --tag, ${tag}`);
  }
  if (tag === previousTag) {
    opts.log(`nothing to promote: ${to} already runs ${tag}`);
    return { changed: false, tag, previousTag, files: [], diffSource: 'files', diff: '' };
  }

  // Validate the edited env.yaml exactly as generate would, before anything is written.
  const specFile = envSpecFile(to);
  const newSpecText = setEnvSpecField(target.specText ?? readInputText(root, specFile), ['tag'], tag);
  const checked = loadEnv(to, newSpecText, target.dotenv);
  if (checked.problems.length > 0 || !checked.spec) throw new InputError(checked.problems);

  if (opts.commit) {
    const dirty = (await gitOut(root, ['status', '--porcelain', '--', envDir(to)])).trim();
    if (dirty) throw new ConflictError(`${envDir(to)} has uncommitted changes; commit or discard them first, so the promotion commit holds only the promotion\n${dirty}`);
  }

  return withRepoLock(root, 'promote', async () => {
    const files = generateRepo({ ...inputs, envs: { ...inputs.envs, [to]: { spec: checked.spec!, dotenv: target.dotenv } } });
    const changes: FileChanges = { ...plannedChanges(root, files), [specFile]: newSpecText };
    const paths = Object.keys(changes).sort();

    let diffSource: PromoteResult['diffSource'] = 'files';
    let diff: string;
    let before: string | undefined;
    if (opts.kustomize) before = await opts.kustomize.build(root, envDir(to));
    else diff = filesDiff(root, changes);
    writeFilesAtomically(root, changes, [...GENERATED_PATHS, specFile]);
    if (opts.kustomize && before !== undefined) {
      const after = await opts.kustomize.build(root, envDir(to));
      const envDiff = diffEnvironment(to, normalizeRender(before), normalizeRender(after));
      diff = formatText({ base: `${to} at ${previousTag}`, head: `${to} at ${tag}`, reached: [to], envs: envDiff ? [envDiff] : [] });
      diffSource = 'rendered';
    }
    let commit: string | undefined;
    if (opts.commit) {
      const message = `promote ${from ?? PROMOTE_FROM_RELEASE} → ${to}: users-api ${previousTag} → ${tag}\n\n${diffSource === 'rendered' ? 'Rendered diff' : 'Diff of the changed files'}:\n\n${diff!}`;
      await gitOut(root, ['add', '-A', '--', ...paths]);
      await gitOut(root, ['commit', '--quiet', '--cleanup=verbatim', '-m', message, '--', ...paths]);
      commit = (await gitOut(root, ['rev-parse', 'HEAD'])).trim();
    }
    return { changed: true, tag, previousTag, files: paths, diffSource, diff: diff!, commit };
  });
}
