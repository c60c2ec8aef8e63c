// promote --commit, followed to the cluster: in a clone, prod runs what Argo CD synced; the promotion is
// one commit; diff --live shows that the sync will change the image; after the sync (applied as Argo
// CD's server-side apply, statuses written as the controllers would) status reports the promoted
// commit and the new image running.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { liveDiff } from '../../scripts/lib/cluster/live-diff.ts';
import { formatText } from '../../scripts/lib/review/diff/format.ts';
import { collectStatus } from '../../scripts/lib/cluster/status/index.ts';
import type { KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { copyRepository } from '../support/repo-copy.ts';
import type { SyncRepoCopy as RepoCopy } from '../support/repo-copy.ts';
import { describeEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { asStream, intoNamespace, kubeOf, must, renderEnv, withoutHooks, writeStatus } from './real.ts';

const TAG = '9.8.7';
const DIGEST = `sha256:${'c'.repeat(64)}`;

describeEnvtest('promote --commit reaching the real API server', () => {
  let env: Envtest;
  let copy: RepoCopy;
  beforeAll(async () => {
    env = await useEnvtest();
    copy = copyRepository('promote-envtest');
  }, 120_000);
  afterAll(() => copy?.remove());

  it('one commit; diff --live shows the image change; after the sync status reports that commit and the image runs (kube-apiserver v1.28)', async () => {
    const ns = uniqueName('promote');
    const argocdNs = `${ns}-argocd`;
    await must(env, ['create', 'namespace', ns]);
    await must(env, ['create', 'namespace', argocdNs]);
    const sync = (objects: KubeObject[]) => must(env, ['apply', '--server-side', '--field-manager=argocd-controller', '--force-conflicts', '-f', '-'], asStream(withoutHooks(objects)));
    const app = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'prod-users-api', namespace: argocdNs }, spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: ns }, source: { repoURL: 'https://example.invalid/r.git', path: 'overlays/prod', targetRevision: 'main' } } };
    const before = copy.git('rev-parse', 'HEAD').trim();
    await sync([app, ...intoNamespace(renderEnv('prod', copy.dir), 'prod', ns)]);

    const r = copy.run(['scripts/promote.ts', 'staging', 'prod', '--tag', TAG, '--digest', DIGEST, '--commit']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const after = copy.git('rev-parse', 'HEAD').trim();
    expect(after).not.toBe(before);
    expect(copy.git('status', '--porcelain')).toBe('');
    const subject = copy.git('log', '-1', '--format=%s');
    expect(subject, subject).toMatch(/^promote staging → prod: users-api \S+ → 9\.8\.7/);

    const promoted = intoNamespace(renderEnv('prod', copy.dir), 'prod', ns);
    const d = await liveDiff({ env: 'prod', objects: promoted, namespace: ns, kube: kubeOf(env) });
    const text = formatText({ base: 'live', head: 'promoted', reached: ['prod'], envs: d ? [d] : [] });
    expect(text).toMatch(new RegExp(`^\\s*\\+\\s+image: \\S+:${TAG.replace(/\./g, '\\.')}@${DIGEST}$`, 'm'));

    // Argo CD syncs the commit; the controllers report.
    await sync(promoted);
    const dep = JSON.parse(await must(env, ['-n', ns, 'get', 'deployment', 'users-api', '-o', 'json'])) as KubeObject & { spec: { replicas?: number; template: { spec: { containers: Array<{ image: string }> } } } };
    // The cluster gets the image by digest (the tag beside it for the reader): what was verified is what runs.
    expect(dep.spec.template.spec.containers[0]!.image).toMatch(new RegExp(`:${TAG.replace(/\./g, '\\.')}@${DIGEST}$`));
    const replicas = dep.spec.replicas ?? 1;
    await writeStatus(env, 'deployment', ns, 'users-api', { observedGeneration: dep.metadata.generation, replicas, readyReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas });
    await writeStatus(env, 'mongodbcommunity', ns, 'users-db', { phase: 'Running', currentMongoDBMembers: 1, currentStatefulSetReplicas: 1, mongoUri: 'mongodb://users-db-0:27017' });
    await writeStatus(env, 'application', argocdNs, 'prod-users-api', { sync: { status: 'Synced', revision: after }, health: { status: 'Healthy' } }, false);
    const [s] = await collectStatus(kubeOf(env), [{ name: 'prod', namespace: ns, application: 'prod-users-api' }], argocdNs);
    expect(s).toMatchObject({ ok: true, degraded: false, application: { revision: after, sync: 'Synced', health: 'Healthy' } });
  });
});
