// promote <from> <to>: the image tag running in one environment becomes the target's. Edits one
// field of overlays/<to>/env.yaml (comments kept), regenerates, shows what the cluster will get
// (the rendered diff of the target overlay), and with --commit records it in git with that diff.
import { applyEnvEdit } from '../env-edit.ts';
import type { EnvEditResult } from '../env-edit.ts';
import { UsageError } from '../errors.ts';
import { envArguments, readRepoInputs } from '../repo-inputs.ts';
import type { KustomizeTool } from '../kustomize.ts';

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

export interface PromoteResult extends EnvEditResult {
  changed: boolean;
  tag: string;
  previousTag: string;
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

  // One edit flow for env.yaml changes (scripts/lib/env-edit.ts): validate as generate would, then under
  // the lock regenerate, write, render before/after and, with --commit, commit exactly those files.
  const result = await applyEnvEdit({
    root,
    command: 'promote',
    inputs,
    env: to,
    path: ['tag'],
    value: tag,
    labels: { before: `${to} at ${previousTag}`, after: `${to} at ${tag}` },
    commit: opts.commit ? { subject: `promote ${from ?? PROMOTE_FROM_RELEASE} → ${to}: users-api ${previousTag} → ${tag}` } : undefined,
    kustomize: opts.kustomize,
  });
  return { changed: true, tag, previousTag, ...result };
}
