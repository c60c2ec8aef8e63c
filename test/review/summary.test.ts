// The change summary: what a reviewer reads first, computed from the renders and pointing at the source
// line. Unit tests on objects, then the CLI on a copy of this repository (the real generator, kustomize).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeRender } from '../../scripts/lib/render/normalize.ts';
import { MASK, MASK_CHANGED } from '../../scripts/lib/review/diff/diffRenders.ts';
import { dotenvLine, summarizeEnvironment, yamlLine } from '../../scripts/lib/review/diff/summary.ts';
import { toYamlStream } from '../../scripts/lib/core/yaml.ts';
import { runScript } from './cli.ts';
import { createRepoCopy } from './repo-copy.ts';
import type { RepoCopy } from './repo-copy.ts';

type Obj = Record<string, unknown>;

function deployment(o: { tag?: string; replicas?: number; cpu?: string; config?: string } = {}): Obj {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users-api', namespace: 'prod' },
    spec: {
      replicas: o.replicas ?? 3,
      template: { spec: { containers: [{
        name: 'users-api', image: `ghcr.io/example-org/users-api:${o.tag ?? '0.3.0'}`,
        envFrom: [{ configMapRef: { name: o.config ?? 'users-api-config-aaaaaaaaaa' } }],
        resources: { requests: { cpu: o.cpu ?? '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      }] } },
    },
  };
}
const configMap = (name: string, data: Obj): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'prod' }, data });
const secret = (data: Obj): Obj => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'extra', namespace: 'prod' }, data });
const mongo = (version: string, members: number, size: string): Obj => ({
  apiVersion: 'mongodbcommunity.mongodb.com/v1', kind: 'MongoDBCommunity', metadata: { name: 'users-db', namespace: 'prod' },
  spec: { members, version, type: 'ReplicaSet', statefulSet: { spec: { volumeClaimTemplates: [{ metadata: { name: 'data-volume' }, spec: { resources: { requests: { storage: size } } } }] } } },
});
const application = (automated: boolean): Obj => ({
  apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'prod-users-api', namespace: 'argocd' },
  spec: { syncPolicy: automated ? { automated: { prune: true, selfHeal: true } } : { syncOptions: ['PruneLast=true'] } },
});
const render = (...objects: Obj[]) => normalizeRender(toYamlStream(objects));

const ENV_YAML = 'namespace: prod\nreplicas: 3\ntag: 0.3.0\nresources:\n  requests: { cpu: 250m, memory: 256Mi }\nmongodb:\n  members: 3\n  version: 8.0.21\n  storage: { size: 20Gi }\nsync: { automated: false }\n';
const DOTENV = '# settings\nLOG_LEVEL=info\nTRUST_PROXY=true\n';

describe('change summary', () => {
  it('an image bump: one verdict line naming the tags and the workload that rolls, pointing at env.yaml tag', () => {
    const s = summarizeEnvironment('prod', render(deployment()), render(deployment({ tag: '0.4.0' })), { envYaml: ENV_YAML });
    expect(s.verdict).toBe('image 0.3.0 → 0.4.0; rolls users-api');
    expect(s.items).toEqual([{ kind: 'image', resource: 'Deployment prod/users-api', what: 'users-api', from: '0.3.0', to: '0.4.0', source: { file: 'overlays/prod/env.yaml', line: 3, field: 'tag' } }]);
    expect(s.rolls).toEqual(['Deployment prod/users-api']);
  });

  it('ConfigMap keys added, changed and removed with their values, across a hash-suffix rename, from .env lines', () => {
    const base = render(configMap('users-api-config-aaaaaaaaaa', { LOG_LEVEL: 'info', OLD: 'x' }), deployment());
    const head = render(configMap('users-api-config-bbbbbbbbbb', { LOG_LEVEL: 'warn', TRUST_PROXY: 'true' }), deployment({ config: 'users-api-config-bbbbbbbbbb' }));
    const s = summarizeEnvironment('prod', base, head, { dotenv: DOTENV });
    expect(s.items.map((i) => [i.what, i.from, i.to, i.source?.line])).toEqual([
      ['LOG_LEVEL', 'info', 'warn', 2],
      ['OLD', 'x', undefined, undefined],
      ['TRUST_PROXY', undefined, 'true', 3],
    ]);
    expect(s.items[0]!.source).toEqual({ file: 'overlays/prod/.env', line: 2, field: 'LOG_LEVEL' });
    expect(s.verdict).toBe('config LOG_LEVEL info → warn, -OLD, +TRUST_PROXY; rolls users-api');
  });

  it('Secret data: says which keys changed, never their values', () => {
    const s = summarizeEnvironment('prod', render(secret({ a: 'b2xk', gone: 'eA==' })), render(secret({ a: 'bmV3', added: 'eQ==' })));
    expect(s.items.map((i) => [i.kind, i.what, i.from, i.to])).toEqual([
      ['secret', 'a', MASK, MASK_CHANGED], ['secret', 'added', undefined, MASK], ['secret', 'gone', MASK, undefined],
    ]);
    expect(JSON.stringify(s)).not.toMatch(/b2xk|bmV3|eA==|eQ==/);
    expect(s.verdict).toBe('secret 3 keys changed; no pod restarts');
  });

  it('replicas and resources, each from its env.yaml field and line', () => {
    const s = summarizeEnvironment('prod', render(deployment()), render(deployment({ replicas: 4, cpu: '500m' })), { envYaml: ENV_YAML });
    expect(s.items).toEqual([
      { kind: 'replicas', resource: 'Deployment prod/users-api', what: 'replicas', from: '3', to: '4', source: { file: 'overlays/prod/env.yaml', line: 2, field: 'replicas' } },
      { kind: 'resources', resource: 'Deployment prod/users-api', what: 'users-api requests.cpu', from: '250m', to: '500m', source: { file: 'overlays/prod/env.yaml', line: 5, field: 'resources.requests.cpu' } },
    ]);
    expect(s.verdict).toBe('replicas 3 → 4; resources users-api requests.cpu 250m → 500m; rolls users-api');
  });

  it('MongoDB version, members and storage; the operator restarts members on a version change', () => {
    const s = summarizeEnvironment('prod', render(mongo('8.0.21', 3, '20Gi')), render(mongo('8.0.22', 5, '40Gi')), { envYaml: ENV_YAML });
    expect(s.items.map((i) => [i.what, i.from, i.to, i.source?.field, i.source?.line])).toEqual([
      ['version', '8.0.21', '8.0.22', 'mongodb.version', 8],
      ['members', '3', '5', 'mongodb.members', 7],
      ['storage', '20Gi', '40Gi', 'mongodb.storage.size', 9],
    ]);
    expect(s.verdict).toBe('MongoDB version 8.0.21 → 8.0.22; MongoDB members 3 → 5; MongoDB storage 20Gi → 40Gi; rolls users-db');
  });

  it('MongoDB resources: from env.yaml mongodb.resources, and the members restart (the StatefulSet template changes)', () => {
    const withMongod = (cpu: string): Obj => {
      const m = mongo('8.0.21', 3, '20Gi');
      ((m.spec as Obj).statefulSet as Obj).spec = { ...(((m.spec as Obj).statefulSet as Obj).spec as Obj), template: { spec: { containers: [{ name: 'mongod', resources: { requests: { cpu } } }] } } };
      return m;
    };
    const yaml = `${ENV_YAML}  resources:\n    mongod:\n      requests: { cpu: 500m }\n`.replace('sync: { automated: false }\n', '') + 'sync: { automated: false }\n';
    const s = summarizeEnvironment('prod', render(withMongod('500m')), render(withMongod('1')), { envYaml: yaml });
    expect(s.items).toEqual([{ kind: 'resources', resource: 'MongoDBCommunity prod/users-db', what: 'mongod requests.cpu', from: '500m', to: '1', source: { file: 'overlays/prod/env.yaml', line: 12, field: 'mongodb.resources.mongod.requests.cpu' } }]);
    expect(s.rolls).toEqual(['MongoDBCommunity prod/users-db']);
  });

  it("the Application's sync policy, and objects added or removed", () => {
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'users-api', namespace: 'prod' }, spec: { minAvailable: 1 } };
    const s = summarizeEnvironment('prod', render(application(false), pdb), render(application(true)), { envYaml: ENV_YAML });
    expect(s.items.map((i) => [i.kind, i.what, i.from, i.to])).toEqual([
      ['sync', 'syncPolicy', 'manual', 'automated (prune, selfHeal)'],
      ['removed', 'PodDisruptionBudget prod/users-api', undefined, undefined],
    ]);
    expect(s.items[0]!.source).toEqual({ file: 'overlays/prod/env.yaml', line: 10, field: 'sync' });
    expect(s.verdict).toBe('sync manual → automated (prune, selfHeal); -1 object; no pod restarts');
  });

  it('a new environment, and a change the summary has no words for', () => {
    expect(summarizeEnvironment('qa', undefined, render(deployment(), configMap('c', {}))).verdict).toBe('new environment (2 objects)');
    const labelled = deployment();
    (labelled.metadata as Obj).labels = { team: 'a' };
    expect(summarizeEnvironment('prod', render(deployment()), render(labelled)).verdict).toBe('1 resource changed; no pod restarts');
  });

  it('finds source lines in YAML (block and flow mappings) and .env files', () => {
    expect(yamlLine(ENV_YAML, ['mongodb', 'storage', 'size'])).toEqual({ line: 9, field: 'mongodb.storage.size' });
    expect(yamlLine(ENV_YAML, ['mongodb', 'nothing'])).toEqual({ line: 6, field: 'mongodb' });
    expect(yamlLine('a: [', ['a'])).toBeUndefined();
    expect(dotenvLine(DOTENV, 'TRUST_PROXY')).toBe(3);
    expect(dotenvLine(DOTENV, 'LOG')).toBeUndefined();
  });
});

describe('diff opens with the summary (real generator and kustomize, a copy of this repository)', () => {
  let repo: RepoCopy;
  const lineOf = (file: string, prefix: string) => repo.read(file).split('\n').findIndex((l) => l.startsWith(prefix)) + 1;
  beforeAll(() => {
    repo = createRepoCopy();
    repo.edit('overlays/prod/env.yaml', /^tag: .*$/m, 'tag: 0.9.0');
    // prod pins its image by digest (docs/release.md, "Digests"): a new build comes with its own.
    repo.edit('overlays/prod/env.yaml', /^digest: .*$/m, `digest: sha256:${'9'.repeat(64)}`);
    repo.edit('overlays/staging/.env', /^LOG_LEVEL=.*$/m, 'LOG_LEVEL=warn');
    repo.edit('overlays/staging/env.yaml', /^sync: .*$/m, 'sync: { automated: false, prune: false, selfHeal: false }');
    repo.generate();
    repo.commit('prod 0.9.0; staging: quieter, manual sync');
  }, 120_000);
  afterAll(() => repo?.cleanup());

  it('markdown: header with both commits and the Kustomize version, verdicts in the table, links to the head commit', async () => {
    const head = repo.git('rev-parse', '--short', 'HEAD').trim();
    const base = repo.git('rev-parse', '--short', 'HEAD~1').trim();
    const url = 'https://github.com/example-org/gitops-users/blob/0123abc';
    const r = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'markdown', '--source-url', url, '--page-url', 'https://example.invalid/artifacts/7'], repo.root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Base: \`${base}\` baseline: the repository as generated<br>Head: \`${head}\` prod 0.9.0; staging: quieter, manual sync<br>Kustomize: `);
    expect(r.stdout).toMatch(/Kustomize: (kubectl kustomize|kustomize) v5\./);
    expect(r.stdout).toContain('**[Review page](https://example.invalid/artifacts/7)**: the same diff as one self-contained HTML file');
    const row = (env: string) => r.stdout.split('\n').find((l) => l.startsWith(`| ${env} |`));
    expect(row('prod')).toMatch(/\| image 0\.1\.0@sha256:[0-9a-f]{12}… → 0\.9\.0@sha256:9{12}…; rolls users-api \|$/);
    expect(row('staging')).toMatch(/\| config LOG\\_LEVEL info → warn; sync automated \(prune, selfHeal\) → manual; rolls users-api \|$/);
    expect(row('dev')).toBeUndefined();
    expect(r.stdout).toMatch(/<summary><b>prod<\/b>: 0 added, \d+ changed, 0 removed — image 0\.1\.0@sha256:[0-9a-f]{12}… → 0\.9\.0@sha256:9{12}…; rolls users-api<\/summary>/);
    expect(r.stdout).toMatch(/^\* image \S+ `0\.1\.0@sha256:[0-9a-f]{12}…` → `0\.9\.0@sha256:9{12}…` in Deployment prod\/users-api — \[/m);
    expect(r.stdout).toContain(`\` in Deployment prod/users-api — [overlays/prod/env.yaml: tag](${url}/overlays/prod/env.yaml#L${lineOf('overlays/prod/env.yaml', 'tag:')})`);
    expect(r.stdout).toContain(`**~ Deployment prod/users-api**<br>from [overlays/prod/env.yaml: tag](${url}/overlays/prod/env.yaml#L${lineOf('overlays/prod/env.yaml', 'tag:')})`);
    expect(r.stdout).toContain(`[overlays/staging/.env: LOG\\_LEVEL](${url}/overlays/staging/.env#L${lineOf('overlays/staging/.env', 'LOG_LEVEL=')})`);
    expect(r.stdout).toContain(`[overlays/staging/env.yaml: sync](${url}/overlays/staging/env.yaml#L${lineOf('overlays/staging/env.yaml', 'sync:')})`);
  });

  it('text and json carry the same summary', async () => {
    const text = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD'], repo.root);
    expect(text.stdout.split('\n').slice(0, 10).join('\n')).toMatch(/summary\n {2}prod: image 0\.1\.0@sha256:[0-9a-f]{12}… → 0\.9\.0@sha256:9{12}…; rolls users-api\n {2}staging: config LOG_LEVEL info → warn; sync automated \(prune, selfHeal\) → manual; rolls users-api\n/);
    expect(text.stdout).toMatch(/^ {3}image \S+ 0\.1\.0@sha256:[0-9a-f]{12}… → 0\.9\.0@sha256:9{12}… \(Deployment prod\/users-api\)  ← overlays\/prod\/env\.yaml:\d+ tag$/m);
    expect(text.stdout).toContain(`(Deployment prod/users-api)  ← overlays/prod/env.yaml:${lineOf('overlays/prod/env.yaml', 'tag:')} tag`);
    const json = JSON.parse((await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'json'], repo.root)).stdout) as {
      headCommit: { sha: string; subject: string }; kustomize: string; envs: Array<{ env: string; summary: { verdict: string; rolls: string[] } }>;
    };
    expect(json.headCommit.subject).toBe('prod 0.9.0; staging: quieter, manual sync');
    expect(json.envs.map((e) => [e.env, e.summary.rolls])).toEqual([['prod', ['Deployment prod/users-api']], ['staging', ['Deployment staging/users-api']]]);
  });
});
