// The shell of `status` when gitops.yaml names clusters (scripts/status.ts calls it): one client per
// cluster from its kubeconfig context, a client that cannot be made is an unreachable cluster (not an
// error of the command), then collect, print, exit 1 on a degraded environment or an unreachable cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Io } from '../../core/cli.ts';
import { UsageError } from '../../core/errors.ts';
import type { Kube, KubeOptions } from '../kube/client.ts';
import { applicationName } from '../../inputs/schema.ts';
import type { RepoInputs } from '../../inputs/index.ts';
import { clusterContext, envCluster, IN_CLUSTER_NAME, knownClusters } from '../../inputs/clusters.ts';
import { collectClusterStatus, formatClusterStatusJson, formatClusterStatusText, type ClusterTarget } from './clusters.ts';

export interface ClusterStatusCliArgs {
  settings: RepoInputs['settings'];
  envs: RepoInputs['envs'];
  chosen: string[];
  values: { context?: string; 'cluster-context'?: string[]; timeout?: number; watch?: boolean; interval?: number; polls?: number };
  io: Io;
  format: 'text' | 'json';
  createKube: (kc: KubeConfig, o?: KubeOptions) => Kube;
  loadKubeConfig: (context?: string) => KubeConfig;
}

/** `--cluster-context a=ctx` flags as a map; a malformed one or an unknown cluster is a usage error. */
export function parseClusterContexts(flags: readonly string[], known: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of flags) {
    const m = /^([a-z0-9-]+)=(\S+)$/.exec(f);
    if (!m) throw new UsageError(`--cluster-context ${JSON.stringify(f)}: write <cluster>=<kubeconfig context>, e.g. prod-eu=prod-eu-admin`);
    if (!known.has(m[1]!)) throw new UsageError(`--cluster-context: cluster ${m[1]} is not in gitops.yaml clusters (${[...known].join(', ')})`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

export async function clusterStatusCli(a: ClusterStatusCliArgs): Promise<number> {
  const known = knownClusters(a.settings);
  const flags = parseClusterContexts(a.values['cluster-context'] ?? [], new Set(known.keys()));
  if (a.values.context !== undefined) flags.set(IN_CLUSTER_NAME, a.values.context);
  const timeoutMs = (a.values.timeout ?? 15) * 1000;
  const targets: ClusterTarget[] = [];
  for (const [name, spec] of known) {
    const context = clusterContext(a.settings, name, flags.get(name));
    const t: ClusterTarget = { name, server: spec.server, ...(context ? { context } : {}) };
    if (context === undefined && name !== IN_CLUSTER_NAME) t.error = `no kubeconfig context for it: set clusters.${name}.context in gitops.yaml or pass --cluster-context ${name}=<ctx>`;
    else {
      try {
        t.kube = a.createKube(a.loadKubeConfig(context), { timeoutMs });
      } catch (error) {
        t.error = (error as Error).message.split('\n')[0];
      }
    }
    targets.push(t);
  }
  const control = targets.find((t) => t.name === IN_CLUSTER_NAME)!;
  if (!control.kube) throw new UsageError(`the cluster Argo CD runs in cannot be read: ${control.error}`);
  const envs = a.chosen.map((name) => ({ name, namespace: a.envs[name]!.spec.namespace, application: applicationName(name), cluster: envCluster(a.envs[name]!.spec) }));
  const polls = a.values.watch ? (a.values.polls ?? 120) : 1;
  let result = await collectClusterStatus(control.kube, targets, envs, a.settings.argocd.namespace);
  for (let poll = 1; ; poll++) {
    if (a.values.watch && a.format === 'text') a.io.out(`--- poll ${poll}`);
    a.io.out(a.format === 'json' ? formatClusterStatusJson(result) : formatClusterStatusText(result));
    const all = result.flatMap((c) => c.environments);
    if (poll >= polls || all.every((s) => s.ok || s.degraded) || result.some((c) => !c.reachable)) break;
    await new Promise((r) => setTimeout(r, (a.values.interval ?? 5) * 1000));
    result = await collectClusterStatus(control.kube, targets, envs, a.settings.argocd.namespace);
  }
  const unreachable = result.filter((c) => !c.reachable).map((c) => c.name);
  if (unreachable.length > 0) a.io.err(`status: cluster ${unreachable.join(', ')} unreachable from here (a connection problem, not an environment fault)`);
  return result.some((c) => !c.reachable || c.environments.some((s) => s.degraded)) ? 1 : 0;
}
