// Image tags of a build: what the release workflow pushes and what env.yaml may then pin.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildTags, githubOutput, IMAGE_TAG_PATTERN, releaseTagOf, shaTag } from '../../scripts/lib/release/tags.ts';
import { UsageError } from '../../scripts/lib/core/errors.ts';

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

  it('prints $GITHUB_OUTPUT lines with multi-line values in heredoc form, under a random delimiter', () => {
    const out = githubOutput(buildTags({ ...base, ref: 'refs/tags/v1.4.2' }), () => 'f00d');
    expect(out).toContain('image=ghcr.io/example-org/users-api\n');
    expect(out).toContain('sha-tag=sha-0123456\nrelease-tag=v1.4.2\n');
    expect(out).toContain('tags<<ghadelimiter_f00d\nghcr.io/example-org/users-api:sha-0123456\nghcr.io/example-org/users-api:v1.4.2\nghadelimiter_f00d\n');
    expect(out).toMatch(/labels<<ghadelimiter_f00d\n(org\.opencontainers\.image\.[a-z]+=.+\n){4}ghadelimiter_f00d\n$/);
    // Random per run: two runs, two delimiters.
    const delimiters = [1, 2].map(() => /^tags<<(\S+)$/m.exec(githubOutput(buildTags({ ...base, ref: 'refs/heads/main' })))![1]);
    expect(delimiters[0]).toMatch(/^ghadelimiter_[0-9a-f]{32}$/);
    expect(delimiters[0]).not.toBe(delimiters[1]);
  });

  it('a pull request build goes to gitops.yaml previews.image, never the release repository', () => {
    const t = buildTags({ ...base, ref: 'refs/pull/42/merge', previewImage: 'ghcr.io/example-org/users-api-previews' });
    expect(t.references).toEqual(['ghcr.io/example-org/users-api-previews:sha-0123456']);
    expect(t.image).toBe('ghcr.io/example-org/users-api-previews');
    expect(() => buildTags({ ...base, ref: 'refs/pull/42/merge' })).toThrow(/needs gitops.yaml previews.image/);
    expect(() => buildTags({ ...base, ref: 'refs/pull/42/merge', previewImage: base.image })).toThrow(/must differ from image/);
    expect(buildTags({ ...base, ref: 'refs/heads/main', previewImage: 'ghcr.io/example-org/users-api-previews' }).image).toBe(base.image);
  });

  // Regressions of the round-3 attacks (issue 30): each of these passed before.
  it('refuses refs that are not a full, well-formed branch, tag or pull request ref', () => {
    for (const bad of ['refs/heads/', 'refs/heads/../tags/v1.0.0', 'refs/heads/main\nimage=evil', 'refs/tags/v1.0.0\n', 'refs/heads//main', 'refs/pull/1/../../tags/v1.0.0', 'refs/pull/x/merge', 'refs/heads/ma in']) {
      expect(() => buildTags({ ...base, ref: bad }), JSON.stringify(bad)).toThrow(UsageError);
    }
  });

  it('a value with a line break never reaches $GITHUB_OUTPUT: no extra output line can be added', () => {
    const injected = 'https://github.com/o/r\nEOF_LABELS\nimage=ghcr.io/evil/users-api';
    const t = buildTags({ ...base, ref: 'refs/heads/main', sourceUrl: injected });
    expect(() => githubOutput(t)).toThrow(/output labels: .* contains a line break; refusing to write it to \$GITHUB_OUTPUT/);
    // The old fixed delimiter cannot close a block any more, and a value equal to the random one is refused too.
    const closes = buildTags({ ...base, ref: 'refs/heads/main', sourceUrl: 'https://x/ghadelimiter_beef' });
    expect(() => githubOutput(closes, () => 'beef')).toThrow(/contains the output delimiter/);
  });

  it('property (fast-check, fixed seed): any ref is refused, or its output parses back to exactly the five outputs', () => {
    const piece = fc.oneof(fc.constantFrom('main', 'v1.2.3', '..', '', '.', 'a.lock', '@{', 'x~1', 'release', '42', 'merge', 'head', 'ghadelimiter_', '\n', '\r', ' ', '\u0000', '/'), fc.string({ maxLength: 8 }));
    const ref = fc.oneof(
      fc.tuple(fc.constantFrom('refs/heads/', 'refs/tags/', 'refs/pull/', 'refs/', 'heads/', ''), fc.array(piece, { maxLength: 4 })).map(([p, parts]) => p + parts.join('/')),
      fc.string({ maxLength: 40 }),
    );
    const value = fc.oneof(fc.constant('https://github.com/example-org/gitops-users'), fc.string({ maxLength: 30 }).map((v) => `https://github.com/${v}`));
    let accepted = 0;
    fc.assert(
      fc.property(ref, value, (r, source) => {
        let out: string;
        try {
          out = githubOutput(buildTags({ ...base, ref: r, sourceUrl: source, previewImage: 'ghcr.io/example-org/users-api-previews' }));
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          return;
        }
        accepted += 1;
        // Parse as the runner does: key=value lines and key<<D … D blocks; exactly these keys, once each.
        const keys: string[] = [];
        const lines = out.split('\n');
        for (let i = 0; i < lines.length - 1; i++) {
          const heredoc = /^([a-z-]+)<<(.+)$/.exec(lines[i]!);
          if (heredoc) {
            keys.push(heredoc[1]!);
            const end = lines.indexOf(heredoc[2]!, i + 1);
            expect(end).toBeGreaterThan(i);
            i = end;
          } else {
            keys.push(/^([a-z-]+)=/.exec(lines[i]!)![1]!);
          }
        }
        expect(keys).toEqual(['image', 'sha-tag', 'release-tag', 'tags', 'labels']);
        expect(/^image=(.*)$/m.exec(out)![1]).toMatch(/^ghcr\.io\/example-org\/users-api(-previews)?$/);
      }),
      { seed: 20261204, numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(0);
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
    // The round-3 injection through --source: exit 2, nothing printed for $GITHUB_OUTPUT.
    const injected = run(['--ref', 'refs/heads/main', '--sha', SHA, '--source', 'https://github.com/o/r\nEOF_LABELS\nimage=ghcr.io/evil/x']);
    expect(injected.code).toBe(2);
    expect(injected.out).toContain('--source');
    for (const ref of ['refs/heads/', 'refs/heads/../tags/v1.0.0', 'refs/heads/main\n']) {
      const r = run(['--ref', ref, '--sha', SHA, '--source', base.sourceUrl]);
      expect(r.code, JSON.stringify(ref)).toBe(2);
    }
    const pull = run(['--ref', 'refs/pull/7/merge', '--sha', SHA, '--source', base.sourceUrl, '--format', 'text']);
    expect(pull.code).toBe(0);
    expect(pull.out.trim()).toMatch(/-previews:sha-0123456$/);
  }, 180_000);
});
