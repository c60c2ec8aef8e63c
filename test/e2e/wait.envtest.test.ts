// The e2e waiting, syncing and diagnostics logic against the real API server, with the Applications the
// root creates (the committed argocd/ files, Argo CD v3.5.1's CRDs) and the statuses Argo CD's
// controller, the Deployment controller and the kubelet would write, written by the test at each poll.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectDiagnostics } from '../../scripts/lib/cluster/e2e/diagnostics.ts';
import { StallError, expectedApplications, readApp, refreshApp, waitForAppGone, waitForApplications, waitForRollout } from '../../scripts/lib/cluster/e2e/wait.ts';
import type { Clock } from '../../scripts/lib/cluster/e2e/wait.ts';
import type { Kube, KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import { describeEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { createRepoCopy } from '../support/repo-copy.ts';
import type { RepoCopy } from '../support/repo-copy.ts';
import { asStream, kubeOf, must, writeStatus } from '../cluster/real.ts';

const SHA = 'c0ffee'.padEnd(40, '0');
const OLD = 'bad5eed'.padEnd(40, '0');
const synced = (revision = SHA) => ({ sync: { status: 'Synced', revision }, health: { status: 'Healthy' }, operationState: { phase: 'Succeeded', startedAt: '2026-12-04T00:00:00Z', operation: { sync: { revision } } } });
const progressing = (message: string) => ({ sync: { status: 'OutOfSync' }, health: { status: 'Progressing', message }, operationState: { phase: 'Running', startedAt: '2026-12-04T00:00:00Z', message: 'waiting for healthy state of apps/Deployment/mongodb-kubernetes-operator', operation: { sync: { revision: SHA } } } });

/** A clock whose sleep runs the next stage (what the controllers do between two polls). */
function scripted(stages: Array<() => Promise<void>>): Clock & { slept: number } {
  let t = 0;
  const c = {
    slept: 0,
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
      const stage = stages[c.slept++];
      if (stage) await stage();
    },
  };
  return c;
}

describeEnvtest('e2e: waiting for Argo CD', () => {
  let env: Envtest;
  let kube: Kube;
  let repo: RepoCopy;

  /** The root's Applications from the committed files, in their own argocd namespace. */
  async function argocdNamespace(prefix: string): Promise<string> {
    const ns = uniqueName(prefix);
    await must(env, ['create', 'namespace', ns]);
    // Every Application the root creates (its directory.include), as committed.
    const files = ['argocd/root.yaml', ...readdirSync(join(repo.root, 'argocd/apps')).filter((f) => f.endsWith('.yaml')).sort().map((f) => `argocd/apps/${f}`)];
    const apps = files.flatMap((f) => parseYamlStream(readFileSync(join(repo.root, f), 'utf8')) as KubeObject[]).map((a) => ({ ...a, metadata: { ...a.metadata, namespace: ns, finalizers: [] } }));
    await must(env, ['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], asStream(apps));
    return ns;
  }
  const app = (ns: string, name: string, status: unknown) => writeStatus(env, 'application', ns, name, status, false);

  beforeAll(async () => {
    env = await useEnvtest();
    kube = kubeOf(env);
    repo = createRepoCopy();
  });
  afterAll(() => repo?.cleanup());

  it('a first sync settles in wave order; the manual (protected) Application is synced as `argocd app sync` would (kube-apiserver v1.28)', async () => {
    const ns = await argocdNamespace('e2e-order');
    const { root, apps } = expectedApplications(repo.root);
    const settledOrder: string[] = [];
    const clock = scripted([
      async () => { await app(ns, 'image-policy', synced()); await app(ns, 'mongodb-operator', synced()); },
      async () => { await app(ns, 'dev-users-api', synced()); await app(ns, 'staging-users-api', synced()); await app(ns, 'prod-users-api', { sync: { status: 'OutOfSync' }, health: { status: 'Missing' } }); },
      async () => { await app(ns, 'prod-users-api', synced()); await app(ns, root, synced()); },
    ]);
    const manual: string[] = [];
    const states = await waitForApplications(kube, root, apps, {
      namespace: ns, timeoutMs: 60_000, pollMs: 1000, revision: SHA, clock,
      onSettled: (name) => settledOrder.push(name),
      syncManual: async (a) => {
        manual.push(a.name);
        const { syncApp } = await import('../../scripts/lib/cluster/e2e/wait.ts');
        await syncApp(kube, ns, a.name);
      },
    });
    expect(settledOrder).toEqual(['image-policy', 'mongodb-operator', 'dev-users-api', 'staging-users-api', 'prod-users-api', 'root']);
    expect(manual).toEqual(['prod-users-api']);
    expect(states.every((s) => s.sync === 'Synced' && s.health === 'Healthy')).toBe(true);
    // The real server took the operation against Argo CD's CRD schema, as the controller will read it.
    const prod = JSON.parse(await must(env, ['-n', ns, 'get', 'application', 'prod-users-api', '-o', 'json'])) as { operation?: { sync?: { prune?: boolean }; initiatedBy?: { username?: string } } };
    expect(prod.operation).toEqual({ initiatedBy: { username: 'gitops-e2e' }, sync: { prune: true } });
  });

  it('time running out names the FIRST Application in wave order that has not settled, with what Argo CD says (kube-apiserver v1.28)', async () => {
    const ns = await argocdNamespace('e2e-stall');
    const { root, apps } = expectedApplications(repo.root);
    await app(ns, 'image-policy', synced());
    await app(ns, 'mongodb-operator', progressing('Deployment mongodb-kubernetes-operator: Waiting for rollout to finish: 0 of 1 updated replicas are available...'));
    await app(ns, 'dev-users-api', progressing('waiting on the operator'));
    const clock = scripted([]);
    const err = await waitForApplications(kube, root, apps, { namespace: ns, timeoutMs: 10_000, pollMs: 2000, clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StallError);
    const stall = err as StallError;
    expect(stall.stalled.name).toBe('mongodb-operator');
    expect(stall.message).toMatch(/^stalled after 10 s at wave -1 \(later waves wait on it\): mongodb-operator: OutOfSync\/Progressing, last operation Running \(waiting for healthy state of apps\/Deployment\/mongodb-kubernetes-operator\)$/);
    expect(clock.slept).toBe(5);
  });

  it('after a push only the root at the pushed commit counts: a root still at the old one stalls (kube-apiserver v1.28)', async () => {
    const ns = await argocdNamespace('e2e-rev');
    const { root, apps } = expectedApplications(repo.root);
    for (const a of apps) await app(ns, a.name, synced(OLD));
    await app(ns, root, synced(OLD));
    const err = (await waitForApplications(kube, root, apps, { namespace: ns, timeoutMs: 3000, pollMs: 1000, revision: SHA, clock: scripted([]) }).then(() => new Error('no stall'), (e: unknown) => e)) as Error;
    expect(err.message).toMatch(/at the root Application .*: root: Synced\/Healthy, last operation Succeeded at bad5eed$/);
    expect(await waitForApplications(kube, root, apps, { namespace: ns, timeoutMs: 3000, pollMs: 1000, clock: scripted([]) })).toHaveLength(apps.length + 1);
  });

  it('refresh sets Argo CD\'s refresh annotation; a missing Application reads as not created (kube-apiserver v1.28)', async () => {
    const ns = await argocdNamespace('e2e-refresh');
    await refreshApp(kube, ns, 'root');
    const rootApp = JSON.parse(await must(env, ['-n', ns, 'get', 'application', 'root', '-o', 'json'])) as KubeObject;
    expect(rootApp.metadata.annotations?.['argocd.argoproj.io/refresh']).toBe('hard');
    expect((rootApp as { spec?: { project?: string } }).spec?.project).toBe('root');
    expect(await readApp(kube, ns, 'nope')).toEqual({ name: 'nope', exists: false, sync: 'Missing', health: 'Missing' });
  });

  it('waits for a deleted Application to be gone, and says when it is not (kube-apiserver v1.28)', async () => {
    const ns = await argocdNamespace('e2e-gone');
    const clock = scripted([async () => { await must(env, ['-n', ns, 'delete', 'application', 'staging-users-api', '--wait=false']); }]);
    await waitForAppGone(kube, ns, 'staging-users-api', { timeoutMs: 10_000, pollMs: 1000, clock });
    await expect(waitForAppGone(kube, ns, 'dev-users-api', { timeoutMs: 2000, pollMs: 1000, clock: scripted([]) })).rejects.toThrow(/^not deleted after 2 s: dev-users-api: Unknown\/Unknown$/);
  });

  it('a rollout is done when every replica runs the new image; otherwise the timeout says what it saw (kube-apiserver v1.28)', async () => {
    const ns = uniqueName('e2e-roll');
    await must(env, ['create', 'namespace', ns]);
    const labels = { app: 'users-api' };
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users-api', namespace: ns }, spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'api', image: 'ghcr.io/example-org/users-api:e2e-2' }] } } } };
    await must(env, ['apply', '--server-side', '-f', '-'], JSON.stringify(deployment));
    const gen = (JSON.parse(await must(env, ['-n', ns, 'get', 'deployment', 'users-api', '-o', 'json'])) as { metadata: { generation: number } }).metadata.generation;
    const status = (ready: number) => writeStatus(env, 'deployment', ns, 'users-api', { observedGeneration: gen, replicas: 2, updatedReplicas: 2, readyReplicas: ready, availableReplicas: ready });
    await status(1);
    const clock = scripted([() => status(2)]);
    expect(await waitForRollout(kube, ns, 'users-api', 'ghcr.io/example-org/users-api:e2e-2', { timeoutMs: 10_000, pollMs: 1000, clock })).toBe(1000);
    await expect(waitForRollout(kube, ns, 'users-api', 'ghcr.io/example-org/users-api:e2e-3', { timeoutMs: 2000, pollMs: 1000, clock: scripted([]) }))
      .rejects.toThrow(/did not roll out ghcr.io\/example-org\/users-api:e2e-3 within 2 s: images ghcr.io\/example-org\/users-api:e2e-2; 2\/2 updated, 2 ready, 2 in all/);
  });

  it('diagnostics show the Application\'s conditions and unhealthy resources, pods not ready with their reason, and recent events (kube-apiserver v1.28)', async () => {
    const ns = await argocdNamespace('e2e-diag');
    const target = uniqueName('e2e-diag-env');
    await must(env, ['create', 'namespace', target]);
    await app(ns, 'dev-users-api', {
      sync: { status: 'OutOfSync' }, health: { status: 'Degraded', message: 'Job users-db-password failed' },
      conditions: [{ type: 'SyncError', message: 'RoleBinding is not permitted in project platform' }],
      operationState: { phase: 'Failed', message: 'one or more objects failed to apply', startedAt: '2026-12-04T00:00:00Z', operation: { sync: {} } },
      resources: [{ kind: 'Deployment', name: 'users-api', namespace: target, status: 'Synced', health: { status: 'Progressing', message: 'Waiting for rollout' } }, { kind: 'Service', name: 'users-api', namespace: target, status: 'Synced', health: { status: 'Healthy' } }],
    });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'users-api-abc', namespace: target }, spec: { containers: [{ name: 'api', image: 'ghcr.io/example-org/users-api:e2e-9' }] } };
    await must(env, ['apply', '--server-side', '-f', '-'], JSON.stringify(pod));
    await writeStatus(env, 'pod', target, 'users-api-abc', { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'api', ready: false, restartCount: 0, image: 'ghcr.io/example-org/users-api:e2e-9', imageID: '', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }] });
    for (const [i, reason] of ['Scheduled', 'BackOff'].entries()) {
      const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: `users-api-abc.${i}`, namespace: target }, type: i ? 'Warning' : 'Normal', reason, message: i ? 'Back-off pulling image "ghcr.io/example-org/users-api:e2e-9"' : 'Successfully assigned', count: i ? 4 : 1, lastTimestamp: `2026-12-04T00:00:0${i}Z`, firstTimestamp: '2026-12-04T00:00:00Z', involvedObject: { kind: 'Pod', name: 'users-api-abc', namespace: target }, source: { component: 'kubelet' } };
      await must(env, ['create', '-f', '-'], JSON.stringify(event));
    }
    const text = await collectDiagnostics(kube, { argocdNamespace: ns, applications: ['dev-users-api', 'absent-app'], namespaces: [target] });
    expect(text.split('\n')).toEqual([
      'Application dev-users-api: OutOfSync/Degraded (Job users-db-password failed)',
      '  condition SyncError: RoleBinding is not permitted in project platform',
      '  last operation Failed: one or more objects failed to apply',
      `  resource Deployment ${target}/users-api: Synced/Progressing (Waiting for rollout)`,
      'Application absent-app: does not exist',
      `namespace ${target}: 1 pod(s), 1 not ready`,
      '  pod users-api-abc: Pending; api: ImagePullBackOff (Back-off pulling image)',
      '  events (newest 2):',
      '    2026-12-04T00:00:00Z Normal Scheduled Pod/users-api-abc: Successfully assigned',
      '    2026-12-04T00:00:01Z Warning BackOff Pod/users-api-abc: Back-off pulling image "ghcr.io/example-org/users-api:e2e-9" (x4)',
    ]);
  });
});
