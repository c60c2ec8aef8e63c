#!/usr/bin/env zx
// zx scripts/plan.ts [env…] [--format text|markdown|html|json]: the first sync from an empty cluster, offline.
import { runCli } from './lib/core/cli.ts';
import type { CliSpec } from './lib/core/cli.ts';
import { UsageError } from './lib/core/errors.ts';
import { locateKustomize } from './lib/render/kustomize.ts';
import { progressLine } from './lib/core/term.ts';

const options = { format: { type: 'string', default: 'text' } } as const;

const spec: CliSpec<typeof options> = {
  name: 'plan',
  synopsis: '[env…] [--format text|markdown|html|json]',
  description:
    'What a first sync from an empty cluster does, in Argo CD v3.5.1\'s order: the root, then its Applications by wave, and inside each ' +
    'Application phase (PreSync/Sync/PostSync hooks) → wave → kind, with what each step waits for (docs/sync.md). Naming environments plans ' +
    'the platform and only those (a new environment; pr-<n> plans the sample preview). Exit 1 when the sync cannot finish (a stall: a ' +
    'project refusal, a CRD or Secret no earlier step provides, a hook needing an image not yet there).',
  optionHelp: ['--format <f>  text (default), markdown (a collapsed <details> section), html (a fragment), or json'],
  options,
  positionals: [0, Number.POSITIVE_INFINITY],
  examples: ['zx scripts/plan.ts', 'zx scripts/plan.ts staging --format markdown'],
};

await runCli(spec, import.meta.url, async ({ values, positionals }, io) => {
  const [{ PLAN_FORMATS, formatPlan }, { planRepository }, { listEnvironments }, { fsTree }] = await Promise.all([import('./lib/review/plan/format.ts'), import('./lib/review/plan/index.ts'), import('./lib/render/inputs.ts'), import('./lib/render/tree.ts')]);
  const format = values.format ?? 'text';
  if (!(PLAN_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${PLAN_FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  const { findRepoRoot } = await import('./lib/core/cli.ts');
  const root = findRepoRoot();
  const known = listEnvironments(fsTree(root));
  const unknown = positionals.filter((e) => !known.includes(e));
  if (unknown.length > 0) throw new UsageError(`unknown environment${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${known.join(', ') || '(none)'}`);
  const kustomize = await locateKustomize();
  const progress = progressLine(process.stderr, (done, total) => `rendering ${done}/${total} environments…`);
  const plan = await planRepository(root, { ...(positionals.length > 0 ? { envs: positionals } : {}), kustomize }).finally(progress.end);
  io.out(formatPlan(plan, format as Parameters<typeof formatPlan>[1]).trimEnd());
  return plan.finishes ? 0 : 1;
});
