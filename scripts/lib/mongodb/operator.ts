// The MongoDB operator as an Argo CD Application: MongoDB Controllers for Kubernetes (MCK) from its
// official Helm chart, pinned, with our own values. Nothing of the chart is copied into the repo.
import type { MongoSpec, RepoSettings } from '../spec.ts';

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

/** Helm release name, and so the operator Deployment's `app.kubernetes.io/name` label (chart value operator.name). */
export const MONGODB_OPERATOR_RELEASE = 'mongodb-kubernetes';
export const MONGODB_OPERATOR_POD_NAME = 'mongodb-kubernetes-operator';

/** Name of the operator's Application in argocd/apps (reserved as an environment name). */
export const MONGODB_OPERATOR_APP_NAME = 'mongodb-operator';

/**
 * MongoDB server the replica sets run unless an environment pins another. 8.0 is the current major
 * line (6.0 is end of life); the community image is quay.io/mongodb/mongodb-community-server:<v>-ubi9.
 */
export const MONGODB_SERVER_VERSION = '8.0.21';

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
    agent: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  },
};

/** The Helm values we set; every key was checked against the chart's values.yaml and templates. */
export function mongoOperatorValues(watchNamespaces: readonly string[]): Record<string, unknown> {
  const namespaces = [...new Set(watchNamespaces)].sort();
  return {
    operator: {
      // Comma-separated list; the chart binds the operator's Role in each of these namespaces.
      ...(namespaces.length > 0 ? { watchNamespace: namespaces.join(',') } : {}),
      // Community reconciler only: no MongoDB (enterprise), OpsManager, MongoDBUser or Search controllers.
      watchedResources: ['mongodbcommunity'],
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

/**
 * The operator's Argo CD Application. CRDs come from the chart's crds/ directory (Argo CD applies them
 * unless helm.skipCrds is set); ServerSideApply because the CRDs are too large for the client-side
 * last-applied annotation.
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
        // on every Application (argocd.ts RETRY, applied in generate/mongodb-parts.ts).
      },
    },
  };
}
