// Which environments a change reaches (scripts/lib/review/diff/reach.ts): the proof that lets a review
// walk only a few overlays must give exactly the full walk's answer. Random repositories (overlays that
// name each other's files, shared bases and components, escaped and quoted references, symbolic links,
// environment names that are prefixes of others) and random changes, on every side a review reads: the
// base commit, the working tree and a head commit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync, existsSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { candidateZones, commitIndex, environmentsReached, spelledSegments, walkReached, workingTreeIndex } from '../../scripts/lib/review/diff/reach.ts';
import { changedFiles, workingTreeChanges } from '../../scripts/lib/review/diff/git.ts';
import { fsTree, gitTree } from '../../scripts/lib/render/tree.ts';
import { prng } from './scaled-repo.ts';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const ENVS = ['alpha', 'alpha-eu', 'beta', 'gamma'];
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

function repo(): { root: string; git: (...args: string[]) => string; write: (rel: string, text: string) => void } {
  const root = mkdtempSync(join(tmpdir(), 'reach-'));
  made.push(root);
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', env: GIT_ENV });
  git('init', '-q', '-b', 'main');
  const write = (rel: string, text: string): void => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  return { root, git, write };
}

/** A random repository: four overlays, a helper directory under overlays/, shared bases and a component. */
function randomRepository(random: () => number): ReturnType<typeof repo> & { files: string[] } {
  const r = repo();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const files: string[] = [];
  const put = (rel: string, text: string): void => {
    r.write(rel, text);
    files.push(rel);
  };
  const quoted = (ref: string): string => {
    const roll = random();
    // The last segment's first character escaped: the bytes do not spell the name, the parsed string does.
    if (roll < 0.15) {
      const at = ref.lastIndexOf('/') + 1;
      return `"${ref.slice(0, at)}\\x${ref.charCodeAt(at).toString(16).padStart(2, '0')}${ref.slice(at + 1)}"`;
    }
    if (roll < 0.25) return `'${ref}'`;
    return ref;
  };
  for (const dir of ['base', 'base/sub', 'comp']) {
    put(`${dir}/r1.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${dir.replace('/', '-')}\n`);
    const refs = ['r1.yaml'];
    if (dir === 'base' && random() < 0.5) refs.push('sub');
    // Rarely a shared kustomization names an overlay's file: every environment may then be reached.
    if (random() < 0.08) refs.push(`../${dir.includes('/') ? '../' : ''}overlays/${pick(ENVS)}/r1.yaml`);
    put(`${dir}/kustomization.yaml`, `${dir === 'comp' ? 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n' : ''}resources:\n${refs.map((x) => `- ${quoted(x)}\n`).join('')}`);
  }
  put('overlays/lib/shared/r1.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: lib\n');
  put('overlays/lib/shared/kustomization.yaml', 'resources:\n- r1.yaml\n');
  for (const env of ENVS) {
    put(`overlays/${env}/r1.yaml`, `apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${env}\n`);
    put(`overlays/${env}/.env`, `LOG_LEVEL=${pick(['info', 'debug'])}\n`);
    put(`overlays/${env}/patch.yaml`, `apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${env}\n  labels:\n    patched: "yes"\n`);
    const resources = ['r1.yaml', '../../base'];
    if (random() < 0.3) resources.push('../lib/shared');
    if (random() < 0.25) {
      const other = pick(ENVS.filter((e) => e !== env));
      resources.push(random() < 0.5 ? `../${other}` : `../${other}/r1.yaml`);
    }
    const components = random() < 0.5 ? ['../../comp'] : [];
    const envs = random() < 0.2 ? `../${pick(ENVS)}/.env` : '.env';
    const flow = random() < 0.3;
    put(`overlays/${env}/kustomization.yaml`, [
      flow ? `resources: [${resources.map(quoted).join(', ')}]` : `resources:\n${resources.map((x) => `- ${quoted(x)}`).join('\n')}`,
      ...(components.length > 0 ? [`components:\n- ${components[0]}`] : []),
      `configMapGenerator:\n- name: cfg\n  envs:\n  - ${quoted(envs)}`,
      `patches:\n- path: ${quoted('patch.yaml')}`,
      '',
    ].join('\n'));
  }
  put('argocd/apps/alpha.yaml', 'kind: Application\n');
  // Sometimes a symbolic link: the proof must step aside.
  if (random() < 0.1) {
    symlinkSync('../beta', join(r.root, 'overlays/lib/beta-link'));
  }
  r.git('add', '-A');
  r.git('commit', '-q', '-m', 'base');
  return { ...r, files };
}

/** One to three random edits to the working tree. */
function randomChange(random: () => number, r: ReturnType<typeof randomRepository>): void {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const steps = 1 + Math.floor(random() * 3);
  for (let i = 0; i < steps; i++) {
    const roll = random();
    const file = pick(r.files);
    if (roll < 0.45) {
      if (existsSync(join(r.root, file))) appendFileSync(join(r.root, file), file.endsWith('.env') ? `X${i}=1\n` : `# edit ${i}\n`);
    } else if (roll < 0.6) {
      if (existsSync(join(r.root, file))) unlinkSync(join(r.root, file));
    } else if (roll < 0.8) {
      r.write(`${pick(['overlays/alpha', 'overlays/alpha-eu', 'overlays/beta', 'overlays/gamma', 'overlays/lib', 'base', 'argocd/apps'])}/new-${i}.yaml`, 'kind: ConfigMap\n');
    } else {
      // A reference added to an overlay: to another overlay's directory or file.
      const env = pick(ENVS);
      const k = join(r.root, `overlays/${env}/kustomization.yaml`);
      if (existsSync(k)) appendFileSync(k, `generators: []\ncrds:\n- ${pick(['../beta/r1.yaml', '../../overlays/gamma/patch.yaml', 'r1.yaml', '../alpha/new-0.yaml'])}\n`);
    }
  }
}

describe('environments a change reaches', () => {
  it('spells the segments a reference must name', () => {
    expect(spelledSegments('overlays/x', 'overlays/e/.env')).toEqual(['e', '.env']);
    expect(spelledSegments('apps/users-api/base', 'overlays/e/.env')).toEqual(['overlays', 'e', '.env']);
    expect(spelledSegments('overlays/e', 'overlays/e/.env')).toEqual(['.env']);
    // `..` reaches an ancestor without naming it.
    expect(spelledSegments('overlays/e/sub', 'overlays/e')).toEqual([]);
    expect(spelledSegments('', 'base')).toEqual(['base']);
  });

  it('a one-overlay change in a repository whose overlays name nothing of each other walks one overlay', async () => {
    const r = repo();
    for (const env of ['dev', 'prod', 'prod-eu']) {
      r.write(`overlays/${env}/kustomization.yaml`, 'resources:\n- ../../base\nconfigMapGenerator:\n- name: c\n  envs:\n  - .env\n');
      r.write(`overlays/${env}/.env`, 'A=1\n');
    }
    r.write('base/kustomization.yaml', 'resources:\n- cm.yaml\n');
    r.write('base/cm.yaml', 'kind: ConfigMap\n');
    r.git('add', '-A');
    r.git('commit', '-q', '-m', 'base');
    const tree = await gitTree(r.root, 'HEAD');
    const index = commitIndex(tree)!;
    expect([...candidateZones(index, ['overlays/prod/.env'])!]).toEqual(['prod']);
    // "prod" is spelled inside "prod-eu": still exact, no fallback needed since prod-eu's kustomization does not hold "prod".
    expect(environmentsReached(tree, ['overlays/prod/.env'], index)).toEqual(['prod']);
    // A change to the shared base: the proof steps aside, every overlay is walked.
    expect(candidateZones(index, ['base/cm.yaml'])).toBeUndefined();
    expect(environmentsReached(tree, ['base/cm.yaml'], index)).toEqual(['dev', 'prod', 'prod-eu']);
  });

  it('gives the full walk\'s answer on random repositories and changes, on every side a review reads', async () => {
    let proved = 0;
    let cases = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const random = prng(seed);
      const r = randomRepository(random);
      const base = r.git('rev-parse', 'HEAD').trim();
      randomChange(random, r);
      const { files } = await workingTreeChanges(r.root, base);
      if (files.length === 0) continue;
      cases++;
      const baseTree = await gitTree(r.root, base);
      const baseIndex = commitIndex(baseTree);
      const fsSide = fsTree(r.root);
      const fsIndex = workingTreeIndex(r.root, baseIndex, files);
      // Before the walk (kustomizations read as bytes), then after it (known to the parsed memo).
      const fastBase = environmentsReached(baseTree, files, baseIndex);
      const fastFs = environmentsReached(fsSide, files, fsIndex);
      const context = `seed ${seed}, changed ${files.join(' ')}`;
      expect(fastBase, context).toEqual(walkReached(baseTree, files));
      expect(fastFs, context).toEqual(walkReached(fsTree(r.root), files));
      expect(environmentsReached(baseTree, files, commitIndex(baseTree)), context).toEqual(fastBase);
      r.git('add', '-A');
      r.git('commit', '-q', '-m', 'head');
      const headTree = await gitTree(r.root, 'HEAD');
      const committed = await changedFiles(r.root, base, r.git('rev-parse', 'HEAD').trim());
      expect(committed, context).toEqual(files);
      expect(environmentsReached(headTree, files, commitIndex(headTree)), context).toEqual(walkReached(headTree, files));
      if (baseIndex && candidateZones(baseIndex, files)) proved++;
    }
    // The proof is not idle: it decides a good share of the cases by itself.
    expect(cases).toBeGreaterThan(20);
    expect(proved).toBeGreaterThan(cases / 4);
    console.log(`reach proof decided ${proved} of ${cases} random changes`);
  }, 120_000);
});
