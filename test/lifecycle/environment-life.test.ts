// The whole life of an environment on a real API server, with no command run against the cluster
// except what Argo CD and the controllers would do — which the test does in their place, by waves:
//   new-env → generate → commit ("push") → the root's objects by sync wave (namespaces, projects, the
//   operator's Application and its watch list, the environment's Application) → the environment's
//   Application synced as Argo CD would (PreSync password hook run as its own ServiceAccount, then the
//   database wave, then the API wave) with the statuses Argo CD and the operator would write →
//   rotate-db-password --commit → the same sync again (new password, operator, API rolls) →
//   delete-env → Argo CD's prune and the Application's resources-finalizer → only what
//   docs/environments.md documents is left.
// At every wave, every object applied may refer only to objects that exist already ("nothing missing").
import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MONGODB } from '../../scripts/lib/inputs/spec.ts';
import { PASSWORD_HOOK_CONTAINER, PASSWORD_JOB_FILE, PASSWORD_JOB_KEY, ROTATION_ANNOTATION } from '../../scripts/lib/generate/mongodb/password-hook.ts';
import { APP_USERS, appUserConnectionSecret, appUserPasswordSecret, appUserScramSecret, BACKUP_USER, MONITOR_USER } from '../../scripts/lib/inputs/mongodb.ts';
import { runHealthCheck } from '../mongodb/lua-runner.ts';
import { describeEnvtest, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { copyRepository } from '../support/repo-copy.ts';
import type { SyncRepoCopy } from '../support/repo-copy.ts';

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; annotations?: Record<string, string>; labels?: Record<string, string>; ownerReferences?: unknown[] };
  [k: string]: any;
};

const WAVE = 'argocd.argoproj.io/sync-wave';
const HOOK = 'argocd.argoproj.io/hook';
const [PW_A, PW_B] = APP_USERS.map(appUserPasswordSecret) as [string, string];
const [CONN_A, CONN_B] = APP_USERS.map(appUserConnectionSecret) as [string, string];
/** Whether a rendered object is a hook of `phase` ("Multiple hooks can be specified as a comma separated list"). */
const isHook = (o: { metadata: { annotations?: Record<string, string> } }, phase: string) => (o.metadata.annotations?.[HOOK] ?? '').split(',').includes(phase);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);
const suffix = Math.random().toString(36).slice(2, 7);
const ENV = `qa-${suffix}`;
const ARGOCD_NS = `argocd-${suffix}`;
const OPERATOR_NS = `mongodb-operator-${suffix}`;

const waveOf = (o: Obj) => Number(o.metadata.annotations?.[WAVE] ?? '0');
const key = (o: { kind: string; name: string; namespace?: string }) => `${o.kind}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

function docs(text: string): Obj[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Obj).filter((o) => o && o.kind);
}

/** What each object needs to exist before it is applied (the references a controller or the API server resolves). */
function references(o: Obj): Array<{ kind: string; name: string; namespace?: string }> {
  const ns = o.metadata.namespace;
  const refs: Array<{ kind: string; name: string; namespace?: string }> = [];
  if (ns) refs.push({ kind: 'Namespace', name: ns });
  const podSpec = (spec: any) => {
    if (!spec) return;
    if (spec.serviceAccountName) refs.push({ kind: 'ServiceAccount', name: spec.serviceAccountName, namespace: ns });
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef) refs.push({ kind: 'Secret', name: e.valueFrom.secretKeyRef.name, namespace: ns });
        if (e.valueFrom?.configMapKeyRef) refs.push({ kind: 'ConfigMap', name: e.valueFrom.configMapKeyRef.name, namespace: ns });
      }
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef) refs.push({ kind: 'ConfigMap', name: e.configMapRef.name, namespace: ns });
        if (e.secretRef) refs.push({ kind: 'Secret', name: e.secretRef.name, namespace: ns });
      }
    }
  };
  if (['Deployment', 'Job', 'StatefulSet'].includes(o.kind)) podSpec(o.spec?.template?.spec);
  if (o.kind === 'MongoDBCommunity') {
    for (const u of o.spec.users ?? []) refs.push({ kind: 'Secret', name: u.passwordSecretRef.name, namespace: ns });
    podSpec(o.spec.statefulSet?.spec?.template?.spec);
  }
  if (o.kind === 'RoleBinding') {
    refs.push({ kind: o.roleRef.kind, name: o.roleRef.name, namespace: o.roleRef.kind === 'Role' ? ns : undefined });
    for (const s of o.subjects ?? []) if (s.kind === 'ServiceAccount') refs.push({ kind: 'ServiceAccount', name: s.name, namespace: s.namespace });
  }
  if (o.kind === 'Application') {
    refs.push({ kind: 'AppProject', name: o.spec.project, namespace: ARGOCD_NS });
    const values = o.spec.source?.helm?.valuesObject;
    if (values) {
      // The operator's chart binds a Role in every watched namespace: each must exist ("*": the chart binds
      // a ClusterRole instead, and no namespace has to exist first).
      for (const w of String(values.operator?.watchNamespace ?? '').split(',').filter((w) => w !== '' && w !== '*')) refs.push({ kind: 'Namespace', name: w });
    } else if (!(o.spec.syncPolicy?.syncOptions ?? []).includes('CreateNamespace=true')) {
      refs.push({ kind: 'Namespace', name: o.spec.destination.namespace });
    }
  }
  return refs;
}

/**
 * Where the API server serves the kinds this test reads and whose status it writes (its paths: GET
 * /api/v1/namespaces/{ns}/secrets/{name}, …; the MCK 1.10.0 CRD's plural is "mongodbcommunity").
 * Reads and status writes go to the server directly, as the controllers' clients do: the same
 * requests `kubectl get` and `kubectl patch` send, without starting a kubectl process for each.
 */
const REST: Record<string, { prefix: string; plural: string; namespaced: boolean }> = {
  Namespace: { prefix: '/api/v1', plural: 'namespaces', namespaced: false },
  ServiceAccount: { prefix: '/api/v1', plural: 'serviceaccounts', namespaced: true },
  Secret: { prefix: '/api/v1', plural: 'secrets', namespaced: true },
  ConfigMap: { prefix: '/api/v1', plural: 'configmaps', namespaced: true },
  Role: { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true },
  ClusterRole: { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false },
  AppProject: { prefix: '/apis/argoproj.io/v1alpha1', plural: 'appprojects', namespaced: true },
  Application: { prefix: '/apis/argoproj.io/v1alpha1', plural: 'applications', namespaced: true },
  MongoDBCommunity: { prefix: '/apis/mongodbcommunity.mongodb.com/v1', plural: 'mongodbcommunity', namespaced: true },
  Deployment: { prefix: '/apis/apps/v1', plural: 'deployments', namespaced: true },
  Job: { prefix: '/apis/batch/v1', plural: 'jobs', namespaced: true },
};

const RESOURCE: Record<string, string> = {
  Namespace: 'namespace', ServiceAccount: 'serviceaccount', Secret: 'secret', ConfigMap: 'configmap', Role: 'role.rbac.authorization.k8s.io',
  ClusterRole: 'clusterrole', AppProject: 'appprojects.argoproj.io', Application: 'applications.argoproj.io',
};

describeEnvtest('an environment from git alone', () => {
  let env: Envtest;
  let repo: SyncRepoCopy;
  const applied = new Map<string, Obj>(); // what the environment's Application tracks (its resources)
  const log: string[] = [];

  async function kubectl(args: string[], input?: string): Promise<string> {
    const r = await env.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
  /** One request to the server as the admin (the kubeconfig's user); its status code and body. */
  function api(method: 'GET' | 'PATCH', path: string, body?: string): Promise<{ status: number; body: string }> {
    const url = new URL(path, env.server);
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method,
        ca: env.caPem,
        headers: { authorization: `Bearer ${env.adminToken}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/merge-patch+json' }) },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  /** The object's path on the server, or undefined for a kind not in REST (then kubectl finds it). */
  function pathOf(kind: string, name: string, namespace?: string): string | undefined {
    const r = REST[kind];
    if (!r) return undefined;
    if (r.namespaced && !namespace) throw new Error(`${kind}/${name}: a namespaced kind without a namespace`);
    return `${r.prefix}${r.namespaced ? `/namespaces/${namespace}` : ''}/${r.plural}/${name}`;
  }
  async function exists(ref: { kind: string; name: string; namespace?: string }): Promise<boolean> {
    const path = pathOf(ref.kind, ref.name, ref.namespace);
    if (path === undefined) {
      const r = await env.kubectl(['get', RESOURCE[ref.kind] ?? ref.kind.toLowerCase(), ref.name, ...(ref.namespace ? ['-n', ref.namespace] : []), '-o', 'name']);
      return r.code === 0;
    }
    const r = await api('GET', path);
    if (r.status !== 200 && r.status !== 404) throw new Error(`GET ${path}: ${r.status} ${r.body}`);
    return r.status === 200;
  }
  async function get(kind: string, name: string, namespace?: string): Promise<Obj | undefined> {
    const path = pathOf(kind, name, namespace);
    if (path === undefined) {
      const r = await env.kubectl(['get', RESOURCE[kind] ?? kind.toLowerCase(), name, ...(namespace ? ['-n', namespace] : []), '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined;
    }
    const r = await api('GET', path);
    if (r.status !== 200 && r.status !== 404) throw new Error(`GET ${path}: ${r.status} ${r.body}`);
    return r.status === 200 ? (JSON.parse(r.body) as Obj) : undefined;
  }
  /** What the objects of one wave refer to that does not exist yet (objects of the same wave count as there). */
  async function missingFor(objs: Obj[]): Promise<string[]> {
    const missing: string[] = [];
    const here = new Set(objs.map((o) => key({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace })));
    for (const o of objs) {
      for (const ref of references(o)) {
        if (here.has(key(ref))) continue; // applied together, kinds in Argo CD's order (namespaces first)
        if (!(await exists(ref))) missing.push(`${key({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace })} needs ${key(ref)}`);
      }
    }
    return missing;
  }
  /** Applies one wave as Argo CD does (server-side apply), after checking nothing it refers to is missing. */
  async function applyWave(label: string, objs: Obj[]): Promise<void> {
    expect(await missingFor(objs), `missing before ${label}`).toEqual([]);
    const ordered = [...objs].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
    await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', 'argocd-controller', '-f', '-'], ordered.map((o) => JSON.stringify(o)).join('\n'));
    log.push(`${label}: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  }
  /** A merge patch of the status (on the status subresource, or on the object for a CRD without one). */
  async function writeStatus(o: { kind: string; name: string; namespace?: string }, status: object, subresource: boolean): Promise<void> {
    const path = pathOf(o.kind, o.name, o.namespace);
    if (path === undefined) throw new Error(`writeStatus: add ${o.kind} to REST`);
    const target = subresource ? `${path}/status` : path;
    const r = await api('PATCH', target, JSON.stringify({ status }));
    if (r.status !== 200) throw new Error(`PATCH ${target}: ${r.status} ${r.body}`);
  }
  async function password(secret: string): Promise<string | undefined> {
    const s = await get('Secret', secret, ENV);
    const v = s?.data?.[MONGODB.passwordKey];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
  }

  /** The operator's reaction to a ready replica set (mongodb_users.go updateConnectionStringSecrets), and the StatefulSet controller's PVCs. */
  async function operatorReconciles(): Promise<void> {
    const mdb = (await get('MongoDBCommunity', MONGODB.resourceName, ENV))!;
    const owner = [{ apiVersion: mdb.apiVersion, kind: mdb.kind, name: mdb.metadata.name, uid: mdb.metadata.uid, controller: true, blockOwnerDeletion: true }];
    // Every user whose password Secret exists gets its connection string (mongodb_users.go updateConnectionStringSecrets) and SCRAM Secret.
    const objs: object[] = [];
    for (const user of APP_USERS) {
      const pw = await password(appUserPasswordSecret(user));
      if (pw === undefined) continue;
      const uri = `mongodb+srv://${user}:${encodeURIComponent(pw)}@${MONGODB.resourceName}-svc.${ENV}.svc.cluster.local/${MONGODB.authDb}?replicaSet=${MONGODB.resourceName}&ssl=false`;
      objs.push(
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: appUserConnectionSecret(user), namespace: ENV, ownerReferences: owner }, stringData: { [MONGODB.connectionKey]: uri, username: user, password: pw } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${appUserScramSecret(user)}-scram-credentials`, namespace: ENV, ownerReferences: owner }, stringData: { salt: 'dummy-salt' } },
      );
    }
    objs.push(
      ...['data-volume', 'logs-volume'].map((v) => ({
        apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `${v}-${MONGODB.resourceName}-0`, namespace: ENV, labels: { app: `${MONGODB.resourceName}-svc` } },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      })),
    );
    await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', 'mongodb-kubernetes-operator', '-f', '-'], objs.map((o) => JSON.stringify(o)).join('\n'));
    await writeStatus({ kind: 'MongoDBCommunity', name: MONGODB.resourceName, namespace: ENV }, { phase: 'Running', currentMongoDBMembers: mdb.spec.members, currentStatefulSetReplicas: mdb.spec.members, version: mdb.spec.version, mongoUri: `mongodb://${MONGODB.resourceName}-0` }, true);
  }

  /** Runs a password Job's own program (from the rendered ConfigMap it mounts) as its ServiceAccount, as the pod would; `operator` plays the operator if it waits. */
  async function runPasswordJob(job: Obj, configMaps: Obj[], operator: () => Promise<void>): Promise<{ code: number; out: string }> {
    const container = job.spec.template.spec.containers.find((c: any) => c.name === PASSWORD_HOOK_CONTAINER);
    const [cmd, path, mode] = container.command as string[];
    expect(cmd).toBe('node');
    const cmName = job.spec.template.spec.volumes[0].configMap.name;
    const cm = configMaps.find((c) => c.metadata.name === cmName);
    expect(cm, `the ConfigMap ${cmName} the Job mounts is rendered`).toBeDefined();
    expect(path!.endsWith(`/${PASSWORD_JOB_KEY}`)).toBe(true);
    // The program and the ServiceAccount's files go once the Job's process has ended.
    const made: string[] = [];
    try {
      const programDir = mkdtempSync(join(tmpdir(), 'life-program-'));
      made.push(programDir);
      const program = join(programDir, PASSWORD_JOB_FILE);
      writeFileSync(program, cm!.data[PASSWORD_JOB_KEY]);
      const token = await env.serviceAccountToken(ENV, job.spec.template.spec.serviceAccountName);
      const sa = mkdtempSync(join(tmpdir(), 'life-sa-'));
      made.push(sa);
      writeFileSync(join(sa, 'token'), token);
      writeFileSync(join(sa, 'ca.crt'), env.caPem);
      writeFileSync(join(sa, 'namespace'), ENV);
      const url = new URL(env.server);
      const vars = Object.fromEntries((container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
      return await new Promise((resolve) => {
        const child = spawn(process.execPath, [program, mode!], {
          cwd: programDir,
          env: { PATH: process.env.PATH, ...vars, SA_DIR: sa, KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, POLL_MS: '100', WAIT_SECONDS: '30' },
        });
        let out = '';
        let acted = false;
        const on = (c: string) => {
          out += c;
          if (!acted && out.includes('waiting for')) {
            acted = true;
            void operator();
          }
        };
        child.stdout.setEncoding('utf8').on('data', on);
        child.stderr.setEncoding('utf8').on('data', on);
        child.on('close', (code) => resolve({ code: code ?? 1, out }));
      });
    } finally {
      for (const dir of made) rmSync(dir, { recursive: true, force: true });
    }
  }

  /** One sync of the environment's Application, phase by phase and wave by wave, as Argo CD runs it. */
  async function syncEnvironment(label: string): Promise<{ hookOutput: string }> {
    const render = docs((await kubectl(['kustomize', join(repo.dir, 'overlays', ENV)])));
    const hooks = render.filter((o) => o.metadata.annotations?.[HOOK]);
    const resources = render.filter((o) => !o.metadata.annotations?.[HOOK]);
    const preSync = hooks.filter((o) => isHook(o, 'PreSync'));
    const postSync = hooks.filter((o) => isHook(o, 'PostSync'));
    expect(preSync.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Job', 'Role', 'RoleBinding', 'ServiceAccount']);
    expect(postSync.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Job', 'Role', 'RoleBinding', 'ServiceAccount']);
    const configMaps = render.filter((o) => o.kind === 'ConfigMap');
    let hookOutput = '';
    /** One hook phase, by wave. BeforeHookCreation: an existing hook of the same name is deleted first. */
    const runPhase = async (phase: string, phaseHooks: Obj[]): Promise<void> => {
      for (const w of [...new Set(phaseHooks.map(waveOf))].sort((a, b) => a - b)) {
        const batch = phaseHooks.filter((o) => waveOf(o) === w);
        for (const o of batch) await env.kubectl(['delete', o.kind.toLowerCase(), o.metadata.name, '-n', ENV, '--ignore-not-found', '--wait=false']);
        await applyWave(`${label} ${phase} wave ${w}`, batch);
        for (const job of batch.filter((o) => o.kind === 'Job')) {
          const r = await runPasswordJob(job, configMaps, operatorReconciles);
          hookOutput += r.out;
          expect(r.code, r.out).toBe(0);
          await writeStatus({ kind: 'Job', name: job.metadata.name, namespace: ENV }, { succeeded: 1, startTime: new Date().toISOString(), completionTime: new Date().toISOString(), conditions: [{ type: 'Complete', status: 'True' }] }, true);
        }
      }
    };
    await runPhase('PreSync', preSync);
    // Sync, by wave; the next wave starts when this one is healthy.
    for (const w of [...new Set(resources.map(waveOf))].sort((a, b) => a - b)) {
      const batch = resources.filter((o) => waveOf(o) === w);
      await applyWave(`${label} Sync wave ${w}`, batch);
      for (const o of batch) applied.set(key({ kind: o.kind, name: o.metadata.name, namespace: ENV }), o);
      if (batch.some((o) => o.kind === 'MongoDBCommunity')) {
        const mdb = await get('MongoDBCommunity', MONGODB.resourceName, ENV);
        if (mdb?.status?.phase !== 'Running') await operatorReconciles();
        const health = runHealthCheck(readFileSync(join(repo.dir, 'platform/mongodb/health/mongodbcommunity.lua'), 'utf8'), await get('MongoDBCommunity', MONGODB.resourceName, ENV));
        expect(health.status).toBe('Healthy');
      }
      for (const d of batch.filter((o) => o.kind === 'Deployment')) {
        const live = (await get('Deployment', d.metadata.name, ENV))!;
        const n = live.spec.replicas;
        await writeStatus({ kind: 'Deployment', name: d.metadata.name, namespace: ENV }, { observedGeneration: live.metadata.generation, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n }, true);
      }
    }
    // PostSync: every resource is Healthy (the Deployment rolled); the retire Job runs.
    await runPhase('PostSync', postSync);
    // HookSucceeded: the sync succeeded, so the hooks with that policy are deleted.
    for (const o of hooks.filter((h) => (h.metadata.annotations?.['argocd.argoproj.io/hook-delete-policy'] ?? '').includes('HookSucceeded'))) {
      await kubectl(['delete', o.kind.toLowerCase(), o.metadata.name, '-n', ENV, '--ignore-not-found', '--wait=false']);
    }
    return { hookOutput };
  }

  /**
   * The root Application's objects, as its directory source yields them: the files under its path that
   * its `directory.include` glob names (a `{a,b,…}` list of paths relative to the path), else every
   * YAML/JSON file there except root.yaml.
   */
  function rootObjects(): Obj[] {
    const root = docs(readFileSync(join(repo.dir, 'argocd/root.yaml'), 'utf8'))[0]!;
    const path: string = root.spec.source.path;
    const include: string | undefined = root.spec.source.directory?.include;
    let files: string[] = [];
    if (include) {
      files = include.replace(/^\{|\}$/g, '').split(',').map((f) => `${path}/${f}`);
    } else {
      const walk = (dir: string) => {
        for (const d of readdirSync(join(repo.dir, dir), { withFileTypes: true })) {
          const rel = `${dir}/${d.name}`;
          if (d.isDirectory()) walk(rel);
          else if (/\.(ya?ml|json)$/.test(d.name) && rel !== `${path}/root.yaml`) files.push(rel);
        }
      };
      walk(path);
    }
    // The previews' ValidatingAdmissionPolicies are admissionregistration.k8s.io/v1 (Kubernetes >= 1.30);
    // this shared v1.28 server does not serve that API, so they are left out here and proven on a server
    // with the v1beta1 gate in test/release/previews-sandbox.envtest.test.ts.
    return files.flatMap((f) => docs(readFileSync(join(repo.dir, f), 'utf8'))).filter((o) => !o.apiVersion.startsWith('admissionregistration.k8s.io/'));
  }

  beforeAll(async () => {
    env = await useEnvtest();
    repo = copyRepository('life');
    // This run's own namespaces on the shared server: Argo CD's, the operator's and the committed
    // environments' (which stay in git, as in a real repository, and are applied by the root too).
    const settingsFile = join(repo.dir, 'gitops.yaml');
    writeFileSync(settingsFile, readFileSync(settingsFile, 'utf8').replace(/^(\s+namespace:) argocd$/m, `$1 ${ARGOCD_NS}`).replace(/^(\s+namespace:) mongodb-operator$/m, `$1 ${OPERATOR_NS}`));
    for (const e of readdirSync(join(repo.dir, 'overlays'))) {
      const file = join(repo.dir, 'overlays', e, 'env.yaml');
      if (!existsSync(file)) continue;
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^namespace: (\S+)$/m, `namespace: $1-${suffix}`));
    }
    const gen = repo.run(['scripts/generate.ts']);
    if (gen.status !== 0) throw new Error(`generate: ${gen.stderr}`);
    repo.git('add', '-A');
    repo.git('commit', '--quiet', '-m', 'this run\'s namespaces');
    // What bootstrap leaves: Argo CD's namespace (its install is not needed to store its objects).
    await kubectl(['create', 'namespace', ARGOCD_NS]);
  }, 180_000);

  afterAll(() => repo?.remove());

  it('new-env, generate and a commit are all it takes: the root applies namespace, projects, operator watch list and Application by waves with nothing missing (kube-apiserver v1.28)', async () => {
    const created = repo.run(['scripts/new-env.ts', ENV]);
    expect(created.stderr).not.toMatch(/error/i);
    expect(created.status).toBe(0);
    expect(repo.run(['scripts/generate.ts', '--check']).status).toBe(0);
    repo.git('add', '-A');
    repo.git('commit', '--quiet', '-m', `new environment ${ENV}`);

    const objs = rootObjects();
    const ns = objs.find((o) => o.kind === 'Namespace' && o.metadata.name === ENV);
    expect(ns, 'the root creates the namespace').toBeDefined();
    const operatorApp = objs.find((o) => o.kind === 'Application' && o.spec.source?.chart);
    const envApp = objs.find((o) => o.kind === 'Application' && o.spec.destination?.namespace === ENV)!;
    // The operator watches the environment: by name (then the namespace must come first), or all namespaces
    // (when gitops.yaml enables preview environments).
    const watched = String(operatorApp!.spec.source.helm.valuesObject.operator.watchNamespace).split(',');
    expect(watched.includes(ENV) || watched.includes('*'), watched.join(',')).toBe(true);
    // The order that breaks the cycle of issue 14: namespace < project < operator < environment.
    expect(waveOf(ns!)).toBeLessThan(waveOf(operatorApp!));
    expect(waveOf(operatorApp!)).toBeLessThan(waveOf(envApp));
    expect(envApp.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
    for (const app of objs.filter((o) => o.kind === 'Application')) expect(app.spec.syncPolicy.retry.limit, app.metadata.name).toBe(-1);

    // The check is not vacuous: applied before the namespace wave (the old order, where the namespace came
    // with the environment's own Application), the operator's Application would miss the namespace.
    if (!watched.includes('*')) {
      expect(await missingFor([operatorApp!])).toContain(`Application/${ARGOCD_NS}/${operatorApp!.metadata.name} needs Namespace/${ENV}`);
    }
    expect(references(envApp)).toContainEqual({ kind: 'Namespace', name: ENV });
    const healthLua = readFileSync(join(repo.dir, 'argocd/health/application.lua'), 'utf8');
    for (const w of [...new Set(objs.map(waveOf))].sort((a, b) => a - b)) {
      const batch = objs.filter((o) => waveOf(o) === w);
      await applyWave(`root wave ${w}`, batch);
      // Argo CD (the child Applications' controller) reports each Application; the root waits on the
      // project's health check for Applications before the next wave.
      for (const app of batch.filter((o) => o.kind === 'Application')) {
        const revision = repo.git('rev-parse', 'HEAD').trim();
        const now = new Date().toISOString();
        await writeStatus({ kind: 'Application', name: app.metadata.name, namespace: ARGOCD_NS }, {
          sync: { status: 'Synced', revision },
          health: { status: 'Healthy' },
          operationState: { operation: { sync: { revision } }, phase: 'Succeeded', message: 'successfully synced (all tasks run)', startedAt: now, finishedAt: now },
        }, false);
        expect(runHealthCheck(healthLua, await get('Application', app.metadata.name, ARGOCD_NS)).status).toBe('Healthy');
      }
    }
    expect((await get('Namespace', ENV))!.metadata.labels!['pod-security.kubernetes.io/enforce']).toBe('baseline');
  }, 300_000);

  it('the environment\'s first sync: the hook creates the password, the database finds it, the API finds the operator\'s connection string (kube-apiserver v1.28)', async () => {
    const { hookOutput } = await syncEnvironment('first sync');
    expect(hookOutput).toContain(`created ${PW_A} (rotation 0)`);
    expect(hookOutput).toContain(`created ${PW_B} (rotation 0)`);
    const pw = (await password(PW_A))!;
    expect(pw).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hookOutput).not.toContain(pw);
    expect(hookOutput).not.toContain((await password(PW_B))!);
    expect(await password(CONN_A)).toBe(pw);
    // The hooks are gone after the sync: no standing right to create Secrets.
    expect(await exists({ kind: 'Role', name: 'users-db-password', namespace: ENV })).toBe(false);
    const dep = (await get('Deployment', 'users-api', ENV))!;
    expect(dep.spec.template.metadata.annotations[ROTATION_ANNOTATION]).toBe('0');
    expect(dep.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name).toBe(CONN_A);
    // `diff --live` against this server: the hooks, gone after the sync, are not drift (Argo CD ignores hooks
    // in the sync status); the rest of the environment is compared as usual.
    const live = repo.run(['scripts/diff.ts', '--live', ENV, '--format', 'json'], { KUBECONFIG: env.kubeconfigPath });
    expect(live.status, live.stderr).toBe(0);
    const report = JSON.parse(live.stdout) as { reached: string[]; envs: unknown[] };
    expect(report.reached).toEqual([ENV]);
    expect(live.stdout).not.toContain('users-db-password');
    // A second sync (e.g. selfHeal) changes nothing.
    const again = await syncEnvironment('resync');
    expect(again.hookOutput).toContain('unchanged');
    expect(await password(PW_A)).toBe(pw);
  }, 300_000);

  it('rotate-db-password --commit: the next sync replaces the password, waits for the operator, then rolls the API (kube-apiserver v1.28)', async () => {
    const [a0, b0] = [(await password(PW_A))!, (await password(PW_B))!];
    const r = repo.run(['scripts/rotate-db-password.ts', ENV, '--commit']);
    expect(r.status, r.stderr).toBe(0);
    const { hookOutput } = await syncEnvironment('rotation sync');
    // PreSync: user b gets a fresh password, applied by the operator, before the API rolls onto it.
    expect(hookOutput).toContain(`replaced the password in ${PW_B} (rotation 0 -> 1)`);
    expect(hookOutput).toContain(`the operator has applied the password (${CONN_B} is current)`);
    const b1 = (await password(PW_B))!;
    expect(b1).not.toBe(b0);
    expect(await password(CONN_B)).toBe(b1);
    const dep = (await get('Deployment', 'users-api', ENV))!;
    expect(dep.spec.template.metadata.annotations[ROTATION_ANNOTATION]).toBe('1');
    expect(dep.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name).toBe(CONN_B);
    // PostSync: no pod runs as a any more (envtest runs none), so a's password is retired.
    expect(hookOutput).toContain(`retired the password of ${PW_A} (rotation 0 -> 1)`);
    expect(await password(PW_A)).not.toBe(a0);
    expect(dep.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  }, 300_000);

  it('delete-env: the root prunes the Application, whose finalizer deletes what it deployed; the namespace, PVCs and the password Secret stay, as documented (kube-apiserver v1.28)', async () => {
    const r = repo.run(['scripts/delete-env.ts', ENV, '--yes']);
    expect(r.status, r.stderr).toBe(0);
    const objs = rootObjects();
    expect(objs.some((o) => o.metadata.name === ENV || o.metadata.namespace === ENV || o.spec?.destination?.namespace === ENV)).toBe(false);
    const operatorApp = objs.find((o) => o.kind === 'Application' && o.spec.source?.chart)!;
    expect(String(operatorApp.spec.source.helm.valuesObject.operator.watchNamespace ?? '').split(',')).not.toContain(ENV);

    // Root prune: the Application goes (its finalizer first deletes every resource it tracks); the
    // Namespace carries Prune=false, so it is skipped.
    const liveNs = (await get('Namespace', ENV))!;
    expect(liveNs.metadata.annotations!['argocd.argoproj.io/sync-options']).toBe('Prune=false');
    for (const o of applied.values()) await kubectl(['delete', o.kind.toLowerCase() === 'mongodbcommunity' ? 'mongodbcommunity' : `${o.kind.toLowerCase()}${o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : ''}`, o.metadata.name, '-n', ENV, '--wait=false']);
    const envAppName = `${ENV}-users-api`;
    await kubectl(['patch', 'applications.argoproj.io', envAppName, '-n', ARGOCD_NS, '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await kubectl(['delete', 'applications.argoproj.io', envAppName, '-n', ARGOCD_NS]);

    // What is left in the namespace: only the documented leftovers, plus objects the operator made and
    // owns (garbage-collected through their ownerReferences on a real cluster; envtest has no collector).
    const left: string[] = [];
    for (const kind of ['secrets', 'configmaps', 'serviceaccounts', 'services', 'deployments.apps', 'jobs.batch', 'roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io', 'networkpolicies.networking.k8s.io', 'poddisruptionbudgets.policy', 'persistentvolumeclaims', 'mongodbcommunity.mongodbcommunity.mongodb.com']) {
      const items = (JSON.parse(await kubectl(['get', kind, '-n', ENV, '-o', 'json'])).items as Obj[]);
      for (const i of items) {
        if ((i.metadata.ownerReferences ?? []).length > 0) continue;
        left.push(`${i.kind}/${i.metadata.name}`);
      }
    }
    expect(left.sort()).toEqual([
      `PersistentVolumeClaim/data-volume-${MONGODB.resourceName}-0`,
      `PersistentVolumeClaim/logs-volume-${MONGODB.resourceName}-0`,
      `Secret/${PW_A}`,
      `Secret/${PW_B}`,
      `Secret/${appUserPasswordSecret(BACKUP_USER)}`,
      `Secret/${appUserPasswordSecret(MONITOR_USER)}`,
    ].sort());
    expect(await exists({ kind: 'Namespace', name: ENV })).toBe(true);
    expect(log.length).toBeGreaterThan(5);
  }, 300_000);
});
