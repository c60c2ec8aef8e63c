// Backups of each environment's database (env.yaml `mongodb.backup`, rules in inputs/backup.ts) as a CronJob.
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
import { APP_NAME, RUN_AS_GROUP } from '../../../../apps/users-api/src/contract.ts';
import { WAIVER_ANNOTATION_PREFIX } from '../../inputs/rules.ts';
import { BACKUP_USER, appUserConnectionSecret } from '../../inputs/mongodb.ts';
import { BACKUP_CRONJOB_FILE, BACKUP_NAME, BACKUP_PVC_FILE, type ResolvedBackup } from '../../inputs/backup.ts';
import { MONGODB, type PvcTarget } from '../../inputs/spec.ts';

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
