// status across clusters: Argo CD's Applications are read where Argo CD runs, each environment's
// workloads on its own cluster. A cluster this machine cannot reach is reported as such, once, and its
// environments show Argo CD's view only: an unreachable cluster is not a broken environment.
import type { Kube, ObjectRef } from '../kube/client.ts';
import { collectStatus, formatStatusText, type EnvRef, type EnvStatus } from './index.ts';

export interface ClusterTarget {
  name: string;
  server: string;
  /** The kubeconfig context used for it (for messages). */
  context?: string;
  /** Its client, or why none could be made (no such context, no kubeconfig…). */
  kube?: Kube;
  error?: string;
}

export interface ClusterStatus {
  name: string;
  server: string;
  context: string | null;
  reachable: boolean;
  /** Why it could not be reached (connection refused, TLS, 401…), when it could not. */
  error: string | null;
  environments: EnvStatus[];
}

/** A client that reads Argo CD's objects on the control plane and everything else on the environment's cluster. */
export function routedKube(control: Kube, workloads: Kube): Kube {
  const argo = (ref: { apiVersion: string }) => ref.apiVersion.startsWith('argoproj.io/');
  return {
    ...workloads,
    server: workloads.server,
    context: workloads.context,
    get: (ref: ObjectRef) => (argo(ref) ? control.get(ref) : workloads.get(ref)),
  };
}

/** Does the cluster answer (its /version), or why not. */
async function reach(t: ClusterTarget): Promise<string | undefined> {
  if (!t.kube) return t.error ?? 'no client';
  try {
    await t.kube.version();
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

/** Every environment's status, grouped by cluster (`envs` carry their cluster's name). */
export async function collectClusterStatus(control: Kube, clusters: readonly ClusterTarget[], envs: ReadonlyArray<EnvRef & { cluster: string }>, argocdNamespace: string): Promise<ClusterStatus[]> {
  const out: ClusterStatus[] = [];
  for (const c of clusters) {
    const there = envs.filter((e) => e.cluster === c.name);
    if (there.length === 0) continue;
    const error = await reach(c);
    let environments: EnvStatus[];
    if (error === undefined) {
      environments = await collectStatus(routedKube(control, c.kube!), there, argocdNamespace);
    } else {
      // Argo CD's view only (its Application), from the control plane; nothing is said about the workloads.
      const nothing: Kube = { ...control, get: async () => undefined, isNamespaced: async () => true };
      environments = (await collectStatus(routedKube(control, nothing), there, argocdNamespace)).map((s) => {
        const fromArgo = s.problems.filter((p) => p.startsWith('Application ') || p.startsWith('last sync'));
        return { ...s, mongodb: null, deployment: null, ok: false, problems: [...fromArgo, `cluster ${c.name} is unreachable from here, so its workloads are unknown (not an environment fault)`] };
      });
    }
    out.push({ name: c.name, server: c.server, context: c.context ?? null, reachable: error === undefined, error: error ?? null, environments });
  }
  return out;
}

export function formatClusterStatusText(clusters: readonly ClusterStatus[]): string {
  return clusters
    .map((c) => {
      const head = `cluster ${c.name} (${c.server}${c.context ? `, context ${c.context}` : ''}): ${c.reachable ? 'reachable' : `UNREACHABLE: ${c.error}`}`;
      return `${head}\n${formatStatusText(c.environments).replace(/^(?=.)/gm, '  ')}`;
    })
    .join('');
}

export function formatClusterStatusJson(clusters: readonly ClusterStatus[]): string {
  const all = clusters.flatMap((c) => c.environments);
  return `${JSON.stringify({ clusters, degraded: all.some((s) => s.degraded), unreachable: clusters.filter((c) => !c.reachable).map((c) => c.name) }, null, 2)}\n`;
}
