// Checks before bootstrap touches anything: the cluster answers, its version against Argo CD's tested
// range, the permissions the run needs (SelfSubjectAccessReview), a default StorageClass and an
// IngressClass. Every failure is collected and reported at once with what to do — a failed list
// request is one more failure, never a reason to drop the others.
import type { AccessCheck, Kube, KubeObject } from '../kube/client.ts';
import type { Problem } from '../../core/errors.ts';
import { ConflictError, formatProblem } from '../../core/errors.ts';

export const DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

/**
 * The Kubernetes minors Argo CD 3.5 is tested with: argoproj/argo-cd@v3.5.1:
 * docs/operator-manual/tested-kubernetes-versions.md ("3.5 | v1.36, v1.35, v1.34, v1.33"), included
 * in docs/operator-manual/installation.md "Tested versions".
 */
export const ARGOCD_TESTED_KUBERNETES = { argocd: '3.5', minMinor: 33, maxMinor: 36, source: 'argoproj/argo-cd@v3.5.1:docs/operator-manual/tested-kubernetes-versions.md' } as const;

export interface PreflightReport {
  serverVersion: string;
  defaultStorageClass: string | undefined;
  ingressClasses: string[];
}

export class PreflightError extends ConflictError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(`preflight failed (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was changed\n${problems.map((p) => `  ${formatProblem(p).replace(/\n/g, '\n  ')}`).join('\n')}`);
    this.name = 'PreflightError';
    this.problems = problems;
  }
}

/** What bootstrap will do, as access checks (read the verbs as "kubectl auth can-i <verb> <resource>"). */
export function requiredAccess(argocdNamespace: string): AccessCheck[] {
  return [
    { verb: 'patch', group: '', resource: 'namespaces' },
    { verb: 'patch', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
    { verb: 'patch', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
    { verb: 'patch', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
    { verb: 'patch', group: 'apps', resource: 'deployments', namespace: argocdNamespace },
    { verb: 'patch', group: 'apps', resource: 'statefulsets', namespace: argocdNamespace },
    { verb: 'patch', group: '', resource: 'secrets', namespace: argocdNamespace },
    { verb: 'patch', group: '', resource: 'configmaps', namespace: argocdNamespace },
    { verb: 'create', group: 'argoproj.io', resource: 'appprojects', namespace: argocdNamespace },
    { verb: 'patch', group: 'argoproj.io', resource: 'applications', namespace: argocdNamespace },
  ];
}

export function checkVersion(version: { gitVersion: string; major: string; minor: string }, allowUntested: boolean): { problem?: Problem; note?: string } {
  const minor = Number.parseInt(version.minor, 10);
  const t = ARGOCD_TESTED_KUBERNETES;
  const range = `v1.${t.minMinor}–v1.${t.maxMinor}`;
  if (version.major === '1' && Number.isFinite(minor) && minor >= t.minMinor && minor <= t.maxMinor) return {};
  const message = `Kubernetes ${version.gitVersion} is outside the range Argo CD ${t.argocd} is tested with (${range}, ${t.source})`;
  if (allowUntested) return { note: `warning: ${message}; continuing (--allow-untested-kubernetes)` };
  return {
    problem: {
      message,
      fix: `upgrade the cluster to v1.${t.minMinor} or newer (k3s: curl -sfL https://get.k3s.io | INSTALL_K3S_CHANNEL=v1.${t.maxMinor} sh -), or pass --allow-untested-kubernetes to proceed at your own risk`,
    },
  };
}

export async function preflight(kube: Kube, access: readonly AccessCheck[], log: (line: string) => void, opts: { allowUntestedKubernetes?: boolean } = {}): Promise<PreflightReport> {
  // Reachability first: nothing else is worth asking a cluster that does not answer.
  const version = await kube.version();
  log(`cluster ${kube.context} (${kube.server}): Kubernetes ${version.gitVersion}`);
  const problems: Problem[] = [];
  const v = checkVersion(version, opts.allowUntestedKubernetes === true);
  if (v.problem) problems.push(v.problem);
  if (v.note) log(v.note);
  for (const check of access) {
    const where = check.namespace ? ` -n ${check.namespace}` : '';
    const resource = check.group ? `${check.resource}.${check.group}` : check.resource;
    let answer: { allowed: boolean; reason?: string };
    try {
      answer = await kube.canI(check);
    } catch (error) {
      problems.push({ message: `cannot ask whether ${check.verb} ${resource} is allowed: ${(error as Error).message.split('\n')[0]}`, fix: `check with: kubectl auth can-i ${check.verb} ${resource}${where}` });
      continue;
    }
    if (!answer.allowed) {
      problems.push({
        message: `not allowed to ${check.verb} ${resource}${check.namespace ? ` in namespace ${check.namespace}` : ''}${answer.reason ? ` (${answer.reason})` : ''}`,
        fix: `use a context with cluster-admin (k3s: /etc/rancher/k3s/k3s.yaml), or grant it; check with: kubectl auth can-i ${check.verb} ${resource}${where}`,
      });
    }
  }
  /** A list that fails becomes one more problem; the ones already found are kept. */
  async function listOrProblem(apiVersion: string, kind: string, resource: string): Promise<KubeObject[] | undefined> {
    try {
      return await kube.list(apiVersion, kind);
    } catch (error) {
      const [first, ...rest] = (error as Error).message.split('\n');
      const fix = rest.join(' ').replace(/^\s*fix:\s*/, '');
      problems.push({ message: `cannot list ${resource}: ${first}`, fix: fix || `check with: kubectl get ${resource}` });
      return undefined;
    }
  }
  const storageClasses = await listOrProblem('storage.k8s.io/v1', 'StorageClass', 'storageclasses.storage.k8s.io');
  const defaults = (storageClasses ?? []).filter((sc) => sc.metadata.annotations?.[DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true').map((sc) => sc.metadata.name).sort();
  if (storageClasses && defaults.length === 0) {
    const names = storageClasses.map((sc) => sc.metadata.name);
    problems.push({
      message: `no default StorageClass${names.length ? ` (found: ${names.join(', ')})` : ''}: MongoDB's volumes would stay Pending`,
      fix: names.length
        ? `mark one default: kubectl annotate storageclass ${names[0]} ${DEFAULT_STORAGE_CLASS_ANNOTATION}=true`
        : 'install a provisioner (k3s ships local-path unless started with --disable local-storage)',
    });
  }
  const ingress = await listOrProblem('networking.k8s.io/v1', 'IngressClass', 'ingressclasses.networking.k8s.io');
  const ingressClasses = (ingress ?? []).map((ic) => ic.metadata.name).sort();
  if (ingress && ingressClasses.length === 0) {
    problems.push({
      message: 'no IngressClass: the API\'s Ingress would never get an address',
      fix: 'install an ingress controller (k3s ships Traefik unless started with --disable traefik)',
    });
  }
  if (problems.length > 0) throw new PreflightError(problems);
  const report = { serverVersion: version.gitVersion, defaultStorageClass: defaults[0], ingressClasses };
  log(`preflight ok: ${access.length} permissions, default StorageClass ${report.defaultStorageClass}, IngressClass ${report.ingressClasses.join(', ')}`);
  return report;
}
