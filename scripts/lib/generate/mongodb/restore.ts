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
import { APP_NAME } from '../../../../apps/users-api/src/contract.ts';
import { MONGODB, type EnvSpec, type RestoreSpec } from '../../inputs/spec.ts';
import { WAIVER_ANNOTATION_PREFIX } from '../../inputs/rules.ts';
import { APP_USERS, appUserConnectionSecret } from '../../inputs/mongodb.ts';
import { BACKUP_NAME } from '../../inputs/backup.ts';
import { restoreJobName } from '../../inputs/restore.ts';
import { DATABASE_TOOLS_IMAGE, DATABASE_TOOLS_UID } from './backup.ts';

export const RESTORE_FILE = 'restore-job.yaml';
/** The application's one collection (apps/users-api/src/users-repository.ts USERS_COLLECTION). */
const PROBE_COLLECTION = 'users';

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
