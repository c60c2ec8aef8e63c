// Restore as a reviewed change: `zx scripts/restore.ts <env> --from <archive> [--overwrite]` writes a
// restore request into env.yaml (`mongodb.restore: { from, overwrite, request }`), `generate` turns it into
// a Job `users-db-restore-<request>` in the overlay, and the rendered diff of that commit shows what is
// restored (the archive on the backup volume) where (namespace, database). Argo CD runs the Job once (a
// Job's pod template is immutable and a new request is a new name); removing the request prunes it.
//
// The Job (MongoDB's agent image with the Database Tools, as the backup CronJob: backup.ts) first looks
// for a document in the application's collection; a non-empty database is refused unless the request says
// `overwrite: true`. Then mongorestore with flags from MongoDB's reference
// (https://www.mongodb.com/docs/database-tools/mongorestore/ and …/mongorestore/mongorestore-examples/):
// `--uri`, `--gzip`, `--archive=<file>`, `--nsInclude=<db>.*`, `--drop` (only with overwrite), and
// mongoexport (https://www.mongodb.com/docs/database-tools/mongoexport/) `--db --collection --limit=1 --quiet`
// for the emptiness probe. It connects as the environment's active application user: readWrite on the
// application database is what restoring that one namespace does (insert, createIndex, dropCollection for
// --drop); the built-in `restore` role would reach every database.
//
// Tests cannot run those binaries (no MongoDB tools here): the drill (test/mongodb/restore-drill.test.ts)
// runs the same decision and a dump/restore at the driver level below against the stand-in replica set.
import type { Db } from 'mongodb';
import { APP_NAME } from '../../../apps/users-api/src/contract.ts';
import { InputError, UsageError, type Problem } from '../errors.ts';
import { MONGODB } from '../spec.ts';
import type { EnvSpec } from '../spec.ts';
import { WAIVER_ANNOTATION_PREFIX } from '../validate/policies.ts';
import { BACKUP_NAME, DATABASE_TOOLS_IMAGE, DATABASE_TOOLS_UID, resolveBackup } from './backup.ts';
import { APP_USERS, appUserConnectionSecret } from './users.ts';

export interface RestoreSpec {
  /** Archive file name on the backup volume, as the backup CronJob names it. */
  from: string;
  /** Restore over a non-empty database (mongorestore --drop). Default false: the Job refuses. */
  overwrite?: boolean;
  /** Raised by each `restore.ts` run: the Job's name, so each request runs once. */
  request: number;
}

export const RESTORE_FILE = 'restore-job.yaml';
/** What the backup CronJob writes: `<db>-<UTC yyyymmddThhmmssZ>.archive.gz`. */
export const ARCHIVE_PATTERN = new RegExp(`^${MONGODB.appDb}-\\d{8}T\\d{6}Z\\.archive\\.gz$`);
/** The application's one collection (apps/users-api/src/users-repository.ts USERS_COLLECTION). */
const PROBE_COLLECTION = 'users';

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

/** The Job of a restore request, or nothing. `rotation` picks the active application user. */
export function restoreObjects(env: EnvSpec, rotation: number): Record<string, object> {
  const r = env.mongodb.restore as RestoreSpec | undefined;
  if (!r) return {};
  const user = APP_USERS[rotation % 2 === 0 ? 0 : 1];
  const overwrite = r.overwrite === true;
  const script = [
    'set -eu',
    'archive="/backup/$ARCHIVE"',
    '[ -f "$archive" ] || { echo "no archive $ARCHIVE on the backup volume" >&2; exit 1; }',
    'found=$(/tools/mongoexport --uri="$MONGODB_URI" --db="$MONGODB_DB" --collection="$PROBE_COLLECTION" --limit=1 --quiet)',
    'if [ -n "$found" ] && [ "$OVERWRITE" != "true" ]; then',
    '  echo "refusing: $MONGODB_DB in $NAMESPACE is not empty; a restore over data needs overwrite: true in the request" >&2; exit 2',
    'fi',
    'drop=""; [ "$OVERWRITE" = "true" ] && drop="--drop"',
    '/tools/mongorestore --uri="$MONGODB_URI" --gzip --archive="$archive" --nsInclude="$MONGODB_DB.*" $drop',
    'echo "restored $ARCHIVE into $MONGODB_DB"',
  ].join('\n');
  const labels = { 'app.kubernetes.io/name': `${MONGODB.resourceName}-restore`, 'app.kubernetes.io/component': 'database-restore', 'app.kubernetes.io/part-of': APP_NAME };
  return {
    [RESTORE_FILE]: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: restoreJobName(r.request),
        labels,
        annotations: {
          // After the database and the API: the restore runs against a running replica set.
          'argocd.argoproj.io/sync-wave': '3',
          'gitops-users.example.com/restore': `${r.from} → ${env.namespace}/${MONGODB.appDb}${overwrite ? ' (overwrite)' : ''}`,
          [`${WAIVER_ANNOTATION_PREFIX}probes`]: 'a run-to-completion restore: it serves no traffic (readiness) and activeDeadlineSeconds ends a hung run (liveness)',
        },
      },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: 3 * 3600,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: DATABASE_TOOLS_UID, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'mongorestore',
                image: DATABASE_TOOLS_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                command: ['/bin/sh', '-c', script],
                env: [
                  { name: 'MONGODB_URI', valueFrom: { secretKeyRef: { name: appUserConnectionSecret(user), key: MONGODB.connectionKey } } },
                  ...Object.entries({ MONGODB_DB: MONGODB.appDb, ARCHIVE: r.from, OVERWRITE: String(overwrite), NAMESPACE: env.namespace, PROBE_COLLECTION }).map(([name, value]) => ({ name, value })),
                ],
                volumeMounts: [{ name: 'backup', mountPath: '/backup', readOnly: true }],
                resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, privileged: false, capabilities: { drop: ['ALL'] } },
              },
            ],
            volumes: [{ name: 'backup', persistentVolumeClaim: { claimName: BACKUP_NAME, readOnly: true } }],
          },
        },
      },
    },
  };
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

// ---- the driver-level path of the drill (what mongodump/mongorestore do for this database) ----

export type Dump = Record<string, Array<Record<string, unknown>>>;

/** Every document of every collection of `db`, in _id order. */
export async function dumpDatabase(db: Db): Promise<Dump> {
  const out: Dump = {};
  for (const c of (await db.listCollections({}, { nameOnly: true }).toArray()).map((x) => x.name).sort()) {
    out[c] = await db.collection(c).find({}).sort({ _id: 1 }).toArray();
  }
  return out;
}

export class RestoreRefused extends Error {}

/** Refuses a non-empty database unless `overwrite` (then each collection is dropped first, as --drop). */
export async function restoreDatabase(db: Db, dump: Dump, opts: { overwrite: boolean }): Promise<number> {
  const existing = (await db.listCollections({}, { nameOnly: true }).toArray()).map((x) => x.name);
  let nonEmpty = false;
  for (const c of existing) if ((await db.collection(c).findOne({})) !== null) nonEmpty = true;
  if (nonEmpty && !opts.overwrite) throw new RestoreRefused(`refusing: ${db.databaseName} is not empty; a restore over data needs overwrite`);
  let restored = 0;
  for (const [c, docs] of Object.entries(dump)) {
    if (opts.overwrite && existing.includes(c)) await db.collection(c).drop();
    if (docs.length > 0) restored += (await db.collection(c).insertMany(docs as never[])).insertedCount;
  }
  return restored;
}
