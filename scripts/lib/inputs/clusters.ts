// Clusters: gitops.yaml `clusters` (name → server, kubeconfig context, capacity) and env.yaml `cluster`.
// One Argo CD (in the cluster it runs in, `in-cluster`) deploys to every cluster; the generator names
// each destination by cluster NAME, and Argo CD finds the server in its cluster Secret of that name
// (argoproj/argo-cd@v3.5.1:docs/operator-manual/application.yaml "destination … or cluster name";
// docs/operator-manual/declarative-setup.md "Clusters"). Pure functions of the settings and specs.
import type { Problem } from '../core/errors.ts';
import { SETTINGS_FILE, envSpecFile } from '../core/layout.ts';
import type { ClusterSpec, EnvSpec, RepoSettings } from './spec.ts';

/**
 * The cluster Argo CD runs in. Argo CD knows it without a Secret, under this name and server
 * (argoproj/argo-cd@v3.5.1:pkg/apis/application/v1alpha1/application_defaults.go KubernetesInternalAPIServerAddr,
 * KubernetesInClusterName).
 */
export const IN_CLUSTER_NAME = 'in-cluster';
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/** The cluster an environment runs on. */
export function envCluster(env: Pick<EnvSpec, 'cluster'>): string {
  return env.cluster ?? IN_CLUSTER_NAME;
}

/** Whether gitops.yaml names clusters; without a `clusters:` section every destination stays `server: in-cluster`. */
export function namesClusters(settings: Pick<RepoSettings, 'clusters'>): boolean {
  return settings.clusters !== undefined;
}

/** Every known cluster (in-cluster always), name → spec with its server filled in. */
export function knownClusters(settings: Pick<RepoSettings, 'clusters' | 'capacity'>): Map<string, Required<Pick<ClusterSpec, 'server'>> & ClusterSpec> {
  const out = new Map<string, Required<Pick<ClusterSpec, 'server'>> & ClusterSpec>();
  const inCluster = settings.clusters?.[IN_CLUSTER_NAME] ?? {};
  out.set(IN_CLUSTER_NAME, { ...inCluster, server: inCluster.server ?? IN_CLUSTER_SERVER, ...(inCluster.capacity ?? settings.capacity ? { capacity: inCluster.capacity ?? settings.capacity } : {}) });
  for (const [name, spec] of Object.entries(settings.clusters ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (name === IN_CLUSTER_NAME) continue;
    out.set(name, { ...spec, server: spec.server ?? '' });
  }
  return out;
}

/** An Argo CD destination on `cluster`: by name when gitops.yaml names clusters, else the in-cluster server. */
export function destination(settings: Pick<RepoSettings, 'clusters'>, cluster: string, namespace?: string): Record<string, string> {
  const where: Record<string, string> = namesClusters(settings) ? { name: cluster } : { server: IN_CLUSTER_SERVER };
  return namespace === undefined ? where : { ...where, namespace };
}

/** The identity validate compares destinations by: the name, or the server when no name is written. */
export function destinationKey(d: { name?: unknown; server?: unknown; namespace?: unknown }): string {
  const cluster = typeof d.name === 'string' && d.name !== '' ? d.name : String(d.server ?? '');
  return `${cluster} ${String(d.namespace ?? '')}`;
}

/** Environments by cluster (clusters sorted, in-cluster first; environments sorted). */
export function envsByCluster<T extends Pick<EnvSpec, 'name' | 'cluster'>>(envs: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  const names = [...new Set(envs.map(envCluster))].sort((a, b) => (a === IN_CLUSTER_NAME ? -1 : b === IN_CLUSTER_NAME ? 1 : a.localeCompare(b)));
  for (const c of names) out.set(c, envs.filter((e) => envCluster(e) === c).sort((a, b) => a.name.localeCompare(b.name)));
  return out;
}

// ---- Per-cluster names of generated objects. The cluster Argo CD runs in keeps the names it had
// before clusters existed, so a repository without `clusters:` generates the same bytes.

/** The MongoDB operator's Application on `cluster` (one per cluster that hosts an environment). */
export function operatorAppName(base: string, cluster: string): string {
  return cluster === IN_CLUSTER_NAME ? base : `${base}-${cluster}`;
}
/** The platform AppProject of `cluster` (the operator chart, and the environment Namespaces there). */
export function platformProjectName(base: string, cluster: string): string {
  return cluster === IN_CLUSTER_NAME ? base : `${base}-${cluster}`;
}
/** The Application that creates the environments' Namespaces on a cluster other than in-cluster. */
export const namespacesAppName = (cluster: string): string => `namespaces-${cluster}`;
/** Its files: argocd/clusters/<cluster>/namespaces/<env>.yaml (not in the root's include list). */
export const clusterNamespacesDir = (argocdDir: string, cluster: string): string => `${argocdDir}/clusters/${cluster}/namespaces`;

/** The kubeconfig context for `cluster`: a flag wins, then gitops.yaml `clusters.<name>.context`, else undefined (current context). */
export function clusterContext(settings: Pick<RepoSettings, 'clusters'>, cluster: string, flag?: string): string | undefined {
  return flag ?? settings.clusters?.[cluster]?.context;
}

const HTTPS_SERVER = /^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[^\s?#@]*)?$/;

/** Rules of gitops.yaml `clusters` beyond the schema: servers present, https, unique; in-cluster's fixed. */
export function clusterSettingsProblems(file: string, settings: Pick<RepoSettings, 'clusters'>): Problem[] {
  const problems: Problem[] = [];
  const byServer = new Map<string, string>();
  for (const [name, spec] of Object.entries(settings.clusters ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const path = `/clusters/${name}/server`;
    if (name === IN_CLUSTER_NAME) {
      if (spec.server !== undefined && spec.server !== IN_CLUSTER_SERVER) {
        problems.push({ file, path, message: `in-cluster is the cluster Argo CD runs in; Argo CD reaches it at ${IN_CLUSTER_SERVER}, not ${spec.server}`, fix: `remove server (or write ${IN_CLUSTER_SERVER}); give another cluster a name of its own` });
      }
      continue;
    }
    if (spec.server === undefined) {
      problems.push({ file, path: `/clusters/${name}`, message: `cluster ${name} has no server`, fix: 'add server: https://<its API server>, the URL Argo CD reaches it at' });
      continue;
    }
    if (!HTTPS_SERVER.test(spec.server)) {
      problems.push({ file, path, message: `cluster ${name}: server ${JSON.stringify(spec.server)} is not an https URL of a host (no credentials, query or fragment)`, fix: 'write the API server URL, e.g. https://prod-eu.example.com:6443' });
      continue;
    }
    if (spec.server === IN_CLUSTER_SERVER) {
      problems.push({ file, path, message: `cluster ${name} has the in-cluster server ${IN_CLUSTER_SERVER}`, fix: 'that is in-cluster: put its environments on cluster in-cluster, or write the other cluster\'s own server' });
      continue;
    }
    const other = byServer.get(spec.server);
    if (other) problems.push({ file, path, message: `cluster ${name} has the same server as cluster ${other}; Argo CD keeps one cluster per server`, fix: 'one name per cluster: remove one of them and move its environments to the other' });
    else byServer.set(spec.server, name);
  }
  return problems;
}

/**
 * Rules across environments and clusters: the cluster must be known; a namespace is one environment's on
 * its cluster (the same name on two clusters is two namespaces); none is a namespace the platform uses on
 * that cluster: the MongoDB operator's on every cluster, Argo CD's on in-cluster.
 */
export function clusterEnvProblems(settings: RepoSettings | undefined, envs: Record<string, { spec: EnvSpec }>): Problem[] {
  const problems: Problem[] = [];
  const known = settings ? knownClusters(settings) : undefined;
  const byNs = new Map<string, string>();
  for (const name of Object.keys(envs).sort()) {
    const spec = envs[name]!.spec;
    const file = envSpecFile(name);
    const cluster = envCluster(spec);
    if (known && !known.has(cluster)) {
      problems.push({ file, path: '/cluster', message: `cluster "${cluster}" is not one of gitops.yaml clusters (${[...known.keys()].join(', ')})`, fix: `add it to ${SETTINGS_FILE} clusters (docs/clusters.md "Add a cluster"), or use one of those` });
      continue;
    }
    // Generated files per cluster share argocd/apps/ and argocd/projects/ with the environments'.
    if (known) {
      for (const c of known.keys()) {
        if (c === IN_CLUSTER_NAME) continue;
        const taken = name === namespacesAppName(c) || name === operatorAppName('mongodb-operator', c) ? `argocd/apps/${name}.yaml` : `${name}-users-api` === platformProjectName('platform', c) ? `argocd/projects/${name}-users-api.yaml` : undefined;
        if (taken) problems.push({ file, message: `environment name "${name}" collides with ${taken}, generated for cluster ${c}`, fix: 'rename the environment (or the cluster)' });
      }
    }
    const key = `${cluster}/${spec.namespace}`;
    const other = byNs.get(key);
    const where = cluster === IN_CLUSTER_NAME && !settings?.clusters ? '' : ` on cluster ${cluster}`;
    if (other) problems.push({ file, path: '/namespace', message: `namespace "${spec.namespace}"${where} is already used by environment ${other}`, fix: 'give every environment its own namespace on its cluster (or put it on another cluster)' });
    else byNs.set(key, name);
    if (!settings) continue;
    const owner = spec.namespace === settings.operator.namespace ? 'the MongoDB operator' : spec.namespace === settings.argocd.namespace && cluster === IN_CLUSTER_NAME ? 'Argo CD' : undefined;
    if (owner) problems.push({ file, path: '/namespace', message: `namespace "${spec.namespace}"${where} belongs to ${owner}`, fix: `use a namespace of its own, e.g. ${name}` });
  }
  return problems;
}

/**
 * An Application built for in-cluster (the operator's, from scripts/lib/generate/mongodb) placed on `cluster`:
 * its per-cluster name and its destination. Unchanged on in-cluster without a `clusters:` section.
 */
export function onCluster(settings: Pick<RepoSettings, 'clusters'>, app: object, cluster: string): object {
  const a = app as { metadata: { name: string }; spec: { destination: { namespace?: string } } };
  return {
    ...a,
    metadata: { ...a.metadata, name: operatorAppName(a.metadata.name, cluster) },
    spec: { ...a.spec, destination: destination(settings, cluster, a.spec.destination.namespace) },
  };
}
