// Review performance as a user meets it (issue 18): whole CLI processes (`zx scripts/diff.ts …`,
// `render.ts`, `validate.ts`, `generate.ts`), side by side in one run with `node -e 0`, one
// `kubectl kustomize`, the naive sequential loop of `kubectl kustomize` and the same loop under
// `xargs -P2`, at 100 and 300 environments. Each repository is a copy of this one scaled with new-env's
// own scaffolding (test/review/scaled-repo.ts) in a temporary directory. Every row is run several
// rounds, interleaved (round 1 of every row, then round 2…), so a change in the machine's load touches
// all rows alike; min and median are reported, with `uptime` before and after each size.
//
// Besides wall time, each run's CPU time (user + system of the process and its children) and peak RSS
// are read from GNU time (/usr/bin/time): on a shared machine CPU time moves far less with the load.
// Issue 24's ratios: a one-environment diff against one `kubectl kustomize` with the render cache empty
// (≤ 2×), with only the base revision's render cached (a PR's second push, ≤ 1.3×) and fully warm; and the
// growth of every command from 300 to 1000 environments (≤ 3.5×).
//
// Run: node bench/review/run.ts [--sizes 100,300,1000] [--rounds 5] [--heavy-rounds 3] [--loops-up-to 300] [--write]
// (--write replaces the "after" table of the Review section of bench/README.md, under
// `flock /tmp/bench-readme.lock`, since several benchmarks share that file)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRepoCopy } from '../../test/review/repo-copy.ts';
import { addEnvironments } from '../../test/review/scaled-repo.ts';

const REPO = resolve(import.meta.dirname, '../..');
const ZX = join(REPO, 'node_modules/.bin/zx');

/**
 * The toolkit measured: this repository's committed HEAD, extracted to a temporary directory (with
 * node_modules linked), so edits made in the working tree while the benchmark runs change nothing in it.
 */
function snapshotToolkit(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-review-toolkit-'));
  const archive = execFileSync('git', ['archive', '--format=tar', 'HEAD', '--', 'scripts', 'apps/users-api/src', 'schemas', 'package.json', 'package-lock.json'], { cwd: REPO, maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
const TOOLKIT = measuresNothing() ? '' : snapshotToolkit();
function measuresNothing(): boolean {
  return process.argv.some((a) => a === '--from' || a.startsWith('--from='));
}
/**
 * The fast spelling the README and the PR workflow use: `node scripts/<x>.ts` with Node's compile cache
 * in the environment, so even the entry module's TypeScript is not stripped again (zx costs its own
 * start-up before the script runs; `enableCompileCache()` in the script comes after the entry is compiled).
 */
const COMPILE_CACHE = join(tmpdir(), `bench-review-compile-cache-${process.pid}`);
const HEAD = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
const script = (name: string): string => join(TOOLKIT, 'scripts', `${name}.ts`);

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,300,1000' },
    rounds: { type: 'string', default: '5' },
    'heavy-rounds': { type: 'string', default: '3' },
    // The naive loops cost minutes at 1000 environments and are only the cold render's yardstick.
    'loops-up-to': { type: 'string', default: '300' },
    write: { type: 'boolean' },
    // Sizes measured in separate processes (e.g. one per size, side by side) are put into one table:
    // `--save r.json` writes a run's samples, `--from a.json,b.json` reads them and measures nothing.
    save: { type: 'string' },
    repos: { type: 'string' },
    // Only these row ids (e.g. `kustomize,diff-cold,diff-base,diff-warm`): on a loaded machine.
    rows: { type: 'string' },
    from: { type: 'string' },
  },
});
const sizes = values.sizes!.split(',').map(Number);
const rounds = Number(values.rounds);
const heavyRounds = Number(values['heavy-rounds']);
const loopsUpTo = Number(values['loops-up-to']);

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
  env?: NodeJS.ProcessEnv;
  ok?: number[];
}

function uptime(): string {
  return execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average/, 'load average');
}

interface Sample {
  /** Wall ms. */
  wall: number;
  /** User + system CPU ms of the command and its children. */
  cpu: number;
  /** Peak resident set of the largest process, KB. */
  rssKb: number;
}

const TIME_OUT = join(tmpdir(), `bench-review-time-${process.pid}`);

function timeOnce(row: Row, cwd: string): Sample {
  row.prepare?.();
  const argv = row.shell ? ['sh', '-c', row.argv[0]!] : row.argv;
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', TIME_OUT, ...argv], { cwd, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30, ...(row.env ? { env: row.env } : {}) });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  row.restore?.();
  if (!(row.ok ?? [0]).includes(r.status ?? -1)) throw new Error(`${row.label} exited ${r.status}: ${r.stderr?.toString().slice(0, 2000)}`);
  const [user, system, rss] = readFileSync(TIME_OUT, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: (user! + system!) * 1000, rssKb: rss! };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;
const seconds = (ms: number): string => (ms / 1000).toFixed(2);

interface SizeResult {
  size: number;
  /** The measured toolkit's commit. */
  toolkit: string;
  before: string;
  after: string;
  times: Map<string, Sample[]>;
}

/** `--repos 300=/tmp/r300,…`: repositories a previous run (or the same recipe) scaled, reused as they are. */
const givenRepos = new Map((values.repos ?? '').split(',').filter(Boolean).map((kv) => [Number(kv.split('=')[0]), kv.slice(kv.indexOf('=') + 1)] as const));
const onlyRows = values.rows ? new Set(values.rows.split(',')) : undefined;

function measure(size: number): SizeResult {
  const given = givenRepos.get(size);
  const copy = given === undefined ? createRepoCopy() : undefined;
  try {
    const root = given ?? copy!.root;
    const gitIn = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30 });
    const overlays = (): string[] => gitIn('ls-tree', '--name-only', 'HEAD', 'overlays/').split('\n').filter(Boolean).map((p) => p.slice('overlays/'.length));
    let names: string[];
    if (copy) {
      const existing = overlays().length;
      names = Array.from({ length: size - existing }, (_, i) => `env-${String(i).padStart(3, '0')}`);
      addEnvironments(copy, names);
      // Generated by the measured toolkit (the working tree's generator may differ from HEAD's).
      execFileSync(process.execPath, [script('generate')], { cwd: root, stdio: 'ignore' });
      copy.commit(`scaled to ${size} environments`);
    } else {
      // A reused repository: scaled the same way, its last commit the one-environment change below.
      names = overlays().filter((e) => /^env-\d{3}$/.test(e));
    }
    // The one-environment change the diff rows review: a .env value of one environment, committed.
    const changed = names.includes('env-042') ? 'env-042' : names.at(-1)!;
    if (copy) {
      copy.edit(`overlays/${changed}/.env`, /^LOG_LEVEL=.*$/m, 'LOG_LEVEL=debug');
      copy.commit(`${changed}: LOG_LEVEL=debug`);
    }
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
    const node = (name: string, ...args: string[]): string[] => [process.execPath, script(name), ...args];
    const fast = { ...process.env, NODE_COMPILE_CACHE: COMPILE_CACHE };
    // A PR's second push: the base revision's render is cached, the head's is not. The head's entries are
    // found by rendering the changed environment (the working tree is HEAD) into an emptied cache.
    setAside();
    execFileSync(process.execPath, [script('render'), changed], { cwd: root, stdio: 'ignore' });
    const headEntries = existsSync(renderCache) ? readdirSync(renderCache).filter((f) => /^[0-9a-f]{64}\./.test(f)) : [];
    putBack();
    if (headEntries.length === 0) throw new Error('no render cache entry for the changed environment at HEAD');
    const headAside = join(tmpdir(), `bench-review-head-${process.pid}`);
    const dropHead = (): void => {
      rmSync(headAside, { recursive: true, force: true });
      mkdirSync(headAside);
      for (const f of headEntries) if (existsSync(join(renderCache, f))) renameSync(join(renderCache, f), join(headAside, f));
    };
    const keepHead = (): void => {
      for (const f of headEntries) if (existsSync(join(headAside, f))) renameSync(join(headAside, f), join(renderCache, f));
    };
    const loops = size <= loopsUpTo;
    const rows: Row[] = [
      { id: 'node', label: '`node -e 0`', argv: [process.execPath, '-e', '0'] },
      { id: 'zx', label: '`zx` start-up (`zx --version`)', argv: [ZX, '--version'] },
      { id: 'kustomize', label: 'one `kubectl kustomize`', argv: ['kubectl', 'kustomize', `overlays/${names[0]}`] },
      { id: 'diff-cold', label: '`diff --base HEAD~1`, one-environment `.env` change, render cache empty', prepare: setAside, restore: putBack, argv: node('diff', '--base', 'HEAD~1'), env: fast },
      { id: 'diff-base', label: 'same, base revision cached, head not (a PR\'s second push)', prepare: dropHead, restore: keepHead, argv: node('diff', '--base', 'HEAD~1'), env: fast },
      { id: 'diff-warm', label: 'same, render cache warm', argv: node('diff', '--base', 'HEAD~1'), env: fast },
      { id: 'diff-warm-zx', label: 'same, warm, `zx scripts/diff.ts`', argv: zx('diff', '--base', 'HEAD~1') },
      { id: 'diff-base-zx', label: 'same, base cached, `zx scripts/diff.ts`', prepare: dropHead, restore: keepHead, argv: zx('diff', '--base', 'HEAD~1') },
      { id: 'diff-none', label: '`diff --base HEAD`, no change at all', argv: zx('diff', '--base', 'HEAD') },
      { id: 'render-warm', label: '`render` warm, nothing changed', argv: zx('render') },
      { id: 'validate-warm', label: '`validate` all, warm', argv: zx('validate'), ok: [0, 1] },
      { id: 'generate', label: '`generate`', argv: zx('generate') },
      { id: 'generate-check', label: '`generate --check`', argv: zx('generate', '--check') },
      { id: 'render-cold', label: '`render` cold, all environments', heavy: true, prepare: coldRender, argv: zx('render') },
      ...(loops ? [
        { id: 'naive', label: 'naive sequential loop of `kubectl kustomize`', heavy: true, shell: true, argv: [`while read e; do kubectl kustomize "overlays/$e"; done < ${list} > /dev/null`] },
        { id: 'xargs', label: 'naive `xargs -P2 kubectl kustomize`', heavy: true, shell: true, argv: [`sed "s|^|overlays/|" ${list} | xargs -P2 -n1 kubectl kustomize > /dev/null`] },
      ] : []),
    ];
    // Warm-up, untimed: every cache a user's second run finds (compile cache, kubectl's version, renders,
    // generate's checks, validate's findings), and the page cache.
    const renderWarm = rows.find((r) => r.id === 'render-warm')!;
    if (onlyRows) rows.splice(0, rows.length, ...rows.filter((r) => onlyRows.has(r.id)));
    for (const row of rows.filter((r) => !r.heavy)) timeOnce(row, root);
    const times = new Map<string, Sample[]>(rows.map((r) => [r.id, []]));
    const before = uptime();
    process.stderr.write(`${size} environments, ${before}\n`);
    for (let round = 0; round < Math.max(rounds, heavyRounds); round++) {
      for (const row of rows) {
        if (round >= (row.heavy ? heavyRounds : rounds)) continue;
        const sample = timeOnce(row, root);
        times.get(row.id)!.push(sample);
        process.stderr.write(`  ${size} ${row.id} round ${round + 1}: ${seconds(sample.wall)} s wall, ${seconds(sample.cpu)} s CPU, ${Math.round(sample.rssKb / 1024)} MB peak RSS\n`);
      }
      // The warm rows after a cold render must find the cache warm again.
      if (rows.some((r) => r.id === 'render-cold')) timeOnce(renderWarm, root);
    }
    rmSync(list, { force: true });
    rmSync(headAside, { recursive: true, force: true });
    return { size, toolkit: HEAD, before, after: uptime(), times };
  } finally {
    copy?.cleanup();
  }
}

interface SavedResult { size: number; toolkit: string; before: string; after: string; times: Record<string, Sample[]> }
let results: SizeResult[];
if (values.from) {
  results = values.from.split(',').flatMap((file) => (JSON.parse(readFileSync(file, 'utf8')) as SavedResult[]).map((r) => ({ ...r, times: new Map(Object.entries(r.times)) })))
    .sort((a, b) => a.size - b.size);
} else {
  try {
    results = sizes.map(measure);
  } finally {
    rmSync(TOOLKIT, { recursive: true, force: true });
    rmSync(TIME_OUT, { force: true });
    rmSync(COMPILE_CACHE, { recursive: true, force: true });
  }
  if (values.save) writeFileSync(values.save, JSON.stringify(results.map((r) => ({ ...r, times: Object.fromEntries(r.times) })), null, 1));
}
const has = (r: SizeResult, id: string): boolean => (r.times.get(id)?.length ?? 0) > 0;
const minOf = (r: SizeResult, id: string, k: keyof Sample): number => Math.min(...r.times.get(id)!.map((t) => t[k]));
const medOf = (r: SizeResult, id: string, k: keyof Sample): number => median(r.times.get(id)!.map((t) => t[k]));
const cell = (r: SizeResult, id: string): string =>
  has(r, id) ? `${seconds(medOf(r, id, 'wall'))} / ${seconds(minOf(r, id, 'wall'))} (CPU ${seconds(medOf(r, id, 'cpu'))})` : '—';
// Ratios compare medians (the machine is shared: a minimum is one lucky run), the minimums' ratio beside.
const ratioOf = (r: SizeResult, id: string, base: string, k: keyof Sample): string => (has(r, id) && has(r, base) ? `${(medOf(r, id, k) / medOf(r, base, k)).toFixed(2)}×` : '—');
const labels: Array<[string, string]> = [
  ['node', '`node -e 0`'],
  ['zx', '`zx --version` (the wrapper every `zx scripts/…` starts)'],
  ['kustomize', 'one `kubectl kustomize` (CLI process)'],
  ['diff-cold', '`node scripts/diff.ts --base HEAD~1`, one-environment `.env` change, render cache empty'],
  ['diff-base', "same, base revision's render cached, head's not (a PR's second push)"],
  ['diff-warm', 'same, render cache warm'],
  ['diff-base-zx', "same, base cached, as `zx scripts/diff.ts`"],
  ['diff-warm-zx', 'same, warm, as `zx scripts/diff.ts`'],
  ['diff-none', '`diff --base HEAD`, no change at all'],
  ['render-cold', '`render` cold, all environments'],
  ['naive', 'naive sequential loop of `kubectl kustomize`'],
  ['xargs', 'naive `xargs -P2`'],
  ['render-warm', '`render` warm, nothing changed'],
  ['validate-warm', '`validate` all, warm'],
  ['generate', '`generate`'],
  ['generate-check', '`generate --check`'],
];
const header = `| command (CLI process; wall s median / min, CPU s median) | ${results.map((r) => `${r.size} envs`).join(' | ')} | ${results.map((r) => `ratio at ${r.size} (wall; CPU, medians)`).join(' | ')} |`;
const lines = [
  header,
  `|---|${results.map(() => '---:').join('|')}|${results.map(() => '---:').join('|')}|`,
  ...labels.filter(([id]) => results.some((r) => has(r, id))).map(([id, label]) => {
    const base = id.startsWith('diff') ? 'kustomize' : id === 'render-cold' || id === 'xargs' ? 'naive' : id === 'node' || id === 'naive' ? undefined : 'node';
    const note = base === 'kustomize' ? 'of one build' : 'of `node -e 0`';
    const speedup = (r: SizeResult): string => (has(r, 'naive') && has(r, id) ? `${(medOf(r, 'naive', 'wall') / medOf(r, id, 'wall')).toFixed(1)}× faster than the loop` : '—');
    return `| ${label} | ${results.map((r) => cell(r, id)).join(' | ')} | ${results.map((r) => (base === undefined ? '' : base === 'naive' ? speedup(r) : `${ratioOf(r, id, base, 'wall')}; ${ratioOf(r, id, base, 'cpu')} ${note}`)).join(' | ')} |`;
  }),
];
// Issue 24's three ratios, as the issue states them: one-environment diff ÷ one `kubectl kustomize`.
const targets: Array<[string, string, number]> = [
  ['diff-cold', 'render cache empty (base and head built)', 2],
  ['diff-base', "base revision's render cached (a PR's second push)", 1.3],
  ['diff-warm', 'render cache warm', 2],
];
const ratioLine = (r: SizeResult, id: string, k: keyof Sample): string =>
  has(r, id) && has(r, 'kustomize') ? `${(medOf(r, id, k) / medOf(r, 'kustomize', k)).toFixed(2)}× (min ${(minOf(r, id, k) / minOf(r, 'kustomize', k)).toFixed(2)}×)` : '—';
const ratios = [
  '',
  'One-environment diff (`node scripts/diff.ts --base HEAD~1`, NODE_COMPILE_CACHE set) ÷ one `kubectl kustomize`, medians (minimums\' ratio in brackets):',
  '',
  `| diff, one environment | goal | ${results.map((r) => `${r.size} envs, wall | ${r.size} envs, CPU`).join(' | ')} |`,
  `|---|---:|${results.map(() => '---:|---:').join('|')}|`,
  ...targets.map(([id, label, goal]) => `| ${label} | ≤ ${goal}× | ${results.map((r) => `${ratioLine(r, id, 'wall')} | ${ratioLine(r, id, 'cpu')}`).join(' | ')} |`),
];
// Growth: each command at the largest size against 300 environments (issue 24: at most 3.5× from 300 to 1000).
const from = results.find((r) => r.size === 300);
const to = results.find((r) => r.size === 1000);
const growth = from && to
  ? [
    '',
    `Growth from ${from.size} to ${to.size} environments (cost at 1000 ÷ cost at 300, medians; goal ≤ 3.5×), and the largest process's peak RSS at ${to.size}:`,
    '',
    '| command | wall | CPU | peak RSS at 1000 |',
    '|---|---:|---:|---:|',
    ...labels.filter(([id]) => has(from, id) && has(to, id) && id !== 'node' && id !== 'zx').map(([id, label]) =>
      `| ${label} | ${(medOf(to, id, 'wall') / medOf(from, id, 'wall')).toFixed(2)}× | ${(medOf(to, id, 'cpu') / medOf(from, id, 'cpu')).toFixed(2)}× | ${Math.round(Math.max(...to.times.get(id)!.map((t) => t.rssKb)) / 1024)} MB |`),
  ]
  : [];
const table = [
  `\`node bench/review/run.ts --write\` (toolkit at ${[...new Set(results.map((r) => r.toolkit))].join(', ')}), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, on ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}. ` +
    `Rounds per row: ${results.map((r) => `${r.size} envs ${Math.max(...[...r.times.values()].map((t) => t.length))}`).join(', ')} (fewer for the cold render and the loops), interleaved. CPU: user + system of the process and its children (GNU time).`,
  ...results.map((r) => `- ${r.size} environments: ${r.before} before, ${r.after} after.`),
  '',
  ...lines,
  ...ratios,
  ...growth,
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
