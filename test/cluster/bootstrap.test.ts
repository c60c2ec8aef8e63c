import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runBootstrap, INSTALL_FIELD_MANAGER } from '../../scripts/lib/bootstrap/index.ts';
import { FIELD_MANAGER } from '../../scripts/lib/kube/client.ts';
import { exitCodeOf } from '../../scripts/lib/errors.ts';
import { MONGODB } from '../../scripts/lib/spec.ts';
import { bootstrapInputs } from '../support/fake-kube/fixtures.ts';
import { closedPortUrl, requestLines } from '../support/fake-kube/server.ts';
import { createKube, kubeConfigFor } from '../../scripts/lib/kube/client.ts';
import { harness, isRead, secondClient } from './harness.ts';
import type { Harness } from './harness.ts';

const SSA = 'application/apply-patch+yaml';
const REVIEWS = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
const REPO_TOKEN = 'dummy-repo-token-zzzz';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.close();
  h = undefined;
});

async function failure(p: Promise<unknown>): Promise<{ message: string; code: number }> {
  try {
    await p;
  } catch (error) {
    return { message: (error as Error).message, code: exitCodeOf(error) };
  }
  throw new Error('expected the run to fail');
}

describe('bootstrap against a fresh cluster', () => {
  it('makes exactly the expected requests, in order: preflight, Argo CD, health checks, secrets, repo, project, root app', async () => {
    h = await harness();
    await runBootstrap(bootstrapInputs(), h.deps, { dryRun: false });
    const apply = (path: string, manager = FIELD_MANAGER) => `PATCH ${path} ${SSA} fieldManager=${manager}`;
    const install = (path: string) => apply(path, INSTALL_FIELD_MANAGER);
    const seen = h.fake.requests.map((r) =>
      r.method === 'PATCH' ? `PATCH ${r.path} ${r.contentType} fieldManager=${r.query.fieldManager}` : r.method === 'POST' && r.path !== REVIEWS ? `POST ${r.path} ${r.contentType}` : `${r.method} ${r.path}`,
    );
    expect(seen).toEqual([
      'GET /version',
      ...Array(13).fill(`POST ${REVIEWS}`),
      'GET /apis/storage.k8s.io/v1',
      'GET /apis/storage.k8s.io/v1/storageclasses',
      'GET /apis/networking.k8s.io/v1',
      'GET /apis/networking.k8s.io/v1/ingressclasses',
      'GET /api/v1',
      'GET /api/v1/namespaces/argocd',
      apply('/api/v1/namespaces/argocd'),
      'GET /apis/apiextensions.k8s.io/v1',
      'GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions/applications.argoproj.io',
      install('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/applications.argoproj.io'),
      'GET /api/v1/namespaces/argocd/serviceaccounts/argocd-server',
      install('/api/v1/namespaces/argocd/serviceaccounts/argocd-server'),
      'GET /apis/rbac.authorization.k8s.io/v1',
      'GET /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/argocd-server',
      install('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/argocd-server'),
      'GET /api/v1/namespaces/argocd/configmaps/argocd-cm',
      install('/api/v1/namespaces/argocd/configmaps/argocd-cm'),
      'GET /apis/apps/v1',
      'GET /apis/apps/v1/namespaces/argocd/deployments/argocd-server',
      install('/apis/apps/v1/namespaces/argocd/deployments/argocd-server'),
      'GET /apis/apps/v1/namespaces/argocd/statefulsets/argocd-application-controller',
      install('/apis/apps/v1/namespaces/argocd/statefulsets/argocd-application-controller'),
      // readiness
      'GET /apis/apps/v1/namespaces/argocd/deployments/argocd-server',
      'GET /apis/apps/v1/namespaces/argocd/statefulsets/argocd-application-controller',
      // health checks, under our own field manager
      'GET /api/v1/namespaces/argocd/configmaps/argocd-cm',
      apply('/api/v1/namespaces/argocd/configmaps/argocd-cm'),
      // environments, sorted by name
      'GET /api/v1/namespaces/users-prod',
      apply('/api/v1/namespaces/users-prod'),
      `GET /api/v1/namespaces/users-prod/secrets/${MONGODB.passwordSecret}`,
      'POST /api/v1/namespaces/users-prod/secrets application/json',
      'GET /api/v1/namespaces/users-staging',
      apply('/api/v1/namespaces/users-staging'),
      `GET /api/v1/namespaces/users-staging/secrets/${MONGODB.passwordSecret}`,
      'POST /api/v1/namespaces/users-staging/secrets application/json',
      'GET /api/v1/namespaces/argocd/secrets/gitops-repo',
      apply('/api/v1/namespaces/argocd/secrets/gitops-repo'),
      'GET /apis/argoproj.io/v1alpha1',
      'GET /apis/argoproj.io/v1alpha1/namespaces/argocd/appprojects/users-api',
      apply('/apis/argoproj.io/v1alpha1/namespaces/argocd/appprojects/users-api'),
      'GET /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/root',
      apply('/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/root'),
    ]);
    expect(h.fake.violations).toEqual([]);
    expect(h.lines.at(-1)).toBe('bootstrap done: 15 change(s) applied');
  });

  it('sends each object as its body: the install manifest forced, the root Application as committed', async () => {
    h = await harness();
    await runBootstrap(bootstrapInputs(), h.deps, { dryRun: false });
    const body = (path: string) => parseYaml(h!.fake.requests.find((r) => r.method === 'PATCH' && r.path === path)!.body) as Record<string, unknown>;
    const deployment = h.fake.requests.find((r) => r.path === '/apis/apps/v1/namespaces/argocd/deployments/argocd-server' && r.method === 'PATCH')!;
    expect(deployment.query.force).toBe('true');
    // Sent as written: schema keys such as x-kubernetes-preserve-unknown-fields survive.
    expect(body('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/applications.argoproj.io')).toMatchObject({
      spec: { versions: [{ schema: { openAPIV3Schema: { properties: { spec: { 'x-kubernetes-preserve-unknown-fields': true } } } } }] },
    });
    expect(body('/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/root')).toMatchObject({ kind: 'Application', spec: { source: { path: 'argocd/apps' } } });
    const cm = h.fake.find('v1', 'ConfigMap', 'argocd-cm', 'argocd')!;
    // Both managers' fields survive: upstream's labels and our health check.
    expect(cm.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'argocd' });
    expect(Object.keys(cm.data as object)).toEqual(['resource.customizations.health.argoproj.io_Application']);
    const repo = h.fake.find('v1', 'Secret', 'gitops-repo', 'argocd')!;
    expect(repo.metadata.labels).toMatchObject({ 'argocd.argoproj.io/secret-type': 'repository' });
  });

  it('points upstream\'s ClusterRoleBinding subjects at the namespace Argo CD is installed in', async () => {
    h = await harness();
    await runBootstrap(bootstrapInputs({ argocd: { version: 'v3.1.0', namespace: 'gitops' } }), h.deps, { dryRun: false });
    const crb = h.fake.find('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'argocd-server')!;
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'argocd-server', namespace: 'gitops' }]);
    expect(h.lines).toContain('Argo CD v3.1.0 from https://raw.githubusercontent.com/argoproj/argo-cd/v3.1.0/manifests/install.yaml');
  });

  it('shows progress while Argo CD starts and waits until every workload is ready', async () => {
    h = await harness({ readyAfterReads: 2 });
    await runBootstrap(bootstrapInputs(), { ...h.deps, readiness: { timeoutMs: 1000, intervalMs: 10 } }, { dryRun: false });
    const progress = h.lines.filter((l) => l.includes('Argo CD ready'));
    expect(progress[0]).toMatch(/ready: 0\/2 \(waiting for argocd-server, argocd-application-controller\)/);
    expect(progress.at(-1)).toMatch(/ready: 2\/2$/);
  });

  it('gives up waiting after the bound and names the workloads that are not ready', async () => {
    h = await harness({ readyAfterReads: 1_000 });
    const f = await failure(runBootstrap(bootstrapInputs(), { ...h.deps, readiness: { timeoutMs: 30, intervalMs: 10 } }, { dryRun: false }));
    expect(f.message).toMatch(/Argo CD is not ready after .*argocd-server, argocd-application-controller/);
    expect(f.message).toMatch(/fix: kubectl -n argocd get pods/);
    expect(f.code).toBe(2);
  });
});

describe('bootstrap is idempotent', () => {
  it('a second run only reads and says nothing changed', async () => {
    h = await harness();
    await runBootstrap(bootstrapInputs(), h.deps, { dryRun: false });
    const before = h.fake.requests.length;
    const lines: string[] = [];
    const result = await runBootstrap(bootstrapInputs(), { ...h.deps, kube: secondClient(h), log: (l) => lines.push(l) }, { dryRun: false });
    const second = h.fake.requests.slice(before);
    expect(second.length).toBeGreaterThan(20);
    expect(second.filter((r) => !isRead(r)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(result.changed).toBe(0);
    expect(lines.at(-1)).toBe('nothing to change: the cluster already matches (15 objects checked)');
  });

  it('never replaces an existing database password', async () => {
    h = await harness();
    const existing = Buffer.from('dummy-kept-password').toString('base64');
    h.fake.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'users-prod' } });
    h.fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: MONGODB.passwordSecret, namespace: 'users-prod' }, data: { password: existing } });
    await runBootstrap(bootstrapInputs(), h.deps, { dryRun: false });
    expect((h.fake.find('v1', 'Secret', MONGODB.passwordSecret, 'users-prod')!.data as Record<string, string>).password).toBe(existing);
    expect(h.issued).toHaveLength(1); // only staging got a new one
    expect(h.lines).toContain(`  unchanged Secret users-prod/users-db password (kept: existing passwords are never replaced)`);
  });

  it('applies only what drifted: an edited root Application is updated, nothing else', async () => {
    h = await harness();
    await runBootstrap(bootstrapInputs(), h.deps, { dryRun: false });
    const root = h.fake.find('argoproj.io/v1alpha1', 'Application', 'root', 'argocd')!;
    (root.spec as { source: { targetRevision: string } }).source.targetRevision = 'hand-edited';
    const before = h.fake.requests.length;
    const result = await runBootstrap(bootstrapInputs(), { ...h.deps, kube: secondClient(h) }, { dryRun: false });
    expect(result.steps.filter((s) => s.action !== 'unchanged')).toEqual([{ object: 'Application argocd/root', action: 'update' }]);
    expect(h.fake.requests.slice(before).filter((r) => !isRead(r)).map((r) => `${r.method} ${r.path}`)).toEqual(['PATCH /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/root']);
  });
});

describe('bootstrap --dry-run', () => {
  it('only reads, prints what it would do, and changes nothing', async () => {
    h = await harness();
    const objectsBefore = h.fake.objects.size;
    const result = await runBootstrap(bootstrapInputs(), h.deps, { dryRun: true });
    expect(h.fake.requests.filter((r) => !isRead(r))).toEqual([]);
    expect(h.fake.objects.size).toBe(objectsBefore);
    expect(h.lines).toContain('  would create Deployment argocd/argocd-server');
    expect(h.lines).toContain('  would create Secret users-staging/users-db password (random value, not shown)');
    expect(h.lines.at(-1)).toBe('dry run: 15 change(s) planned; nothing was changed');
    expect(result.changed).toBe(15);
    expect(h.issued).toEqual([]);
  });
});

describe('bootstrap preflight failures say what to do and change nothing', () => {
  it('no default StorageClass', async () => {
    h = await harness({ seed: { defaultStorageClass: false } });
    const f = await failure(runBootstrap(bootstrapInputs(), h.deps, { dryRun: false }));
    expect(f.code).toBe(2);
    expect(f.message).toContain('no default StorageClass (found: local-path)');
    expect(f.message).toContain('fix: mark one default: kubectl annotate storageclass local-path storageclass.kubernetes.io/is-default-class=true');
    expect(h.fake.requests.filter((r) => !isRead(r))).toEqual([]);
  });

  it('no IngressClass', async () => {
    h = await harness({ seed: { ingressClass: false } });
    const f = await failure(runBootstrap(bootstrapInputs(), h.deps, { dryRun: false }));
    expect(f.message).toMatch(/no IngressClass.*\n.*fix: install an ingress controller \(k3s ships Traefik/);
  });

  it('403: the access review names every missing permission and how to check it', async () => {
    h = await harness({ forbidden: ['create secrets', 'patch customresourcedefinitions'] });
    const f = await failure(runBootstrap(bootstrapInputs(), h.deps, { dryRun: false }));
    expect(f.code).toBe(2);
    expect(f.message).toContain('not allowed to patch customresourcedefinitions.apiextensions.k8s.io');
    expect(f.message).toContain('not allowed to create secrets in namespace users-staging');
    expect(f.message).toContain('kubectl auth can-i create secrets -n users-prod');
    expect(h.fake.requests.filter((r) => !isRead(r))).toEqual([]);
  });

  it('403 on a request itself (RBAC changed after the access review) names the request and the fix', async () => {
    h = await harness();
    // Deny namespace patches only once preflight has passed.
    const log = (l: string) => {
      h!.lines.push(l);
      if (l.startsWith('preflight ok')) h!.fake.options.forbidden = ['patch namespaces'];
    };
    const f = await failure(runBootstrap(bootstrapInputs(), { ...h.deps, log }, { dryRun: false }));
    expect(f.message).toMatch(/server-side apply of Namespace argocd failed: HTTP 403/);
    expect(f.message).toMatch(/fix: ask a cluster admin/);
    expect(f.code).toBe(2);
  });

  it('unreachable cluster', async () => {
    const url = await closedPortUrl();
    const kube = createKube(kubeConfigFor(url), { timeoutMs: 2_000 });
    const lines: string[] = [];
    const f = await failure(runBootstrap(bootstrapInputs(), { kube, fetchManifest: async () => '', newPassword: () => 'x', log: (l) => lines.push(l), sleep: async () => {} }, { dryRun: false }));
    expect(f.code).toBe(2);
    expect(f.message).toContain(`cannot reach the cluster at ${url} (ECONNREFUSED)`);
    expect(f.message).toMatch(/fix: start the cluster \(k3s: sudo systemctl start k3s\)/);
  });

  it('a slow API server times out with a clear message', async () => {
    h = await harness({ delayMs: 1_000, timeoutMs: 150 });
    const f = await failure(runBootstrap(bootstrapInputs(), h.deps, { dryRun: false }));
    expect(f.code).toBe(2);
    expect(f.message).toMatch(/^reading the server version timed out after 150 ms/);
  });
});

describe('bootstrap keeps secrets out of output', () => {
  it('neither the generated passwords nor the repository token appear in any line it prints, on either run', async () => {
    h = await harness();
    const inputs = bootstrapInputs({ repoCredentials: { username: 'git', password: REPO_TOKEN } });
    await runBootstrap(inputs, h.deps, { dryRun: false });
    await runBootstrap(inputs, { ...h.deps, kube: secondClient(h) }, { dryRun: true });
    expect(h.issued).toHaveLength(2);
    const printed = h.lines.join('\n');
    for (const secret of [...h.issued, REPO_TOKEN, Buffer.from(REPO_TOKEN).toString('base64'), ...h.issued.map((p) => Buffer.from(p).toString('base64'))]) {
      expect(printed).not.toContain(secret);
    }
    // …while they did reach the cluster, which is where they belong.
    const repo = h.fake.find('v1', 'Secret', 'gitops-repo', 'argocd')!;
    expect(Buffer.from((repo.data as Record<string, string>).password!, 'base64').toString()).toBe(REPO_TOKEN);
    expect(requestLines(h.fake.requests)).toContain('POST /api/v1/namespaces/users-prod/secrets');
  });
});
