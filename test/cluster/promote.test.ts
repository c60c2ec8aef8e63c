import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGenerated } from '../../scripts/lib/core/yaml.ts';
import { copyRepository } from '../support/repo-copy.ts';
import type { SyncRepoCopy } from '../support/repo-copy.ts';

// A fresh repository made of the committed GitOps files, regenerated and committed, then promoted as a
// user would: through the CLI.
let copy: SyncRepoCopy;
const DIGEST = `sha256:${'a'.repeat(64)}`;
let dir: string;
const run = (args: string[]) => copy.run(args);
const gitIn = (...args: string[]) => copy.git(...args);

beforeAll(() => {
  copy = copyRepository('promote');
  dir = copy.dir;
}, 60_000);

afterAll(() => copy?.remove());

describe('promote', () => {
  it('promote staging prod --tag … --commit changes only prod\'s env.yaml and generated files, and shows the image change', () => {
    const envBefore = readFileSync(join(dir, 'overlays/prod/env.yaml'), 'utf8');
    const r = run(['scripts/promote.ts', 'staging', 'prod', '--tag', '0.2.0', '--digest', DIGEST, '--commit']);
    expect(r.stderr).not.toMatch(/error|failed/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`promoted staging → prod: 0.1.0 → 0.2.0 (${DIGEST})`);
    expect(r.stdout).toMatch(/^\s*-\s+image: ghcr\.io\/example-org\/users-api:0\.1\.0@sha256:[0-9a-f]{64}$/m);
    expect(r.stdout).toMatch(new RegExp(`^\\s*\\+\\s+image: ghcr\\.io/example-org/users-api:0\\.2\\.0@${DIGEST}$`, 'm'));

    const changed = gitIn('show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort();
    expect(changed).toContain('overlays/prod/env.yaml');
    for (const f of changed.filter((f) => f !== 'overlays/prod/env.yaml')) {
      expect(isGenerated(readFileSync(join(dir, f), 'utf8')), `${f} is generated`).toBe(true);
    }
    expect(changed.every((f) => f === 'overlays/prod/env.yaml' || f.startsWith('overlays/prod/'))).toBe(true);
    // Only the tag line changed in env.yaml: comments and layout kept.
    const envAfter = readFileSync(join(dir, 'overlays/prod/env.yaml'), 'utf8');
    expect(envAfter).toBe(envBefore.replace(/^tag: 0\.1\.0$/m, 'tag: 0.2.0').replace(/^digest: sha256:[0-9a-f]{64}$/m, `digest: ${DIGEST}`));
    const message = gitIn('log', '-1', '--format=%B');
    expect(message).toMatch(/^promote staging → prod: users-api 0\.1\.0 → 0\.2\.0/);
    expect(message).toMatch(new RegExp(`^\\s*\\+\\s+image: ghcr\\.io/example-org/users-api:0\\.2\\.0@${DIGEST}$`, 'm'));
    expect(gitIn('status', '--porcelain')).toBe('');
  });

  it('says there is nothing to promote and changes nothing when the target already runs the tag', () => {
    const head = gitIn('rev-parse', 'HEAD');
    const r = run(['scripts/promote.ts', 'staging', 'prod', '--tag', '0.2.0', '--digest', DIGEST, '--commit']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`nothing to promote: prod already runs 0.2.0@${DIGEST}`);
    expect(gitIn('rev-parse', 'HEAD')).toBe(head);
    expect(gitIn('status', '--porcelain')).toBe('');
  });

  it('refuses a digest for a tag the environment already pins with another digest (pushed again), and a malformed --digest', () => {
    const other = `sha256:${'b'.repeat(64)}`;
    const r = run(['scripts/promote.ts', 'staging', 'prod', '--tag', '0.2.0', '--digest', other, '--commit']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`refusing to promote 0.2.0: prod pins it as ${DIGEST}, but it now names ${other}, so the tag was pushed again`);
    const bad = run(['scripts/promote.ts', 'staging', 'prod', '--tag', '0.3.0', '--digest', 'sha256:ABC']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--digest must be sha256:<64 lowercase hex>');
    expect(gitIn('status', '--porcelain')).toBe('');
  });

  it.each([
    [['staging', 'nope'], /unknown environment "nope"; known: dev, prod, staging/],
    [['prod', 'prod'], /cannot promote prod to itself/],
  ])('refuses %j with exit 2 and writes nothing', (envs, message) => {
    const r = run(['scripts/promote.ts', ...envs]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(gitIn('status', '--porcelain')).toBe('');
  });

  it('--no-digest pins the tag alone without asking a registry (an unprotected environment), and is refused for a protected one and with --digest/--pr', () => {
    // An unreachable registry: were it asked, the promotion would fail.
    const env = { HTTPS_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' };
    const r = copy.run(['scripts/promote.ts', 'dev', '--tag', 'e2e-2', '--no-digest', '--commit'], env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('promoted release → dev: 0.1.0 → e2e-2');
    const devEnv = readFileSync(join(dir, 'overlays/dev/env.yaml'), 'utf8');
    expect(devEnv).toMatch(/^tag: e2e-2$/m);
    expect(devEnv).not.toMatch(/^digest:/m);
    const prod = copy.run(['scripts/promote.ts', 'prod', '--tag', 'e2e-2', '--no-digest'], env);
    expect(prod.status).toBe(2);
    expect(prod.stderr).toMatch(/prod is protected \(gitops\.yaml protected\): it runs an image pinned by digest, and no digest is known for e2e-2/);
    for (const extra of [['--digest', DIGEST], ['--pr'], ['--publish']]) {
      const bad = copy.run(['scripts/promote.ts', 'staging', '--tag', 'e2e-2', '--no-digest', ...extra], env);
      expect(bad.status, extra.join(' ')).toBe(2);
      expect(bad.stderr).toContain('--no-digest pins the tag alone');
    }
    expect(gitIn('status', '--porcelain')).toBe('');
  });

  it('refuses a tag the environment schema rejects, naming the file', () => {
    const r = run(['scripts/promote.ts', 'staging', 'prod', '--tag', 'latest']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('overlays/prod/env.yaml');
    expect(gitIn('status', '--porcelain')).toBe('');
  });
});
