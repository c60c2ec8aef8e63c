// The database passwords, declared in git and generated in the cluster, for two alternating application
// users (users-api-a, users-api-b; docs/mongodb.md "Rotation without a failed request"). Two Argo CD hook
// Jobs of every environment's Application run the program scripts/lib/secrets/password-job.ts (tested
// code, shipped as a ConfigMap by Kustomize's configMapGenerator from a generated copy of that file) on
// the pinned Node 24 base image, which exists before any build of the API:
//   PreSync  `prepare`: creates both password Secrets when absent, gives the user of rotation N
//            (env.yaml mongodb.passwordRotation) a fresh password, waits until the operator has applied it;
//   PostSync `retire`:  once no API pod runs as the other user, replaces that user's password.
// Values are made in the pod (crypto.randomBytes) and never printed; git holds only the program, the
// counter and the Roles below. Why this and not the External Secrets Operator: docs/environments.md.
//
// Upstream facts relied on:
// - PreSync hooks run before the manifests are applied, ordered by sync wave inside the phase;
//   `BeforeHookCreation` replaces a hook of the same name, `HookSucceeded` deletes it when the sync
//   succeeds (argoproj/argo-cd@v3.5.1:docs/user-guide/sync-waves.md, "Hook lifecycle and cleanup").
// - RBAC cannot restrict `create` by resourceNames (the name may be unknown at authorization time);
//   get and patch can be (kubernetes/website:content/en/docs/reference/access-authn-authz/rbac.md,
//   "Referring to resources"). So the Role may create any Secret in its own namespace, read and
//   patch only these two by name, and nothing else — test/lifecycle/password-hook.test.ts proves it
//   on a real API server with the ServiceAccount's own token.
// - MCK watches each user's password Secret and reconciles when it changes, computing new SCRAM
//   credentials when the password no longer matches the stored ones (mongodb/mongodb-kubernetes@1.10.0:
//   pkg/authentication/scram/scram.go ensureScramCredentials); it writes the
//   connection-string Secret (keys connectionString.standard, …, username, password) only after the
//   replica set is ready with the new automation config (mongodb/mongodb-kubernetes@1.10.0:
//   mongodb-community-operator/controllers/mongodb_users.go ensureUserResources /
//   updateConnectionStringSecrets; replica_set_controller.go Reconcile). Equal `password` keys in
//   both Secrets therefore mean the database user has the new password.
import { APP_NAME, CONTAINER_NAME, MONGODB_URI_ENV, RUN_AS_GROUP, RUN_AS_USER } from '../../../../apps/users-api/src/contract.ts';
import { MONGODB } from '../../inputs/spec.ts';
import { APP_USERS, appUserConnectionSecret, appUserPasswordSecret, BACKUP_USER, MONITOR_USER } from '../../inputs/mongodb.ts';
import { activeIndex, ROTATION_ANNOTATION } from '../../secrets/password-job.ts';
import { WAIVER_ANNOTATION_PREFIX } from '../../inputs/rules.ts';
import type { EnvSpec, RepoSettings } from '../../inputs/spec.ts';

/** Name of the PreSync hook's ServiceAccount, Role, RoleBinding and Job. */
export const PASSWORD_HOOK_NAME = 'users-db-password';
/** Name of the PostSync hook's ServiceAccount, Role, RoleBinding and Job (retires the idle user's password). */
export const PASSWORD_RETIRE_NAME = 'users-db-password-retire';
/** The container of both Jobs, addressed by the overlay's rotation patches. */
export const PASSWORD_HOOK_CONTAINER = 'password';
export { ROTATION_ANNOTATION };
/** How long a hook waits (for the operator, or for the rollout) before it fails, and so the sync (then retried). */
export const OPERATOR_WAIT_SECONDS = 600;
/** The ConfigMap (configMapGenerator, hash-suffixed) holding password-job.ts, and the file's name in it. */
export const PASSWORD_JOB_CONFIGMAP = 'users-db-password-job';
export const PASSWORD_JOB_FILE = 'password-job.ts';
/** Its key in the ConfigMap and its name in the Job's container (a key without "password" in it: validate's no-secrets-in-git reads key names). */
export const PASSWORD_JOB_KEY = 'job.ts';
const PROGRAM_DIR = '/opt/password-job';

/**
 * The image both Jobs run: the Dockerfile's own Node 24 base (ARG NODE_IMAGE), by tag and digest, so
 * nothing new is trusted and it exists before the API image of any commit. test/lifecycle/password-job.test.ts
 * checks it equals the Dockerfile's; bump both together.
 */
export const PASSWORD_JOB_IMAGE = 'node:24.21.0-alpine3.23@sha256:9ec4a2e289874ed0d722e1772ec2de45d2801541db8612f3638b26f128c69ac2';

const hookAnnotations = (phase: 'PreSync' | 'PostSync' | 'PreSync,PostSync', wave: string, deletePolicy = 'BeforeHookCreation,HookSucceeded') => ({
  'argocd.argoproj.io/hook': phase,
  'argocd.argoproj.io/hook-delete-policy': deletePolicy,
  'argocd.argoproj.io/sync-wave': wave,
});
const LABELS = {
  'app.kubernetes.io/name': PASSWORD_HOOK_NAME,
  'app.kubernetes.io/component': 'database-password',
  'app.kubernetes.io/part-of': APP_NAME,
};

export const rotationOf = (env: Pick<EnvSpec, 'mongodb'>): number => env.mongodb.passwordRotation ?? 0;

const PASSWORD_SECRETS = APP_USERS.map(appUserPasswordSecret);
const CONNECTION_SECRETS = APP_USERS.map(appUserConnectionSecret);
const BACKUP_PASSWORD_SECRET = appUserPasswordSecret(BACKUP_USER);
/** The monitoring user's (scripts/lib/generate/monitoring.ts's exporter): created when absent, never rotated, like the backup user's. */
const MONITOR_PASSWORD_SECRET = appUserPasswordSecret(MONITOR_USER);

function rbac(name: string, phase: 'PreSync' | 'PostSync', rules: object[]): object[] {
  const metadata = { name, labels: LABELS, annotations: hookAnnotations(phase, '-1') };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata, automountServiceAccountToken: false },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      // Kustomize's namespace transformer rewrites this to the environment's namespace.
      subjects: [{ kind: 'ServiceAccount', name, namespace: 'default' }],
    },
  ];
}

/** The PreSync hook's RBAC: the Role is the whole of what `prepare` may do (see the header for why `create` is unnamed). */
export function passwordHookRbac(): object[] {
  return rbac(PASSWORD_HOOK_NAME, 'PreSync', [
    { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    { apiGroups: [''], resources: ['secrets'], resourceNames: PASSWORD_SECRETS, verbs: ['get', 'patch'] },
    { apiGroups: [''], resources: ['secrets'], resourceNames: [...CONNECTION_SECRETS, BACKUP_PASSWORD_SECRET, MONITOR_PASSWORD_SECRET], verbs: ['get'] },
  ]);
}

/** The PostSync hook's RBAC: read and replace the two password Secrets by name, list pods (to see the rollout end); no create. */
export function passwordRetireRbac(): object[] {
  return rbac(PASSWORD_RETIRE_NAME, 'PostSync', [
    { apiGroups: [''], resources: ['secrets'], resourceNames: PASSWORD_SECRETS, verbs: ['get', 'patch'] },
    // list cannot be narrowed by resourceNames to a label selector; the Role gives nothing else on pods.
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
  ]);
}

/** The configMapGenerator entry of the replica-set base: the program as a hook of both phases, created before the Jobs. */
export function passwordJobConfigMapGenerator(): object {
  return {
    name: PASSWORD_JOB_CONFIGMAP,
    files: [`${PASSWORD_JOB_KEY}=${PASSWORD_JOB_FILE}`],
    options: {
      labels: LABELS,
      // "Multiple hooks can be specified as a comma separated list" (argoproj/argo-cd@v3.5.1:docs/user-guide/sync-waves.md):
      // there for both Jobs. HookSucceeded deletes it once the whole operation has succeeded (gitops-engine
      // pkg/sync/sync_context.go Sync: hooksPendingDeletionSuccessful are deleted when no task remains), so
      // nothing of the hooks stays in the namespace between syncs.
      annotations: hookAnnotations('PreSync,PostSync', '-1'),
    },
  };
}

/**
 * The env vars naming the Secrets a password Job creates when absent (comma-separated names): the sync
 * plan (scripts/lib/review/plan) reads them to know which Secrets exist after the PreSync hook.
 */
export const PASSWORD_JOB_SECRET_ENVS = ['PASSWORD_SECRET_NAME', 'OTHER_PASSWORD_SECRET_NAME'] as const;

function job(name: string, phase: 'PreSync' | 'PostSync', mode: 'prepare' | 'retire'): object {
  const env: Record<string, string> = {
    ROTATION: '0',
    // Names, comma-separated (the _NAME suffix: names of Secrets, not values; validate's no-secrets-in-git).
    PASSWORD_SECRET_NAME: PASSWORD_SECRETS.join(','),
    PASSWORD_KEY_NAME: MONGODB.passwordKey,
    ...(mode === 'prepare' ? { OTHER_PASSWORD_SECRET_NAME: [BACKUP_PASSWORD_SECRET, MONITOR_PASSWORD_SECRET].join(',') } : {}),
    CONNECTION_SECRET_NAME: CONNECTION_SECRETS.join(','),
    API_SELECTOR: `app.kubernetes.io/name=${APP_NAME}`,
    WAIT_SECONDS: String(OPERATOR_WAIT_SECONDS),
    LABELS: JSON.stringify(LABELS),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      labels: LABELS,
      annotations: {
        ...hookAnnotations(phase, '0'),
        [`${WAIVER_ANNOTATION_PREFIX}probes`]: 'a run-to-completion hook: it serves no traffic (readiness) and activeDeadlineSeconds ends a hung run (liveness)',
      },
    },
    spec: {
      backoffLimit: 2,
      activeDeadlineSeconds: OPERATOR_WAIT_SECONDS + 120,
      template: {
        metadata: { labels: LABELS },
        spec: {
          serviceAccountName: name,
          // The ServiceAccount opts out; this pod is the one that needs its token.
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          restartPolicy: 'Never',
          securityContext: { runAsNonRoot: true, runAsUser: RUN_AS_USER, runAsGroup: RUN_AS_GROUP, seccompProfile: { type: 'RuntimeDefault' } },
          volumes: [{ name: 'program', configMap: { name: PASSWORD_JOB_CONFIGMAP } }],
          containers: [
            {
              name: PASSWORD_HOOK_CONTAINER,
              image: PASSWORD_JOB_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: ['node', `${PROGRAM_DIR}/${PASSWORD_JOB_KEY}`, mode],
              env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
              volumeMounts: [{ name: 'program', mountPath: PROGRAM_DIR, readOnly: true }],
              resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '96Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                privileged: false,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      },
    },
  };
}

/** The PreSync Job (`prepare`). */
export function passwordHookJob(_settings?: RepoSettings): object {
  return job(PASSWORD_HOOK_NAME, 'PreSync', 'prepare');
}

/** The PostSync Job (`retire`). */
export function passwordRetireJob(): object {
  return job(PASSWORD_RETIRE_NAME, 'PostSync', 'retire');
}

export function passwordHookObjects(_settings?: RepoSettings): object[] {
  return [...passwordHookRbac(), passwordHookJob(), ...passwordRetireRbac(), passwordRetireJob()];
}

/**
 * The environment's rotation, as strategic-merge patches: the counter into both Jobs' ROTATION, and
 * onto the API's pod template together with the active user's connection-string Secret, so the commit
 * that raises it also rolls the API onto the other user (after the PreSync hook, i.e. after the operator
 * has applied that user's new password). The Deployment's change is also what makes the Application
 * OutOfSync and so starts an automated sync: hooks do not count in the sync status
 * (argoproj/argo-cd@v3.5.1:controller/state.go).
 */
export function passwordRotationPatches(env: Pick<EnvSpec, 'mongodb'>): Array<{ file: string; patch: object; target: { group: string; version: string; kind: string; name: string } }> {
  const n = String(rotationOf(env));
  return [
    {
      file: 'password-rotation-job.yaml',
      target: { group: 'batch', version: 'v1', kind: 'Job', name: PASSWORD_HOOK_NAME },
      patch: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: PASSWORD_HOOK_NAME },
        spec: { template: { spec: { containers: [{ name: PASSWORD_HOOK_CONTAINER, env: [{ name: 'ROTATION', value: n }] }] } } },
      },
    },
    {
      file: 'password-retire-job.yaml',
      target: { group: 'batch', version: 'v1', kind: 'Job', name: PASSWORD_RETIRE_NAME },
      patch: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: PASSWORD_RETIRE_NAME },
        spec: { template: { spec: { containers: [{ name: PASSWORD_HOOK_CONTAINER, env: [{ name: 'ROTATION', value: n }] }] } } },
      },
    },
    {
      file: 'password-rotation-api.yaml',
      target: { group: 'apps', version: 'v1', kind: 'Deployment', name: APP_NAME },
      patch: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: APP_NAME },
        spec: {
          template: {
            metadata: { annotations: { [ROTATION_ANNOTATION]: n } },
            spec: {
              containers: [
                {
                  name: CONTAINER_NAME,
                  env: [{ name: MONGODB_URI_ENV, valueFrom: { secretKeyRef: { name: CONNECTION_SECRETS[activeIndex(rotationOf(env))], key: MONGODB.connectionKey } } }],
                },
              ],
            },
          },
        },
      },
    },
  ];
}
