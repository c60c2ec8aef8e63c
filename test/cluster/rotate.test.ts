import { afterEach, describe, expect, it } from 'vitest';
import { rotateDbPassword, RESTARTED_AT } from '../../scripts/lib/secrets/rotate.ts';
import { randomPassword } from '../../scripts/lib/secrets/password.ts';
import { exitCodeOf } from '../../scripts/lib/errors.ts';
import { MONGODB } from '../../scripts/lib/spec.ts';
import { harness } from './harness.ts';
import type { Harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.close();
  h = undefined;
});

const NEW = 'dummy-rotated-password-1';
const env = { name: 'staging', namespace: 'users-staging' };

function seed(fake: Harness['fake']): void {
  fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: MONGODB.passwordSecret, namespace: env.namespace }, data: { password: Buffer.from('dummy-old').toString('base64') } });
  fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: MONGODB.connectionSecret, namespace: env.namespace }, data: { 'connectionString.standard': 'ZHVtbXk=' } });
  fake.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users-api', namespace: env.namespace }, spec: { replicas: 2, template: { metadata: {} } } });
}

describe('rotate-db-password', () => {
  it('replaces the password, waits for the operator to rewrite the connection string, then restarts the API', async () => {
    h = await harness();
    seed(h.fake);
    const lines: string[] = [];
    let polls = 0;
    await rotateDbPassword(env, {
      kube: h.kube,
      newPassword: () => NEW,
      log: (l) => lines.push(l),
      // the "operator" rewrites the connection Secret on the second poll
      sleep: async () => {
        if (++polls === 1) h!.fake.put(h!.fake.find('v1', 'Secret', MONGODB.connectionSecret, env.namespace)!);
      },
      now: () => new Date('2026-01-02T03:04:05Z'),
      wait: { timeoutMs: 1000, intervalMs: 10 },
    });
    const secret = h.fake.find('v1', 'Secret', MONGODB.passwordSecret, env.namespace)!;
    expect(Buffer.from((secret.data as Record<string, string>).password!, 'base64').toString()).toBe(NEW);
    const writes = h.fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path} ${r.contentType}`);
    expect(writes).toEqual([
      `PATCH /api/v1/namespaces/users-staging/secrets/${MONGODB.passwordSecret} application/apply-patch+yaml`,
      'PATCH /apis/apps/v1/namespaces/users-staging/deployments/users-api application/strategic-merge-patch+json',
    ]);
    const dep = h.fake.find('apps/v1', 'Deployment', 'users-api', env.namespace)!;
    expect((dep.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations[RESTARTED_AT]).toBe('2026-01-02T03:04:05.000Z');
    expect(lines.join('\n')).not.toContain(NEW);
    expect(lines.join('\n')).not.toContain(Buffer.from(NEW).toString('base64'));
    expect(h.fake.violations).toEqual([]);
  });

  it('does not restart the API when the operator never updates the connection string', async () => {
    h = await harness();
    seed(h.fake);
    let error: unknown;
    try {
      await rotateDbPassword(env, { kube: h.kube, newPassword: () => NEW, log: () => {}, sleep: async () => {}, now: () => new Date(0), wait: { timeoutMs: 30, intervalMs: 10 } });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/the operator has not updated .* the API was not restarted/);
    expect(exitCodeOf(error)).toBe(2);
    expect(h.fake.requests.some((r) => r.path.endsWith('/deployments/users-api') && r.method === 'PATCH')).toBe(false);
  });

  it('refuses an environment that was never bootstrapped', async () => {
    h = await harness();
    await expect(rotateDbPassword(env, { kube: h.kube, newPassword: () => NEW, log: () => {}, sleep: async () => {}, now: () => new Date(0) })).rejects.toThrow(/nothing to rotate[\s\S]*bootstrap/);
    expect(h.fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('generates long, distinct, URL-safe passwords', () => {
    const a = randomPassword();
    const b = randomPassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
  });
});
