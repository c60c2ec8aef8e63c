// restore <env> --from <archive> [--overwrite]: a restore is a commit. It writes the request into
// overlays/<env>/env.yaml (`mongodb.restore`, comments kept), regenerates (the Job of
// scripts/lib/inputs/restore.ts) and returns the rendered diff: what is restored where. No cluster access.
import { applyEnvEdit } from './env-edit.ts';
import type { EnvEditResult } from './env-edit.ts';
import type { KustomizeTool } from '../render/kustomize.ts';
import { readRepoInputs } from '../inputs/index.ts';
import { InputError, UsageError } from '../core/errors.ts';
import { isProtectedEnv } from '../inputs/rules.ts';
import { envSpecFile } from '../core/layout.ts';
import { restoreJobName, restoreProblems, restoreRequest, type RestoreSpec } from '../inputs/restore.ts';

export interface RestoreOptions {
  root: string;
  env: string;
  from: string;
  overwrite: boolean;
  commit: boolean;
  kustomize?: KustomizeTool;
}

export interface RestoreResult extends EnvEditResult {
  request: RestoreSpec;
  job: string;
}

export async function requestRestore(opts: RestoreOptions): Promise<RestoreResult> {
  const inputs = await readRepoInputs(opts.root);
  const target = inputs.envs[opts.env];
  if (!target) throw new UsageError(`unknown environment ${JSON.stringify(opts.env)}; known: ${Object.keys(inputs.envs).sort().join(', ')}`);
  const request = restoreRequest(opts.env, target.spec, opts.from, opts.overwrite);
  // Checked before anything is written: the restore reads the archive from the backup volume.
  const problems = restoreProblems(envSpecFile(opts.env), { ...target.spec, mongodb: { ...target.spec.mongodb, restore: request } }, isProtectedEnv(inputs.settings, opts.env));
  if (problems.length > 0) throw new InputError(problems);
  const where = `${target.spec.namespace}/users${request.overwrite ? ', overwriting' : ''}`;
  const result = await applyEnvEdit({
    root: opts.root,
    command: 'restore',
    inputs,
    env: opts.env,
    path: ['mongodb', 'restore'],
    value: request,
    labels: { before: `${opts.env} before the restore request`, after: `${opts.env} restoring ${request.from} into ${where}` },
    commit: opts.commit ? { subject: `restore ${opts.env}: ${request.from} → ${where} (request ${request.request})` } : undefined,
    kustomize: opts.kustomize,
  });
  return { ...result, request, job: restoreJobName(request.request) };
}
