// Waiting for Argo CD, as a user watching `argocd app list` would: every Application the root creates is
// Synced and Healthy, taken in the order the root syncs them (its sync waves), so that when time runs out
// the report names the FIRST one that stalls: the later ones wait on it (an Application is healthy only
// when its resources are; argocd/health/application.lua). Also: asking Argo CD to look at git again (the
// refresh annotation) and to sync a manual-sync Application (the `operation` field `argocd app sync`
// writes), both through server-side apply, which works on custom resources (no strategic merge there).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlStream } from '../../core/yaml.ts';
import type { Kube, KubeObject } from '../kube/client.ts';

export const APPLICATION_API = 'argoproj.io/v1alpha1';
export const E2E_FIELD_MANAGER = 'gitops-e2e';

/** One Application the root creates, in the root's sync order. */
export interface ExpectedApp {
  name: string;
  wave: number;
  /** Manual sync (a protected environment): nothing syncs it until someone does (e2e does, like `argocd app sync`). */
  manual: boolean;
}

/** The root Application and its children in sync order: wave, then name (argo-cd@v3.5.1 gitops-engine pkg/sync/sync_tasks.go orders tasks of one wave by kind, then name). */
export function expectedApplications(root: string): { root: string; apps: ExpectedApp[] } {
  const rootApp = parseYamlStream(readFileSync(join(root, 'argocd/root.yaml'), 'utf8'))[0] as KubeObject & { spec: { source: { path: string; directory?: { include?: string } } } };
  const include = rootApp.spec.source.directory?.include ?? '';
  const files = include.replace(/^\{|\}$/g, '').split(',').filter(Boolean);
  const apps: ExpectedApp[] = [];
  for (const f of files) {
    for (const o of parseYamlStream(readFileSync(join(root, rootApp.spec.source.path, f), 'utf8')) as Array<KubeObject & { spec?: { syncPolicy?: { automated?: unknown } } }>) {
      if (o?.kind !== 'Application') continue;
      apps.push({ name: o.metadata.name, wave: Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0'), manual: !o.spec?.syncPolicy?.automated });
    }
  }
  apps.sort((a, b) => a.wave - b.wave || a.name.localeCompare(b.name));
  return { root: rootApp.metadata.name, apps };
}

/**
 * The expected Applications in the order of the offline sync plan (scripts/lib/review/plan: the root's steps,
 * phase → wave → kind, and the child Applications each step creates): that is the order the first sync
 * must follow, so a stall is reported at the first Application the plan reaches and the cluster does not.
 * Applications the plan does not name (none, when the plan and the root agree) keep their wave order, last.
 */
export function orderByPlan(apps: readonly ExpectedApp[], planned: ReadonlyArray<{ name: string; wave: number }>): ExpectedApp[] {
  const rank = new Map(planned.map((p, i) => [p.name, i]));
  const waveOf = new Map(planned.map((p) => [p.name, p.wave]));
  return [...apps]
    .map((a) => ({ ...a, wave: waveOf.get(a.name) ?? a.wave }))
    .sort((a, b) => (rank.get(a.name) ?? Number.MAX_SAFE_INTEGER) - (rank.get(b.name) ?? Number.MAX_SAFE_INTEGER) || a.wave - b.wave || a.name.localeCompare(b.name));
}

/** What Argo CD's application controller writes into `status` (argo-cd@v3.5.1 pkg/apis/application/v1alpha1/types.go ApplicationStatus). */
export interface AppState {
  name: string;
  exists: boolean;
  sync: string;
  health: string;
  revision?: string;
  /** operationState.phase: Running, Succeeded, Failed, Error, Terminating */
  phase?: string;
  message?: string;
}

interface AppLive {
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    operationState?: { phase?: string; message?: string };
    conditions?: Array<{ type?: string; message?: string }>;
  };
}

export async function readApp(kube: Kube, namespace: string, name: string): Promise<AppState> {
  const live = (await kube.get({ apiVersion: APPLICATION_API, kind: 'Application', name, namespace })) as (AppLive & KubeObject) | undefined;
  if (!live) return { name, exists: false, sync: 'Missing', health: 'Missing' };
  const s = live.status ?? {};
  const error = s.conditions?.find((c) => /Error$/.test(c.type ?? ''));
  return {
    name,
    exists: true,
    sync: s.sync?.status ?? 'Unknown',
    health: s.health?.status ?? 'Unknown',
    ...(s.sync?.revision ? { revision: s.sync.revision } : {}),
    ...(s.operationState?.phase ? { phase: s.operationState.phase } : {}),
    ...((error?.message ?? s.operationState?.message ?? s.health?.message) ? { message: error?.message ?? s.operationState?.message ?? s.health?.message } : {}),
  };
}

export const settled = (a: AppState, revision?: string): boolean =>
  a.exists && a.sync === 'Synced' && a.health === 'Healthy' && (revision === undefined || a.revision === revision);

export function describeApp(a: AppState): string {
  if (!a.exists) return `${a.name}: not created yet`;
  return `${a.name}: ${a.sync}/${a.health}${a.phase ? `, last operation ${a.phase}` : ''}${a.revision ? ` at ${a.revision.slice(0, 7)}` : ''}${a.message ? ` (${a.message})` : ''}`;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface WaitOptions {
  namespace: string;
  /** When it is over: the first unsettled Application in order is the one that stalled. */
  timeoutMs: number;
  pollMs: number;
  /** Settled means synced to this commit (after a push), not merely synced. */
  revision?: string;
  clock: Clock;
  /** Called when an Application settles: "dev-users-api Synced/Healthy after 41.0 s". */
  onSettled?(app: string, afterMs: number): void;
  /** Called once per manual Application when the wait reaches it: e2e syncs it as `argocd app sync` would. */
  syncManual?(app: ExpectedApp): Promise<void>;
}

export class StallError extends Error {
  readonly stalled: AppState;
  readonly seen: AppState[];
  constructor(stalled: AppState, waitingOn: string, seen: AppState[]) {
    super(`${waitingOn}: ${describeApp(stalled)}`);
    this.name = 'StallError';
    this.stalled = stalled;
    this.seen = seen;
  }
}

/**
 * Polls until every expected Application (and the root) is settled. Throws StallError naming the first
 * Application in sync order that is not, with what it looked like when time ran out.
 */
export async function waitForApplications(kube: Kube, rootName: string, expected: readonly ExpectedApp[], opts: WaitOptions): Promise<AppState[]> {
  const start = opts.clock.now();
  const order = [...expected, { name: rootName, wave: Number.POSITIVE_INFINITY, manual: false }];
  const done = new Set<string>();
  const synced = new Set<string>();
  let states: AppState[] = [];
  for (;;) {
    states = await Promise.all(order.map((a) => readApp(kube, opts.namespace, a.name)));
    for (const [i, s] of states.entries()) {
      const app = order[i]!;
      // Only the root is pinned to the pushed revision: a child's revision is its own targetRevision's.
      const ok = settled(s, app.name === rootName ? opts.revision : undefined);
      if (ok && !done.has(s.name)) {
        done.add(s.name);
        opts.onSettled?.(s.name, opts.clock.now() - start);
      }
      if (!ok && app.manual && s.exists && !synced.has(app.name) && opts.syncManual) {
        synced.add(app.name);
        await opts.syncManual(app);
      }
    }
    if (done.size === order.length) return states;
    if (opts.clock.now() - start >= opts.timeoutMs) {
      const i = states.findIndex((s) => !done.has(s.name));
      const stalled = states[i]!;
      const app = order[i]!;
      const where = app.name === rootName ? 'the root Application' : `wave ${app.wave}`;
      throw new StallError(stalled, `stalled after ${(opts.timeoutMs / 1000).toFixed(0)} s at ${where} (later waves wait on it)`, states);
    }
    await opts.clock.sleep(opts.pollMs);
  }
}

/** Polls until the Application is gone (deleted from git and pruned by the root, its finalizer done). */
export async function waitForAppGone(kube: Kube, namespace: string, name: string, opts: Pick<WaitOptions, 'timeoutMs' | 'pollMs' | 'clock'>): Promise<void> {
  const start = opts.clock.now();
  for (;;) {
    const s = await readApp(kube, namespace, name);
    if (!s.exists) return;
    if (opts.clock.now() - start >= opts.timeoutMs) throw new StallError(s, `not deleted after ${(opts.timeoutMs / 1000).toFixed(0)} s`, [s]);
    await opts.clock.sleep(opts.pollMs);
  }
}

/**
 * Asks Argo CD to compare with git now instead of at its next poll: the `argocd.argoproj.io/refresh`
 * annotation (argo-cd@v3.5.1 pkg/apis/application/v1alpha1/application_annotations.go AnnotationKeyRefresh,
 * values "normal" and "hard"), which the controller removes when done.
 */
export async function refreshApp(kube: Kube, namespace: string, name: string, hard = true): Promise<void> {
  await kube.apply(
    { apiVersion: APPLICATION_API, kind: 'Application', metadata: { name, namespace, annotations: { 'argocd.argoproj.io/refresh': hard ? 'hard' : 'normal' } } },
    { fieldManager: E2E_FIELD_MANAGER, force: true },
  );
}

/**
 * Starts a sync the way `argocd app sync` does: it sets the Application's `operation`
 * (argo-cd@v3.5.1 types.go Operation{Sync: SyncOperation, InitiatedBy: OperationInitiator}); the
 * controller runs it and clears the field.
 */
export async function syncApp(kube: Kube, namespace: string, name: string, revision?: string): Promise<void> {
  await kube.apply(
    {
      apiVersion: APPLICATION_API,
      kind: 'Application',
      metadata: { name, namespace },
      operation: { initiatedBy: { username: E2E_FIELD_MANAGER }, sync: { ...(revision ? { revision } : {}), prune: true } },
    },
    { fieldManager: E2E_FIELD_MANAGER, force: true },
  );
}

/** Polls until a Deployment runs `image` on every replica (its rollout after a promotion is complete). */
export async function waitForRollout(kube: Kube, namespace: string, name: string, image: string, opts: Pick<WaitOptions, 'timeoutMs' | 'pollMs' | 'clock'>): Promise<number> {
  const start = opts.clock.now();
  let last = 'not found';
  for (;;) {
    const d = (await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace })) as
      | (KubeObject & { spec?: { replicas?: number; template?: { spec?: { containers?: Array<{ image?: string }> } } }; status?: { observedGeneration?: number; updatedReplicas?: number; readyReplicas?: number; replicas?: number } })
      | undefined;
    if (d) {
      const images = d.spec?.template?.spec?.containers?.map((c) => c.image) ?? [];
      const want = d.spec?.replicas ?? 1;
      const st = d.status ?? {};
      const current = (st.observedGeneration ?? 0) >= ((d.metadata as { generation?: number }).generation ?? 0);
      last = `images ${images.join(', ')}; ${st.updatedReplicas ?? 0}/${want} updated, ${st.readyReplicas ?? 0} ready, ${st.replicas ?? 0} in all`;
      if (images.includes(image) && current && st.updatedReplicas === want && st.readyReplicas === want && (st.replicas ?? want) === want) return opts.clock.now() - start;
    }
    if (opts.clock.now() - start >= opts.timeoutMs) throw new Error(`Deployment ${namespace}/${name} did not roll out ${image} within ${(opts.timeoutMs / 1000).toFixed(0)} s: ${last}`);
    await opts.clock.sleep(opts.pollMs);
  }
}
