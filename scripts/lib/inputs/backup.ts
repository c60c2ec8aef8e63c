// Backups as env.yaml declares them (`mongodb.backup`): the schema, the cron and retention rules, the
// defaults (on for a protected environment, a PVC in the replica set's storage class) and the waiver of
// policy mongodb-backup. What runs, and as whom, is generate/mongodb/backup.ts (its header cites the tools).
import type { Problem } from '../core/errors.ts';
import { MONGODB } from './spec.ts';

export const BACKUP_POLICY = 'mongodb-backup';
export const BACKUP_NAME = `${MONGODB.resourceName}-backup`;
export const BACKUP_CRONJOB_FILE = 'backup-cronjob.yaml';
export const BACKUP_PVC_FILE = 'backup-pvc.yaml';
export type { BackupSpec, PvcTarget, S3Target } from './spec.ts';
import type { BackupSpec, PvcTarget, S3Target } from './spec.ts';

export const BACKUP_DEFAULTS = { schedule: '0 3 * * *', retentionDays: 7, pvcSize: '5Gi' } as const;

/** JSON Schema of `mongodb.backup` (env.yaml, and gitops.yaml defaults). */
export const backupSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Backups of the database (docs/mongodb.md "Backups"); absent: on with defaults for a protected environment, off otherwise',
  properties: {
    enabled: { type: 'boolean' },
    schedule: { type: 'string', minLength: 1, description: 'Kubernetes CronJob schedule, e.g. "0 3 * * *"' },
    retentionDays: { type: 'integer', minimum: 1, description: 'Archives older than this are deleted' },
    target: {
      oneOf: [
        {
          type: 'object', additionalProperties: false, required: ['pvc'],
          properties: { pvc: { type: 'object', additionalProperties: false, required: ['size'], properties: { size: { type: 'string', pattern: '^[0-9]+(Mi|Gi|Ti)$' }, className: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' } } } },
        },
        {
          type: 'object', additionalProperties: false, required: ['s3'],
          properties: {
            s3: {
              type: 'object', additionalProperties: false, required: ['endpoint', 'bucket', 'credentialsSecret'],
              properties: {
                endpoint: { type: 'string', pattern: '^https://[^\\s/@]+(/[^\\s@]*)?$' },
                bucket: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' },
                prefix: { type: 'string', pattern: '^[A-Za-z0-9._/-]*$' },
                region: { type: 'string', pattern: '^[a-z0-9-]+$' },
                credentialsSecret: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', description: 'Secret with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, created in the namespace by hand (never in git)' },
              },
            },
          },
        },
      ],
    },
    waiver: { type: 'string', minLength: 10, description: 'Why this protected environment has no backups (waives policy mongodb-backup)' },
  },
} as const;

// ---- cron syntax (Kubernetes CronJob: kubernetes/website content/en/docs/concepts/workloads/controllers/cron-jobs.md,
// "Schedule syntax": minute hour day-of-month month day-of-week, `*`, ranges, lists, `/` steps, and the
// macros @yearly @annually @monthly @weekly @daily @midnight @hourly) ----

const CRON_FIELDS: Array<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];
const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Undefined when `schedule` is a valid CronJob schedule, else what is wrong. */
export function cronProblem(schedule: string): string | undefined {
  const s = schedule.trim();
  if (CRON_MACROS.has(s)) return undefined;
  if (/^(CRON_)?TZ=/.test(s)) return 'a time zone inside the schedule is not supported by Kubernetes; use the CronJob field timeZone';
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return `${fields.length} fields; a schedule has 5 (minute hour day-of-month month day-of-week) or is a macro like @daily`;
  for (const [i, field] of fields.entries()) {
    const spec = CRON_FIELDS[i]!;
    const value = (v: string): number | undefined => {
      if (/^\d+$/.test(v)) return Number(v);
      const n = spec.names?.indexOf(v.toLowerCase()) ?? -1;
      return n >= 0 ? n + (spec.min === 1 ? 1 : 0) : undefined;
    };
    for (const part of field.split(',')) {
      const m = /^(\*|\?|([^-/]+)(?:-([^/]+))?)(?:\/(\d+))?$/.exec(part);
      if (!m) return `${spec.name} "${field}" is not a number, range, list or step`;
      if (m[4] !== undefined && Number(m[4]) < 1) return `${spec.name} step must be at least 1`;
      if (m[1] === '*' || m[1] === '?') continue;
      const lo = value(m[2]!);
      const hi = m[3] === undefined ? lo : value(m[3]);
      if (lo === undefined || hi === undefined) return `${spec.name} "${part}" is not a number${spec.names ? ' or name' : ''}`;
      if (lo < spec.min || hi > spec.max || lo > hi) return `${spec.name} "${part}" is outside ${spec.min}-${spec.max}`;
    }
  }
  return undefined;
}

// ---- the environment's backup settings ----

export interface ResolvedBackup {
  enabled: boolean;
  schedule: string;
  retentionDays: number;
  target: PvcTarget | S3Target;
  waiver?: string;
}

/** Backups with defaults applied: absent `enabled` means on for a protected environment. */
export function resolveBackup(spec: BackupSpec | undefined, opts: { protected: boolean; storageClass: string }): ResolvedBackup {
  return {
    enabled: spec?.enabled ?? opts.protected,
    schedule: spec?.schedule ?? BACKUP_DEFAULTS.schedule,
    retentionDays: spec?.retentionDays ?? BACKUP_DEFAULTS.retentionDays,
    target: spec?.target ?? { pvc: { size: BACKUP_DEFAULTS.pvcSize, className: opts.storageClass } },
    ...(spec?.waiver ? { waiver: spec.waiver } : {}),
  };
}

/** Checks beyond the schema, with file, field and fix. */
export function backupProblems(file: string, spec: BackupSpec | undefined, opts: { protected: boolean; env: string }, at = '/mongodb/backup'): Problem[] {
  const problems: Problem[] = [];
  if (spec?.schedule !== undefined) {
    const p = cronProblem(spec.schedule);
    if (p) problems.push({ file, path: `${at}/schedule`, message: `schedule "${spec.schedule}": ${p}`, fix: 'write a Kubernetes CronJob schedule, e.g. "0 3 * * *" (03:00 every day) or @daily' });
  }
  if (spec?.retentionDays !== undefined && !(Number.isInteger(spec.retentionDays) && spec.retentionDays > 0)) {
    problems.push({ file, path: `${at}/retentionDays`, message: `retentionDays ${String(spec.retentionDays)} must be a whole number of days > 0`, fix: 'e.g. retentionDays: 7' });
  }
  if (opts.protected && spec?.enabled === false && !spec.waiver) {
    problems.push({
      file,
      path: `${at}/enabled`,
      message: `[${BACKUP_POLICY}] environment ${opts.env} is protected (gitops.yaml protected) and has no backups`,
      fix: `remove "enabled: false", or state why in mongodb.backup.waiver (a reviewed exception)`,
    });
  }
  if (spec?.waiver && spec.enabled !== false) {
    problems.push({ file, path: `${at}/waiver`, message: 'a waiver without "enabled: false" waives nothing', fix: 'remove the waiver, or set enabled: false' });
  }
  return problems;
}

/** Every environment's backup settings (inputs/index.ts): file, field and fix for each problem. */
export function envBackupProblems(settings: { protected?: string[] } | undefined, envs: Record<string, { spec: { name?: string; mongodb: { backup?: BackupSpec } } }>, envFileOf: (env: string) => string): Problem[] {
  const problems: Problem[] = [];
  for (const name of Object.keys(envs).sort()) {
    problems.push(...backupProblems(envFileOf(name), envs[name]!.spec.mongodb.backup, { protected: settings?.protected?.includes(name) === true, env: name }));
  }
  return problems;
}
