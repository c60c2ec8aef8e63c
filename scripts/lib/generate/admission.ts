// What the cluster itself refuses in a preview namespace, whatever Argo CD applies there: Kubernetes
// ValidatingAdmissionPolicies (CEL, evaluated by kube-apiserver; no webhook, no extra pod), installed by
// the root Application (argocd/admission/*.yaml, wave -3: before the projects and the previews'
// ApplicationSet), plus the ResourceQuota and LimitRange every preview renders (gitops.yaml
// previews.quota / previews.limits). docs/release.md "Previews: the sandbox" and SECURITY.md "Preview
// trust boundary" say why each rule exists.
//
// API: admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy{,Binding}, GA in Kubernetes 1.30
// (kubernetes/api@v0.30.0:admissionregistration/v1/types.go; the gate is GA and locked on in
// kubernetes/apiserver@v0.30.0:pkg/features/kube_features.go). Kubernetes 1.28 serves the same shape only
// as v1beta1 behind the `ValidatingAdmissionPolicy` feature gate, default off
// (kubernetes/apiserver@v0.28.0:pkg/features/kube_features.go: `{Default: false, PreRelease: Beta}`), with
// matchConditions, variables, messageExpression and `namespaceObject`
// (kubernetes/api@v0.28.0:admissionregistration/v1beta1/types.go): asV1beta1() converts for such a server.
//
// The binding selects namespaces by PREVIEW_MARKER_LABEL, which only the ApplicationSet's
// managedNamespaceMetadata sets and the namespace policy keeps on every pr-* namespace.
import { APP_NAME } from '../../../apps/users-api/src/contract.ts';
import type { PreviewLimits, PreviewQuota, PreviewSettings } from '../inputs/spec.ts';
import { PREVIEW_NAMESPACE_PREFIX } from './previews.ts';

/** The label that makes a namespace a preview (the bindings' namespaceSelector). */
export const PREVIEW_MARKER_LABEL = 'gitops-users.example.com/preview';
/** Argo CD's resource tracking annotation (argoproj/argo-cd@v3.5.1:docs/user-guide/resource_tracking.md:
 *  `annotation` is the default method; value `<application>:<group>/<kind>:<namespace>/<name>`). */
export const TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id';

/** Pod Security Admission labels of every preview namespace: restricted, enforced. The MongoDB pods
 *  pass it: MCK 1.10.0 sets runAsNonRoot + RuntimeDefault seccomp on the pod and drops ALL capabilities
 *  with allowPrivilegeEscalation=false on every container (mongodb/mongodb-kubernetes@1.10.0:
 *  pkg/kube/podtemplatespec/podspec_template.go DefaultPodSecurityContext, pkg/kube/container/containers.go
 *  DefaultSecurityContext, applied in mongodb-community-operator/controllers/construct/mongodbstatefulset.go). */
export const PREVIEW_POD_SECURITY = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
} as const;

/** The labels the ApplicationSet puts on namespace pr-<n> (managedNamespaceMetadata). */
export function previewNamespaceLabels(environment: string): Record<string, string> {
  return { environment, [PREVIEW_MARKER_LABEL]: 'true', ...PREVIEW_POD_SECURITY };
}

// ---- quota -----------------------------------------------------------------------------------------


/** Used when gitops.yaml has no previews.quota: room for one preview of the example dev environment
 *  (API pod and its rolling-update surge, one MongoDB member, the password Job) and no more. */
export const DEFAULT_PREVIEW_QUOTA: PreviewQuota = {
  requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '4Gi' }, pods: 8, storage: '4Gi', persistentVolumeClaims: 4,
};
export const DEFAULT_PREVIEW_LIMITS: PreviewLimits = {
  defaultRequest: { cpu: '50m', memory: '64Mi' }, default: { memory: '256Mi' }, max: { memory: '1Gi' }, maxStorage: '2Gi',
};

export const PREVIEW_QUOTA_NAME = 'preview';

/** ResourceQuota of every preview (kubernetes.io/docs/concepts/policy/resource-quotas: compute, storage and
 *  object counts; no LoadBalancer or NodePort Service, which would open the node). */
export function previewResourceQuota(previews: PreviewSettings): object {
  const q = previews.quota ?? DEFAULT_PREVIEW_QUOTA;
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: PREVIEW_QUOTA_NAME },
    spec: {
      hard: {
        'limits.memory': q.limits.memory,
        persistentvolumeclaims: String(q.persistentVolumeClaims),
        pods: String(q.pods),
        'requests.cpu': q.requests.cpu,
        'requests.memory': q.requests.memory,
        'requests.storage': q.storage,
        'services.loadbalancers': '0',
        'services.nodeports': '0',
      },
    },
  };
}

/** LimitRange of every preview: defaults for a container that names no resources (so the quota's
 *  requests/limits are always countable) and a ceiling per container and per claim. */
export function previewLimitRange(previews: PreviewSettings): object {
  const l = previews.limits ?? DEFAULT_PREVIEW_LIMITS;
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: PREVIEW_QUOTA_NAME },
    spec: {
      limits: [
        { type: 'Container', default: { memory: l.default.memory }, defaultRequest: { cpu: l.defaultRequest.cpu, memory: l.defaultRequest.memory }, max: { memory: l.max.memory } },
        { type: 'PersistentVolumeClaim', max: { storage: l.maxStorage } },
      ],
    },
  };
}

// ---- policies --------------------------------------------------------------------------------------

export const ADMISSION_DIR = 'argocd/admission';
const API = 'admissionregistration.k8s.io/v1';
const WRITE = ['CREATE', 'UPDATE'];

interface Validation { expression: string; message: string; reason?: string }
interface PolicyParts {
  name: string;
  description: string;
  rules: Array<{ apiGroups: string[]; resources: string[]; operations?: string[] }>;
  excludeRules?: Array<{ apiGroups: string[]; resources: string[] }>;
  matchConditions?: Array<{ name: string; expression: string }>;
  variables?: Array<{ name: string; expression: string }>;
  validations: Validation[];
  /** cluster-scoped (Namespace) policies bind without a namespaceSelector */
  clusterScoped?: boolean;
}

const str = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const list = (xs: readonly string[]): string => `[${xs.map(str).join(', ')}]`;
/** `object.metadata.labels[key] == value`, false when there are no labels or no such key. */
const labelIs = (obj: string, key: string, value: string): string =>
  `(has(${obj}.metadata.labels) && ${str(key)} in ${obj}.metadata.labels && ${obj}.metadata.labels[${str(key)}] == ${str(value)})`;

function policy(p: PolicyParts): object[] {
  const name = `preview-${p.name}`;
  return [
    {
      apiVersion: API,
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name, annotations: { 'gitops-users.example.com/description': p.description } },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: p.rules.map((r) => ({ apiGroups: r.apiGroups, apiVersions: ['*'], operations: r.operations ?? WRITE, resources: r.resources })),
          ...(p.excludeRules ? { excludeResourceRules: p.excludeRules.map((r) => ({ apiGroups: r.apiGroups, apiVersions: ['*'], operations: ['*'], resources: r.resources })) } : {}),
        },
        ...(p.matchConditions ? { matchConditions: p.matchConditions } : {}),
        ...(p.variables ? { variables: p.variables } : {}),
        validations: p.validations.map((v) => ({ expression: v.expression, message: v.message, reason: v.reason ?? 'Forbidden' })),
      },
    },
    {
      apiVersion: API,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        ...(p.clusterScoped ? {} : { matchResources: { namespaceSelector: { matchLabels: { [PREVIEW_MARKER_LABEL]: 'true' } } } }),
      },
    },
  ];
}

/** The pod-spec checks, for pods and for every workload that carries a pod template. */
function podChecks(what: string): Validation[] {
  const c = 'variables.containers';
  const sc = (field: string): string => `(has(c.securityContext) && has(c.securityContext.${field}))`;
  return [
    { expression: `!(has(variables.spec.hostNetwork) && variables.spec.hostNetwork) && !(has(variables.spec.hostPID) && variables.spec.hostPID) && !(has(variables.spec.hostIPC) && variables.spec.hostIPC)`,
      message: `${what}: hostNetwork, hostPID and hostIPC are refused in a preview namespace (host namespaces)` },
    { expression: `!has(variables.spec.volumes) || variables.spec.volumes.all(v, !has(v.hostPath))`,
      message: `${what}: hostPath volumes are refused in a preview namespace` },
    { expression: `${c}.all(c, !${sc('privileged')} || !c.securityContext.privileged)`,
      message: `${what}: privileged containers are refused in a preview namespace` },
    { expression: `${c}.all(c, !(has(c.securityContext) && has(c.securityContext.capabilities) && has(c.securityContext.capabilities.add) && size(c.securityContext.capabilities.add) > 0))`,
      message: `${what}: added capabilities (securityContext.capabilities.add) are refused in a preview namespace` },
    { expression: `${c}.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))`,
      message: `${what}: host ports are refused in a preview namespace` },
  ];
}

function podVariables(specPath: string): Array<{ name: string; expression: string }> {
  return [
    { name: 'spec', expression: specPath },
    { name: 'containers', expression: 'variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])' },
  ];
}

/** A Role rule in its smallest parts: group/resource/verb/name, `*` for "any name". */
export function grantsOf(roles: readonly object[]): string[] {
  const out = new Set<string>();
  for (const o of roles) {
    const role = o as { kind?: string; rules?: Array<{ apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] }> };
    if (role.kind !== 'Role') continue;
    for (const r of role.rules ?? []) {
      for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs ?? []) {
        for (const n of r.resourceNames?.length ? r.resourceNames : ['*']) out.add(`${g}/${res}/${v}/${n}`);
      }
    }
  }
  return [...out].sort();
}

/**
 * Every ValidatingAdmissionPolicy and binding of the previews, v1. `templateRoles` are the Roles main's
 * preview template renders: a preview's Role may grant only what they grant (by group/resource/verb and,
 * where they name objects, by name).
 */
export function previewAdmissionObjects(previews: PreviewSettings, templateRoles: readonly object[]): object[] {
  const prefix = PREVIEW_NAMESPACE_PREFIX;
  const podSecurityKeys = Object.keys(PREVIEW_POD_SECURITY);
  const grants = grantsOf(templateRoles);
  const host = previews.ingress?.host;
  const [hostBefore, hostAfter] = host ? host.split('{number}') as [string, string] : ['', ''];
  const workloads = [
    { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'] },
    { apiGroups: ['batch'], resources: ['jobs'] },
    { apiGroups: [''], resources: ['replicationcontrollers', 'podtemplates'] },
  ];
  return [
    // A pr-* namespace (and any namespace that was a preview) keeps the labels the ApplicationSet gave it.
    ...policy({
      name: 'namespace',
      description: 'A preview namespace (pr-*) carries the preview marker and restricted Pod Security, enforced at latest; nobody moves them',
      rules: [{ apiGroups: [''], resources: ['namespaces'] }],
      matchConditions: [{ name: 'preview-namespace', expression: `object.metadata.name.startsWith(${str(prefix)}) || (oldObject != null && ${labelIs('oldObject', PREVIEW_MARKER_LABEL, 'true')})` }],
      validations: [{
        expression: [labelIs('object', PREVIEW_MARKER_LABEL, 'true'), ...podSecurityKeys.map((k) => labelIs('object', k, PREVIEW_POD_SECURITY[k as keyof typeof PREVIEW_POD_SECURITY]))].join(' && '),
        message: `a preview namespace must keep ${PREVIEW_MARKER_LABEL}=true and ${podSecurityKeys.map((k) => `${k}=${PREVIEW_POD_SECURITY[k as keyof typeof PREVIEW_POD_SECURITY]}`).join(', ')} (set by the previews ApplicationSet's managedNamespaceMetadata); a pull request cannot change them`,
      }],
      clusterScoped: true,
    }),
    ...policy({
      name: 'pods',
      description: 'Pods in a preview: no host namespaces, hostPath, privileged containers, added capabilities or host ports',
      rules: [{ apiGroups: [''], resources: ['pods', 'pods/ephemeralcontainers'] }],
      variables: podVariables('object.spec'),
      validations: [
        ...podChecks('Pod'),
        { expression: '!has(object.spec.ephemeralContainers) || object.spec.ephemeralContainers.all(c, !(has(c.securityContext) && ((has(c.securityContext.privileged) && c.securityContext.privileged) || (has(c.securityContext.capabilities) && has(c.securityContext.capabilities.add) && size(c.securityContext.capabilities.add) > 0))))',
          message: 'Pod: privileged ephemeral containers or added capabilities are refused in a preview namespace' },
      ],
    }),
    ...policy({
      name: 'workloads',
      description: 'Pod templates of workloads in a preview: the same rules as pods, refused before any pod is created',
      rules: workloads,
      variables: podVariables('object.spec.template.spec'),
      validations: podChecks('pod template'),
    }),
    ...policy({
      name: 'cronjobs',
      description: 'Pod templates of CronJobs in a preview: the same rules as pods',
      rules: [{ apiGroups: ['batch'], resources: ['cronjobs'] }],
      variables: podVariables('object.spec.jobTemplate.spec.template.spec'),
      validations: podChecks('CronJob pod template'),
    }),
    ...policy({
      name: 'rbac',
      description: "RBAC in a preview: RoleBindings bind a Role to the namespace's own ServiceAccounts; Roles grant no more than main's preview template grants",
      rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'] }],
      validations: [
        { expression: "object.kind != 'RoleBinding' || object.roleRef.kind == 'Role'",
          message: 'RoleBinding: a preview may bind only a Role of its own namespace, never a ClusterRole (cluster-admin, admin, edit…)' },
        { expression: "object.kind != 'RoleBinding' || !has(object.subjects) || object.subjects.all(s, s.kind == 'ServiceAccount' && (!has(s.namespace) || s.namespace == request.namespace))",
          message: "RoleBinding: subjects must be ServiceAccounts of the preview's own namespace (no User, no Group such as system:authenticated, no other namespace)" },
        { expression: `object.kind != 'Role' || !has(object.rules) || object.rules.all(r, !has(r.nonResourceURLs) && has(r.apiGroups) && has(r.resources) && r.apiGroups.all(g, r.resources.all(res, r.verbs.all(v, (g + '/' + res + '/' + v + '/*') in ${list(grants)} || (has(r.resourceNames) && size(r.resourceNames) > 0 && r.resourceNames.all(n, (g + '/' + res + '/' + v + '/' + n) in ${list(grants)}))))))`,
          message: `Role: a preview Role may grant only what main's preview template grants (${grants.join(', ')}; group/resource/verb/name)` },
      ],
    }),
    ...policy({
      name: 'ingress',
      description: host ? `Ingresses in a preview serve only the preview's own host (${host} with its pull request number)` : 'Previews have no ingress (gitops.yaml previews.ingress is absent): every Ingress is refused',
      rules: [{ apiGroups: ['networking.k8s.io'], resources: ['ingresses'] }],
      ...(host ? { variables: [{ name: 'host', expression: `${str(hostBefore)} + request.namespace.substring(${prefix.length}) + ${str(hostAfter)}` }] } : {}),
      validations: host ? [
        { expression: '!has(object.spec.defaultBackend) && has(object.spec.rules) && object.spec.rules.all(r, has(r.host) && r.host == variables.host)',
          message: `Ingress: every rule of a preview must name its own host (${host}, {number} the namespace's pull request number); no default backend` },
        { expression: '!has(object.spec.tls) || object.spec.tls.all(t, !has(t.hosts) || t.hosts.all(h, h == variables.host))',
          message: `Ingress: TLS hosts of a preview must be its own host (${host})` },
      ] : [{ expression: 'false', message: 'Ingress: previews have no ingress (gitops.yaml previews.ingress is absent)' }],
    }),
    // An object Argo CD applies carries its Application's name in the tracking annotation: in namespace
    // pr-<n> only the Application pr-<n>-users-api (the ApplicationSet's name) may write. A manifest that
    // names another preview's namespace (a Kustomize transformer after the namespace override) is refused.
    ...policy({
      name: 'owner',
      description: "Objects Argo CD applies in preview pr-<n> belong to Application pr-<n>-users-api (tracking annotation), not to another preview's",
      rules: [{ apiGroups: ['*'], resources: ['*'] }],
      excludeRules: [{ apiGroups: [''], resources: ['namespaces'] }],
      validations: [{
        expression: `!has(object.metadata.annotations) || !(${str(TRACKING_ANNOTATION)} in object.metadata.annotations) || object.metadata.annotations[${str(TRACKING_ANNOTATION)}].startsWith(request.namespace + ${str(`-${APP_NAME}:`)})`,
        message: `an object in preview namespace pr-<n> may only be applied by Argo CD Application pr-<n>-${APP_NAME} (annotation ${TRACKING_ANNOTATION}); another preview's Application cannot write here`,
      }],
    }),
  ];
}

/** File name of one admission object under argocd/admission/. */
export function admissionFileName(o: object): string {
  const { kind, metadata } = o as { kind: string; metadata: { name: string } };
  return `${kind === 'ValidatingAdmissionPolicy' ? 'policy' : 'binding'}-${metadata.name}.yaml`;
}

/**
 * The same object for a v1.28 server: admissionregistration.k8s.io/v1beta1 (served only with
 * `--feature-gates=ValidatingAdmissionPolicy=true --runtime-config=admissionregistration.k8s.io/v1beta1=true`).
 * The v1beta1 and v1 specs have the same fields for what these policies use.
 */
export function asV1beta1(o: object): object {
  const obj = o as { apiVersion: string };
  if (obj.apiVersion !== API) throw new Error(`asV1beta1: ${obj.apiVersion} is not ${API}`);
  return { ...obj, apiVersion: 'admissionregistration.k8s.io/v1beta1' };
}
