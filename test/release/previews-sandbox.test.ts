// Previews a pull request cannot widen: what the committed ApplicationSet and previews project let through,
// judged with Argo CD v3.5.1's own matching rules. The cluster-side refusals (admission policies, Pod
// Security, quota) are proven on the real API server in previews-sandbox.envtest.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import { grantsOf, PREVIEW_MARKER_LABEL, PREVIEW_POD_SECURITY, previewAdmissionObjects } from '../../scripts/lib/generate/admission.ts';
import { isClusterScoped } from '../../scripts/lib/generate/argocd.ts';
import { REPO, renderEnv } from '../cluster/real.ts';
import { REPO as CHECKOUT } from '../support/repo-copy.ts';
import { previewProblems } from '../../scripts/lib/inputs/previews.ts';
import type { RepoSettings } from '../../scripts/lib/inputs/spec.ts';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> };
const load = (f: string): Obj[] => parseYamlStream(readFileSync(join(REPO, f), 'utf8')) as Obj[];
// Test fixtures are not GitOps paths: committedBaseline() (REPO) does not copy them; read them from the checkout.
const FIXTURES = 'test/release/fixtures/hostile-previews';
const loadFixture = (f: string): Obj[] => parseYamlStream(readFileSync(join(CHECKOUT, FIXTURES, f), 'utf8')) as Obj[];

/** Go's path/filepath.Match for the patterns projects use (`*` = any run of non-'/' characters, `?` one). */
function filepathMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`).test(name);
}

/**
 * Is `o` permitted in `project`, as a sync decides (argoproj/argo-cd@v3.5.1: controller/sync.go
 * validateSyncPermissions → pkg/apis/application/v1alpha1/app_project_types.go IsGroupKindNamePermitted,
 * types.go isResourceInList / isNamedResourceInList with filepath.Match; then, for a namespaced object,
 * IsDestinationPermitted with the object's namespace). Returns the refusal as Argo CD words it, or ''.
 */
function projectRefusal(project: Obj, o: Obj, appNamespace: string): string {
  const spec = project.spec as { clusterResourceWhitelist?: Array<{ group: string; kind: string; name?: string }>; namespaceResourceWhitelist?: Array<{ group: string; kind: string }>; destinations: Array<{ namespace: string }> };
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
  const namespaced = !isClusterScoped({ group, kind: o.kind });
  const permitted = namespaced
    ? spec.namespaceResourceWhitelist === undefined || spec.namespaceResourceWhitelist.some((i) => filepathMatch(i.kind, o.kind) && filepathMatch(i.group, group))
    : (spec.clusterResourceWhitelist ?? []).some((i) => filepathMatch(i.kind, o.kind) && filepathMatch(i.group, group) && (!i.name || filepathMatch(i.name, o.metadata.name)));
  if (!permitted) return `resource ${group}:${o.kind} is not permitted in project ${project.metadata.name}`;
  // gitops-engine gives an object without a namespace the Application's (sync_context.go getSyncTasks).
  const ns = o.metadata.namespace ?? appNamespace;
  if (namespaced && !spec.destinations.some((d) => filepathMatch(d.namespace, ns))) return `namespace ${ns} is not permitted in project '${project.metadata.name}'`;
  return '';
}

describe('previews: what a pull request controls', () => {
  const set = load('argocd/previews.yaml')[0]! as Obj & { spec: { template: { spec: { source: { targetRevision: string; path: string; kustomize: { images: string[] } }; syncPolicy: { syncOptions: string[]; managedNamespaceMetadata: { labels: Record<string, string>; annotations: Record<string, string> } } } } } };
  const app = set.spec.template.spec;

  it("renders main's manifests: the only pull request values in the Application are its number and its head's short sha (the image tag)", () => {
    expect(app.source.targetRevision).toBe('main');
    expect(app.source.path).toBe('previews/template');
    const text = JSON.stringify(set.spec.template);
    expect([...new Set(text.match(/\{\{[^}]*\}\}/g))].sort()).toEqual(['{{.head_short_sha_7}}', '{{.number}}']);
    // The image is the release image's name mapped onto the preview repository, never the release one.
    expect(app.source.kustomize.images).toEqual(['ghcr.io/example-org/users-api=ghcr.io/example-org/users-api-previews:sha-{{.head_short_sha_7}}']);
  });

  it('creates the namespace itself, restricted and marked, owned by the Application (CreateNamespace + managedNamespaceMetadata)', () => {
    expect(app.syncPolicy.syncOptions).toContain('CreateNamespace=true');
    expect(app.syncPolicy.managedNamespaceMetadata.labels).toEqual({ environment: 'pr-{{.number}}', [PREVIEW_MARKER_LABEL]: 'true', ...PREVIEW_POD_SECURITY });
    expect(app.syncPolicy.managedNamespaceMetadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(app.syncPolicy.managedNamespaceMetadata.annotations).toEqual({ 'argocd.argoproj.io/tracking-id': 'pr-{{.number}}-users-api:/Namespace:/pr-{{.number}}' });
    const rendered = renderEnv('pr-123') as unknown as Obj[];
    expect(rendered.filter((o) => o.kind === 'Namespace')).toEqual([]);
    expect(rendered.filter((o) => isClusterScoped({ group: o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '', kind: o.kind }))).toEqual([]);
    expect(rendered.filter((o) => o.kind === 'ResourceQuota' || o.kind === 'LimitRange').map((o) => o.kind).sort()).toEqual(['LimitRange', 'ResourceQuota']);
  });
});

describe('previews project, judged as Argo CD v3.5.1 judges a sync', () => {
  const project = load('argocd/projects/previews.yaml')[0]!;

  it('admits of the cluster-scoped kinds only the Namespace named pr-* that CreateNamespace=true creates (its permission is checked like any object)', () => {
    expect((project.spec as { clusterResourceWhitelist: unknown[] }).clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace', name: 'pr-*' }]);
    expect(projectRefusal(project, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pr-7' } }, 'pr-7')).toBe('');
    expect(projectRefusal(project, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } }, 'pr-7')).toMatch(/not permitted in project previews/);
  });

  it('admits every object of the benign sample preview', () => {
    for (const o of renderEnv('pr-123') as unknown as Obj[]) expect(projectRefusal(project, o, 'pr-123'), `${o.kind}/${o.metadata.name}`).toBe('');
  });

  it('refuses the cluster-scoped hostile fixture (a ClusterRoleBinding of cluster-admin to system:authenticated)', () => {
    const [crb] = loadFixture('cluster-scoped.yaml');
    expect(projectRefusal(project, crb!, 'pr-3')).toBe('resource rbac.authorization.k8s.io:ClusterRoleBinding is not permitted in project previews');
  });

  it('refuses an object outside pr-*, and a kind the template does not render', () => {
    expect(projectRefusal(project, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'kube-system' } }, 'pr-3')).toBe("namespace kube-system is not permitted in project 'previews'");
    expect(projectRefusal(project, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'pr-3' } }, 'pr-3')).toBe('resource :Secret is not permitted in project previews');
  });

  it("cannot tell pr-2 from pr-3, nor see labels or pod specs: those refusals are the admission policies' (envtest suite)", () => {
    // The project admits these; previews-sandbox.envtest.test.ts shows the API server refusing each.
    for (const f of ['privileged-namespace.yaml', 'host-pod.yaml', 'cluster-admin-rolebinding.yaml', 'prod-ingress.yaml']) {
      for (const o of loadFixture(f)) expect(projectRefusal(project, o, 'pr-3'), f).toBe('');
    }
    expect(projectRefusal(project, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'takeover', namespace: 'pr-2' } }, 'pr-3')).toBe('');
  });
});

describe('admission policies as generated', () => {
  const previews = { template: 'dev', label: 'preview', maxConcurrent: 1, ttlHours: 1, tokenSecret: 't', requeueAfterSeconds: 60 };

  it("derive the Role grants from main's template Roles, names included", () => {
    const roles = [{ kind: 'Role', rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['a'] }, { apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete'] }] }];
    expect(grantsOf(roles)).toEqual(['/pods/delete/*', '/pods/get/*', '/secrets/get/a']);
    const rbac = previewAdmissionObjects(previews, roles).find((o) => (o as Obj).metadata.name === 'preview-rbac' && (o as Obj).kind === 'ValidatingAdmissionPolicy') as { spec: { validations: Array<{ expression: string }> } };
    expect(rbac.spec.validations[2]!.expression).toContain("['/pods/delete/*', '/pods/get/*', '/secrets/get/a']");
  });

  it('refuse every Ingress when previews have no ingress, and bind each namespaced policy to the preview marker only', () => {
    const objs = previewAdmissionObjects(previews, []) as Array<Obj & { spec: { validations?: Array<{ expression: string }>; matchResources?: unknown } }>;
    expect(objs.find((o) => o.metadata.name === 'preview-ingress' && o.kind === 'ValidatingAdmissionPolicy')!.spec.validations).toEqual([expect.objectContaining({ expression: 'false' })]);
    for (const b of objs.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding')) {
      expect(b.spec.matchResources, b.metadata.name).toEqual(b.metadata.name === 'preview-namespace' ? undefined : { namespaceSelector: { matchLabels: { [PREVIEW_MARKER_LABEL]: 'true' } } });
    }
  });

  it('are the committed argocd/admission files, synced by the root before the projects (wave -3)', () => {
    const files = ['policy', 'binding'].flatMap((k) => ['cronjobs', 'ingress', 'namespace', 'owner', 'pods', 'rbac', 'workloads'].map((n) => `argocd/admission/${k}-preview-${n}.yaml`));
    for (const f of files) {
      const [o] = load(f) as Array<Obj & { metadata: { annotations: Record<string, string> } }>;
      expect(o!.apiVersion, f).toBe('admissionregistration.k8s.io/v1');
      expect(o!.metadata.annotations['argocd.argoproj.io/sync-wave'], f).toBe('-3');
    }
    const root = load('argocd/root.yaml')[0]! as Obj & { spec: { source: { directory: { include: string } } } };
    for (const f of files) expect(root.spec.source.directory.include).toContain(f.slice('argocd/'.length));
  });
});

describe('gitops.yaml previews.image', () => {
  const settings = (image?: string) => ({ repoURL: 'https://github.com/o/r.git', image: 'ghcr.io/o/api', previews: { template: 'dev', label: 'p', maxConcurrent: 1, ttlHours: 1, tokenSecret: 't', requeueAfterSeconds: 60, ...(image ? { image } : {}) } }) as unknown as RepoSettings;
  const envs = { dev: { spec: {} as never } };
  it('must be a repository apart from the release image', () => {
    expect(previewProblems(settings('ghcr.io/o/api-previews'), envs)).toEqual([]);
    expect(previewProblems(settings(), envs)).toEqual([]);
    for (const bad of ['ghcr.io/o/api', 'ghcr.io/o/api/pr']) {
      expect(previewProblems(settings(bad), envs).map((p) => `${p.path}: ${p.message}`), bad).toEqual([`/previews/image: is the release image repository (ghcr.io/o/api) or inside it: pull request builds would sit beside release images`]);
    }
  });
});
