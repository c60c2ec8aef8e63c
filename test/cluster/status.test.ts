import { afterEach, describe, expect, it } from 'vitest';
import { collectStatus, formatStatusJson, formatStatusText, watchStatus } from '../../scripts/lib/status/index.ts';
import type { FakeKube } from '../support/fake-kube/server.ts';
import { harness } from './harness.ts';
import type { Harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.close();
  h = undefined;
});

const ENVS = [
  { name: 'prod', namespace: 'users-prod', application: 'prod-users-api' },
  { name: 'staging', namespace: 'users-staging', application: 'staging-users-api' },
];

function seedEnv(fake: FakeKube, env: (typeof ENVS)[number], s: { sync?: string; health?: string; phase?: string; ready?: number; message?: string }): void {
  fake.put({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: env.application, namespace: 'argocd' },
    status: { sync: { status: s.sync ?? 'Synced', revision: '0123456789abcdef0123' }, health: { status: s.health ?? 'Healthy', ...(s.message ? { message: s.message } : {}) } },
  });
  fake.put({ apiVersion: 'mongodbcommunity.mongodb.com/v1', kind: 'MongoDBCommunity', metadata: { name: 'users-db', namespace: env.namespace }, status: { phase: s.phase ?? 'Running' } });
  fake.put({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'users-api', namespace: env.namespace },
    spec: { replicas: 2 },
    status: { readyReplicas: s.ready ?? 2, updatedReplicas: s.ready ?? 2, observedGeneration: 1 },
  });
}

describe('status', () => {
  it('reports healthy environments as ok, with sync, health, revision, MongoDB phase and readiness', async () => {
    h = await harness();
    seedEnv(h.fake, ENVS[0]!, {});
    seedEnv(h.fake, ENVS[1]!, {});
    const statuses = await collectStatus(h.kube, ENVS, 'argocd');
    expect(statuses.map((s) => [s.env, s.ok, s.degraded])).toEqual([['prod', true, false], ['staging', true, false]]);
    expect(formatStatusText(statuses)).toBe(
      [
        'prod (namespace users-prod): ok',
        '  argocd    Synced, Healthy at 0123456789ab',
        '  mongodb   Running',
        '  api       2/2 ready, 2 updated',
        'staging (namespace users-staging): ok',
        '  argocd    Synced, Healthy at 0123456789ab',
        '  mongodb   Running',
        '  api       2/2 ready, 2 updated',
        '',
      ].join('\n'),
    );
    expect(h.fake.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('marks an environment degraded when its Application is Degraded or its pods are not ready, and says why', async () => {
    h = await harness();
    seedEnv(h.fake, ENVS[0]!, { health: 'Degraded', message: 'Deployment users-api exceeded its progress deadline', ready: 0 });
    seedEnv(h.fake, ENVS[1]!, { sync: 'OutOfSync', health: 'Progressing', ready: 1 });
    const statuses = await collectStatus(h.kube, ENVS, 'argocd');
    const [prod, staging] = statuses;
    expect(prod!.degraded).toBe(true);
    expect(prod!.problems).toEqual([
      'Application health Degraded: Deployment users-api exceeded its progress deadline',
      'no ready replicas of users-api: kubectl -n users-prod describe deployment users-api',
    ]);
    // Rolling out is not broken: progressing, not degraded.
    expect([staging!.ok, staging!.degraded]).toEqual([false, false]);
    expect(formatStatusText(statuses)).toContain('prod (namespace users-prod): DEGRADED');
    expect(formatStatusText(statuses)).toContain('staging (namespace users-staging): progressing');
    const json = JSON.parse(formatStatusJson(statuses)) as { degraded: boolean; environments: Array<{ env: string; application: { sync: string } }> };
    expect(json.degraded).toBe(true);
    expect(json.environments.map((e) => e.application.sync)).toEqual(['Synced', 'OutOfSync']);
  });

  it('reports what is missing before the first sync', async () => {
    h = await harness();
    const [prod] = await collectStatus(h.kube, [ENVS[0]!], 'argocd');
    expect(prod!.degraded).toBe(true);
    expect(prod!.problems[0]).toMatch(/Application argocd\/prod-users-api not found: run bootstrap/);
  });

  it('--watch re-polls until settled, and stops at the bound', async () => {
    h = await harness();
    seedEnv(h.fake, ENVS[1]!, { sync: 'OutOfSync', health: 'Progressing', ready: 1 });
    const polls: number[] = [];
    const result = await watchStatus(h.kube, [ENVS[1]!], 'argocd', {
      intervalMs: 1,
      maxPolls: 10,
      sleep: async () => {
        if (polls.length === 2) seedEnv(h!.fake, ENVS[1]!, {});
      },
      onPoll: (_s, n) => polls.push(n),
    });
    expect(polls).toEqual([1, 2, 3]);
    expect(result[0]!.ok).toBe(true);

    const bounded: number[] = [];
    seedEnv(h.fake, ENVS[1]!, { health: 'Progressing', ready: 1 });
    await watchStatus(h.kube, [ENVS[1]!], 'argocd', { intervalMs: 1, maxPolls: 4, sleep: async () => {}, onPoll: (_s, n) => bounded.push(n) });
    expect(bounded).toEqual([1, 2, 3, 4]);
  });

  it('--watch stops when aborted', async () => {
    h = await harness();
    seedEnv(h.fake, ENVS[1]!, { health: 'Progressing', ready: 1 });
    const controller = new AbortController();
    const polls: number[] = [];
    await watchStatus(h.kube, [ENVS[1]!], 'argocd', {
      intervalMs: 1,
      maxPolls: 100,
      signal: controller.signal,
      sleep: async () => controller.abort(),
      onPoll: (_s, n) => polls.push(n),
    });
    expect(polls).toEqual([1]);
  });
});
