// Benchmark of the generator: the pure function on in-memory inputs for 1, 10 and 100 environments,
// and `node scripts/generate.ts` end to end on a temporary repository of the same size (the CLI time
// includes Node start-up, reading and validating every input, and writing the files).
// Run: node bench/generate/run.ts [--write]   (--write updates the "Generator" section of bench/README.md)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import { defaultDotenv, defaultEnvYaml } from '../../scripts/lib/generate/commands.ts';
import { loadSettings, type RepoInputs } from '../../scripts/lib/inputs/index.ts';

const REPO = new URL('../../', import.meta.url).pathname;
// Issue 24: up to 1000 environments, with each command's growth from 300 to 1000 (goal ≤ 3.5×).
const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
const SIZES = (sizesArg ? sizesArg.slice('--sizes='.length) : '1,10,100,300,1000').split(',').map(Number);
/** Repeats of the CLI rows: fewer at the large sizes (each costs seconds), medians reported. */
const repeats = (n: number): number => (n >= 300 ? 3 : 5);
const settings = loadSettings('gitops.yaml', readFileSync(join(REPO, 'gitops.yaml'), 'utf8')).settings!;
// The first environment is the one gitops.yaml's preview template names (generate refuses a template
// naming no environment); the rest are env-001, env-002, ….
const TEMPLATE_ENV = (settings as { previews?: { template?: string } }).previews?.template;
const envName = (i: number) => (i === 0 && TEMPLATE_ENV ? TEMPLATE_ENV : `env-${String(i).padStart(3, '0')}`);

function inputsOf(n: number): RepoInputs {
  const envs: RepoInputs['envs'] = {};
  for (let i = 0; i < n; i++) {
    const name = envName(i);
    envs[name] = { spec: { name, namespace: name, ...structuredClone(settings.defaults) }, dotenv: defaultDotenv(name) };
  }
  return { settings, envs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function pureMs(n: number): { ms: number; files: number } {
  const inputs = inputsOf(n);
  let files = 0;
  for (let i = 0; i < 3; i++) files = Object.keys(generateRepo(inputs)).length; // warm-up
  const runs: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    generateRepo(inputs);
    runs.push(performance.now() - t);
  }
  return { ms: median(runs), files };
}

function repoOf(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-generate-'));
  for (const p of ['gitops.yaml', 'apps/users-api/src', 'scripts', 'package.json']) cpSync(join(REPO, p), join(dir, p), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  for (let i = 0; i < n; i++) {
    const name = envName(i);
    mkdirSync(join(dir, 'overlays', name), { recursive: true });
    writeFileSync(join(dir, 'overlays', name, 'env.yaml'), defaultEnvYaml(name, name, settings));
    writeFileSync(join(dir, 'overlays', name, '.env'), defaultDotenv(name));
  }
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

const TIME_OUT = join(tmpdir(), `bench-generate-time-${process.pid}`);
interface Cli { ms: number; cpuMs: number; rssKb: number }
/** One run of the CLI: wall ms, and user + system CPU ms and peak RSS from GNU time (less disturbed by load). */
function cli(dir: string, args: string[]): Cli {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', TIME_OUT, process.execPath, 'scripts/generate.ts', ...args], { cwd: dir, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`generate ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [user, system, rss] = readFileSync(TIME_OUT, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { ms, cpuMs: (user! + system!) * 1000, rssKb: rss! };
}
const medianCli = (runs: Cli[]): Cli => ({ ms: median(runs.map((r) => r.ms)), cpuMs: median(runs.map((r) => r.cpuMs)), rssKb: Math.max(...runs.map((r) => r.rssKb)) });
const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average/, 'load average');

function spawnMs(args: string[]): number {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    spawnSync(process.execPath, args);
    runs.push(performance.now() - t);
  }
  return median(runs);
}
const nodeStartMs = () => spawnMs(['-e', '0']);
/** Node start-up plus loading the toolkit's modules (yaml, ajv, envalid, diff, type stripping): the fixed cost. */
const importMs = () =>
  spawnMs(['--input-type=module', '-e', `await import(${JSON.stringify(join(REPO, 'scripts/lib/generate/commands.ts'))})`]);

const rows: string[] = [];
const loadBefore = uptime();
const start = nodeStartMs();
const fixed = importMs();
const measured = new Map<number, { pure: number; first: Cli; rerun: Cli; check: Cli }>();
const ms = (c: Cli): string => `${c.ms.toFixed(0)} (${c.cpuMs.toFixed(0)})`;
for (const n of SIZES) {
  const pure = pureMs(n);
  const dir = repoOf(n);
  try {
    const first = cli(dir, []); // writes every file
    const check = medianCli(Array.from({ length: repeats(n) }, () => cli(dir, ['--check'])));
    const rerun = medianCli(Array.from({ length: repeats(n) }, () => cli(dir, [])));
    measured.set(n, { pure: pure.ms, first, rerun, check });
    rows.push(`| ${n} | ${pure.files} | ${pure.ms.toFixed(2)} | ${ms(first)} | ${ms(rerun)} | ${ms(check)} | ${Math.max(0, check.ms - fixed).toFixed(0)} | ${Math.round(Math.max(first.rssKb, rerun.rssKb, check.rssKb) / 1024)} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
rmSync(TIME_OUT, { force: true });
const loadAfter = uptime();
const [g300, g1000] = [measured.get(300), measured.get(1000)];
const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
const growth = g300 && g1000
  ? [
    '',
    'Growth from 300 to 1000 environments (cost at 1000 ÷ cost at 300; issue 24 goal ≤ 3.5×), wall (CPU):',
    '',
    '| pure generateRepo | CLI first run | CLI re-run | CLI --check |',
    '|---:|---:|---:|---:|',
    `| ${x(g1000.pure, g300.pure)} | ${x(g1000.first.ms, g300.first.ms)} (${x(g1000.first.cpuMs, g300.first.cpuMs)}) | ${x(g1000.rerun.ms, g300.rerun.ms)} (${x(g1000.rerun.cpuMs, g300.rerun.cpuMs)}) | ${x(g1000.check.ms, g300.check.ms)} (${x(g1000.check.cpuMs, g300.check.cpuMs)}) |`,
  ]
  : [];

const section = [
  '## Generator',
  '',
  `\`node bench/generate/run.ts --write\` on ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}.`,
  'Pure: `generateRepo` on in-memory inputs, median of 15 runs after warm-up. CLI: `node scripts/generate.ts` in a temporary',
  'repository (reads and validates every gitops.yaml / env.yaml / .env, generates, writes atomically under the lock);',
  'first run writes every file (each fsynced by the atomic writer), re-run (median of 5; 3 from 300 environments) finds nothing to write, --check (same)',
  `compares all files. Fixed cost: bare \`node -e 0\` ${start.toFixed(0)} ms; Node start-up plus importing the toolkit ${fixed.toFixed(0)} ms.`,
  'The --check-beyond-start-up column is --check minus that fixed cost: the work that grows with the number of environments.',
  'CLI cells: wall ms (user + system CPU ms, GNU time); the machine is shared, so CPU moves less with its load.',
  `Load: ${loadBefore} before, ${loadAfter} after.`,
  '',
  '| environments | generated files | pure generateRepo (ms) | CLI first run (ms) | CLI re-run (ms) | CLI --check (ms) | --check beyond start-up (ms) | peak RSS (MB) |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
  ...growth,
  '',
].join('\n');

process.stdout.write(`${section}\n`);
if (process.argv.includes('--write')) {
  const readme = join(REPO, 'bench/README.md');
  const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '# Benchmarks\n';
  const re = /## Generator\n[\s\S]*?(?=\n## |$)/;
  const next = re.test(text) ? text.replace(re, section.trimEnd() + '\n') : `${text.trimEnd()}\n\n${section}`;
  writeFileSync(readme, next.endsWith('\n') ? next : `${next}\n`);
}
