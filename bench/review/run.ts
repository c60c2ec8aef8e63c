// Review performance as a user meets it (issue 18): whole CLI processes (`zx scripts/diff.ts …`,
// `render.ts`, `validate.ts`, `generate.ts`), side by side in one run with `node -e 0`, one
// `kubectl kustomize`, the naive sequential loop of `kubectl kustomize` and the same loop under
// `xargs -P2`, at 100 and 300 environments. Each repository is a copy of this one scaled with new-env's
// own scaffolding (test/review/scaled-repo.ts) in a temporary directory. Every row is run several
// rounds, interleaved (round 1 of every row, then round 2…), so a change in the machine's load touches
// all rows alike; min and median are reported, with `uptime` before and after each size.
//
// Run: node bench/review/run.ts [--sizes 100,300] [--rounds 5] [--heavy-rounds 3] [--write]
// (--write replaces the "after" table of the Review section of bench/README.md, under
// `flock /tmp/bench-readme.lock`, since several benchmarks share that file)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRepoCopy } from '../../test/review/repo-copy.ts';
import { addEnvironments } from '../../test/review/scaled-repo.ts';

const REPO = resolve(import.meta.dirname, '../..');
const ZX = join(REPO, 'node_modules/.bin/zx');
const script = (name: string): string => join(REPO, 'scripts', `${name}.ts`);

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,300' },
    rounds: { type: 'string', default: '5' },
    'heavy-rounds': { type: 'string', default: '3' },
    write: { type: 'boolean' },
  },
});
const sizes = values.sizes!.split(',').map(Number);
const rounds = Number(values.rounds);
const heavyRounds = Number(values['heavy-rounds']);

interface Row {
  id: string;
  label: string;
  /** Rows run fewer rounds (each costs tens of seconds at 300). */
  heavy?: boolean;
  /** Runs before each timed run (untimed): e.g. emptying the render cache. */
  prepare?: () => void;
  /** Runs after each timed run (untimed): e.g. putting the warm cache back. */
  restore?: () => void;
  /** The command; must exit 0 (or `ok` codes). */
  argv: string[];
  shell?: boolean;
  ok?: number[];
}

function uptime(): string {
  return execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average/, 'load average');
}

function timeOnce(row: Row, cwd: string): number {
  row.prepare?.();
  const start = process.hrtime.bigint();
  const r = row.shell
    ? spawnSync('sh', ['-c', row.argv[0]!], { cwd, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 })
    : spawnSync(row.argv[0]!, row.argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  row.restore?.();
  if (!(row.ok ?? [0]).includes(r.status ?? -1)) throw new Error(`${row.label} exited ${r.status}: ${r.stderr?.toString().slice(0, 2000)}`);
  return ms;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;
const seconds = (ms: number): string => (ms / 1000).toFixed(2);

interface SizeResult {
  size: number;
  before: string;
  after: string;
  times: Map<string, number[]>;
}

function measure(size: number): SizeResult {
  const copy = createRepoCopy();
  try {
    const root = copy.root;
    const overlays = (): string[] => copy.git('ls-tree', '--name-only', 'HEAD', 'overlays/').split('\n').filter(Boolean).map((p) => p.slice('overlays/'.length));
    const existing = overlays().length;
    const names = Array.from({ length: size - existing }, (_, i) => `env-${String(i).padStart(3, '0')}`);
    addEnvironments(copy, names);
    copy.commit(`scaled to ${size} environments`);
    // The one-environment change the diff rows review: a .env value of one environment, committed.
    const changed = names.includes('env-042') ? 'env-042' : names.at(-1)!;
    copy.edit(`overlays/${changed}/.env`, /^LOG_LEVEL=.*$/m, 'LOG_LEVEL=debug');
    copy.commit(`${changed}: LOG_LEVEL=debug`);
    const envs = overlays();
    if (envs.length !== size) throw new Error(`expected ${size} environments, found ${envs.length}`);
    // The loops' list of environments, outside the repository (an untracked file would be a change to diff).
    const list = join(tmpdir(), `bench-review-envs-${process.pid}`);
    writeFileSync(list, envs.map((e) => `${e}\n`).join(''));
    const renderCache = join(root, '.cache/render');
    const coldRender = (): void => rmSync(renderCache, { recursive: true, force: true });
    // The one-environment diff with an empty render cache, without losing the warm cache of the other rows.
    const saved = `${renderCache}.saved`;
    const setAside = (): void => {
      rmSync(saved, { recursive: true, force: true });
      if (existsSync(renderCache)) renameSync(renderCache, saved);
    };
    const putBack = (): void => {
      rmSync(renderCache, { recursive: true, force: true });
      if (existsSync(saved)) renameSync(saved, renderCache);
    };
    const zx = (name: string, ...args: string[]): string[] => [ZX, script(name), ...args];
    const rows: Row[] = [
      { id: 'node', label: '`node -e 0`', argv: [process.execPath, '-e', '0'] },
      { id: 'zx', label: '`zx` start-up (`zx --version`)', argv: [ZX, '--version'] },
      { id: 'kustomize', label: 'one `kubectl kustomize`', argv: ['kubectl', 'kustomize', `overlays/${names[0]}`] },
      { id: 'diff-cold', label: '`diff --base HEAD~1`, one-environment `.env` change, render cache empty', prepare: setAside, restore: putBack, argv: zx('diff', '--base', 'HEAD~1') },
      { id: 'diff-warm', label: 'same, render cache warm', argv: zx('diff', '--base', 'HEAD~1') },
      { id: 'diff-none', label: '`diff --base HEAD`, no change at all', argv: zx('diff', '--base', 'HEAD') },
      { id: 'render-warm', label: '`render` warm, nothing changed', argv: zx('render') },
      { id: 'validate-warm', label: '`validate` all, warm', argv: zx('validate'), ok: [0, 1] },
      { id: 'generate', label: '`generate`', argv: zx('generate') },
      { id: 'generate-check', label: '`generate --check`', argv: zx('generate', '--check') },
      { id: 'render-cold', label: '`render` cold, all environments', heavy: true, prepare: coldRender, argv: zx('render') },
      { id: 'naive', label: 'naive sequential loop of `kubectl kustomize`', heavy: true, shell: true, argv: [`while read e; do kubectl kustomize "overlays/$e"; done < ${list} > /dev/null`] },
      { id: 'xargs', label: 'naive `xargs -P2 kubectl kustomize`', heavy: true, shell: true, argv: [`sed "s|^|overlays/|" ${list} | xargs -P2 -n1 kubectl kustomize > /dev/null`] },
    ];
    // Warm-up, untimed: every cache a user's second run finds (compile cache, kubectl's version, renders,
    // generate's checks, validate's findings), and the page cache.
    for (const row of rows.filter((r) => !r.heavy)) timeOnce(row, root);
    const times = new Map<string, number[]>(rows.map((r) => [r.id, []]));
    const before = uptime();
    process.stderr.write(`${size} environments, ${before}\n`);
    for (let round = 0; round < Math.max(rounds, heavyRounds); round++) {
      for (const row of rows) {
        if (round >= (row.heavy ? heavyRounds : rounds)) continue;
        const ms = timeOnce(row, root);
        times.get(row.id)!.push(ms);
        process.stderr.write(`  ${size} ${row.id} round ${round + 1}: ${seconds(ms)} s\n`);
      }
      // The warm rows after a cold render must find the cache warm again.
      timeOnce(rows.find((r) => r.id === 'render-warm')!, root);
    }
    rmSync(list, { force: true });
    return { size, before, after: uptime(), times };
  } finally {
    copy.cleanup();
  }
}

const results = sizes.map(measure);
const cell = (r: SizeResult, id: string): string => {
  const t = r.times.get(id)!;
  return `${seconds(Math.min(...t))} / ${seconds(median(t))}`;
};
const ratio = (r: SizeResult, id: string, base: string): string => `${(Math.min(...r.times.get(id)!) / Math.min(...r.times.get(base)!)).toFixed(1)}×`;
const labels: Array<[string, string]> = [
  ['node', '`node -e 0`'],
  ['zx', '`zx --version` (the wrapper every `zx scripts/…` starts)'],
  ['kustomize', 'one `kubectl kustomize` (CLI process)'],
  ['diff-cold', '`diff --base HEAD~1`, one-environment `.env` change, render cache empty'],
  ['diff-warm', 'same, render cache warm'],
  ['diff-none', '`diff --base HEAD`, no change at all'],
  ['render-cold', '`render` cold, all environments'],
  ['naive', 'naive sequential loop of `kubectl kustomize`'],
  ['xargs', 'naive `xargs -P2`'],
  ['render-warm', '`render` warm, nothing changed'],
  ['validate-warm', '`validate` all, warm'],
  ['generate', '`generate`'],
  ['generate-check', '`generate --check`'],
];
const header = `| command (CLI process, wall s, min / median) | ${results.map((r) => `${r.size} envs`).join(' | ')} | ${results.map((r) => `ratio at ${r.size}`).join(' | ')} |`;
const lines = [
  header,
  `|---|${results.map(() => '---:').join('|')}|${results.map(() => '---:').join('|')}|`,
  ...labels.map(([id, label]) => {
    const base = id.startsWith('diff') ? 'kustomize' : id === 'render-cold' || id === 'xargs' ? 'naive' : id === 'node' || id === 'naive' ? undefined : 'node';
    const note = base === 'kustomize' ? 'of one build' : base === 'naive' ? 'of the loop' : 'of `node -e 0`';
    return `| ${label} | ${results.map((r) => cell(r, id)).join(' | ')} | ${results.map((r) => (base === undefined ? '' : `${ratio(r, id, base)} ${note}`)).join(' | ')} |`;
  }),
];
const table = [
  `\`node bench/review/run.ts --write\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, on ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}. ` +
    `${rounds} rounds (${heavyRounds} for the cold render and the two loops), interleaved; ratios compare minimums.`,
  ...results.map((r) => `- ${r.size} environments: ${r.before} before, ${r.after} after.`),
  '',
  ...lines,
].join('\n');
process.stdout.write(`${table}\n`);

if (values.write) {
  // The README is shared: replace only the text between our markers, holding the benchmarks' lock.
  const update = `
    const fs = require('node:fs');
    const file = process.argv[1];
    const text = fs.readFileSync(file, 'utf8');
    const start = '<!-- review-after:start -->', end = '<!-- review-after:end -->';
    const i = text.indexOf(start), j = text.indexOf(end);
    if (i === -1 || j === -1) { console.error('bench/README.md has no review-after markers'); process.exit(1); }
    fs.writeFileSync(file, text.slice(0, i + start.length) + '\\n' + process.env.REVIEW_TABLE.trimEnd() + '\\n' + text.slice(j));`;
  const r = spawnSync('flock', ['/tmp/bench-readme.lock', process.execPath, '-e', update, join(REPO, 'bench/README.md')], {
    env: { ...process.env, REVIEW_TABLE: table },
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('could not update bench/README.md');
}
