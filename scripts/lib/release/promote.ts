// release/ owns changes the toolkit makes for you and the road to production: promote (here), rotate and
// restore requests (all through env-edit.ts), registry digests and signatures, tags, previews, history.
//
// promote <from> <to>: the image tag running in one environment becomes the target's. Edits one
// field of overlays/<to>/env.yaml (comments kept), regenerates, shows what the cluster will get
// (the rendered diff of the target overlay), and with --commit records it in git with that diff.
import { applyEnvEdit } from './env-edit.ts';
import type { EnvEditResult } from './env-edit.ts';
import { UsageError } from '../core/errors.ts';
import { isProtectedEnv } from '../inputs/rules.ts';
import { IMAGE_TAG_PATTERN } from './tags.ts';
import { envArguments, readRepoInputs } from '../inputs/index.ts';
import type { KustomizeTool } from '../render/kustomize.ts';

export interface PromoteOptions {
  root: string;
  /** The environment whose tag is promoted; undefined promotes `tag` from a release build (e.g. dev follows main). */
  from?: string;
  to: string;
  /** Promote this tag instead of the one `from` runs (required without `from`). */
  tag?: string;
  commit: boolean;
  /** The digest to pin beside the tag (sha256:<64 hex>), already resolved (and, for --pr/--publish, verified). */
  digest?: string;
  /** Resolves the tag's digest in the registry when neither `digest` nor the source environment gives it. */
  resolveDigest?: (tag: string) => Promise<string>;
  /** Renders the target overlay for the diff; without it, the diff is of the changed files. */
  kustomize?: KustomizeTool;
  log: (text: string) => void;
}

export interface PromoteResult extends EnvEditResult {
  changed: boolean;
  tag: string;
  previousTag: string;
  digest?: string;
  previousDigest?: string;
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
  const previousDigest = target.spec.digest;
  // The digest goes with the tag: the one given, the one the source environment pins for this very tag,
  // or the registry's answer now. A tag that names another digest than an environment pins for it was
  // pushed again since: refused, since what would run is then not what was verified.
  // A tag the schema refuses is reported by the edit below, naming the file: nothing to ask the registry.
  const tagValid = IMAGE_TAG_PATTERN.test(tag) && tag !== 'latest';
  let digest = opts.digest;
  if (digest === undefined && source?.spec.tag === tag) digest = source.spec.digest;
  if (digest === undefined && tag === previousTag) digest = previousDigest;
  if (digest === undefined && opts.resolveDigest && tagValid) digest = await opts.resolveDigest(tag);
  for (const [env, spec] of [[from, source?.spec], [to, target.spec]] as const) {
    if (env !== undefined && spec?.tag === tag && spec.digest !== undefined && digest !== undefined && spec.digest !== digest) {
      throw new UsageError(`refusing to promote ${tag}: ${env} pins it as ${spec.digest}, but it now names ${digest}, so the tag was pushed again after it was verified. Promote a new build (a new tag), or if this is intended, edit overlays/${to}/env.yaml by hand and review it`);
    }
  }
  if (digest === undefined && tagValid && inputs.settings && isProtectedEnv(inputs.settings, to)) {
    throw new UsageError(`${to} is protected (gitops.yaml protected): it runs an image pinned by digest, and no digest is known for ${tag}. Pass --digest sha256:<64 hex>, or let promote ask the registry (reachable network; REGISTRY_USERNAME/REGISTRY_PASSWORD for a private image)`);
  }
  if (tag === previousTag && digest === previousDigest) {
    opts.log(`nothing to promote: ${to} already runs ${tag}${digest ? `@${digest}` : ''}`);
    return { changed: false, tag, previousTag, digest, previousDigest, files: [], diffSource: 'files', diff: '' };
  }

  // One edit flow for env.yaml changes (scripts/lib/release/env-edit.ts): validate as generate would, then under
  // the lock regenerate, write, render before/after and, with --commit, commit exactly those files.
  const result = await applyEnvEdit({
    root,
    command: 'promote',
    inputs,
    env: to,
    path: ['tag'],
    value: tag,
    // A new tag without a digest drops the old tag's digest: it names another image.
    also: [{ path: ['digest'], value: digest, after: 'tag' }],
    labels: { before: `${to} at ${previousTag}`, after: `${to} at ${tag}` },
    commit: opts.commit ? { subject: `promote ${from ?? PROMOTE_FROM_RELEASE} → ${to}: users-api ${previousTag} → ${tag}` } : undefined,
    kustomize: opts.kustomize,
  });
  return { changed: true, tag, previousTag, digest, previousDigest, ...result };
}
