#!/usr/bin/env zx
// Thin shell over scripts/lib/cluster/e2e: parse, run the end-to-end steps on a disposable cluster, print the
// timed report, exit 0 (every step passed), 1 (a step failed: its Argo CD and pod diagnostics printed),
// 2 (usage, or no container engine / cluster tool here).
import { runCli } from './lib/core/cli.ts';
import { UsageError } from './lib/core/errors.ts';

await runCli(
  {
    name: 'e2e',
    synopsis: '[--context <ctx> | --create kind|k3d] [--keep] [--format text|markdown|json] [--out <file>] | --list',
    description:
      'End to end on a real cluster: creates a disposable kind (or k3d) cluster unless --context names one, builds the users-api image and loads it, ' +
      'serves this checkout\'s committed HEAD to Argo CD from a git server pod, bootstraps, waits for every Application to be Synced and Healthy in wave order ' +
      '(naming the first that stalls), runs the original curl session, creates an environment from a commit, promotes a tag, rotates the database password ' +
      'under load (0 failed requests), deletes an environment, and prints a timed report per step. Needs Docker or Podman: without one it says so and exits 2.',
    optionHelp: [
      '--list                   print the steps, what each proves and the Applications the first sync waits for, in order; run nothing',
      '--context <ctx>          use this kubeconfig context (a disposable cluster: e2e bootstraps Argo CD into it) instead of creating one',
      '--create <tool>          kind (default when installed) or k3d: the tool that creates the disposable cluster',
      '--keep                   keep the cluster it created (to look around); default: delete it at the end',
      '--format <fmt>           text (default), markdown (the workflow\'s job summary) or json',
      '--out <file>             also write the report to this file',
      '--sync-timeout <s>       how long one wait for Synced/Healthy may take, 30–7200 (default 900)',
      '--rollout-timeout <s>    how long a rollout or Argo CD install may take, 30–3600 (default 600)',
      '--poll <s>               seconds between polls, 1–60 (default 5)',
    ],
    options: {
      context: { type: 'string' },
      create: { type: 'string' },
      keep: { type: 'boolean' },
      list: { type: 'boolean' },
      format: { type: 'string', default: 'text' },
      out: { type: 'string' },
      'sync-timeout': { type: 'number', min: 30, max: 7200, unit: 'seconds', default: 900 },
      'rollout-timeout': { type: 'number', min: 30, max: 3600, unit: 'seconds', default: 600 },
      poll: { type: 'number', min: 1, max: 60, unit: 'seconds', default: 5 },
    },
    positionals: [0, 0],
    examples: ['zx scripts/e2e.ts --list', 'zx scripts/e2e.ts', 'zx scripts/e2e.ts --keep --format markdown --out e2e-report.md', 'zx scripts/e2e.ts --context kind-scratch'],
  },
  import.meta.url,
  async ({ values }, io) => {
    const format = values.format ?? 'text';
    if (!['text', 'markdown', 'json'].includes(format)) throw new UsageError(`--format must be text, markdown or json, got ${JSON.stringify(format)}`);
    const create = values.create;
    if (create !== undefined && create !== 'kind' && create !== 'k3d') throw new UsageError(`--create must be kind or k3d, got ${JSON.stringify(create)}`);
    if (create !== undefined && values.context !== undefined) throw new UsageError('--create and --context exclude each other: e2e either creates its cluster or uses yours');
    const { findRepoRoot } = await import('./lib/core/cli.ts');
    const root = findRepoRoot();
    if (values.list) {
      const { describeE2e } = await import('./lib/cluster/e2e/index.ts');
      io.out(describeE2e(root));
      return 0;
    }
    const [{ writeFileSync }, { setTimeout: sleep }, e2e, { processHost }, { createKube, loadKubeConfig }] = await Promise.all([
      import('node:fs'), import('node:timers/promises'), import('./lib/cluster/e2e/index.ts'), import('./lib/cluster/e2e/host.ts'), import('./lib/cluster/kube/client.ts'),
    ]);
    const report = await e2e.runE2e(
      {
        root,
        ...(values.context !== undefined ? { context: values.context } : {}),
        ...(create !== undefined ? { create } : {}),
        keep: values.keep === true,
        syncTimeoutMs: values['sync-timeout']! * 1000,
        rolloutTimeoutMs: values['rollout-timeout']! * 1000,
        pollMs: values.poll! * 1000,
      },
      {
        host: processHost,
        kubeFor: (context) => createKube(loadKubeConfig(context), { timeoutMs: 30_000 }),
        fetch: (url, init) => fetch(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(15_000) }),
        clock: { now: () => Date.now(), sleep: (ms) => sleep(ms) },
        progress: (line) => io.err(line),
      },
    );
    const text = format === 'json' ? e2e.formatReportJson(report) : format === 'markdown' ? e2e.formatReportMarkdown(report) : e2e.formatReportText(report);
    if (values.out !== undefined) writeFileSync(values.out, text);
    io.out(text);
    return report.ok ? 0 : 1;
  },
);
