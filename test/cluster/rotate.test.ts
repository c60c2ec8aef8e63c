// rotate-db-password <env>: a rotation is a commit (the counter in env.yaml), made through the CLI in a
// throwaway repository; nothing is sent to a cluster and no password exists anywhere in git.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROTATION_ANNOTATION } from '../../scripts/lib/generate/mongodb/password-hook.ts';
import { isGenerated } from '../../scripts/lib/core/yaml.ts';
import { copyRepository } from '../support/repo-copy.ts';
import type { SyncRepoCopy } from '../support/repo-copy.ts';

let repo: SyncRepoCopy;
beforeAll(() => {
  repo = copyRepository('rotate');
}, 120_000);
afterAll(() => repo?.remove());

const read = (rel: string) => readFileSync(join(repo.dir, rel), 'utf8');

describe('rotate-db-password', () => {
  it('raises the counter in env.yaml (comments kept), regenerates and prints the rendered diff: the hook\'s ROTATION and the API\'s pod annotation', () => {
    const before = read('overlays/staging/env.yaml');
    expect(parse(before).mongodb.passwordRotation).toBeUndefined();
    // No cluster is needed, or reachable: the kubeconfig points nowhere.
    const r = repo.run(['scripts/rotate-db-password.ts', 'staging'], { KUBECONFIG: join(repo.dir, 'no-such-kubeconfig') });
    expect(r.stderr).not.toMatch(/error|failed/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('staging: password rotation 0 → 1');
    expect(r.stdout).toContain('rendered diff of overlays/staging');
    // The two rendered changes a sync acts on.
    expect(r.stdout).toMatch(new RegExp(`^\\s*-\\s+${ROTATION_ANNOTATION.replace(/[./]/g, '\\$&')}: "0"$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^\\s*\\+\\s+${ROTATION_ANNOTATION.replace(/[./]/g, '\\$&')}: "1"$`, 'm'));
    expect(r.stdout).toMatch(/Job/);
    expect(r.stdout).toContain('not committed');

    const after = read('overlays/staging/env.yaml');
    expect(parse(after).mongodb.passwordRotation).toBe(1);
    // Only the counter was added: every line of the hand-edited file (comments included) is still there.
    for (const line of before.split('\n')) expect(after.split('\n')).toContain(line);
    expect(after.split('\n').length).toBe(before.split('\n').length + 1);
    expect(read('overlays/staging/password-rotation-job.yaml')).toMatch(/value: "1"/);
    expect(read('overlays/staging/password-rotation-api.yaml')).toContain(`${ROTATION_ANNOTATION}: "1"`);
    // Other environments untouched.
    expect(read('overlays/dev/password-rotation-job.yaml')).toMatch(/value: "0"/);
    const status = repo.git('status', '--porcelain').split('\n').filter(Boolean).map((l) => l.slice(3)).sort();
    expect(status).toEqual(['overlays/staging/env.yaml', 'overlays/staging/password-retire-job.yaml', 'overlays/staging/password-rotation-api.yaml', 'overlays/staging/password-rotation-job.yaml']);
    // Rotation 1 runs the API as the second user: its connection-string Secret, written by the operator.
    expect(read('overlays/staging/password-rotation-api.yaml')).toContain('name: users-db-admin-users-api-b');
    expect(r.stdout).toMatch(/^\s*\+\s+name: users-db-admin-users-api-b$/m);
    expect(repo.run(['scripts/generate.ts', '--check']).status).toBe(0);
  }, 120_000);

  it('--commit records exactly the rotation with the diff in the message, and counts on from there', () => {
    repo.git('add', '-A');
    repo.git('commit', '--quiet', '-m', 'first rotation');
    const r = repo.run(['scripts/rotate-db-password.ts', 'staging', '--commit']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('staging: password rotation 1 → 2');
    expect(r.stdout).toMatch(/committed [0-9a-f]{12}/);
    const changed = repo.git('show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort();
    expect(changed).toEqual(['overlays/staging/env.yaml', 'overlays/staging/password-retire-job.yaml', 'overlays/staging/password-rotation-api.yaml', 'overlays/staging/password-rotation-job.yaml']);
    for (const f of changed.filter((f) => f !== 'overlays/staging/env.yaml')) expect(isGenerated(read(f))).toBe(true);
    const message = repo.git('log', '-1', '--format=%B');
    expect(message).toMatch(/^rotate-db-password staging: password rotation 1 → 2\n\nRendered diff:/);
    expect(message).toContain(`${ROTATION_ANNOTATION}: "2"`);
    expect(repo.git('status', '--porcelain').trim()).toBe('');
  }, 120_000);

  it('refuses an unknown environment and a broken env.yaml, writing nothing (exit 2)', () => {
    const unknown = repo.run(['scripts/rotate-db-password.ts', 'nope']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/nope/);

    const file = join(repo.dir, 'overlays/dev/env.yaml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace(/^replicas: .*$/m, 'replicas: many'));
    const bad = repo.run(['scripts/rotate-db-password.ts', 'dev']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('overlays/dev/env.yaml');
    expect(bad.stderr).toMatch(/replicas/);
    expect(readFileSync(file, 'utf8')).toBe(good.replace(/^replicas: .*$/m, 'replicas: many'));
    expect(read('overlays/dev/password-rotation-job.yaml')).toMatch(/value: "0"/);
    writeFileSync(file, good);
    expect(existsSync(join(repo.dir, '.gitops.lock'))).toBe(false);
  }, 120_000);

  it('never puts a password into git: the repository holds only the counter and the hook', () => {
    const tracked = repo.git('grep', '-n', '-I', '-i', '-E', 'passwordRotation|password-rotation', '--', 'overlays/staging').trim();
    expect(tracked).not.toBe('');
    // git grep exits 1 when nothing matches: no Secret object is generated or committed anywhere.
    expect(() => repo.git('grep', '-l', '-E', '^kind: Secret$', '--', 'overlays', 'platform', 'argocd', 'apps')).toThrow();
  }, 120_000);
});
