// The first sync from an empty cluster, offline: what Argo CD v3.5.1 does in which order, what each step waits
// for, and whether it can finish. Pure functions of the repository's Applications and what they render
// (scripts/lib/review/validate/applications.ts). The order is gitops-engine's, vendored in Argo CD v3.5.1
// (argo-cd@v3.5.1:go.mod `replace github.com/argoproj/argo-cd/gitops-engine => ./gitops-engine`):
//
// - argo-cd@v3.5.1:gitops-engine/pkg/sync/sync_tasks.go Less: phase (PreSync -1, Sync 0, PostSync 1, SyncFail 2),
//   then wave (argocd.argoproj.io/sync-wave, default 0; helm.sh/hook-weight for Helm hooks), then kind
//   (kindOrder, Helm's install order; a kind not listed, every custom resource, sorts last), then name.
//   Sort() then moves each Namespace before the first object in it and each CRD before the first of its
//   custom resources, taking that object's phase and wave (adjustDeps).
// - gitops-engine/pkg/sync/sync_context.go: one phase/wave at a time; the next starts when every object of
//   the current one is healthy (hooks: completed); CreateNamespace=true adds a PreSync task for the
//   destination Namespace (autoCreateNamespace). Hook deletion: hook/delete_policy.go (BeforeHookCreation when
//   none is given).
// - Health: Deployment/StatefulSet/Job as gitops-engine pkg/health; CustomResourceDefinition by
//   argo-cd@v3.5.1:resource_customizations/apiextensions.k8s.io/CustomResourceDefinition/health.lua (Established);
//   MongoDBCommunity by platform/mongodb's health check (phase Running); a child Application by
//   argocd/health/application.lua (the child's own health, Progressing while its operation runs).
import { groupOf, isClusterScoped } from '../../generate/argocd.ts';
import { admissionRefusals, type Refusal } from '../validate/admission.ts';
import type { RepoApplication, RepoApplications } from '../validate/applications.ts';
import { jobWrites, mongoDBCommunityNeeds, mongoDBCommunitySecrets, podNeeds, podSpecOf } from './needs.ts';
import { asObj, asArr } from '../../core/objects.ts';
import type { Obj } from '../../core/objects.ts';

export { jobWrites, mongoDBCommunityNeeds, mongoDBCommunitySecrets, podNeeds } from './needs.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export type Phase = 'PreSync' | 'Sync' | 'PostSync' | 'SyncFail';
const PHASE_ORDER: Record<Phase, number> = { PreSync: -1, Sync: 0, PostSync: 1, SyncFail: 2 };

/** argo-cd@v3.5.1:gitops-engine/pkg/sync/sync_tasks.go kindOrder (from Helm's kind_sorter.go). */
const KIND_ORDER_LIST = [
  'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy', 'PodDisruptionBudget', 'ServiceAccount',
  'Secret', 'SecretList', 'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim', 'CustomResourceDefinition',
  'ClusterRole', 'ClusterRoleList', 'ClusterRoleBinding', 'ClusterRoleBindingList', 'Role', 'RoleList', 'RoleBinding',
  'RoleBindingList', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet', 'Deployment',
  'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService',
];
const KIND_ORDER = new Map(KIND_ORDER_LIST.map((k, i) => [k, i - KIND_ORDER_LIST.length]));
export const kindOrder = (kind: string): number => KIND_ORDER.get(kind) ?? 0;

/** API groups served by kube-apiserver itself (no CRD needed); argoproj.io comes with Argo CD's install. */
const BUILT_IN_GROUPS = new Set(['', 'apps', 'batch', 'rbac.authorization.k8s.io', 'networking.k8s.io', 'policy', 'apiextensions.k8s.io',
  'admissionregistration.k8s.io', 'storage.k8s.io', 'autoscaling', 'coordination.k8s.io', 'discovery.k8s.io', 'scheduling.k8s.io',
  'node.k8s.io', 'certificates.k8s.io', 'flowcontrol.apiserver.k8s.io', 'apiregistration.k8s.io', 'events.k8s.io']);
/** Argo CD's own CRDs, installed by bootstrap before the root (argo-cd@v3.5.1:manifests/install.yaml). */
const BOOTSTRAP_GROUPS = new Set(['argoproj.io']);
/** Namespaces every cluster has, and the one bootstrap creates for Argo CD. */
const PRESENT_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

export interface PlanObject {
  group: string;
  kind: string;
  name: string;
  /** '' for cluster-scoped objects. */
  namespace: string;
  hook?: Phase;
  deletePolicies?: string[];
  /** Added by the sync itself (CreateNamespace=true). */
  implicit?: boolean;
}

export interface PlanStep {
  phase: Phase;
  wave: number;
  objects: PlanObject[];
  /** What must be true before the next step starts. */
  waitsFor: string[];
  /** Child Applications this step creates, each with its own plan. */
  children: AppPlan[];
}

export interface AppPlan {
  app: string;
  file: string;
  project: string;
  /** Where the objects come from (a path, a chart). */
  source: string;
  steps: PlanStep[];
  note?: string;
}

export type StallKind = 'refused' | 'crd-missing' | 'crd-later' | 'operator-missing' | 'dependency-missing' | 'dependency-later' | 'namespace-missing' | 'hook-image' | 'not-rendered';

export interface Stall {
  app: string;
  object: string;
  kind: StallKind;
  message: string;
  fix: string;
}

export interface SyncPlan {
  root: AppPlan;
  stalls: Stall[];
  /** Things that finish only after Argo CD's retries (e.g. two Applications of one wave racing). */
  warnings: Stall[];
  finishes: boolean;
}

export interface PlanOptions {
  /** Only these environments' Applications (a new environment; [] the platform only); every one when absent. */
  envs?: readonly string[];
  /** The repository's own image (gitops.yaml `image`): a preview's hooks must not need the PR's build of it. */
  image?: string;
  /** CRDs the cluster has before the root syncs (`group/Kind`, with who installs them), e.g. the Prometheus operator's when gitops.yaml says so. */
  presentCrds?: ReadonlyArray<{ key: string; by: string }>;
}

// ---- one Application -----------------------------------------------------------------------------------

interface Task {
  obj: Obj;
  po: PlanObject;
  phase: Phase;
  wave: number;
}

const annotations = (o: Obj): Obj => asObj(asObj(o.metadata).annotations);

/** gitops-engine pkg/sync/hook: argocd.argoproj.io/hook, else helm.sh/hook (pre-install → PreSync, post-install → PostSync). */
function hookOf(o: Obj): Phase | 'Skip' | undefined {
  const a = annotations(o);
  const argo = str(a['argocd.argoproj.io/hook']).split(',').map((s) => s.trim()).filter(Boolean);
  for (const h of argo) if (h === 'PreSync' || h === 'Sync' || h === 'PostSync' || h === 'SyncFail' || h === 'Skip') return h;
  const helm = str(a['helm.sh/hook']).split(',').map((s) => s.trim());
  if (helm.includes('pre-install') || helm.includes('pre-upgrade')) return 'PreSync';
  if (helm.includes('post-install') || helm.includes('post-upgrade')) return 'PostSync';
  return undefined;
}

function waveOf(o: Obj, hook: boolean): number {
  const a = annotations(o);
  const w = a['argocd.argoproj.io/sync-wave'] ?? (hook ? a['helm.sh/hook-weight'] : undefined);
  const n = Number.parseInt(str(w), 10);
  return Number.isFinite(n) ? n : 0;
}

function deletePoliciesOf(o: Obj): string[] {
  const a = annotations(o);
  const p = str(a['argocd.argoproj.io/hook-delete-policy']).split(',').map((s) => s.trim()).filter(Boolean);
  const helm: Record<string, string> = { 'before-hook-creation': 'BeforeHookCreation', 'hook-succeeded': 'HookSucceeded', 'hook-failed': 'HookFailed' };
  for (const h of str(a['helm.sh/hook-delete-policy']).split(',').map((s) => s.trim())) if (helm[h]) p.push(helm[h]!);
  return p.length > 0 ? p : ['BeforeHookCreation'];
}

/** sync_tasks.go Less + Sort (adjustDeps for Namespaces and CRDs). */
export function sortTasks(tasks: Task[]): Task[] {
  const s = [...tasks].sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || a.wave - b.wave || kindOrder(a.po.kind) - kindOrder(b.po.kind) || (a.po.name < b.po.name ? -1 : a.po.name > b.po.name ? 1 : 0));
  const adjust = (isDep: (t: Task) => string | undefined, refs: (t: Task) => string | undefined): void => {
    const first = new Map<string, number>();
    for (let i = 0; i < s.length; i++) {
      const t = s[i]!;
      const dep = isDep(t);
      if (dep !== undefined) {
        const index = first.get(dep);
        if (index !== undefined) {
          t.wave = s[index]!.wave;
          t.phase = s[index]!.phase;
          for (let j = i; j > index; j--) s[j] = s[j - 1]!;
          s[index] = t;
          for (const [k, v] of first) if (v >= index) first.set(k, v + 1);
        }
      } else {
        const r = refs(t);
        if (r !== undefined && !first.has(r)) first.set(r, i);
      }
    }
  };
  adjust((t) => (t.po.kind === 'Namespace' && t.po.group === '' ? t.po.name : undefined), (t) => (t.po.namespace !== '' ? t.po.namespace : undefined));
  adjust((t) => (t.po.kind === 'CustomResourceDefinition' && t.po.group === 'apiextensions.k8s.io' ? crdKey(t.obj) : undefined), (t) => `${t.po.group}/${t.po.kind}`);
  return s;
}

const crdKey = (o: Obj): string | undefined => {
  const spec = asObj(o.spec);
  const g = str(spec.group);
  const k = str(asObj(spec.names).kind);
  return g && k ? `${g}/${k}` : undefined;
};

/** What Argo CD waits for before leaving the step an object is in. */
export function healthWait(po: PlanObject, obj: Obj): string | undefined {
  const id = `${po.kind} ${po.namespace ? `${po.namespace}/` : ''}${po.name}`;
  // A hook Pod or Job is done when it completes; any other hook once applied (gitops-engine sync_context.go
  // getOperationPhase: hooks of other kinds take their health, none for most kinds).
  if (po.hook && (po.kind === 'Job' || po.kind === 'Pod')) return `${id} to complete (hook)`;
  switch (`${po.group}/${po.kind}`) {
    case 'apiextensions.k8s.io/CustomResourceDefinition': return `${id} Established`;
    case 'apps/Deployment': return `${id} available (${Number(asObj(obj.spec).replicas ?? 1)} replica${Number(asObj(obj.spec).replicas ?? 1) === 1 ? '' : 's'} updated and ready)`;
    case 'apps/StatefulSet': return `${id} ready`;
    case 'apps/DaemonSet': return `${id} ready on every node`;
    case 'batch/Job': return `${id} to complete`;
    case 'mongodbcommunity.mongodb.com/MongoDBCommunity': return `${id} phase Running (the operator reconciled it and wrote its Secrets)`;
    case 'argoproj.io/Application': return `Application ${po.name} Healthy (argocd/health/application.lua)`;
    case '/PersistentVolumeClaim': return `${id} Bound`;
    case '/Service': return str(asObj(obj.spec).type) === 'LoadBalancer' ? `${id} to get an ingress address` : undefined;
    default: return undefined;
  }
}

function planObject(o: Obj, destNs: string, namespaced: (g: string, k: string) => boolean): PlanObject {
  const group = groupOf(str(o.apiVersion));
  const kind = str(o.kind);
  const meta = asObj(o.metadata);
  const ns = namespaced(group, kind) ? str(meta.namespace) || destNs : '';
  return { group, kind, name: str(meta.name), namespace: ns };
}

/** The phases and waves of one Application's sync (its objects sorted as gitops-engine sorts them). */
export function applicationSteps(app: Obj, objects: readonly Obj[], namespaced: (g: string, k: string) => boolean): { steps: PlanStep[]; tasks: Array<{ obj: Obj; po: PlanObject; step: number }> } {
  const spec = asObj(app.spec);
  const destNs = str(asObj(spec.destination).namespace);
  const tasks: Task[] = [];
  const options = new Set(asArr(asObj(spec.syncPolicy).syncOptions).map(String));
  if (options.has('CreateNamespace=true') && destNs !== '') {
    const obj = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: destNs } };
    tasks.push({ obj, po: { group: '', kind: 'Namespace', name: destNs, namespace: '', implicit: true }, phase: 'PreSync', wave: 0 });
  }
  for (const o of objects) {
    const hook = hookOf(o);
    if (hook === 'Skip') continue;
    const po = planObject(o, destNs, namespaced);
    if (hook) {
      po.hook = hook;
      po.deletePolicies = deletePoliciesOf(o);
    }
    tasks.push({ obj: o, po, phase: hook ?? 'Sync', wave: waveOf(o, hook !== undefined) });
  }
  const sorted = sortTasks(tasks);
  const steps: PlanStep[] = [];
  const placed: Array<{ obj: Obj; po: PlanObject; step: number }> = [];
  for (const t of sorted) {
    let step = steps[steps.length - 1];
    if (!step || step.phase !== t.phase || step.wave !== t.wave) steps.push((step = { phase: t.phase, wave: t.wave, objects: [], waitsFor: [], children: [] }));
    step.objects.push(t.po);
    placed.push({ obj: t.obj, po: t.po, step: steps.length - 1 });
    const w = healthWait(t.po, t.obj);
    if (w) step.waitsFor.push(w);
  }
  return { steps, tasks: placed };
}

// ---- the whole first sync -----------------------------------------------------------------------------

/** A point of the first sync: the root's step, then (inside a child Application) its own step. */
interface Moment {
  rootStep: number;
  app: string;
  step: number;
}

interface Provision {
  at: Moment;
  what: string;
}

function compare(provided: Moment, needed: Moment): 'before' | 'race' | 'later' {
  if (provided.rootStep < needed.rootStep) return 'before';
  if (provided.rootStep > needed.rootStep) return 'later';
  if (provided.app === 'root') return 'before';
  if (provided.app !== needed.app) return 'race';
  return provided.step <= needed.step ? 'before' : 'later';
}

const objLabel = (po: PlanObject): string => `${po.kind} ${po.namespace ? `${po.namespace}/` : ''}${po.name}`;

/**
 * The first sync of the repository from an empty cluster (Argo CD installed, the root Application applied by
 * bootstrap): the root's phases and waves, each child Application's own, and every reason it cannot finish.
 */
export function planFirstSync(repo: RepoApplications, options: PlanOptions = {}): SyncPlan {
  const stalls: Stall[] = [];
  const warnings: Stall[] = [];
  const rootEntry = repo.apps.find((a) => a.source === 'root');
  if (!rootEntry?.objects) throw new Error('the repository has no root Application (argocd/root.yaml): run `zx scripts/generate.ts`');
  const byName = new Map(repo.apps.filter((a) => a.source !== 'root').map((a) => [str(asObj(a.app.metadata).name), a]));
  const allObjects = repo.apps.flatMap((a) => a.objects ?? []);
  const crdScopes = new Map<string, boolean>();
  for (const o of allObjects) if (o.kind === 'CustomResourceDefinition') crdScopes.set(crdKey(o) ?? '', str(asObj(o.spec).scope) !== 'Cluster');
  const namespaced = (g: string, k: string): boolean => crdScopes.get(`${g}/${k}`) ?? !isClusterScoped({ group: g, kind: k });
  const wanted = (a: RepoApplication): boolean => !options.envs || a.source === 'operator' || a.source === 'image-policy' || a.source === 'namespaces' || (a.env !== undefined && options.envs.includes(a.env));

  const refuse = (a: RepoApplication, objects: readonly Obj[]): void => {
    for (const r of admissionRefusals({ app: a.app, objects, projects: repo.projects, clusters: repo.clusters }) as Refusal[]) {
      stalls.push({ app: r.app, object: r.object, kind: 'refused', message: `Argo CD refuses the sync: ${r.message}`, fix: r.fix });
    }
  };

  // The root's own plan; its Applications are planned where the root creates them.
  const rootApp = rootEntry.app;
  const rootName = str(asObj(rootApp.metadata).name);
  refuse(rootEntry, rootEntry.objects);
  // The preview ApplicationSet's Applications come later, one per labelled pull request: planned only when asked.
  const rootObjects = rootEntry.objects.filter((o) => o.kind !== 'Application' || wanted(byName.get(str(asObj(o.metadata).name)) ?? ({ source: 'unknown' } as RepoApplication)));
  const root = applicationSteps(rootApp, rootObjects, namespaced);
  const rootPlan: AppPlan = { app: rootName, file: rootEntry.file, project: str(asObj(rootApp.spec).project), source: str(asObj(asObj(rootApp.spec).source).path), steps: root.steps };

  // Every provision (object created, CRD established, Secret written) and every need, at its moment.
  const provides = new Map<string, Provision[]>();
  const provide = (key: string, at: Moment, what: string): void => {
    const list = provides.get(key) ?? [];
    list.push({ at, what });
    provides.set(key, list);
  };
  const needs: Array<{ key: string; at: Moment; app: string; object: string; what: string; kind: 'crd' | 'operator' | 'dependency' | 'namespace'; fix: string }> = [];
  for (const n of PRESENT_NAMESPACES) provide(`Namespace//${n}`, { rootStep: -1, app: 'root', step: 0 }, 'the cluster');
  const argoNs = str(asObj(rootApp.metadata).namespace) || 'argocd';
  provide(`Namespace//${argoNs}`, { rootStep: -1, app: 'root', step: 0 }, 'bootstrap (Argo CD\'s namespace)');
  for (const c of options.presentCrds ?? []) provide(`crd:${c.key}`, { rootStep: -1, app: 'root', step: 0 }, c.by);

  const visit = (appName: string, tasks: Array<{ obj: Obj; po: PlanObject; step: number }>, rootStep: (step: number) => number, isRoot: boolean): void => {
    for (const t of tasks) {
      const at: Moment = { rootStep: rootStep(t.step), app: isRoot ? 'root' : appName, step: t.step };
      const { po, obj } = t;
      provide(`${po.kind}/${po.namespace}/${po.name}`, at, `${appName}`);
      if (po.kind === 'CustomResourceDefinition') {
        const k = crdKey(obj);
        if (k) provide(`crd:${k}`, at, `${appName} (CRD ${po.name})`);
      }
      if (po.kind === 'MongoDBCommunity') for (const s of mongoDBCommunitySecrets(obj)) provide(`Secret/${po.namespace}/${s}`, at, `the operator, once MongoDBCommunity ${po.name} of ${appName} is Running`);
      for (const s of jobWrites(obj)) provide(`Secret/${po.namespace}/${s}`, at, `Job ${po.name} of ${appName}`);
      const label = objLabel(po);
      // A custom resource needs its CRD.
      if (!BUILT_IN_GROUPS.has(po.group) && !BOOTSTRAP_GROUPS.has(po.group)) {
        needs.push({ key: `crd:${po.group}/${po.kind}`, at, app: appName, object: label, what: `the CRD of ${po.group}/${po.kind}`, kind: 'crd', fix: `install the CRD for ${po.group}/${po.kind} in an earlier wave (or an Application of an earlier root wave)` });
      }
      if (po.namespace !== '') needs.push({ key: `Namespace//${po.namespace}`, at, app: appName, object: label, what: `namespace ${po.namespace}`, kind: 'namespace', fix: `create Namespace ${po.namespace} before (the root's argocd/namespaces/, or CreateNamespace=true on the Application)` });
      for (const n of [...podNeeds(obj), ...(po.kind === 'MongoDBCommunity' ? mongoDBCommunityNeeds(obj) : [])]) {
        needs.push({ key: `${n.kind}/${po.namespace}/${n.name}`, at, app: appName, object: label, what: `${n.kind} ${po.namespace}/${n.name} (${n.why})`, kind: 'dependency', fix: `create ${n.kind} ${n.name} in a step before ${label} (or in the same step), or have a step before it write it` });
      }
      if (po.kind === 'MongoDBCommunity') {
        needs.push({ key: `operator:${po.namespace}`, at, app: appName, object: label, what: `a MongoDB operator watching namespace ${po.namespace}`, kind: 'operator', fix: 'let the operator Application (root wave -1) watch this namespace (gitops.yaml, zx scripts/generate.ts)' });
      }
      // A preview's hook must not need the pull request's own build of the repository's image.
      if (po.hook && options.image && !isRoot) {
        const entry = byName.get(appName);
        for (const c of asArr((podSpecOf(obj) ?? {}).containers).map(asObj)) {
          if (entry?.source === 'preview' && str(c.image).startsWith(`${options.image}:`)) {
            stalls.push({ app: appName, object: label, kind: 'hook-image', message: `${po.hook} hook ${label} runs the repository's image ${options.image}, in a preview the pull request's own build of it (the ApplicationSet sets its tag from the head commit), which the release workflow may not have pushed yet (or refused): the hook waits in ImagePullBackOff until its deadline and the sync fails and retries`, fix: 'run the hook on a pinned image that exists before the sync (by digest), not the image the pull request builds' });
          }
        }
      }
    }
  };

  visit(rootName, root.tasks, (s) => s, true);
  rootPlan.steps.forEach((step, i) => {
    // The ApplicationSet's Applications (previews) are created after the root's sync, one per pull request:
    // planned (as the sample pr-123) only when asked for by name, in the step that creates the ApplicationSet.
    const children = step.objects.flatMap((po) => {
      if (po.kind === 'Application' && po.group === 'argoproj.io') return [po.name];
      if (po.kind === 'ApplicationSet' && po.group === 'argoproj.io') return repo.apps.filter((a) => a.source === 'preview' && options.envs?.includes(a.env ?? '')).map((a) => str(asObj(a.app.metadata).name));
      return [];
    });
    for (const childName of children) {
      const po = { name: childName };
      const entry = byName.get(po.name);
      if (!entry) continue;
      if (!entry.objects) {
        const child: AppPlan = { app: po.name, file: entry.file, project: str(asObj(entry.app.spec).project), source: describeSource(entry), steps: [], note: entry.note ?? 'not rendered' };
        step.children.push(child);
        stalls.push({ app: po.name, object: '', kind: 'not-rendered', message: `cannot tell what Application ${po.name} applies: ${entry.note ?? 'not rendered'}`, fix: 'render it (zx scripts/render.ts) or point it at a source this toolkit knows' });
        continue;
      }
      refuse(entry, entry.objects);
      const planned = applicationSteps(entry.app, entry.objects, namespaced);
      step.children.push({ app: po.name, file: entry.file, project: str(asObj(entry.app.spec).project), source: describeSource(entry), steps: planned.steps, ...(entry.note ? { note: entry.note } : {}) });
      visit(po.name, planned.tasks, () => i, false);
      // An operator Application: it serves the namespaces it watches once its Deployment is up.
      if (entry.source === 'operator') {
        const watch = str(asObj(asObj(asObj(asObj(asObj(entry.app.spec).source).helm).valuesObject).operator).watchNamespace);
        const last = planned.steps.length - 1;
        const at: Moment = { rootStep: i, app: po.name, step: Math.max(0, last) };
        const ns = str(asObj(asObj(entry.app.spec).destination).namespace);
        for (const w of watch === '' ? [ns] : [...watch.split(','), ns]) provide(`operator:${w}`, at, `Application ${po.name}`);
      }
    }
  });

  for (const n of needs) {
    const key = n.kind === 'operator' && !provides.has(n.key) && provides.has('operator:*') ? 'operator:*' : n.key;
    const list = provides.get(key) ?? [];
    const verdicts = list.map((p) => ({ p, v: compare(p.at, n.at) }));
    if (verdicts.some((x) => x.v === 'before')) continue;
    const race = verdicts.find((x) => x.v === 'race');
    if (race) {
      warnings.push({ app: n.app, object: n.object, kind: n.kind === 'crd' ? 'crd-later' : n.kind === 'operator' ? 'operator-missing' : 'dependency-later', message: `needs ${n.what}, which ${race.p.what} provides in the same root wave: the sync fails until it exists and Argo CD retries`, fix: n.fix });
      continue;
    }
    const later = verdicts.find((x) => x.v === 'later');
    const kind: StallKind = n.kind === 'crd' ? (later ? 'crd-later' : 'crd-missing') : n.kind === 'operator' ? 'operator-missing' : n.kind === 'namespace' ? 'namespace-missing' : later ? 'dependency-later' : 'dependency-missing';
    const message = later
      ? `needs ${n.what}, which only ${later.p.what} provides, later in the sync: the wave waits for ever`
      : `needs ${n.what}, which no step of the sync creates`;
    stalls.push({ app: n.app, object: n.object, kind, message, fix: n.fix });
  }
  const dedupe = (list: Stall[]): Stall[] => [...new Map(list.map((s) => [`${s.app}\0${s.object}\0${s.kind}\0${s.message}`, s])).values()];
  const s = dedupe(stalls);
  return { root: rootPlan, stalls: s, warnings: dedupe(warnings), finishes: s.length === 0 };
}

function describeSource(a: RepoApplication): string {
  const src = asObj(asObj(a.app.spec).source);
  return typeof src.chart === 'string' ? `chart ${str(src.chart)} ${str(src.targetRevision)} (${str(src.repoURL)})` : str(src.path);
}
