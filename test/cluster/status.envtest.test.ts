// status and status --watch against objects applied to the real API server and statuses written as
// Argo CD's application controller, the Deployment controller and the MongoDB operator would write
// them. A first sync is followed to the end; only what is broken counts as DEGRADED.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { collectStatus, watchStatus } from '../../scripts/lib/cluster/status/index.ts';
import type { EnvRef, EnvStatus } from '../../scripts/lib/cluster/status/index.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import type { Kube, KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { describeEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { REPO, asStream, intoNamespace, kubeOf, must, renderEnv, writeStatus } from './real.ts';

const SOURCE_ENV = 'dev';
const SHA = 'c0ffee'.padEnd(40, '0');

describeEnvtest('status on the real API server', () => {
  let env: Envtest;
  let kube: Kube;

  /** One environment in its own namespaces: the rendered overlay and its Application, nothing applied yet. */
  async function environment(prefix: string): Promise<{ ref: EnvRef; argocdNs: string; apply(): Promise<void>; app(status: unknown): Promise<void> }> {
    const ns = uniqueName(prefix);
    const argocdNs = `${ns}-argocd`;
    await must(env, ['create', 'namespace', ns]);
    await must(env, ['create', 'namespace', argocdNs]);
    const appFile = parseYamlStream(readFileSync(join(REPO, 'argocd/apps', `${SOURCE_ENV}.yaml`), 'utf8'))[0] as KubeObject;
    const application = { ...appFile, metadata: { ...appFile.metadata, namespace: argocdNs } };
    return {
      ref: { name: SOURCE_ENV, namespace: ns, application: application.metadata.name },
      argocdNs,
      apply: async () => {
        // As Argo CD's sync would: its Application exists, the overlay is applied as argocd-controller.
        await must(env, ['apply', '--server-side', '--field-manager=argocd-controller', '--force-conflicts', '-f', '-'], asStream([application, ...intoNamespace(renderEnv(SOURCE_ENV), SOURCE_ENV, ns)]));
      },
      app: (status) => writeStatus(env, 'application', argocdNs, application.metadata.name, status, false),
    };
  }

  const healthy = (revision = SHA) => ({ sync: { status: 'Synced', revision }, health: { status: 'Healthy' }, operationState: { phase: 'Succeeded', startedAt: '2026-12-01T00:00:00Z', operation: { sync: { revision } } } });

  async function deploymentReady(ns: string, ready: number, extra: Record<string, unknown> = {}): Promise<void> {
    const d = JSON.parse(await must(env, ['-n', ns, 'get', 'deployment', 'users-api', '-o', 'json'])) as KubeObject;
    const replicas = (d.spec as { replicas?: number }).replicas ?? 1;
    await writeStatus(env, 'deployment', ns, 'users-api', { observedGeneration: d.metadata.generation, replicas, readyReplicas: ready, updatedReplicas: replicas, availableReplicas: ready, ...extra });
  }

  /** As the operator writes it (MCK 1.10.0's status schema requires members, replicas, mongoUri, phase). */
  const mongo = (ns: string, phase: string, message?: string) =>
    writeStatus(env, 'mongodbcommunity', ns, 'users-db', {
      phase, currentMongoDBMembers: 1, currentStatefulSetReplicas: 1,
      mongoUri: `mongodb://users-db-0.users-db-svc.${ns}.svc.cluster.local:27017/?replicaSet=users-db`, ...(message ? { message } : {}),
    });

  beforeAll(async () => {
    env = await useEnvtest();
    kube = kubeOf(env);
  });

  it('before the first sync nothing exists yet: progressing, not DEGRADED (kube-apiserver v1.28)', async () => {
    const e = await environment('st-first');
    const [s] = await collectStatus(kube, [e.ref], e.argocdNs);
    expect(s).toMatchObject({ ok: false, degraded: false, application: null, mongodb: null, deployment: null });
    expect(s!.problems[0]).toMatch(/^Application .* does not exist yet: the root Application creates it/);
  });

  it('--watch follows a first sync to the end: missing, then Progressing with 0 ready replicas, then ok (kube-apiserver v1.28)', async () => {
    const e = await environment('st-watch');
    const seen: Array<Pick<EnvStatus, 'ok' | 'degraded'> & { health: string | null; ready: number | null }> = [];
    const stages = [
      async () => {
        await e.apply();
        await e.app({ sync: { status: 'OutOfSync' }, health: { status: 'Progressing', message: 'Waiting for rollout to finish: 0 of 1 updated replicas are available...' }, operationState: { phase: 'Running', startedAt: '2026-12-01T00:00:00Z', operation: { sync: { revision: SHA } } } });
        await deploymentReady(e.ref.namespace, 0);
        await mongo(e.ref.namespace, 'Pending');
      },
      async () => {
        await deploymentReady(e.ref.namespace, 1);
        await mongo(e.ref.namespace, 'Running');
        await e.app(healthy());
      },
    ];
    const last = await watchStatus(kube, [e.ref], e.argocdNs, {
      intervalMs: 1,
      maxPolls: 10,
      sleep: async () => { await stages.shift()?.(); },
      onPoll: ([s]) => seen.push({ ok: s!.ok, degraded: s!.degraded, health: s!.application?.health ?? null, ready: s!.deployment?.ready ?? null }),
    });
    expect(seen).toEqual([
      { ok: false, degraded: false, health: null, ready: null },
      { ok: false, degraded: false, health: 'Progressing', ready: 0 },
      { ok: true, degraded: false, health: 'Healthy', ready: 1 },
    ]);
    expect(last[0]!.application!.revision).toBe(SHA);
    expect(last[0]!.mongodb).toEqual({ phase: 'Running' });
  });

  it('health Unknown and Missing are on the way, not broken (kube-apiserver v1.28)', async () => {
    const e = await environment('st-unknown');
    await e.apply();
    for (const health of ['Unknown', 'Missing']) {
      await e.app({ sync: { status: 'OutOfSync' }, health: { status: health } });
      const [s] = await collectStatus(kube, [e.ref], e.argocdNs);
      expect(s!.degraded, health).toBe(false);
      expect(s!.ok).toBe(false);
    }
  });

  it('DEGRADED means broken: Application Degraded, a failed sync, MongoDB Failed, a rollout past its deadline (kube-apiserver v1.28)', async () => {
    const e = await environment('st-broken');
    await e.apply();
    await mongo(e.ref.namespace, 'Running');
    await deploymentReady(e.ref.namespace, 1);
    await e.app(healthy());
    expect((await collectStatus(kube, [e.ref], e.argocdNs))[0]).toMatchObject({ ok: true, degraded: false });

    const cases: Array<[string, () => Promise<void>, RegExp]> = [
      ['Application Degraded', () => e.app({ health: { status: 'Degraded', message: 'Deployment "users-api" exceeded its progress deadline' } }), /Application health Degraded: Deployment "users-api" exceeded its progress deadline/],
      ['sync Failed', () => e.app({ health: { status: 'Healthy' }, operationState: { phase: 'Failed', message: 'one or more objects failed to apply' } }), /last sync Failed: one or more objects failed to apply/],
      ['MongoDB Failed', async () => { await e.app(healthy()); await mongo(e.ref.namespace, 'Failed', 'dummy failure'); }, /MongoDB phase Failed: dummy failure/],
      ['rollout stalled', async () => {
        await mongo(e.ref.namespace, 'Running');
        await deploymentReady(e.ref.namespace, 0, { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "users-api-1" has timed out progressing.', lastUpdateTime: '2026-12-01T00:00:00Z', lastTransitionTime: '2026-12-01T00:00:00Z' }] });
      }, /rollout of users-api stalled \(ProgressDeadlineExceeded: ReplicaSet "users-api-1" has timed out progressing\.\)/],
    ];
    for (const [name, make, problem] of cases) {
      await make();
      const [s] = await collectStatus(kube, [e.ref], e.argocdNs);
      expect(s!.degraded, name).toBe(true);
      expect(s!.problems.join('\n'), name).toMatch(problem);
    }
  });
});
