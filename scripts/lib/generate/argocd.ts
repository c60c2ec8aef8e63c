// argocd/: the AppProject, the root app of apps, the environments' Namespaces and one Application per
// environment. Root sync waves: namespaces (-3), project (-2), the operator (-1, its CRDs; it watches the
// environments' namespaces, which therefore exist already), then the environments (0). Argo CD only
// waits on a child Application's health if argocd-cm restores the Application health check (bootstrap
// sets it). Every Application retries forever with backoff (RETRY). docs/environments.md has the flow.
import { applicationName } from '../inputs/schema.ts';
import { isProtectedEnv, PROTECTED_LABEL, PROTECTED_SYNC_OPTIONS, SYNC_OPTIONS_ANNOTATION } from '../inputs/rules.ts';
import { ARGOCD_DIR, envDir } from '../core/layout.ts';
import { clusterNamespacesDir, destination, envCluster, IN_CLUSTER_NAME, IN_CLUSTER_SERVER, namespacesAppName, platformProjectName } from '../inputs/clusters.ts';
import type { EnvSpec, RepoSettings } from '../inputs/spec.ts';

export const ROOT_APP_NAME = 'root';
export const IN_CLUSTER = IN_CLUSTER_SERVER;
export const WAVES = { namespaces: '-3', project: '-2', operator: '-1', environments: '0' } as const;
export const FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/** argocd/namespaces/<env>.yaml: each environment's Namespace, an object of the root Application. */
export const NAMESPACES_DIR = `${ARGOCD_DIR}/namespaces`;

/**
 * The retry policy of every Application. `limit: -1` retries without end (argoproj/argo-cd@v3.5.1:
 * docs/user-guide/auto_sync.md "Automatic Retry with a limit"; controller/appcontroller.go retries
 * while `RetryCount < Limit || Limit < 0`): with a finite limit, a transient failure that outlasts it
 * leaves the operation Failed, and automated sync does not try the same revision again ("Automated
 * Sync Semantics"), stranding the environment until someone syncs by hand. The backoff caps one wait
 * at 5 minutes; `refresh: true` makes a retrying sync pick up a newer commit (the fix) instead of
 * retrying the broken one ("Automatic Retry Refresh on new revisions").
 */
export const RETRY = { limit: -1, refresh: true, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } } as const;

/** Pod Security labels every environment namespace carries. */
export const NAMESPACE_POD_SECURITY = {
  'pod-security.kubernetes.io/enforce': 'baseline',
  'pod-security.kubernetes.io/warn': 'restricted',
} as const;

/**
 * An environment's Namespace, applied by the root at wave -3: before the operator's Application
 * (wave -1), whose chart binds the operator's Role in every watched namespace and cannot succeed
 * while one is missing. When the environment is deleted from git the namespace is NOT pruned (it
 * holds the database's PVCs: data is never deleted by a push): `Prune=false`
 * (docs/user-guide/sync-options.md), and `IgnoreExtraneous` keeps the root Synced meanwhile
 * (argoproj/argo-cd@v3.5.1:controller/state.go ignores it only for a resource that needs pruning).
 */
export function environmentNamespace(env: EnvSpec): object {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: env.namespace,
      labels: { environment: env.name, ...NAMESPACE_POD_SECURITY },
      annotations: {
        'argocd.argoproj.io/sync-wave': WAVES.namespaces,
        'argocd.argoproj.io/sync-options': 'Prune=false',
        'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
      },
    },
  };
}

// ---- AppProjects (least privilege). One project per concern, each allowing exactly what its
// Applications render (argoproj/argo-cd@v3.5.1:pkg/apis/application/v1alpha1/app_project_types.go
// IsGroupKindNamePermitted): an absent namespaceResourceWhitelist allows EVERY namespaced kind, so it is
// always written out; an empty clusterResourceWhitelist allows no cluster-scoped kind; a cluster-scoped
// entry may carry a `name` (ClusterResourceRestrictionItem.Name, types.go) and then allows that object only.
//   root           the root Application: Applications, AppProjects and the environments' Namespaces, in argocd/
//   platform       the MongoDB operator chart: its CRDs, cluster RBAC, Deployment, RoleBindings per namespace
//   <env>-users-api one per environment: only namespaced kinds, only into its own namespace, only from this repo

export const ROOT_PROJECT_NAME = 'root';
export const PLATFORM_PROJECT_NAME = 'platform';
/** An environment's project has its Application's name, so it never collides with root or platform. */
export const envProjectName = (env: string): string => applicationName(env);
export const PROJECTS_DIR = `${ARGOCD_DIR}/projects`;

export interface GroupKind {
  group: string;
  kind: string;
  /** Cluster-scoped entries only: restrict the entry to this object name. */
  name?: string;
}

/**
 * Built-in and installed kinds that are cluster-scoped (kubectl api-resources --namespaced=false on
 * kube-apiserver v1.28, plus the CRDs this repository may install). Everything else is namespaced.
 */
const CLUSTER_SCOPED_KINDS = new Set([
  '/Namespace', '/Node', '/PersistentVolume',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration', 'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy', 'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'apiextensions.k8s.io/CustomResourceDefinition', 'apiregistration.k8s.io/APIService',
  'certificates.k8s.io/CertificateSigningRequest', 'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration', 'networking.k8s.io/IngressClass', 'node.k8s.io/RuntimeClass',
  'rbac.authorization.k8s.io/ClusterRole', 'rbac.authorization.k8s.io/ClusterRoleBinding', 'scheduling.k8s.io/PriorityClass',
  'storage.k8s.io/CSIDriver', 'storage.k8s.io/CSINode', 'storage.k8s.io/StorageClass', 'storage.k8s.io/VolumeAttachment',
  'external-secrets.io/ClusterSecretStore', 'external-secrets.io/ClusterExternalSecret', 'generators.external-secrets.io/ClusterGenerator',
  // Kyverno's cluster-wide policy (kyverno/kyverno@v1.19.0:config/crds/kyverno/kyverno.io_clusterpolicies.yaml: scope Cluster).
  'kyverno.io/ClusterPolicy',
]);

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

export function isClusterScoped(gk: { group: string; kind: string }): boolean {
  return CLUSTER_SCOPED_KINDS.has(`${gk.group}/${gk.kind}`);
}

function gkKey(gk: GroupKind): string {
  return `${gk.group}/${gk.kind}/${gk.name ?? ''}`;
}

/** Sorted, unique; an entry without a name covers the named entries of its kind. */
export function sortKinds(kinds: readonly GroupKind[]): GroupKind[] {
  const unnamed = new Set(kinds.filter((k) => k.name === undefined).map((k) => `${k.group}/${k.kind}`));
  const seen = new Map<string, GroupKind>();
  for (const k of kinds) {
    if (k.name !== undefined && unnamed.has(`${k.group}/${k.kind}`)) continue;
    seen.set(gkKey(k), k.name === undefined ? { group: k.group, kind: k.kind } : { group: k.group, kind: k.kind, name: k.name });
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** The kinds of a list of objects, split by scope; cluster-scoped ones carry their object's name. */
export function kindsOf(objects: readonly object[]): { cluster: GroupKind[]; namespaced: GroupKind[] } {
  const cluster: GroupKind[] = [];
  const namespaced: GroupKind[] = [];
  for (const o of objects) {
    const { apiVersion, kind, metadata } = o as { apiVersion: string; kind: string; metadata?: { name?: string } };
    const gk = { group: groupOf(apiVersion), kind };
    if (isClusterScoped(gk)) cluster.push({ ...gk, name: metadata?.name });
    else namespaced.push(gk);
  }
  return { cluster: sortKinds(cluster), namespaced: sortKinds(namespaced) };
}

/** The group/kind pairs of a list of objects, sorted and unique. */
export function namespacedKinds(objects: object[]): Array<{ group: string; kind: string }> {
  return kindsOf(objects).namespaced;
}

export interface ProjectScope {
  description: string;
  sourceRepos: string[];
  /** Namespaces on in-cluster its Applications deploy namespaced objects into. */
  namespaces?: string[];
  /** Or with the cluster: namespace '' for an Application of cluster-scoped objects only. */
  destinations?: Array<{ cluster: string; namespace: string }>;
  cluster: GroupKind[];
  namespaced: GroupKind[];
}

/** Unique, sorted by cluster then namespace. */
function sortDestinations(list: NonNullable<ProjectScope['destinations']>): NonNullable<ProjectScope['destinations']> {
  const seen = new Map(list.map((d) => [`${d.cluster}\u0000${d.namespace}`, d]));
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

export function appProject(settings: RepoSettings, name: string, scope: ProjectScope): object {
  if (scope.namespaced.length === 0) throw new Error(`AppProject ${name}: an empty namespaceResourceWhitelist would be omitted and then allow every kind`);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name, namespace: settings.argocd.namespace, annotations: { 'argocd.argoproj.io/sync-wave': WAVES.project } },
    spec: {
      description: scope.description,
      sourceRepos: [...new Set(scope.sourceRepos)].sort(),
      destinations: sortDestinations([...(scope.namespaces ?? []).map((namespace) => ({ cluster: IN_CLUSTER_NAME, namespace })), ...(scope.destinations ?? [])])
        .map((d) => destination(settings, d.cluster, d.namespace)),
      clusterResourceWhitelist: sortKinds(scope.cluster),
      namespaceResourceWhitelist: sortKinds(scope.namespaced),
    },
  };
}

/** An environment's project: its namespace, this repository, exactly the namespaced kinds its overlay renders. */
export function envProject(settings: RepoSettings, env: EnvSpec, renderedObjects: readonly object[]): object {
  const { cluster, namespaced } = kindsOf(renderedObjects);
  if (cluster.length > 0) throw new Error(`environment ${env.name} renders cluster-scoped ${cluster.map((k) => k.kind).join(', ')}: environments may not`);
  return appProject(settings, envProjectName(env.name), {
    // AppProject.spec.description has maxLength 255 (argo-cd v3.5.1 CRD): keep it short for 53-character names.
    description: `Environment ${env.name}: namespaced objects into namespace ${env.namespace} only`,
    sourceRepos: [settings.repoURL],
    destinations: [{ cluster: envCluster(env), namespace: env.namespace }],
    cluster: [],
    namespaced,
  });
}

/**
 * The platform project of one cluster: the operator chart's kinds, its namespace and the namespaces it
 * binds its role in, on that cluster (`envs` are the environments there).
 */
export function platformProject(settings: RepoSettings, envs: readonly EnvSpec[], chart: { cluster: GroupKind[]; namespaced: GroupKind[] }, onCluster = IN_CLUSTER_NAME): object {
  const op = settings.operator;
  const where = onCluster === IN_CLUSTER_NAME ? '' : ` on cluster ${onCluster}`;
  return appProject(settings, platformProjectName(PLATFORM_PROJECT_NAME, onCluster), {
    description: `The MongoDB operator (pinned Helm chart)${where}: its CRDs, cluster RBAC and Deployment; generated from gitops.yaml`,
    sourceRepos: [op.chartRepo],
    destinations: [op.namespace, ...envs.map((e) => e.namespace)].map((namespace) => ({ cluster: onCluster, namespace })),
    // The operator's Application creates its own namespace (CreateNamespace=true), and only that one.
    cluster: [...chart.cluster, { group: '', kind: 'Namespace', name: op.namespace }],
    namespaced: chart.namespaced,
  });
}

/**
 * The root's project: exactly the kinds of the generated files under argocd/ — Applications, the
 * AppProjects (a new environment's project must come from `git push` alone, so the root creates it;
 * bootstrap only creates the projects that exist when it runs) and the environments' Namespaces by name.
 * Which project each Application may name is not something Argo CD restricts, so `validate` does
 * (policy argocd-project), and the root syncs no file but the generated ones (rootInclude).
 */
export function rootProject(settings: RepoSettings, rootObjects: readonly object[], namespacesOn: readonly string[] = []): object {
  const { cluster, namespaced } = kindsOf(rootObjects);
  return appProject(settings, ROOT_PROJECT_NAME, {
    description: 'The root Application (app of apps): only the generated files under argocd/, from this repository',
    sourceRepos: [settings.repoURL],
    // And the Namespaces-only Applications of other clusters (namespacesApplication): no namespace there.
    destinations: [{ cluster: IN_CLUSTER_NAME, namespace: settings.argocd.namespace }, ...namespacesOn.map((c) => ({ cluster: c, namespace: '' }))],
    cluster,
    namespaced,
  });
}

/**
 * `directory.include` of the root: a brace list of exactly the generated files (paths relative to
 * argocd/). Argo CD matches each candidate file's path relative to the Application's path against it
 * (argoproj/argo-cd@v3.5.1:reposerver/repository/repository.go getPotentiallyValidManifestFile, util/glob;
 * docs/user-guide/directory.md "Including Only Certain Files"), so a file added by hand under argocd/ —
 * any name, any extension — is never synced.
 */
export function rootInclude(files: readonly string[]): string {
  const rel = files.map((f) => f.slice(ARGOCD_DIR.length + 1)).sort();
  for (const f of rel) if (/[{},*?[\]\\]/.test(f)) throw new Error(`argocd/${f}: a generated file name may not contain glob characters`);
  return `{${rel.join(',')}}`;
}

export function rootApplication(settings: RepoSettings, files: readonly string[] = []): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    // No resources-finalizer: deleting the root by mistake must not cascade to every environment.
    metadata: { name: ROOT_APP_NAME, namespace: settings.argocd.namespace },
    spec: {
      // Its own project (rootProject), which bootstrap creates before applying this file: only the
      // kinds of the generated files, only from this repository. It syncs only those files (rootInclude).
      project: ROOT_PROJECT_NAME,
      source: { repoURL: settings.repoURL, targetRevision: 'HEAD', path: ARGOCD_DIR, directory: { recurse: true, include: rootInclude(files) } },
      destination: destination(settings, IN_CLUSTER_NAME, settings.argocd.namespace),
      syncPolicy: { automated: { prune: true, selfHeal: true }, retry: RETRY },
    },
  };
}

export function envApplication(settings: RepoSettings, env: EnvSpec): object {
  const guarded = isProtectedEnv(settings, env.name);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: applicationName(env.name),
      namespace: settings.argocd.namespace,
      // A protected environment's Application survives its file leaving git and any delete (inputs/rules.ts).
      annotations: { 'argocd.argoproj.io/sync-wave': WAVES.environments, ...(guarded ? { [SYNC_OPTIONS_ANNOTATION]: PROTECTED_SYNC_OPTIONS } : {}) },
      labels: { environment: env.name, ...(guarded ? { [PROTECTED_LABEL]: 'true' } : {}) },
      // Otherwise deleting the Application (delete-env + the root's prune) deletes what it deployed.
      ...(guarded ? {} : { finalizers: [FINALIZER] }),
    },
    spec: {
      project: envProjectName(env.name),
      source: { repoURL: settings.repoURL, targetRevision: env.targetRevision, path: envDir(env.name) },
      destination: destination(settings, envCluster(env), env.namespace),
      syncPolicy: {
        automated: env.sync.automated ? { prune: env.sync.prune, selfHeal: env.sync.selfHeal } : undefined,
        // The namespace is the root's (environmentNamespace), so no CreateNamespace here. Server-side
        // apply: Argo CD runs `kubectl apply --server-side --force-conflicts`
        // (argoproj/argo-cd@v3.5.1:docs/user-guide/sync-options.md "Server-Side Apply").
        syncOptions: ['ServerSideApply=true', 'PruneLast=true'],
        retry: RETRY,
      },
    },
  };
}

/**
 * The Namespaces of the environments on a cluster other than in-cluster. The root Application deploys
 * to in-cluster only (one destination per Application), so on another cluster this Application, a child
 * of the root at the namespaces' wave, creates them from argocd/clusters/<cluster>/namespaces/ (files
 * the root's include list leaves out) before the cluster's operator binds its role in them. Project
 * root: its clusterResourceWhitelist names these Namespaces; destination without a namespace (cluster-
 * scoped objects only). No finalizer and Prune=false on each Namespace: data is never deleted by a push.
 */
export function namespacesApplication(settings: RepoSettings, cluster: string): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: namespacesAppName(cluster),
      namespace: settings.argocd.namespace,
      annotations: { 'argocd.argoproj.io/sync-wave': WAVES.namespaces },
      labels: { 'app.kubernetes.io/component': 'namespaces', cluster },
    },
    spec: {
      project: ROOT_PROJECT_NAME,
      source: { repoURL: settings.repoURL, targetRevision: 'HEAD', path: clusterNamespacesDir(ARGOCD_DIR, cluster) },
      destination: destination(settings, cluster),
      syncPolicy: { automated: { prune: true, selfHeal: true }, retry: RETRY },
    },
  };
}
