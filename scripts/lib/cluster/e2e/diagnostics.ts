// What a person would look at when a step fails: each Application's conditions, last operation and the
// resources it reports unhealthy; in each namespace the pods that are not ready (with the waiting reason:
// ImagePullBackOff, CrashLoopBackOff…) and the most recent events. Read-only, bounded in size.
import type { Kube, KubeObject } from '../kube/client.ts';
import { APPLICATION_API } from './wait.ts';

interface AppLive extends KubeObject {
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    operationState?: { phase?: string; message?: string; syncResult?: { resources?: Array<{ kind?: string; name?: string; namespace?: string; status?: string; message?: string; hookPhase?: string }> } };
    conditions?: Array<{ type?: string; message?: string }>;
    resources?: Array<{ kind?: string; name?: string; namespace?: string; status?: string; health?: { status?: string; message?: string } }>;
  };
}

interface EventLive extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string };
}

interface PodLive extends KubeObject {
  status?: {
    phase?: string;
    conditions?: Array<{ type?: string; status?: string }>;
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}
interface ContainerStatus { name?: string; ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } } }

export const EVENTS_PER_NAMESPACE = 15;

export function describeApplication(a: AppLive): string[] {
  const s = a.status ?? {};
  const lines = [`Application ${a.metadata.name}: ${s.sync?.status ?? 'Unknown'}/${s.health?.status ?? 'Unknown'}${s.health?.message ? ` (${s.health.message})` : ''}`];
  for (const c of s.conditions ?? []) lines.push(`  condition ${c.type}: ${c.message ?? ''}`);
  if (s.operationState) lines.push(`  last operation ${s.operationState.phase ?? '?'}: ${s.operationState.message ?? ''}`);
  for (const r of s.operationState?.syncResult?.resources ?? []) {
    if (r.status && r.status !== 'Synced') lines.push(`  sync ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}: ${r.status}${r.hookPhase ? ` (hook ${r.hookPhase})` : ''}${r.message ? `: ${r.message}` : ''}`);
  }
  for (const r of s.resources ?? []) {
    const h = r.health?.status;
    if ((h && h !== 'Healthy') || (r.status && r.status !== 'Synced')) {
      lines.push(`  resource ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}: ${r.status ?? '?'}/${h ?? '-'}${r.health?.message ? ` (${r.health.message})` : ''}`);
    }
  }
  return lines;
}

export function describePod(p: PodLive): string | undefined {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  if (ready || p.status?.phase === 'Succeeded') return undefined;
  const why = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]
    .filter((c) => !c.ready)
    .map((c) => {
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      return `${c.name}: ${w ? `${w.reason ?? 'waiting'}${w.message ? ` (${w.message})` : ''}` : t ? `terminated ${t.reason ?? ''} exit ${t.exitCode ?? '?'}` : 'not ready'}${c.restartCount ? `, ${c.restartCount} restarts` : ''}`;
    });
  return `pod ${p.metadata.name}: ${p.status?.phase ?? 'Unknown'}${why.length ? `; ${why.join('; ')}` : ''}`;
}

const when = (e: EventLive): string => e.lastTimestamp ?? e.eventTime ?? (e.metadata as { creationTimestamp?: string }).creationTimestamp ?? '';

/** The newest `limit` events of a namespace, oldest first (as `kubectl get events --sort-by` shows them). */
export function describeEvents(events: readonly EventLive[], limit = EVENTS_PER_NAMESPACE): string[] {
  return [...events]
    .sort((a, b) => when(a).localeCompare(when(b)) || a.metadata.name.localeCompare(b.metadata.name))
    .slice(-limit)
    .map((e) => `${when(e)} ${e.type ?? ''} ${e.reason ?? ''} ${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}: ${e.message ?? ''}${e.count && e.count > 1 ? ` (x${e.count})` : ''}`.replace(/\s+/g, ' ').trim());
}

/** Everything above for the Applications and namespaces a failed step involves. */
export async function collectDiagnostics(kube: Kube, opts: { argocdNamespace: string; applications: readonly string[]; namespaces: readonly string[] }): Promise<string> {
  const out: string[] = [];
  for (const name of opts.applications) {
    const a = (await kube.get({ apiVersion: APPLICATION_API, kind: 'Application', name, namespace: opts.argocdNamespace })) as AppLive | undefined;
    out.push(...(a ? describeApplication(a) : [`Application ${name}: does not exist`]));
  }
  for (const ns of [...new Set(opts.namespaces)]) {
    const pods = (await kube.list('v1', 'Pod', ns)) as PodLive[];
    const bad = pods.map(describePod).filter((l): l is string => l !== undefined);
    const events = describeEvents((await kube.list('v1', 'Event', ns)) as EventLive[]);
    out.push(`namespace ${ns}: ${pods.length} pod(s), ${bad.length} not ready`, ...bad.map((l) => `  ${l}`));
    if (events.length > 0) out.push(`  events (newest ${events.length}):`, ...events.map((l) => `    ${l}`));
  }
  return out.join('\n');
}
