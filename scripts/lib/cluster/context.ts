// cluster/ owns everything that talks to a live cluster: the one client (kube/), bootstrap, status, the
// live diff, the password read of rotate, the contexts of several clusters (here) and the e2e run.
//
// Which kubeconfig context reaches an environment's cluster, for the commands that talk to it directly
// (diff --live): a flag wins, then gitops.yaml clusters.<cluster>.context; an environment on another
// cluster than in-cluster without either is a usage error, never a silent diff against the wrong cluster.
import { UsageError } from '../core/errors.ts';
import { readEnvFiles, readSettingsFile } from '../inputs/index.ts';
import { SETTINGS_FILE } from '../core/layout.ts';
import { clusterContext, envCluster, IN_CLUSTER_NAME } from '../inputs/clusters.ts';

export function contextForEnv(settings: Parameters<typeof clusterContext>[0], cluster: string, env: string, flag: string | undefined): string | undefined {
  const context = clusterContext(settings, cluster, flag);
  if (context === undefined && cluster !== IN_CLUSTER_NAME) {
    throw new UsageError(`environment ${env} runs on cluster ${cluster}: pass --context <its kubeconfig context> or set clusters.${cluster}.context in ${SETTINGS_FILE}`);
  }
  return context;
}

/** The context for `diff --live <env>` in the repository at `root`. */
export function liveDiffContext(root: string, env: string, flag: string | undefined): string | undefined {
  const s = readSettingsFile(root);
  const e = readEnvFiles(root, env);
  // Input problems are reported by the live diff itself (it reads the same files); fall back to the flag.
  if (!s.settings || !e.spec) return flag;
  return contextForEnv(s.settings, envCluster(e.spec), env, flag);
}
