// Issue 11, "nothing lost": environment names that are paths, concurrent runs, interrupted runs.
// Every attack runs the real CLI in a throw-away git repository and checks the exit code, the message
// and that the tree (.git included) is byte-for-byte what it was. Against the old code,
// `delete-env .. --yes` deleted every tracked file and .git, and `new-env` runs read their inputs
// before taking the lock.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TX_DIR } from '../../scripts/lib/core/atomic.ts';
import { applyEnvEdit } from '../../scripts/lib/release/env-edit.ts';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import { GENERATED_PATHS } from '../../scripts/lib/core/layout.ts';
import { readRepoInputs } from '../../scripts/lib/inputs/index.ts';
import { spawn } from 'node:child_process';
import { makeToolkitRepo, recordFigures, runScript, snapshotTree } from './support.ts';

const BAD_NAMES = ['..', '.', 'a/b', 'dev/../prod'];

/** Every command that takes an environment name, with the name put where the command takes it. */
const COMMANDS: Array<[string, string, (name: string) => string[]]> = [
  ['new-env <name>', 'new-env', (n) => [n]],
  ['new-env qa-1 --from <name>', 'new-env', (n) => ['qa-1', '--from', n]],
  ['new-env <name> --force', 'new-env', (n) => [n, '--force']],
  ['delete-env <name> --yes', 'delete-env', (n) => [n, '--yes']],
  ['promote <name> dev', 'promote', (n) => [n, 'dev']],
  ['promote dev <name>', 'promote', (n) => ['dev', n]],
  ['rotate-db-password <name>', 'rotate-db-password', (n) => [n]],
  ['status <name>', 'status', (n) => [n]],
  ['render <name>', 'render', (n) => [n]],
  ['validate <name>', 'validate', (n) => [n]],
  ['diff --live <name>', 'diff', (n) => ['--live', n]],
];

let dir: string;
let attacks = 0;
let held = 0;
beforeAll(async () => {
  dir = await makeToolkitRepo('inputs-paths-');
}, 180_000);
afterAll(() => {
  recordFigures({ inputsPathsAttacks: attacks, inputsPathsHeld: held });
  rmSync(dir, { recursive: true, force: true });
});

describe('an environment name that is a path is refused by every command before it touches the disk', () => {
  it.each(COMMANDS)('%s with .., ., a/b, dev/../prod: exit 2, the name and the rule named, the tree and .git unchanged', async (_label, script, args) => {
    const before = snapshotTree(dir);
    for (const name of BAD_NAMES) {
      attacks++;
      const r = await runScript(dir, script, args(name));
      expect(r.code, `${script} ${args(name).join(' ')}: ${r.err}`).toBe(2);
      expect(r.err).toContain(`environment name "${name}"`);
      expect(r.err).toMatch(/only a-z, 0-9 and "-" are allowed[\s\S]*fix: /);
      expect(snapshotTree(dir)).toEqual(before);
      held++;
    }
  }, 240_000);

  it('delete-env of an unknown but well-formed name is refused the same way (exit 2, nothing deleted)', async () => {
    attacks++;
    const before = snapshotTree(dir);
    const r = await runScript(dir, 'delete-env', ['nope', '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown environment "nope"; known: dev, prod, staging/);
    expect(snapshotTree(dir)).toEqual(before);
    held++;
  });
});

describe('concurrent new-env runs (the lock covers reading, generating and writing)', () => {
  it('4 new-env runs at once: all 4 environments and Applications exist and generate --check passes', async () => {
    attacks++;
    const names = ['cc-1', 'cc-2', 'cc-3', 'cc-4'];
    const runs = await Promise.all(names.map((n) => runScript(dir, 'new-env', [n])));
    for (const [i, r] of runs.entries()) expect(r.code, `${names[i]}: ${r.err}`).toBe(0);
    for (const n of names) {
      expect(existsSync(join(dir, `overlays/${n}/env.yaml`)), n).toBe(true);
      expect(existsSync(join(dir, `overlays/${n}/kustomization.yaml`)), n).toBe(true);
      expect(readFileSync(join(dir, `argocd/apps/${n}.yaml`), 'utf8')).toContain(`path: overlays/${n}`);
    }
    const check = await runScript(dir, 'generate', ['--check']);
    expect(check.code, check.err).toBe(0);
    held++;
    for (const n of names) expect((await runScript(dir, 'delete-env', [n, '--yes'])).code).toBe(0);
    expect((await runScript(dir, 'generate', ['--check'])).code).toBe(0);
  }, 240_000);
});

describe('an env.yaml edit (promote, rotate-db-password) does not undo a run that finished while it waited', () => {
  it('promote with inputs read before a new-env keeps the new environment and its Application', async () => {
    attacks++;
    const spec = join(dir, 'overlays/dev/env.yaml');
    const original = readFileSync(spec, 'utf8');
    const stale = await readRepoInputs(dir);
    expect((await runScript(dir, 'new-env', ['late-1'])).code).toBe(0);
    try {
      await applyEnvEdit({ root: dir, command: 'promote', inputs: stale, env: 'dev', path: ['tag'], value: '5.5.5', labels: { before: 'before', after: 'after' } });
      expect(readFileSync(spec, 'utf8')).toMatch(/^tag: 5\.5\.5$/m);
      expect(existsSync(join(dir, 'argocd/apps/late-1.yaml'))).toBe(true);
      expect((await runScript(dir, 'generate', ['--check'])).code).toBe(0);
    } finally {
      writeFileSync(spec, original);
      expect((await runScript(dir, 'delete-env', ['late-1', '--yes'])).code).toBe(0);
    }
    held++;
  }, 120_000);

  it('an env.yaml changed while the edit waited is not overwritten (exit 2, run again)', async () => {
    attacks++;
    const spec = join(dir, 'overlays/dev/env.yaml');
    const original = readFileSync(spec, 'utf8');
    const stale = await readRepoInputs(dir);
    writeFileSync(spec, `${original}# edited meanwhile\n`);
    try {
      const error = await applyEnvEdit({ root: dir, command: 'promote', inputs: stale, env: 'dev', path: ['tag'], value: '5.5.6', labels: { before: 'b', after: 'a' } }).catch((e: unknown) => e);
      expect((error as Error).message).toContain('overlays/dev/env.yaml changed while promote was running; nothing was written');
      expect((error as { exitCode: number }).exitCode).toBe(2);
      expect(readFileSync(spec, 'utf8')).toBe(`${original}# edited meanwhile\n`);
    } finally {
      writeFileSync(spec, original);
      await runScript(dir, 'generate', []);
    }
    held++;
  }, 120_000);
});

describe('a run killed at its commit point is finished by the next command, which says so', () => {
  /** The journal a generate killed just after its commit point leaves: plan written, the first file moved. */
  async function killedAfterCommit(): Promise<{ files: string[] }> {
    const spec = join(dir, 'overlays/dev/env.yaml');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace(/^namespace: dev$/m, 'namespace: dev-moved'));
    const inputs = await readRepoInputs(dir);
    const generated = generateRepo(inputs);
    const files = Object.keys(generated).filter((f) => existsSync(join(dir, f)) && readFileSync(join(dir, f), 'utf8') !== generated[f]);
    expect(files.length).toBeGreaterThan(1);
    const tx = join(dir, TX_DIR, '0-killed');
    mkdirSync(tx, { recursive: true });
    const entries = files.map((path, i) => ({ path, staged: `f${i}` }));
    entries.forEach((e, i) => writeFileSync(join(tx, e.staged), generated[files[i]!]!));
    // What generate's journal records as owned: every generated path (a namespace change now also rewrites platform/image-policy/).
    writeFileSync(join(tx, 'plan.json'), JSON.stringify({ owned: [...GENERATED_PATHS], entries }));
    // the kill came after the first rename
    writeFileSync(join(dir, files[0]!), generated[files[0]!]!);
    rmSync(join(tx, 'f0'));
    return { files };
  }

  it('generate --check completes it ("recovered an interrupted run: N files completed") and reports no drift', async () => {
    const { files } = await killedAfterCommit();
    attacks++;
    const r = await runScript(dir, 'generate', ['--check']);
    expect(r.err).toContain(`generate --check: recovered an interrupted run: ${files.length} files completed`);
    expect(r.code, r.out + r.err).toBe(0);
    expect(existsSync(join(dir, TX_DIR))).toBe(false);
    held++;
  }, 60_000);

  it('generate killed with SIGKILL at 6 moments (50-110 % of a run): the next command leaves every generated file all old or all new, never mixed', async () => {
    const spec = join(dir, 'overlays/dev/env.yaml');
    const original = readFileSync(spec, 'utf8');
    const oldFiles = generateRepo(await readRepoInputs(dir));
    writeFileSync(spec, original.replace(/^namespace: dev(-moved)?$/m, 'namespace: dev-killed'));
    const newFiles = generateRepo(await readRepoInputs(dir));
    const touched = [...new Set([...Object.keys(oldFiles), ...Object.keys(newFiles)])].filter((f) => oldFiles[f] !== newFiles[f]);
    expect(touched.length).toBeGreaterThan(3);
    const state = (f: string, files: Record<string, string>) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined) === files[f];
    let recovered = 0;
    let finished = 0;
    try {
      // Kill at fractions of how long a run takes on this machine right now, so the kills land while
      // generate works rather than all before it starts or after it ends.
      const started = Date.now();
      await runScript(dir, 'generate', ['--check']);
      const runMs = Date.now() - started;
      for (const delayMs of [0.5, 0.65, 0.8, 0.9, 1.0, 1.1].map((f) => Math.round(f * runMs))) {
        attacks++;
        // back to the old tree
        for (const f of touched) {
          if (oldFiles[f] === undefined) rmSync(join(dir, f), { force: true });
          else writeFileSync(join(dir, f), oldFiles[f]!);
        }
        const child = spawn(process.execPath, ['scripts/generate.ts'], { cwd: dir, stdio: 'ignore' });
        const closed = new Promise((r) => child.once('close', r));
        await new Promise((r) => setTimeout(r, delayMs));
        child.kill('SIGKILL');
        await closed;
        const next = await runScript(dir, 'generate', ['--check']);
        if (next.err.includes('recovered an interrupted run')) recovered++;
        const allOld = touched.every((f) => state(f, oldFiles));
        const allNew = touched.every((f) => state(f, newFiles));
        expect(allOld || allNew, `killed after ${delayMs} ms: ${next.err}`).toBe(true);
        expect(next.code).toBe(allNew ? 0 : 1);
        if (allNew) finished++;
        expect(existsSync(join(dir, TX_DIR))).toBe(false);
        held++;
      }
    } finally {
      writeFileSync(spec, original);
      await runScript(dir, 'generate', []);
    }
    // Which moment a kill hits depends on the machine's load: the figures say how the kills landed.
    recordFigures({ inputsKills: 6, inputsKillsRecoveredMidTransaction: recovered, inputsKillsAfterFinish: finished });
  }, 240_000);

  it('a run killed before its commit point is discarded by any command (here status), which says so', async () => {
    const tx = join(dir, TX_DIR, '1-uncommitted');
    mkdirSync(tx, { recursive: true });
    writeFileSync(join(tx, 'f0'), 'half-staged');
    const before = snapshotTree(dir);
    attacks++;
    const r = await runScript(dir, 'status', ['dev']);
    expect(r.err).toContain('status: discarded an interrupted run killed before its commit point: the tree was left as it was');
    expect(existsSync(join(dir, TX_DIR))).toBe(false);
    const after = snapshotTree(dir);
    for (const k of Object.keys(before)) if (!k.startsWith(TX_DIR)) expect(after[k], k).toEqual(before[k]);
    expect(readdirSync(dir)).not.toContain(TX_DIR);
    held++;
  }, 60_000);
});
