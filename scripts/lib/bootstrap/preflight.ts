// Checks before bootstrap touches anything: the cluster answers, its version, the permissions the
// run needs (SelfSubjectAccessReview), a default StorageClass and an IngressClass. Every failure is
// reported at once with what to do.
import type { AccessCheck, Kube } from '../kube/client.ts';
import type { Problem } from '../errors.ts';
import { ConflictError, formatProblem } from '../errors.ts';

export const DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** Argo CD's own support floor is well above this; older servers lack server-side apply GA (1.22). */
export const MIN_MINOR = 26;

export interface PreflightReport {
  serverVersion: string;
  defaultStorageClass: string;
  ingressClasses: string[];
}

export class PreflightError extends ConflictError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(`preflight failed; nothing was changed\n${problems.map((p) => `  ${formatProblem(p).replace(/\n/g, '\n  ')}`).join('\n')}`);
    this.name = 'PreflightError';
    this.problems = problems;
  }
}

/** What bootstrap will do, as access checks (read the verbs as "kubectl auth can-i <verb> <resource>"). */
export function requiredAccess(argocdNamespace: string, envNamespaces: readonly string[]): AccessCheck[] {
  const checks: AccessCheck[] = [
    { verb: 'patch', group: '', resource: 'namespaces' },
    { verb: 'patch', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
    { verb: 'patch', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
    { verb: 'patch', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
    { verb: 'patch', group: 'apps', resource: 'deployments', namespace: argocdNamespace },
    { verb: 'patch', group: '', resource: 'secrets', namespace: argocdNamespace },
    { verb: 'patch', group: '', resource: 'configmaps', namespace: argocdNamespace },
    { verb: 'patch', group: 'argoproj.io', resource: 'appprojects', namespace: argocdNamespace },
    { verb: 'patch', group: 'argoproj.io', resource: 'applications', namespace: argocdNamespace },
  ];
  for (const ns of envNamespaces) {
    checks.push({ verb: 'get', group: '', resource: 'secrets', namespace: ns }, { verb: 'create', group: '', resource: 'secrets', namespace: ns });
  }
  return checks;
}

export async function preflight(kube: Kube, access: readonly AccessCheck[], log: (line: string) => void): Promise<PreflightReport> {
  // Reachability first: nothing else is worth asking a cluster that does not answer.
  const version = await kube.version();
  log(`cluster ${kube.context} (${kube.server}): Kubernetes ${version.gitVersion}`);
  const problems: Problem[] = [];
  const minor = Number.parseInt(version.minor, 10);
  if (version.major === '1' && Number.isFinite(minor) && minor < MIN_MINOR) {
    problems.push({ message: `Kubernetes ${version.gitVersion} is older than 1.${MIN_MINOR}`, fix: 'upgrade the cluster (k3s: install a current release with the install script)' });
  }
  for (const check of access) {
    const answer = await kube.canI(check);
    if (!answer.allowed) {
      const where = check.namespace ? ` -n ${check.namespace}` : '';
      const resource = check.group ? `${check.resource}.${check.group}` : check.resource;
      problems.push({
        message: `not allowed to ${check.verb} ${resource}${check.namespace ? ` in namespace ${check.namespace}` : ''}${answer.reason ? ` (${answer.reason})` : ''}`,
        fix: `use a context with cluster-admin (k3s: /etc/rancher/k3s/k3s.yaml), or grant it; check with: kubectl auth can-i ${check.verb} ${resource}${where}`,
      });
    }
  }
  const storageClasses = await kube.list('storage.k8s.io/v1', 'StorageClass');
  const defaults = storageClasses.filter((sc) => sc.metadata.annotations?.[DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true').map((sc) => sc.metadata.name);
  if (defaults.length === 0) {
    const names = storageClasses.map((sc) => sc.metadata.name);
    problems.push({
      message: `no default StorageClass${names.length ? ` (found: ${names.join(', ')})` : ''}: MongoDB's volumes would stay Pending`,
      fix: names.length
        ? `mark one default: kubectl annotate storageclass ${names[0]} ${DEFAULT_STORAGE_CLASS_ANNOTATION}=true`
        : 'install a provisioner (k3s ships local-path unless started with --disable local-storage)',
    });
  }
  const ingressClasses = (await kube.list('networking.k8s.io/v1', 'IngressClass')).map((ic) => ic.metadata.name);
  if (ingressClasses.length === 0) {
    problems.push({
      message: 'no IngressClass: the API\'s Ingress would never get an address',
      fix: 'install an ingress controller (k3s ships Traefik unless started with --disable traefik)',
    });
  }
  if (problems.length > 0) throw new PreflightError(problems);
  const report = { serverVersion: version.gitVersion, defaultStorageClass: defaults.sort()[0]!, ingressClasses: ingressClasses.sort() };
  log(`preflight ok: ${access.length} permissions, default StorageClass ${report.defaultStorageClass}, IngressClass ${report.ingressClasses.join(', ')}`);
  return report;
}
