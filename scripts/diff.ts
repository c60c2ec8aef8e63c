#!/usr/bin/env zx
// zx scripts/diff.ts [--base <ref>] [--head <ref>] [--format text|markdown|json] [--exit-code]
// What a change does to the rendered manifests of every environment it reaches.
import { runCli } from './lib/cli.ts';
import type { CliSpec, ParsedArgs } from './lib/cli.ts';
import { UsageError } from './lib/errors.ts';
import { locateKustomize } from './lib/kustomize.ts';
import { formatReport } from './lib/diff/format.ts';
import type { DiffFormat } from './lib/diff/format.ts';
import { defaultBase } from './lib/diff/git.ts';
import { reviewChanges } from './lib/diff/review.ts';
import type { RefsSource } from './lib/diff/review.ts';

const FORMATS: readonly DiffFormat[] = ['text', 'markdown', 'json'];

// Another source (e.g. `--live <env>`: rendered vs the cluster) adds its option here and a branch in
// `sourceOf`; formatting and the exit code are shared.
const options = {
  base: { type: 'string' },
  head: { type: 'string' },
  format: { type: 'string', default: 'text' },
  'exit-code': { type: 'boolean' },
} as const;

const spec: CliSpec<typeof options> = {
  name: 'diff',
  synopsis: '[--base <ref>] [--head <ref>] [--format text|markdown|json] [--exit-code]',
  description:
    'Renders the environments the changed files reach at the base and the head (from temporary git worktrees; ' +
    'your working tree is never modified) and shows, per environment and resource, what will change. Secret ' +
    'values are masked. Markdown is split into several comments past GitHub\'s 65,536-character limit, ' +
    'separated by "<!-- gitops-render-diff:next-comment -->" lines.',
  optionHelp: [
    '--base <ref>     compare against this commit (default: origin/main if it exists, else HEAD)',
    '--head <ref>     the changed commit (default: the working tree, including uncommitted and untracked files)',
    '--format <f>     text (default), markdown (pull-request comments) or json',
    '--exit-code      exit 1 when there is a difference',
  ],
  options,
  positionals: [0, 0],
  examples: ['zx scripts/diff.ts', 'zx scripts/diff.ts --base HEAD~1 --format markdown', 'zx scripts/diff.ts --base origin/main --head HEAD --exit-code'],
};

async function sourceOf(root: string, values: ParsedArgs<typeof options>['values']): Promise<RefsSource> {
  return { kind: 'refs', base: values.base ?? (await defaultBase(root)), head: values.head };
}

await runCli(spec, import.meta.url, async ({ values }, io) => {
  const format = (values.format ?? 'text') as DiffFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  const root = process.cwd();
  const source = await sourceOf(root, values);
  const kustomize = await locateKustomize();
  const report = await reviewChanges({ root, source, kustomize });
  io.out(formatReport(report, format));
  return values['exit-code'] && report.envs.length > 0 ? 1 : 0;
});
