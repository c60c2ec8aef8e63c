// argocd/: the AppProject, the root app of apps, the environments' Namespaces and one Application per
// environment. Root sync waves: namespaces (-3), project (-2), the operator (-1, its CRDs; it watches the
// environments' namespaces, which therefore exist already), then the environments (0). Argo CD only
// waits on a child Application's health if argocd-cm restores the Application health check (bootstrap
// sets it). Every Application retries forever with backoff (RETRY). docs/environments.md has the flow.
import { APP_NAME } from '../../../apps/users-api/src/contract.ts';
import { applicationName } from '../envspec.ts';
import { isProtectedEnv, PROTECTED_LABEL, PROTECTED_SYNC_OPTIONS, SYNC_OPTIONS_ANNOTATION } from '../env-rules.ts';
import { ARGOCD_DIR, envDir } from '../layout.ts';
import type { EnvSpec, RepoSettings } from '../spec.ts';

export const PROJECT_NAME = APP_NAME;
export const ROOT_APP_NAME = 'root';
export const IN_CLUSTER = 'https://kubernetes.default.svc';
export const WAVES = { namespaces: '-3', project: '-2', operator: '-1', environments: '0' } as const;
const FINALIZER = 'resources-finalizer.argocd.argoproj.io';

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

/** Kinds the MongoDB operator's Helm chart creates in its own namespace (besides cluster-scoped ones). */
const OPERATOR_CHART_KINDS = [
  { group: 'apps', kind: 'Deployment' },
  { group: '', kind: 'ServiceAccount' },
  { group: 'rbac.authorization.k8s.io', kind: 'Role' },
  { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' },
];

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

/** The group/kind pairs of a list of objects, plus the operator chart's, sorted and unique. */
export function namespacedKinds(objects: object[]): Array<{ group: string; kind: string }> {
  const seen = new Map<string, { group: string; kind: string }>();
  for (const o of objects) {
    const { apiVersion, kind } = o as { apiVersion: string; kind: string };
    const gk = { group: groupOf(apiVersion), kind };
    seen.set(`${gk.group}/${gk.kind}`, gk);
  }
  for (const gk of OPERATOR_CHART_KINDS) seen.set(`${gk.group}/${gk.kind}`, gk);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

export function appProject(settings: RepoSettings, envs: EnvSpec[], kinds: Array<{ group: string; kind: string }>): object {
  const namespaces = [...new Set([...envs.map((e) => e.namespace), settings.operator.namespace])].sort();
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: PROJECT_NAME, namespace: settings.argocd.namespace, annotations: { 'argocd.argoproj.io/sync-wave': WAVES.project } },
    spec: {
      description: 'The users API environments and the MongoDB operator; generated from gitops.yaml and overlays/*/env.yaml',
      // The operator's chart is the one source outside this repository (pinned in gitops.yaml).
      sourceRepos: [settings.repoURL, settings.operator.chartRepo].sort(),
      destinations: namespaces.map((namespace) => ({ server: IN_CLUSTER, namespace })),
      clusterResourceWhitelist: [
        { group: '', kind: 'Namespace' },
        { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
        { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
        { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
      ],
      namespaceResourceWhitelist: kinds,
    },
  };
}

export function rootApplication(settings: RepoSettings): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    // No resources-finalizer: deleting the root by mistake must not cascade to every environment.
    metadata: { name: ROOT_APP_NAME, namespace: settings.argocd.namespace },
    spec: {
      // The root only creates Applications and the AppProject in Argo CD's namespace; the default
      // project exists before anything else, so bootstrap can apply this file first.
      project: 'default',
      source: { repoURL: settings.repoURL, targetRevision: 'HEAD', path: ARGOCD_DIR, directory: { recurse: true, exclude: 'root.yaml' } },
      destination: { server: IN_CLUSTER, namespace: settings.argocd.namespace },
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
      // A protected environment's Application survives its file leaving git and any delete (env-rules.ts).
      annotations: { 'argocd.argoproj.io/sync-wave': WAVES.environments, ...(guarded ? { [SYNC_OPTIONS_ANNOTATION]: PROTECTED_SYNC_OPTIONS } : {}) },
      labels: { environment: env.name, ...(guarded ? { [PROTECTED_LABEL]: 'true' } : {}) },
      // Otherwise deleting the Application (delete-env + the root's prune) deletes what it deployed.
      ...(guarded ? {} : { finalizers: [FINALIZER] }),
    },
    spec: {
      project: PROJECT_NAME,
      source: { repoURL: settings.repoURL, targetRevision: env.targetRevision, path: envDir(env.name) },
      destination: { server: IN_CLUSTER, namespace: env.namespace },
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
