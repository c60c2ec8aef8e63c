// bootstrap --cluster <name>: register another cluster with the one Argo CD, the way `argocd cluster add`
// does (argoproj/argo-cd@v3.5.1:cmd/argocd/commands/cluster.go NewClusterAddCommand →
// util/clusterauth/clusterauth.go InstallClusterManagerRBAC):
//   on the target cluster — ServiceAccount kube-system/argocd-manager, ClusterRole argocd-manager-role,
//     ClusterRoleBinding argocd-manager-role-binding, and the long-lived token Secret
//     kube-system/argocd-manager-long-lived-token (type kubernetes.io/service-account-token, annotated
//     kubernetes.io/service-account.name) that the token controller fills;
//   on the cluster Argo CD runs in — the cluster Secret labelled argocd.argoproj.io/secret-type: cluster
//     with name, server and config {bearerToken, tlsClientConfig} (docs/operator-manual/declarative-setup.md
//     "Clusters").
// Unlike upstream (`*` on `*` plus every non-resource URL), the ClusterRole grants only what this
// repository deploys there, read off the generated AppProjects whose destinations name the cluster
// (clusterRules). Argo CD's controller then must not try to watch what it may not list:
// argocd-cm `resource.respectRBAC: normal` (argoproj/argo-cd@v3.5.1:docs/operator-manual/
// declarative-setup.md "Auto respect RBAC for controller"). The token never reaches stdout or git.
import type { Kube, KubeObject } from '../kube/client.ts';
import { FIELD_MANAGER, KubeRequestError } from '../kube/client.ts';
import { sameObject } from '../kube/compare.ts';
import { knownClusters } from '../../inputs/clusters.ts';
import { mongoBaseObjects } from '../../generate/mongodb/index.ts';
import type { RepoSettings } from '../../inputs/spec.ts';
import { ARGOCD_CM } from './health-checks.ts';

export const MANAGER_NAMESPACE = 'kube-system';
export const MANAGER_SA = 'argocd-manager';
export const MANAGER_ROLE = 'argocd-manager-role';
export const MANAGER_BINDING = 'argocd-manager-role-binding';
export const MANAGER_TOKEN_SECRET = `${MANAGER_SA}-long-lived-token`;
export const CLUSTER_SECRET_LABEL = 'argocd.argoproj.io/secret-type';
/** Its own field manager on argocd-cm, so bootstrap's health-check keys and this key never remove each other. */
export const CLUSTERS_FIELD_MANAGER = `${FIELD_MANAGER}-clusters`;
export const RESPECT_RBAC_KEY = 'resource.respectRBAC';

export const clusterSecretName = (cluster: string): string => `cluster-${cluster}`;

export interface PolicyRule { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }

/** Kind → resource (plural) of the kinds this repository deploys; an unknown kind is an error, never a guess. */
const RESOURCES: Record<string, string> = {
  Namespace: 'namespaces', ConfigMap: 'configmaps', Service: 'services', ServiceAccount: 'serviceaccounts', Deployment: 'deployments',
  Job: 'jobs', MongoDBCommunity: 'mongodbcommunity', NetworkPolicy: 'networkpolicies', PodDisruptionBudget: 'poddisruptionbudgets',
  Role: 'roles', RoleBinding: 'rolebindings', ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings',
  CustomResourceDefinition: 'customresourcedefinitions', Ingress: 'ingresses', Secret: 'secrets',
  // Every other kind argocd/projects/*.yaml names (backups, quotas, admission, the image policy, Argo CD's own):
  // plurals as the API serves them (kubernetes/kubernetes pkg/apis/{core,batch,admissionregistration}; kyverno
  // config/crds/kyverno.io_clusterpolicies.yaml; argo-cd manifests/crds/*-crd.yaml).
  PersistentVolumeClaim: 'persistentvolumeclaims', CronJob: 'cronjobs', LimitRange: 'limitranges', ResourceQuota: 'resourcequotas',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies', ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
  ClusterPolicy: 'clusterpolicies', Application: 'applications', AppProject: 'appprojects', ApplicationSet: 'applicationsets',
};
function resourceOf(kind: string): string {
  const r = RESOURCES[kind];
  if (!r) throw new Error(`cluster registration: no resource name known for kind ${kind}; add it to scripts/lib/cluster/bootstrap/cluster.ts RESOURCES`);
  return r;
}

/** What the Argo CD controller reads besides what it deploys: the children it shows in the resource tree. */
const TREE_READ: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'persistentvolumeclaims', 'endpoints', 'events'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apps'], resources: ['replicasets', 'statefulsets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
];

interface ProjectLike { spec?: { destinations?: Array<{ name?: string; server?: string; namespace?: string }>; clusterResourceWhitelist?: Array<{ group: string; kind: string; name?: string }>; namespaceResourceWhitelist?: Array<{ group: string; kind: string }> } }

/**
 * The least rules for Argo CD on `cluster`, from the AppProjects that deploy there:
 *  - namespaced kinds the projects allow: every verb Argo CD's sync and prune use, in all namespaces
 *    (environment namespaces are created later, from git, so RoleBindings per namespace could not exist
 *    yet; the AppProjects confine each Application to its namespaces);
 *  - cluster-scoped kinds the projects name: `create` (Kubernetes cannot restrict create by name), the
 *    other verbs only on those names;
 *  - `escalate` and `bind` on exactly the Roles/ClusterRoles the repository renders, because Kubernetes
 *    lets a user write or bind a role granting more than it holds only with those verbs
 *    (kubernetes/website content/en/docs/reference/access-authn-authz/rbac.md "Privilege escalation
 *    prevention and bootstrapping"). A name in resourceNames only matches a request whose URL names the
 *    object: Argo CD's server-side apply (a PATCH to the object, ServerSideApply=true on every
 *    Application that deploys there) does, a plain POST does not — proven in
 *    test/clusters/register.envtest.test.ts;
 *  - read-only on the resource tree's children. No Secrets, no nodes, no `*`.
 */
export function clusterRules(cluster: string, serverOf: (name: string) => string | undefined, projects: readonly ProjectLike[], roleNames: { roles: string[]; clusterRoles: string[] }): PolicyRule[] {
  const namespaced = new Map<string, Set<string>>();
  const named = new Map<string, Map<string, Set<string>>>();
  for (const p of projects) {
    const dests = (p.spec?.destinations ?? []).filter((d) => d.name === cluster || (d.name === undefined && d.server !== undefined && d.server === serverOf(cluster)));
    if (dests.length === 0) continue;
    for (const k of p.spec?.clusterResourceWhitelist ?? []) {
      const byRes = named.get(k.group) ?? new Map<string, Set<string>>();
      named.set(k.group, byRes);
      const names = byRes.get(resourceOf(k.kind)) ?? new Set<string>();
      byRes.set(resourceOf(k.kind), names);
      if (k.name) names.add(k.name);
    }
    // A destination without a namespace is an Application of cluster-scoped objects only.
    if (dests.some((d) => d.namespace)) {
      for (const k of p.spec?.namespaceResourceWhitelist ?? []) {
        const set = namespaced.get(k.group) ?? new Set<string>();
        namespaced.set(k.group, set);
        set.add(resourceOf(k.kind));
      }
    }
  }
  // The root project names every environment's Namespace (all clusters): keep those of this cluster,
  // the namespaces its projects' destinations name there.
  const here = new Set(projects.flatMap((p) => (p.spec?.destinations ?? []).filter((d) => d.name === cluster && d.namespace).map((d) => d.namespace!)));
  const namespaceNames = named.get('')?.get('namespaces');
  if (namespaceNames) for (const n of [...namespaceNames]) if (!here.has(n)) namespaceNames.delete(n);
  const sorted = (s: Iterable<string>): string[] => [...s].sort();
  const rules: PolicyRule[] = [];
  for (const group of sorted(namespaced.keys())) {
    rules.push({ apiGroups: [group], resources: sorted(namespaced.get(group)!), verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] });
  }
  for (const group of sorted(named.keys())) {
    const byRes = named.get(group)!;
    const resources = sorted(byRes.keys());
    rules.push({ apiGroups: [group], resources, verbs: ['create', 'list', 'watch'] });
    for (const res of resources) {
      const names = sorted(byRes.get(res)!);
      if (names.length > 0) rules.push({ apiGroups: [group], resources: [res], verbs: ['delete', 'get', 'patch', 'update'], resourceNames: names });
    }
  }
  if (roleNames.roles.length > 0) rules.push({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['bind', 'escalate'], resourceNames: sorted(new Set(roleNames.roles)) });
  if (roleNames.clusterRoles.length > 0) rules.push({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind', 'escalate'], resourceNames: sorted(new Set(roleNames.clusterRoles)) });
  if (rules.length === 0) return [];
  return [...rules, ...TREE_READ];
}

/** The objects `argocd cluster add` creates on the target cluster, with our least rules. */
export function managerObjects(rules: readonly PolicyRule[]): KubeObject[] {
  const labels = { 'app.kubernetes.io/managed-by': FIELD_MANAGER, 'app.kubernetes.io/part-of': 'argocd' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: MANAGER_SA, namespace: MANAGER_NAMESPACE, labels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: MANAGER_ROLE, labels }, rules: [...rules] },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: MANAGER_BINDING, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: MANAGER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: MANAGER_SA, namespace: MANAGER_NAMESPACE }],
    },
  ];
}

export function tokenSecret(): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
    metadata: { name: MANAGER_TOKEN_SECRET, namespace: MANAGER_NAMESPACE, annotations: { 'kubernetes.io/service-account.name': MANAGER_SA } },
  };
}

/** Argo CD's cluster Secret (values as stringData; never logged). */
export function clusterSecret(argocdNamespace: string, cluster: string, server: string, token: string, caPem: string): KubeObject {
  const config = { bearerToken: token, tlsClientConfig: { insecure: false, caData: Buffer.from(caPem).toString('base64') } };
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: clusterSecretName(cluster), namespace: argocdNamespace, labels: { [CLUSTER_SECRET_LABEL]: 'cluster', 'app.kubernetes.io/managed-by': FIELD_MANAGER } },
    stringData: { name: cluster, server, config: JSON.stringify(config) },
  };
}

/** One line per rule, for the report of what was granted. */
export function describeRules(rules: readonly PolicyRule[]): string[] {
  return rules.map((r) => `${r.verbs.join(',')} on ${r.resources.map((x) => `${x}${r.apiGroups[0] ? `.${r.apiGroups[0]}` : ''}`).join(', ')}${r.resourceNames ? ` named ${r.resourceNames.join(', ')}` : ''}`);
}

export interface RegisterInputs {
  cluster: string;
  /** The server Argo CD reaches the cluster at (gitops.yaml clusters.<name>.server). */
  server: string;
  argocdNamespace: string;
  rules: PolicyRule[];
  /** The target's CA (from its kubeconfig) when the token Secret carries none. */
  caPem?: string;
}

export interface RegisterDeps {
  /** The cluster being registered. */
  target: Kube;
  /** The cluster Argo CD runs in. */
  control: Kube;
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  /** How long to wait for the token controller to fill the token Secret. */
  tokenWaitMs?: number;
}

export interface RegisterResult { changed: number; granted: string[] }

const b64 = (v: unknown): string | undefined => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined);

/** Registers (or re-checks) `cluster`; idempotent; with dryRun every write is sent with dryRun=All. */
export async function registerCluster(inputs: RegisterInputs, deps: RegisterDeps, opts: { dryRun: boolean }): Promise<RegisterResult> {
  const { target, control, log } = deps;
  if (inputs.rules.length === 0) {
    throw new KubeRequestError(`no AppProject deploys to cluster ${inputs.cluster}: nothing to grant\n    fix: put an environment on it (env.yaml cluster: ${inputs.cluster}), run \`zx scripts/generate.ts\`, then register it`, undefined);
  }
  let changed = 0;
  const say = (action: 'create' | 'update' | 'unchanged', what: string, where: Kube): void => {
    if (action !== 'unchanged') changed++;
    const verb = action === 'unchanged' ? 'unchanged' : opts.dryRun ? `would ${action}` : action === 'create' ? 'created' : 'updated';
    log(`  ${verb} ${what} on ${where.server}`);
  };
  const ensure = async (kube: Kube, desired: KubeObject, fieldManager = FIELD_MANAGER): Promise<void> => {
    const ref = { apiVersion: desired.apiVersion, kind: desired.kind, name: desired.metadata.name, namespace: desired.metadata.namespace };
    const live = await kube.get(ref);
    const wouldBe = live ? await kube.apply(desired, { fieldManager, dryRun: true }) : undefined;
    const action = !live ? 'create' : sameObject(live, wouldBe!) ? 'unchanged' : 'update';
    if (action !== 'unchanged') await kube.apply(desired, { fieldManager, dryRun: opts.dryRun });
    say(action, `${desired.kind} ${desired.metadata.namespace ? `${desired.metadata.namespace}/` : ''}${desired.metadata.name}`, kube);
  };

  log(`cluster ${inputs.cluster} (${inputs.server}): Argo CD's ServiceAccount ${MANAGER_NAMESPACE}/${MANAGER_SA} with least rights`);
  for (const o of managerObjects(inputs.rules)) await ensure(target, o);
  // The token Secret: created when absent (as upstream), then filled by the token controller.
  const secretRef = { apiVersion: 'v1', kind: 'Secret', name: MANAGER_TOKEN_SECRET, namespace: MANAGER_NAMESPACE };
  let live = await target.get(secretRef);
  if (!live) {
    await target.create(tokenSecret(), { dryRun: opts.dryRun });
    say('create', `Secret ${MANAGER_NAMESPACE}/${MANAGER_TOKEN_SECRET} (service-account token)`, target);
  } else say('unchanged', `Secret ${MANAGER_NAMESPACE}/${MANAGER_TOKEN_SECRET} (service-account token)`, target);

  if (opts.dryRun) {
    log(`  ${live ? 'would check' : 'would create'} Secret ${inputs.argocdNamespace}/${clusterSecretName(inputs.cluster)} (label ${CLUSTER_SECRET_LABEL}: cluster) on ${control.server} once the token exists`);
  } else {
    const deadline = Date.now() + (deps.tokenWaitMs ?? 30_000);
    while (!b64((live?.data as Record<string, string> | undefined)?.token)) {
      if (Date.now() > deadline) {
        throw new KubeRequestError(`the token controller of ${target.server} has not filled Secret ${MANAGER_NAMESPACE}/${MANAGER_TOKEN_SECRET}\n    fix: check that kube-controller-manager runs with service-account token signing (--service-account-private-key-file), then run bootstrap --cluster again`, undefined);
      }
      await deps.sleep(500);
      live = await target.get(secretRef);
    }
    const data = live!.data as Record<string, string>;
    const caPem = b64(data['ca.crt']) ?? inputs.caPem;
    if (!caPem) throw new KubeRequestError(`no CA certificate for ${target.server}: neither the token Secret nor the kubeconfig carries one\n    fix: add certificate-authority-data to the kubeconfig context`, undefined);
    const desired = clusterSecret(inputs.argocdNamespace, inputs.cluster, inputs.server, b64(data.token)!, caPem);
    await ensure(control, desired);
  }
  await ensure(control, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ARGOCD_CM, namespace: inputs.argocdNamespace }, data: { [RESPECT_RBAC_KEY]: 'normal' } }, CLUSTERS_FIELD_MANAGER);

  const granted = describeRules(inputs.rules);
  log(`granted to ${MANAGER_NAMESPACE}/${MANAGER_SA} on ${inputs.cluster} (ClusterRole ${MANAGER_ROLE}; not cluster-admin):`);
  for (const g of granted) log(`  ${g}`);
  log(opts.dryRun ? `dry run: ${changed} change(s) admitted by the servers (dryRun=All); nothing was changed` : changed === 0 ? `cluster ${inputs.cluster} already registered` : `cluster ${inputs.cluster} registered: ${changed} change(s)`);
  return { changed, granted };
}

/**
 * The rules for `cluster` from the committed AppProjects and the Roles the environments render
 * (scripts/lib/generate/mongodb/index.ts mongoBaseObjects): the Roles are bound by name, the operator
 * chart's ClusterRoles are named in the platform project.
 */
export function registrationRules(settings: RepoSettings, projects: readonly KubeObject[], cluster: string): PolicyRule[] {
  const roles = mongoBaseObjects(settings).filter((o) => (o as KubeObject).kind === 'Role').map((o) => (o as KubeObject).metadata.name);
  const clusterRoles = projects.flatMap((p) => ((p as ProjectLike).spec?.clusterResourceWhitelist ?? []).filter((k) => k.kind === 'ClusterRole' && k.name).map((k) => k.name!));
  const server = (name: string) => knownClusters(settings).get(name)?.server;
  return clusterRules(cluster, server, projects as readonly ProjectLike[], { roles, clusterRoles });
}
