// Backups declared in env.yaml (scripts/lib/inputs/backup.ts): settings checked with file, field and fix;
// defaults (on for protected environments); the CronJob for a PVC and for an S3 bucket; the waiver through
// validate's existing annotation mechanism; and the real API server's dry run of what is generated.
import { describe, expect, it } from 'vitest';
import {
  BACKUP_POLICY, backupProblems, cronProblem, resolveBackup,
} from '../../scripts/lib/inputs/backup.ts';
import { backupObjects, backupWaiver, DATABASE_TOOLS_IMAGE } from '../../scripts/lib/generate/mongodb/backup.ts';
import { appUserRoleProblems, mongoDBCommunity } from '../../scripts/lib/generate/mongodb/replicaset.ts';
import { appUserConnectionSecret, BACKUP_USER } from '../../scripts/lib/inputs/mongodb.ts';
import { POLICIES, WAIVER_ANNOTATION_PREFIX } from '../../scripts/lib/review/validate/policies.ts';
import { describeEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';

const FILE = 'overlays/prod/env.yaml';
const S3 = { s3: { endpoint: 'https://s3.example.com', bucket: 'team-backups', prefix: 'users/prod', region: 'eu-west-1', credentialsSecret: 'users-db-backup-s3' } };

describe('cron schedule syntax (Kubernetes CronJob)', () => {
  it.each(['0 3 * * *', '*/15 * * * *', '0 0 1,15 * mon-fri', '30 2 * jan-mar 0', '@daily', '@hourly', '0 0 * * 7'])('accepts %s', (s) => {
    expect(cronProblem(s)).toBeUndefined();
  });
  it.each([
    ['0 3 * *', /4 fields/],
    ['60 * * * *', /minute "60" is outside 0-59/],
    ['0 24 * * *', /hour "24" is outside 0-23/],
    ['0 0 0 * *', /day of month "0" is outside 1-31/],
    ['0 0 * 13 *', /month "13" is outside 1-12/],
    ['*/0 * * * *', /step must be at least 1/],
    ['0 0 * * funday', /day of week "funday" is not a number or name/],
    ['TZ=UTC 0 3 * * *', /timeZone/],
    ['@sometimes', /1 fields/],
  ])('refuses %s', (s, why) => {
    expect(cronProblem(s)).toMatch(why);
  });
});

describe('backup settings', () => {
  it('are on by default for a protected environment (PVC in the storage class), off otherwise', () => {
    expect(resolveBackup(undefined, { protected: true, storageClass: 'local-path' })).toEqual({ enabled: true, schedule: '0 3 * * *', retentionDays: 7, target: { pvc: { size: '5Gi', className: 'local-path' } } });
    expect(resolveBackup(undefined, { protected: false, storageClass: 'local-path' }).enabled).toBe(false);
  });

  it('name the file, the field and the fix', () => {
    expect(backupProblems(FILE, { schedule: '0 25 * * *' }, { protected: false, env: 'prod' })).toEqual([
      expect.objectContaining({ file: FILE, path: '/mongodb/backup/schedule', message: expect.stringContaining('hour "25"'), fix: expect.stringContaining('0 3 * * *') }),
    ]);
    expect(backupProblems(FILE, { retentionDays: 0 }, { protected: false, env: 'prod' })[0]).toMatchObject({ path: '/mongodb/backup/retentionDays' });
    const off = backupProblems(FILE, { enabled: false }, { protected: true, env: 'prod' });
    expect(off).toEqual([expect.objectContaining({ path: '/mongodb/backup/enabled', message: expect.stringContaining(`[${BACKUP_POLICY}] environment prod is protected`) })]);
    expect(backupProblems(FILE, { enabled: false, waiver: 'restored from the team snapshot system instead' }, { protected: true, env: 'prod' })).toEqual([]);
    expect(backupProblems(FILE, { waiver: 'no reason to waive anything' }, { protected: true, env: 'prod' })[0]).toMatchObject({ path: '/mongodb/backup/waiver' });
  });

  it('off: the MongoDBCommunity carries the waiver, with the reason of env.yaml for a protected environment', () => {
    expect(backupWaiver(resolveBackup({ enabled: false, waiver: 'snapshots of the volume by the storage team' }, { protected: true, storageClass: 'x' }), true)).toBe('snapshots of the volume by the storage team');
    expect(backupWaiver(resolveBackup(undefined, { protected: false, storageClass: 'x' }), false)).toMatch(/not a protected environment/);
    expect(backupWaiver(resolveBackup(undefined, { protected: true, storageClass: 'x' }), true)).toBeUndefined();
  });
});

describe('the backup CronJob', () => {
  const pvc = backupObjects(resolveBackup(undefined, { protected: true, storageClass: 'local-path' }));
  const s3 = backupObjects(resolveBackup({ target: S3, retentionDays: 30 }, { protected: true, storageClass: 'local-path' }));
  const cron = (files: Record<string, object>) => files['backup-cronjob.yaml'] as any;

  it('dumps the users database as the backup user, to a PVC kept out of prune, deleting archives past retention', () => {
    expect(Object.keys(pvc).sort()).toEqual(['backup-cronjob.yaml', 'backup-pvc.yaml']);
    const c = cron(pvc);
    expect(c.spec).toMatchObject({ schedule: '0 3 * * *', concurrencyPolicy: 'Forbid' });
    const pod = c.spec.jobTemplate.spec.template.spec;
    const dump = pod.containers[0];
    expect(dump.image).toBe(DATABASE_TOOLS_IMAGE);
    expect(dump.env[0]).toEqual({ name: 'MONGODB_URI', valueFrom: { secretKeyRef: { name: appUserConnectionSecret(BACKUP_USER), key: 'connectionString.standard' } } });
    // mongodump's documented flags (https://www.mongodb.com/docs/database-tools/mongodump/): --uri, --db, --gzip, --archive=<file>.
    expect(dump.command[2]).toMatch(/\/tools\/mongodump --uri="\$MONGODB_URI" --db="\$MONGODB_DB" --gzip --archive="\/backup\/\$MONGODB_DB-\$stamp\.archive\.gz\.partial"/);
    expect(dump.command[2]).toContain('RETENTION_DAYS');
    expect(pod.volumes).toEqual([{ name: 'backup', persistentVolumeClaim: { claimName: 'users-db-backup' } }]);
    expect((pvc['backup-pvc.yaml'] as any).metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Delete=false,Prune=false');
  });

  it('to S3: the dump goes to an emptyDir, rclone uploads it with credentials from the named Secret (no value in git)', () => {
    expect(Object.keys(s3)).toEqual(['backup-cronjob.yaml']);
    const pod = cron(s3).spec.jobTemplate.spec.template.spec;
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['mongodump']);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['upload']);
    const upload = pod.containers[0];
    expect(upload.env).toEqual(expect.arrayContaining([
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'users-db-backup-s3', key: 'AWS_ACCESS_KEY_ID' } } },
      { name: 'S3_BUCKET', value: 'team-backups' },
      { name: 'RETENTION_DAYS', value: '30' },
    ]));
    expect(JSON.stringify(s3)).not.toMatch(/AKIA|secret_access_key\s*[:=]/i);
  });

  it('the backup user has only the built-in backup role; any other role on it is a finding', () => {
    const cr = mongoDBCommunity() as any;
    expect(cr.spec.users.find((u: any) => u.name === BACKUP_USER).roles).toEqual([{ name: 'backup', db: 'admin' }]);
    expect(appUserRoleProblems(cr)).toEqual([]);
    const widened = structuredClone(cr);
    widened.spec.users.find((u: any) => u.name === BACKUP_USER).roles.push({ name: 'readWrite', db: 'users' });
    expect(appUserRoleProblems(widened)).toEqual([expect.objectContaining({ message: expect.stringContaining('only the built-in backup role') })]);
  });

  it('policy mongodb-backup: a database without a backup CronJob is a finding; the CronJob or the waiver clears it', () => {
    const policy = POLICIES.find((p) => p.id === BACKUP_POLICY)!;
    const rendered = (object: any) => ({ id: { group: object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '', kind: object.kind, namespace: 'prod', name: object.metadata.name }, object });
    const db = rendered({ ...mongoDBCommunity(), metadata: { name: 'users-db' } });
    expect(policy.check([db as any], 'prod')).toEqual([expect.objectContaining({ policy: BACKUP_POLICY, message: 'no backup CronJob backs up users-db' })]);
    expect(policy.check([db as any, rendered(cron(pvc)) as any], 'prod')).toEqual([]);
    // The waiver key validate reads (validate.ts): policy.gitops.dev/waive-mongodb-backup.
    expect(`${WAIVER_ANNOTATION_PREFIX}${BACKUP_POLICY}`).toBe('policy.gitops.dev/waive-mongodb-backup');
  });
});

describeEnvtest('backup objects on the real API server', () => {
  it('the PVC and the S3 variants pass a strict server-side dry run (kube-apiserver v1.28)', async () => {
    const env = await useEnvtest();
    const ns = uniqueName('backup');
    expect((await env.kubectl(['create', 'namespace', ns])).code).toBe(0);
    for (const files of [backupObjects(resolveBackup(undefined, { protected: true, storageClass: 'local-path' })), backupObjects(resolveBackup({ target: S3 }, { protected: true, storageClass: 'x' }))]) {
      const input = Object.values(files).map((o) => JSON.stringify({ ...(o as object), metadata: { ...(o as any).metadata, namespace: ns } })).join('\n');
      const r = await env.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager', 'argocd-controller', '-f', '-'], { input });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  }, 120_000);
});
