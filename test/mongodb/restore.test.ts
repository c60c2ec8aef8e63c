// Restore as a reviewed change (scripts/restore.ts → scripts/lib/inputs/restore.ts): the request lands in
// env.yaml, the rendered diff shows the Job (what, where), bad input writes nothing; the Job refuses a
// non-empty database unless the request says overwrite. And the drill: data written through the API,
// backed up, dropped, restored and compared, on the stand-in replica set (driver-level dump/restore: no
// MongoDB tools run here; the Job's mongodump/mongorestore flags are checked against MongoDB's reference).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { dumpDatabase, restoreDatabase, RestoreRefused, restoreObjects } from '../../scripts/lib/generate/mongodb/restore.ts';
import type { EnvSpec } from '../../scripts/lib/inputs/spec.ts';
import { startMongoStandInReplicaSet, STAND_IN_APP_USER } from '../support/mongo-standin/replica-set.ts';
import type { MongoStandInReplicaSet } from '../support/mongo-standin/replica-set.ts';
import { copyRepository } from '../support/repo-copy.ts';
import type { SyncRepoCopy } from '../support/repo-copy.ts';
import { newUser, startTestApi } from '../api/harness.ts';

const ARCHIVE = 'users-20261204T030000Z.archive.gz';

describe('restore.ts: a restore is a commit', () => {
  let repo: SyncRepoCopy;
  beforeAll(() => {
    repo = copyRepository('restore');
  }, 120_000);
  afterAll(() => repo?.remove());
  const read = (rel: string) => readFileSync(join(repo.dir, rel), 'utf8');

  it('writes the request into env.yaml and shows in the rendered diff what is restored where', () => {
    const r = repo.run(['scripts/restore.ts', 'prod', '--from', ARCHIVE]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`prod: restore request 1: ${ARCHIVE} by Job users-db-restore-1`);
    expect(r.stdout).toContain('rendered diff of overlays/prod');
    expect(r.stdout).toMatch(/\+\s+name: users-db-restore-1/);
    expect(r.stdout).toContain(`${ARCHIVE} → prod/users`);
    expect(parse(read('overlays/prod/env.yaml')).mongodb.restore).toEqual({ from: ARCHIVE, request: 1 });
    const job = parseAllDocuments(read('overlays/prod/restore-job.yaml'))[0]!.toJS();
    expect(job.spec.template.spec.containers[0].env).toEqual(expect.arrayContaining([{ name: 'ARCHIVE', value: ARCHIVE }, { name: 'OVERWRITE', value: 'false' }]));
    expect(repo.run(['scripts/generate.ts', '--check']).status).toBe(0);
    // A second request (here: with overwrite) is a new Job name, so it runs once more.
    const again = repo.run(['scripts/restore.ts', 'prod', '--from', ARCHIVE, '--overwrite']);
    expect(again.status, again.stderr).toBe(0);
    expect(parse(read('overlays/prod/env.yaml')).mongodb.restore).toEqual({ from: ARCHIVE, overwrite: true, request: 2 });
    expect(again.stdout).toContain(`${ARCHIVE} → prod/users (overwrite)`);
  }, 180_000);

  it('refuses bad input with file, field and fix, writing nothing (exit 2)', () => {
    const before = read('overlays/staging/env.yaml');
    const badName = repo.run(['scripts/restore.ts', 'staging', '--from', '../../etc/passwd']);
    expect(badName.status).toBe(2);
    expect(badName.stderr).toContain('is not an archive name the backup CronJob writes');
    const noFrom = repo.run(['scripts/restore.ts', 'staging']);
    expect(noFrom.status).toBe(2);
    expect(noFrom.stderr).toContain('--from <archive> is required');
    // staging is not protected: no backups, so no archive to restore from.
    const noBackups = repo.run(['scripts/restore.ts', 'staging', '--from', ARCHIVE]);
    expect(noBackups.status).toBe(2);
    expect(noBackups.stderr).toContain('no backups on a PVC');
    expect(read('overlays/staging/env.yaml')).toBe(before);
  }, 180_000);
});

describe('the restore Job', () => {
  const env = { name: 'prod', namespace: 'prod', mongodb: { restore: { from: ARCHIVE, request: 3 }, storage: { className: 'local-path' } } } as unknown as EnvSpec;
  const job = (spec: EnvSpec, rotation = 0) => restoreObjects(spec, rotation)['restore-job.yaml'] as any;

  it('probes for data and refuses a non-empty database unless the request says overwrite; flags as documented', () => {
    const c = job(env).spec.template.spec.containers[0];
    const script: string = c.command[2];
    // mongoexport (https://www.mongodb.com/docs/database-tools/mongoexport/): --db, --collection, --limit, --quiet.
    expect(script).toContain('/tools/mongoexport --uri="$MONGODB_URI" --db="$MONGODB_DB" --collection="$PROBE_COLLECTION" --limit=1 --quiet');
    expect(script).toMatch(/if \[ -n "\$found" \] && \[ "\$OVERWRITE" != "true" \]; then\n\s+echo "refusing: .*is not empty.*" >&2; exit 2\nfi/);
    // mongorestore (https://www.mongodb.com/docs/database-tools/mongorestore/): --uri, --gzip, --archive=<file>, --nsInclude, --drop.
    expect(script).toContain('/tools/mongorestore --uri="$MONGODB_URI" --gzip --archive="$archive" --nsInclude="$MONGODB_DB.*" $drop');
    expect(script).toContain('drop=""; [ "$OVERWRITE" = "true" ] && drop="--drop"');
    expect(c.env).toContainEqual({ name: 'OVERWRITE', value: 'false' });
    expect(job(env).spec.template.spec.volumes[0]).toEqual({ name: 'backup', persistentVolumeClaim: { claimName: 'users-db-backup', readOnly: true } });
  });

  it('runs as the active application user of the rotation', () => {
    const secret = (rotation: number) => job(env, rotation).spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name;
    expect([secret(0), secret(1)]).toEqual(['users-db-admin-users-api-a', 'users-db-admin-users-api-b']);
  });
});

describe('restore drill (stand-in)', () => {
  let rs: MongoStandInReplicaSet;
  let client: MongoClient;
  beforeAll(async () => {
    rs = await startMongoStandInReplicaSet({ users: [STAND_IN_APP_USER], log: () => {} });
    client = new MongoClient(rs.uri);
    await client.connect();
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await rs?.stop();
  });

  it('data written through the API, backed up, dropped, restored and compared: identical; a non-empty database is refused without overwrite', async () => {
    const dbName = 'users_drill';
    const api = await startTestApi({ uri: rs.uri, dbName });
    await api.server.databaseReady;
    try {
      for (let i = 0; i < 25; i++) expect((await api.send('POST', '/users', newUser(`drill-${i}`))).status).toBe(201);
    } finally {
      await api.server.stop();
    }
    const db = client.db(dbName);
    const backup = await dumpDatabase(db);
    expect(backup.users).toHaveLength(25);

    await expect(restoreDatabase(db, backup, { overwrite: false })).rejects.toBeInstanceOf(RestoreRefused);
    await db.dropDatabase();
    expect(await dumpDatabase(db)).toEqual({});
    expect(await restoreDatabase(db, backup, { overwrite: false })).toBe(25);
    expect(await dumpDatabase(db)).toEqual(backup);

    // Overwrite: later writes are replaced by the backup's state.
    await db.collection('users').insertOne({ name: 'after the backup' });
    expect(await restoreDatabase(db, backup, { overwrite: true })).toBe(25);
    expect(await dumpDatabase(db)).toEqual(backup);
  }, 60_000);
});
