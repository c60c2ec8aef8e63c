import { beforeAll, describe, expect, it } from 'vitest';
import { APP_NAME } from '../../apps/users-api/src/contract.ts';
import { appUserRoleProblems, MONGODB_POD, mongoReplicaSetBase } from '../../scripts/lib/generate/mongodb/replicaset.ts';
import { validateMongoDBCommunity } from '../../scripts/lib/generate/mongodb/schema.ts';
import { APP_USERS, appUserConnectionSecret, appUserPasswordSecret } from '../../scripts/lib/inputs/mongodb.ts';
import { MONGODB } from '../../scripts/lib/inputs/spec.ts';
import { DEV, only, PROD, renderOverlays, type K8sObject } from './fixtures.ts';

// Any string value under a key that names a secret: a password in git would show up here.
function secretLookingValues(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretLookingValues(v, `${path}/${i}`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => {
      const here = `${path}/${k}`;
      if (/pass(word)?|secret|token|credential/i.test(k) && typeof v === 'string' && !/SecretName$|^key$/.test(k)) return [here];
      return secretLookingValues(v, here);
    });
  }
  return [];
}

type Mdbc = K8sObject & {
  spec: {
    members: number;
    version: string;
    users: { roles: { name: string; db: string }[]; passwordSecretRef: object; connectionStringSecretName: string }[];
    additionalMongodConfig: Record<string, unknown>;
    statefulSet: { spec: { template: { spec: Record<string, unknown> & { containers: { name: string; resources: unknown }[] } }; volumeClaimTemplates: { metadata: { name: string }; spec: { storageClassName: string; resources: { requests: { storage: string } } } }[] } };
  };
};

describe('the replica-set base and its environments, rendered by kubectl kustomize', () => {
  let rendered: ReturnType<typeof renderOverlays>;
  beforeAll(() => {
    rendered = renderOverlays([DEV, PROD]);
  });

  it('renders the base on its own: RBAC, NetworkPolicy, PodDisruptionBudget and one MongoDBCommunity, no namespace', () => {
    expect(rendered.base.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'MongoDBCommunity/users-db',
      'NetworkPolicy/users-db',
      'PodDisruptionBudget/users-db',
      `Role/${MONGODB_POD.serviceAccount}`,
      `RoleBinding/${MONGODB_POD.serviceAccount}`,
      `ServiceAccount/${MONGODB_POD.serviceAccount}`,
    ]);
    expect(rendered.base.every((o) => o.metadata.namespace === undefined)).toBe(true);
  });

  it('an environment with 3 members renders 3 members, its resources, storage size and class', () => {
    const prod = rendered.byEnv.get('prod') ?? [];
    const cr = only<Mdbc>(prod, 'MongoDBCommunity');
    expect(cr.spec.members).toBe(3);
    const containers = Object.fromEntries(cr.spec.statefulSet.spec.template.spec.containers.map((c) => [c.name, c.resources]));
    expect(containers).toEqual({
      mongod: PROD.mongodb.resources.mongod,
      'mongodb-agent': PROD.mongodb.resources.agent,
    });
    const claims = Object.fromEntries(cr.spec.statefulSet.spec.volumeClaimTemplates.map((v) => [v.metadata.name, v.spec]));
    expect(claims['data-volume']?.resources.requests.storage).toBe('20Gi');
    expect(claims['data-volume']?.storageClassName).toBe('fast-ssd');
    expect(claims['logs-volume']?.storageClassName).toBe('fast-ssd');
    // 4Gi limit: (4 - 1) / 2 GB of WiredTiger cache, so mongod stays inside its limit.
    expect(cr.spec.additionalMongodConfig['storage.wiredTiger.engineConfig.cacheSizeGB']).toBe(1.5);
  });

  it('spreads members over nodes only when there is more than one', () => {
    const prodSpec = only<Mdbc>(rendered.byEnv.get('prod') ?? [], 'MongoDBCommunity').spec.statefulSet.spec.template.spec;
    const devSpec = only<Mdbc>(rendered.byEnv.get('dev') ?? [], 'MongoDBCommunity').spec.statefulSet.spec.template.spec;
    expect(prodSpec.affinity).toMatchObject({ podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ podAffinityTerm: { labelSelector: { matchLabels: MONGODB_POD.selector } } }] } });
    expect(prodSpec.topologySpreadConstraints).toHaveLength(2);
    expect(devSpec.affinity).toBeUndefined();
    expect(devSpec.topologySpreadConstraints).toBeUndefined();
    expect(only<Mdbc>(rendered.byEnv.get('dev') ?? [], 'MongoDBCommunity').spec.members).toBe(1);
  });

  it('puts every object in the environment namespace and binds the role to its own ServiceAccount there', () => {
    for (const env of [DEV, PROD]) {
      const objects = rendered.byEnv.get(env.name) ?? [];
      expect(objects.every((o) => o.metadata.namespace === env.namespace)).toBe(true);
      const binding = only<K8sObject & { subjects: { name: string; namespace: string }[] }>(objects, 'RoleBinding');
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: MONGODB_POD.serviceAccount, namespace: env.namespace }]);
    }
  });

  it('gives the application user readWrite on the application database only, in every environment', () => {
    for (const objects of [rendered.base, ...rendered.byEnv.values()]) {
      const cr = only<Mdbc>(objects, 'MongoDBCommunity');
      expect(appUserRoleProblems(cr)).toEqual([]);
      // Two users that alternate on rotation (docs/mongodb.md), both with exactly readWrite on the application database.
      // and the backup user with the built-in backup role only (scripts/lib/inputs/backup.ts).
      expect(cr.spec.users.map((u) => (u as { name?: string }).name)).toEqual(['users-api-a', 'users-api-b', 'users-backup', 'users-monitor']);
      for (const u of cr.spec.users.slice(0, 2)) expect(u.roles).toEqual([{ name: 'readWrite', db: MONGODB.appDb }]);
      expect(cr.spec.users[2]?.roles).toEqual([{ name: 'backup', db: 'admin' }]);
      const roles = JSON.stringify(cr.spec.users.slice(0, 2).map((u) => u.roles));
      expect(roles).not.toMatch(/AnyDatabase|"admin"|root|clusterAdmin|userAdmin|dbOwner/);
    }
  });

  it('passes our MongoDBCommunity schema in every environment', () => {
    for (const [name, objects] of rendered.byEnv) {
      expect(validateMongoDBCommunity(only(objects, 'MongoDBCommunity'), `overlays/${name}`)).toEqual([]);
    }
  });

  it('carries no Secret and no password value: the password and the connection string are referenced by name', () => {
    for (const objects of [rendered.base, ...rendered.byEnv.values()]) {
      expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
      expect(objects.flatMap((o) => secretLookingValues(o))).toEqual([]);
      const users = only<Mdbc>(objects, 'MongoDBCommunity').spec.users.slice(0, 2);
      expect(users.map((u) => u.passwordSecretRef)).toEqual(APP_USERS.map((u) => ({ name: appUserPasswordSecret(u), key: MONGODB.passwordKey })));
      expect(users.map((u) => u.connectionStringSecretName)).toEqual(APP_USERS.map(appUserConnectionSecret));
      expect(users[0]?.connectionStringSecretName).toBe(MONGODB.connectionSecret);
    }
  });

  it('lets only the users API, the other members and the operator reach port 27017', () => {
    const policy = only<K8sObject & { spec: { podSelector: unknown; ingress: { from: object[]; ports: object[] }[] } }>(rendered.byEnv.get('prod') ?? [], 'NetworkPolicy');
    expect(policy.spec.podSelector).toEqual({ matchLabels: MONGODB_POD.selector });
    expect(policy.spec.ingress).toHaveLength(1);
    expect(policy.spec.ingress[0]?.ports).toEqual([{ protocol: 'TCP', port: 27017 }]);
    expect(policy.spec.ingress[0]?.from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': APP_NAME } } },
      { podSelector: { matchLabels: MONGODB_POD.selector } },
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mongodb-operator' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mongodb-kubernetes-operator' } },
      },
    ]);
  });
});

describe('the replica-set base objects', () => {
  const base = mongoReplicaSetBase() as K8sObject[];

  it('orders the database after the operator and before the API, and tolerates a CRD not yet installed', () => {
    const cr = only(base, 'MongoDBCommunity');
    const annotations = (cr.metadata as { annotations: Record<string, string> }).annotations;
    expect(annotations['argocd.argoproj.io/sync-wave']).toBe('0');
    expect(annotations['argocd.argoproj.io/sync-options']).toBe('SkipDryRunOnMissingResource=true');
    for (const o of base) expect((o.metadata as { annotations: Record<string, string> }).annotations['argocd.argoproj.io/sync-wave']).toBe('0');
  });

  it('runs the pods as the ServiceAccount the base creates, with the operator\'s rules only', () => {
    const cr = only<Mdbc>(base, 'MongoDBCommunity');
    expect(cr.spec.statefulSet.spec.template.spec.serviceAccountName).toBe(MONGODB_POD.serviceAccount);
    const role = only<K8sObject & { rules: unknown }>(base, 'Role');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['delete', 'get', 'patch'] },
    ]);
  });

  it('sizes both operator init containers (names from mongodbstatefulset.go), so they do not get the 0.5 CPU / 400M default', () => {
    const cr = only<Mdbc>(base, 'MongoDBCommunity');
    const init = cr.spec.statefulSet.spec.template.spec.initContainers as { name: string; resources: { requests: { cpu: string; memory: string } } }[];
    expect(init.map((c) => c.name)).toEqual(['mongod-posthook', 'mongodb-agent-readinessprobe']);
    for (const c of init) expect(c.resources).toEqual({ requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } });
    expect(validateMongoDBCommunity(cr)).toEqual([]);
  });

  it('has a PodDisruptionBudget for the members that allows one eviction, so a one-member environment still drains', () => {
    const pdb = only<K8sObject & { spec: Record<string, unknown> }>(base, 'PodDisruptionBudget');
    expect(pdb.metadata.name).toBe(MONGODB.resourceName);
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: MONGODB_POD.selector } });
    expect(pdb.spec.minAvailable).toBeUndefined();
  });

  it('names the operator namespace it is given in the NetworkPolicy', () => {
    const policy = JSON.stringify(only(mongoReplicaSetBase('mck-system') as K8sObject[], 'NetworkPolicy'));
    expect(policy).toContain('"kubernetes.io/metadata.name":"mck-system"');
  });
});

describe('appUserRoleProblems', () => {
  const withRoles = (roles: object[]) => ({ spec: { users: [{ name: 'users-api', roles }] } });
  it.each([
    ['readWriteAnyDatabase on admin', [{ name: 'readWriteAnyDatabase', db: 'admin' }]],
    ['readWrite on admin', [{ name: 'readWrite', db: 'admin' }]],
    ['dbOwner on the app database', [{ name: 'dbOwner', db: 'users' }]],
    ['an extra role beside readWrite', [{ name: 'readWrite', db: 'users' }, { name: 'clusterMonitor', db: 'admin' }]],
    ['no role at all', []],
  ])('flags %s', (_name, roles) => {
    const problems = appUserRoleProblems(withRoles(roles), 'overlays/prod');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.file).toBe('overlays/prod');
    expect(problems[0]?.path).toMatch(/^\/spec\/users\/0\/roles/);
  });  it('the monitoring user: clusterMonitor on admin and read on local pass, anything wider is flagged', () => {
    const monitor = (roles: object[]) => ({ spec: { users: [{ name: 'users-monitor', roles }] } });
    expect(appUserRoleProblems(monitor([{ name: 'clusterMonitor', db: 'admin' }, { name: 'read', db: 'local' }]))).toEqual([]);
    const wide = appUserRoleProblems(monitor([{ name: 'clusterMonitor', db: 'admin' }, { name: 'readWrite', db: 'users' }]), 'overlays/prod');
    expect(wide).toEqual([expect.objectContaining({ path: '/spec/users/0/roles/1', message: expect.stringContaining('only clusterMonitor on "admin" and read on "local"') })]);
    expect(appUserRoleProblems(monitor([]))).toEqual([expect.objectContaining({ path: '/spec/users/0/roles' })]);
  });
});
