// platform/mongodb/replicaset: the per-environment Kustomize base (namespace-less; the overlay sets it)
// and each environment's patches to it, as typed objects. Names come from MONGODB in spec.ts and the
// API's contract, so the API's Deployment, its NetworkPolicy peer and the database cannot disagree.
import { APP_NAME } from '../../../../apps/users-api/src/contract.ts';
import type { Problem } from '../../core/errors.ts';
import { isQuantity, parseQuantity } from '../../core/quantity.ts';
import { MONGODB, type ContainerResources, type EnvSpec } from '../../inputs/spec.ts';
import {
  MONGODB_DATABASE_SYNC_WAVE, MONGODB_ENV_DEFAULTS, MONGODB_OPERATOR_DEFAULTS, MONGODB_OPERATOR_POD_NAME,
} from './operator.ts';
import { APP_USERS, appUserConnectionSecret, appUserPasswordSecret, appUserScramSecret, BACKUP_USER, MONITOR_USER } from '../../inputs/mongodb.ts';

export const MONGODB_COMMUNITY_GROUP = 'mongodbcommunity.mongodb.com';
export const MONGODB_COMMUNITY_API_VERSION = `${MONGODB_COMMUNITY_GROUP}/v1`;
export const MONGODB_COMMUNITY_KIND = 'MongoDBCommunity';
/** The monitoring user's roles (built-in, read-only): replSetGetStatus and serverStatus need clusterMonitor, the oplog read needs local. */
export const MONITOR_ROLES = [{ name: 'clusterMonitor', db: 'admin' }, { name: 'read', db: 'local' }] as const;

/**
 * Facts of MCK's community reconciler (mongodb/mongodb-kubernetes@1.10.0:
 * mongodb-community-operator/controllers/construct/mongodbstatefulset.go): the pods run as this
 * ServiceAccount, carry `app: <resource>-svc`, and have these two containers (MongodbName, AgentName),
 * these two init containers (versionUpgradeHookName, ReadinessProbeContainerName: each copies one binary
 * into a shared volume and exits) and these two volume claim templates.
 */
export const MONGODB_POD = {
  serviceAccount: 'mongodb-kubernetes-appdb',
  selector: { app: `${MONGODB.resourceName}-svc` },
  mongodContainer: 'mongod',
  agentContainer: 'mongodb-agent',
  versionUpgradeHookInit: 'mongod-posthook',
  readinessProbeInit: 'mongodb-agent-readinessprobe',
  dataVolume: 'data-volume',
  logsVolume: 'logs-volume',
} as const;

/**
 * Resources of the two init containers. Without them each gets the operator's default request of 0.5 CPU
 * and 400M (operator.ts MCK_CONTAINER_DEFAULT_RESOURCES), and since a pod's effective request is the
 * larger of its largest init container and the sum of its containers, every member would ask the
 * scheduler for half a CPU for a `cp`. The figures follow the upstream sample's way of overriding them
 * (public/samples/community/mongodb.com_v1_mongodbcommunity_specify_pod_resources.yaml) with sizes for a
 * process that copies one file: no CPU limit (the override replaces the default limits map whole).
 */
export const MONGODB_INIT_CONTAINER_RESOURCES: ContainerResources = {
  requests: { cpu: '10m', memory: '32Mi' },
  limits: { memory: '64Mi' },
};

/** Logs stay small whatever the data size: the agent rotates them. */
export const MONGODB_LOGS_VOLUME_SIZE = '1Gi';

/** The overlay file that carries an environment's JSON 6902 patch of the MongoDBCommunity. */
export const MONGODB_PATCH_FILE = 'mongodb-patch.yaml';


const WAVE = { 'argocd.argoproj.io/sync-wave': MONGODB_DATABASE_SYNC_WAVE };
const LABELS = {
  'app.kubernetes.io/name': MONGODB.resourceName,
  'app.kubernetes.io/component': 'database',
  'app.kubernetes.io/part-of': APP_NAME,
};

function containerResources(r: ContainerResources): object {
  return { requests: { ...r.requests }, limits: { ...r.limits } };
}

/** The MongoDBCommunity resource with the defaults an environment's patch replaces. */
export function mongoDBCommunity(): Record<string, unknown> {
  const d = MONGODB_ENV_DEFAULTS;
  return {
    apiVersion: MONGODB_COMMUNITY_API_VERSION,
    kind: MONGODB_COMMUNITY_KIND,
    metadata: {
      name: MONGODB.resourceName,
      labels: LABELS,
      annotations: {
        ...WAVE,
        // On a cluster's first sync the CRD may not exist yet (the operator's Application installs it):
        // skip the dry run instead of failing the whole environment.
        'argocd.argoproj.io/sync-options': 'SkipDryRunOnMissingResource=true',
      },
    },
    spec: {
      type: 'ReplicaSet',
      members: d.members,
      version: d.version,
      security: { authentication: { modes: ['SCRAM-SHA-256'] } },
      // Two users alternate on rotation (scripts/lib/secrets/password-job.ts; docs/mongodb.md "Rotation without a failed request").
      users: APP_USERS.map((user): Record<string, unknown> => ({
        name: user,
        db: MONGODB.authDb,
        // Created in the cluster by the PreSync password hook (scripts/lib/generate/mongodb/password-hook.ts), never in git: only its name is here.
        passwordSecretRef: { name: appUserPasswordSecret(user), key: MONGODB.passwordKey },
        // Least privilege: the application's own database, nothing else (no *AnyDatabase, nothing on admin).
        roles: [{ name: 'readWrite', db: MONGODB.appDb }],
        scramCredentialsSecretName: appUserScramSecret(user),
        // Same as the operator's default <resource>-<db>-<user>, stated so the API's secretKeyRef
        // cannot silently point at a renamed Secret.
        connectionStringSecretName: appUserConnectionSecret(user),
      })).concat([
        {
          name: BACKUP_USER,
          db: MONGODB.authDb,
          passwordSecretRef: { name: appUserPasswordSecret(BACKUP_USER), key: MONGODB.passwordKey },
          // Least privilege for mongodump: the built-in `backup` role, nothing else (scripts/lib/inputs/backup.ts).
          roles: [{ name: 'backup', db: MONGODB.authDb }],
          scramCredentialsSecretName: appUserScramSecret(BACKUP_USER),
          connectionStringSecretName: appUserConnectionSecret(BACKUP_USER),
        },
        {
          name: MONITOR_USER,
          db: MONGODB.authDb,
          passwordSecretRef: { name: appUserPasswordSecret(MONITOR_USER), key: MONGODB.passwordKey },
          // Least privilege for the metrics exporter (scripts/lib/generate/monitoring.ts): exactly what
          // percona/mongodb_exporter@v0.53.0:README.md "Permissions" names, read-only.
          roles: MONITOR_ROLES.map((r) => ({ ...r })),
          scramCredentialsSecretName: appUserScramSecret(MONITOR_USER),
          connectionStringSecretName: appUserConnectionSecret(MONITOR_USER),
        },
      ]),
      additionalMongodConfig: { 'storage.wiredTiger.engineConfig.cacheSizeGB': wiredTigerCacheGB(d.resources.mongod) },
      statefulSet: {
        spec: {
          template: {
            metadata: { labels: LABELS },
            spec: {
              serviceAccountName: MONGODB_POD.serviceAccount,
              // Order matters: the environments' JSON patches address the containers by index.
              containers: [
                { name: MONGODB_POD.mongodContainer, resources: containerResources(d.resources.mongod) },
                { name: MONGODB_POD.agentContainer, resources: containerResources(d.resources.agent) },
              ],
              initContainers: [
                { name: MONGODB_POD.versionUpgradeHookInit, resources: containerResources(MONGODB_INIT_CONTAINER_RESOURCES) },
                { name: MONGODB_POD.readinessProbeInit, resources: containerResources(MONGODB_INIT_CONTAINER_RESOURCES) },
              ],
            },
          },
          volumeClaimTemplates: [
            volumeClaim(MONGODB_POD.dataVolume, d.storage.size, d.storage.className),
            volumeClaim(MONGODB_POD.logsVolume, MONGODB_LOGS_VOLUME_SIZE, d.storage.className),
          ],
        },
      },
    },
  };
}

function volumeClaim(name: string, size: string, className: string): object {
  return {
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: className, resources: { requests: { storage: size } } },
  };
}

/** What the database pods need from the API server (MCK chart, templates/database-roles.yaml). */
function databaseRbac(): object[] {
  const name = MONGODB_POD.serviceAccount;
  const metadata = { name, labels: LABELS, annotations: WAVE };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata,
      rules: [
        // The agent reads the automation config and keyfile Secrets the operator writes.
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
        // The readiness probe and version-upgrade hook annotate and restart their own pod.
        { apiGroups: [''], resources: ['pods'], verbs: ['delete', 'get', 'patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      // Kustomize's namespace transformer rewrites this to the environment's namespace.
      subjects: [{ kind: 'ServiceAccount', name, namespace: 'default' }],
    },
  ];
}

/** Only the users API, the operator and the other members reach mongod. */
export function mongoNetworkPolicy(operatorNamespace: string = MONGODB_OPERATOR_DEFAULTS.namespace): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: MONGODB.resourceName, labels: LABELS, annotations: WAVE },
    spec: {
      podSelector: { matchLabels: MONGODB_POD.selector },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { 'app.kubernetes.io/name': APP_NAME } } },
            // Replication and the agents' automation go member to member over the same port.
            { podSelector: { matchLabels: MONGODB_POD.selector } },
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': operatorNamespace } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': MONGODB_OPERATOR_POD_NAME } },
            },
          ],
          ports: [{ protocol: 'TCP', port: MONGODB.port }],
        },
      ],
    },
  };
}

/**
 * The operator makes no PodDisruptionBudget for the members. maxUnavailable 1 (never minAvailable): a
 * three-member set keeps its majority through a drain, and a one-member environment (dev) is still
 * evicted, because one unavailable pod is allowed. kubernetes/api@v0.28.0:policy/v1/types.go
 * PodDisruptionBudgetSpec: "An eviction is allowed if at most maxUnavailable pods selected by selector
 * are unavailable after the eviction"; minAvailable "100%" (or 1 of 1) prevents all voluntary evictions.
 */
export function mongoPodDisruptionBudget(): object {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: MONGODB.resourceName, labels: LABELS, annotations: WAVE },
    spec: { maxUnavailable: 1, selector: { matchLabels: MONGODB_POD.selector } },
  };
}

/**
 * The objects of platform/mongodb/replicaset. `operatorNamespace` defaults to gitops.yaml's default;
 * pass settings.operator.namespace when it differs.
 */
export function mongoReplicaSetBase(operatorNamespace: string = MONGODB_OPERATOR_DEFAULTS.namespace): object[] {
  return [...databaseRbac(), mongoNetworkPolicy(operatorNamespace), mongoPodDisruptionBudget(), mongoDBCommunity()];
}

/** Bytes of a Kubernetes memory quantity (the one quantity parser, scripts/lib/core/quantity.ts), or undefined. */
export function memoryBytes(quantity: string): number | undefined {
  const q = parseQuantity(quantity);
  return isQuantity(q) ? Number(q.num) / Number(q.den) : undefined;
}

/**
 * WiredTiger cache from the container's memory limit, with mongod's own rule (50% of memory minus 1 GB,
 * at least 0.25 GB), because mongod sizes it from the node's RAM when it does not see the cgroup limit
 * and then gets OOM-killed.
 */
export function wiredTigerCacheGB(mongod: ContainerResources): number {
  const bytes = memoryBytes(mongod.limits.memory) ?? 2 ** 30;
  const gb = (bytes / 2 ** 30 - 1) / 2;
  return Math.max(0.25, Math.floor(gb * 100) / 100);
}

export interface OverlayPatch {
  file: string;
  patch: object;
  target?: { group?: string; version?: string; kind: string; name?: string };
}

/**
 * The environment's patch of the MongoDBCommunity. Kustomize merges a CRD's patches as JSON merge
 * patches (lists replaced whole), so these are JSON 6902 operations on paths the base defines.
 */
export function mongoOverlayPatches(env: EnvSpec): OverlayPatch[] {
  const m = env.mongodb;
  const sts = '/spec/statefulSet/spec';
  const ops: object[] = [
    { op: 'replace', path: '/spec/members', value: m.members },
    { op: 'replace', path: '/spec/version', value: m.version },
    {
      op: 'replace',
      path: `/spec/additionalMongodConfig/${'storage.wiredTiger.engineConfig.cacheSizeGB'}`,
      value: wiredTigerCacheGB(m.resources.mongod),
    },
    { op: 'replace', path: `${sts}/template/spec/containers/0/resources`, value: containerResources(m.resources.mongod) },
    { op: 'replace', path: `${sts}/template/spec/containers/1/resources`, value: containerResources(m.resources.agent) },
    { op: 'replace', path: `${sts}/volumeClaimTemplates/0/spec/resources/requests/storage`, value: m.storage.size },
    { op: 'replace', path: `${sts}/volumeClaimTemplates/0/spec/storageClassName`, value: m.storage.className },
    { op: 'replace', path: `${sts}/volumeClaimTemplates/1/spec/storageClassName`, value: m.storage.className },
  ];
  if (m.members > 1) {
    // Spread members over nodes, but still schedule on a one-node cluster (k3s): a replica set that
    // cannot start is worse than one that shares a node.
    const labelSelector = { matchLabels: MONGODB_POD.selector };
    ops.push(
      {
        op: 'add',
        path: `${sts}/template/spec/affinity`,
        value: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 100, podAffinityTerm: { labelSelector, topologyKey: 'kubernetes.io/hostname' } },
            ],
          },
        },
      },
      {
        op: 'add',
        path: `${sts}/template/spec/topologySpreadConstraints`,
        value: [
          { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector },
          { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector },
        ],
      },
    );
  }
  return [
    {
      file: MONGODB_PATCH_FILE,
      patch: ops,
      target: { group: MONGODB_COMMUNITY_GROUP, version: 'v1', kind: MONGODB_COMMUNITY_KIND, name: MONGODB.resourceName },
    },
  ];
}

/**
 * Least-privilege check of the users on a (rendered) MongoDBCommunity: the application users exactly
 * readWrite on the application database, the backup user exactly the built-in `backup` role. Used by tests on every environment and by `validate`.
 */
export function appUserRoleProblems(obj: unknown, file?: string): Problem[] {
  const problems: Problem[] = [];
  const users = (obj as { spec?: { users?: unknown } })?.spec?.users;
  if (!Array.isArray(users)) return [{ file, path: '/spec/users', message: 'no users list', fix: `declare the users ${APP_USERS.join(', ')}` }];
  users.forEach((user: { name?: unknown; roles?: unknown }, i) => {
    const roles = Array.isArray(user?.roles) ? (user.roles as { name?: unknown; db?: unknown }[]) : [];
    const isBackup = user?.name === BACKUP_USER;
    if (user?.name === MONITOR_USER) {
      roles.forEach((role, j) => {
        if (!MONITOR_ROLES.some((r) => r.name === role?.name && r.db === role?.db)) {
          problems.push({
            file,
            path: `/spec/users/${i}/roles/${j}`,
            message: `user "${MONITOR_USER}" has role ${String(role?.name)} on ${String(role?.db)}; only ${MONITOR_ROLES.map((r) => `${r.name} on "${r.db}"`).join(' and ')} are allowed`,
            fix: `give the monitoring user exactly ${MONITOR_ROLES.map((r) => `{ name: ${r.name}, db: ${r.db} }`).join(', ')}`,
          });
        }
      });
      if (roles.length === 0) problems.push({ file, path: `/spec/users/${i}/roles`, message: `user "${MONITOR_USER}" has no roles`, fix: 'give it clusterMonitor on admin and read on local' });
      return;
    }
    roles.forEach((role, j) => {
      const ok = isBackup ? role?.name === 'backup' && role?.db === MONGODB.authDb : role?.name === 'readWrite' && role?.db === MONGODB.appDb;
      if (!ok) {
        problems.push({
          file,
          path: `/spec/users/${i}/roles/${j}`,
          message: isBackup
            ? `user "${String(user?.name)}" has role ${String(role?.name)} on ${String(role?.db)}; only the built-in backup role on "${MONGODB.authDb}" is allowed`
            : `user "${String(user?.name)}" has role ${String(role?.name)} on ${String(role?.db)}; only readWrite on "${MONGODB.appDb}" is allowed`,
          fix: isBackup ? `give the backup user exactly { name: backup, db: ${MONGODB.authDb} }` : `remove the role; the application user needs readWrite on "${MONGODB.appDb}" only`,
        });
      }
    });
    if (roles.length === 0) {
      problems.push({ file, path: `/spec/users/${i}/roles`, message: `user "${String(user?.name)}" has no roles`, fix: `give it readWrite on "${MONGODB.appDb}"` });
    }
  });
  return problems;
}
