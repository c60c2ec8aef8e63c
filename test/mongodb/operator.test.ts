import { describe, expect, it } from 'vitest';
import {
  MONGODB_AGENT_MIN_MEMORY_LIMIT_BYTES, MONGODB_ENV_DEFAULTS, MONGODB_OPERATOR_DEFAULTS, MONGODB_SERVER_VERSION, mongoOperatorApplication,
  operatorChartKinds, type ChartKind,
} from '../../scripts/lib/generate/mongodb/operator.ts';
import { memoryBytes } from '../../scripts/lib/generate/mongodb/replicaset.ts';
import type { RepoSettings } from '../../scripts/lib/inputs/spec.ts';
import { toYaml } from '../../scripts/lib/core/yaml.ts';

const settings = {
  repoURL: 'https://git.example.invalid/users.git',
  image: 'registry.example.invalid/users-api',
  argocd: { version: 'v3.1.0', namespace: 'argocd' },
  operator: MONGODB_OPERATOR_DEFAULTS,
} as unknown as RepoSettings;

type App = {
  metadata: { name: string; namespace: string; annotations: Record<string, string>; finalizers?: string[] };
  spec: {
    project: string;
    source: { repoURL: string; chart: string; targetRevision: string; helm: { valuesObject: { operator: Record<string, unknown>; community: unknown } } };
    destination: { namespace: string };
    syncPolicy: { automated: { prune: boolean }; syncOptions: string[] };
  };
};

describe('the MongoDB operator Application', () => {
  const app = mongoOperatorApplication(settings, ['users-staging', 'users-dev', 'users-dev'], 'users') as App;

  it('installs the pinned mongodb-kubernetes chart from MongoDB\'s Helm repository', () => {
    expect(app.spec.source).toMatchObject({ repoURL: 'https://mongodb.github.io/helm-charts', chart: 'mongodb-kubernetes', targetRevision: MONGODB_OPERATOR_DEFAULTS.version });
    expect(MONGODB_OPERATOR_DEFAULTS.version).toMatch(/^1\.\d+\.\d+$/);
    expect(app.spec.destination.namespace).toBe('mongodb-operator');
    expect(app.metadata.namespace).toBe('argocd');
    expect(app.spec.project).toBe('users');
  });

  it('watches exactly the environment namespaces, sorted and without duplicates, with the community controller only', () => {
    const values = app.spec.source.helm.valuesObject.operator;
    expect(values.watchNamespace).toBe('users-dev,users-staging');
    expect(values.watchedResources).toEqual(['mongodbcommunity']);
    expect(values.enableClusterMongoDBRoles).toBe(false);
    expect(values.createResourcesServiceAccountsAndRoles).toBe(false);
  });

  it('applies server-side, creates its namespace, and syncs before the databases', () => {
    expect(app.spec.syncPolicy.syncOptions).toEqual(expect.arrayContaining(['ServerSideApply=true', 'CreateNamespace=true']));
    expect(Number(app.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBeLessThan(0);
  });

  it('never cascades a deletion or a prune to the CRDs that hold every database', () => {
    expect(app.metadata.finalizers).toBeUndefined();
    expect(app.spec.syncPolicy.automated.prune).toBe(false);
  });

  it('renders byte-identically whatever order the namespaces come in', () => {
    const other = mongoOperatorApplication(settings, ['users-dev', 'users-staging'], 'users');
    expect(toYaml(other)).toBe(toYaml(app));
  });

  it('defaults new environments to a pinned, supported MongoDB 8.0 patch release, not behind 8.0.32', () => {
    expect(MONGODB_SERVER_VERSION).toMatch(/^8\.0\.\d+$/);
    expect(Number(MONGODB_SERVER_VERSION.split('.')[2])).toBeGreaterThanOrEqual(32);
    expect(MONGODB_ENV_DEFAULTS.version).toBe(MONGODB_SERVER_VERSION);
  });

  it('gives the agent a memory limit not below the upstream sample\'s 250M', () => {
    expect(memoryBytes(MONGODB_ENV_DEFAULTS.resources.agent.limits.memory)).toBeGreaterThanOrEqual(MONGODB_AGENT_MIN_MEMORY_LIMIT_BYTES);
  });

  it('requests 100m for the operator pod instead of the chart\'s 500m, keeping the chart\'s limits', () => {
    expect(app.spec.source.helm.valuesObject.operator.resources).toEqual({ requests: { cpu: '100m', memory: '200Mi' }, limits: { cpu: '1100m', memory: '1Gi' } });
  });
});

describe('what the operator chart renders (for its AppProject)', () => {
  const kinds = (list: ChartKind[]) => list.map((k) => `${k.kind}${k.name ? `/${k.name}` : ''}`);

  it('binds a ClusterRole in each watched namespace when it watches several', () => {
    const c = operatorChartKinds(['dev', 'prod'], 'mongodb-operator');
    expect(kinds(c.namespaced)).toEqual(['ServiceAccount', 'Deployment', 'RoleBinding']);
    expect(kinds(c.cluster)).toEqual(expect.arrayContaining([
      'ClusterRole/mongodb-kubernetes-operator',
      'ClusterRole/mongodb-kubernetes-operator-pvc-resize',
      'ClusterRole/mongodb-kubernetes-operator-mongodb-operator-webhook-cr',
      'ClusterRoleBinding/mongodb-kubernetes-operator-mongodb-operator-webhook-crb',
      'CustomResourceDefinition/mongodbcommunity.mongodbcommunity.mongodb.com',
    ]));
    expect(kinds(c.cluster)).not.toContain('ClusterRoleBinding/mongodb-kubernetes-operator');
  });

  it('uses a Role when it watches only its own namespace; for "*" ClusterRoleBindings and still RoleBindings in its own namespace', () => {
    expect(kinds(operatorChartKinds([], 'mongodb-operator').namespaced)).toEqual(['ServiceAccount', 'Deployment', 'Role', 'RoleBinding']);
    const all = operatorChartKinds(['*'], 'mongodb-operator');
    expect(kinds(all.namespaced)).toEqual(['ServiceAccount', 'Deployment', 'RoleBinding']);
    expect(kinds(all.cluster)).toContain('ClusterRoleBinding/mongodb-kubernetes-operator');
  });
});
