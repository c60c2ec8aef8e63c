// bootstrap --cluster against two real API servers: the run's shared one is the cluster Argo CD runs in,
// a private one stands in for prod-eu. Registration creates what `argocd cluster add` creates (with
// least rights), honours --dry-run (nothing stored on either server), is idempotent, never prints the
// token, and the rights are proven by acting as the registered ServiceAccount with the token Argo CD got.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerCluster, registrationRules, clusterSecretName, MANAGER_NAMESPACE, MANAGER_SA, MANAGER_TOKEN_SECRET } from '../../scripts/lib/cluster/bootstrap/cluster.ts';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import type { KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import type { RepoInputs } from '../../scripts/lib/inputs/index.ts';
import type { RepoSettings } from '../../scripts/lib/inputs/spec.ts';
import { describeEnvtest, startPrivateEnvtest, uniqueName, UPSTREAM_FILES, useEnvtest, type Envtest } from '../support/envtest/index.ts';
import { crdsOf } from '../support/envtest/global-setup.ts';
import { committedSettings, envSpec } from '../generator/support.ts';
import { kubeOf, recording, writeStatus } from '../cluster/real.ts';
import { collectClusterStatus, formatClusterStatusJson, formatClusterStatusText } from '../../scripts/lib/cluster/status/clusters.ts';
import { createKube, kubeConfigFor } from '../../scripts/lib/cluster/kube/client.ts';
import { freePort } from '../support/envtest/control-plane.ts';

describeEnvtest('two clusters: bootstrap --cluster registering a second one, status across both', () => {
  let control: Envtest;
  let target: Envtest & { stop(): Promise<void> };
  let argocdNs: string;
  let settings: RepoSettings;
  let projects: KubeObject[];
  const lines: string[] = [];
  let tokenWrites = 0;

  /** The token controller's part (envtest runs no kube-controller-manager): fill the token Secret. */
  async function tokenController(): Promise<void> {
    const got = await target.kubectl(['-n', MANAGER_NAMESPACE, 'get', 'secret', MANAGER_TOKEN_SECRET, '-o', 'json']);
    if (got.code !== 0) return;
    const token = await target.serviceAccountToken(MANAGER_NAMESPACE, MANAGER_SA);
    const data = { token: Buffer.from(token).toString('base64'), 'ca.crt': Buffer.from(target.caPem).toString('base64') };
    const r = await target.kubectl(['-n', MANAGER_NAMESPACE, 'patch', 'secret', MANAGER_TOKEN_SECRET, '--type=merge', '-p', JSON.stringify({ data })]);
    if (r.code !== 0) throw new Error(r.stderr);
    tokenWrites++;
  }

  const run = (dryRun: boolean) => {
    const t = recording(kubeOf(target));
    const c = recording(kubeOf(control));
    const result = registerCluster(
      { cluster: 'prod-eu', server: 'https://prod-eu.example.com:6443', argocdNamespace: argocdNs, rules: registrationRules(settings, projects, 'prod-eu') },
      { target: t.kube, control: c.kube, log: (l) => lines.push(l), sleep: () => tokenController(), tokenWaitMs: 60_000 },
      { dryRun },
    );
    return { result, targetWrites: t.writes, controlWrites: c.writes };
  };

  beforeAll(async () => {
    control = await useEnvtest();
    target = await startPrivateEnvtest();
    // prod-eu as the operator chart leaves it: the MongoDBCommunity CRD installed (MCK 1.10.0's own file).
    const crd = crdsOf(readFileSync(join(target.upstreamDir, UPSTREAM_FILES.mck), 'utf8')).filter((o) => (o as { metadata: { name: string } }).metadata.name === 'mongodbcommunity.mongodbcommunity.mongodb.com');
    const installed = await target.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: crd }) });
    if (installed.code !== 0) throw new Error(installed.stderr);
    await target.kubectl(['wait', '--for=condition=Established', 'crd/mongodbcommunity.mongodbcommunity.mongodb.com', '--timeout=120s']);
    argocdNs = uniqueName('argocd');
    const r = await control.kubectl(['create', 'namespace', argocdNs]);
    if (r.code !== 0) throw new Error(r.stderr);
    const { previews: _p, ...committed } = committedSettings() as RepoSettings & { previews?: unknown };
    settings = { ...committed, argocd: { ...committed.argocd, namespace: argocdNs }, clusters: { 'prod-eu': { server: 'https://prod-eu.example.com:6443' } } };
    const inputs: RepoInputs = { settings, envs: { prod: { spec: envSpec(settings, 'prod', { cluster: 'prod-eu', sync: { automated: false, prune: false, selfHeal: false } }), dotenv: '' } } };
    const files = generateRepo(inputs);
    projects = Object.entries(files).filter(([f]) => f.startsWith('argocd/projects/')).map(([, t]) => parse(t) as KubeObject);
  }, 180_000);

  afterAll(async () => {
    await target?.stop();
  });

  it('--dry-run sends every write with dryRun=All and stores nothing on either server (kube-apiserver v1.28)', async () => {
    const { result, targetWrites, controlWrites } = run(true);
    const r = await result;
    expect(r.changed).toBeGreaterThan(0);
    expect([...targetWrites, ...controlWrites].every((w) => w.dryRun)).toBe(true);
    expect((await target.kubectl(['-n', MANAGER_NAMESPACE, 'get', 'serviceaccount', MANAGER_SA])).code).not.toBe(0);
    expect((await target.kubectl(['get', 'clusterrole', 'argocd-manager-role'])).code).not.toBe(0);
    expect((await control.kubectl(['-n', argocdNs, 'get', 'secret', clusterSecretName('prod-eu')])).code).not.toBe(0);
    expect(tokenWrites).toBe(0);
  });

  it('registers prod-eu as argocd cluster add does, prints what it granted, never the token; a second run changes nothing (kube-apiserver v1.28)', async () => {
    lines.length = 0;
    const first = await run(false).result;
    expect(first.changed).toBeGreaterThan(0);
    const secret = JSON.parse((await control.kubectl(['-n', argocdNs, 'get', 'secret', clusterSecretName('prod-eu'), '-o', 'json'])).stdout);
    expect(secret.metadata.labels['argocd.argoproj.io/secret-type']).toBe('cluster');
    const data = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    expect(data.name).toBe('prod-eu');
    expect(data.server).toBe('https://prod-eu.example.com:6443');
    const config = JSON.parse(data.config!);
    expect(config.tlsClientConfig).toEqual({ insecure: false, caData: Buffer.from(target.caPem).toString('base64') });
    expect(config.bearerToken.length).toBeGreaterThan(20);
    const printed = lines.join('\n');
    expect(printed).not.toContain(config.bearerToken);
    expect(printed).toContain('granted to kube-system/argocd-manager on prod-eu');
    expect(printed).toMatch(/bind,escalate on roles\.rbac\.authorization\.k8s\.io named mongodb-kubernetes-appdb, users-db-password/);
    const cm = JSON.parse((await control.kubectl(['-n', argocdNs, 'get', 'configmap', 'argocd-cm', '-o', 'json'])).stdout);
    expect(cm.data['resource.respectRBAC']).toBe('normal');

    lines.length = 0;
    const second = await run(false);
    expect((await second.result).changed).toBe(0);
    expect(second.targetWrites.concat(second.controlWrites).filter((w) => !w.dryRun)).toEqual([]);
  });

  it('the registered ServiceAccount can deploy what the repository renders there and nothing more (kube-apiserver v1.28)', async () => {
    const secret = JSON.parse((await control.kubectl(['-n', argocdNs, 'get', 'secret', clusterSecretName('prod-eu'), '-o', 'json'])).stdout);
    const token = JSON.parse(Buffer.from(secret.data.config, 'base64').toString('utf8')).bearerToken as string;
    const can = async (...args: string[]) => (await target.kubectl(['auth', 'can-i', ...args], { token })).stdout.trim();
    // Not cluster-admin.
    expect(await can('*', '*', '--all-namespaces')).toBe('no');
    expect(await can('get', 'secrets', '-n', 'prod')).toBe('no');
    expect(await can('get', 'nodes')).toBe('no');
    expect(await can('create', 'pods', '-n', 'prod')).toBe('no');
    // What the environment and the operator chart render.
    for (const r of ['deployments.apps', 'services', 'configmaps', 'jobs.batch', 'mongodbcommunity.mongodbcommunity.mongodb.com', 'networkpolicies.networking.k8s.io', 'poddisruptionbudgets.policy', 'roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io']) {
      expect(`${r}: ${await can('create', r, '-n', 'prod')}`).toBe(`${r}: yes`);
      expect(`${r}: ${await can('delete', r, '-n', 'prod')}`).toBe(`${r}: yes`);
    }
    // Cluster-scoped objects by name only (create cannot be limited by name in Kubernetes RBAC).
    expect(await can('update', 'customresourcedefinitions/mongodbcommunity.mongodbcommunity.mongodb.com')).toBe('yes');
    expect(await can('update', 'customresourcedefinitions/other.example.com')).toBe('no');
    expect(await can('delete', 'namespaces/prod')).toBe('yes');
    expect(await can('delete', 'namespaces/kube-system')).toBe('no');

    // Real requests as Argo CD sends them (every Application here syncs with ServerSideApply=true: a PATCH
    // to the object's URL, so its name is known to RBAC): the Namespace, then the environment's Role and
    // RoleBinding, which grant what the ServiceAccount does not hold (allowed by escalate/bind on those
    // names); no other Role with the same rights, no binding to cluster-admin, and no plain create of
    // the Role either (a POST carries no name, so escalate-by-name cannot apply: Kubernetes RBAC).
    const as = (args: string[], input: string) => target.kubectl(args, { token, input });
    const ssa = ['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'];
    expect((await as(ssa, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } }))).stderr).toBe('');
    const role = (name: string) => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: 'prod' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'patch'] }] });
    expect((await as(ssa, role('users-db-password'))).stderr).toBe('');
    for (const refused of [await as(ssa, role('anything-else')), await as(['create', '-f', '-'], role('mongodb-kubernetes-appdb'))]) {
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/attempting to grant RBAC permissions not currently held/);
    }
    const binding = (roleRef: { kind: string; name: string }) => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `b-${roleRef.name}`, namespace: 'prod' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'prod' }] });
    expect((await as(ssa, binding({ kind: 'Role', name: 'users-db-password' }))).stderr).toBe('');
    const admin = await as(ssa, binding({ kind: 'ClusterRole', name: 'cluster-admin' }));
    expect(admin.code).not.toBe(0);
    expect(admin.stderr).toMatch(/forbidden/i);
    // The token gives nothing on the cluster Argo CD runs in.
    expect((await control.kubectl(['auth', 'can-i', 'get', 'secrets', '-n', argocdNs], { token })).stdout.trim()).not.toBe('yes');
  });

  it('status groups environments by cluster and tells an unreachable cluster apart from a broken environment (kube-apiserver v1.28)', async () => {
    // Argo CD's Applications on the control plane: prod (on prod-eu) Degraded, staging (on prod-us) Healthy.
    const app = (env: string, cluster: string) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: `${env}-users-api`, namespace: argocdNs }, spec: { project: 'default', source: { repoURL: 'https://example.com/r.git', path: `overlays/${env}` }, destination: { name: cluster, namespace: env } } });
    const r = await control.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [app('prod', 'prod-eu'), app('staging', 'prod-us')] }) });
    expect(r.stderr).toBe('');
    await writeStatus(control, 'application', argocdNs, 'prod-users-api', { sync: { status: 'Synced' }, health: { status: 'Degraded', message: 'Deployment users-api exceeded its progress deadline' } }, false);
    await writeStatus(control, 'application', argocdNs, 'staging-users-api', { sync: { status: 'Synced' }, health: { status: 'Healthy' } }, false);
    const nowhere = `https://127.0.0.1:${await freePort()}`; // nothing listens there: prod-us is unreachable
    const clusters = [
      { name: 'in-cluster', server: 'https://kubernetes.default.svc', kube: kubeOf(control) },
      { name: 'prod-eu', server: 'https://prod-eu.example.com:6443', context: 'prod-eu-admin', kube: kubeOf(target) },
      { name: 'prod-us', server: 'https://prod-us.example.com:6443', context: 'prod-us-admin', kube: createKube(kubeConfigFor(nowhere), { timeoutMs: 5_000 }) },
    ];
    const envs = [{ name: 'prod', namespace: 'prod', application: 'prod-users-api', cluster: 'prod-eu' }, { name: 'staging', namespace: 'staging', application: 'staging-users-api', cluster: 'prod-us' }];
    const result = await collectClusterStatus(kubeOf(control), clusters, envs, argocdNs);
    expect(result.map((c) => [c.name, c.reachable, c.environments.map((e) => `${e.env} degraded=${e.degraded}`)])).toEqual([
      ['prod-eu', true, ['prod degraded=true']],
      ['prod-us', false, ['staging degraded=false']],
    ]);
    expect(result[1]!.error).toMatch(/ECONNREFUSED|refused/i);
    const text = formatClusterStatusText(result);
    expect(text).toContain('cluster prod-eu (https://prod-eu.example.com:6443, context prod-eu-admin): reachable\n  prod (namespace prod): DEGRADED');
    expect(text).toContain('cluster prod-us (https://prod-us.example.com:6443, context prod-us-admin): UNREACHABLE: ');
    expect(text).toContain('  staging (namespace staging): progressing');
    expect(text).toContain('cluster prod-us is unreachable from here, so its workloads are unknown (not an environment fault)');
    // On the reachable cluster the workloads were read there: prod's Deployment is missing on prod-eu.
    expect(result[0]!.environments[0]!.problems).toContain('Deployment prod/users-api does not exist yet');
    expect(JSON.parse(formatClusterStatusJson(result)).unreachable).toEqual(['prod-us']);
  });
});

