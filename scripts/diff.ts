#!/usr/bin/env zx
// zx scripts/diff.ts [--base <ref>] [--head <ref>] [--format text|markdown|json] [--exit-code]
// zx scripts/diff.ts --live <env> [--context <ctx>] [--format …] [--exit-code]
// What a change does to the rendered manifests of every environment it reaches, or (--live) how the
// working tree's rendered manifests differ from what is running in the cluster.
import { runCli } from './lib/cli.ts';
import type { CliSpec, ParsedArgs } from './lib/cli.ts';
import { FindingsError, UsageError } from './lib/errors.ts';
import { checkRepository, settleRepository, staleMessage } from './lib/generate/commands.ts';
import { envArgument } from './lib/repo-inputs.ts';
import { locateKustomize } from './lib/kustomize.ts';
import { formatReport } from './lib/diff/format.ts';
import type { DiffFormat } from './lib/diff/format.ts';
import { defaultBase } from './lib/diff/git.ts';
import { reviewChanges } from './lib/diff/review.ts';
import type { RefsSource } from './lib/diff/review.ts';

const FORMATS: readonly DiffFormat[] = ['text', 'markdown', 'json'];

// Two sources share formatting and the exit code: two git states, or (--live) the cluster.
const options = {
  live: { type: 'string' },
  context: { type: 'string' },
  base: { type: 'string' },
  head: { type: 'string' },
  format: { type: 'string', default: 'text' },
  'exit-code': { type: 'boolean' },
} as const;

const spec: CliSpec<typeof options> = {
  name: 'diff',
  synopsis: '[--base <ref>] [--head <ref>] | --live <env> [--context <ctx>]  [--format text|markdown|json] [--exit-code]',
  description:
    'Renders the environments the changed files reach at the base and the head (from temporary git worktrees; ' +
    'your working tree is never modified) and shows, per environment and resource, what will change. Secret ' +
    'values are masked. Markdown is split into several comments past GitHub\'s 65,536-character limit, ' +
    'separated by "<!-- gitops-render-diff:next-comment -->" lines.',
  optionHelp: [
    '--base <ref>     compare against this commit (default: origin/main if it exists, else HEAD)',
    '--head <ref>     the changed commit (default: the working tree, including uncommitted and untracked files)',
    '--live <env>     compare the working tree\'s render of <env> with the live cluster (server-side dry-run apply)',
    '--context <ctx>  kubeconfig context for --live (default: the current context)',
    '--format <f>     text (default), markdown (pull-request comments) or json',
    '--exit-code      exit 1 when there is a difference',
  ],
  options,
  positionals: [0, 0],
  examples: ['zx scripts/diff.ts', 'zx scripts/diff.ts --live staging --exit-code', 'zx scripts/diff.ts --base HEAD~1 --format markdown', 'zx scripts/diff.ts --base origin/main --head HEAD --exit-code'],
};

async function sourceOf(root: string, values: ParsedArgs<typeof options>['values']): Promise<RefsSource> {
  return { kind: 'refs', base: values.base ?? (await defaultBase(root)), head: values.head };
}

// The Kubernetes client takes most of a second to load: only --live pays for it.
async function liveReport(root: string, env: string, context: string | undefined, kustomize: Awaited<ReturnType<typeof locateKustomize>>) {
  const [{ createKube, loadKubeConfig }, { liveDiffReport }] = await Promise.all([import('./lib/kube/client.ts'), import('./lib/live-diff/index.ts')]);
  return liveDiffReport({ root, env, kube: createKube(loadKubeConfig(context)), kustomize });
}

await runCli(spec, import.meta.url, async ({ values }, io) => {
  const format = (values.format ?? 'text') as DiffFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  const root = process.cwd();
  if (values.live !== undefined && (values.base !== undefined || values.head !== undefined)) {
    throw new UsageError('--live compares the working tree with the cluster; it cannot be combined with --base or --head');
  }
  if (values.context !== undefined && values.live === undefined) throw new UsageError('--context goes with --live');
  if (values.live !== undefined) envArgument(root, values.live, { mustExist: true, option: '--live' });
  await settleRepository(root, 'diff', io.err);
  // The working tree is a side of the diff unless --head names a commit: it must pass generate's
  // input checks and its generated files must match its inputs, or the diff would hide the change.
  if (values.head === undefined) {
    const { drift } = await checkRepository(root);
    if (drift.length > 0) throw new FindingsError(staleMessage('diff', drift));
  }
  const kustomize = await locateKustomize();
  const report = values.live !== undefined ? await liveReport(root, values.live, values.context, kustomize) : await reviewChanges({ root, source: await sourceOf(root, values), kustomize });
  io.out(formatReport(report, format));
  return values['exit-code'] && report.envs.length > 0 ? 1 : 0;
});
