// bootstrap: what only a human does once — install the pinned Argo CD, give it its health checks,
// register the repository, apply the root Application. Everything else (namespaces, the database
// password, AppProjects' later revisions, environments) is declared in git and synced by Argo CD.
//
// Built as data first (the desired objects); each object is read and compared, and only what differs
// is written. A second run only reads. --dry-run sends every write it would make with dryRun=All, so
// the server validates and admits it (and a rejection shows) while nothing is stored.
//
// Ownership, so bootstrap never fights Argo CD:
//  - the install manifest: server-side apply with forced conflicts under its own field manager, as
//    upstream's install instructions do (argoproj/argo-cd@v3.5.1:docs/getting_started.md,
//    `kubectl apply --server-side --force-conflicts`);
//  - argocd-cm's health-check keys, the repository Secret and the root Application: server-side apply
//    under our field manager (the root excludes root.yaml from its own sync, so nothing else owns it);
//  - AppProjects under argocd/: the root syncs them, as Argo CD's field manager "argocd-controller"
//    (argoproj/argo-cd@v3.5.1:common/common.go ArgoCDSSAManager), so bootstrap only creates them
//    when absent and never applies over them.
import type { Kube, KubeObject } from '../kube/client.ts';
import { FIELD_MANAGER, KubeRequestError } from '../kube/client.ts';
import { containsDesired, sameObject } from '../kube/compare.ts';
import { parseYamlStream } from '../../core/yaml.ts';
import { ARGOCD_CM } from './health-checks.ts';
import { NOTIFICATIONS_CM } from './notifications.ts';
import { preflight, requiredAccess } from './preflight.ts';
import { CREDENTIAL_KEYS, repositorySecret } from './repository.ts';
import type { RepoCredentials } from './repository.ts';

/** A separate field manager for the upstream manifest, so our argocd-cm keys and Argo CD's own fields never replace each other. */
export const INSTALL_FIELD_MANAGER = `${FIELD_MANAGER}-argocd-install`;

export const argocdInstallUrl = (version: string): string =>
  `https://raw.githubusercontent.com/argoproj/argo-cd/v${version.replace(/^v/, '')}/manifests/install.yaml`;

export interface BootstrapInputs {
  repoURL: string;
  argocd: { version: string; namespace: string };
  /** The AppProjects committed under argocd/ (created only when absent; Argo CD owns them after). */
  projects: KubeObject[];
  /** argocd/root.yaml, as committed. */
  root: KubeObject;
  /** The file root.yaml was read from, for the fix of a conflict. */
  rootFile?: string;
  /** argocd-cm key → Lua. */
  healthChecks: Record<string, string>;
  /** argocd-notifications-cm keys (notifications.ts notificationsConfig); absent or empty: not touched. */
  notifications?: Record<string, string>;
  repoCredentials?: RepoCredentials;
  /** Remove credentials from the repository Secret (the repository became public, or a key is revoked). */
  removeRepoCredentials?: boolean;
  /** Where the install manifest comes from when not downloaded (--argocd-manifest FILE), for messages. */
  manifestFile?: string;
}

export interface BootstrapDeps {
  kube: Kube;
  /** The upstream install manifest: downloaded from `url`, or read from --argocd-manifest. */
  fetchManifest: (url: string) => Promise<string>;
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  readiness?: { timeoutMs: number; intervalMs: number };
}

export interface BootstrapOptions {
  dryRun: boolean;
  /** Proceed on a Kubernetes version outside Argo CD's tested range. */
  allowUntestedKubernetes?: boolean;
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

export function parseInstallManifest(text: string, source: string): KubeObject[] {
  const docs = parseYamlStream(text).filter((d) => d !== null);
  const objects = docs.filter(isKubeObject);
  if (objects.length === 0 || objects.length !== docs.length) {
    throw new KubeRequestError(`the Argo CD manifest from ${source} is not a list of Kubernetes objects\n    fix: use Argo CD's manifests/install.yaml of the version pinned in gitops.yaml`, undefined);
  }
  return objects;
}

type Mode =
  /** server-side apply under `fieldManager` when the live object differs */
  | { kind: 'apply'; fieldManager: string; force: boolean; conflictFix?: string }
  /** POST when absent; never written again (another manager owns it afterwards) */
  | { kind: 'create-if-absent' };

export async function runBootstrap(inputs: BootstrapInputs, deps: BootstrapDeps, opts: BootstrapOptions): Promise<BootstrapResult> {
  const { kube, log } = deps;
  const ns = inputs.argocd.namespace;
  const steps: PlanStep[] = [];
  const verb = (a: Action) => (opts.dryRun && a !== 'unchanged' ? `would ${a}` : a === 'create' ? 'created' : a === 'update' ? 'updated' : 'unchanged');
  /** Namespaces this run creates: in a dry run, objects inside them cannot be admitted yet. */
  const pendingNamespaces = new Set<string>();
  /** Kinds whose CRDs this run creates: in a dry run, their objects cannot be checked yet. */
  const pendingKinds = new Set<string>();

  // The manifest first: a wrong file or version is refused before the cluster is asked anything.
  const url = argocdInstallUrl(inputs.argocd.version);
  const source = inputs.manifestFile ?? url;
  const manifest = parseInstallManifest(await deps.fetchManifest(url), source);
  checkManifestVersion(manifest, inputs.argocd.version, source);

  await preflight(kube, requiredAccess(ns), log, { allowUntestedKubernetes: opts.allowUntestedKubernetes === true });

  /** Whether the server can dry-run this write now, or why not. */
  function dryRunBlocked(o: KubeObject): string | undefined {
    if (o.metadata.namespace && pendingNamespaces.has(o.metadata.namespace)) return `namespace ${o.metadata.namespace} is created first`;
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    if (pendingKinds.has(`${o.kind}.${group}`)) return `its CustomResourceDefinition is created first`;
    return undefined;
  }

  /** Reads, compares, writes only when needed (in a dry run: the same write with dryRun=All). */
  async function ensure(desired: KubeObject, mode: Mode, quiet = false, unchangedWhen?: (live: KubeObject) => boolean): Promise<Action> {
    const namespaced = desired.metadata.namespace !== undefined;
    const live = pendingKinds.has(`${desired.kind}.${desired.apiVersion.split('/')[0]}`)
      ? undefined
      : await kube.get({ apiVersion: desired.apiVersion, kind: desired.kind, name: desired.metadata.name, namespace: namespaced ? desired.metadata.namespace : undefined });
    let action: Action;
    if (!live) action = 'create';
    else if (mode.kind === 'create-if-absent') action = 'unchanged';
    else if (mode.fieldManager === FIELD_MANAGER) {
      // Our own objects: ask the server what our apply would make of it (dryRun=All), so a field
      // removed from git counts as a change too, and an invalid object is refused here.
      const wouldBe = await kube.apply(desired, { fieldManager: mode.fieldManager, force: mode.force, dryRun: true, conflictFix: mode.conflictFix });
      action = sameObject(live, wouldBe) && (unchangedWhen ? unchangedWhen(live) : true) ? 'unchanged' : 'update';
    } else action = containsDesired(live, desired) && (unchangedWhen ? unchangedWhen(live) : true) ? 'unchanged' : 'update';
    let note: string | undefined;
    if (action !== 'unchanged') {
      const blocked = opts.dryRun ? dryRunBlocked(desired) : undefined;
      if (blocked) note = `not dry-run on the server: ${blocked}`;
      else if (mode.kind === 'apply') await kube.apply(desired, { fieldManager: mode.fieldManager, force: mode.force, dryRun: opts.dryRun, conflictFix: mode.conflictFix });
      else await createIfAbsent(desired);
    }
    if (opts.dryRun && action === 'create') {
      if (desired.kind === 'Namespace') pendingNamespaces.add(desired.metadata.name);
      if (desired.kind === 'CustomResourceDefinition') {
        const spec = desired.spec as { names?: { kind?: string }; group?: string } | undefined;
        if (spec?.names?.kind) pendingKinds.add(`${spec.names.kind}.${spec.group ?? ''}`);
      }
    }
    steps.push({ object: label(desired), action, ...(note ? { note } : {}) });
    if (!quiet || action !== 'unchanged') log(`  ${verb(action)} ${label(desired)}${mode.kind === 'create-if-absent' && action === 'unchanged' ? ' (exists: Argo CD manages it from git)' : ''}${note ? ` (${note})` : ''}`);
    return action;
  }

  async function createIfAbsent(desired: KubeObject): Promise<void> {
    try {
      await kube.create(desired, { dryRun: opts.dryRun });
    } catch (error) {
      // Created by Argo CD between our read and this write: it is there, which is all we wanted.
      if (error instanceof KubeRequestError && error.status === 409) return;
      throw error;
    }
  }

  // 1. Argo CD, pinned.
  log(`Argo CD v${inputs.argocd.version.replace(/^v/, '')} from ${source}`);
  await ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { kind: 'apply', fieldManager: FIELD_MANAGER, force: false });
  const workloads: KubeObject[] = [];
  let unchangedInstall = 0;
  const install: Mode = { kind: 'apply', fieldManager: INSTALL_FIELD_MANAGER, force: true };
  for (const obj of manifest) {
    const namespaced = await kube.isNamespaced(obj.apiVersion, obj.kind);
    if (namespaced === undefined) {
      throw new KubeRequestError(
        `the cluster ${kube.server} does not serve ${obj.apiVersion} ${obj.kind} (from the Argo CD manifest ${source})\n    fix: use a Kubernetes version Argo CD v${inputs.argocd.version.replace(/^v/, '')} is tested with (see the preflight line above)`,
        undefined,
      );
    }
    const desired: KubeObject = namespaced ? { ...obj, metadata: { ...obj.metadata, namespace: ns } } : withSubjectsIn(obj, ns);
    if ((await ensure(desired, install, true)) === 'unchanged') unchangedInstall++;
    if (desired.kind === 'Deployment' || desired.kind === 'StatefulSet') workloads.push(desired);
  }
  if (unchangedInstall > 0) log(`  unchanged ${unchangedInstall} of ${manifest.length} Argo CD objects`);

  if (!opts.dryRun) await waitForWorkloads(kube, workloads, deps);

  // 2. Health checks Argo CD v3.5.1 does not ship (argoproj/argo-cd@v3.5.1:resource_customizations has
  // none for argoproj.io/Application — dropped in 1.8 — nor for MongoDBCommunity), so the root's sync
  // waves wait for child Applications and the database.
  if (Object.keys(inputs.healthChecks).length > 0) {
    await ensure({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ARGOCD_CM, namespace: ns }, data: { ...inputs.healthChecks } }, { kind: 'apply', fieldManager: FIELD_MANAGER, force: false });
  }

  // 2b. Argo CD Notifications' triggers, templates, services and subscriptions (notifications.ts); our keys
  // only, under our field manager (the install manifest owns the ConfigMap's labels).
  if (inputs.notifications && Object.keys(inputs.notifications).length > 0) {
    await ensure({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: NOTIFICATIONS_CM, namespace: ns }, data: { ...inputs.notifications } }, { kind: 'apply', fieldManager: FIELD_MANAGER, force: false });
  }

  // 3. The repository Argo CD pulls. Credentials given replace the stored ones; none given keeps them;
  // --remove-repo-credentials removes them (server-side apply drops fields our manager no longer sends).
  const repo = repositorySecret(ns, inputs.repoURL, inputs.removeRepoCredentials ? undefined : inputs.repoCredentials);
  const liveRepo = await kube.get({ apiVersion: 'v1', kind: 'Secret', name: repo.metadata.name, namespace: ns });
  const liveData = (liveRepo?.data ?? {}) as Record<string, string>;
  if (!inputs.repoCredentials && !inputs.removeRepoCredentials) {
    const kept = Object.fromEntries(CREDENTIAL_KEYS.filter((k) => liveData[k] !== undefined).map((k) => [k, liveData[k]!]));
    repo.data = { ...(repo.data as Record<string, string>), ...kept };
  }
  const wantKeys = Object.keys(repo.data as object).sort().join(',');
  await ensure(repo, { kind: 'apply', fieldManager: FIELD_MANAGER, force: false }, false, (live) => Object.keys((live.data ?? {}) as object).sort().join(',') === wantKeys);
  if (inputs.removeRepoCredentials && CREDENTIAL_KEYS.some((k) => liveData[k] !== undefined)) log(`  ${opts.dryRun ? 'would remove' : 'removed'} the repository credentials from Secret ${ns}/${repo.metadata.name}`);

  // 4. The AppProjects (only when absent: the root syncs them from git afterwards), then the root.
  for (const project of inputs.projects) {
    await ensure({ ...project, metadata: { ...project.metadata, namespace: project.metadata.namespace ?? ns } }, { kind: 'create-if-absent' });
  }
  const rootFile = inputs.rootFile ?? 'argocd/root.yaml';
  await ensure({ ...inputs.root, metadata: { ...inputs.root.metadata, namespace: inputs.root.metadata.namespace ?? ns } }, {
    kind: 'apply',
    fieldManager: FIELD_MANAGER,
    force: false,
    conflictFix: `bootstrap owns the root Application; take the field back with \`kubectl -n ${ns} apply --server-side --force-conflicts --field-manager=${FIELD_MANAGER} -f ${rootFile}\`, then run bootstrap again`,
  });

  const changed = steps.filter((s) => s.action !== 'unchanged').length;
  if (opts.dryRun) log(changed === 0 ? 'dry run: nothing to change; the cluster is bootstrapped' : `dry run: ${changed} change(s) planned and admitted by the server (dryRun=All); nothing was changed`);
  else log(changed === 0 ? `nothing to change: the cluster already matches (${steps.length} objects checked)` : `bootstrap done: ${changed} change(s) applied`);
  return { dryRun: opts.dryRun, steps, changed };
}

/** The Argo CD release a manifest installs, from its images (quay.io/argoproj/argocd:<tag>). */
export function manifestVersion(manifest: readonly KubeObject[]): string | undefined {
  for (const o of manifest) {
    const containers = ((o.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined)?.template?.spec?.containers) ?? [];
    for (const c of containers) {
      const m = /(?:^|\/)argoproj\/argocd:(v?\d+\.\d+\.\d+[^@\s]*)/.exec(c.image ?? '');
      if (m) return m[1]!.startsWith('v') ? m[1]! : `v${m[1]}`;
    }
  }
  return undefined;
}

function checkManifestVersion(manifest: readonly KubeObject[], pinned: string, source: string): void {
  const found = manifestVersion(manifest);
  const want = `v${pinned.replace(/^v/, '')}`;
  if (found !== undefined && found !== want) {
    throw new KubeRequestError(
      `the Argo CD manifest ${source} installs ${found}, but gitops.yaml pins argocd.version ${want}; nothing was changed\n    fix: use the install.yaml of ${want} (https://raw.githubusercontent.com/argoproj/argo-cd/${want}/manifests/install.yaml), or change argocd.version in gitops.yaml`,
      undefined,
    );
  }
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
