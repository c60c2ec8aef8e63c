// Backups of each environment's database, declared in env.yaml (`mongodb.backup`), generated as a CronJob.
//
// - What runs: `mongodump` of the application database as a gzip archive (one file per run), then the runs
//   older than `retentionDays` are deleted. Flags from MongoDB's mongodump reference
//   (https://www.mongodb.com/docs/database-tools/mongodump/): `--uri`, `--db`, `--archive=<file>`, `--gzip`.
// - Image: MongoDB's agent image, quay.io/mongodb/mongodb-agent at the version the pinned chart runs next to
//   every member (mongodb/mongodb-kubernetes@1.10.0:helm_chart/values.yaml `community.agent.version`
//   108.0.25.9029-1), which carries the MongoDB Database Tools in /tools and runs as uid 2000
//   (mongodb/mongodb-kubernetes@1.10.0:docker/mongodb-agent/Dockerfile: `mv mongodb-database-tools-*/bin/* /tools`,
//   `USER 2000`; tools bundle in release.json `mongodbToolsBundle`). It is already on every node that runs a
//   member, and no new publisher is trusted.
//   TODO(digest): pin by digest. We could not verify the digest of this tag from any upstream source
//   available here (the chart and release.json pin it by tag only; no registry access); add
//   `@sha256:<digest>` from `skopeo inspect docker://quay.io/mongodb/mongodb-agent:108.0.25.9029-1`.
// - Who: the least-privilege user `users-backup` (built-in role `backup` on admin), declared in the
//   MongoDBCommunity so the operator creates it and writes its connection-string Secret; its password is
//   made in the cluster by the password Job (scripts/lib/secrets/password-job.ts), like the API's.
// - Where: a PersistentVolumeClaim (default), or an S3-compatible bucket: the dump goes to an emptyDir and
//   an rclone container uploads it (credentials from a Secret the team creates; see docs/mongodb.md).
import { APP_NAME, RUN_AS_GROUP } from '../../../apps/users-api/src/contract.ts';
import type { Problem } from '../errors.ts';
import { MONGODB } from '../spec.ts';
import { WAIVER_ANNOTATION_PREFIX } from '../validate/policies.ts';
import { BACKUP_USER, appUserConnectionSecret } from './users.ts';

export const BACKUP_POLICY = 'mongodb-backup';
export const BACKUP_NAME = `${MONGODB.resourceName}-backup`;
export const BACKUP_CRONJOB_FILE = 'backup-cronjob.yaml';
export const BACKUP_PVC_FILE = 'backup-pvc.yaml';
/** MongoDB's agent image with the Database Tools (see the header; TODO(digest)). */
export const DATABASE_TOOLS_IMAGE = 'quay.io/mongodb/mongodb-agent:108.0.25.9029-1';
/** The agent image's user (docker/mongodb-agent/Dockerfile `USER 2000`). */
export const DATABASE_TOOLS_UID = 2000;
/**
 * The S3 uploader. rclone speaks every S3-compatible API with credentials from environment variables
 * (https://rclone.org/s3/, "Standard options": RCLONE_S3_ACCESS_KEY_ID …; https://rclone.org/docs/
 * "Connection strings" `:s3,provider=Other,endpoint=…:`).
 * TODO(digest): pin by digest; not verifiable here (no registry access).
 */
export const RCLONE_IMAGE = 'docker.io/rclone/rclone:1.68.2';

export interface PvcTarget { pvc: { size: string; className?: string } }
export interface S3Target { s3: { endpoint: string; bucket: string; prefix?: string; region?: string; credentialsSecret: string } }
export interface BackupSpec {
  /** Default: on for protected environments (gitops.yaml `protected`), off otherwise. */
  enabled?: boolean;
  /** Cron schedule (Kubernetes CronJob syntax). Default 0 3 * * *. */
  schedule?: string;
  /** Archives older than this many days are deleted after each run. Default 7. */
  retentionDays?: number;
  /** Default: a PVC of 5Gi in the replica set's storage class. */
  target?: PvcTarget | S3Target;
  /** Why a protected environment has no backups (the waiver of policy mongodb-backup). */
  waiver?: string;
}

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

/** Every environment's backup settings (repo-inputs.ts): file, field and fix for each problem. */
export function envBackupProblems(settings: { protected?: string[] } | undefined, envs: Record<string, { spec: { name?: string; mongodb: { backup?: BackupSpec } } }>, envFileOf: (env: string) => string): Problem[] {
  const problems: Problem[] = [];
  for (const name of Object.keys(envs).sort()) {
    problems.push(...backupProblems(envFileOf(name), envs[name]!.spec.mongodb.backup, { protected: settings?.protected?.includes(name) === true, env: name }));
  }
  return problems;
}

// ---- generated objects ----

const LABELS = { 'app.kubernetes.io/name': BACKUP_NAME, 'app.kubernetes.io/component': 'database-backup', 'app.kubernetes.io/part-of': APP_NAME };
const BACKUP_DIR = '/backup';
const CONNECTION_SECRET = appUserConnectionSecret(BACKUP_USER);

/** The shell of the dump step: only fixed text and environment variables, no value from env.yaml inlined. */
const DUMP_SCRIPT = [
  'set -eu',
  'stamp=$(date -u +%Y%m%dT%H%M%SZ)',
  `/tools/mongodump --uri="$MONGODB_URI" --db="$MONGODB_DB" --gzip --archive="${BACKUP_DIR}/$MONGODB_DB-$stamp.archive.gz.partial"`,
  // A finished archive only ever appears whole: a restore never picks up a half-written one.
  `mv "${BACKUP_DIR}/$MONGODB_DB-$stamp.archive.gz.partial" "${BACKUP_DIR}/$MONGODB_DB-$stamp.archive.gz"`,
  'echo "backup $MONGODB_DB-$stamp.archive.gz written"',
].join('\n');
// Coreutils only (the agent image is UBI minimal): delete archives older than RETENTION_DAYS whole days.
const PRUNE_PVC = [
  'now=$(date +%s)',
  `for f in ${BACKUP_DIR}/*.archive.gz*; do`,
  '  [ -e "$f" ] || continue',
  '  if [ $(( (now - $(stat -c %Y "$f")) / 86400 )) -ge "$RETENTION_DAYS" ]; then rm -f -- "$f"; echo "deleted $f"; fi',
  'done',
].join('\n');
const UPLOAD_S3 = [
  'set -eu',
  'remote=":s3,provider=Other,env_auth=true,endpoint=$S3_ENDPOINT,region=$S3_REGION:$S3_BUCKET/$S3_PREFIX"',
  `rclone copy ${BACKUP_DIR} "$remote" --include '*.archive.gz'`,
  'rclone delete "$remote" --min-age "${RETENTION_DAYS}d" --include \'*.archive.gz\'',
].join('\n');

const securityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  privileged: false,
  capabilities: { drop: ['ALL'] },
};

/** The CronJob (and the PVC for that target) of an environment whose backups are on. */
export function backupObjects(backup: ResolvedBackup): Record<string, object> {
  if (!backup.enabled) return {};
  const s3 = 's3' in backup.target ? backup.target.s3 : undefined;
  const env = (vars: Record<string, string>) => Object.entries(vars).map(([name, value]) => ({ name, value }));
  const dump = {
    name: 'mongodump',
    image: DATABASE_TOOLS_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c', s3 ? DUMP_SCRIPT : `${DUMP_SCRIPT}\n${PRUNE_PVC}`],
    env: [
      { name: 'MONGODB_URI', valueFrom: { secretKeyRef: { name: CONNECTION_SECRET, key: MONGODB.connectionKey } } },
      ...env({ MONGODB_DB: MONGODB.appDb, RETENTION_DAYS: String(backup.retentionDays) }),
    ],
    volumeMounts: [{ name: 'backup', mountPath: BACKUP_DIR }],
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    securityContext,
  };
  const upload = s3 && {
    name: 'upload',
    image: RCLONE_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c', UPLOAD_S3],
    env: [
      ...env({ S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, S3_PREFIX: s3.prefix ?? '', S3_REGION: s3.region ?? '', RETENTION_DAYS: String(backup.retentionDays), HOME: '/tmp' }),
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: s3.credentialsSecret, key: 'AWS_ACCESS_KEY_ID' } } },
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: s3.credentialsSecret, key: 'AWS_SECRET_ACCESS_KEY' } } },
    ],
    volumeMounts: [{ name: 'backup', mountPath: BACKUP_DIR, readOnly: true }, { name: 'tmp', mountPath: '/tmp' }],
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    securityContext,
  };
  const podSpec = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: { runAsNonRoot: true, runAsUser: DATABASE_TOOLS_UID, runAsGroup: RUN_AS_GROUP, fsGroup: RUN_AS_GROUP, seccompProfile: { type: 'RuntimeDefault' } },
    ...(upload ? { initContainers: [dump], containers: [upload] } : { containers: [dump] }),
    volumes: [
      s3 ? { name: 'backup', emptyDir: { sizeLimit: '5Gi' } } : { name: 'backup', persistentVolumeClaim: { claimName: BACKUP_NAME } },
      ...(upload ? [{ name: 'tmp', emptyDir: {} }] : []),
    ],
  };
  const out: Record<string, object> = {
    [BACKUP_CRONJOB_FILE]: {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: {
        name: BACKUP_NAME,
        labels: LABELS,
        annotations: {
          'argocd.argoproj.io/sync-wave': '1',
          [`${WAIVER_ANNOTATION_PREFIX}probes`]: 'a run-to-completion backup: it serves no traffic (readiness) and activeDeadlineSeconds ends a hung run (liveness)',
        },
      },
      spec: {
        schedule: backup.schedule,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: 3 * 3600, template: { metadata: { labels: LABELS }, spec: podSpec } } },
      },
    },
  };
  if (!s3) {
    const pvc = (backup.target as PvcTarget).pvc;
    out[BACKUP_PVC_FILE] = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: BACKUP_NAME, labels: LABELS, annotations: { 'argocd.argoproj.io/sync-wave': '0', 'argocd.argoproj.io/sync-options': 'Delete=false,Prune=false' } },
      spec: { accessModes: ['ReadWriteOnce'], ...(pvc.className ? { storageClassName: pvc.className } : {}), resources: { requests: { storage: pvc.size } } },
    };
  }
  return out;
}

/** The waiver annotation the MongoDBCommunity carries when backups are off (validate's existing mechanism). */
export function backupWaiver(backup: ResolvedBackup, isProtected: boolean): string | undefined {
  if (backup.enabled) return undefined;
  return backup.waiver ?? (isProtected ? undefined : 'not a protected environment: backups are off unless env.yaml mongodb.backup turns them on');
}
