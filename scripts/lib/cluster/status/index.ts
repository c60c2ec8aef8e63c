// What is running, per environment: the Argo CD Application's sync and health, the revision it
// deployed, the MongoDB resource's phase and the API Deployment's readiness. Reads only.
import { termSafe } from '../../core/term.ts';
import type { Kube } from '../kube/client.ts';
import { MONGODB } from '../../inputs/spec.ts';
import { APP_NAME } from '../../../../apps/users-api/src/contract.ts';
import { formatAlertLines, type FiringAlert } from './alerts.ts';

export interface EnvRef {
  name: string;
  namespace: string;
  /** The environment's Argo CD Application. */
  application: string;
}

export interface EnvStatus {
  env: string;
  namespace: string;
  application: { name: string; sync: string; health: string; revision: string | null; message: string | null } | null;
  mongodb: { phase: string } | null;
  deployment: { ready: number; desired: number; updated: number } | null;
  /** Settled: Synced, Healthy, MongoDB Running, every replica ready. */
  ok: boolean;
  /** Something is broken (not merely on its way: a missing object, Unknown health or a rollout in progress is progressing): exit 1. */
  degraded: boolean;
  problems: string[];
  /** Firing alerts of its namespace (status/alerts.ts), when its cluster has monitoring; absent otherwise. */
  alerts?: FiringAlert[];
  /** Why the alerts could not be read (Prometheus unreachable…), when monitoring is on. */
  alertsUnavailable?: string;
}

/**
 * Health statuses that mean broken. Argo CD's health states (argoproj/argo-cd@v3.5.1:
 * gitops-engine/pkg/health/health.go): Healthy, Progressing, Suspended, Degraded, Missing, Unknown.
 * Missing (not created yet) and Unknown (not assessed yet) are what a first sync looks like: progressing.
 */
const BROKEN_HEALTH = new Set(['Degraded']);

interface AppLive {
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    operationState?: { phase?: string; message?: string };
  };
}

interface DeploymentLive {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; updatedReplicas?: number; conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> };
}

const MONGODB_API = 'mongodbcommunity.mongodb.com/v1';

export async function collectStatus(kube: Kube, envs: readonly EnvRef[], argocdNamespace: string): Promise<EnvStatus[]> {
  const out: EnvStatus[] = [];
  // Whether the operator's CRD is installed at all: "not found" would hide the real cause.
  const operatorInstalled = (await kube.isNamespaced(MONGODB_API, 'MongoDBCommunity')) !== undefined;
  for (const env of envs) {
    const problems: string[] = [];
    let degraded = false;
    const app = (await kube.get({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', name: env.application, namespace: argocdNamespace })) as (AppLive & object) | undefined;
    let application: EnvStatus['application'] = null;
    if (!app) {
      problems.push(`Application ${argocdNamespace}/${env.application} does not exist yet: the root Application creates it on its next sync (run bootstrap if it has never run)`);
    } else {
      const sync = app.status?.sync?.status ?? 'Unknown';
      const health = app.status?.health?.status ?? 'Unknown';
      const phase = app.status?.operationState?.phase;
      const opFailed = phase === 'Failed' || phase === 'Error';
      application = { name: env.application, sync, health, revision: app.status?.sync?.revision ?? null, message: app.status?.health?.message ?? app.status?.operationState?.message ?? null };
      if (BROKEN_HEALTH.has(health)) {
        degraded = true;
        problems.push(`Application health ${health}${application.message ? `: ${application.message}` : ''}`);
      }
      if (opFailed) {
        degraded = true;
        problems.push(`last sync ${phase}: ${app.status?.operationState?.message ?? 'see argocd app get'}`);
      }
    }
    let mongodb: EnvStatus['mongodb'] = null;
    if (!operatorInstalled) {
      problems.push(`the MongoDB operator is not installed (no CustomResourceDefinition for ${MONGODB_API} MongoDBCommunity): the mongodb-operator Application installs it; check it with kubectl -n ${argocdNamespace} get application`);
    } else {
      const db = (await kube.get({ apiVersion: MONGODB_API, kind: 'MongoDBCommunity', name: MONGODB.resourceName, namespace: env.namespace })) as { status?: { phase?: string; message?: string } } | undefined;
      mongodb = db ? { phase: db.status?.phase ?? 'Pending' } : null;
      if (!db) problems.push(`MongoDBCommunity ${env.namespace}/${MONGODB.resourceName} does not exist yet`);
      else if (mongodb?.phase === 'Failed') {
        degraded = true;
        problems.push(`MongoDB phase Failed${db.status?.message ? `: ${db.status.message}` : ''}: kubectl describe mongodbcommunity -n ${env.namespace}`);
      }
    }
    const dep = (await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: APP_NAME, namespace: env.namespace })) as DeploymentLive | undefined;
    const deployment = dep ? { ready: dep.status?.readyReplicas ?? 0, desired: dep.spec?.replicas ?? 1, updated: dep.status?.updatedReplicas ?? 0 } : null;
    if (!dep) {
      problems.push(`Deployment ${env.namespace}/${APP_NAME} does not exist yet`);
    } else {
      // A rollout is broken once the Deployment controller gives up (progressDeadlineSeconds), which
      // is also when Argo CD calls it Degraded; before that, 0 ready replicas are a rollout in progress.
      const stalled = dep.status?.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
      if (stalled) {
        degraded = true;
        problems.push(`rollout of ${APP_NAME} stalled (ProgressDeadlineExceeded${stalled.message ? `: ${stalled.message}` : ''}): kubectl -n ${env.namespace} describe deployment ${APP_NAME}`);
      } else if (deployment && deployment.desired > 0 && deployment.ready < deployment.desired) {
        problems.push(`${deployment.ready}/${deployment.desired} replicas of ${APP_NAME} ready (rolling out)`);
      }
    }
    const ok = !degraded && application?.sync === 'Synced' && application.health === 'Healthy' && mongodb?.phase === 'Running' && deployment !== null && deployment.ready >= deployment.desired;
    out.push({ env: env.name, namespace: env.namespace, application, mongodb, deployment, ok, degraded, problems });
  }
  return out;
}

export function formatStatusText(statuses: readonly EnvStatus[]): string {
  const lines: string[] = [];
  for (const s of statuses) {
    const state = s.degraded ? 'DEGRADED' : s.ok ? 'ok' : 'progressing';
    lines.push(`${s.env} (namespace ${s.namespace}): ${state}`);
    lines.push(
      s.application
        ? `  argocd    ${s.application.sync}, ${s.application.health}${s.application.revision ? ` at ${s.application.revision.slice(0, 12)}` : ''}`
        : '  argocd    missing',
    );
    const operatorMissing = s.problems.some((p) => p.startsWith('the MongoDB operator is not installed'));
    lines.push(`  mongodb   ${s.mongodb ? s.mongodb.phase : operatorMissing ? 'operator not installed' : 'missing'}`);
    lines.push(`  api       ${s.deployment ? `${s.deployment.ready}/${s.deployment.desired} ready, ${s.deployment.updated} updated` : 'missing'}`);
    lines.push(...formatAlertLines(s.alerts, s.alertsUnavailable));
    for (const p of s.problems) lines.push(`  ! ${p}`);
  }
  // Phases, revisions and condition messages come from the cluster: printed terminal-safe (scripts/lib/core/term.ts).
  return `${lines.map((l) => termSafe(l)).join('\n')}\n`;
}

export function formatStatusJson(statuses: readonly EnvStatus[]): string {
  return `${JSON.stringify({ environments: statuses, degraded: statuses.some((s) => s.degraded) }, null, 2)}\n`;
}

export interface WatchOptions {
  intervalMs: number;
  /** Bounded: stop after this many polls even if not settled. */
  maxPolls: number;
  signal?: AbortSignal;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  onPoll: (statuses: EnvStatus[], poll: number) => void;
}

/** Re-polls until every environment is settled (ok) or degraded, the bound is hit, or the signal aborts. */
export async function watchStatus(kube: Kube, envs: readonly EnvRef[], argocdNamespace: string, opts: WatchOptions): Promise<EnvStatus[]> {
  let last: EnvStatus[] = [];
  for (let poll = 1; poll <= opts.maxPolls; poll++) {
    if (opts.signal?.aborted) break;
    last = await collectStatus(kube, envs, argocdNamespace);
    opts.onPoll(last, poll);
    if (last.every((s) => s.ok || s.degraded) || poll === opts.maxPolls) break;
    try {
      await opts.sleep(opts.intervalMs, opts.signal);
    } catch (error) {
      if (opts.signal?.aborted) break; // Ctrl-C while sleeping
      throw error;
    }
  }
  return last;
}
