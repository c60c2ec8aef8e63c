// Promotion beyond a local commit: --publish (dev follows main) pushes to the tracked branch, --pr builds
// the promotion on its own branch without touching the working tree and proposes it with the rendered
// diff; history reads every tag change back from git. GitHub is not reachable here: its REST API is
// answered by a local stand-in that records each request and checks it has the documented shape
// (POST/GET/PATCH /repos/{owner}/{repo}/pulls, Bearer token, API version header).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateKustomize } from '../../scripts/lib/kustomize.ts';
import { deliverPromotion, promotionBody, promotionBranch } from '../../scripts/lib/release/promotion.ts';
import type { DeliveryOptions } from '../../scripts/lib/release/promotion.ts';
import { githubRepoOf, openOrUpdatePullRequest } from '../../scripts/lib/release/github.ts';
import { cosignCommands, releaseIdentityRegexp, verifyReleaseImage } from '../../scripts/lib/release/verify.ts';
import { formatHistory, parseCatFileBatch, sourceOf, tagHistory } from '../../scripts/lib/release/history.ts';
import { createRepoCopy } from '../support/repo-copy.ts';
import { startGithubStandIn } from '../support/github-standin.ts';
import type { RepoCopy } from '../support/repo-copy.ts';

async function githubStandIn(existing?: { number: number; html_url: string }) {
  return startGithubStandIn(existing ? { existingPromotionPr: existing } : {});
}

describe('GitHub repository and pull request client', () => {
  it('reads owner/repo from the https, scp-like and ssh forms of a github.com URL, and refuses others', () => {
    for (const u of ['https://github.com/example-org/gitops-users.git', 'https://github.com/example-org/gitops-users', 'git@github.com:example-org/gitops-users.git', 'ssh://git@github.com/example-org/gitops-users.git']) {
      expect(githubRepoOf(u), u).toEqual({ owner: 'example-org', repo: 'gitops-users' });
    }
    expect(() => githubRepoOf('https://gitlab.com/a/b.git')).toThrow(/not a github.com repository/);
  });

  it('opens a pull request, or updates the open one of the same branch', async () => {
    const gh = await githubStandIn();
    try {
      const pr = await openOrUpdatePullRequest({ baseUrl: gh.url, token: 'test-token' }, { owner: 'example-org', repo: 'gitops-users' }, { head: 'promote/prod/0.2.0', base: 'main', title: 't', body: 'b' });
      expect(pr).toEqual({ number: 42, url: 'https://github.com/example-org/gitops-users/pull/42', created: true });
      expect(gh.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /repos/example-org/gitops-users/pulls?state=open&head=example-org%3Apromote%2Fprod%2F0.2.0', 'POST /repos/example-org/gitops-users/pulls']);
      expect(gh.requests[1]!.body).toEqual({ head: 'promote/prod/0.2.0', base: 'main', title: 't', body: 'b' });
      expect(gh.requests[1]!.headers['x-github-api-version']).toBe('2022-11-28');
      expect(gh.requests[1]!.headers.accept).toBe('application/vnd.github+json');
    } finally {
      await gh.close();
    }
    const again = await githubStandIn({ number: 7, html_url: 'https://github.com/example-org/gitops-users/pull/7' });
    try {
      const pr = await openOrUpdatePullRequest({ baseUrl: again.url, token: 'test-token' }, { owner: 'example-org', repo: 'gitops-users' }, { head: 'x', base: 'main', title: 't2', body: 'b2' });
      expect(pr.created).toBe(false);
      expect(again.requests.at(-1)).toMatchObject({ method: 'PATCH', url: '/repos/example-org/gitops-users/pulls/7', body: { title: 't2', body: 'b2' } });
    } finally {
      await again.close();
    }
  });

  it('a refused token is a clear error naming the fix, not a stack trace', async () => {
    const gh = await githubStandIn();
    try {
      await expect(openOrUpdatePullRequest({ baseUrl: gh.url, token: 'wrong' }, { owner: 'example-org', repo: 'gitops-users' }, { head: 'x', base: 'main', title: 't', body: 'b' })).rejects.toThrow(/HTTP 401 Bad credentials \(the token is missing or invalid: set GITHUB_TOKEN\)/);
    } finally {
      await gh.close();
    }
  });
});

describe('image verification before promotion', () => {
  const repo = { owner: 'example-org', repo: 'gitops-users' };
  it('checks the signature and the scan attestation against the release workflow identity', async () => {
    const calls: string[][] = [];
    const done = await verifyReleaseImage(async (file, args) => (calls.push([file, ...args]), { code: 0, stdout: '[]', stderr: '' }), 'ghcr.io/example-org/users-api:sha-0123456', repo);
    expect(done).toEqual(['signature', 'vulnerability-scan attestation']);
    expect(calls.map((c) => c.slice(0, 2))).toEqual([['cosign', 'verify'], ['cosign', 'verify-attestation']]);
    expect(calls[1]).toContain('vuln');
    const identity = new RegExp(releaseIdentityRegexp(repo));
    expect(identity.test('https://github.com/example-org/gitops-users/.github/workflows/release.yml@refs/heads/main')).toBe(true);
    expect(identity.test('https://github.com/example-org/gitops-users/.github/workflows/release.yml@refs/tags/v1.2.3')).toBe(true);
    expect(identity.test('https://github.com/example-org/gitops-users/.github/workflows/release.yml@refs/heads/feature')).toBe(false);
    expect(identity.test('https://github.com/evil-org/gitops-users/.github/workflows/release.yml@refs/heads/main')).toBe(false);
    expect(identity.test('https://github.com/example-org/gitops-users/.github/workflows/other.yml@refs/heads/main')).toBe(false);
    expect(cosignCommands('img', repo).every((c) => c.includes('https://token.actions.githubusercontent.com'))).toBe(true);
  });

  it('refuses an image whose signature or scan does not verify, and says so when cosign is missing', async () => {
    await expect(verifyReleaseImage(async () => ({ code: 1, stdout: '', stderr: 'Error: no matching signatures\n' }), 'img:1', repo)).rejects.toThrow(/refusing to promote img:1: its signature does not verify .*no matching signatures/);
    let n = 0;
    await expect(verifyReleaseImage(async () => (n++ === 0 ? { code: 0, stdout: '', stderr: '' } : { code: 1, stdout: '', stderr: 'no matching attestations' }), 'img:1', repo)).rejects.toThrow(/vulnerability-scan attestation does not verify/);
    await expect(verifyReleaseImage(async () => { throw Object.assign(new Error('spawn cosign ENOENT'), { code: 'ENOENT' }); }, 'img:1', repo)).rejects.toThrow(/cosign is not installed.*--no-verify/);
  });
});

describe('promotion delivery and history (real git, real kustomize)', () => {
  let copy: RepoCopy;
  let gh: Awaited<ReturnType<typeof githubStandIn>>;
  let base: Omit<DeliveryOptions, 'to'>;
  const logs: string[] = [];

  beforeAll(async () => {
    copy = createRepoCopy({ withOrigin: true });
    gh = await githubStandIn();
    base = {
      root: copy.root,
      kustomize: await locateKustomize(),
      verify: async () => ['signature', 'vulnerability-scan attestation'],
      github: { baseUrl: gh.url, token: 'test-token' },
      remote: 'origin',
      isProtected: (env) => env === 'prod',
      log: (t) => logs.push(t),
    };
  }, 120_000);
  afterAll(async () => {
    await gh?.close();
    copy?.cleanup();
  });

  it('--publish of a release build pushes dev\'s new tag to the branch dev tracks', async () => {
    const r = await deliverPromotion({ ...base, to: 'dev', tag: 'sha-0123456' }, 'publish');
    expect(r).toMatchObject({ mode: 'push', tag: 'sha-0123456', branch: 'main' });
    const pushed = copy.git('--git-dir', copy.origin!, 'log', '-1', '--format=%s', 'main');
    expect(pushed.trim()).toMatch(/^promote release → dev: users-api \S+ → sha-0123456$/);
    expect(copy.git('--git-dir', copy.origin!, 'show', 'main:overlays/dev/env.yaml')).toMatch(/^tag: sha-0123456$/m);
  });

  it('--publish to a protected environment opens a pull request instead, and the working tree is untouched', async () => {
    const before = readFileSync(join(copy.root, 'overlays/prod/env.yaml'), 'utf8');
    const head = copy.git('rev-parse', 'HEAD').trim();
    const r = await deliverPromotion({ ...base, from: 'staging', to: 'prod', tag: '0.9.0', health: async () => 'Synced, Healthy (3/3 ready)' }, 'publish');
    expect(r.mode).toBe('pr');
    expect(r.branch).toBe(promotionBranch('prod', '0.9.0'));
    expect(readFileSync(join(copy.root, 'overlays/prod/env.yaml'), 'utf8')).toBe(before);
    expect(copy.git('rev-parse', 'HEAD').trim()).toBe(head);
    expect(copy.git('status', '--porcelain').trim()).toBe('');
    expect(copy.git('--git-dir', copy.origin!, 'show', 'promote/prod/0.9.0:overlays/prod/env.yaml')).toMatch(/^tag: 0\.9\.0$/m);
    const post = gh.requests.find((q) => q.method === 'POST')!;
    const body = (post.body as { body: string; base: string; title: string });
    expect(body.base).toBe('main');
    expect(body.title).toMatch(/^promote staging → prod: users-api \S+ → 0\.9\.0$/);
    expect(body.body).toContain('**staging health at promotion:** Synced, Healthy (3/3 ready)');
    expect(body.body).toContain('**Verified:** signature, vulnerability-scan attestation');
    expect(body.body).toMatch(/^-\s+image: ghcr\.io\/example-org\/users-api:\S+$/m);
    expect(body.body).toMatch(/^\+\s+image: ghcr\.io\/example-org\/users-api:0\.9\.0$/m);
    expect(body.body).toContain('Deployment prod/users-api');
  }, 120_000);

  it('history lists each tag change of an environment with its source and commit', async () => {
    const entries = await tagHistory(copy.root, 'dev');
    expect(entries.map((e) => [e.source, e.tag])).toEqual([['created', entries[0]!.tag], ['release', 'sha-0123456']]);
    expect(entries[1]!.previous).toBe(entries[0]!.tag);
    const text = formatHistory(entries);
    expect(text.split('\n')[0]).toMatch(/^WHEN\s+ENV\s+TAG\s+FROM\s+COMMIT\s+SUBJECT$/);
    expect(text.split('\n')[1]).toMatch(/ dev +\S+ → sha-0123456 +release +[0-9a-f]{7} +promote release → dev/);
    expect(await tagHistory(copy.root, 'no-such-env')).toEqual([]);
  });
});

describe('history parsing', () => {
  it('names the source environment only when the subject promotes into this environment', () => {
    expect(sourceOf('promote staging → prod: users-api 0.1.0 → 0.2.0', 'prod')).toBe('staging');
    expect(sourceOf('promote staging → prod: users-api 0.1.0 → 0.2.0', 'dev')).toBe('edit');
    expect(sourceOf('Bump prod by hand', 'prod')).toBe('edit');
  });
  it('splits git cat-file --batch output, including missing objects', () => {
    const out = Buffer.from('abc blob 5\nhello\nHEAD:x missing\ndef blob 2\nhi\n');
    expect(parseCatFileBatch(out, 3)).toEqual(['hello', undefined, 'hi']);
  });
  it('cuts an over-long diff to GitHub\'s body limit and says how to see all of it', () => {
    const body = promotionBody({ from: 'staging', to: 'prod', previousTag: 'a', tag: 'b', diffMarkdown: 'x'.repeat(70_000), verified: [], image: 'img' });
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain("the diff is cut here (GitHub's 65536-character limit)");
    expect(body).toContain('not verified (--no-verify)');
  });
});

describe('promote CLI: --pr, --publish and verification (real git and kustomize, GitHub stand-in)', () => {
  let copy: RepoCopy;
  let gh: Awaited<ReturnType<typeof startGithubStandIn>>;
  let bin: string;
  beforeAll(async () => {
    copy = createRepoCopy({ withOrigin: true });
    gh = await startGithubStandIn();
    // cosign is not installed here: a stub on PATH answers as cosign does when nothing verifies
    // (exit 1, "Error: no matching signatures"), so the refusal path runs for real.
    bin = mkdtempSync(join(tmpdir(), 'cosign-stub-'));
    writeFileSync(join(bin, 'cosign'), '#!/bin/sh\necho "Error: no matching signatures: $*" >&2\nexit 1\n', { mode: 0o755 });
  }, 120_000);
  afterAll(async () => {
    await gh?.close();
    copy?.cleanup();
    if (bin) rmSync(bin, { recursive: true, force: true });
  });
  const run = (args: string[], extraPath = '') =>
    copy.run('promote.ts', args, { GITHUB_TOKEN: gh.token, GITHUB_API_URL: gh.url, KUBECONFIG: join(copy.root, 'no-such-kubeconfig'), PATH: `${extraPath}${extraPath ? ':' : ''}${process.env.PATH}` });

  it('refuses an image whose signature does not verify: exit 2, nothing pushed, no pull request', async () => {
    const r = await run(['staging', 'prod', '--tag', '0.7.0', '--pr'], bin);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to promote ghcr\.io\/example-org\/users-api:0\.7\.0: its signature does not verify .*no matching signatures/);
    expect(gh.requests).toEqual([]);
    expect(copy.git('--git-dir', copy.origin!, 'branch', '--list').trim()).toBe('* main');
  });

  it('--pr --no-verify opens the pull request, says it was not verified, and reports the source health it could not read', async () => {
    const r = await run(['staging', 'prod', '--tag', '0.7.0', '--pr', '--no-verify']);
    expect(r.stderr).toContain('warning: the image was not verified (--no-verify)');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('opened pull request #42: https://github.com/example-org/gitops-users/pull/42 (branch promote/prod/0.7.0)');
    const body = (gh.requests.find((q) => q.method === 'POST')!.body as { body: string }).body;
    expect(body).toContain('**Verified:** not verified (--no-verify)');
    expect(body).toMatch(/\*\*staging health at promotion:\*\* unknown \(/);
    expect(copy.git('status', '--porcelain').trim()).toBe('');
  });

  it('usage errors exit 2 before anything happens', async () => {
    for (const [args, msg] of [
      [['dev'], 'with one environment, name the build to deploy'],
      [['staging', 'prod', '--pr', '--publish'], '--pr and --publish exclude each other'],
      [['staging', 'prod', '--no-verify'], '--no-verify goes with --pr or --publish'],
    ] as const) {
      const r = await run([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(msg);
    }
  });
});
