// The MongoDB operator as an Argo CD Application: MongoDB Controllers for Kubernetes (MCK) from its
// official Helm chart, pinned, with our own values. Nothing of the chart is copied into the repo.
import type { MongoSpec, RepoSettings } from '../../inputs/spec.ts';

/**
 * gitops.yaml `operator:` defaults. Chart name, repository and the 1.x line are from the chart's own
 * Chart.yaml (github.com/mongodb/mongodb-kubernetes, helm_chart/) and MCK's release notes.
 */
export const MONGODB_OPERATOR_DEFAULTS: RepoSettings['operator'] = {
  chartRepo: 'https://mongodb.github.io/helm-charts',
  chart: 'mongodb-kubernetes',
  version: '1.10.0',
  namespace: 'mongodb-operator',
};

/** Helm release name of the operator's chart. */
export const MONGODB_OPERATOR_RELEASE = 'mongodb-kubernetes';
/**
 * The operator Deployment's name and its pods' `app.kubernetes.io/name` label: the chart value
 * `operator.name` (default below), not the release name (mongodb/mongodb-kubernetes@1.10.0:
 * helm_chart/values.yaml, helm_chart/templates/operator.yaml). The ClusterRoles are named after it too.
 */
export const MONGODB_OPERATOR_POD_NAME = 'mongodb-kubernetes-operator';

import { MONGODB_OPERATOR_APP_NAME } from '../../inputs/mongodb.ts';
export { MONGODB_OPERATOR_APP_NAME };

/**
 * MongoDB server the replica sets run unless an environment pins another: the newest 8.0 patch we could
 * confirm in the operator's image repository, quay.io/mongodb/mongodb-community-server:8.0.32-ubi9
 * (docs/mongodb.md "Versions" says how it was found). 8.0 is the current major line (6.0 is end of life).
 * MongoDB 8.0 refuses to start on Linux 6.19 through 7.0.13 (docs/mongodb.md "Kernel").
 */
export const MONGODB_SERVER_VERSION = '8.0.32';

/**
 * The resources the operator gives every container it builds when the MongoDBCommunity does not
 * override them: mongodb/mongodb-kubernetes@1.10.0:pkg/kube/resourcerequirements/resource_requirements.go
 * newDefaultRequirements() = limits 1.0 CPU / 500M, requests 0.5 CPU / 400M, applied to mongod,
 * mongodb-agent and both init containers (mongodb-community-operator/controllers/construct/mongodbstatefulset.go).
 * An override replaces `requests` or `limits` as a whole map (pkg/util/merge/merge.go ResourceRequirements).
 */
export const MCK_CONTAINER_DEFAULT_RESOURCES = {
  requests: { cpu: '500m', memory: '400M' },
  limits: { cpu: '1', memory: '500M' },
} as const;

/**
 * The operator pod's own requests, which we set through the chart value `operator.resources`
 * (mongodb/mongodb-kubernetes@1.10.0:helm_chart/values.yaml defaults: requests 500m / 200Mi, limits
 * 1100m / 1Gi). One reconciler for a handful of replica sets idles far below half a CPU, so we request
 * 100m and keep the chart's limits; the capacity check in `validate` counts this request.
 */
export const MONGODB_OPERATOR_RESOURCES = {
  requests: { cpu: '100m', memory: '200Mi' },
  limits: { cpu: '1100m', memory: '1Gi' },
} as const;

/**
 * Sync waves. In the root app the operator Application comes before the environments' Applications;
 * inside an environment the database (wave 0) comes before the users API (wave 1, see api-base.ts).
 */
export const MONGODB_OPERATOR_SYNC_WAVE = '-1';
export const MONGODB_DATABASE_SYNC_WAVE = '0';

/** What `new-env` gives an environment's `mongodb:` block when nothing else is said. */
export const MONGODB_ENV_DEFAULTS: MongoSpec = {
  members: 1,
  version: MONGODB_SERVER_VERSION,
  storage: { size: '1Gi', className: 'local-path' },
  resources: {
    mongod: { requests: { cpu: '100m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    // 256Mi (268 MB): not below the smallest limit upstream publishes for the agent, 250M in
    // mongodb/mongodb-kubernetes@1.10.0:public/samples/community/mongodb.com_v1_mongodbcommunity_specify_pod_resources.yaml,
    // and half the operator's 500M default; `validate` refuses less (policy mongodb-agent-memory).
    agent: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  },
};

/** The smallest agent memory limit `validate` accepts: the upstream sample's 250M, in bytes. */
export const MONGODB_AGENT_MIN_MEMORY_LIMIT_BYTES = 250e6;

/** The Helm values we set; every key was checked against the chart's values.yaml and templates. */
export function mongoOperatorValues(watchNamespaces: readonly string[]): Record<string, unknown> {
  const namespaces = [...new Set(watchNamespaces)].sort();
  return {
    operator: {
      // Comma-separated list; the chart binds the operator's Role in each of these namespaces.
      ...(namespaces.length > 0 ? { watchNamespace: namespaces.join(',') } : {}),
      // Community reconciler only: no MongoDB (enterprise), OpsManager, MongoDBUser or Search controllers.
      watchedResources: ['mongodbcommunity'],
      resources: MONGODB_OPERATOR_RESOURCES,
      enableClusterMongoDBRoles: false,
      // Each environment's base owns its database ServiceAccount and Role (platform/mongodb/replicaset),
      // so one Argo CD Application, not two, manages them and a new environment brings its own.
      createResourcesServiceAccountsAndRoles: false,
      telemetry: { enabled: false },
    },
    community: {
      // UBI 9 images of the community server; the chart's ubi8 default is being phased out upstream.
      mongodb: { imageType: 'ubi9' },
    },
  };
}

export interface ChartKind {
  group: string;
  kind: string;
  /** Only for cluster-scoped kinds: the object's name, when it is known in advance. */
  name?: string;
}

/**
 * What the chart renders with our values. A typed list so that generating needs no Go; test/mongodb/operator.test.ts
 * renders the upstream chart (scripts/lib/render/helm.ts) for several watch lists and proves it equal
 * (mongodb/mongodb-kubernetes@1.10.0:helm_chart/templates/ and
 * crds/), which its AppProject must allow and nothing more:
 * - crds/: CustomResourceDefinitions (cluster-scoped);
 * - operator-sa.yaml (createOperatorServiceAccount, default true): ServiceAccount; operator.yaml: Deployment;
 * - operator-roles-base.yaml and operator-roles-pvc-resize.yaml (enablePVCResize, default true): the
 *   operator's rules as a Role when it watches only its own namespace, otherwise as a ClusterRole, bound
 *   by a RoleBinding in each watched namespace (a ClusterRoleBinding for "*"); the chart adds the operator's
 *   own namespace to the watched ones, so it always gets RoleBindings;
 * - operator-roles-webhook.yaml (webhook.registerConfiguration and installClusterRole, default true):
 *   a ClusterRole and ClusterRoleBinding;
 * - nothing from operator-roles-telemetry.yaml (telemetry.enabled false), operator-roles-clustermongodbroles.yaml
 *   (enableClusterMongoDBRoles false), database-roles.yaml (createResourcesServiceAccountsAndRoles false)
 *   or secret-config.yaml (no vaultSecretBackend).
 */
export function operatorChartKinds(watchNamespaces: readonly string[], operatorNamespace: string): { cluster: ChartKind[]; namespaced: ChartKind[] } {
  const rbac = 'rbac.authorization.k8s.io';
  const name = MONGODB_OPERATOR_POD_NAME; // chart value operator.name
  const watched = [...new Set([...watchNamespaces, operatorNamespace])];
  const all = watched.includes('*');
  const clusterScoped = all || watched.length > 1;
  const cluster: ChartKind[] = [
    ...MCK_CRD_NAMES.map((crd) => ({ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', name: crd })),
    // operator-roles-webhook.yaml: "<operator.name>-<namespace>-webhook-cr" / "-crb".
    { group: rbac, kind: 'ClusterRole', name: `${name}-${operatorNamespace}-webhook-cr` },
    { group: rbac, kind: 'ClusterRoleBinding', name: `${name}-${operatorNamespace}-webhook-crb` },
    // operator-roles-base.yaml and -pvc-resize.yaml: "<operator.name>" and "<operator.name>-pvc-resize".
    ...(clusterScoped ? [{ group: rbac, kind: 'ClusterRole', name }, { group: rbac, kind: 'ClusterRole', name: `${name}-pvc-resize` }] : []),
    ...(all ? [{ group: rbac, kind: 'ClusterRoleBinding', name }, { group: rbac, kind: 'ClusterRoleBinding', name: `${name}-pvc-resize-binding` }] : []),
  ];
  const namespaced: ChartKind[] = [
    { group: '', kind: 'ServiceAccount' },
    { group: 'apps', kind: 'Deployment' },
    ...(clusterScoped ? [] : [{ group: rbac, kind: 'Role' }]),
    // One RoleBinding per watched namespace that is not "*": the chart always appends its own namespace to the
    // watch list (`concat $watchNamespace (include "mongodb-kubernetes-operator.namespace" . | list) | uniq`),
    // so even with "*" the operator's namespace gets the base and the pvc-resize RoleBindings.
    ...(watched.some((w) => w !== '*') ? [{ group: rbac, kind: 'RoleBinding' }] : []),
  ];
  return { cluster, namespaced };
}

/** metadata.name of every CRD in mongodb/mongodb-kubernetes@1.10.0:helm_chart/crds/. */
export const MCK_CRD_NAMES = [
  'clustermongodbroles.mongodb.com',
  'mongodb.mongodb.com',
  'mongodbcommunity.mongodbcommunity.mongodb.com',
  'mongodbmulticluster.mongodb.com',
  'mongodbsearch.mongodb.com',
  'mongodbusers.mongodb.com',
  'opsmanagers.mongodb.com',
  'voyageais.ai.mongodb.com',
] as const;

/**
 * The operator's Argo CD Application. CRDs come from the chart's crds/ directory (Argo CD applies them
 * unless helm.skipCrds is set). ServerSideApply like every Application of the repository, not for size:
 * the largest CRD is about 68 KB as compact JSON, far below the 256 KiB annotation limit (docs/mongodb.md).
 */
export function mongoOperatorApplication(
  settings: RepoSettings,
  watchNamespaces: string[],
  project = 'default',
): object {
  const op = settings.operator;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: MONGODB_OPERATOR_APP_NAME,
      namespace: settings.argocd.namespace,
      annotations: { 'argocd.argoproj.io/sync-wave': MONGODB_OPERATOR_SYNC_WAVE },
      labels: { 'app.kubernetes.io/part-of': 'mongodb', 'app.kubernetes.io/component': 'operator' },
      // No resources-finalizer: deleting this Application must never cascade to the CRDs, which would
      // delete every MongoDBCommunity (and so every database) in the cluster.
    },
    spec: {
      project,
      source: {
        repoURL: op.chartRepo,
        chart: op.chart,
        targetRevision: op.version,
        helm: { releaseName: MONGODB_OPERATOR_RELEASE, valuesObject: mongoOperatorValues(watchNamespaces) },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: op.namespace },
      syncPolicy: {
        // No automatic prune: a CRD dropped by a chart upgrade must be removed by a person, not by a sync.
        automated: { prune: false, selfHeal: true },
        syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'],
        // The chart binds Roles in the environments' namespaces, which the root creates one wave earlier
        // (scripts/lib/generate/argocd.ts environmentNamespace); retry: the generator sets its one policy
        // on every Application (argocd.ts RETRY, applied in generate/mongodb/index.ts).
      },
    },
  };
}
