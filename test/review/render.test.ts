import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectInputs } from '../../scripts/lib/render/inputs.ts';
import { fsTree } from '../../scripts/lib/render/tree.ts';
import { normalizeRender, renderedText } from '../../scripts/lib/render/normalize.ts';
import { cleanKustomizeMessage, fileAtFault } from '../../scripts/lib/render/kustomize.ts';
import { countingKustomize, runScript } from './cli.ts';
import { createFixtureRepo } from './fixture.ts';
import type { FixtureRepo } from './fixture.ts';

let repo: FixtureRepo;
const temporary: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};
beforeAll(() => {
  repo = createFixtureRepo();
});
afterAll(() => {
  repo.cleanup();
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const builds = (log: string): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split('/').at(-1)!).sort();

describe('render', () => {
  it('renders every environment, then rebuilds nothing when nothing changed and only the environment whose input changed', async () => {
    const { env, log, dir } = countingKustomize();
    temporary.push(dir);
    const first = await runScript('render', [], repo.root, env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('# environment: dev');
    expect(first.stdout).toContain('namespace: users-prod');
    expect(builds(log)).toEqual(['dev', 'prod', 'staging']);

    writeFileSync(log, '');
    const second = await runScript('render', [], repo.root, env);
    expect(second.stdout).toBe(first.stdout);
    expect(builds(log)).toEqual([]);

    repo.write({ 'overlays/staging/.env': 'LOG_LEVEL=debug\nPORT=8080\n' });
    const third = await runScript('render', [], repo.root, env);
    expect(third.stdout).toContain('LOG_LEVEL: debug');
    expect(builds(log)).toEqual(['staging']);
    repo.git('checkout', '--', 'overlays/staging/.env');
  });

  it('a change to a shared base invalidates every environment', () => {
    const inputs = collectInputs(repo.root, 'overlays/dev');
    expect(inputs.files).toEqual([
      'apps/users-api/deploy/deployment.yaml',
      'apps/users-api/deploy/kustomization.yaml',
      'apps/users-api/deploy/networkpolicy.yaml',
      'apps/users-api/deploy/pdb.yaml',
      'apps/users-api/deploy/service.yaml',
      'overlays/dev/.env',
      'overlays/dev/kustomization.yaml',
      'overlays/dev/replicas.yaml',
      'platform/mongodb/replicaset/kustomization.yaml',
      'platform/mongodb/replicaset/resources.yaml',
    ]);
  });

  it('--out writes one canonical file per environment and replaces a different file only with --force', async () => {
    const out = tempDir('render-out-');
    const r = await runScript('render', ['staging', 'prod', '--out', out], repo.root);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['prod.yaml', 'staging.yaml']);
    expect(readFileSync(join(out, 'prod.yaml'), 'utf8')).toContain('namespace: users-prod');
    writeFileSync(join(out, 'prod.yaml'), 'edited by hand\n');
    const refused = await runScript('render', ['staging', 'prod', '--out', out], repo.root);
    expect(refused.code).toBe(2);
    expect(readFileSync(join(out, 'prod.yaml'), 'utf8')).toBe('edited by hand\n');
    expect((await runScript('render', ['prod', '--out', out, '--force'], repo.root)).code).toBe(0);
    expect(readFileSync(join(out, 'prod.yaml'), 'utf8')).toContain('namespace: users-prod');
  });

  it('names the environment and the file at fault when kustomize fails', async () => {
    repo.write({ 'overlays/prod/replicas.yaml': 'kind: [\n' });
    try {
      const r = await runScript('render', [], repo.root);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('overlays/prod/replicas.yaml');
      expect(r.stderr).toContain('environment prod');
      expect(r.stderr).not.toContain('environment staging');
    } finally {
      repo.git('checkout', '--', 'overlays/prod/replicas.yaml');
    }
  });

  it('exits 2 naming kustomize and kubectl and how to install them when neither is on PATH', async () => {
    const empty = tempDir('empty-path-');
    const r = await runScript('render', [], repo.root, { ...process.env, PATH: empty });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/neither `kustomize` nor `kubectl`/);
    expect(r.stderr).toContain('https://kubectl.docs.kubernetes.io/installation/kustomize/');
  });

  it('rejects an unknown environment with exit 2', async () => {
    const r = await runScript('render', ['qa'], repo.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown environment "qa"');
  });
});

describe('input sets', () => {
  it('are the same from any starting directory of one tree: shared bases (a diamond) and a cycle', () => {
    const dir = tempDir('inputs-cycle-');
    const files: Record<string, string> = {
      'o/kustomization.yaml': 'resources: [../a, ../b]\npatches: [{ path: p.yaml }]\n',
      'o/p.yaml': 'kind: X\n',
      'a/kustomization.yaml': 'resources: [../c, a.yaml]\n',
      'a/a.yaml': 'kind: A\n',
      'b/kustomization.yaml': 'resources: [../c]\npatches: [{ path: ../c/c.yaml }]\n',
      'c/kustomization.yaml': 'resources: [c.yaml, ../a]\n',
      'c/c.yaml': 'kind: C\n',
    };
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    const tree = fsTree(dir);
    const all = ['a/a.yaml', 'a/kustomization.yaml', 'c/c.yaml', 'c/kustomization.yaml'];
    // Asked in this order on one reader (whose memo is shared), each answer is the one asked alone.
    for (const start of ['o', 'c', 'a', 'b']) {
      const shared = collectInputs(tree, start);
      expect(shared).toEqual(collectInputs(dir, start));
      expect(shared.files).toEqual(expect.arrayContaining(all));
    }
    const o = collectInputs(tree, 'o');
    expect(o.files).toEqual(['a/a.yaml', 'a/kustomization.yaml', 'b/kustomization.yaml', 'c/c.yaml', 'c/kustomization.yaml', 'o/kustomization.yaml', 'o/p.yaml']);
    expect(o.roles['c/c.yaml']).toBe('resource');
    expect(o.roles['o/p.yaml']).toBe('patch');
    expect(collectInputs(dir, 'b').roles['c/c.yaml']).toBe('resource');
  });

  it('follow components, generator files (key=path), legacy patch fields and nested bases; URLs are references', () => {
    const dir = tempDir('inputs-');
    const files: Record<string, string> = {
      'overlays/x/kustomization.yaml': [
        'resources: [../../base, https://github.com/example/repo//deploy?ref=v1]',
        'components: [../../components/tls]',
        'patchesStrategicMerge: [smp.yaml]',
        'patchesJson6902: [{ path: json.yaml, target: { kind: Deployment, name: a } }]',
        'configMapGenerator: [{ name: c, files: [cfg=conf/app.properties], envs: [.env] }]',
        'secretGenerator: [{ name: s, files: [missing.txt] }]',
        '',
      ].join('\n'),
      'overlays/x/smp.yaml': 'x', 'overlays/x/json.yaml': 'x', 'overlays/x/conf/app.properties': 'x', 'overlays/x/.env': 'A=1\n',
      'base/kustomization.yaml': 'resources: [deploy.yaml, nested]\n', 'base/deploy.yaml': 'x',
      'base/nested/kustomization.yaml': 'resources: [svc.yaml]\n', 'base/nested/svc.yaml': 'x',
      'components/tls/kustomization.yaml': 'kind: Component\npatches: [{ path: tls.yaml }]\n', 'components/tls/tls.yaml': 'x',
      'unrelated.yaml': 'x',
    };
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), content);
    }
    const inputs = collectInputs(dir, 'overlays/x');
    expect(inputs.files).toEqual(Object.keys(files).filter((f) => f !== 'unrelated.yaml').sort());
    expect(inputs.external).toEqual(['https://github.com/example/repo//deploy?ref=v1', 'missing:overlays/x/missing.txt']);
    expect(inputs.roles['overlays/x/smp.yaml']).toBe('patch');
    expect(inputs.roles['base/deploy.yaml']).toBe('resource');
  });
});

describe('normalised render', () => {
  it('is the same for documents and keys in another order', () => {
    const a = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: "1"\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n';
    const b = 'kind: Service\nmetadata:\n  name: s\napiVersion: v1\n---\ndata:\n  x: "1"\nmetadata:\n  name: a\nkind: ConfigMap\napiVersion: v1\n';
    expect(renderedText(normalizeRender(a))).toBe(renderedText(normalizeRender(b)));
  });
});

describe('kustomize error mapping', () => {
  it.each([
    [
      'E1125 11:28:43.833624    5781 run.go:72] "command failed" err="accumulating resources: accumulation err=\'accumulating resources from \'missing.yaml\': evalsymlink failure on \'/repo/overlays/dev/missing.yaml\' : lstat /repo/overlays/dev/missing.yaml: no such file or directory\'"',
      'overlays/dev/missing.yaml',
    ],
    ['Error: trouble configuring builtin PatchTransformer with config: `\npath: p.yaml\n`: unable to parse SM or JSON patch', 'overlays/dev/p.yaml'],
  ])('finds the file in %#', (stderr, file) => {
    expect(fileAtFault(cleanKustomizeMessage(stderr), '/repo/overlays/dev', '/repo')).toBe(file);
  });
});
