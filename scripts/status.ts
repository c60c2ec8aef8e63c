#!/usr/bin/env zx
// Thin shell over scripts/lib/status: which environments, poll once or watch, print, exit 1 when degraded.
import { setTimeout as delay } from 'node:timers/promises';
import { runCli } from './lib/cli.ts';
import { UsageError } from './lib/errors.ts';
import { applicationName } from './lib/envspec.ts';
import { createKube, loadKubeConfig } from './lib/kube/client.ts';
import { envArguments, readRepoInputs } from './lib/repo-inputs.ts';
import { settleRepository } from './lib/generate/commands.ts';
import { collectStatus, formatStatusJson, formatStatusText, watchStatus } from './lib/status/index.ts';
import type { EnvStatus } from './lib/status/index.ts';

await runCli(
  {
    name: 'status',
    synopsis: '[env…] [--watch] [--format text|json] [--context <ctx>]',
    description:
      'Shows, per environment, the Argo CD Application sync and health, the deployed revision, the MongoDB phase and the API Deployment readiness. Exits 1 when anything is degraded.',
    optionHelp: [
      '--watch            poll until every environment is settled or degraded (at most --polls times; Ctrl-C stops)',
      '--format <fmt>     text (default) or json',
      '--context <ctx>    kubeconfig context (default: the current one)',
      '--interval <s>     seconds between polls with --watch (default 5)',
      '--polls <n>        maximum polls with --watch (default 120)',
    ],
    options: {
      watch: { type: 'boolean' },
      format: { type: 'string', default: 'text' },
      context: { type: 'string' },
      interval: { type: 'string' },
      polls: { type: 'string' },
    },
    positionals: [0, 100],
    examples: ['zx scripts/status.ts', 'zx scripts/status.ts prod --format json', 'zx scripts/status.ts staging --watch'],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, got ${JSON.stringify(format)}`);
    envArguments(process.cwd(), positionals, { mustExist: true });
    await settleRepository(process.cwd(), 'status', io.err);
    const { settings, envs } = await readRepoInputs(process.cwd());
    const known = Object.keys(envs).sort();
    const unknown = positionals.filter((p) => !known.includes(p));
    if (unknown.length > 0) throw new UsageError(`unknown environment ${unknown.join(', ')}; known: ${known.join(', ')}`);
    const chosen = (positionals.length > 0 ? [...new Set(positionals)].sort() : known).map((name) => ({ name, namespace: envs[name]!.spec.namespace, application: applicationName(name) }));
    const kube = createKube(loadKubeConfig(values.context));
    const print = (s: EnvStatus[]) => io.out(format === 'json' ? formatStatusJson(s) : formatStatusText(s));
    let statuses: EnvStatus[];
    if (values.watch) {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      try {
        statuses = await watchStatus(kube, chosen, settings.argocd.namespace, {
          intervalMs: Number(values.interval ?? 5) * 1000,
          maxPolls: Number(values.polls ?? 120),
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
      statuses = await collectStatus(kube, chosen, settings.argocd.namespace);
      print(statuses);
    }
    return statuses.some((s) => s.degraded) ? 1 : 0;
  },
);
