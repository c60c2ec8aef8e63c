// The database password, declared in git and generated in the cluster: an Argo CD PreSync hook Job
// in every environment's Application creates the Secret only when it is absent, replaces it when the
// rotation counter in env.yaml (mongodb.passwordRotation) was raised, and, after a rotation, waits
// until the operator has applied the new password (it then rewrites the connection-string Secret).
// The value is made in the pod (crypto.randomBytes) and never printed; git holds only this program,
// the counter and the Role below. Why this and not the External Secrets Operator: docs/environments.md.
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
import { APP_NAME, RUN_AS_GROUP, RUN_AS_USER } from '../../../apps/users-api/src/contract.ts';
import { MONGODB } from '../spec.ts';
import { WAIVER_ANNOTATION_PREFIX } from '../validate/policies.ts';
import type { EnvSpec, RepoSettings } from '../spec.ts';

/** Name of the hook's ServiceAccount, Role, RoleBinding and Job. */
export const PASSWORD_HOOK_NAME = 'users-db-password';
/** The container of the Job, addressed by the overlay's rotation patch. */
export const PASSWORD_HOOK_CONTAINER = 'password';
/** Annotation on the password Secret (last counter applied) and on the API's pod template (rolls it). */
export const ROTATION_ANNOTATION = 'gitops-users.example.com/password-rotation';
/** How long a rotation waits for the operator before the hook, and so the sync, fails (then retried). */
export const OPERATOR_WAIT_SECONDS = 600;

const HOOK = {
  'argocd.argoproj.io/hook': 'PreSync',
  'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
};
const LABELS = {
  'app.kubernetes.io/name': PASSWORD_HOOK_NAME,
  'app.kubernetes.io/component': 'database-password',
  'app.kubernetes.io/part-of': APP_NAME,
};

export const rotationOf = (env: Pick<EnvSpec, 'mongodb'>): number => env.mongodb.passwordRotation ?? 0;

/**
 * The program the Job runs (`node -e`, CommonJS, Node's standard library only), in the API's own
 * image so no other image is trusted. It talks to the API server with the pod's ServiceAccount token.
 * SA_DIR, KUBERNETES_SERVICE_HOST/PORT are the in-cluster defaults; tests point them at envtest.
 */
export const PASSWORD_HOOK_PROGRAM = `'use strict';
const fs = require('node:fs');
const https = require('node:https');
const crypto = require('node:crypto');
const e = process.env;
const dir = e.SA_DIR || '/var/run/secrets/kubernetes.io/serviceaccount';
const token = fs.readFileSync(dir + '/token', 'utf8').trim();
const ca = fs.readFileSync(dir + '/ca.crt');
const ns = fs.readFileSync(dir + '/namespace', 'utf8').trim();
const [name, key, conn, rotation] = [e.PASSWORD_SECRET_NAME, e.PASSWORD_KEY_NAME, e.CONNECTION_SECRET_NAME, e.ROTATION];
const ann = ${JSON.stringify(ROTATION_ANNOTATION)};
const waitMs = Number(e.WAIT_SECONDS || '600') * 1000;
const pollMs = Number(e.POLL_MS || '5000');
const base = '/api/v1/namespaces/' + ns + '/secrets';
function call(method, path, body, type) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request({ host: e.KUBERNETES_SERVICE_HOST, port: e.KUBERNETES_SERVICE_PORT, path, method, ca,
      headers: { authorization: 'Bearer ' + token, accept: 'application/json', ...(data ? { 'content-type': type || 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c) => (text += c)).on('end', () => {
        let json; try { json = JSON.parse(text); } catch { json = {}; }
        resolve({ status: res.statusCode, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
function fail(what, r) { throw new Error(what + ': HTTP ' + r.status + ' ' + (r.json.message || '')); }
const fresh = () => Buffer.from(crypto.randomBytes(32).toString('base64url')).toString('base64');
async function main() {
  let s = await call('GET', base + '/' + name);
  if (s.status === 404) {
    const c = await call('POST', base, { apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: { name, labels: ${JSON.stringify(LABELS)}, annotations: { [ann]: rotation } }, data: { [key]: fresh() } });
    if (c.status === 201) { console.log('created ' + ns + '/' + name + ' (rotation ' + rotation + ')'); return; }
    if (c.status !== 409) fail('create ' + name, c);
    s = await call('GET', base + '/' + name);
  }
  if (s.status !== 200) fail('read ' + name, s);
  const applied = (s.json.metadata.annotations || {})[ann] || '0';
  if (applied !== rotation) {
    const p = await call('PATCH', base + '/' + name, { metadata: { resourceVersion: s.json.metadata.resourceVersion, annotations: { [ann]: rotation } },
      data: { [key]: fresh() } }, 'application/merge-patch+json');
    if (p.status !== 200) fail('rotate ' + name, p);
    s = p;
    console.log('replaced the password in ' + ns + '/' + name + ' (rotation ' + applied + ' -> ' + rotation + ')');
  } else {
    console.log(ns + '/' + name + ' is at rotation ' + rotation + ': unchanged');
  }
  const want = (s.json.data || {})[key];
  for (const start = Date.now(); ; ) {
    const c = await call('GET', base + '/' + conn);
    if (c.status === 404) { console.log(conn + ' does not exist yet: the operator writes it once the database is up'); return; }
    if (c.status !== 200) fail('read ' + conn, c);
    if ((c.json.data || {}).password === want) { console.log('the operator has applied the password (' + conn + ' is current)'); return; }
    if (Date.now() - start >= waitMs) throw new Error('the operator has not applied the new password to ' + conn + ' after ' + waitMs / 1000 + ' s; see kubectl describe mongodbcommunity -n ' + ns);
    console.log('waiting for the operator to apply the new password to ' + conn);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
main().catch((err) => { console.error(String(err && err.message || err)); process.exit(1); });
`;

/** The hook's RBAC: the Role is the whole of what the Job may do (see the header for why `create` is unnamed). */
export function passwordHookRbac(): object[] {
  const wave = (w: string) => ({ ...HOOK, 'argocd.argoproj.io/sync-wave': w });
  const metadata = { name: PASSWORD_HOOK_NAME, labels: LABELS, annotations: wave('-1') };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata, automountServiceAccountToken: false },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata,
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [MONGODB.passwordSecret], verbs: ['get', 'patch'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [MONGODB.connectionSecret], verbs: ['get'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: PASSWORD_HOOK_NAME },
      // Kustomize's namespace transformer rewrites this to the environment's namespace.
      subjects: [{ kind: 'ServiceAccount', name: PASSWORD_HOOK_NAME, namespace: 'default' }],
    },
  ];
}

/** The Job; `settings.image` without a tag so the overlay's `images:` entry pins the environment's tag. */
export function passwordHookJob(settings: RepoSettings): object {
  const env = {
    PASSWORD_SECRET_NAME: MONGODB.passwordSecret,
    PASSWORD_KEY_NAME: MONGODB.passwordKey,
    CONNECTION_SECRET_NAME: MONGODB.connectionSecret,
    ROTATION: '0',
    WAIT_SECONDS: String(OPERATOR_WAIT_SECONDS),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: PASSWORD_HOOK_NAME,
      labels: LABELS,
      annotations: {
        ...HOOK,
        'argocd.argoproj.io/sync-wave': '0',
        [`${WAIVER_ANNOTATION_PREFIX}probes`]: 'a run-to-completion hook: it serves no traffic (readiness) and activeDeadlineSeconds ends a hung run (liveness)',
      },
    },
    spec: {
      backoffLimit: 2,
      activeDeadlineSeconds: OPERATOR_WAIT_SECONDS + 120,
      template: {
        metadata: { labels: LABELS },
        spec: {
          serviceAccountName: PASSWORD_HOOK_NAME,
          // The ServiceAccount opts out; this pod is the one that needs its token.
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          restartPolicy: 'Never',
          securityContext: { runAsNonRoot: true, runAsUser: RUN_AS_USER, runAsGroup: RUN_AS_GROUP, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: PASSWORD_HOOK_CONTAINER,
              image: settings.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['node', '-e', PASSWORD_HOOK_PROGRAM],
              env: Object.entries(env).map(([name, value]) => ({ name, value })),
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

export function passwordHookObjects(settings: RepoSettings): object[] {
  return [...passwordHookRbac(), passwordHookJob(settings)];
}

/**
 * The environment's rotation, as two strategic-merge patches: the counter into the Job's ROTATION,
 * and onto the API's pod template, so the commit that raises it also rolls the API (after the
 * PreSync hook, i.e. after the operator has applied the new password). The Deployment's change is also
 * what makes the Application OutOfSync and so starts an automated sync: hooks do not count in the sync
 * status (argoproj/argo-cd@v3.5.1:controller/state.go).
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
      file: 'password-rotation-api.yaml',
      target: { group: 'apps', version: 'v1', kind: 'Deployment', name: APP_NAME },
      patch: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: APP_NAME },
        spec: { template: { metadata: { annotations: { [ROTATION_ANNOTATION]: n } } } },
      },
    },
  ];
}
