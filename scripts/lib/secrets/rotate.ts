// rotate-db-password <env>: a rotation is a commit. It raises `mongodb.passwordRotation` in
// overlays/<env>/env.yaml (comments kept) and regenerates; the counter reaches the environment's
// PreSync password hook (ROTATION) and the API's pod template (an annotation). When Argo CD syncs that
// commit, the hook replaces the password, waits until the operator has applied it (the operator
// rewrites the connection-string Secret only then), and the API then rolls with the new connection
// string (scripts/lib/secrets/hook.ts; docs/cluster.md "Rotate the database password"). No command
// runs against the cluster and the password never leaves it.
import { applyEnvEdit } from '../env-edit.ts';
import type { EnvEditResult } from '../env-edit.ts';
import type { KustomizeTool } from '../kustomize.ts';
import { readRepoInputs } from '../repo-inputs.ts';
import { UsageError } from '../errors.ts';
import { rotationOf } from './hook.ts';

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
