// The value rules of env.yaml and gitops.yaml that a JSON Schema cannot say: quantities the API server
// would refuse, change or overflow; requests above limits; git revisions and URLs Argo CD would be fed;
// reserved namespaces; protected environments. Run after the schema passed (types are known), every
// problem with file, JSON pointer and fix. The facts behind each rule are cited where it is made.
import { clusterSettingsProblems } from './clusters.ts';
import type { Problem } from '../core/errors.ts';
import { gitRevisionProblem, gitUrlProblem, httpsUrlProblem } from './refs-urls.ts';
import { compareQuantities, isQuantity, parseQuantity, quantityRangeProblem, type Quantity } from '../core/quantity.ts';
import type { ContainerResources, EnvSpec, RepoSettings, SyncPolicy } from './spec.ts';
import { asObj } from '../core/objects.ts';

/** `policy.gitops.dev/waive-<policy id>: "<why this object is an exception>"`: a rendered object's waiver of a validate policy. */
export const WAIVER_ANNOTATION_PREFIX = 'policy.gitops.dev/waive-';

/** The id of the protection rule, shared by the input check and the `validate` policy. */
export const PROTECTED_POLICY = 'protected-environment';
/**
 * What a protected environment keeps (docs/environments.md, "Protected environments"): a person presses
 * Sync after reading the diff (automated: false), and neither prune nor selfHeal is armed, so turning
 * automation on by any other path (the Argo CD UI or CLI) still deletes and overwrites nothing by itself.
 */
export const PROTECTED_SYNC: SyncPolicy = { automated: false, prune: false, selfHeal: false };

/**
 * Kubernetes reserves the "kube-" prefix for its own namespaces (kubernetes/website content/en/docs/
 * concepts/overview/working-with-objects/namespaces.md: "Avoid creating namespaces with the prefix
 * kube-, since it is reserved for Kubernetes system namespaces"), and `default` is where anything
 * without a namespace lands (same page: "consider not using the default namespace" for production).
 */
export function reservedNamespaceProblem(ns: string): string | undefined {
  if (ns.startsWith('kube-')) return `namespace "${ns}" starts with "kube-", which Kubernetes reserves for its system namespaces`;
  if (ns === 'default') return 'namespace "default" is where every object without a namespace lands; nothing of this repository may share it';
  return undefined;
}

type Body = Omit<EnvSpec, 'name' | 'namespace'>;

function quantityAt(problems: Problem[], file: string, path: string, text: string | undefined, what: string): Quantity | undefined {
  if (text === undefined) return undefined;
  const q = parseQuantity(String(text));
  if (!isQuantity(q)) {
    problems.push({ file, path, message: `${what}: ${q.error}`, fix: 'write a Kubernetes quantity such as 256Mi (memory) or 100m (CPU)' });
    return undefined;
  }
  const range = quantityRangeProblem(q);
  if (range) {
    problems.push({ file, path, message: `${what} ${range}`, fix: `set a positive ${what} that a node can provide, e.g. ${what.includes('cpu') ? '100m' : '256Mi'}` });
    return undefined;
  }
  return q;
}

/**
 * Requests and limits of one container: every quantity in range, and each request ≤ its limit — the API
 * server refuses a Pod otherwise (kubernetes/kubernetes@v1.28.0 pkg/apis/core/validation/validation.go,
 * ValidateResourceRequirements: "must be less than or equal to %s limit").
 */
function resourceProblems(file: string, base: string, r: ContainerResources, container: string): Problem[] {
  const problems: Problem[] = [];
  for (const resource of ['cpu', 'memory'] as const) {
    const req = quantityAt(problems, file, `${base}/requests/${resource}`, r.requests[resource], `${container} requests.${resource}`);
    const lim = quantityAt(problems, file, `${base}/limits/${resource}`, r.limits[resource], `${container} limits.${resource}`);
    if (req && lim && compareQuantities(req, lim) > 0) {
      problems.push({
        file,
        path: `${base}/requests/${resource}`,
        message: `${container} requests.${resource} ${req.text} is more than limits.${resource} ${lim.text}; the API server refuses the pod ("must be less than or equal to ${resource} limit")`,
        fix: `lower requests.${resource} to at most ${lim.text}, or raise limits.${resource}`,
      });
    }
  }
  return problems;
}

/** Rules of the environment fields (env.yaml, or gitops.yaml /defaults with base "/defaults"). */
export function envBodyProblems(file: string, body: Body, base = ''): Problem[] {
  const problems: Problem[] = [];
  problems.push(...resourceProblems(file, `${base}/resources`, body.resources, 'users-api'));
  problems.push(...resourceProblems(file, `${base}/mongodb/resources/mongod`, body.mongodb.resources.mongod, 'mongod'));
  problems.push(...resourceProblems(file, `${base}/mongodb/resources/agent`, body.mongodb.resources.agent, 'mongodb-agent'));
  // A PersistentVolumeClaim's storage request must be positive (validation.go, ValidatePersistentVolumeClaimSpec).
  quantityAt(problems, file, `${base}/mongodb/storage/size`, body.mongodb.storage.size, 'storage size');
  const rev = gitRevisionProblem(body.targetRevision);
  if (rev) {
    problems.push({ file, path: `${base}/targetRevision`, message: `targetRevision ${JSON.stringify(body.targetRevision)} ${rev}`, fix: 'use a branch (main), a tag (v1.4.2), a commit SHA or HEAD' });
  }
  return problems;
}

/** Rules of env.yaml beyond its schema. */
export function envSpecRuleProblems(file: string, spec: EnvSpec): Problem[] {
  const problems = envBodyProblems(file, spec);
  const ns = reservedNamespaceProblem(spec.namespace);
  if (ns) problems.push({ file, path: '/namespace', message: ns, fix: `use a namespace of the environment's own, e.g. ${spec.name}` });
  return problems;
}

/** Rules of gitops.yaml beyond its schema. */
export function settingsRuleProblems(file: string, s: RepoSettings): Problem[] {
  const problems: Problem[] = [];
  const repo = gitUrlProblem(s.repoURL);
  if (repo) problems.push({ file, path: '/repoURL', message: `repoURL ${repo}`, fix: 'write the repository URL without credentials, e.g. https://github.com/owner/repo.git or git@github.com:owner/repo.git (Argo CD reads credentials from a repository Secret: bootstrap creates it)' });
  const chart = httpsUrlProblem(s.operator.chartRepo, false);
  if (chart) problems.push({ file, path: '/operator/chartRepo', message: `chartRepo ${chart}`, fix: 'write the Helm repository URL alone, e.g. https://mongodb.github.io/helm-charts' });
  for (const [key, who] of [['argocd', 'Argo CD'], ['operator', 'the MongoDB operator']] as const) {
    const p = reservedNamespaceProblem(s[key].namespace);
    if (p) problems.push({ file, path: `/${key}/namespace`, message: `${who}: ${p}`, fix: `give ${who} a namespace of its own, e.g. ${key === 'argocd' ? 'argocd' : 'mongodb-operator'}` });
  }
  if (s.argocd.namespace === s.operator.namespace) {
    problems.push({ file, path: '/operator/namespace', message: `the MongoDB operator shares namespace "${s.operator.namespace}" with Argo CD; the AppProject would then let every environment's Application deploy into Argo CD's own namespace`, fix: 'give the operator a namespace of its own, e.g. mongodb-operator' });
  }
  problems.push(...envBodyProblems(file, s.defaults, '/defaults'));
  problems.push(...clusterSettingsProblems(file, s));
  return problems;
}

/**
 * A protected environment (gitops.yaml `protected: [prod]`) keeps PROTECTED_SYNC. Reported with the
 * policy id so a reader finds the same rule in `validate`'s findings and in docs/environments.md.
 */
export function protectedEnvProblems(settings: RepoSettings | undefined, envs: Record<string, { spec: EnvSpec }>, envFileOf: (env: string) => string): Problem[] {
  const problems: Problem[] = [];
  for (const name of [...(settings?.protected ?? [])].sort()) {
    const spec = envs[name]?.spec;
    if (!spec) continue;
    for (const key of ['automated', 'prune', 'selfHeal'] as const) {
      if (spec.sync[key] === PROTECTED_SYNC[key]) continue;
      problems.push({
        file: envFileOf(name),
        path: `/sync/${key}`,
        message: `[${PROTECTED_POLICY}] environment ${name} is protected (gitops.yaml protected), so sync.${key} must stay ${String(PROTECTED_SYNC[key])}: ${key === 'automated' ? 'a person presses Sync after reviewing the diff' : `an automatic ${key === 'prune' ? 'deletion' : 'overwrite'} of production objects needs no one's approval`}`,
        fix: `set sync: { automated: false, prune: false, selfHeal: false }; lifting the protection is a separate, reviewed change to gitops.yaml`,
      });
    }
  }
  return problems;
}

/** Kubernetes refuses a ConfigMap whose data values add up to more than 1 MiB. */
export const CONFIGMAP_DATA_MAX_BYTES = 1024 * 1024;

/**
 * The ConfigMap made from a .env (configMapGenerator `envs:`) must fit: kubernetes/kubernetes@v1.28.0
 * pkg/apis/core/validation/validation.go ValidateConfigMap sums len(value) of data and binaryData and
 * refuses more than core.MaxSecretSize (pkg/apis/core/types.go: 1 * 1024 * 1024 bytes).
 */
export function configMapSizeProblem(file: string, values: Record<string, string>): Problem | undefined {
  const sizes = Object.entries(values).map(([k, v]) => [k, Buffer.byteLength(v, 'utf8')] as const);
  const total = sizes.reduce((n, [, b]) => n + b, 0);
  if (total <= CONFIGMAP_DATA_MAX_BYTES) return undefined;
  const [key, largest] = [...sizes].sort((a, b) => b[1] - a[1])[0]!;
  return {
    file,
    message: `its values add up to ${total} bytes; the ConfigMap made from it would be refused by the API server (at most ${CONFIGMAP_DATA_MAX_BYTES} bytes, 1 MiB); the largest is ${key} with ${largest} bytes`,
    fix: `shorten ${key} (settings are short values; large data belongs in a volume or the database)`,
  };
}

/** Whether gitops.yaml marks the environment protected. */
export function isProtectedEnv(settings: Pick<RepoSettings, 'protected'>, env: string): boolean {
  return settings.protected?.includes(env) === true;
}

/** Label the generator puts on a protected environment's Application; the validate policy reads it. */
export const PROTECTED_LABEL = 'policy.gitops.dev/protected';
export const SYNC_OPTIONS_ANNOTATION = 'argocd.argoproj.io/sync-options';
/**
 * On a protected environment's Application (a resource of the root Application):
 *   Prune=false  — when argocd/apps/<env>.yaml leaves git, the root's automated prune skips it (the root
 *                  shows OutOfSync instead): argoproj/argo-cd@v3.5.1:docs/user-guide/sync-options.md
 *                  "No Prune Resources";
 *   Delete=false — it is kept even when the root Application is deleted with cascade: same file,
 *                  "No Resource Deletion".
 * And no resources-finalizer, so deleting the Application itself never cascades to the workloads
 * (argoproj/argo-cd@v3.5.1:docs/user-guide/app_deletion.md "About The Deletion Finalizer").
 */
export const PROTECTED_SYNC_OPTIONS = 'Prune=false,Delete=false';

const FINALIZER_PREFIX = 'resources-finalizer.argocd.argoproj.io';

/**
 * What a protected environment's Application (the generated one carries PROTECTED_LABEL) must not have:
 * automated sync, automated prune or selfHeal, the resources-finalizer, or a sync-options annotation
 * without Prune=false and Delete=false. Returns [JSON pointer, message] pairs; [] for other objects.
 */
export function protectedApplicationViolations(object: Record<string, unknown>): Array<{ path: string; message: string }> {
  const o = asObj;
  const meta = o(object.metadata);
  if (object.kind !== 'Application' || !String(object.apiVersion ?? '').startsWith('argoproj.io/') || o(meta.labels)[PROTECTED_LABEL] !== 'true') return [];
  const env = String(o(meta.labels).environment ?? meta.name);
  const out: Array<{ path: string; message: string }> = [];
  const automated = o(o(object.spec).syncPolicy).automated;
  if (automated !== undefined && automated !== null && o(automated).enabled !== false) {
    out.push({ path: '/spec/syncPolicy/automated', message: `protected environment ${env} syncs automatically` });
  }
  const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : [];
  finalizers.forEach((f, i) => {
    if (typeof f === 'string' && f.startsWith(FINALIZER_PREFIX)) out.push({ path: `/metadata/finalizers/${i}`, message: `protected environment ${env}'s Application has ${f}: deleting it would delete the workloads` });
  });
  const options = String(o(meta.annotations)[SYNC_OPTIONS_ANNOTATION] ?? '').split(',').map((x) => x.trim());
  for (const needed of PROTECTED_SYNC_OPTIONS.split(',')) {
    if (!options.includes(needed)) {
      out.push({ path: `/metadata/annotations/${SYNC_OPTIONS_ANNOTATION.replace(/\//g, '~1')}`, message: `protected environment ${env}'s Application lacks ${needed} in ${SYNC_OPTIONS_ANNOTATION}` });
    }
  }
  return out;
}
