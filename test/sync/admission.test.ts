// Project admission as Argo CD v3.5.1 decides it (argo-cd@v3.5.1:pkg/apis/application/v1alpha1/app_project_types.go,
// types.go, controller/sync.go validateSyncPermissions, util/argo/argo.go): each rule with the refusal Argo CD gives,
// and the repository's own Applications with none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../review/cli.ts';
import { createRepoCopy, type RepoCopy } from '../support/repo-copy.ts';
import {
  admissionRefusals, filepathMatch, globMatch, isDestinationPermitted, isGroupKindNamePermitted, isSourcePermitted, normalizeGitURL,
} from '../../scripts/lib/review/validate/admission.ts';

type Obj = Record<string, unknown>;
const IN = { name: 'in-cluster', server: 'https://kubernetes.default.svc' };
const REMOTE = { name: 'prod-eu', server: 'https://10.0.0.1:6443' };
const project = (spec: Obj): Obj => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: { name: 'p' }, spec });
const app = (spec: Obj = {}): Obj => ({
  apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'a' },
  spec: { project: 'p', source: { repoURL: 'https://github.com/org/repo.git', path: 'x' }, destination: { server: IN.server, namespace: 'dev' }, ...spec },
});
const base = { sourceRepos: ['https://github.com/org/repo.git'], destinations: [{ server: IN.server, namespace: 'dev' }], namespaceResourceWhitelist: [{ group: 'apps', kind: 'Deployment' }], clusterResourceWhitelist: [] };
const deploy = (ns?: string): Obj => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', ...(ns ? { namespace: ns } : {}) } });
const refusals = (spec: Obj, objects: Obj[], a = app()) => admissionRefusals({ app: a, objects, projects: new Map([['p', project(spec)]]), clusters: [IN, REMOTE] }).map((r) => `${r.rule} ${r.object}: ${r.message}`);

describe('patterns as Argo CD matches them', () => {
  it('kinds, groups and names use Go filepath.Match: * stops at "/", classes, escapes, malformed patterns match nothing', () => {
    expect(filepathMatch('*', 'Deployment')).toBe(true);
    expect(filepathMatch('Deploy*', 'Deployment')).toBe(true);
    expect(filepathMatch('*', 'a/b')).toBe(false);
    expect(filepathMatch('Rol?', 'Role')).toBe(true);
    expect(filepathMatch('[RC]ole', 'Role')).toBe(true);
    expect(filepathMatch('[^R]ole', 'Role')).toBe(false);
    expect(filepathMatch('[a-z]*', 'role')).toBe(true);
    expect(filepathMatch('\\*', '*')).toBe(true);
    expect(filepathMatch('\\*', 'x')).toBe(false);
    expect(filepathMatch('[', '[')).toBe(false);
    expect(filepathMatch('[z-a]', 'b')).toBe(false);
    expect(filepathMatch('', '')).toBe(true);
    expect(filepathMatch('', 'apps')).toBe(false);
  });

  it('destinations use gobwas/glob with no separator, sources "/" as separator; {a,b} alternatives', () => {
    expect(globMatch('pr-*', 'pr-12')).toBe(true);
    expect(globMatch('pr-*', 'prod')).toBe(false);
    expect(globMatch('https://*', 'https://a/b')).toBe(true);
    expect(globMatch('https://github.com/*', 'https://github.com/org/repo', '/')).toBe(false);
    expect(globMatch('https://github.com/**', 'https://github.com/org/repo', '/')).toBe(true);
    expect(globMatch('{dev,prod}', 'prod')).toBe(true);
    expect(globMatch('{dev,prod', 'prod')).toBe(false);
  });

  it('normalizes git URLs like util/git NormalizeGitURL', () => {
    expect(normalizeGitURL('https://GitHub.com/Org/Repo.git')).toBe('https://github.com/org/repo');
    expect(normalizeGitURL('git@github.com:org/repo.git')).toBe('git@github.com/org/repo');
  });
});

describe('IsGroupKindNamePermitted', () => {
  it('namespaced: an absent whitelist allows all, an empty one none, a listed kind only it; the blacklist wins', () => {
    expect(isGroupKindNamePermitted(project({}), 'apps', 'Deployment', 'x', true)).toBe(true);
    expect(isGroupKindNamePermitted(project({ namespaceResourceWhitelist: [] }), 'apps', 'Deployment', 'x', true)).toBe(false);
    expect(isGroupKindNamePermitted(project({ namespaceResourceWhitelist: [{ group: 'apps', kind: 'Deployment' }] }), 'apps', 'StatefulSet', 'x', true)).toBe(false);
    expect(isGroupKindNamePermitted(project({ namespaceResourceWhitelist: [{ group: '*', kind: '*' }], namespaceResourceBlacklist: [{ group: '', kind: 'Secret' }] }), '', 'Secret', 'x', true)).toBe(false);
    expect(isGroupKindNamePermitted(project({ namespaceResourceWhitelist: [{ group: '*', kind: '*' }], namespaceResourceBlacklist: [{ group: '', kind: 'Secret' }] }), '', 'ConfigMap', 'x', true)).toBe(true);
  });

  it('cluster-scoped: nothing without a whitelist entry; names are globs; the blacklist wins', () => {
    expect(isGroupKindNamePermitted(project({}), '', 'Namespace', 'dev', false)).toBe(false);
    expect(isGroupKindNamePermitted(project({ clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }] }), '', 'Namespace', 'dev', false)).toBe(true);
    expect(isGroupKindNamePermitted(project({ clusterResourceWhitelist: [{ group: '', kind: 'Namespace', name: 'pr-*' }] }), '', 'Namespace', 'pr-2', false)).toBe(true);
    expect(isGroupKindNamePermitted(project({ clusterResourceWhitelist: [{ group: '', kind: 'Namespace', name: 'pr-*' }] }), '', 'Namespace', 'kube-system', false)).toBe(false);
    expect(isGroupKindNamePermitted(project({ clusterResourceWhitelist: [{ group: '*', kind: '*' }], clusterResourceBlacklist: [{ group: 'rbac.authorization.k8s.io', kind: 'ClusterRole*' }] }), 'rbac.authorization.k8s.io', 'ClusterRoleBinding', 'x', false)).toBe(false);
  });
});

describe('IsDestinationPermitted and IsSourcePermitted', () => {
  it('matches server or name with the namespace; "!" denies', () => {
    expect(isDestinationPermitted(project({ destinations: [{ server: IN.server, namespace: 'dev' }] }), IN, 'dev')).toBe(true);
    expect(isDestinationPermitted(project({ destinations: [{ name: 'in-cluster', namespace: 'dev' }] }), IN, 'dev')).toBe(true);
    expect(isDestinationPermitted(project({ destinations: [{ server: IN.server, namespace: 'dev' }] }), REMOTE, 'dev')).toBe(false);
    expect(isDestinationPermitted(project({ destinations: [{ server: '*', namespace: 'pr-*' }] }), IN, 'pr-9')).toBe(true);
    expect(isDestinationPermitted(project({ destinations: [{ server: '*', namespace: '*' }, { server: '*', namespace: '!kube-system' }] }), IN, 'kube-system')).toBe(false);
    expect(isDestinationPermitted(project({ destinations: [{ server: '*', namespace: '*' }, { server: '*', namespace: '!kube-system' }] }), IN, 'dev')).toBe(true);
    expect(isDestinationPermitted(project({ destinations: [] }), IN, 'dev')).toBe(false);
  });

  it('normalizes and globs source repositories; "!" denies', () => {
    expect(isSourcePermitted(project({ sourceRepos: ['https://github.com/org/repo'] }), 'https://github.com/Org/repo.git')).toBe(true);
    expect(isSourcePermitted(project({ sourceRepos: ['https://github.com/org/*'] }), 'https://github.com/org/other')).toBe(true);
    expect(isSourcePermitted(project({ sourceRepos: ['*', '!https://github.com/evil/*'] }), 'https://github.com/evil/x')).toBe(false);
    expect(isSourcePermitted(project({ sourceRepos: [] }), 'https://github.com/org/repo')).toBe(false);
  });
});

describe('an Application and what it applies, refused as Argo CD refuses the sync', () => {
  it('admits what the project allows', () => {
    expect(refusals(base, [deploy()])).toEqual([]);
  });

  it('a kind not listed: "resource G:K is not permitted in project P"', () => {
    expect(refusals(base, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }])).toEqual(['kind ConfigMap dev/c: resource :ConfigMap is not permitted in project p']);
  });

  it('a cluster-scoped object the cluster whitelist does not name, including the CreateNamespace Namespace', () => {
    const a = app({ syncPolicy: { syncOptions: ['CreateNamespace=true'] } });
    expect(refusals(base, [deploy(), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'x' } }], a)).toEqual([
      'kind Namespace dev: resource :Namespace is not permitted in project p',
      'kind rbac.authorization.k8s.io/ClusterRole x: resource rbac.authorization.k8s.io:ClusterRole is not permitted in project p',
    ]);
    expect(refusals({ ...base, clusterResourceWhitelist: [{ group: '', kind: 'Namespace', name: 'dev' }] }, [deploy()], a)).toEqual([]);
  });

  it('a namespaced object into a namespace the destinations do not allow', () => {
    expect(refusals(base, [deploy('pr-2')])).toEqual(['namespace apps/Deployment pr-2/api: namespace pr-2 is not permitted in project \'p\'']);
  });

  it('a CR of a cluster-scoped CRD rendered alongside is checked as cluster-scoped', () => {
    const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' }, spec: { group: 'example.com', scope: 'Cluster', names: { kind: 'Widget' } } };
    const spec = { ...base, clusterResourceWhitelist: [{ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' }], namespaceResourceWhitelist: [{ group: '*', kind: '*' }] };
    expect(refusals(spec, [crd, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])).toEqual(['kind example.com/Widget w: resource example.com:Widget is not permitted in project p']);
  });

  it('the Application itself: unknown project, source repository, destination, unknown cluster', () => {
    expect(admissionRefusals({ app: app({ project: 'nope' }), objects: [], projects: new Map(), clusters: [IN] }).map((r) => r.message)).toEqual(['application references project nope which does not exist']);
    expect(refusals({ ...base, sourceRepos: ['https://github.com/org/other'] }, [])).toEqual(['source : application repo https://github.com/org/repo.git is not permitted in project \'p\'']);
    expect(refusals(base, [], app({ destination: { server: IN.server, namespace: 'prod' } }))).toEqual([
      'destination : application destination server \'https://kubernetes.default.svc\' and namespace \'prod\' do not match any of the allowed destinations in project \'p\'',
    ]);
    expect(refusals(base, [], app({ destination: { name: 'nowhere', namespace: 'dev' } }))).toEqual(['destination : there are no clusters with this name: nowhere']);
  });
});

describe('the repository (zx scripts/validate.ts)', () => {
  let repo: RepoCopy;
  beforeAll(() => {
    repo = createRepoCopy();
  }, 120_000);
  afterAll(() => repo?.cleanup());

  it('gives no refusal for any Application of the committed repository', async () => {
    const r = await runScript('validate', ['--format', 'json'], repo.root);
    expect(r.stdout).not.toContain('argocd-admission');
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  it('reports Argo CD\'s refusal, the object, the project and the fix when the platform project loses RoleBinding', async () => {
    repo.edit('argocd/projects/platform.yaml', /\n    - kind: RoleBinding\n      group: rbac.authorization.k8s.io/, '');
    const r = await runScript('validate', [], repo.root);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Argo CD would refuse the sync of rbac.authorization.k8s.io/RoleBinding mongodb-operator/mongodb-kubernetes-operator: resource rbac.authorization.k8s.io:RoleBinding is not permitted in project platform');
    expect(r.stdout).toContain('spec.namespaceResourceWhitelist of AppProject platform');
  }, 120_000);
});
