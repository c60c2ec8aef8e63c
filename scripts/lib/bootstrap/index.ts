// bootstrap: from a fresh cluster to Argo CD running the app of apps. Built as data first (the
// desired objects), then each object is read and compared, and only what differs is applied, so a
// second run only reads and --dry-run reads and prints the same plan.
import type { Kube, KubeObject } from '../kube/client.ts';
import { FIELD_MANAGER, KubeRequestError } from '../kube/client.ts';
import { containsDesired } from '../kube/compare.ts';
import { parseYamlStream } from '../yaml.ts';
import { ensurePasswordSecret } from '../secrets/password.ts';
import { ARGOCD_CM } from './health-checks.ts';
import { preflight, requiredAccess } from './preflight.ts';
import { repositorySecret } from './repository.ts';
import type { RepoCredentials } from './repository.ts';

/** A separate field manager for the upstream manifest, so our argocd-cm keys and Argo CD's own fields never replace each other. */
export const INSTALL_FIELD_MANAGER = `${FIELD_MANAGER}-argocd-install`;

export const argocdInstallUrl = (version: string): string =>
  `https://raw.githubusercontent.com/argoproj/argo-cd/v${version.replace(/^v/, '')}/manifests/install.yaml`;

export interface BootstrapInputs {
  repoURL: string;
  argocd: { version: string; namespace: string };
  environments: Array<{ name: string; namespace: string }>;
  /** argocd/project.yaml and argocd/root.yaml, as committed. */
  project: KubeObject;
  root: KubeObject;
  /** argocd-cm key → Lua. */
  healthChecks: Record<string, string>;
  repoCredentials?: RepoCredentials;
}

export interface BootstrapDeps {
  kube: Kube;
  /** Fetches the upstream install manifest (tests serve a tiny one). */
  fetchManifest: (url: string) => Promise<string>;
  newPassword: () => string;
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  readiness?: { timeoutMs: number; intervalMs: number };
}

export type Action = 'create' | 'update' | 'unchanged';

export interface PlanStep {
  /** "Deployment argocd/argocd-server" — names only, never values. */
  object: string;
  action: Action;
  note?: string;
}

export interface BootstrapResult {
  dryRun: boolean;
  steps: PlanStep[];
  changed: number;
}

const label = (o: KubeObject): string => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

function isKubeObject(v: unknown): v is KubeObject {
  const o = v as KubeObject;
  return typeof o === 'object' && o !== null && typeof o.apiVersion === 'string' && typeof o.kind === 'string' && typeof o.metadata?.name === 'string';
}

export function parseInstallManifest(text: string, url: string): KubeObject[] {
  const docs = parseYamlStream(text).filter((d) => d !== null);
  const objects = docs.filter(isKubeObject);
  if (objects.length === 0 || objects.length !== docs.length) {
    throw new KubeRequestError(`the Argo CD manifest at ${url} is not a list of Kubernetes objects\n    fix: check gitops.yaml argocd.version names a released version`, undefined);
  }
  return objects;
}

export async function runBootstrap(inputs: BootstrapInputs, deps: BootstrapDeps, opts: { dryRun: boolean }): Promise<BootstrapResult> {
  const { kube, log } = deps;
  const ns = inputs.argocd.namespace;
  const steps: PlanStep[] = [];
  const verb = (a: Action) => (opts.dryRun && a !== 'unchanged' ? `would ${a}` : a === 'create' ? 'created' : a === 'update' ? 'updated' : 'unchanged');

  await preflight(kube, requiredAccess(ns, inputs.environments.map((e) => e.namespace)), log);

  /** Reads, compares, applies only when needed. */
  async function ensure(desired: KubeObject, fieldManager: string, force: boolean, quiet = false): Promise<Action> {
    const live = await kube.get({ apiVersion: desired.apiVersion, kind: desired.kind, name: desired.metadata.name, namespace: desired.metadata.namespace });
    const action: Action = !live ? 'create' : containsDesired(live, desired) ? 'unchanged' : 'update';
    if (action !== 'unchanged' && !opts.dryRun) await kube.apply(desired, { fieldManager, force });
    steps.push({ object: label(desired), action });
    if (!quiet || action !== 'unchanged') log(`  ${verb(action)} ${label(desired)}`);
    return action;
  }

  // 1. Argo CD, pinned.
  const url = argocdInstallUrl(inputs.argocd.version);
  log(`Argo CD v${inputs.argocd.version.replace(/^v/, '')} from ${url}`);
  const manifest = parseInstallManifest(await deps.fetchManifest(url), url);
  await ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, FIELD_MANAGER, false);
  const workloads: KubeObject[] = [];
  let unchangedInstall = 0;
  for (const obj of manifest) {
    const namespaced = await kube.isNamespaced(obj.apiVersion, obj.kind);
    if (namespaced === undefined) {
      throw new KubeRequestError(`the cluster does not know ${obj.apiVersion} ${obj.kind} (from the Argo CD manifest)\n    fix: check the Argo CD version in gitops.yaml supports this Kubernetes version`, undefined);
    }
    const desired: KubeObject = namespaced ? { ...obj, metadata: { ...obj.metadata, namespace: ns } } : withSubjectsIn(obj, ns);
    // Upstream's own advice for install.yaml is server-side apply with forced conflicts (its CRDs are too big for client-side apply).
    if ((await ensure(desired, INSTALL_FIELD_MANAGER, true, true)) === 'unchanged') unchangedInstall++;
    if (desired.kind === 'Deployment' || desired.kind === 'StatefulSet') workloads.push(desired);
  }
  if (unchangedInstall > 0) log(`  unchanged ${unchangedInstall} of ${manifest.length} Argo CD objects`);

  if (!opts.dryRun) await waitForWorkloads(kube, workloads, deps);

  // 2. Health checks so the app of apps' sync waves wait for child Applications and MongoDB.
  if (Object.keys(inputs.healthChecks).length > 0) {
    await ensure({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ARGOCD_CM, namespace: ns }, data: { ...inputs.healthChecks } }, FIELD_MANAGER, false);
  }

  // 3. Each environment's namespace and database password (created once, never replaced).
  for (const env of [...inputs.environments].sort((a, b) => a.name.localeCompare(b.name))) {
    await ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: env.namespace } }, FIELD_MANAGER, false);
    const result = await ensurePasswordSecret(kube, env.namespace, { dryRun: opts.dryRun, newPassword: deps.newPassword });
    const action: Action = result === 'exists' ? 'unchanged' : 'create';
    const object = `Secret ${env.namespace}/users-db password`;
    steps.push({ object, action, note: 'random value, never printed' });
    log(`  ${verb(action)} ${object}${action === 'unchanged' ? ' (kept: existing passwords are never replaced)' : ' (random value, not shown)'}`);
  }

  // 4. The repository Argo CD pulls, then the project and the root Application.
  const repo = repositorySecret(ns, inputs.repoURL, inputs.repoCredentials);
  await ensure(repo, FIELD_MANAGER, false);
  for (const obj of [inputs.project, inputs.root]) {
    await ensure({ ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? ns } }, FIELD_MANAGER, false);
  }

  const changed = steps.filter((s) => s.action !== 'unchanged').length;
  if (opts.dryRun) log(changed === 0 ? 'dry run: nothing to change; the cluster is bootstrapped' : `dry run: ${changed} change(s) planned; nothing was changed`);
  else log(changed === 0 ? `nothing to change: the cluster already matches (${steps.length} objects checked)` : `bootstrap done: ${changed} change(s) applied`);
  return { dryRun: opts.dryRun, steps, changed };
}

/**
 * Upstream's ClusterRoleBindings name their ServiceAccounts in namespace "argocd"; installing into
 * another namespace (gitops.yaml argocd.namespace) needs the subjects pointed there.
 */
function withSubjectsIn(obj: KubeObject, namespace: string): KubeObject {
  if (obj.kind !== 'ClusterRoleBinding' || !Array.isArray(obj.subjects)) return obj;
  const subjects = (obj.subjects as Array<Record<string, unknown>>).map((s) => (s.kind === 'ServiceAccount' ? { ...s, namespace } : s));
  return { ...obj, subjects };
}

function isReady(live: KubeObject | undefined): boolean {
  const spec = (live?.spec ?? {}) as { replicas?: number };
  const status = (live?.status ?? {}) as { readyReplicas?: number; observedGeneration?: number };
  const generation = live?.metadata.generation as number | undefined;
  const want = spec.replicas ?? 1;
  return live !== undefined && (status.readyReplicas ?? 0) >= want && (generation === undefined || (status.observedGeneration ?? 0) >= generation);
}

/** Polls the manifest's Deployments and StatefulSets until all are ready, printing progress; bounded. */
export async function waitForWorkloads(kube: Kube, workloads: readonly KubeObject[], deps: Pick<BootstrapDeps, 'log' | 'sleep' | 'readiness'>): Promise<void> {
  const { timeoutMs, intervalMs } = deps.readiness ?? { timeoutMs: 300_000, intervalMs: 2_000 };
  const deadline = Math.ceil(timeoutMs / intervalMs);
  let lastLine = '';
  for (let round = 0; ; round++) {
    const waiting: string[] = [];
    for (const w of workloads) {
      const live = await kube.get({ apiVersion: w.apiVersion, kind: w.kind, name: w.metadata.name, namespace: w.metadata.namespace });
      if (!isReady(live)) waiting.push(w.metadata.name);
    }
    const line = `  Argo CD ready: ${workloads.length - waiting.length}/${workloads.length}${waiting.length ? ` (waiting for ${waiting.join(', ')})` : ''}`;
    if (line !== lastLine) deps.log(line);
    lastLine = line;
    if (waiting.length === 0) return;
    if (round >= deadline) {
      throw new KubeRequestError(
        `Argo CD is not ready after ${Math.round(timeoutMs / 1000)} s: ${waiting.join(', ')}\n    fix: kubectl -n ${workloads[0]?.metadata.namespace ?? 'argocd'} get pods; kubectl describe the ones not Running (image pulls, resources), then run bootstrap again`,
        undefined,
      );
    }
    await deps.sleep(intervalMs);
  }
}
