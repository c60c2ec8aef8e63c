// rotate-db-password <env>: a rotation is a commit. It raises `mongodb.passwordRotation` in
// overlays/<env>/env.yaml (comments kept) and regenerates; the counter reaches the environment's
// password Jobs (ROTATION) and the API's pod template (an annotation and the active user's connection
// Secret). When Argo CD syncs that commit, the PreSync Job gives the idle user a fresh password and waits
// until the operator has applied it, the API rolls onto that user, and the PostSync Job retires the old
// user's password (scripts/lib/generate/mongodb/password-hook.ts; docs/mongodb.md "Rotation without a failed request"). No command
// runs against the cluster and the password never leaves it.
import { applyEnvEdit } from './env-edit.ts';
import type { EnvEditResult } from './env-edit.ts';
import type { KustomizeTool } from '../render/kustomize.ts';
import { readRepoInputs } from '../inputs/index.ts';
import { UsageError } from '../core/errors.ts';
import { rotationOf } from '../generate/mongodb/password-hook.ts';

export const ROTATION_FIELD = ['mongodb', 'passwordRotation'];

export interface RotateOptions {
  root: string;
  env: string;
  commit: boolean;
  /** Renders the environment for the diff; without it, the diff is of the changed files. */
  kustomize?: KustomizeTool;
}

export interface RotateResult extends EnvEditResult {
  previous: number;
  rotation: number;
}

export async function rotateDbPassword(opts: RotateOptions): Promise<RotateResult> {
  const inputs = await readRepoInputs(opts.root);
  const target = inputs.envs[opts.env];
  if (!target) throw new UsageError(`unknown environment ${JSON.stringify(opts.env)}; known: ${Object.keys(inputs.envs).sort().join(', ')}`);
  const previous = rotationOf(target.spec);
  const rotation = previous + 1;
  const result = await applyEnvEdit({
    root: opts.root,
    command: 'rotate-db-password',
    inputs,
    env: opts.env,
    path: ROTATION_FIELD,
    value: rotation,
    labels: { before: `${opts.env} at password rotation ${previous}`, after: `${opts.env} at password rotation ${rotation}` },
    commit: opts.commit ? { subject: `rotate-db-password ${opts.env}: password rotation ${previous} → ${rotation}` } : undefined,
    kustomize: opts.kustomize,
  });
  return { ...result, previous, rotation };
}
