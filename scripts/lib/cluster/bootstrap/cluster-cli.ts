// The shell of `bootstrap --cluster <name>` (scripts/bootstrap.ts calls it): checks the arguments against
// gitops.yaml, loads the two kubeconfig contexts, and runs registerCluster (cluster.ts).
import { readFileSync } from 'node:fs';
import type { Io } from '../../core/cli.ts';
import { clusterContext, IN_CLUSTER_NAME, knownClusters } from '../../inputs/clusters.ts';
import { UsageError } from '../../core/errors.ts';
import { SETTINGS_FILE } from '../../core/layout.ts';
import { settleRepository } from '../../generate/commands.ts';
import { readRepoInputs } from '../../inputs/index.ts';
import { registerCluster, registrationRules } from './cluster.ts';
import { readBootstrapInputs } from './inputs.ts';

export interface ClusterCliValues {
  cluster?: string;
  context?: string;
  'argocd-context'?: string;
  'dry-run'?: boolean;
  timeout?: number;
  'argocd-manifest'?: string;
  'repo-password-file'?: string;
  'repo-ssh-key-file'?: string;
  'remove-repo-credentials'?: boolean;
}

export async function registerClusterCli(root: string, values: ClusterCliValues, io: Io): Promise<number> {
  const name = values.cluster!;
  for (const other of ['argocd-manifest', 'repo-password-file', 'repo-ssh-key-file', 'remove-repo-credentials'] as const) {
    if (values[other] !== undefined) throw new UsageError(`--${other} installs or configures Argo CD itself; run it without --cluster`);
  }
  await settleRepository(root, 'bootstrap', io.err);
  const { settings } = await readRepoInputs(root);
  const known = knownClusters(settings);
  if (name === IN_CLUSTER_NAME) throw new UsageError(`${IN_CLUSTER_NAME} is the cluster Argo CD runs in; it needs no registration (run bootstrap without --cluster)`);
  const spec = known.get(name);
  if (!spec) throw new UsageError(`cluster ${name} is not in ${SETTINGS_FILE} clusters (${[...known.keys()].join(', ')}); add it first (docs/clusters.md "Add a cluster")`);
  const targetContext = clusterContext(settings, name, values.context);
  if (targetContext === undefined) throw new UsageError(`which kubeconfig context reaches ${name}? pass --context <ctx> or set clusters.${name}.context in ${SETTINGS_FILE}`);
  const controlContext = clusterContext(settings, IN_CLUSTER_NAME, values['argocd-context']);
  if (controlContext === targetContext) throw new UsageError(`--context and the Argo CD context are both ${targetContext}: ${name} must be another cluster than the one Argo CD runs in`);
  const { projects } = await readBootstrapInputs(root);
  const rules = registrationRules(settings, projects, name);

  // The Kubernetes client (~900 modules) is loaded here, not at start-up.
  const { createKube, loadKubeConfig } = await import('../kube/client.ts');
  const timeoutMs = (values.timeout ?? 15) * 1000;
  const targetKc = loadKubeConfig(targetContext);
  const target = createKube(targetKc, { timeoutMs });
  const control = createKube(loadKubeConfig(controlContext), { timeoutMs });
  const current = targetKc.getCurrentCluster();
  const caPem = current?.caData ? Buffer.from(current.caData, 'base64').toString('utf8') : current?.caFile ? readFileSync(current.caFile, 'utf8') : undefined;
  await registerCluster(
    { cluster: name, server: spec.server, argocdNamespace: settings.argocd.namespace, rules, ...(caPem ? { caPem } : {}) },
    { target, control, log: io.out, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    { dryRun: values['dry-run'] === true },
  );
  return 0;
}
