// A restore request as env.yaml carries it (`mongodb.restore: { from, overwrite, request }`, written by
// `zx scripts/restore.ts`): its schema, the archive names the backup CronJob writes, and the rule that a
// restore needs backups on a PVC. The Job it becomes, and why it is safe, is generate/mongodb/restore.ts.
import { InputError, UsageError, type Problem } from '../core/errors.ts';
import { MONGODB } from './spec.ts';
import type { EnvSpec } from './spec.ts';
import { resolveBackup } from './backup.ts';

export type { RestoreSpec } from './spec.ts';
import type { RestoreSpec } from './spec.ts';

/** What the backup CronJob writes: `<db>-<UTC yyyymmddThhmmssZ>.archive.gz`. */
export const ARCHIVE_PATTERN = new RegExp(`^${MONGODB.appDb}-\\d{8}T\\d{6}Z\\.archive\\.gz$`);
export const restoreSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'request'],
  description: 'A restore request written by `zx scripts/restore.ts` (docs/mongodb.md "Restore")',
  properties: {
    from: { type: 'string', pattern: ARCHIVE_PATTERN.source, description: 'Archive on the backup volume' },
    overwrite: { type: 'boolean', description: 'Restore over a non-empty database (drops its collections first)' },
    request: { type: 'integer', minimum: 1 },
  },
} as const;

export const restoreJobName = (request: number): string => `${MONGODB.resourceName}-restore-${request}`;

/** A restore needs backups on a PVC (where the archives are). */
export function restoreProblems(file: string, env: EnvSpec, isProtected: boolean): Problem[] {
  const r = env.mongodb.restore as RestoreSpec | undefined;
  if (!r) return [];
  const backup = resolveBackup(env.mongodb.backup, { protected: isProtected, storageClass: env.mongodb.storage.className });
  if (!backup.enabled || !('pvc' in backup.target)) {
    return [{ file, path: '/mongodb/restore', message: 'a restore reads the archive from the backup volume, and this environment has no backups on a PVC', fix: 'turn on mongodb.backup with the default PVC target, or copy the archive onto such a volume first' }];
  }
  return [];
}

/** The request `restore.ts` writes: validated before anything is written. */
export function restoreRequest(env: string, spec: EnvSpec, from: string, overwrite: boolean): RestoreSpec {
  if (!ARCHIVE_PATTERN.test(from)) {
    throw new InputError([{ file: `--from`, message: `"${from}" is not an archive name the backup CronJob writes`, fix: `name one like ${MONGODB.appDb}-20261204T030000Z.archive.gz (kubectl -n ${spec.namespace} logs job/<backup job> prints it)` }]);
  }
  if (!env) throw new UsageError('an environment is required');
  const previous = (spec.mongodb.restore as RestoreSpec | undefined)?.request ?? 0;
  return { from, ...(overwrite ? { overwrite: true } : {}), request: previous + 1 };
}
