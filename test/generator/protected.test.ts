// Protected environments (issue 11: "Production's manual sync can be switched off by the change it should
// gate"). gitops.yaml `protected: [prod]`: the env keeps manual sync with prune and selfHeal off, its
// Application is neither pruned by the root nor cascade-deleted, delete-env needs --delete-protected,
// and validate reports a tampered Application as a `protected-environment` finding.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTECTED_LABEL, PROTECTED_POLICY } from '../../scripts/lib/inputs/rules.ts';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import { idOf } from '../../scripts/lib/render/normalize.ts';
import { crossEnvProblems } from '../../scripts/lib/inputs/index.ts';
import { POLICIES } from '../../scripts/lib/review/validate/policies.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import { committedSettings, envSpec, readTree, REPO } from './support.ts';
import { committedTree, copyToolkitTree } from '../support/repo-copy.ts';
import type { RepoInputs } from '../../scripts/lib/inputs/index.ts';

const MANUAL = { automated: false, prune: false, selfHeal: false };

function inputs(): RepoInputs {
  const settings = { ...committedSettings(), protected: ['prod'] };
  return {
    settings,
    envs: {
      dev: { spec: envSpec(settings, 'dev'), dotenv: 'LOG_LEVEL=info\n' },
      prod: { spec: envSpec(settings, 'prod', { sync: { ...MANUAL } }), dotenv: 'LOG_LEVEL=info\n' },
    },
  };
}
const app = (files: Record<string, string>, env: string): any => parseYamlStream(files[`argocd/apps/${env}.yaml`]!)[0];

describe('the generated Application of a protected environment', () => {
  it('is skipped by the root\'s prune and kept on a cascading delete, and has no resources-finalizer', () => {
    const prod = app(generateRepo(inputs()), 'prod');
    expect(prod.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
    expect(prod.metadata.labels[PROTECTED_LABEL]).toBe('true');
    expect(prod.metadata.finalizers).toBeUndefined();
    expect(prod.spec.syncPolicy.automated).toBeUndefined();
  });

  it('an unprotected environment keeps its finalizer (delete-env deletes its workloads)', () => {
    const dev = app(generateRepo(inputs()), 'dev');
    expect(dev.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
    expect(dev.metadata.annotations['argocd.argoproj.io/sync-options']).toBeUndefined();
    expect(dev.metadata.labels[PROTECTED_LABEL]).toBeUndefined();
  });

  it('the committed gitops.yaml protects prod and the committed argocd/apps/prod.yaml carries the guards', () => {
    expect(committedSettings().protected).toContain('prod');
    const prod: any = parseYamlStream(readFileSync(join(committedTree(), 'argocd/apps/prod.yaml'), 'utf8'))[0];
    expect(prod.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
    expect(prod.metadata.finalizers).toBeUndefined();
  });
});

describe('a protected environment cannot lose its guards', () => {
  it.each([
    ['become automated', { automated: true, prune: false, selfHeal: false }, ['/sync/automated']],
    ['arm prune', { automated: false, prune: true, selfHeal: false }, ['/sync/prune']],
    ['arm selfHeal', { automated: false, prune: false, selfHeal: true }, ['/sync/selfHeal']],
    ['take the defaults', { automated: true, prune: true, selfHeal: true }, ['/sync/automated', '/sync/prune', '/sync/selfHeal']],
  ])('refuses to %s, naming the policy, the file and the field', (_label, sync, paths) => {
    const i = inputs();
    i.envs.prod!.spec.sync = sync;
    const problems = crossEnvProblems(i.settings, i.envs);
    expect(problems.map((p) => p.path)).toEqual(paths);
    for (const p of problems) {
      expect(p.file).toBe('overlays/prod/env.yaml');
      expect(p.message).toMatch(new RegExp(`^\\[${PROTECTED_POLICY}\\] environment prod is protected`));
      expect(p.fix).toMatch(/automated: false, prune: false, selfHeal: false/);
    }
  });

  it('an unprotected environment may be automated', () => {
    const i = inputs();
    i.settings.protected = [];
    i.envs.prod!.spec.sync = { automated: true, prune: true, selfHeal: true };
    expect(crossEnvProblems(i.settings, i.envs)).toEqual([]);
  });
});

describe(`validate policy ${PROTECTED_POLICY}`, () => {
  const policy = POLICIES.find((p) => p.id === PROTECTED_POLICY)!;
  const check = (object: any) => policy.check([{ id: idOf(object), object }], 'argocd');

  it('finds nothing in the generated Applications', () => {
    const files = generateRepo(inputs());
    expect(check(app(files, 'prod'))).toEqual([]);
    expect(check(app(files, 'dev'))).toEqual([]);
  });

  it('reports a hand-edited protected Application: automated sync, the finalizer, the sync options removed', () => {
    const prod = app(generateRepo(inputs()), 'prod');
    prod.spec.syncPolicy.automated = { prune: true, selfHeal: true };
    prod.metadata.finalizers = ['resources-finalizer.argocd.argoproj.io'];
    delete prod.metadata.annotations['argocd.argoproj.io/sync-options'];
    const v = check(prod);
    expect(v.map((x) => x.path)).toEqual([
      '/spec/syncPolicy/automated',
      '/metadata/finalizers/0',
      '/metadata/annotations/argocd.argoproj.io~1sync-options',
      '/metadata/annotations/argocd.argoproj.io~1sync-options',
    ]);
    expect(v.every((x) => x.policy === PROTECTED_POLICY)).toBe(true);
    expect(v.map((x) => x.message).join('\n')).toMatch(/lacks Prune=false[\s\S]*lacks Delete=false/);
  });

  it('accepts automated.enabled: false (Argo CD 3.x switch) as manual', () => {
    const prod = app(generateRepo(inputs()), 'prod');
    prod.spec.syncPolicy.automated = { enabled: false };
    expect(check(prod)).toEqual([]);
  });
});

// End to end, as a user runs the commands, in a temporary git repository.
const COPY = ['gitops.yaml', 'overlays', 'apps/users-api/src', 'apps/users-api/deploy', 'platform', 'argocd', 'previews', 'schemas', 'scripts', 'package.json', 'tsconfig.json'];
let dir: string;
const run = (script: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [`scripts/${script}.ts`, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const gitFiles = () => execFileSync('git', ['ls-files', '-s'], { cwd: dir, encoding: 'utf8' });

describe('the CLIs on a repository that protects prod', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gitops-protected-'));
    copyToolkitTree(dir, COPY);
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    execFileSync('git', ['init', '-q', dir]);
    const g = run('generate');
    if (g.code !== 0) throw new Error(g.err);
    execFileSync('git', ['add', '-A'], { cwd: dir });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generate and validate refuse sync.automated: true in overlays/prod/env.yaml (exit 2, policy id) and write nothing', () => {
    const file = join(dir, 'overlays/prod/env.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/^sync: .*$/m, 'sync: { automated: true, prune: true, selfHeal: true }'));
    try {
      const before = readTree(dir);
      const r = run('generate');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/overlays\/prod\/env\.yaml \/sync\/automated: \[protected-environment\] environment prod is protected/);
      expect(readTree(dir)).toEqual(before);
      // validate runs generate's input checks first: the same finding, with the policy id.
      const v = run('validate');
      expect(v.code).toBe(2);
      expect(v.err).toMatch(/overlays\/prod\/env\.yaml \/sync\/automated: \[protected-environment\]/);
    } finally {
      writeFileSync(file, original);
    }
  }, 60_000);

  it('validate reports a hand-edited argocd/apps/prod.yaml as protected-environment findings (exit 1)', () => {
    const file = join(dir, 'argocd/apps/prod.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/^    argocd\.argoproj\.io\/sync-options: .*\n/m, '').replace(/^  syncPolicy:\n/m, '  syncPolicy:\n    automated: { prune: true }\n'));
    try {
      const r = run('validate');
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/argocd\/apps\/prod\.yaml: \[protected-environment\] Application argocd\/prod-users-api \/metadata\/annotations\/argocd\.argoproj\.io~1sync-options: protected environment prod's Application lacks Prune=false/);
      expect(r.out).toMatch(/\[protected-environment\] .* lacks Delete=false/);
      expect(r.out).toMatch(/\[protected-environment\] Application argocd\/prod-users-api \/spec\/syncPolicy\/automated: protected environment prod syncs automatically/);
    } finally {
      writeFileSync(file, original);
    }
  }, 120_000);

  it('delete-env prod --yes is refused (exit 2), nothing deleted', () => {
    const before = readTree(dir);
    const index = gitFiles();
    const r = run('delete-env', 'prod', '--yes');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[protected-environment\] environment prod is protected; nothing was deleted/);
    expect(r.err).toMatch(/--delete-protected/);
    expect(readTree(dir)).toEqual(before);
    expect(gitFiles()).toBe(index);
  }, 60_000);

  it('delete-env prod --yes --delete-protected deletes it from git and says the Application stays in Argo CD', () => {
    const r = run('delete-env', 'prod', '--yes', '--delete-protected');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/deleted argocd\/apps\/prod\.yaml/);
    expect(r.out).toMatch(/prod is protected: Argo CD's root application will NOT prune the Application prod-users-api/);
  }, 60_000);

  it('new-env prod afterwards creates it protected: manual sync, no prune, no selfHeal, guarded Application', () => {
    const r = run('new-env', 'prod');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/prod is protected \(gitops.yaml protected\): its sync is manual/);
    const spec: any = parseYamlStream(readFileSync(join(dir, 'overlays/prod/env.yaml'), 'utf8'))[0];
    expect(spec.sync).toEqual(MANUAL);
    const prod: any = parseYamlStream(readFileSync(join(dir, 'argocd/apps/prod.yaml'), 'utf8'))[0];
    expect(prod.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
    expect(prod.spec.syncPolicy.automated).toBeUndefined();
  }, 60_000);
});
