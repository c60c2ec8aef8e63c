#!/usr/bin/env zx
// zx scripts/diff.ts [--base <ref>] [--head <ref>] [--format text|markdown|json|html] [--out <file>] [--exit-code]
// zx scripts/diff.ts --live <env> [--context <ctx>] [--format …] [--exit-code]
// What a change does to the rendered manifests of every environment it reaches, or (--live) how the
// working tree's rendered manifests differ from what is running in the cluster.
import { findRepoRoot, runCli } from './lib/core/cli.ts';
import type { CliSpec, ParsedArgs } from './lib/core/cli.ts';
import { FindingsError, UsageError } from './lib/core/errors.ts';
import { locateKustomize } from './lib/render/kustomize.ts';
import { renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DiffFormat, DiffReport } from './lib/review/diff/format.ts';
import { COLOR_HELP, COLOR_OPTION, parseColorChoice, progressLine, shouldColor } from './lib/core/term.ts';
import type { reviewChanges } from './lib/review/diff/review.ts';
import type { RefsSource } from './lib/review/diff/start.ts';
// Start-up: `--help` and argument errors load only the modules above (node built-ins, the CLI edge,
// the terminal helpers); generate's checks, the review core, YAML and the formats are imported below,
// on the paths that need them (bench/README.md, "Start-up").

const FORMATS: readonly DiffFormat[] = ['text', 'markdown', 'json', 'html'];

// Two sources share formatting and the exit code: two git states, or (--live) the cluster.
const options = {
  live: { type: 'string' },
  context: { type: 'string' },
  base: { type: 'string' },
  head: { type: 'string' },
  format: { type: 'string', default: 'text' },
  out: { type: 'string' },
  'source-url': { type: 'string' },
  'page-url': { type: 'string' },
  ...COLOR_OPTION,
  'exit-code': { type: 'boolean' },
} as const;

const spec: CliSpec<typeof options> = {
  name: 'diff',
  synopsis: '[--base <ref>] [--head <ref>] | --live <env> [--context <ctx>]  [--format text|markdown|json|html] [--out <file>] [--exit-code]',
  description:
    'Renders the environments the changed files reach at the base and the head (from temporary git worktrees; ' +
    'your working tree is never modified) and shows, per environment and resource, what will change. Secret ' +
    'values are masked. Every format opens with a summary per environment (image tags, config keys, replicas, ' +
    'resources, MongoDB, sync policy, objects added/removed, workloads that roll) pointing at the env.yaml/.env line ' +
    'it comes from. Markdown is split into several comments past GitHub\'s 65,536-character limit, ' +
    'separated by "<!-- gitops-render-diff:next-comment -->" lines; html is one self-contained page.',
  optionHelp: [
    '--base <ref>     compare against this commit (default: origin/main if it exists, else HEAD)',
    '--head <ref>     the changed commit (default: the working tree, including uncommitted and untracked files)',
    '--live <env>     compare the working tree\'s render of <env> with the live cluster (server-side dry-run apply)',
    '--context <ctx>  kubeconfig context for --live (default: clusters.<the env\'s cluster>.context in gitops.yaml, else the current context)',
    '--format <f>     text (default), markdown (pull-request comments), json, or html (a self-contained page)',
    '--out <file>     write the output to <file> (atomically) instead of stdout',
    '--source-url <u> link sources as <u>/<path>#L<line> (e.g. https://github.com/o/r/blob/<head sha>)',
    '--page-url <u>   markdown: link the HTML page of the same diff (e.g. the workflow artifact\'s URL)',
    COLOR_HELP,
    '--exit-code      exit 1 when there is a difference',
  ],
  options,
  positionals: [0, 0],
  examples: ['zx scripts/diff.ts', 'zx scripts/diff.ts --format html --out review.html', 'zx scripts/diff.ts --live staging --exit-code', 'zx scripts/diff.ts --base HEAD~1 --format markdown', 'zx scripts/diff.ts --base origin/main --head HEAD --exit-code'],
};

async function sourceOf(root: string, values: ParsedArgs<typeof options>['values']): Promise<RefsSource> {
  const { defaultBase } = await import('./lib/review/diff/git.ts');
  return { kind: 'refs', base: values.base ?? (await defaultBase(root)), head: values.head };
}

// The Kubernetes client takes most of a second to load: only --live pays for it.
async function liveReport(root: string, env: string, context: string | undefined, kustomize: Awaited<ReturnType<typeof locateKustomize>>, warn: (line: string) => void) {
  const [{ createKube, loadKubeConfig }, { liveDiffReport }, { liveDiffContext }] = await Promise.all([import('./lib/cluster/kube/client.ts'), import('./lib/cluster/live-diff.ts'), import('./lib/cluster/context.ts')]);
  // The environment's own cluster (docs/clusters.md): --context, else clusters.<its cluster>.context.
  return liveDiffReport({ root, env, kube: createKube(loadKubeConfig(liveDiffContext(root, env, context))), kustomize, warn });
}

/** The findings `validate` reports on the head renders, for the page; loads the schemas only here. */
async function checkHead(root: string, head: Parameters<NonNullable<Parameters<typeof reviewChanges>[0]['check']>>[1]) {
  const [{ createSchemaRegistry }, { validateEnvironments }] = await Promise.all([import('./lib/review/validate/schema.ts'), import('./lib/review/validate/validate.ts')]);
  return validateEnvironments(root, head, await createSchemaRegistry());
}

let formatModule: Promise<typeof import('./lib/review/diff/format.ts')> | undefined;

async function output(report: DiffReport, format: DiffFormat, values: ParsedArgs<typeof options>['values'], color: boolean): Promise<string> {
  const sourceUrl = values['source-url'];
  if (format !== 'html') {
    const { formatReport } = await (formatModule ?? import('./lib/review/diff/format.ts'));
    const pageUrl = values['page-url'];
    return formatReport(report, format, undefined, { color, ...(sourceUrl ? { sourceUrl } : {}), ...(pageUrl ? { pageUrl } : {}) });
  }
  const { formatHtml } = await import('./lib/review/diff/html.ts');
  return formatHtml(report, sourceUrl ? { sourceUrl } : {});
}

/** --out: the directory must exist; the file is replaced atomically (temporary file + rename). */
function outFile(path: string): string {
  const abs = resolve(path);
  let dir;
  try {
    dir = statSync(dirname(abs));
  } catch {
    dir = undefined;
  }
  if (!dir?.isDirectory()) throw new UsageError(`--out ${path}: the directory ${dirname(abs)} does not exist (create it first)`);
  return abs;
}

await runCli(spec, import.meta.url, async ({ values }, io) => {
  const format = (values.format ?? 'text') as DiffFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  const root = findRepoRoot(process.cwd(), { plainKustomize: true });
  if (values.live !== undefined && (values.base !== undefined || values.head !== undefined)) {
    throw new UsageError('--live compares the working tree with the cluster; it cannot be combined with --base or --head');
  }
  if (values.context !== undefined && values.live === undefined) throw new UsageError('--context goes with --live');
  // Links on the page and in comments: absolute http(s) URLs only (issue 30: `javascript:` became an href).
  const { httpUrlOption } = await import('./lib/review/diff/links.ts');
  httpUrlOption('--source-url', values['source-url']);
  httpUrlOption('--page-url', values['page-url']);
  if (values.live !== undefined) (await import('./lib/inputs/index.ts')).envArgument(root, values.live, { mustExist: true, option: '--live' });
  // The review's git reads start first (resolving the refs, then the changed files, the headers and the
  // trees, all at once), and run while the remembered check is looked up and the review's modules load.
  // A ref that names no commit is reported by the review below, after the check, as before.
  const start = values.live === undefined ? await import('./lib/review/diff/start.ts') : undefined;
  const cacheDir = join(root, (await import('./lib/render/cache-key.ts')).RENDER_CACHE_DIR);
  const early = start ? await sourceOf(root, values).then((source) => start.startReview(root, source, cacheDir)).catch(() => undefined) : undefined;
  // Kustomize is located now too (a missing one is reported after the check, as before), and the working
  // tree's overlays the change touches start building: the build is most of a small review's time.
  const located = locateKustomize().then((tool) => ({ tool }), (error: unknown) => ({ tool: undefined, error }));
  const headStart = start && early ? await located.then(({ tool }) => tool && start.startHeadBuilds(root, early, tool, cacheDir)) : undefined;
  // A tree exactly as a passing check left it (scripts/lib/render/check-cache.ts) needs neither settling
  // nor the check again: generate's modules are then not even loaded.
  const { checkRepositoryCached, rememberedCheck } = await import('./lib/render/check-cache.ts');
  // What git and Kustomize read before this point stays good unless settling changed the tree (or waited
  // for a writer that may have).
  let unchanged = rememberedCheck(root) !== undefined;
  if (!unchanged) {
    const { checkRepository, holdsGeneratorInputs, settleRepository, staleMessage } = await import('./lib/generate/commands.ts');
    unchanged = await settleRepository(root, 'diff', io.err);
    // The working tree is a side of the diff unless --head names a commit: it must pass generate's
    // input checks and its generated files must match its inputs, or the diff would hide the change.
    if (values.head === undefined && holdsGeneratorInputs(root)) {
      const { drift } = await checkRepositoryCached(root, checkRepository);
      if (drift.length > 0) throw new FindingsError(staleMessage('diff', drift));
    }
  }
  const colorChoice = parseColorChoice(values.color);
  const out = values.out !== undefined ? outFile(values.out) : undefined;
  const found = await located;
  if (!found.tool) throw found.error;
  const kustomize = unchanged && headStart ? headStart : found.tool;
  const progress = progressLine(process.stderr, (done, total) => `rendering ${done}/${total} environment builds…`);
  // The formatter's modules load while git and Kustomize run (a promise, awaited in `output`).
  if (format !== 'html') (formatModule = import('./lib/review/diff/format.ts')).catch(() => undefined);
  let report: DiffReport;
  try {
    report = values.live !== undefined
      ? await liveReport(root, values.live, values.context, kustomize, io.err)
      : await (await import('./lib/review/diff/review.ts')).reviewChanges({
        root, source: early && unchanged ? early.source : await sourceOf(root, values), kustomize, onProgress: progress.update,
        ...(early && unchanged ? { started: early } : {}), ...(format === 'html' ? { check: checkHead } : {}),
      });
  } finally {
    progress.end();
  }
  let text = await output(report, format, values, out === undefined && shouldColor(colorChoice, process.stdout));
  // The working tree's first-sync plan as a collapsed section (scripts/lib/review/plan, docs/sync.md).
  if ((format === 'markdown' || format === 'html') && values.live === undefined) text = await (await import('./lib/review/plan/review.ts')).withSyncPlan(text, format, root, kustomize, values.head, report.reached);
  if (out !== undefined) {
    const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, out);
    io.err(`diff: wrote ${values.out} (${report.envs.length} environment(s) changed)`);
  } else {
    io.out(text);
  }
  return values['exit-code'] && report.envs.length > 0 ? 1 : 0;
});
