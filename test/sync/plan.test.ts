// The first-sync plan (scripts/lib/review/plan): Argo CD v3.5.1's order (gitops-engine sync_tasks.go as vendored in
// argo-cd@v3.5.1), what each step waits for, and each kind of stall; the repository's own bootstrap and a new
// environment finish (zx scripts/plan.ts end to end).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { applicationSteps, kindOrder, planFirstSync, type SyncPlan } from '../../scripts/lib/review/plan/plan.ts';
import { planHtml, planMarkdown, planText } from '../../scripts/lib/review/plan/format.ts';
import type { RepoApplication, RepoApplications } from '../../scripts/lib/review/validate/applications.ts';
import { createRepoCopy, REPO, type RepoCopy } from '../support/repo-copy.ts';

type Obj = Record<string, unknown>;
const SERVER = 'https://kubernetes.default.svc';
const IMAGE = 'ghcr.io/example-org/users-api';
const meta = (name: string, namespace?: string, annotations?: Obj): Obj => ({ name, ...(namespace ? { namespace } : {}), ...(annotations ? { annotations } : {}) });
const wave = (w: number): Obj => ({ 'argocd.argoproj.io/sync-wave': String(w) });

function application(name: string, project: string, ns: string, rootWave: number, source: Obj = { repoURL: 'https://git.example/r.git', path: `overlays/${name}` }, syncOptions: string[] = []): Obj {
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: meta(name, 'argocd', wave(rootWave)), spec: { project, source, destination: { server: SERVER, namespace: ns }, syncPolicy: { syncOptions } } };
}
const openProject = (name: string): Obj => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: meta(name, 'argocd', wave(-2)), spec: { sourceRepos: ['*'], destinations: [{ server: '*', namespace: '*' }], clusterResourceWhitelist: [{ group: '*', kind: '*' }] } });
const namespace = (n: string): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(n, undefined, wave(-3)) });
const crd = (group: string, kind: string): Obj => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: meta(`${kind.toLowerCase()}s.${group}`), spec: { group, scope: 'Namespaced', names: { kind } } });
const operatorDeployment = (ns: string): Obj => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('operator', ns), spec: { template: { spec: { containers: [{ name: 'o', image: 'quay.io/mongodb/mongodb-kubernetes:1.10.0' }] } } } });
const mdbc = (ns: string, w = 0, passwordSecret = 'users-db-users-api-password'): Obj => ({
  apiVersion: 'mongodbcommunity.mongodb.com/v1', kind: 'MongoDBCommunity', metadata: meta('users-db', ns, wave(w)),
  spec: { users: [{ name: 'users-api', db: 'admin', passwordSecretRef: { name: passwordSecret }, connectionStringSecretName: 'users-db-admin-users-api' }] },
});
const api = (ns: string, w = 1, secret = 'users-db-admin-users-api'): Obj => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('users-api', ns, wave(w)),
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'api', image: `${IMAGE}:1.0.0`, env: [{ name: 'MONGODB_URI', valueFrom: { secretKeyRef: { name: secret, key: 'connectionString.standard' } } }] }] } } },
});
const passwordJob = (ns: string, image = 'busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111', extraEnv: Obj[] = []): Obj => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: meta('users-db-password', ns, { 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded' }),
  spec: { template: { spec: { containers: [{ name: 'p', image, env: [{ name: 'PASSWORD_SECRET_NAME', value: 'users-db-users-api-password' }, ...extraEnv] }] } } },
});

interface Fixture {
  operatorWave?: number | null;
  watch?: string;
  env?: Obj[];
  envProject?: Obj;
  preview?: Obj[];
}

/** A repository like ours: root → projects, namespaces, the operator (chart with CRDs) and one environment. */
function repo(f: Fixture = {}): RepoApplications {
  const apps: RepoApplication[] = [];
  const children: Obj[] = [];
  if (f.operatorWave !== null) {
    const op = application('mongodb-operator', 'platform', 'mongodb-operator', f.operatorWave ?? -1, { repoURL: 'https://mongodb.github.io/helm-charts', chart: 'mongodb-kubernetes', targetRevision: '1.10.0', helm: { valuesObject: { operator: { watchNamespace: f.watch ?? '*' } } } }, ['CreateNamespace=true']);
    children.push(op);
    apps.push({ file: 'argocd/apps/mongodb-operator.yaml', app: op, source: 'operator', objects: [crd('mongodbcommunity.mongodb.com', 'MongoDBCommunity'), operatorDeployment('mongodb-operator')] });
  }
  const dev = application('dev-users-api', 'dev', 'dev', 0);
  children.push(dev);
  apps.push({ file: 'argocd/apps/dev.yaml', app: dev, source: 'environment', env: 'dev', objects: f.env ?? [passwordJob('dev'), mdbc('dev'), api('dev')] });
  const rootObjects: Obj[] = [namespace('dev'), openProject('platform'), f.envProject ?? openProject('dev'), ...children];
  if (f.preview) {
    const set = { apiVersion: 'argoproj.io/v1alpha1', kind: 'ApplicationSet', metadata: meta('previews', 'argocd') };
    rootObjects.push(set);
    const pr = application('pr-123-users-api', 'previews', 'pr-123', 0, { repoURL: 'https://git.example/r.git', path: 'previews/template' }, ['CreateNamespace=true']);
    apps.push({ file: 'argocd/previews.yaml', app: pr, source: 'preview', env: 'pr-123', objects: f.preview });
  }
  const root = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: meta('root', 'argocd'), spec: { project: 'root', source: { repoURL: 'https://git.example/r.git', path: 'argocd' }, destination: { server: SERVER, namespace: 'argocd' } } };
  apps.unshift({ file: 'argocd/root.yaml', app: root, source: 'root', objects: rootObjects });
  const projects = new Map<string, Obj>([['root', openProject('root')], ['platform', openProject('platform')], ['dev', f.envProject ?? openProject('dev')], ['previews', openProject('previews')]]);
  return { apps, projects, clusters: [{ name: 'in-cluster', server: SERVER }], notes: [] };
}
const stalls = (p: SyncPlan) => p.stalls.map((s) => `${s.kind} ${s.object}`);

describe('the order inside one Application (sync_tasks.go)', () => {
  const steps = (objects: Obj[], syncOptions: string[] = []) => applicationSteps(application('a', 'p', 'ns', 0, undefined, syncOptions), objects, (g, k) => !['Namespace', 'CustomResourceDefinition', 'ClusterRole'].includes(k)).steps
    .map((s) => `${s.phase} ${s.wave}: ${s.objects.map((o) => o.kind + (o.hook ? `(${o.deletePolicies!.join('+')})` : '')).join(',')}`);

  it('phase, then wave, then kind order, then name; CreateNamespace adds a PreSync Namespace', () => {
    expect(kindOrder('Namespace')).toBeLessThan(kindOrder('CustomResourceDefinition'));
    expect(kindOrder('Deployment')).toBeLessThan(kindOrder('Job'));
    expect(kindOrder('MongoDBCommunity')).toBe(0);
    expect(steps([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('d') },
      { apiVersion: 'v1', kind: 'Service', metadata: meta('s') },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('c', undefined, wave(-1)) },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('post', undefined, { 'argocd.argoproj.io/hook': 'PostSync' }) },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('pre', undefined, { 'helm.sh/hook': 'pre-install', 'helm.sh/hook-delete-policy': 'hook-succeeded' }) },
      { apiVersion: 'v1', kind: 'Secret', metadata: meta('skip', undefined, { 'argocd.argoproj.io/hook': 'Skip' }) },
    ], ['CreateNamespace=true'])).toEqual([
      'PreSync 0: Namespace,Job(HookSucceeded)',
      'Sync -1: ConfigMap',
      'Sync 0: Service,Deployment',
      'PostSync 0: Job(BeforeHookCreation)',
    ]);
  });

  it('moves a CRD before its first custom resource, into that resource\'s wave, and a Namespace before the first object in it', () => {
    expect(steps([
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta('w', undefined, wave(-5)) },
      crd('example.com', 'Widget'),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('c', 'other', wave(-7)) },
      { apiVersion: 'v1', kind: 'Namespace', metadata: meta('other') },
    ])).toEqual(['Sync -7: Namespace,ConfigMap', 'Sync -5: CustomResourceDefinition,Widget']);
  });
});

describe('a first sync that finishes', () => {
  it('waits for each step as Argo CD does: CRDs Established, the operator, the MongoDBCommunity, the hook Job, child Applications', () => {
    const plan = planFirstSync(repo(), { image: IMAGE });
    expect(plan.stalls).toEqual([]);
    expect(plan.finishes).toBe(true);
    const text = planText(plan);
    expect(text).toContain('CustomResourceDefinition mongodbcommunitys.mongodbcommunity.mongodb.com Established');
    expect(text).toContain('Job dev/users-db-password to complete (hook)');
    expect(text).toContain('MongoDBCommunity dev/users-db phase Running');
    expect(text).toContain('Application mongodb-operator Healthy (argocd/health/application.lua)');
    expect(text.indexOf('Application mongodb-operator (project')).toBeLessThan(text.indexOf('Application dev-users-api (project'));
  });

  it('finishes only after retries when the operator shares the environments\' root wave (a warning, not a stall)', () => {
    const plan = planFirstSync(repo({ operatorWave: 0 }), { image: IMAGE });
    expect(plan.finishes).toBe(true);
    expect(plan.warnings.map((w) => w.kind)).toEqual(expect.arrayContaining(['crd-later', 'operator-missing']));
  });
});

describe('a first sync that cannot finish, flagged', () => {
  it('a custom resource whose CRD comes in a later root wave', () => {
    expect(stalls(planFirstSync(repo({ operatorWave: 1 }), { image: IMAGE }))).toEqual(expect.arrayContaining(['crd-later MongoDBCommunity dev/users-db', 'operator-missing MongoDBCommunity dev/users-db']));
  });

  it('a custom resource whose CRD no step installs', () => {
    const plan = planFirstSync(repo({ operatorWave: null }), { image: IMAGE });
    expect(stalls(plan)).toEqual(expect.arrayContaining(['crd-missing MongoDBCommunity dev/users-db']));
    expect(plan.finishes).toBe(false);
  });

  it('a MongoDBCommunity in a namespace no operator watches', () => {
    expect(stalls(planFirstSync(repo({ watch: 'staging' }), { image: IMAGE }))).toEqual(['operator-missing MongoDBCommunity dev/users-db']);
  });

  it('a wave waiting on a Secret no step creates', () => {
    expect(stalls(planFirstSync(repo({ env: [passwordJob('dev'), mdbc('dev'), api('dev', 1, 'nobody-writes-this')] }), { image: IMAGE }))).toEqual(['dependency-missing Deployment dev/users-api']);
  });

  it('a wave waiting on the operator\'s Secret from a MongoDBCommunity of a later wave', () => {
    const plan = planFirstSync(repo({ env: [passwordJob('dev'), mdbc('dev', 2), api('dev', 1)] }), { image: IMAGE });
    expect(stalls(plan)).toEqual(['dependency-later Deployment dev/users-api']);
    expect(plan.stalls[0]!.message).toContain('Secret dev/users-db-admin-users-api');
  });

  it('a hook needing a Secret not yet there (the PreSync Job reading the connection string the operator writes later)', () => {
    const job = passwordJob('dev', undefined, [{ name: 'URI', valueFrom: { secretKeyRef: { name: 'users-db-admin-users-api', key: 'k' } } }]);
    expect(stalls(planFirstSync(repo({ env: [job, mdbc('dev'), api('dev')] }), { image: IMAGE }))).toEqual(['dependency-later Job dev/users-db-password']);
  });

  it('a MongoDBCommunity whose password Secret nobody writes (no hook)', () => {
    expect(stalls(planFirstSync(repo({ env: [mdbc('dev'), api('dev')] }), { image: IMAGE }))).toEqual(['dependency-missing MongoDBCommunity dev/users-db']);
  });

  it('a preview hook needing the pull request\'s own image', () => {
    const plan = planFirstSync(repo({ preview: [passwordJob('pr-123', `${IMAGE}:sha-0000000`), mdbc('pr-123'), api('pr-123')] }), { image: IMAGE, envs: ['pr-123'] });
    expect(stalls(plan)).toEqual(['hook-image Job pr-123/users-db-password']);
    // Not planned (created later by the ApplicationSet) unless asked for.
    expect(planFirstSync(repo({ preview: [passwordJob('pr-123', `${IMAGE}:sha-0000000`)] }), { image: IMAGE }).finishes).toBe(true);
  });

  it('an object in a namespace nothing creates', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('c', 'elsewhere') };
    expect(stalls(planFirstSync(repo({ env: [passwordJob('dev'), mdbc('dev'), api('dev'), cm] }), { image: IMAGE }))).toEqual(['namespace-missing ConfigMap elsewhere/c']);
  });

  it('a project refusal', () => {
    const narrow = { ...openProject('dev'), spec: { sourceRepos: ['*'], destinations: [{ server: '*', namespace: 'dev' }], namespaceResourceWhitelist: [{ group: 'apps', kind: 'Deployment' }, { group: 'batch', kind: 'Job' }, { group: 'mongodbcommunity.mongodb.com', kind: 'MongoDBCommunity' }] } };
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('c', 'dev') };
    const plan = planFirstSync(repo({ envProject: narrow, env: [passwordJob('dev'), mdbc('dev'), api('dev'), cm] }), { image: IMAGE });
    expect(stalls(plan)).toEqual(['refused ConfigMap dev/c']);
    expect(plan.stalls[0]!.message).toBe('Argo CD refuses the sync: resource :ConfigMap is not permitted in project dev');
  });
});

describe('readable in the PR comment and the review page', () => {
  it('markdown is one collapsed <details> section; html a fragment with everything escaped', () => {
    const bad = planFirstSync(repo({ env: [passwordJob('dev'), mdbc('dev'), api('dev', 1, '<script>x</script>')] }), { image: IMAGE });
    const md = planMarkdown(bad);
    expect(md.startsWith('<details>\n<summary>Sync plan: ❌ cannot finish: 1 stall')).toBe(true);
    expect(md.trimEnd().endsWith('</details>')).toBe(true);
    expect(md).toContain('\\<script\\>');
    const html = planHtml(bad);
    expect(html).toMatch(/^<details class="sync-plan" open><summary>Sync plan: cannot finish/);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(planHtml(planFirstSync(repo(), { image: IMAGE }))).toMatch(/^<details class="sync-plan"><summary>Sync plan: finishes/);
  });
});

function plan(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => execFile(process.execPath, [join(REPO, 'scripts/plan.ts'), ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 }, (e, stdout, stderr) => done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr })));
}

describe('zx scripts/plan.ts on the repository', () => {
  let copy: RepoCopy;
  beforeAll(() => {
    copy = createRepoCopy();
  }, 120_000);
  afterAll(() => copy?.cleanup());

  it('the first bootstrap finishes: root, the operator from its rendered chart, then every environment', async () => {
    const r = await plan([], copy.root);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Sync plan \(first sync from an empty cluster\): finishes/);
    expect(r.stdout).toContain('RoleBinding mongodb-operator/mongodb-kubernetes-operator-pvc-resize-binding');
    for (const env of ['dev', 'staging', 'prod']) expect(r.stdout).toContain(`Application ${env}-users-api (project ${env}-users-api, overlays/${env})`);
  }, 120_000);

  it('a new environment finishes, planned with the platform only; markdown collapsed; bad input exits 2', async () => {
    const r = await plan(['staging', '--format', 'markdown'], copy.root);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^<details>\n<summary>Sync plan: ✅ finishes/);
    expect(r.stdout).toContain('**staging-users-api**');
    expect(r.stdout).not.toContain('**prod-users-api**');
    expect((await plan(['nope'], copy.root)).code).toBe(2);
    expect((await plan(['--format', 'yaml'], copy.root)).code).toBe(2);
  }, 120_000);

  it('exits 1 with the stall when the platform project loses RoleBinding', async () => {
    copy.edit('argocd/projects/platform.yaml', /\n    - kind: RoleBinding\n      group: rbac.authorization.k8s.io/, '');
    const r = await plan([], copy.root);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('RoleBinding mongodb-operator/mongodb-kubernetes-operator (Application mongodb-operator): Argo CD refuses the sync: resource rbac.authorization.k8s.io:RoleBinding is not permitted in project platform');
  }, 120_000);
});
