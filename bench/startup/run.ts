// Start-up of every CLI, measured side by side: `--help` of each script at two commits (before / after),
// a one-environment `diff`, a bare `node -e 0` and one `kubectl kustomize` build, interleaved round by
// round so that both columns see the same machine load. Both trees are `git archive` extracts of
// commits (node_modules linked in), so the numbers belong to committed code.
//   node bench/startup/run.ts [--before <commit>] [--after <commit>] [--rounds N] [--write]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({ options: { before: { type: 'string' }, after: { type: 'string', default: 'HEAD' }, rounds: { type: 'string', default: '5' }, write: { type: 'boolean' } } });
const rounds = Number(values.rounds);

function extract(commit: string): { dir: string; sha: string; subject: string } {
  const sha = execFileSync('git', ['rev-parse', '--short', commit], { cwd: REPO, encoding: 'utf8' }).trim();
  const subject = execFileSync('git', ['log', '-1', '--format=%s', commit], { cwd: REPO, encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), `startup-${sha}-`));
  const tar = execFileSync('git', ['archive', '--format=tar', commit], { cwd: REPO, maxBuffer: 512 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return { dir, sha, subject: subject.length > 70 ? `${subject.slice(0, 69)}…` : subject };
}

/** A repository (the GitOps files of `tree`) with one committed change to one environment, for `diff`. */
function diffRepo(tree: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'startup-diff-'));
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.invalid', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.invalid' } });
  // The GitOps files of the same commit as the scripts (the generator and its inputs change together).
  const tar = execFileSync('tar', ['-c', '-C', tree, '.gitignore', 'gitops.yaml', 'overlays', 'apps/users-api/deploy', 'platform', 'argocd', 'schemas'], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  git('init', '-q', '-b', 'main');
  execFileSync(process.execPath, [join(tree, 'scripts/generate.ts')], { cwd: dir, stdio: 'ignore' });
  git('add', '-A');
  git('commit', '-qm', 'base');
  const spec = join(dir, 'overlays/dev/env.yaml');
  writeFileSync(spec, readFileSync(spec, 'utf8').replace(/^tag: .*$/m, 'tag: 9.9.9'));
  execFileSync(process.execPath, [join(tree, 'scripts/generate.ts')], { cwd: dir, stdio: 'ignore' });
  git('commit', '-qam', 'dev 9.9.9');
  return dir;
}

interface Sample { wall: number; cpu: number }
function run(cmd: string, args: string[], cwd: string): Sample {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  const [u, s] = (r.stderr.trim().split('\n').at(-1) ?? '0 0').split(' ').map(Number);
  if (r.status !== 0 && !args.includes('--exit-code')) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wall, cpu: ((u ?? 0) + (s ?? 0)) * 1000 };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const scripts = readdirSync(join(REPO, 'scripts')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
const after = extract(values.after!);
const before = values.before ? extract(values.before) : undefined;
const trees = before ? [before, after] : [after];
const diffDirs = new Map(trees.map((t) => [t.dir, diffRepo(t.dir)]));
const node = process.execPath;
const load0 = loadavg()[0]!;

type Key = string;
const samples = new Map<Key, Sample[]>();
const add = (k: Key, s: Sample) => samples.set(k, [...(samples.get(k) ?? []), s]);
for (let round = 0; round < rounds; round++) {
  add('node -e 0', run(node, ['-e', '0'], REPO));
  add('kubectl kustomize overlays/dev', run('kubectl', ['kustomize', 'overlays/dev'], diffDirs.get(after.dir)!));
  for (const t of trees) {
    for (const s of scripts) {
      if (!trees.every((x) => readdirSync(join(x.dir, 'scripts')).includes(`${s}.ts`))) continue;
      add(`${t.dir}|${s} --help`, run(node, [join(t.dir, 'scripts', `${s}.ts`), '--help'], REPO));
    }
    add(`${t.dir}|zx diff --help`, run(join(REPO, 'node_modules/.bin/zx'), [join(t.dir, 'scripts/diff.ts'), '--help'], REPO));
    const d = diffDirs.get(t.dir)!;
    add(`${t.dir}|diff, one env, renders cached`, run(node, [join(t.dir, 'scripts/diff.ts'), '--base', 'HEAD~1', '--head', 'HEAD'], d));
    rmSync(join(d, '.cache/render'), { recursive: true, force: true });
    add(`${t.dir}|diff, one env, no cache (2 builds)`, run(node, [join(t.dir, 'scripts/diff.ts'), '--base', 'HEAD~1', '--head', 'HEAD'], d));
    // Warm render and validate of one environment (issue 23: the layout must not slow them): one untimed
    // run fills the render, check and findings caches, the timed one is what a second run costs.
    for (const cli of ['render', 'validate']) {
      run(node, [join(t.dir, 'scripts', `${cli}.ts`), 'dev'], d);
      add(`${t.dir}|${cli} dev, warm`, run(node, [join(t.dir, 'scripts', `${cli}.ts`), 'dev'], d));
    }
  }
}
const load1 = loadavg()[0]!;

const fmt = (k: Key) => {
  const s = samples.get(k);
  return s ? `${median(s.map((x) => x.wall)).toFixed(0)} (${median(s.map((x) => x.cpu)).toFixed(0)})` : '–';
};
const rowsOf = (label: string) => `| ${label} | ${before ? `${fmt(`${before.dir}|${label}`)} | ` : ''}${fmt(`${after.dir}|${label}`)} |`;
const labels = [...scripts.map((s) => `${s} --help`), 'zx diff --help', 'diff, one env, renders cached', 'diff, one env, no cache (2 builds)', 'render dev, warm', 'validate dev, warm'];
const head = before
  ? `| command | before: ${before.sha} ms (CPU ms) | after: ${after.sha} ms (CPU ms) |\n|---|---:|---:|`
  : `| command | ${after.sha} ms (CPU ms) |\n|---|---:|`;
const table = [
  head,
  `| \`node -e 0\` | ${before ? `${fmt('node -e 0')} | ` : ''}${fmt('node -e 0')} |`,
  `| one \`kubectl kustomize overlays/dev\` | ${before ? `${fmt('kubectl kustomize overlays/dev')} | ` : ''}${fmt('kubectl kustomize overlays/dev')} |`,
  ...labels.filter((l) => samples.has(`${after.dir}|${l}`)).map((l) => rowsOf(l.replace(/^(\S+) --help$/, '$1 --help'))),
].join('\n');

const NOTES = `
Where the time went before (CPU profiles of \`node --cpu-prof scripts/<x>.ts --help\` and a module-load trace):
every CLI imported its whole work graph at start-up, so \`--help\` paid for (1) compiling the env.yaml and
gitops.yaml JSON Schemas with ajv at import (\`scripts/lib/inputs/schema.ts\`; ajv was the largest package in the diff \`--help\` profile, 0.7 of 4.5 s sampled),
(2) loading ajv, yaml, the diff library, secretlint and envalid through \`scripts/lib/generate/commands.ts\`,
(3) the whole MongoDB driver through \`apps/users-api/src/config.ts\` (only a \`MONGODB_URI\` check needs it),
(4) for status and bootstrap, \`@kubernetes/client-node\` (about 870 modules), (5) Node's TypeScript stripping
of every \`.ts\` module (amaro, WebAssembly) on each run. kubernetes-models was already loaded only by validate's
schema registry. Changes: each CLI imports its work modules inside \`main\` (\`--help\` and usage errors load 3–5
modules), schemas compile on first use, the driver loads only for the URI check, and \`runCli\` enables Node's
compile cache (\`module.enableCompileCache()\`), so the lazily imported modules (stripped and compiled) come from
V8's code cache on later runs (a one-env diff: 0.70 → 0.50 s CPU in an A/B of 4 runs each). \`zx\` itself costs about 150 ms CPU before the script
starts: \`node scripts/<x>.ts\` is the faster spelling. Still slow: \`validate --help\`, whose help text lists the
policy ids (\`scripts/lib/review/validate/policies.ts\` imports the secret detector, hence secretlint and yaml).
`;

const section = `## Start-up

\`node bench/startup/run.ts --before ${before?.sha ?? '<commit>'} --after ${after.sha} --write\` on ${cpus().length} cores, Node ${process.version}.
${before ? `Before: \`${before.sha}\` ${before.subject}. After: \`${after.sha}\` ${after.subject}.\n` : ''}Median of ${rounds} rounds; each round runs every command once, before and after interleaved, so both columns see the
same load (1-minute load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end: other work shares the machine, so
compare columns and rows of one run, not runs). Wall ms, and user+system CPU ms in brackets (less sensitive to load).
\`X --help\` is \`node scripts/X.ts --help\`; \`diff, one env\` is \`node scripts/diff.ts --base HEAD~1 --head HEAD\` after a tag change
of one environment (generated and committed), with the render cache filled by the previous round, or emptied first
(base and head both built by kustomize). \`render dev, warm\` and \`validate dev, warm\`: the second of two runs in that
repository (render, check and findings caches filled by the first).

${table}
${NOTES}`;

process.stdout.write(`${section}\n`);
if (values.write) {
  const file = join(REPO, 'bench/README.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('## Start-up\n');
  const next = start === -1 ? -1 : text.indexOf('\n## ', start + 1);
  const updated = start === -1 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, start)}${section}${next === -1 ? '' : text.slice(next)}`;
  writeFileSync(file, updated);
}
for (const t of trees) rmSync(t.dir, { recursive: true, force: true });
for (const d of diffDirs.values()) rmSync(d, { recursive: true, force: true });
