// generate/mongodb/ owns the database part of the generated tree: the MongoDBCommunity replica set and its
// users, the operator's Application, the password Jobs, backups and restore Jobs.
// This file is the one seam between them and generate/index.ts, so the rest of the generator does not
// care who builds them.
import { mongoOperatorApplication } from './operator.ts';
import { mongoOverlayPatches, mongoReplicaSetBase, type OverlayPatch } from './replicaset.ts';
import { RETRY } from '../argocd.ts';
import { readFileSync } from 'node:fs';
import { PASSWORD_JOB_FILE, passwordHookObjects, passwordJobConfigMapGenerator, passwordRotationPatches, rotationOf } from './password-hook.ts';
import type { EnvSpec, RepoSettings } from '../../inputs/spec.ts';
import { isProtectedEnv } from '../../inputs/rules.ts';
import { BACKUP_POLICY, resolveBackup } from '../../inputs/backup.ts';
import { backupObjects, backupWaiver } from './backup.ts';
import { restoreObjects } from './restore.ts';
import { MONGODB_COMMUNITY_GROUP, MONGODB_COMMUNITY_KIND } from './replicaset.ts';
import { WAIVER_ANNOTATION_PREFIX } from '../../inputs/rules.ts';
import { MONGODB } from '../../inputs/spec.ts';

export type { OverlayPatch };

/** The replica-set base plus the PreSync hook that creates (and rotates) the user's password Secret. */
export function mongoBaseObjects(settings: RepoSettings): object[] {
  return [...mongoReplicaSetBase(settings.operator.namespace), ...passwordHookObjects(settings)];
}

/** The environment's MongoDB patch and its password-rotation counter (into the hook Job and the API's pods). */
export function mongoPatches(env: EnvSpec): OverlayPatch[] {
  return [...mongoOverlayPatches(env), ...passwordRotationPatches(env)];
}

/** The operator's Application, with the retry policy every Application shares (argocd.ts RETRY). */
export function mongoOperatorApp(settings: RepoSettings, watchNamespaces: string[], project: string): object {
  const app = mongoOperatorApplication(settings, watchNamespaces, project) as { spec: { syncPolicy: Record<string, unknown> } };
  return { ...app, spec: { ...app.spec, syncPolicy: { ...app.spec.syncPolicy, retry: RETRY } } };
}

/**
 * Files of the replica-set base that are not objects: the password Jobs' program, copied byte for byte
 * from scripts/lib/secrets/password-job.ts (Kustomize reads generator files only from inside the
 * kustomization's directory), so `generate --check` fails when the copy and the tested module differ.
 */
export function mongoBaseFiles(): Record<string, string> {
  return { [PASSWORD_JOB_FILE]: readFileSync(new URL(`../../secrets/${PASSWORD_JOB_FILE}`, import.meta.url), 'utf8') };
}

/** The base's configMapGenerator: the program as a ConfigMap the Jobs mount. */
export function mongoBaseGenerators(): object[] {
  return [passwordJobConfigMapGenerator()];
}

/**
 * The environment's backups (scripts/lib/inputs/backup.ts): the CronJob and its PVC as overlay files
 * when on; when off, the waiver of policy mongodb-backup on the MongoDBCommunity (validate's waiver
 * mechanism), with the reason from env.yaml (protected) or "not a protected environment".
 */
export function mongoBackupParts(settings: RepoSettings, env: EnvSpec): { files: Record<string, object>; patches: OverlayPatch[] } {
  const isProtected = isProtectedEnv(settings, env.name);
  const backup = resolveBackup(env.mongodb.backup, { protected: isProtected, storageClass: env.mongodb.storage.className });
  const waiver = backupWaiver(backup, isProtected);
  const patches: OverlayPatch[] = waiver
    ? [{
        file: 'backup-waiver.yaml',
        target: { group: MONGODB_COMMUNITY_GROUP, version: 'v1', kind: MONGODB_COMMUNITY_KIND, name: MONGODB.resourceName },
        // JSON pointer: "/" in the annotation key is written "~1" (RFC 6901).
        patch: [{ op: 'add', path: `/metadata/annotations/${`${WAIVER_ANNOTATION_PREFIX}${BACKUP_POLICY}`.replace(/~/g, '~0').replace(/\//g, '~1')}`, value: waiver }],
      }]
    : [];
  return { files: { ...backupObjects(backup), ...restoreObjects(env, rotationOf(env)) }, patches };
}
