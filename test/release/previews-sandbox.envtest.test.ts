// Previews a pull request cannot widen, proven on a real kube-apiserver v1.28 that evaluates the generated
// ValidatingAdmissionPolicies itself (v1beta1 behind its feature gate on this version; the committed files
// are v1, GA from 1.30), with Pod Security Admission, ResourceQuota and LimitRanger admission as a cluster
// runs them. Each hostile fixture (test/release/fixtures/hostile-previews/) is refused with its reason;
// the benign sample preview pr-123 is admitted as Argo CD applies it (tracking annotation of its
// Application, namespace created as CreateNamespace=true + managedNamespaceMetadata creates it).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import { asV1beta1 } from '../../scripts/lib/generate/admission.ts';
import { previewManagedNamespaceMetadata } from '../../scripts/lib/generate/previews.ts';
import { crdsOf } from '../support/envtest/global-setup.ts';
import { describeEnvtest, startPrivateEnvtest, VALIDATING_ADMISSION_POLICY_ARGS } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { REPO, asStream, intoNamespace, must, renderEnv, withoutHooks } from '../cluster/real.ts';
import { UPSTREAM_FILES } from '../support/envtest/upstream.ts';
import { REPO as CHECKOUT } from '../support/repo-copy.ts';

// Test fixtures are not GitOps paths: committedBaseline() (REPO) does not copy them; read them from the checkout.
const FIXTURES = join(CHECKOUT, 'test/release/fixtures/hostile-previews');
const ARGO_APPLY = ['apply', '--server-side', '--field-manager=argocd-controller', '--force-conflicts'];
const fixture = (f: string): KubeObject[] => parseYamlStream(readFileSync(join(FIXTURES, f), 'utf8')) as KubeObject[];

/** What Argo CD's annotation tracking writes on every object it applies (argoproj/argo-cd@v3.5.1:
 *  docs/user-guide/resource_tracking.md: `<app>:<group>/<kind>:<namespace>/<name>`). */
function trackedBy(app: string, objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((o) => {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    const id = `${app}:${group}/${o.kind}:${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    return { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, 'argocd.argoproj.io/tracking-id': id } } };
  });
}

describeEnvtest('previews are a sandbox: admission policies on the real API server', () => {
  let env: Envtest & { stop(): Promise<void> };
  const apply = (objects: readonly unknown[], extra: string[] = []) => env.kubectl([...ARGO_APPLY, ...extra, '-f', '-'], { input: asStream(objects) });
  /** Creates preview namespace pr-<n> as Argo CD's CreateNamespace=true with managedNamespaceMetadata does. */
  const previewNamespace = async (n: number) => {
    const m = previewManagedNamespaceMetadata(n);
    const r = await apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `pr-${n}`, labels: m.labels, annotations: m.annotations } }]);
    expect(r.stderr).toBe('');
  };

  /** The quota controller's part (kube-controller-manager, not in envtest): status.hard and zero usage. */
  const quotaStatus = async (ns: string, quota: KubeObject) => {
    const hard = (quota as unknown as { spec: { hard: Record<string, string> } }).spec.hard;
    const used = Object.fromEntries(Object.keys(hard).map((k) => [k, '0']));
    await must(env, ['-n', ns, 'patch', 'resourcequota', quota.metadata.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { hard, used } })]);
  };

  beforeAll(async () => {
    env = await startPrivateEnvtest({ apiServerArgs: VALIDATING_ADMISSION_POLICY_ARGS });
    await must(env, ['apply', '--server-side', '-f', '-'], asStream(crdsOf(readFileSync(join(env.upstreamDir, UPSTREAM_FILES.mck), 'utf8'))));
    await must(env, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=120s']);
    const dir = join(REPO, 'argocd/admission');
    const policies = readdirSync(dir).sort().flatMap((f) => parseYamlStream(readFileSync(join(dir, f), 'utf8')) as KubeObject[]);
    expect(policies.every((p) => p.apiVersion === 'admissionregistration.k8s.io/v1')).toBe(true);
    const r = await apply(policies.map(asV1beta1) as KubeObject[]);
    expect(r.stderr).toBe('');
    // (Type-checking warnings go to the policies' status, written by kube-controller-manager, which envtest
    // does not run: the refusals below are the proof that every expression evaluates.)
    for (const n of [2, 3, 123]) await previewNamespace(n);
    // The policy plugin picks up new policies asynchronously: wait until one refuses.
    for (let i = 0; ; i++) {
      const probe = await apply(fixture('cluster-admin-rolebinding.yaml'), ['--dry-run=server']);
      if (probe.code !== 0) break;
      if (i > 120) throw new Error('the admission policies never took effect');
      await new Promise((res) => setTimeout(res, 500));
    }
  }, 240_000);
  afterAll(async () => { await env?.stop(); });

  it('the benign sample preview pr-123 is admitted as its Application applies it, and its pods fit the quota and limits', async () => {
    const objects = trackedBy('pr-123-users-api', withoutHooks(renderEnv('pr-123')));
    expect(objects.filter((o) => o.kind === 'Namespace')).toEqual([]);
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['pr-123']));
    const r = await apply(objects);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The hooks too (the password Job's Role, RoleBinding, ServiceAccount and Job).
    const hooks = trackedBy('pr-123-users-api', renderEnv('pr-123').filter((o) => o.metadata.annotations?.['argocd.argoproj.io/hook']));
    expect(hooks.length).toBeGreaterThan(0);
    const h = await apply(hooks, ['--dry-run=server']);
    expect(h.stderr).toBe('');
    // Pods as the Deployment's and Job's controllers would create them: admitted by restricted Pod Security,
    // the policies and the quota (whose usage the quota controller would keep: written here, as envtest does).
    const quota = objects.find((o) => o.kind === 'ResourceQuota')!;
    await quotaStatus('pr-123', quota);
    const podOf = (o: KubeObject, name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'pr-123' }, spec: (o as unknown as { spec: { template: { spec: object } } }).spec.template.spec });
    const pods = [podOf(objects.find((o) => o.kind === 'Deployment')!, 'users-api-0'), podOf(hooks.find((o) => o.kind === 'Job')!, 'users-db-password-0')];
    const p = await env.kubectl(['create', '--dry-run=server', '-f', '-'], { input: asStream(pods) });
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
  });

  /** Applies `objects` as pr-3's Application would (dry run) and returns the refusal. */
  const refusal = async (objects: readonly KubeObject[]): Promise<string> => {
    const r = await apply(trackedBy('pr-3-users-api', objects), ['--dry-run=server']);
    expect(r.code).not.toBe(0);
    return r.stderr;
  };
  type Spec = { hostPID?: boolean; volumes?: unknown[]; containers: Array<{ securityContext: Record<string, unknown>; volumeMounts?: unknown }> };
  const hostPod = (edit: (spec: Spec) => void): KubeObject[] => {
    const d = structuredClone(fixture('host-pod.yaml')[0]!) as unknown as KubeObject & { spec: { template: { spec: Spec } } };
    edit(d.spec.template.spec);
    return [d];
  };

  // A policy reports its first failing rule: each variant removes the previous offence to show the next.
  it('refuses a pod template with hostPID, hostPath /, a privileged container and an added capability, each with its reason (host-pod.yaml)', async () => {
    expect(await refusal(fixture('host-pod.yaml'))).toMatch(/ValidatingAdmissionPolicy 'preview-workloads'[\s\S]*pod template: hostNetwork, hostPID and hostIPC are refused/);
    expect(await refusal(hostPod((s) => { delete s.hostPID; }))).toMatch(/pod template: hostPath volumes are refused in a preview namespace/);
    expect(await refusal(hostPod((s) => { delete s.hostPID; delete s.volumes; delete s.containers[0]!.volumeMounts; }))).toMatch(/pod template: privileged containers are refused/);
    expect(await refusal(hostPod((s) => { delete s.hostPID; delete s.volumes; delete s.containers[0]!.volumeMounts; delete s.containers[0]!.securityContext.privileged; })))
      .toMatch(/pod template: added capabilities \(securityContext\.capabilities\.add\) are refused/);
    expect(await refusal(hostPod((s) => { delete s.hostPID; delete s.volumes; delete s.containers[0]!.volumeMounts; s.containers[0]!.securityContext = {}; (s.containers[0] as { ports?: unknown }).ports = [{ containerPort: 22, hostPort: 22 }]; })))
      .toMatch(/pod template: host ports are refused/);
  });

  it('refuses a RoleBinding of cluster-admin to system:authenticated, and a Role binding to a Group (cluster-admin-rolebinding.yaml)', async () => {
    const rb = fixture('cluster-admin-rolebinding.yaml');
    expect(await refusal(rb)).toMatch(/ValidatingAdmissionPolicy 'preview-rbac'[\s\S]*may bind only a Role of its own namespace, never a ClusterRole/);
    const toRole = rb.map((o) => ({ ...o, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'users-db-password' } })) as KubeObject[];
    expect(await refusal(toRole)).toMatch(/subjects must be ServiceAccounts of the preview's own namespace \(no User, no Group such as system:authenticated/);
    const otherNs = toRole.map((o) => ({ ...o, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'kube-system' }] })) as KubeObject[];
    expect(await refusal(otherNs)).toMatch(/subjects must be ServiceAccounts of the preview's own namespace/);
  });

  it("refuses a Role wider than main's template grants: every verb on every Secret (wide-role.yaml)", async () => {
    expect(await refusal(fixture('wide-role.yaml'))).toMatch(/ValidatingAdmissionPolicy 'preview-rbac'[\s\S]*a preview Role may grant only what main's preview template grants/);
  });

  it("refuses an Ingress claiming production's host, and another preview's host (prod-ingress.yaml)", async () => {
    const ing = fixture('prod-ingress.yaml');
    expect(await refusal(ing)).toMatch(/ValidatingAdmissionPolicy 'preview-ingress'[\s\S]*every rule of a preview must name its own host \(pr-\{number\}\.preview\.example\.com/);
    const other = structuredClone(ing) as unknown as Array<{ spec: { rules: Array<{ host: string }> } }>;
    other[0]!.spec.rules[0]!.host = 'pr-2.preview.example.com';
    expect(await refusal(other as unknown as KubeObject[])).toMatch(/must name its own host/);
    other[0]!.spec.rules[0]!.host = 'pr-3.preview.example.com';
    expect((await apply(trackedBy('pr-3-users-api', other as unknown as KubeObject[]), ['--dry-run=server'])).stderr).toBe('');
  });

  it('refuses the same privileged pod created directly (Pod Security restricted, enforced on the namespace)', async () => {
    const d = fixture('host-pod.yaml')[0]! as unknown as { spec: { template: { spec: object } } };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'node-shell', namespace: 'pr-3' }, spec: d.spec.template.spec };
    const r = await env.kubectl(['create', '--dry-run=server', '-f', '-'], { input: asStream([pod]) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/violates PodSecurity "restricted:latest": host namespaces \(hostPID=true\), privileged/);
  });

  it('refuses a Namespace object that makes the preview privileged, and any move of its Pod Security labels', async () => {
    const r = await apply(fixture('privileged-namespace.yaml'), ['--dry-run=server']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ValidatingAdmissionPolicy 'preview-namespace'[\s\S]*pod-security\.kubernetes\.io\/enforce=restricted/);
    for (const label of ['pod-security.kubernetes.io/enforce=baseline', 'pod-security.kubernetes.io/enforce-version=v1.24', 'gitops-users.example.com/preview-']) {
      const l = await env.kubectl(['label', 'namespace', 'pr-3', label, '--overwrite', '--dry-run=server']);
      expect(l.code, label).not.toBe(0);
      expect(l.stderr).toMatch(/preview-namespace/);
    }
    // A pr-* namespace without the labels cannot be created at all (nothing escapes the bindings).
    const bare = await apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pr-77' } }], ['--dry-run=server']);
    expect(bare.code).not.toBe(0);
  });

  it('refuses objects a Kustomize transformer moves into another preview (pr-3\'s Application writing into pr-2)', async () => {
    const rendered = parseYamlStream(execFileSync('kubectl', ['kustomize', join(FIXTURES, 'transformer')], { encoding: 'utf8' })) as KubeObject[];
    expect(rendered.map((o) => o.metadata.namespace)).toEqual(['pr-2']);
    const r = await apply(trackedBy('pr-3-users-api', rendered), ['--dry-run=server']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ValidatingAdmissionPolicy 'preview-owner'[\s\S]*may only be applied by Argo CD Application pr-<n>-users-api/);
    // The same object from pr-2's own Application is fine: the rule is about ownership, not the kind.
    const own = await apply(trackedBy('pr-2-users-api', rendered), ['--dry-run=server']);
    expect(own.stderr).toBe('');
  });

  it('refuses a pod over the preview\'s quota, and a container over its LimitRange', async () => {
    const quota = parseYamlStream(readFileSync(join(REPO, 'previews/template/resourcequota.yaml'), 'utf8'))[0] as KubeObject & { spec: { hard: object } };
    const limits = parseYamlStream(readFileSync(join(REPO, 'previews/template/limitrange.yaml'), 'utf8'))[0] as KubeObject;
    const mine = intoNamespace([quota, limits].map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'pr-3' } })), 'pr-3', 'pr-3');
    expect((await apply(trackedBy('pr-3-users-api', mine))).stderr).toBe('');
    await quotaStatus('pr-3', quota);
    const r = await env.kubectl(['create', '--dry-run=server', '-f', '-'], { input: asStream(fixture('over-quota.yaml')) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/exceeded quota: preview, requested: requests\.cpu=8/);
    const big = structuredClone(fixture('over-quota.yaml')[0]!) as unknown as { spec: { containers: Array<{ resources: object }> } };
    big.spec.containers[0]!.resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '8Gi' } };
    const l = await env.kubectl(['create', '--dry-run=server', '-f', '-'], { input: asStream([big]) });
    expect(l.code).not.toBe(0);
    expect(l.stderr).toMatch(/maximum memory usage per Container is 1Gi/);
  });
});
