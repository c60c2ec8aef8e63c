// Preview environments: who gets one (cap, TTL, drafts, forks, what changed), the CLI that gives and takes
// the label on GitHub (against the local GitHub stand-in), what the generator writes for them, and the
// sample preview rendered by real kustomize exactly as the ApplicationSet's overrides would render it.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { changesDeployables, planPreviews, previewClock, previewLine } from '../../scripts/lib/release/previews.ts';
import { apiPath, openOrUpdatePullRequest, openPulls, parsePullNumber, pullFiles, pullTimeline, SHA_PATTERN } from '../../scripts/lib/release/github.ts';
import { UsageError } from '../../scripts/lib/core/errors.ts';
import type { OpenPull } from '../../scripts/lib/release/previews.ts';
import { previewProblems } from '../../scripts/lib/inputs/previews.ts';
import { envArgumentProblems } from '../../scripts/lib/inputs/index.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import type { PreviewSettings, RepoSettings, EnvSpec } from '../../scripts/lib/inputs/spec.ts';
import { BOT, startGithubStandIn } from '../support/github-standin.ts';
import type { GithubStandIn, RawAnswer, StandInEvent, StandInPull } from '../support/github-standin.ts';
import { committedBaseline, REPO as CHECKOUT } from '../support/repo-copy.ts';

// The repository as committed; the scripts from this checkout.
const REPO = committedBaseline();

const cfg = { label: 'preview', maxConcurrent: 2, ttlHours: 72 };
const NOW = new Date('2026-12-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const pull = (number: number, over: Partial<OpenPull> = {}): OpenPull => ({ number, labels: [], draft: false, fromFork: false, activeSince: hoursAgo(1), files: ['apps/users-api/src/app.ts'], ...over });

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
      pull(6, { labels: ['preview'], activeSince: hoursAgo(73) }),
      pull(7, { labels: ['preview'], draft: true }),
      pull(8, { labels: ['preview'], fromFork: true }),
      pull(9, { labels: ['preview'] }),
      pull(10, { labels: ['preview'] }),
    ], cfg, NOW);
    expect(plan.map((d) => [d.number, d.action])).toEqual([[1, 'queue'], [5, 'keep'], [6, 'remove'], [7, 'remove'], [8, 'remove'], [9, 'keep'], [10, 'remove']]);
    expect(plan.find((d) => d.number === 6)!.reason).toBe('no push or label for 73 h (previews.ttlHours 72)');
    expect(plan.find((d) => d.number === 8)!.reason).toBe('from a fork: needs the preview-approved label from a maintainer');
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

describe('the TTL clock is GitHub\'s timeline, never a commit date', () => {
  const user = (login: string) => ({ login, type: 'User' });
  const bot = { login: 'github-actions[bot]', type: 'Bot' };
  const opened = { number: 9, createdAt: hoursAgo(200), labels: ['preview'] };
  const opts = { label: 'preview', now: NOW };

  it('a committed event (author-written dates, even 2099) never moves the clock; labeled, force-push, reopened and ready do', () => {
    const forged = [{ event: 'committed' }, { event: 'labeled', label: 'preview', actor: bot, createdAt: hoursAgo(100) }];
    // The committed event has no created_at on GitHub; its commit dates are not read at all.
    expect(previewClock(opened, forged, opts).activeSince).toBe(hoursAgo(100));
    expect(planPreviews([pull(9, { labels: ['preview'], activeSince: previewClock(opened, forged, opts).activeSince })], cfg, NOW)[0]).toMatchObject({ action: 'remove', reason: 'no push or label for 100 h (previews.ttlHours 72)' });
    for (const event of ['head_ref_force_pushed', 'reopened', 'ready_for_review']) expect(previewClock(opened, [...forged, { event, actor: user('dev'), createdAt: hoursAgo(2) }], opts).activeSince, event).toBe(hoursAgo(2));
    // Other labels and other events do not keep a preview alive.
    expect(previewClock(opened, [...forged, { event: 'labeled', label: 'bug', actor: user('dev'), createdAt: hoursAgo(1) }, { event: 'commented', createdAt: hoursAgo(1), actor: user('x') }], opts).activeSince).toBe(hoursAgo(100));
    // The run GitHub started for a push is the push's witness.
    expect(previewClock(opened, forged, { ...opts, pushedNow: true }).activeSince).toBe(NOW.toISOString());
  });

  it('bad dates are refused with the source named, never "NaN h" and never a take-down', () => {
    expect(() => previewClock(opened, [{ event: 'labeled', label: 'preview', actor: bot, createdAt: 'yesterday' }], opts)).toThrow('GitHub timeline of #9: event 1 (labeled) created_at "yesterday" is not a date; nothing was changed');
    expect(() => previewClock(opened, [{ event: 'reopened', actor: bot, createdAt: '2099-01-01T00:00:00Z' }], opts)).toThrow('is in the future');
    expect(() => previewClock({ ...opened, createdAt: '2026-13-45T99:99:99Z' }, [], opts)).toThrow('GitHub pull request #9: created_at "2026-13-45T99:99:99Z" is not a date');
    expect(() => planPreviews([pull(3, { labels: ['preview'], activeSince: 'NaN' })], cfg, NOW)).toThrow('pull request #3: activeSince "NaN" is not a date');
  });

  it('a fork needs the approval label from a person; the bot\'s own label, a removed label or a push after approval do not count', () => {
    const fork = { number: 8, createdAt: hoursAgo(5), labels: ['preview-approved'], fromFork: true };
    const approvedBy = (actor: { login: string; type: string }) => [{ event: 'labeled', label: 'preview-approved', actor, createdAt: hoursAgo(3) }];
    expect(previewClock(fork, approvedBy(user('maintainer')), opts)).toEqual({ activeSince: hoursAgo(3), approved: true, approvedBy: 'maintainer' });
    expect(previewClock(fork, approvedBy(bot), opts).approved).toBe(false);
    expect(previewClock(fork, approvedBy({ login: 'renovate[bot]', type: 'Bot' }), opts).approved).toBe(false);
    expect(previewClock(fork, approvedBy({ login: 'github-actions[bot]', type: 'User' }), opts).approved).toBe(false);
    expect(previewClock({ ...fork, labels: [] }, approvedBy(user('maintainer')), opts).approved).toBe(false);
    expect(previewClock(fork, [...approvedBy(user('maintainer')), { event: 'unlabeled', label: 'preview-approved', actor: user('m'), createdAt: hoursAgo(2) }], opts).approved).toBe(false);
    expect(previewClock(fork, approvedBy(user('maintainer')), { ...opts, pushedNow: true })).toMatchObject({ approved: false, revokeApproval: true });
    expect(planPreviews([pull(8, { fromFork: true, approved: true })], cfg, NOW)[0]!.action).toBe('add');
  });

  it('a pull request listed twice counts once against the cap', () => {
    const plan = planPreviews([pull(4, { labels: ['preview'] }), pull(4, { labels: ['preview'] }), pull(5)], { ...cfg, maxConcurrent: 2 }, NOW);
    expect(plan.map((d) => [d.number, d.action])).toEqual([[4, 'keep'], [5, 'add']]);
  });
});

describe('GitHub answers are read through one validated reader', { timeout: 120_000 }, () => {
  const api = (answer: (url: string) => unknown) => ({
    baseUrl: 'http://github.invalid', token: 't',
    fetch: (async (url: string) => {
      const body = answer(url);
      return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status: 200, headers: { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json' } });
    }) as unknown as typeof fetch,
  });
  const repo = { owner: 'example-org', repo: 'gitops-users' };

  it('path segments are encoded: no value adds a segment, a dot-segment or a query', () => {
    expect(apiPath('repos', 'o', 'r', 'issues', '1/../../../../admin', 'labels')).toBe('/repos/o/r/issues/1%2F..%2F..%2F..%2F..%2Fadmin/labels');
    expect(apiPath('commits', '../../../../user?x=')).toBe('/commits/..%2F..%2F..%2F..%2Fuser%3Fx%3D');
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 5 }), (segs) => {
      const path = apiPath(...segs);
      const parts = path.split('/').slice(1);
      expect(parts).toHaveLength(segs.length);
      expect(parts.map((x) => decodeURIComponent(x))).toEqual(segs);
      expect(path).not.toMatch(/[?#\s]/);
      expect(new URL(`http://h${path}`).pathname.split('/').length - 1).toBe(segs.length);
    }), { seed: 30, numRuns: 300 });
  });

  it('promote --pr: a reply without html_url, or a listing that is an HTML page, is exit 2 naming the request, never "undefined"', async () => {
    const answering = (post: unknown, list: unknown = []) => ({
      baseUrl: 'http://github.invalid', token: 't',
      fetch: (async (_url: string, init: { method: string }) => {
        const body = init.method === 'POST' ? post : list;
        return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status: init.method === 'POST' ? 201 : 200 });
      }) as unknown as typeof fetch,
    });
    const pr = { head: 'promote/prod/0.2.0', base: 'main', title: 't', body: 'b' };
    await expect(openOrUpdatePullRequest(answering({ number: 7 }), repo, pr)).rejects.toThrow("GitHub POST /repos/example-org/gitops-users/pulls: unexpected answer (a JSON object): (the answer) must have required property 'html_url'; the request was made: check on GitHub what it did");
    await expect(openOrUpdatePullRequest(answering({ number: 7, html_url: 'javascript:alert(1)' }), repo, pr)).rejects.toThrow('/html_url must match pattern');
    await expect(openOrUpdatePullRequest(answering({}, '<html>rate limited</html>'), repo, pr)).rejects.toThrow(/^GitHub GET \/repos\/example-org\/gitops-users\/pulls\?state=open&head=example-org%3Apromote%2Fprod%2F0\.2\.0: the answer is not JSON/);
    await expect(openOrUpdatePullRequest(answering({}, [{ number: '1/../../admin', html_url: 'https://x' }]), repo, pr)).rejects.toThrow('/0/number must be integer');
    expect(await openOrUpdatePullRequest(answering({ number: 7, html_url: 'https://github.com/example-org/gitops-users/pull/7' }), repo, pr)).toEqual({ number: 7, url: 'https://github.com/example-org/gitops-users/pull/7', created: true });
  });

  it('--pr and --pushed take a plain decimal only', () => {
    expect(parsePullNumber('--pr', '42')).toBe(42);
    for (const bad of ['1e1', '0x8', '08', '+1', '-1', '1.0', ' 1', '1 ', '', '0', '4294967296', '١']) expect(() => parsePullNumber('--pr', bad), bad).toThrow('--pr must be a pull request number (a plain decimal like 42)');
    fc.assert(fc.property(fc.string(), (text) => {
      let got: number | undefined;
      try { got = parsePullNumber('--pr', text); } catch (error) { expect(error).toBeInstanceOf(UsageError); return; }
      expect(String(got)).toBe(text);
    }), { seed: 31, numRuns: 500 });
  });

  it('random JSON in place of the pull request list, files or timeline: a checked value or exit 2 naming the request, never a TypeError', async () => {
    const pullLike = fc.record({ number: fc.oneof(fc.nat(), fc.string(), fc.constant('1/../../admin'), fc.double()), draft: fc.oneof(fc.boolean(), fc.string()), created_at: fc.oneof(fc.constant('2026-12-01T10:00:00Z'), fc.string()), labels: fc.oneof(fc.array(fc.record({ name: fc.string() })), fc.string()), head: fc.oneof(fc.record({ sha: fc.oneof(fc.constant('a'.repeat(40)), fc.constant('../../../../user?x='), fc.string()), repo: fc.oneof(fc.constant(null), fc.record({ full_name: fc.string() })) }), fc.constant(null)) }, { requiredKeys: [] });
    const answers = fc.oneof(fc.jsonValue(), fc.array(pullLike, { maxLength: 4 }), fc.string());
    await fc.assert(fc.asyncProperty(answers, async (answer) => {
      for (const read of [() => openPulls(api(() => answer), repo), () => pullFiles(api(() => answer), repo, 1), () => pullTimeline(api(() => answer), repo, 1)]) {
        try {
          const got = await read();
          expect(Array.isArray(got)).toBe(true);
          for (const p of got as unknown as Array<Record<string, unknown>>) if ('headSha' in p) { expect(p.headSha).toMatch(SHA_PATTERN); expect(Number.isInteger(p.number)).toBe(true); }
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          expect((error as Error).message).toMatch(/^GitHub (GET \/repos\/example-org\/gitops-users\/|refused)/);
        }
      }
    }), { seed: 29, numRuns: 200 });
  });
});

// Each case spawns the CLI (about a second each on a quiet machine, far more on a loaded one).
describe('scripts/previews.ts against the GitHub stand-in', { timeout: 180_000 }, () => {
  let gh: GithubStandIn;
  const ago = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const pulls = (): StandInPull[] => [
    { number: 3, labels: ['preview'], headSha: 'a'.repeat(40), pushedAt: ago(100), files: ['apps/users-api/src/app.ts'] },
    { number: 4, labels: [], headSha: 'b'.repeat(40), pushedAt: ago(1), files: ['overlays/dev/.env'] },
    { number: 5, labels: [], headSha: 'c'.repeat(40), pushedAt: ago(1), files: ['README.md'] },
    { number: 6, labels: [], headSha: 'd'.repeat(40), pushedAt: ago(1), files: ['Dockerfile'], headRepo: 'someone/fork' },
  ];
  beforeAll(async () => {
    gh = await startGithubStandIn({ pulls: pulls() });
  });
  afterAll(() => gh?.close());
  const reset = (next: StandInPull[]) => {
    gh.pulls.splice(0, gh.pulls.length, ...next);
    gh.requests.length = 0;
    gh.answer = undefined;
  };
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
  const changes = () => gh.requests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.url} ${JSON.stringify(q.body ?? '')}`);
  /** Exit 2, the source named, no stack trace, no "undefined", nothing changed on GitHub. */
  const refused = (r: { status: number | null; stdout: string; stderr: string }, source: string | RegExp) => {
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(typeof source === 'string' ? new RegExp(source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : source);
    expect(r.stderr + r.stdout).not.toMatch(/undefined|TypeError|NaN|\n\s+at /);
    expect(changes()).toEqual([]);
  };

  it('plans without changing anything', async () => {
    reset(pulls());
    const r = await run([]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      '#3  remove  no push or label for 100 h (previews.ttlHours 72)',
      '#4  add     changes the API or the manifests',
      '#5  none    changes neither the API nor the manifests',
      '#6  none    from a fork: needs the preview-approved label from a maintainer',
    ]);
    expect(changes()).toEqual([]);
    // The timeline is read; a commit (and its author-written date) never is.
    expect(gh.requests.some((q) => q.url.startsWith('/repos/example-org/gitops-users/issues/4/timeline?'))).toBe(true);
    expect(gh.requests.some((q) => q.url.includes('/commits/'))).toBe(false);
  });

  it('--apply gives and takes the label, and --pr prints the comment line', async () => {
    reset(pulls());
    const r = await run(['--apply']);
    expect(r.status).toBe(0);
    expect(changes()).toEqual([
      'DELETE /repos/example-org/gitops-users/issues/3/labels/preview ""',
      'POST /repos/example-org/gitops-users/issues/4/labels {"labels":["preview"]}',
    ]);
    expect(gh.pulls.find((p) => p.number === 4)!.labels).toEqual(['preview']);
    const line = await run(['--pr', '4', '--format', 'markdown']);
    expect(line.stdout.trim()).toMatch(/^\*\*Preview:\*\* https:\/\/pr-4\.preview\.example\.com — Argo CD Application `pr-4-users-api`, namespace `pr-4`/);
  });

  it('a forged committer date (2099) keeps nothing alive: the preview is taken down when its label is older than the TTL', async () => {
    reset([{ number: 7, labels: ['preview'], headSha: 'e'.repeat(40), pushedAt: '2099-01-01T00:00:00Z', createdAt: ago(200), files: ['apps/users-api/src/app.ts'],
      timeline: [{ event: 'labeled', label: 'preview', actor: BOT, createdAt: ago(90) }, { event: 'committed', sha: 'e'.repeat(40), authorDate: '2099-01-01T00:00:00Z', committerDate: '2099-01-01T00:00:00Z', message: 'forever' }] }]);
    const r = await run(['--apply']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('#7  remove  no push or label for 90 h (previews.ttlHours 72)');
    expect(changes()).toEqual(['DELETE /repos/example-org/gitops-users/issues/7/labels/preview ""']);
    // Its next push (the workflow's synchronize run) brings it back, by GitHub's clock.
    const back = await run(['--apply', '--pushed', '7']);
    expect(back.stdout.trim()).toBe('#7  add     changes the API or the manifests');
  });

  it('a hand-labelled fork is taken down; the approval label counts only from a person, never from the bot, and is taken back on a push', async () => {
    const fork = (timeline: StandInEvent[], labels: string[]): StandInPull => ({ number: 8, labels, headSha: 'f'.repeat(40), pushedAt: ago(1), createdAt: ago(2), files: ['Dockerfile'], headRepo: 'someone/fork', timeline });
    reset([fork([{ event: 'labeled', label: 'preview', actor: { login: 'maintainer', type: 'User' }, createdAt: ago(1) }], ['preview'])]);
    const hand = await run(['--apply']);
    expect(hand.stdout.trim()).toBe('#8  remove  from a fork: needs the preview-approved label from a maintainer');
    expect(changes()).toEqual(['DELETE /repos/example-org/gitops-users/issues/8/labels/preview ""']);

    reset([fork([{ event: 'labeled', label: 'preview-approved', actor: BOT, createdAt: ago(1) }], ['preview-approved'])]);
    expect((await run(['--apply'])).stdout.trim()).toBe('#8  none    from a fork: needs the preview-approved label from a maintainer');
    expect(changes()).toEqual([]);

    reset([fork([{ event: 'labeled', label: 'preview-approved', actor: { login: 'maintainer', type: 'User' }, createdAt: ago(1) }], ['preview-approved'])]);
    expect((await run(['--apply'])).stdout.trim()).toBe('#8  add     changes the API or the manifests');
    expect(changes()).toEqual(['POST /repos/example-org/gitops-users/issues/8/labels {"labels":["preview"]}']);

    gh.requests.length = 0;
    const pushed = await run(['--apply', '--pushed', '8']);
    expect(pushed.stdout.trim()).toBe('#8  remove  from a fork: needs the preview-approved label from a maintainer');
    expect(pushed.stderr).toContain('approval taken back after a push: #8');
    expect(changes()).toEqual(['DELETE /repos/example-org/gitops-users/issues/8/labels/preview-approved ""', 'DELETE /repos/example-org/gitops-users/issues/8/labels/preview ""']);
  });

  it('the labeller never adds the approval label, whatever the pull requests', async () => {
    reset(pulls());
    await run(['--apply']);
    expect(gh.requests.filter((q) => q.method === 'POST').every((q) => JSON.stringify(q.body) === '{"labels":["preview"]}')).toBe(true);
  });

  it('hostile or broken answers: exit 2 naming the request, nothing changed, no request outside the repository', async () => {
    const hostile = (pathname: string, body: string, contentType?: string) => (method: string, url: URL) => (method === 'GET' && url.pathname === pathname && url.searchParams.get('page') !== '2' ? { status: 200, body, contentType } : undefined);
    const list = (items: unknown) => JSON.stringify(items);
    const base = { draft: false, created_at: ago(1), labels: [{ name: 'preview' }], head: { sha: 'b'.repeat(40), repo: { full_name: 'example-org/gitops-users' } } };
    const cases: Array<[string, RawAnswer['body'], string | undefined, string | RegExp]> = [
      ['number with a path', list([{ ...base, number: '1/../../../../admin' }]), undefined, 'GitHub GET /repos/example-org/gitops-users/pulls?state=open&per_page=100&page=1: unexpected answer (an array): /0/number must be integer'],
      ['sha with a path', list([{ ...base, number: 4, head: { ...base.head, sha: '../../../../user?x=' } }]), undefined, '/0/head/sha must match pattern'],
      ['a JSON object', JSON.stringify({ message: 'hello' }), undefined, 'unexpected answer (a JSON object): (the answer) must be array'],
      ['an HTML page', '<!DOCTYPE html><html><body>Sign in</body></html>', 'text/html', 'the answer is not JSON (HTTP 200, text/html): "<!DOCTYPE html><html><body>Sign in</body></html>"'],
      ['a missing field', list([{ number: 4, created_at: ago(1) }]), undefined, "/0 must have required property 'head'"],
      ['a bad date', list([{ ...base, number: 4, created_at: 'soon' }]), undefined, '/0/created_at must match pattern'],
    ];
    for (const [what, body, type, message] of cases) {
      reset(pulls());
      gh.answer = hostile('/repos/example-org/gitops-users/pulls', body, type);
      const r = await run(['--apply']);
      refused(r, message);
      expect(gh.requests.map((q) => q.url).every((u) => u.startsWith('/repos/example-org/gitops-users/')), what).toBe(true);
      expect(gh.requests.filter((q) => q.url.startsWith('/repos/example-org/gitops-users/pulls?')), `${what}: one page read`).toHaveLength(1);
    }
    // A bad date in a timeline event: refused before anything is applied, never "NaN h" or a take-down.
    reset(pulls());
    gh.answer = (method, url) => (url.pathname.endsWith('/issues/3/timeline') ? { status: 200, body: list([{ event: 'labeled', created_at: '2026-02-30T25:61:00Z', actor: { login: 'x', type: 'User' }, label: { name: 'preview' } }]) } : undefined);
    refused(await run(['--apply']), 'GitHub timeline of #3: event 1 (labeled) created_at "2026-02-30T25:61:00Z" is not a date; nothing was changed');
  });

  it('a listing that repeats a pull request counts it once; an endless listing stops at the page bound', async () => {
    reset(pulls());
    const one = { number: 4, draft: false, created_at: ago(1), labels: [], head: { sha: 'b'.repeat(40), repo: { full_name: 'example-org/gitops-users' } } };
    gh.answer = (method, url) => (url.pathname === '/repos/example-org/gitops-users/pulls' ? { status: 200, body: JSON.stringify([one, one, one]) } : undefined);
    const r = await run([]);
    expect(r.stdout.trim()).toBe('#4  add     changes the API or the manifests');
    reset(pulls());
    gh.answer = (method, url) => (url.pathname === '/repos/example-org/gitops-users/pulls' ? { status: 200, body: JSON.stringify(Array.from({ length: 100 }, () => one)) } : undefined);
    refused(await run([]), 'more than 3000 items (30 full pages); refusing to plan on a partial list');
    expect(gh.requests.filter((q) => q.url.startsWith('/repos/example-org/gitops-users/pulls?'))).toHaveLength(30);
  });

  it('escape codes in GitHub\'s error text never reach the terminal', async () => {
    reset(pulls());
    gh.answer = () => ({ status: 500, body: JSON.stringify({ message: 'boom \u001b]52;c;ZXZpbA==\u0007\u001b[2J\u009b31m\u202eevil' }) });
    const r = await run([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('GitHub refused to list pull requests: HTTP 500 boom \\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x9b31m\\u202eevil');
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  it('usage and token errors exit 2 with the fix', async () => {
    reset(pulls());
    for (const bad of ['x', '1e1', '0x8', '01', '+1']) {
      const r = await run(['--pr', bad]);
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toContain(`--pr must be a pull request number (a plain decimal like 42), not ${JSON.stringify(bad)}`);
    }
    expect((await run(['--pushed', '1e1'])).stderr).toContain('--pushed must be a pull request number');
    expect(gh.requests).toEqual([]);
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
    // Main's manifests (never the pull request's), with the pull request's build from the preview repository.
    expect(t.spec.source).toMatchObject({ path: 'previews/template', targetRevision: 'main', kustomize: { namespace: 'pr-{{.number}}', images: [`${settings.image}=${settings.previews!.image}:sha-{{.head_short_sha_7}}`] } });
    expect(set.spec.syncPolicy).toEqual({ preserveResourcesOnDeletion: false });
    // The root syncs it, in its project.
    expect(doc('argocd/root.yaml').spec.source.directory.include).toContain('previews.yaml');
  });

  it('the previews project allows namespaces pr-* and the Namespace named pr-* that CreateNamespace=true creates, nothing else cluster-wide', () => {
    const p = doc('argocd/projects/previews.yaml');
    expect(p.spec.destinations).toEqual([{ namespace: 'pr-*', server: 'https://kubernetes.default.svc' }]);
    expect(p.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace', name: 'pr-*' }]);
    expect(p.spec.sourceRepos).toEqual([settings.repoURL]);
  });

  it('the sample pr-123 renders the template in its own namespace (no Namespace object: Argo CD creates it), one API pod, one member, its own host', () => {
    const objects = parseYamlStream(execFileSync('kubectl', ['kustomize', 'overlays/pr-123'], { cwd: REPO, encoding: 'utf8' })) as Array<Record<string, any>>;
    expect(objects.filter((o) => o.kind === 'Namespace')).toEqual([]);
    expect(objects.every((o) => o.metadata.namespace === 'pr-123')).toBe(true);
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
