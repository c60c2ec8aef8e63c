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
const SIZES = [1, 10, 100];
const settings = loadSettings('gitops.yaml', readFileSync(join(REPO, 'gitops.yaml'), 'utf8')).settings!;
const envName = (i: number) => `env-${String(i).padStart(3, '0')}`;

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

function cliMs(dir: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['scripts/generate.ts', ...args], { cwd: dir, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`generate ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

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
const start = nodeStartMs();
const fixed = importMs();
for (const n of SIZES) {
  const pure = pureMs(n);
  const dir = repoOf(n);
  try {
    const first = cliMs(dir, []); // writes every file
    const check = median([0, 1, 2, 3, 4].map(() => cliMs(dir, ['--check'])));
    const rerun = median([0, 1, 2, 3, 4].map(() => cliMs(dir, [])));
    rows.push(`| ${n} | ${pure.files} | ${pure.ms.toFixed(2)} | ${first.toFixed(0)} | ${rerun.toFixed(0)} | ${check.toFixed(0)} | ${Math.max(0, check - fixed).toFixed(0)} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const section = [
  '## Generator',
  '',
  `\`node bench/generate/run.ts --write\` on ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}.`,
  'Pure: `generateRepo` on in-memory inputs, median of 15 runs after warm-up. CLI: `node scripts/generate.ts` in a temporary',
  'repository (reads and validates every gitops.yaml / env.yaml / .env, generates, writes atomically under the lock);',
  'first run writes every file (each fsynced by the atomic writer), re-run (median of 5) finds nothing to write, --check (median of 5)',
  `compares all files. Fixed cost: bare \`node -e 0\` ${start.toFixed(0)} ms; Node start-up plus importing the toolkit ${fixed.toFixed(0)} ms.`,
  'The last column is --check minus that fixed cost: the work that grows with the number of environments.',
  '',
  '| environments | generated files | pure generateRepo (ms) | CLI first run (ms) | CLI re-run (ms) | CLI --check (ms) | --check beyond start-up (ms) |',
  '|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
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
