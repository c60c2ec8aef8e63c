// diff starts Kustomize on the working tree's changed overlays before it checks the repository and loads
// its modules (scripts/diff.ts, render/kustomize.ts `withHeadStart`): each build is still made once and
// only when the render cache does not hold it (render/cache-key.ts `headCached`). Counted with a
// Kustomize that logs each build it is asked for, in a copy of this repository.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TX_DIR } from '../../scripts/lib/core/atomic.ts';
import { GENERATED_PATHS } from '../../scripts/lib/core/layout.ts';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import { readRepoInputs } from '../../scripts/lib/inputs/index.ts';
import { withHeadStart } from '../../scripts/lib/render/kustomize.ts';
import { countingKustomize, runScript } from './cli.ts';
import { createRepoCopy } from './repo-copy.ts';
import type { RepoCopy } from './repo-copy.ts';

let copy: RepoCopy;
let kustomize: ReturnType<typeof countingKustomize>;
beforeAll(() => {
  copy = createRepoCopy();
  kustomize = countingKustomize();
});
afterAll(() => {
  copy.cleanup();
  rmSync(kustomize.dir, { recursive: true, force: true });
});

/** The builds since the last call: `working tree` or `base` and the overlay, sorted. */
function builds(): string[] {
  const lines = readFileSync(kustomize.log, 'utf8').split('\n').filter(Boolean);
  writeFileSync(kustomize.log, '');
  return lines.map((dir) => `${dir.startsWith(`${copy.root}/`) ? 'working tree' : 'base'} ${dir.split('/').slice(-2).join('/')}`).sort();
}

const diff = () => runScript('diff', ['--base', 'HEAD', '--format', 'json'], copy.root, kustomize.env);

describe('diff starts the changed overlay\'s build first', () => {
  it('builds each side of a one-overlay change once, and nothing the cache holds', async () => {
    copy.edit('overlays/dev/.env', /^LOG_LEVEL=.*$/m, 'LOG_LEVEL=error');
    copy.generate();
    const first = await diff();
    expect(first.code, first.stderr).toBe(0);
    const changed = (JSON.parse(first.stdout) as { envs: Array<{ env: string }> }).envs.map((e) => e.env);
    expect(changed).toContain('dev');
    // The head start is handed to the render: no overlay is built twice on a side.
    const made = builds();
    expect(made).toEqual([...new Set(made)]);
    expect(made).toEqual(expect.arrayContaining(['base overlays/dev', 'working tree overlays/dev']));

    // Both renders cached: the last review remembered the working tree's, so nothing starts at all.
    const again = await diff();
    expect(again.stdout).toBe(first.stdout);
    expect(builds()).toEqual([]);

    // A new value: only the working tree's side is new.
    copy.edit('overlays/dev/.env', /^LOG_LEVEL=.*$/m, 'LOG_LEVEL=warn');
    copy.generate();
    const third = await diff();
    expect(third.stdout).toContain('warn');
    const remade = builds();
    expect(remade).toEqual([...new Set(remade)]);
    expect(remade).toContain('working tree overlays/dev');
    expect(remade.filter((b) => b.startsWith('base '))).toEqual([]);
  }, 120_000);

  it('a diff that first recovers an interrupted generate reviews the recovered tree, not what it read before', async () => {
    // A generate killed just after its commit point: every generated file staged, the first one moved in.
    const spec = join(copy.root, 'overlays/dev/env.yaml');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace(/^namespace: .*$/m, 'namespace: dev-moved'));
    const generated = generateRepo(await readRepoInputs(copy.root));
    // The overlay's own kustomization is among the files still staged (moved in by the recovery only).
    const files = Object.keys(generated).filter((f) => existsSync(join(copy.root, f)) && readFileSync(join(copy.root, f), 'utf8') !== generated[f])
      .sort((a, b) => Number(a === 'overlays/dev/kustomization.yaml') - Number(b === 'overlays/dev/kustomization.yaml'));
    expect(files.at(-1)).toBe('overlays/dev/kustomization.yaml');
    expect(files.length).toBeGreaterThan(2);
    const tx = join(copy.root, TX_DIR, '0-killed');
    mkdirSync(tx, { recursive: true });
    const entries = files.map((path, i) => ({ path, staged: `f${i}` }));
    entries.forEach((e, i) => writeFileSync(join(tx, e.staged), generated[files[i]!]!));
    writeFileSync(join(tx, 'plan.json'), JSON.stringify({ owned: [...GENERATED_PATHS], entries }));
    writeFileSync(join(copy.root, files[0]!), generated[files[0]!]!);
    rmSync(join(tx, 'f0'));
    // Nothing cached: the overlay's build would start before the recovery.
    rmSync(join(copy.root, '.cache/render'), { recursive: true, force: true });
    builds();

    const recovering = await diff();
    expect(recovering.stderr).toContain('diff: recovered an interrupted run');
    expect(recovering.code, recovering.stderr).toBe(0);
    // The same review as one of the settled tree, from scratch: nothing read before the recovery was kept.
    rmSync(join(copy.root, '.cache'), { recursive: true, force: true });
    const settled = await diff();
    expect(settled.stderr).not.toContain('recovered');
    expect(recovering.stdout).toBe(settled.stdout);
    expect(recovering.stdout).toContain('dev-moved');
  }, 120_000);

  it('hands a started build to the first caller of the same directory only; others build as usual', async () => {
    const calls: string[] = [];
    const tool = { name: 'stand-in', identity: 'stand-in', build: async (root: string, dir: string) => { calls.push(`${root}|${dir}`); return `${dir} #${calls.length}`; } };
    const started = withHeadStart(tool, '/repo', ['overlays/dev']);
    expect(calls).toEqual(['/repo|overlays/dev']);
    // The same directory, however the root is spelled: the running build.
    expect(await started.build('/repo/', 'overlays/dev')).toBe('overlays/dev #1');
    // Asked again, or another directory or root: a build of its own.
    expect(await started.build('/repo', 'overlays/dev')).toBe('overlays/dev #2');
    expect(await started.build('/repo', 'overlays/prod')).toBe('overlays/prod #3');
    expect(await started.build('/worktree', 'overlays/dev')).toBe('overlays/dev #4');
    // A started build that fails and is never asked for is no unhandled rejection.
    withHeadStart({ ...tool, build: async () => { throw new Error('nobody asks'); } }, '/repo', ['overlays/qa']);
    await new Promise((resolve) => setImmediate(resolve));
  });
});
