// Image tags of a build: what the release workflow pushes and what env.yaml may then pin.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildTags, githubOutput, IMAGE_TAG_PATTERN, releaseTagOf, shaTag } from '../../scripts/lib/release/tags.ts';
import { UsageError } from '../../scripts/lib/errors.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const base = { sha: SHA, image: 'ghcr.io/example-org/users-api', sourceUrl: 'https://github.com/example-org/gitops-users' };

describe('release tags', () => {
  it('a build of main is tagged sha-<7 hex> only', () => {
    const t = buildTags({ ...base, ref: 'refs/heads/main' });
    expect(t.references).toEqual(['ghcr.io/example-org/users-api:sha-0123456']);
    expect(t.releaseTag).toBeUndefined();
    expect(t.labels['org.opencontainers.image.revision']).toBe(SHA);
    expect(t.labels['org.opencontainers.image.version']).toBe('sha-0123456');
  });

  it('a release tag adds vX.Y.Z (pre-releases too), and the tag is what env.yaml accepts', () => {
    for (const v of ['v1.4.2', 'v0.1.0', 'v2.0.0-rc.1', 'v1.0.0-alpha.beta.1']) {
      const t = buildTags({ ...base, ref: `refs/tags/${v}` });
      expect(t.references).toEqual([`${base.image}:sha-0123456`, `${base.image}:${v}`]);
      expect(t.labels['org.opencontainers.image.version']).toBe(v);
      expect(v).toMatch(IMAGE_TAG_PATTERN);
    }
    expect(shaTag(SHA)).toMatch(IMAGE_TAG_PATTERN);
  });

  it('refuses tags that are not releases, refs that are neither branch nor tag, and short or uppercase commits', () => {
    for (const bad of ['latest', '1.2.3', 'v1.2', 'v01.2.3', 'v1.2.3+build.5', 'v1.2.3-', 'release-7']) {
      expect(() => releaseTagOf(`refs/tags/${bad}`), bad).toThrow(UsageError);
    }
    expect(() => releaseTagOf('HEAD')).toThrow(/neither a branch/);
    for (const bad of ['0123456', SHA.toUpperCase(), `${SHA}0`]) expect(() => shaTag(bad)).toThrow(/40-digit/);
    expect(() => buildTags({ ...base, ref: 'refs/heads/main', image: 'GHCR.io/Org/App:1' })).toThrow(/gitops.yaml: image/);
  });

  it('prints $GITHUB_OUTPUT lines with multi-line values in heredoc form', () => {
    const out = githubOutput(buildTags({ ...base, ref: 'refs/tags/v1.4.2' }));
    expect(out).toContain('image=ghcr.io/example-org/users-api\n');
    expect(out).toContain('sha-tag=sha-0123456\nrelease-tag=v1.4.2\n');
    expect(out).toContain('tags<<EOF_TAGS\nghcr.io/example-org/users-api:sha-0123456\nghcr.io/example-org/users-api:v1.4.2\nEOF_TAGS\n');
    expect(out).toMatch(/labels<<EOF_LABELS\n(org\.opencontainers\.image\.[a-z]+=.+\n){4}EOF_LABELS\n$/);
  });

  it('the CLI reads the image from gitops.yaml and exits 2 on a bad ref', () => {
    const run = (args: string[]) => {
      try {
        return { code: 0, out: execFileSync('node', ['scripts/release-tags.ts', ...args], { encoding: 'utf8', stdio: 'pipe' }) };
      } catch (e) {
        const err = e as { status: number; stderr: string };
        return { code: err.status, out: err.stderr };
      }
    };
    const ok = run(['--ref', 'refs/heads/main', '--sha', SHA, '--source', base.sourceUrl, '--format', 'text']);
    expect(ok.code).toBe(0);
    expect(ok.out.trim()).toMatch(/^[a-z0-9./-]+\/users-api:sha-0123456$/);
    const bad = run(['--ref', 'refs/tags/latest', '--sha', SHA, '--source', base.sourceUrl]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('is not a release tag');
  });
});
