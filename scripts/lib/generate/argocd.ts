// argocd/: the AppProject, the root app of apps, and one Application per environment. Sync waves:
// project, then the operator (its CRDs), then the environments; Argo CD only waits on a child
// Application's health if argocd-cm restores the Application health check (bootstrap sets it).
import { APP_NAME } from '../../../apps/users-api/src/contract.ts';
import { applicationName } from '../envspec.ts';
import { ARGOCD_DIR, envDir } from '../layout.ts';
import type { EnvSpec, RepoSettings } from '../spec.ts';

export const PROJECT_NAME = APP_NAME;
export const ROOT_APP_NAME = 'root';
export const IN_CLUSTER = 'https://kubernetes.default.svc';
export const WAVES = { project: '-2', operator: '-1', environments: '0' } as const;
const FINALIZER = 'resources-finalizer.argocd.argoproj.io';

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
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  };
}

export function envApplication(settings: RepoSettings, env: EnvSpec): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: applicationName(env.name),
      namespace: settings.argocd.namespace,
      annotations: { 'argocd.argoproj.io/sync-wave': WAVES.environments },
      labels: { environment: env.name },
      // Deleting the Application (delete-env + the root's prune) deletes what it deployed.
      finalizers: [FINALIZER],
    },
    spec: {
      project: PROJECT_NAME,
      source: { repoURL: settings.repoURL, targetRevision: env.targetRevision, path: envDir(env.name) },
      destination: { server: IN_CLUSTER, namespace: env.namespace },
      syncPolicy: {
        automated: env.sync.automated ? { prune: env.sync.prune, selfHeal: env.sync.selfHeal } : undefined,
        syncOptions: ['CreateNamespace=true', 'PruneLast=true'],
        managedNamespaceMetadata: {
          labels: {
            environment: env.name,
            'pod-security.kubernetes.io/enforce': 'baseline',
            'pod-security.kubernetes.io/warn': 'restricted',
          },
        },
        retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } },
      },
    },
  };
}
