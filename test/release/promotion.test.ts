// Promotion beyond a local commit: --publish (dev follows main) pushes to the tracked branch, --pr builds
// the promotion on its own branch without touching the working tree and proposes it with the rendered
// diff; history reads every tag change back from git. GitHub is not reachable here: its REST API is
// answered by a local stand-in that records each request and checks it has the documented shape
// (POST/GET/PATCH /repos/{owner}/{repo}/pulls, Bearer token, API version header).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateKustomize } from '../../scripts/lib/render/kustomize.ts';
import { deliverPromotion, describePullRequest, promotionBody, promotionBranch } from '../../scripts/lib/release/promotion.ts';
import { MANIFEST_MEDIA_TYPES, resolveDigest, splitImage } from '../../scripts/lib/release/registry.ts';
import { indexBody, startRegistryStandIn } from './registry-standin.ts';
import type { RegistryStandIn } from './registry-standin.ts';
import type { DeliveryOptions } from '../../scripts/lib/release/promotion.ts';
import { githubRepoOf, openOrUpdatePullRequest } from '../../scripts/lib/release/github.ts';
import { cosignCommands, releaseIdentityRegexp, verifyReleaseImage } from '../../scripts/lib/release/verify.ts';
import { formatHistory, parseCatFileBatch, pinLabel, sourceOf, tagHistory } from '../../scripts/lib/release/history.ts';
import { imageTag } from '../../scripts/lib/review/diff/summary.ts';
import { protectedDigestFindings } from '../../scripts/lib/review/validate/policies.ts';
import { createRepoCopy } from '../support/repo-copy.ts';
import { startGithubStandIn } from '../support/github-standin.ts';
import type { RepoCopy } from '../support/repo-copy.ts';

/** The stand-in registry's answer for a tag in these tests: a fixed digest per tag. */
const digestOf = (tag: string): string => `sha256:${createHash('sha256').update(`image ${tag}`).digest('hex')}`;

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
    // Exact release tags only: a suffix, a pre-release, a leading zero, a fourth number or a path after it do not verify.
    for (const ref of ['refs/tags/v1.2.3-evil', 'refs/tags/v1.2.3-rc.1', 'refs/tags/v1.2.3.4', 'refs/tags/v01.2.3', 'refs/tags/v1.2.3/x', 'refs/tags/v1.2', 'refs/heads/main-old', 'refs/heads/mainx', 'refs/pull/1/merge']) {
      expect(identity.test(`https://github.com/example-org/gitops-users/.github/workflows/release.yml@${ref}`), ref).toBe(false);
    }
    expect(identity.test('https://github.com/example-org/gitops-users/.github/workflows/release.yml@refs/tags/v0.10.0')).toBe(true);
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
      resolveDigest: async (_image, tag) => digestOf(tag),
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
    expect(copy.git('--git-dir', copy.origin!, 'show', 'main:overlays/dev/env.yaml')).toMatch(new RegExp(`^tag: sha-0123456\ndigest: ${digestOf('sha-0123456')}$`, 'm'));
    expect(copy.git('--git-dir', copy.origin!, 'show', 'main:overlays/dev/kustomization.yaml')).toContain(`digest: ${digestOf('sha-0123456')}`);
    // It landed: the local main moved along (clean checkout of main), no temporary ref is left.
    expect(copy.git('rev-parse', 'main').trim()).toBe(copy.git('--git-dir', copy.origin!, 'rev-parse', 'main').trim());
    expect(copy.git('for-each-ref', 'refs/promote-tmp').trim()).toBe('');
  }, 120_000);

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
    expect(body.body).toMatch(new RegExp(`^\\+\\s+image: ghcr\\.io/example-org/users-api:0\\.9\\.0@${digestOf('0.9.0')}$`, 'm'));
    expect(body.body).toContain(`**Image:** \`ghcr.io/example-org/users-api:0.9.0@${digestOf('0.9.0')}\``);
    expect(body.body).toContain('Deployment prod/users-api');
  }, 120_000);

  it('history lists each tag change of an environment with its source and commit', async () => {
    const entries = await tagHistory(copy.root, 'dev');
    expect(entries.map((e) => [e.source, e.tag])).toEqual([['created', entries[0]!.tag], ['release', 'sha-0123456']]);
    expect(entries[1]!.digest).toBe(digestOf('sha-0123456'));
    expect(entries[1]!.previous).toBe(entries[0]!.tag);
    const text = formatHistory(entries);
    expect(text.split('\n')[0]).toMatch(/^WHEN\s+ENV\s+TAG\s+FROM\s+COMMIT\s+SUBJECT$/);
    expect(text.split('\n')[1]).toMatch(new RegExp(` dev +\\S+ → sha-0123456@${digestOf('sha-0123456').slice(0, 19)}… +release +[0-9a-f]{7} +promote release → dev`));
    expect(await tagHistory(copy.root, 'no-such-env')).toEqual([]);
  });
});

describe('history parsing', () => {
  it('names the source environment only when the subject promotes into this environment', () => {
    expect(sourceOf('promote staging → prod: users-api 0.1.0 → 0.2.0', 'prod')).toBe('staging');
    expect(sourceOf('promote staging → prod: users-api 0.1.0 → 0.2.0', 'dev')).toBe('edit');
    expect(sourceOf('Bump prod by hand', 'prod')).toBe('edit');
  });
  it('the review summary and the history show a pinned tag as tag@sha256:<12 hex>…, so a re-pin of the same tag shows', () => {
    const d = `sha256:${'ab'.repeat(32)}`;
    expect(imageTag(`ghcr.io/o/users-api:0.2.0@${d}`)).toBe('0.2.0@sha256:abababababab…');
    expect(imageTag('ghcr.io/o/users-api:0.2.0')).toBe('0.2.0');
    expect(imageTag(`ghcr.io/o/users-api@${d}`)).toBe(d);
    expect(imageTag('localhost:5000/o/users-api')).toBe('localhost:5000/o/users-api');
    expect(pinLabel('0.2.0', d, '∅')).toBe('0.2.0@sha256:abababababab…');
    expect(pinLabel(undefined, undefined, '(deleted)')).toBe('(deleted)');
  });
  it('validate: a protected environment whose users API runs by tag only is a finding naming env.yaml /digest; pinned, or unprotected, is not', () => {
    const d = `sha256:${'cd'.repeat(32)}`;
    const objects = (image: string) => [{ id: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'prod', name: 'users-api' }, object: { apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'api', image }, { name: 'other', image: 'docker.io/busybox:1.36' }] } } } } }] as never;
    const settings = { image: 'ghcr.io/o/users-api', protected: ['prod'] };
    const byTag = protectedDigestFindings(settings, [{ env: 'prod', objects: objects('ghcr.io/o/users-api:0.2.0') }, { env: 'dev', objects: objects('ghcr.io/o/users-api:0.2.0') }], (e) => `overlays/${e}/env.yaml`);
    expect(byTag.map((f) => [f.env, f.policy, f.file, f.path])).toEqual([['prod', 'image-digest', 'overlays/prod/env.yaml', '/digest']]);
    expect(byTag[0]!.message).toContain('runs ghcr.io/o/users-api:0.2.0 by tag only');
    expect(protectedDigestFindings(settings, [{ env: 'prod', objects: objects(`ghcr.io/o/users-api:0.2.0@${d}`) }], (e) => e)).toEqual([]);
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
  let okBin: string;
  let reg: RegistryStandIn;
  let image: string;
  beforeAll(async () => {
    copy = createRepoCopy({ withOrigin: true });
    gh = await startGithubStandIn();
    // The image lives in a stand-in registry on 127.0.0.1 (promote resolves every tag to its digest there).
    reg = await startRegistryStandIn();
    image = `${reg.host}/example-org/users-api`;
    copy.edit('gitops.yaml', /^image: .*$/m, `image: ${image}`);
    copy.generate();
    copy.commit('image from the stand-in registry');
    copy.git('push', '--quiet', 'origin', 'main');
    reg.push('example-org/users-api', '0.7.0', indexBody('0.7.0'));
    // A cosign that verifies, and records what it was asked (the dev-follows-main run below).
    okBin = mkdtempSync(join(tmpdir(), 'cosign-ok-'));
    writeFileSync(join(okBin, 'cosign'), `#!/bin/sh\necho "$*" >> "${join(okBin, 'calls.log')}"\necho '[{"critical":{}}]'\nexit 0\n`, { mode: 0o755 });
    // cosign is not installed here: a stub on PATH answers as cosign does when nothing verifies
    // (exit 1, "Error: no matching signatures"), so the refusal path runs for real.
    bin = mkdtempSync(join(tmpdir(), 'cosign-stub-'));
    writeFileSync(join(bin, 'cosign'), '#!/bin/sh\necho "Error: no matching signatures: $*" >&2\nexit 1\n', { mode: 0o755 });
  }, 120_000);
  afterAll(async () => {
    await gh?.close();
    copy?.cleanup();
    if (bin) rmSync(bin, { recursive: true, force: true });
    if (okBin) rmSync(okBin, { recursive: true, force: true });
    await reg?.close();
  });
  const run = (args: string[], extraPath = '') =>
    copy.run('promote.ts', args, { GITHUB_TOKEN: gh.token, GITHUB_API_URL: gh.url, KUBECONFIG: join(copy.root, 'no-such-kubeconfig'), PATH: `${extraPath}${extraPath ? ':' : ''}${process.env.PATH}` });

  it('refuses an image whose signature does not verify: exit 2, nothing pushed, no pull request', async () => {
    const r = await run(['staging', 'prod', '--tag', '0.7.0', '--pr'], bin);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`refusing to promote ${image}@${digestOfBody(indexBody('0.7.0'))}: its signature does not verify`);
    expect(r.stderr).toMatch(/no matching signatures/);
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

  it('dev follows main: resolves the build in the registry, verifies it by digest, and lands on a main that moved since the checkout', async () => {
    const digest = reg.push('example-org/users-api', 'sha-abcdef0', indexBody('main build'));
    // main moved after the workflow's checkout: another merge is on the remote, not here.
    const other = mkdtempSync(join(tmpdir(), 'dev-follows-'));
    try {
      execFileSync('git', ['clone', '--quiet', copy.origin!, other]);
      writeFileSync(join(other, 'merged-later.txt'), 'x\n');
      execFileSync('git', ['-C', other, 'add', '.']);
      execFileSync('git', ['-C', other, '-c', 'user.name=o', '-c', 'user.email=o@example.invalid', 'commit', '--quiet', '-m', 'merged later']);
      execFileSync('git', ['-C', other, 'push', '--quiet', 'origin', 'HEAD:main']);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    const r = await run(['dev', '--tag', 'sha-abcdef0', '--publish'], okBin);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`promoted release → dev: \\S+ → sha-abcdef0@${digest}; pushed [0-9a-f]{12} to origin/main`));
    const calls = readFileSync(join(okBin, 'calls.log'), 'utf8').trim().split('\n');
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['verify', 'verify-attestation']);
    for (const c of calls) expect(c.endsWith(` ${image}@${digest}`)).toBe(true);
    expect(copy.git('--git-dir', copy.origin!, 'log', '--format=%s', '-2', 'main').trim().split('\n')).toEqual([expect.stringMatching(/^promote release → dev: users-api \S+ → sha-abcdef0$/), 'merged later']);
    expect(copy.git('--git-dir', copy.origin!, 'show', 'main:overlays/dev/env.yaml')).toContain(`tag: sha-abcdef0\ndigest: ${digest}\n`);
  }, 120_000);

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
  }, 120_000);
});

describe('registry: a tag resolved to its digest (stand-in registry on 127.0.0.1, distribution-spec v1.1.1)', () => {
  let reg: RegistryStandIn;
  beforeAll(async () => {
    reg = await startRegistryStandIn();
  });
  afterAll(async () => reg?.close());

  it('HEADs the manifest with the index and manifest types in Accept and returns Docker-Content-Digest', async () => {
    const digest = reg.push('example-org/users-api', 'sha-0123456', indexBody('one'));
    expect(await resolveDigest(`${reg.host}/example-org/users-api`, 'sha-0123456')).toBe(digest);
    const q = reg.requests.at(-1)!;
    expect(q.method).toBe('HEAD');
    expect(q.url).toBe('/v2/example-org/users-api/manifests/sha-0123456');
    expect(q.accept!.split(', ')).toEqual([...MANIFEST_MEDIA_TYPES]);
    expect(q.accept).toContain('application/vnd.oci.image.index.v1+json');
  });

  it('a tag the registry does not have is a usage error naming the reference', async () => {
    await expect(resolveDigest(`${reg.host}/example-org/users-api`, '9.9.9')).rejects.toThrow(new RegExp(`the registry has no ${reg.host}/example-org/users-api:9\\.9\\.9 \\(HTTP 404\\)`));
  });

  it('answers the Bearer challenge with a token from the realm, and hashes the manifest when no digest header comes', async () => {
    const locked = await startRegistryStandIn({ bearer: true, omitDigestHeader: true });
    try {
      const digest = locked.push('example-org/users-api', '1.0.0', indexBody('locked'));
      expect(await resolveDigest(`${locked.host}/example-org/users-api`, '1.0.0')).toBe(digest);
      expect(locked.requests.map((q) => `${q.method} ${q.url.split('?')[0]} ${q.authorization ?? '-'}`)).toEqual([
        'HEAD /v2/example-org/users-api/manifests/1.0.0 -',
        'GET /token -',
        'HEAD /v2/example-org/users-api/manifests/1.0.0 Bearer stand-in-token',
        'GET /v2/example-org/users-api/manifests/1.0.0 Bearer stand-in-token',
      ]);
      expect(locked.requests[1]!.url).toContain('scope=repository%3Aexample-org%2Fusers-api%3Apull');
    } finally {
      await locked.close();
    }
  });

  it('plain http only for a loopback registry; https for any other', () => {
    expect(splitImage('127.0.0.1:5000/o/app').baseUrl).toBe('http://127.0.0.1:5000');
    expect(splitImage('localhost:5000/o/app').baseUrl).toBe('http://localhost:5000');
    expect(splitImage('ghcr.io/example-org/users-api')).toEqual({ host: 'ghcr.io', name: 'example-org/users-api', baseUrl: 'https://ghcr.io' });
    expect(splitImage('127.0.0.1.example.com/o/app').baseUrl).toBe('https://127.0.0.1.example.com');
  });
});

describe('digests: a tag pushed again after it was verified is refused', () => {
  let copy: RepoCopy;
  let reg: RegistryStandIn;
  let image: string;
  const logs: string[] = [];
  const opts = (extra: Partial<DeliveryOptions>): DeliveryOptions => ({
    root: copy.root, to: 'dev', kustomize: kustomize!, remote: 'origin', github: undefined, isProtected: () => false, log: (t) => logs.push(t),
    verify: async () => ['signature', 'vulnerability-scan attestation'],
    resolveDigest: (img, tag) => resolveDigest(img, tag),
    ...extra,
  });
  let kustomize: Awaited<ReturnType<typeof locateKustomize>> | undefined;
  beforeAll(async () => {
    reg = await startRegistryStandIn();
    copy = createRepoCopy({ withOrigin: true });
    image = `${reg.host}/example-org/users-api`;
    copy.edit('gitops.yaml', /^image: .*$/m, `image: ${image}`);
    copy.generate();
    copy.commit('image from the stand-in registry');
    copy.git('push', '--quiet', 'origin', 'main');
    kustomize = await locateKustomize();
  }, 120_000);
  afterAll(async () => {
    await reg?.close();
    copy?.cleanup();
  });

  it('re-pointed while cosign verified it: refused, nothing written, nothing pushed', async () => {
    reg.push('example-org/users-api', 'sha-1111111', indexBody('built by the release workflow'));
    const head = copy.git('rev-parse', 'HEAD').trim();
    const verified: string[] = [];
    const error = await deliverPromotion(opts({
      tag: 'sha-1111111',
      verify: async (ref) => {
        verified.push(ref);
        reg.push('example-org/users-api', 'sha-1111111', indexBody('pushed again by a pull request'));
        return ['signature'];
      },
    }), 'publish').catch((e: unknown) => e as Error);
    expect(verified).toEqual([`${image}@${digestOfBody(indexBody('built by the release workflow'))}`]);
    expect(String(error)).toMatch(/refusing to promote .*:sha-1111111: the tag was pushed again while it was being verified/);
    expect(copy.git('rev-parse', 'HEAD').trim()).toBe(head);
    expect(copy.git('--git-dir', copy.origin!, 'rev-parse', 'main').trim()).toBe(head);
    expect(copy.git('status', '--porcelain').trim()).toBe('');
  }, 60_000);

  it('re-pointed after an environment pinned it: promoting that environment onward is refused', async () => {
    const good = reg.push('example-org/users-api', 'sha-2222222', indexBody('good build'));
    const r = await deliverPromotion(opts({ tag: 'sha-2222222' }), 'publish');
    expect(r).toMatchObject({ mode: 'push', digest: good });
    reg.push('example-org/users-api', 'sha-2222222', indexBody('overwritten later'));
    const error = await deliverPromotion(opts({ from: 'dev', to: 'staging' }), 'publish').catch((e: unknown) => e as Error);
    expect(String(error)).toMatch(new RegExp(`refusing to promote sha-2222222: dev pins it as ${good}, but it now names sha256:[0-9a-f]{64}, so the tag was pushed again`));
    expect(copy.git('--git-dir', copy.origin!, 'show', 'main:overlays/staging/env.yaml')).not.toContain('sha-2222222');
  }, 60_000);
});

const digestOfBody = (body: string): string => `sha256:${createHash('sha256').update(body).digest('hex')}`;

describe('--publish lands or leaves no local trace, and follows a branch that moves (dev follows main)', () => {
  let copy: RepoCopy;
  let base: DeliveryOptions;
  const logs: string[] = [];
  beforeAll(async () => {
    copy = createRepoCopy({ withOrigin: true });
    base = {
      root: copy.root, to: 'dev', kustomize: await locateKustomize(), remote: 'origin', github: undefined, isProtected: () => false, log: (t) => logs.push(t),
      verify: async () => ['signature', 'vulnerability-scan attestation'], resolveDigest: async (_i, tag) => digestOf(tag),
    };
  }, 120_000);
  afterAll(() => copy?.cleanup());
  const originMain = () => copy.git('--git-dir', copy.origin!, 'rev-parse', 'main').trim();

  it('an unreachable remote: says what is where, leaves no local commit, and the next run still promotes (it used to say "nothing to promote")', async () => {
    const head = copy.git('rev-parse', 'HEAD').trim();
    copy.git('remote', 'set-url', 'origin', join(copy.root, 'no-such-remote.git'));
    const error = await deliverPromotion({ ...base, tag: 'sha-3333333' }, 'publish').catch((e: unknown) => e as Error);
    expect(String(error)).toMatch(/cannot fetch main from origin: .*\nnothing was pushed, and nothing changed here \(no commit, working tree untouched\)/);
    expect(copy.git('rev-parse', 'HEAD').trim()).toBe(head);
    expect(copy.git('status', '--porcelain').trim()).toBe('');
    expect(copy.read('overlays/dev/env.yaml')).not.toContain('sha-3333333');
    copy.git('remote', 'set-url', 'origin', copy.origin!);
    const r = await deliverPromotion({ ...base, tag: 'sha-3333333' }, 'publish');
    expect(r.mode).toBe('push');
    expect(copy.git('--git-dir', copy.origin!, 'show', 'main:overlays/dev/env.yaml')).toMatch(/^tag: sha-3333333$/m);
  }, 60_000);

  it('a push the remote refuses for another reason: nothing changes here, and the message says the remote is unchanged', async () => {
    const hook = join(copy.origin!, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "protected branch" >&2\nexit 1\n', { mode: 0o755 });
    const head = copy.git('rev-parse', 'HEAD').trim();
    const before = originMain();
    try {
      const error = await deliverPromotion({ ...base, tag: 'sha-4444444' }, 'publish').catch((e: unknown) => e as Error);
      expect(String(error)).toMatch(/git push origin main failed: .*\norigin\/main is unchanged \(still [0-9a-f]{12}\); nothing changed here: the promotion commit [0-9a-f]{12} was built in a temporary worktree and is on no branch/);
    } finally {
      rmSync(hook);
    }
    expect(originMain()).toBe(before);
    expect(copy.git('rev-parse', 'HEAD').trim()).toBe(head);
    expect(copy.git('for-each-ref', 'refs/promote-tmp').trim()).toBe('');
  }, 60_000);

  it('the remote moved after the checkout, and moves again during the build: rebuilt on the new head, pushed, nothing lost', async () => {
    // main moved after this checkout was made (another merge landed): the checkout is behind.
    const other = mkdtempSync(join(tmpdir(), 'publish-other-'));
    try {
      execFileSync('git', ['clone', '--quiet', copy.origin!, other]);
      const commitThere = (file: string) => {
        writeFileSync(join(other, file), `${file}\n`);
        execFileSync('git', ['-C', other, 'add', file]);
        execFileSync('git', ['-C', other, '-c', 'user.name=o', '-c', 'user.email=o@example.invalid', 'commit', '--quiet', '-m', `merge ${file}`]);
        execFileSync('git', ['-C', other, 'push', '--quiet', 'origin', 'HEAD:main']);
      };
      commitThere('before-build.txt');
      // …and again while the promotion is being built (the first render is the moment).
      let builds = 0;
      const kustomize = { ...base.kustomize, build: async (root: string, dir: string) => {
        if (builds++ === 0) commitThere('during-build.txt');
        return base.kustomize.build(root, dir);
      } };
      const r = await deliverPromotion({ ...base, kustomize, tag: 'sha-5555555' }, 'publish');
      expect(r.mode).toBe('push');
      expect(logs.some((l) => /origin\/main moved while the promotion was built on [0-9a-f]{12} \(attempt 1 of 5\)/.test(l))).toBe(true);
      const log = copy.git('--git-dir', copy.origin!, 'log', '--format=%s', '-3', 'main').trim().split('\n');
      expect(log).toEqual([expect.stringMatching(/^promote release → dev: users-api \S+ → sha-5555555$/), 'merge during-build.txt', 'merge before-build.txt']);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('a pull request on the terminal', () => {
  it('never prints "undefined" when GitHub answers without html_url or number', () => {
    expect(describePullRequest({ number: 42, url: 'https://github.com/o/r/pull/42', created: true })).toBe('pull request #42: https://github.com/o/r/pull/42');
    expect(describePullRequest({ number: 42, url: undefined as unknown as string, created: true })).toBe('pull request #42 (GitHub answered without its link)');
    expect(describePullRequest({} as never)).toBe('pull request (GitHub answered without its link)');
    expect(describePullRequest({ number: 7, url: 'javascript:alert(1)' } as never)).not.toContain('javascript');
    for (const pr of [{}, { number: undefined }, { url: undefined }, undefined]) expect(describePullRequest(pr as never)).not.toContain('undefined');
  });
});
