// diff --live on the real API server, with the environment synced the way its Application syncs
// (ServerSideApply=true: field manager argocd-controller, forced conflicts). A field removed from git,
// an added env var and a hand-scaled Deployment each show; an untouched environment shows nothing.
import { beforeAll, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from './real-envs.ts';
import { applicationUsesServerSideApply, liveDiff } from '../../scripts/lib/cluster/live-diff.ts';
import { formatText } from '../../scripts/lib/review/diff/format.ts';
import type { Kube, KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { describeEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { REPO, asStream, intoNamespace, kubeOf, must, recording, renderEnv } from './real.ts';

const ENV = 'dev';

type Container = { name: string; env?: Array<{ name: string; value?: string }> };
type PodSpec = { enableServiceLinks?: boolean; containers: Container[] };

function deploymentOf(objects: KubeObject[]): KubeObject & { spec: { replicas?: number; template: { spec: PodSpec } } } {
  return objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'users-api') as never;
}

describeEnvtest('diff --live on the real API server', () => {
  let env: Envtest;
  let kube: Kube;

  /** A namespace holding the environment exactly as Argo CD's server-side sync leaves it. */
  async function synced(prefix: string): Promise<{ ns: string; objects: KubeObject[] }> {
    const ns = uniqueName(prefix);
    await must(env, ['create', 'namespace', ns]);
    const objects = intoNamespace(renderEnv(ENV), ENV, ns);
    await must(env, ['apply', '--server-side', '--field-manager=argocd-controller', '--force-conflicts', '-f', '-'], asStream(objects));
    return { ns, objects };
  }

  async function diffText(objects: KubeObject[], ns: string): Promise<string> {
    const r = recording(kube);
    const d = await liveDiff({ env: ENV, objects, namespace: ns, kube: r.kube });
    // It only reads and dry-runs: nothing is stored.
    expect(r.writes.every((w) => w.dryRun)).toBe(true);
    return d ? formatText({ base: 'live', head: 'working tree', reached: [ENV], envs: [d] }) : '';
  }

  beforeAll(async () => {
    env = await useEnvtest();
    kube = kubeOf(env);
  });

  it('every environment Application syncs with ServerSideApply=true, the semantics this diff uses (kube-apiserver v1.28)', () => {
    for (const name of ENVIRONMENT_NAMES) expect(applicationUsesServerSideApply(REPO, name), name).toBe(true);
  });

  it('an environment as synced shows no difference (kube-apiserver v1.28)', async () => {
    const { ns, objects } = await synced('ld-same');
    expect(await diffText(objects, ns)).toBe('');
  });

  it('a field removed from git shows as removed: enableServiceLinks (kube-apiserver v1.28)', async () => {
    const { ns, objects } = await synced('ld-removed');
    const edited = structuredClone(objects);
    delete deploymentOf(edited).spec.template.spec.enableServiceLinks;
    const text = await diffText(edited, ns);
    expect(text).toMatch(/^\s*-\s+enableServiceLinks: false$/m);
    expect(text).toContain('Deployment');
  });

  it('an env var added in git shows as added (kube-apiserver v1.28)', async () => {
    const { ns, objects } = await synced('ld-env');
    const edited = structuredClone(objects);
    deploymentOf(edited).spec.template.spec.containers[0]!.env!.push({ name: 'DUMMY_FEATURE_FLAG', value: 'on' });
    const text = await diffText(edited, ns);
    expect(text).toMatch(/^\s*\+\s+- name: DUMMY_FEATURE_FLAG$/m);
  });

  it('a Deployment scaled by hand shows its replica count going back (kube-apiserver v1.28)', async () => {
    const { ns, objects } = await synced('ld-scaled');
    await must(env, ['-n', ns, 'scale', 'deployment', 'users-api', '--replicas=5']);
    const text = await diffText(objects, ns);
    expect(text).toMatch(/^\s*-\s+replicas: 5$/m);
    expect(text).toMatch(new RegExp(`^\\s*\\+\\s+replicas: ${deploymentOf(objects).spec.replicas ?? 1}$`, 'm'));
  });

  it('why the Applications must sync server-side: after a client-side apply the same removal shows nothing (kube-apiserver v1.28)', async () => {
    const ns = uniqueName('ld-csa');
    await must(env, ['create', 'namespace', ns]);
    const objects = intoNamespace(renderEnv(ENV), ENV, ns);
    await must(env, ['apply', '-f', '-'], asStream(objects)); // client-side apply, as a sync without ServerSideApply=true
    const edited = structuredClone(objects);
    delete deploymentOf(edited).spec.template.spec.enableServiceLinks;
    expect(await diffText(edited, ns)).not.toContain('enableServiceLinks');
  });
});
