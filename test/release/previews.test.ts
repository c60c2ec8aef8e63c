// Preview environments: who gets one (cap, TTL, drafts, forks, what changed), the CLI that gives and takes
// the label on GitHub (against the local GitHub stand-in), what the generator writes for them, and the
// sample preview rendered by real kustomize exactly as the ApplicationSet's overrides would render it.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changesDeployables, planPreviews, previewLine } from '../../scripts/lib/release/previews.ts';
import type { OpenPull } from '../../scripts/lib/release/previews.ts';
import { previewProblems } from '../../scripts/lib/preview-rules.ts';
import { envArgumentProblems } from '../../scripts/lib/repo-inputs.ts';
import { parseYamlStream } from '../../scripts/lib/yaml.ts';
import type { PreviewSettings, RepoSettings, EnvSpec } from '../../scripts/lib/spec.ts';
import { startGithubStandIn } from '../support/github-standin.ts';
import type { GithubStandIn } from '../support/github-standin.ts';
import { committedBaseline, REPO as CHECKOUT } from '../support/repo-copy.ts';

// The repository as committed; the scripts from this checkout.
const REPO = committedBaseline();

const cfg = { label: 'preview', maxConcurrent: 2, ttlHours: 72 };
const NOW = new Date('2026-12-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const pull = (number: number, over: Partial<OpenPull> = {}): OpenPull => ({ number, labels: [], draft: false, fromFork: false, lastPushAt: hoursAgo(1), files: ['apps/users-api/src/app.ts'], ...over });

describe('who gets a preview', () => {
  it('pull requests that change the API or the manifests, oldest first, up to the cap; the rest queue', () => {
    const plan = planPreviews([pull(12), pull(10), pull(11), pull(13, { files: ['docs/review.md'] })], cfg, NOW);
    expect(plan.map((d) => [d.number, d.action])).toEqual([[10, 'add'], [11, 'add'], [12, 'queue'], [13, 'none']]);
    expect(plan[2]!.reason).toContain('2 previews are running (previews.maxConcurrent)');
    expect(plan[3]!.reason).toBe('changes neither the API nor the manifests');
  });

  it('running previews keep their place before new ones get one; a stale, draft or fork preview is taken down', () => {
    const plan = planPreviews([
      pull(1),
      pull(5, { labels: ['preview'] }),
      pull(6, { labels: ['preview'], lastPushAt: hoursAgo(73) }),
      pull(7, { labels: ['preview'], draft: true }),
      pull(8, { labels: ['preview'], fromFork: true }),
      pull(9, { labels: ['preview'] }),
      pull(10, { labels: ['preview'] }),
    ], cfg, NOW);
    expect(plan.map((d) => [d.number, d.action])).toEqual([[1, 'queue'], [5, 'keep'], [6, 'remove'], [7, 'remove'], [8, 'remove'], [9, 'keep'], [10, 'remove']]);
    expect(plan.find((d) => d.number === 6)!.reason).toBe('no push for 73 h (previews.ttlHours 72)');
    expect(plan.find((d) => d.number === 10)!.reason).toBe('over previews.maxConcurrent (2)');
  });

  it('what counts as a deployable change', () => {
    for (const f of ['apps/users-api/src/x.ts', 'Dockerfile', 'package-lock.json', 'overlays/dev/.env', 'gitops.yaml', 'platform/mongodb/replicaset/x.yaml']) expect(changesDeployables([f]), f).toBe(true);
    for (const f of ['README.md', 'scripts/diff.ts', 'test/x.test.ts', 'Dockerfile.old', 'apps/other/x.ts']) expect(changesDeployables([f]), f).toBe(false);
  });

  it('the review comment line says where the preview runs, or why there is none', () => {
    expect(previewLine({ number: 7, action: 'add', reason: '' }, 'pr-7.preview.example.com', 'pr-7-users-api')).toContain('https://pr-7.preview.example.com');
    expect(previewLine({ number: 7, action: 'queue', reason: '2 previews are running' }, undefined, 'pr-7-users-api')).toBe('**Preview:** queued — 2 previews are running.');
  });
});

describe('gitops.yaml previews rules', () => {
  const settings = (previews: Partial<PreviewSettings>, repoURL = 'https://github.com/example-org/gitops-users.git') =>
    ({ repoURL, previews: { template: 'dev', label: 'preview', maxConcurrent: 3, ttlHours: 72, tokenSecret: 't', requeueAfterSeconds: 300, ...previews } }) as unknown as RepoSettings;
  const envs = { dev: { spec: { ingress: { host: 'users.dev.example.com' } } as EnvSpec } };
  it('accepts the example and refuses a missing template, a non-GitHub repository and bad host patterns', () => {
    expect(previewProblems(settings({ ingress: { host: 'pr-{number}.preview.example.com' } }), envs)).toEqual([]);
    const msgs = (s: RepoSettings) => previewProblems(s, envs).map((p) => `${p.path}: ${p.message}`);
    expect(msgs(settings({ template: 'qa' }))).toEqual(['/previews/template: names environment "qa", which does not exist']);
    expect(msgs(settings({}, 'https://gitlab.com/a/b.git'))[0]).toMatch(/^\/previews: needs a GitHub repository/);
    expect(msgs(settings({ ingress: { host: 'preview.example.com' } }))[0]).toBe('/previews/ingress/host: must contain {number} exactly once (it has 0)');
    expect(msgs(settings({ ingress: { host: '{number}{number}.x' } }))[0]).toContain('exactly once (it has 2)');
    expect(msgs(settings({ ingress: { host: 'pr-{number}..x' } }))[0]).toContain('is not a DNS name for pull request 1');
    expect(msgs(settings({ ingress: { host: 'users.{number}.example.com' } }))).toEqual([]);
  });
});

describe('pr-<number> names belong to previews', () => {
  it('no environment may take one: new-env refuses it before touching the disk', () => {
    const problems = envArgumentProblems(REPO, 'pr-7', { mustExist: false });
    expect(problems.map((p) => p.message)).toEqual(['"pr-7" is reserved: pr-<number> names belong to preview environments (gitops.yaml previews)']);
    expect(envArgumentProblems(REPO, 'pr-review', { mustExist: false })).toEqual([]);
  });
});

describe('scripts/previews.ts against the GitHub stand-in', () => {
  let gh: GithubStandIn;
  const recent = new Date(Date.now() - 3_600_000).toISOString();
  const old = new Date(Date.now() - 100 * 3_600_000).toISOString();
  beforeAll(async () => {
    gh = await startGithubStandIn({
      pulls: [
        { number: 3, labels: ['preview'], headSha: 'a'.repeat(40), pushedAt: old, files: ['apps/users-api/src/app.ts'] },
        { number: 4, labels: [], headSha: 'b'.repeat(40), pushedAt: recent, files: ['overlays/dev/.env'] },
        { number: 5, labels: [], headSha: 'c'.repeat(40), pushedAt: recent, files: ['README.md'] },
        { number: 6, labels: [], headSha: 'd'.repeat(40), pushedAt: recent, files: ['Dockerfile'], headRepo: 'someone/fork' },
      ],
    });
  });
  afterAll(() => gh?.close());
  // Asynchronous: the stand-in answers from this process, so a synchronous child would deadlock it.
  const run = (args: string[], token = 'test-token') =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, [join(CHECKOUT, 'scripts/previews.ts'), ...args], { cwd: REPO, env: { ...process.env, GITHUB_TOKEN: token, GITHUB_API_URL: gh.url, NO_COLOR: '1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('close', (status) => done({ status, stdout, stderr }));
    });

  it('plans without changing anything', async () => {
    const r = await run([]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      '#3  remove  no push for 100 h (previews.ttlHours 72)',
      '#4  add     changes the API or the manifests',
      '#5  none    changes neither the API nor the manifests',
      '#6  none    from a fork: the release workflow cannot push its image',
    ]);
    expect(gh.requests.filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it('--apply gives and takes the label, and --pr prints the comment line', async () => {
    const r = await run(['--apply']);
    expect(r.status).toBe(0);
    expect(gh.requests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.url} ${JSON.stringify(q.body ?? '')}`)).toEqual([
      'DELETE /repos/example-org/gitops-users/issues/3/labels/preview ""',
      'POST /repos/example-org/gitops-users/issues/4/labels {"labels":["preview"]}',
    ]);
    expect(gh.pulls.find((p) => p.number === 4)!.labels).toEqual(['preview']);
    const line = await run(['--pr', '4', '--format', 'markdown']);
    expect(line.stdout.trim()).toMatch(/^\*\*Preview:\*\* https:\/\/pr-4\.preview\.example\.com — Argo CD Application `pr-4-users-api`, namespace `pr-4`/);
  });

  it('usage and token errors exit 2 with the fix', async () => {
    const bad = await run(['--pr', 'x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--pr must be a pull request number');
    const denied = await run([], 'wrong');
    expect(denied.status).toBe(2);
    expect(denied.stderr).toContain('HTTP 401 Bad credentials (the token is missing or invalid: set GITHUB_TOKEN)');
  });
});

describe('what the generator writes for previews (the committed examples)', () => {
  const settings = parse(readFileSync(join(REPO, 'gitops.yaml'), 'utf8')) as RepoSettings;
  const doc = (f: string) => parseYamlStream(readFileSync(join(REPO, f), 'utf8'))[0] as Record<string, any>;

  it('an ApplicationSet with the GitHub pull request generator, filtered by the label, one Application per pull request', () => {
    const set = doc('argocd/previews.yaml');
    expect(set.kind).toBe('ApplicationSet');
    expect(set.spec.generators).toEqual([{ pullRequest: { github: { owner: 'example-org', repo: 'gitops-users', labels: [settings.previews!.label], tokenRef: { secretName: settings.previews!.tokenSecret, key: 'token' } }, requeueAfterSeconds: settings.previews!.requeueAfterSeconds } }]);
    const t = set.spec.template;
    expect(t.metadata.name).toBe('pr-{{.number}}-users-api');
    expect(t.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
    expect(t.spec.project).toBe('previews');
    expect(t.spec.destination.namespace).toBe('pr-{{.number}}');
    expect(t.spec.source).toMatchObject({ path: 'previews/template', targetRevision: '{{.head_sha}}', kustomize: { namespace: 'pr-{{.number}}', images: [`${settings.image}:sha-{{.head_short_sha_7}}`] } });
    expect(set.spec.syncPolicy).toEqual({ preserveResourcesOnDeletion: false });
    // The root syncs it, in its project.
    expect(doc('argocd/root.yaml').spec.source.directory.include).toContain('previews.yaml');
  });

  it('the previews project allows namespaces pr-* and Namespace objects named pr-*, nothing else cluster-wide', () => {
    const p = doc('argocd/projects/previews.yaml');
    expect(p.spec.destinations).toEqual([{ namespace: 'pr-*', server: 'https://kubernetes.default.svc' }]);
    expect(p.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace', name: 'pr-*' }]);
    expect(p.spec.sourceRepos).toEqual([settings.repoURL]);
  });

  it('the sample pr-123 renders the template in its own namespace, one API pod, one member, its own host', () => {
    const objects = parseYamlStream(execFileSync('kubectl', ['kustomize', 'overlays/pr-123'], { cwd: REPO, encoding: 'utf8' })) as Array<Record<string, any>>;
    const ns = objects.filter((o) => o.kind === 'Namespace');
    expect(ns.map((o) => o.metadata.name)).toEqual(['pr-123']);
    expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'pr-123')).toBe(true);
    expect(objects.find((o) => o.kind === 'MongoDBCommunity')!.spec.members).toBe(1);
    expect(objects.find((o) => o.kind === 'Deployment')!.spec.replicas).toBe(1);
    expect(objects.find((o) => o.kind === 'Ingress')!.spec.rules[0].host).toBe('pr-123.preview.example.com');
  });

  it('the operator watches every namespace (previews appear at run time), and the template .env is the template environment\'s', () => {
    const op = doc('argocd/apps/mongodb-operator.yaml');
    expect(op.spec.source.helm.valuesObject.operator.watchNamespace).toBe('*');
    const dotenv = readFileSync(join(REPO, `overlays/${settings.previews!.template}/.env`), 'utf8');
    expect(readFileSync(join(REPO, 'previews/template/.env'), 'utf8').replace(/^#.*\n/, '')).toBe(dotenv);
  });
});
