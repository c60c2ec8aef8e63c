import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { liveDiff } from '../../scripts/lib/live-diff/index.ts';
import type { KubeObject } from '../../scripts/lib/kube/client.ts';
import { harness } from './harness.ts';
import type { Harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.close();
  h = undefined;
});

const deployment = (tag: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'users-api', labels: { app: 'users-api' } },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'api', image: `ghcr.io/example/users-api:${tag}` }] } } },
});
const configMap: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'users-api-config' }, data: { LOG_LEVEL: 'info' } };
const secret = (value: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'extra' }, data: { token: Buffer.from(value).toString('base64') } });

describe('live diff', () => {
  it('shows drifted fields per resource, masks Secret values, and only reads or dry-runs', async () => {
    h = await harness();
    const ns = 'users-staging';
    for (const o of [deployment('1.0.0'), configMap, secret('dummy-live-value')]) {
      h.fake.put({ ...structuredClone(o), metadata: { ...o.metadata, namespace: ns } } as never);
    }
    const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'users-api' }, spec: { ports: [{ port: 80 }] } };
    const versions = () => [...h!.fake.objects.values()].map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`);
    const before = versions();
    const diff = await liveDiff({ env: 'staging', namespace: ns, kube: h.kube, objects: [deployment('1.1.0'), configMap, secret('dummy-git-value'), service] });

    expect(diff!.changes.map((c) => [c.status, `${c.id.kind} ${c.id.name}`])).toEqual([
      ['changed', 'Deployment users-api'],
      ['changed', 'Secret extra'],
      ['added', 'Service users-api'],
    ]);
    const dep = diff!.changes.find((c) => c.id.kind === 'Deployment')!;
    expect(dep.patch).toContain('-          image: ghcr.io/example/users-api:1.0.0');
    expect(dep.patch).toContain('+          image: ghcr.io/example/users-api:1.1.0');
    const sec = diff!.changes.find((c) => c.id.kind === 'Secret')!;
    expect(sec.patch).toContain('<masked, changed>');
    const all = JSON.stringify(diff);
    for (const v of ['dummy-live-value', 'dummy-git-value']) {
      expect(all).not.toContain(v);
      expect(all).not.toContain(Buffer.from(v).toString('base64'));
    }
    const writes = h.fake.requests.filter((r) => r.method !== 'GET');
    expect(writes.length).toBe(3);
    expect(writes.every((r) => r.method === 'PATCH' && r.contentType === 'application/apply-patch+yaml' && r.query.dryRun === 'All' && r.query.fieldManager === 'argocd-controller')).toBe(true);
    expect(versions()).toEqual(before); // dry runs stored nothing
    expect(h.fake.violations).toEqual([]);
  });

  it('reports no drift when the cluster matches the render', async () => {
    h = await harness();
    h.fake.put({ ...structuredClone(configMap), metadata: { ...configMap.metadata, namespace: 'users-prod' } } as never);
    expect(await liveDiff({ env: 'prod', namespace: 'users-prod', kube: h.kube, objects: [configMap] })).toBeUndefined();
  });
});

describe('diff --live report', () => {
  it('renders the environment from the working tree and reports drift in the review diff\'s format', async () => {
    const { liveDiffReport } = await import('../../scripts/lib/live-diff/index.ts');
    const { formatReport } = await import('../../scripts/lib/diff/format.ts');
    h = await harness();
    const rendered = [deployment('0.2.0'), configMap].map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'staging' } }));
    h.fake.put({ ...structuredClone(deployment('0.1.0')), metadata: { name: 'users-api', namespace: 'staging' } } as never);
    const builds: string[] = [];
    const kustomize = { name: 'fake', identity: 'fake', build: async (_root: string, dir: string) => (builds.push(dir), rendered.map((o) => JSON.stringify(o)).join('\n---\n')) };
    const report = await liveDiffReport({ root: resolve(import.meta.dirname, '../..'), env: 'staging', kube: h.kube, kustomize });
    expect(builds).toEqual(['overlays/staging']);
    expect(report.envs[0]!.changes.map((c) => [c.status, c.id.kind])).toEqual([['changed', 'Deployment'], ['added', 'ConfigMap']]);
    expect(formatReport(report, 'text')).toContain('+          image: ghcr.io/example/users-api:0.2.0');
  });
});
