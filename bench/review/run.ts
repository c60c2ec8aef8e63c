// Review performance with 100 environments, all ratios measured in one run on this machine:
//  1. diff of a change touching one environment vs a single `kustomize build` (target ≤ 2×);
//  2. full render of 100 environments (parallel, cold cache) vs a naive sequential loop of `kustomize build`;
//  3. a second render with nothing changed vs the first.
// Run: node bench/review/run.ts [--write]   (--write updates the "Review" section of bench/README.md,
// under `flock /tmp/bench-readme.lock`, since several benchmarks share that file)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { locateKustomize } from '../../scripts/lib/kustomize.ts';
import { renderEnvironments, RENDER_CACHE_DIR } from '../../scripts/lib/render/render.ts';
import { reviewChanges } from '../../scripts/lib/diff/review.ts';
import { createFixtureRepo, overlayFiles } from '../../test/review/fixture.ts';

const REPO = resolve(import.meta.dirname, '../..');
const ENVIRONMENTS = 100;
const envs = Array.from({ length: ENVIRONMENTS }, (_, i) => `env-${String(i).padStart(3, '0')}`);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
async function medianOf(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await time(fn));
  return median(out);
}

const loadBefore = loadavg()[0]!;
const repo = createFixtureRepo(envs);
try {
  const root = repo.root;
  const kustomize = await locateKustomize();
  const cacheDir = join(root, RENDER_CACHE_DIR);
  const kubectl = (env: string): void => {
    execFileSync('kubectl', ['kustomize', join(root, 'overlays', env)], { stdio: ['ignore', 'pipe', 'pipe'] });
  };

  kubectl(envs[0]!); // warm the page cache and the binary
  const single = await medianOf(7, () => kubectl(envs[7]!));
  const naive = await time(() => { for (const env of envs) kubectl(env); });

  rmSync(cacheDir, { recursive: true, force: true });
  const firstRender = await time(() => renderEnvironments({ root, kustomize, cacheDir }));
  const secondRender = await medianOf(5, () => renderEnvironments({ root, kustomize, cacheDir }));
  // The cache as any earlier render of the base leaves it: restored before each warm diff below.
  const snapshot = `${cacheDir}.snapshot`;
  cpSync(cacheDir, snapshot, { recursive: true });
  const restoreCache = (): void => {
    rmSync(cacheDir, { recursive: true, force: true });
    cpSync(snapshot, cacheDir, { recursive: true });
  };

  // A change touching one environment, committed (the CI case: --base HEAD~1 --head HEAD).
  repo.write(overlayFiles('env-042', { tag: '1.1.0' }));
  repo.commit('env-042: 1.1.0');
  const source = { kind: 'refs' as const, base: 'HEAD~1', head: 'HEAD' };
  const check = await reviewChanges({ root, source, kustomize, cacheDir: null });
  if (check.envs.length !== 1 || check.envs[0]!.env !== 'env-042' || check.envs[0]!.counts.changed !== 1) {
    throw new Error(`unexpected diff: ${JSON.stringify(check.envs.map((e) => [e.env, e.counts]))}`);
  }
  // The load on a shared machine drifts during a run, so each diff is paired with a single build
  // measured right before it, and the ratio reported is the median of the paired ratios.
  const paired = async (runs: number, prepare: () => void, fn: () => Promise<unknown> | unknown): Promise<{ ms: number; ratio: number }> => {
    const times: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < runs; i++) {
      const build = await time(() => kubectl(envs[7]!));
      prepare();
      const t = await time(fn);
      times.push(t);
      ratios.push(t / build);
    }
    return { ms: median(times), ratio: median(ratios) };
  };
  const diffCold = await paired(7, () => {}, () => reviewChanges({ root, source, kustomize, cacheDir: null }));
  const diffWarm = await paired(7, restoreCache, () => reviewChanges({ root, source, kustomize, cacheDir }));
  // The whole CLI as a user runs it, Node start-up included (cache restored the same way).
  const cli = await paired(3, restoreCache, () =>
    execFileSync(process.execPath, [join(REPO, 'scripts/diff.ts'), '--base', 'HEAD~1', '--head', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
  const nodeStart = await medianOf(3, () => execFileSync(process.execPath, ['-e', '0']));

  const ms = (v: number): string => v.toFixed(0);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`; // same-run totals
  const section = [
    '## Review',
    '',
    `\`node bench/review/run.ts --write\` on ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ` +
      `${kustomize.name} (${kustomize.identity.split(' /')[0]}). One run; ${ENVIRONMENTS} environments generated in a temporary git repository ` +
      '(copies of the test fixture overlay: two bases, a configMapGenerator from .env, an images transformer, a patch).',
    'In-process timings of the library functions the CLIs call (`renderEnvironments`, `reviewChanges`). Diff rows: median time, and the median of',
    'ratios each taken against a single build measured just before that diff run (the load drifts during a run).',
    `1-minute load average ${loadBefore.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end (the machine is shared): absolute times vary several-fold between runs; the ratios, measured side by side, are what this records.`,
    '',
    '| measurement | time (ms) | ratio |',
    '|---|---:|---:|',
    `| one \`kubectl kustomize\` of one environment (median of 7) | ${ms(single)} | 1× |`,
    `| diff, change touching 1 of ${ENVIRONMENTS} envs, committed (\`--base HEAD~1 --head HEAD\`), no cache: base and head both built (7 runs) | ${ms(diffCold.ms)} | ${diffCold.ratio.toFixed(2)}× of one build |`,
    `| same diff, cache as an earlier render of the base left it: base from cache, head built (7 runs) | ${ms(diffWarm.ms)} | ${diffWarm.ratio.toFixed(2)}× of one build |`,
    `| same diff as a CLI process, \`node scripts/diff.ts\`, Node start-up included (cache as above; 3 runs; bare \`node -e 0\` is ${ms(nodeStart)} ms) | ${ms(cli.ms)} | ${cli.ratio.toFixed(2)}× of one build |`,
    `| naive sequential loop: \`kubectl kustomize\` × ${ENVIRONMENTS} | ${ms(naive)} | 1× |`,
    `| full render of ${ENVIRONMENTS} environments, cold cache, ${availableParallelism()} in parallel | ${ms(firstRender)} | ${ratio(firstRender, naive)} of the loop |`,
    `| second render, nothing changed (all from cache; median of 5) | ${ms(secondRender)} | ${ratio(secondRender, firstRender)} of the first |`,
    '',
  ].join('\n');
  process.stdout.write(`${section}\n`);

  if (process.argv.includes('--write')) {
    // The README is shared: replace only our section, holding the lock the other benchmarks use.
    const script = `
      const fs = require('node:fs');
      const file = process.argv[1];
      const section = process.env.REVIEW_SECTION;
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\\n';
      const re = /## Review\\n[\\s\\S]*?(?=\\n## |$)/;
      const next = re.test(text) ? text.replace(re, section.trimEnd() + '\\n') : text.trimEnd() + '\\n\\n' + section;
      fs.writeFileSync(file, next.endsWith('\\n') ? next : next + '\\n');`;
    const r = spawnSync('flock', ['/tmp/bench-readme.lock', process.execPath, '-e', script, join(REPO, 'bench/README.md')], {
      env: { ...process.env, REVIEW_SECTION: section },
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('could not update bench/README.md');
  }
} finally {
  repo.cleanup();
}
