// bootstrap end to end on a real, fresh API server (its own, so it starts without any CRD, like a new
// k3s cluster): preflight, --dry-run (every write sent with dryRun=All), the real run with Argo CD
// v3.5.1's install.yaml from a file, a second run that writes nothing, a third after Argo CD has
// written its statuses and synced the AppProjects at another revision, a 409 whose printed fix works,
// and the repository credentials replaced, kept and removed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBootstrap } from '../../scripts/lib/cluster/bootstrap/index.ts';
import type { BootstrapDeps, BootstrapInputs } from '../../scripts/lib/cluster/bootstrap/index.ts';
import { readBootstrapInputs } from '../../scripts/lib/cluster/bootstrap/inputs.ts';
import { readManifestFile } from '../../scripts/lib/cluster/bootstrap/fetch.ts';
import { ARGOCD_TESTED_KUBERNETES } from '../../scripts/lib/cluster/bootstrap/preflight.ts';
import { collectStatus, formatStatusText } from '../../scripts/lib/cluster/status/index.ts';
import { exitCodeOf } from '../../scripts/lib/core/errors.ts';
import type { Kube, KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { UPSTREAM_FILES, describeEnvtest, startPrivateEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { CHECKOUT, REPO, kubeOf, must, recording, writeStatus } from './real.ts';

const REPO_TOKEN = 'dummy-repo-token-envtest-7777';

async function failure(p: Promise<unknown>): Promise<{ message: string; code: number }> {
  try {
    await p;
  } catch (error) {
    return { message: (error as Error).message, code: exitCodeOf(error) };
  }
  throw new Error('expected the run to fail');
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(CHECKOUT, 'scripts/bootstrap.ts'), ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describeEnvtest('bootstrap on a fresh real cluster', () => {
  let env: Envtest & { stop(): Promise<void> };
  let inputs: BootstrapInputs;
  let manifestFile: string;
  let manifest: string;
  const lines: string[] = [];
  const ns = () => inputs.argocd.namespace;

  /** Plays the Deployment/StatefulSet controllers: every Argo CD workload reports ready. */
  async function workloadsBecomeReady(kube: Kube): Promise<void> {
    for (const kind of ['Deployment', 'StatefulSet']) {
      for (const w of await kube.list('apps/v1', kind, ns())) {
        const replicas = (w.spec as { replicas?: number }).replicas ?? 1;
        await writeStatus(env, kind.toLowerCase(), ns(), w.metadata.name, {
          observedGeneration: w.metadata.generation, replicas, readyReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas, ...(kind === 'StatefulSet' ? { currentReplicas: replicas } : {}),
        });
      }
    }
  }

  function deps(kube: Kube): BootstrapDeps {
    return {
      kube,
      fetchManifest: async () => manifest,
      log: (l) => lines.push(l),
      sleep: async () => workloadsBecomeReady(kube),
      readiness: { timeoutMs: 60_000, intervalMs: 1 },
    };
  }

  beforeAll(async () => {
    env = await startPrivateEnvtest();
    inputs = { ...(await readBootstrapInputs(REPO)) };
    manifestFile = join(env.upstreamDir, UPSTREAM_FILES.argocd);
    manifest = readManifestFile(manifestFile);
    // What k3s brings: the local-path default StorageClass and Traefik's IngressClass.
    await must(env, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'rancher.io/local-path' },
        { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'traefik' }, spec: { controller: 'traefik.io/ingress-controller' } },
      ],
    }));
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('a manifest of another Argo CD version than gitops.yaml pins is refused before any request (kube-apiserver v1.28)', async () => {
    const r = recording(kubeOf(env));
    const f = await failure(runBootstrap({ ...inputs, argocd: { ...inputs.argocd, version: 'v3.4.0' }, manifestFile }, deps(r.kube), { dryRun: true }));
    expect(f.code).toBe(2);
    expect(f.message).toContain(`the Argo CD manifest ${manifestFile} installs v3.5.1, but gitops.yaml pins argocd.version v3.4.0; nothing was changed`);
    expect(r.writes).toEqual([]);
  });

  it('preflight refuses a Kubernetes version outside Argo CD 3.5\'s tested range, citing it, and writes nothing (kube-apiserver v1.28)', async () => {
    const r = recording(kubeOf(env));
    const f = await failure(runBootstrap(inputs, deps(r.kube), { dryRun: false }));
    expect(f.code).toBe(2);
    expect(f.message).toContain(`Kubernetes v1.28.0 is outside the range Argo CD 3.5 is tested with (v1.33–v1.36, ${ARGOCD_TESTED_KUBERNETES.source})`);
    expect(f.message).toContain('--allow-untested-kubernetes');
    expect(r.writes).toEqual([]);
  });

  it('preflight as a user without rights lists every failure, the failed StorageClass and IngressClass lists included (kube-apiserver v1.28)', async () => {
    const kube = kubeOf(env, { kubeconfigPath: env.kubeconfigForToken(env.noRightsToken) });
    const f = await failure(runBootstrap(inputs, deps(kube), { dryRun: true, allowUntestedKubernetes: true }));
    expect(f.code).toBe(2);
    const problems = f.message.split('\n').filter((l) => /^ {2}\S/.test(l));
    expect(problems.length).toBe(12); // 10 permissions + 2 lists
    expect(f.message).toContain('not allowed to patch namespaces');
    expect(f.message).toContain('not allowed to create appprojects.argoproj.io in namespace argocd');
    expect(f.message).toMatch(/cannot list storageclasses\.storage\.k8s\.io: listing StorageClass failed on cluster https:\/\/127\.0\.0\.1:\d+ \(context envtest\): HTTP 403 Forbidden: storageclasses\.storage\.k8s\.io is forbidden: User "envtest-nobody"/);
    expect(f.message).toMatch(/cannot list ingressclasses\.networking\.k8s\.io/);
  });

  it('--dry-run sends every write with dryRun=All and stores nothing (kube-apiserver v1.28)', async () => {
    const r = recording(kubeOf(env));
    lines.length = 0;
    const result = await runBootstrap(inputs, deps(r.kube), { dryRun: true, allowUntestedKubernetes: true });
    expect(result.changed).toBeGreaterThan(50);
    expect(r.writes.length).toBeGreaterThanOrEqual(8);
    expect(r.writes.every((w) => w.dryRun)).toBe(true);
    // Cluster-scoped objects were admitted by the server; objects in the namespace it would create say why they were not.
    expect(r.writes.map((w) => w.object)).toContain('CustomResourceDefinition applications.argoproj.io');
    expect(r.writes.map((w) => w.object)).toContain('ClusterRole argocd-server');
    expect(lines).toContain('  would create Deployment argocd/argocd-server (not dry-run on the server: namespace argocd is created first)');
    expect(lines.at(-1)).toMatch(/^dry run: \d+ change\(s\) planned and admitted by the server \(dryRun=All\); nothing was changed$/);
    expect((await env.kubectl(['get', 'namespace', 'argocd'])).code).not.toBe(0);
    expect((await env.kubectl(['get', 'crd', 'applications.argoproj.io'])).code).not.toBe(0);
  });

  it('installs Argo CD v3.5.1 from --argocd-manifest, the health checks, the repository, the AppProjects and the root (kube-apiserver v1.28)', async () => {
    const r = recording(kubeOf(env));
    lines.length = 0;
    const result = await runBootstrap({ ...inputs, manifestFile, repoCredentials: { username: 'git', password: REPO_TOKEN } }, deps(r.kube), { dryRun: false, allowUntestedKubernetes: true });
    expect(lines[1]).toBe(`warning: Kubernetes v1.28.0 is outside the range Argo CD 3.5 is tested with (v1.33–v1.36, ${ARGOCD_TESTED_KUBERNETES.source}); continuing (--allow-untested-kubernetes)`);
    expect(lines).toContain(`Argo CD v3.5.1 from ${manifestFile}`);
    expect(lines.some((l) => /Argo CD ready: (\d+)\/\1$/.test(l))).toBe(true);
    expect(result.changed).toBeGreaterThan(50);
    expect(r.writes.filter((w) => !w.dryRun).length).toBeGreaterThan(50);
    const cm = JSON.parse(await must(env, ['-n', 'argocd', 'get', 'configmap', 'argocd-cm', '-o', 'json'])) as KubeObject;
    // Ours and upstream's keys side by side (two field managers), upstream's labels kept.
    expect(Object.keys(cm.data as object)).toEqual(expect.arrayContaining([...Object.keys(inputs.healthChecks), 'resource.exclusions']));
    expect(cm.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'argocd' });
    // Argo CD Notifications' triggers and templates (docs/monitoring.md), beside upstream's labels.
    const notifications = JSON.parse(await must(env, ['-n', 'argocd', 'get', 'configmap', 'argocd-notifications-cm', '-o', 'json'])) as KubeObject;
    expect(notifications.data).toEqual(inputs.notifications);
    expect(notifications.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'notifications-controller' });
    const projects = (await must(env, ['-n', 'argocd', 'get', 'appprojects', '-o', 'name'])).trim().split('\n').sort();
    expect(projects).toEqual(inputs.projects.map((p) => `appproject.argoproj.io/${p.metadata.name}`).sort());
    expect((await must(env, ['-n', 'argocd', 'get', 'application', 'root', '-o', 'jsonpath={.spec.source.path}']))).toBe((inputs.root.spec as { source: { path: string } }).source.path);
    // No password Secret, no environment namespace: those come from git through Argo CD now.
    expect(r.writes.filter((w) => /^Secret /.test(w.object) && !w.object.startsWith('Secret argocd/argocd-')).map((w) => w.object)).toEqual(['Secret argocd/gitops-repo']);
    expect(r.writes.filter((w) => w.object.startsWith('Namespace ')).map((w) => w.object)).toEqual(['Namespace argocd']);
    expect(lines.join('\n')).not.toContain(REPO_TOKEN);
  });

  it('a second run writes nothing (only dry-runs its own objects to compare) (kube-apiserver v1.28)', async () => {
    const r = recording(kubeOf(env));
    lines.length = 0;
    const result = await runBootstrap(inputs, deps(r.kube), { dryRun: false, allowUntestedKubernetes: true });
    expect(r.writes.filter((w) => !w.dryRun)).toEqual([]);
    expect(result.changed).toBe(0);
    expect(lines.at(-1)).toMatch(/^nothing to change: the cluster already matches \(\d+ objects checked\)$/);
  });

  it('after Argo CD wrote its statuses and synced the AppProjects at another revision, bootstrap writes nothing and leaves them to Argo CD (kube-apiserver v1.28)', async () => {
    // As the application controller: the root's status.
    await must(env, ['-n', 'argocd', 'patch', 'application', 'root', '--type=merge', '-p', JSON.stringify({
      status: { sync: { status: 'Synced', revision: 'a'.repeat(40) }, health: { status: 'Healthy' }, operationState: { phase: 'Succeeded', message: 'successfully synced', startedAt: '2026-12-01T00:00:00Z', operation: { sync: { revision: 'a'.repeat(40) } } } },
    })]);
    // As Argo CD's sync (ServerSideApply, manager argocd-controller, forced): every AppProject at a newer revision.
    const synced = inputs.projects.map((p) => ({ ...p, metadata: { ...p.metadata, namespace: 'argocd' }, spec: { ...(p.spec as object), description: 'synced by Argo CD at a newer revision' } }));
    await must(env, ['apply', '--server-side', '--force-conflicts', '--field-manager=argocd-controller', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: synced }));
    const r = recording(kubeOf(env));
    lines.length = 0;
    const result = await runBootstrap(inputs, deps(r.kube), { dryRun: false, allowUntestedKubernetes: true });
    expect(r.writes.filter((w) => !w.dryRun)).toEqual([]);
    expect(result.changed).toBe(0);
    expect(lines.filter((l) => l.includes('AppProject'))).toEqual(inputs.projects.map((p) => `  unchanged AppProject argocd/${p.metadata.name} (exists: Argo CD manages it from git)`));
    const description = await must(env, ['-n', 'argocd', 'get', 'appproject', inputs.projects[0]!.metadata.name, '-o', 'jsonpath={.spec.description}']);
    expect(description).toBe('synced by Argo CD at a newer revision');
  });

  it('a 409 on the root names the field and the other manager, and the printed fix works (kube-apiserver v1.28)', async () => {
    const taken = { ...inputs.root, metadata: { ...inputs.root.metadata, namespace: 'argocd' }, spec: { ...(inputs.root.spec as object), source: { ...(inputs.root.spec as { source: object }).source, targetRevision: 'someone-elses-branch' } } };
    await must(env, ['apply', '--server-side', '--force-conflicts', '--field-manager=argocd-controller', '-f', '-'], JSON.stringify(taken));
    const f = await failure(runBootstrap(inputs, deps(kubeOf(env)), { dryRun: false, allowUntestedKubernetes: true }));
    expect(f.code).toBe(2);
    expect(f.message).toMatch(/^(dry-run )?server-side apply of Application argocd\/root failed on cluster https:\/\/127\.0\.0\.1:\d+ \(context envtest\): HTTP 409 Conflict: \.spec\.source\.targetRevision is managed by "argocd-controller"/);
    const fix = /`(kubectl [^`]+)`/.exec(f.message)?.[1];
    expect(fix).toBe('kubectl -n argocd apply --server-side --force-conflicts --field-manager=gitops-toolkit -f argocd/root.yaml');
    // The fix, as printed, from the repository root.
    await must(env, fix!.split(' ').slice(1));
    const r = recording(kubeOf(env));
    const result = await runBootstrap(inputs, deps(r.kube), { dryRun: false, allowUntestedKubernetes: true });
    expect(result.changed).toBe(0);
    expect(r.writes.filter((w) => !w.dryRun)).toEqual([]);
  });

  it('repository credentials: kept when none are given, removed with removeRepoCredentials (kube-apiserver v1.28)', async () => {
    const keys = async () => Object.keys(JSON.parse(await must(env, ['-n', 'argocd', 'get', 'secret', 'gitops-repo', '-o', 'json'])).data).sort();
    expect(await keys()).toEqual(['password', 'type', 'url', 'username']);
    await runBootstrap(inputs, deps(kubeOf(env)), { dryRun: false, allowUntestedKubernetes: true });
    expect(await keys()).toEqual(['password', 'type', 'url', 'username']);
    lines.length = 0;
    await runBootstrap({ ...inputs, removeRepoCredentials: true }, deps(kubeOf(env)), { dryRun: false, allowUntestedKubernetes: true });
    expect(await keys()).toEqual(['type', 'url']);
    expect(lines).toContain('  removed the repository credentials from Secret argocd/gitops-repo');
  });

  it('--dry-run shows a rejection before a real run: an invalid root is refused by the server, nothing stored (kube-apiserver v1.28)', async () => {
    // An ignoreDifferences entry without its required kind: the CRD schema refuses it (only the server can say so).
    const spec = { ...(inputs.root.spec as object), ignoreDifferences: [{ group: 'apps', jsonPointers: ['/spec/replicas'] }] };
    const bad = { ...inputs, root: { ...inputs.root, spec } };
    const f = await failure(runBootstrap(bad, deps(kubeOf(env)), { dryRun: true, allowUntestedKubernetes: true }));
    expect(f.message, f.message).toMatch(/^dry-run server-side apply of Application argocd\/root failed on cluster .*HTTP 422.*spec\.ignoreDifferences\[0\]\.kind: Required value/);
    expect(await must(env, ['-n', 'argocd', 'get', 'application', 'root', '-o', 'jsonpath={.spec.ignoreDifferences}'])).toBe('');
    // A value of the wrong type: server-side apply answers 500 "failed to create typed patch object"; the fix says what it means.
    const wrongType = { ...inputs, root: { ...inputs.root, spec: { ...(inputs.root.spec as object), destination: 'nowhere' } } };
    const t = await failure(runBootstrap(wrongType, deps(kubeOf(env)), { dryRun: true, allowUntestedKubernetes: true }));
    expect(t.message).toMatch(/HTTP 500: failed to create typed patch object .*\.spec\.destination: expected map/);
    expect(t.message).toContain('fix: a field has a type the schema does not allow');
    expect(t.code).toBe(2);
  });

  it('status says the MongoDB operator is not installed when its CRD is missing, and that is not DEGRADED (kube-apiserver v1.28)', async () => {
    const [s] = await collectStatus(kubeOf(env), [{ name: 'dev', namespace: 'dev', application: 'dev-users-api' }], 'argocd');
    expect(s!.problems.join('\n')).toContain('the MongoDB operator is not installed (no CustomResourceDefinition for mongodbcommunity.mongodb.com/v1 MongoDBCommunity)');
    expect(s!.degraded).toBe(false);
    expect(s!.mongodb).toBeNull();
    expect(formatStatusText([s!])).toContain('  mongodb   operator not installed\n');
  });

  it('the bootstrap CLI: --dry-run --argocd-manifest against the cluster exits 0; an unreadable manifest file exits 2 naming it (kube-apiserver v1.28)', async () => {
    const ok = await runCli(['--dry-run', '--allow-untested-kubernetes', '--argocd-manifest', manifestFile], { KUBECONFIG: env.kubeconfigPath });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`Argo CD v3.5.1 from ${manifestFile}`);
    expect(ok.stdout).toMatch(/dry run: /);
    const bad = await runCli(['--dry-run', '--argocd-manifest', '/nonexistent/install.yaml'], { KUBECONFIG: env.kubeconfigPath });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('/nonexistent/install.yaml: cannot read --argocd-manifest: ENOENT');
  });
});
