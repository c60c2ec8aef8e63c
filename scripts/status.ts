#!/usr/bin/env zx
// Thin shell over scripts/lib/cluster/status: which environments, poll once or watch, print, exit 1 when degraded.
import { setTimeout as delay } from 'node:timers/promises';
import { findRepoRoot, runCli } from './lib/core/cli.ts';
import { UsageError } from './lib/core/errors.ts';
import type { EnvStatus } from './lib/cluster/status/index.ts';

await runCli(
  {
    name: 'status',
    synopsis: '[env…] [--history | --watch] [--format text|json] [--context <ctx>] [--cluster-context <cluster>=<ctx>…]',
    description:
      'Shows, per environment, the Argo CD Application sync and health, the deployed revision, the MongoDB phase and the API Deployment readiness. Exits 1 when anything is degraded (broken); an environment on its way (first sync, rollout) is progressing, exit 0. --watch polls until every environment is settled or degraded.',
    optionHelp: [
      '--history          the promotion history from git instead: every image tag change, when, from where, by which commit',
      '--watch            poll until every environment is settled or degraded (at most --polls times; Ctrl-C stops)',
      '--format <fmt>     text (default) or json',
      '--context <ctx>    kubeconfig context of the cluster Argo CD runs in (default: clusters.in-cluster.context, else the current one)',
      '--cluster-context <cluster>=<ctx>  kubeconfig context of another cluster (default: clusters.<cluster>.context in gitops.yaml); repeatable',
      '--interval <s>     seconds between polls with --watch, 0.5–600 (default 5)',
      '--polls <n>        maximum polls with --watch, 1–10000 (default 120)',
      '--timeout <s>      per-request timeout in seconds, 1–600 (default 15)',
    ],
    options: {
      history: { type: 'boolean' },
      watch: { type: 'boolean' },
      format: { type: 'string', default: 'text' },
      context: { type: 'string' },
      'cluster-context': { type: 'string', multiple: true },
      interval: { type: 'number', min: 0.5, max: 600, unit: 'seconds', default: 5 },
      polls: { type: 'number', integer: true, min: 1, max: 10_000, unit: 'polls', default: 120 },
      timeout: { type: 'number', min: 1, max: 600, unit: 'seconds', default: 15 },
    },
    positionals: [0, 100],
    examples: ['zx scripts/status.ts', 'zx scripts/status.ts prod --format json', 'zx scripts/status.ts staging --watch', 'zx scripts/status.ts --history prod'],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ applicationName }, { envArguments, readRepoInputs }, { settleRepository }, { collectStatus, formatStatusJson, formatStatusText, watchStatus }] = await Promise.all([import('./lib/inputs/schema.ts'), import('./lib/inputs/index.ts'), import('./lib/generate/commands.ts'), import('./lib/cluster/status/index.ts')]);
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, got ${JSON.stringify(format)}`);
    const root = findRepoRoot();
    envArguments(root, positionals, { mustExist: true });
    await settleRepository(root, 'status', io.err);
    const { settings, envs } = await readRepoInputs(root);
    const known = Object.keys(envs).sort();
    const unknown = positionals.filter((p) => !known.includes(p));
    if (unknown.length > 0) throw new UsageError(`unknown environment ${unknown.join(', ')}; known: ${known.join(', ')}`);
    const chosen = (positionals.length > 0 ? [...new Set(positionals)].sort() : known).map((name) => ({ name, namespace: envs[name]!.spec.namespace, application: applicationName(name) }));
    if (values.history) {
      // From git alone: every tag change per environment (scripts/lib/release/history.ts); no cluster needed.
      const { formatHistory, tagHistory } = await import('./lib/release/history.ts');
      const entries = (await Promise.all(chosen.map((c) => tagHistory(root, c.name)))).flat();
      io.out(format === 'json' ? JSON.stringify(entries, null, 2) : formatHistory(entries));
      return 0;
    }
    // The Kubernetes client (~900 modules) is loaded here, not at start-up: --help and usage errors stay instant.
    const { createKube, loadKubeConfig } = await import('./lib/cluster/kube/client.ts');
    if (settings.clusters !== undefined) {
      // Environments on several clusters (docs/clusters.md): grouped by cluster, an unreachable one named as such.
      const { clusterStatusCli } = await import('./lib/cluster/status/clusters-cli.ts');
      return await clusterStatusCli({ settings, envs, chosen: chosen.map((c) => c.name), values, io, format, createKube, loadKubeConfig });
    }
    if (values['cluster-context'] !== undefined) throw new UsageError(`--cluster-context needs clusters in gitops.yaml (docs/clusters.md)`);
    const kube = createKube(loadKubeConfig(values.context), { timeoutMs: values.timeout! * 1000 });
    // Firing alerts per environment when the cluster has the Prometheus operator (docs/monitoring.md).
    const { monitoringEnabled } = await import('./lib/generate/monitoring.ts');
    const { withAlerts } = await import('./lib/cluster/status/alerts.ts');
    const prometheus = settings.monitoring && monitoringEnabled(settings, 'in-cluster') ? settings.monitoring.prometheus : undefined;
    const timeoutMs = values.timeout! * 1000;
    const sources = {
      getPath: kube.getPath?.bind(kube),
      fetchUrl: async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } })).json() as Promise<unknown>,
    };
    const alerted = async (s: EnvStatus[]): Promise<EnvStatus[]> => (prometheus ? withAlerts(s, prometheus, sources) : s);
    const print = (s: EnvStatus[]) => io.out(format === 'json' ? formatStatusJson(s) : formatStatusText(s));
    let statuses: EnvStatus[];
    if (values.watch) {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      try {
        statuses = await watchStatus(kube, chosen, settings.argocd.namespace, {
          intervalMs: values.interval! * 1000,
          maxPolls: values.polls!,
          signal: controller.signal,
          sleep: (ms, signal) => delay(ms, undefined, { signal }),
          onPoll: (s, n) => {
            if (format === 'text') io.out(`--- poll ${n}`);
            print(s);
          },
        });
      } finally {
        process.off('SIGINT', stop);
      }
    } else {
      statuses = await alerted(await collectStatus(kube, chosen, settings.argocd.namespace));
      print(statuses);
    }
    if (statuses.some((s) => s.degraded)) return 1;
    if (values.watch && !statuses.every((s) => s.ok)) {
      io.err(`status: not settled after ${values.polls} polls: ${statuses.filter((s) => !s.ok).map((s) => s.env).join(', ')} still progressing`);
      return 1;
    }
    return 0;
  },
);
