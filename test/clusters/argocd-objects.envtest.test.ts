// The Argo CD objects generated for three clusters, admitted by the real API server with Argo CD
// v3.5.1's CRDs (strict field validation, server-side dry run): Applications with destination.name,
// AppProject destinations by name (the root's with an empty namespace), the namespaces-<cluster> Application.
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import type { RepoSettings } from '../../scripts/lib/inputs/spec.ts';
import { describeEnvtest, uniqueName, useEnvtest, type Envtest } from '../support/envtest/index.ts';
import { committedSettings, envSpec } from '../generator/support.ts';

describeEnvtest('Argo CD objects for three clusters', () => {
  let env: Envtest;
  let ns: string;
  beforeAll(async () => {
    env = await useEnvtest();
    ns = uniqueName('argocd-3c');
    const r = await env.kubectl(['create', 'namespace', ns]);
    if (r.code !== 0) throw new Error(r.stderr);
  });

  it('every generated Application and AppProject is valid against the Argo CD v3.5.1 CRDs (kube-apiserver v1.28)', async () => {
    const { previews: _p, ...committed } = committedSettings() as RepoSettings & { previews?: unknown };
    const settings: RepoSettings = {
      ...committed,
      argocd: { ...committed.argocd, namespace: ns },
      clusters: { 'in-cluster': {}, 'prod-eu': { server: 'https://prod-eu.example.com:6443' }, 'prod-us': { server: 'https://prod-us.example.com:6443' } },
    };
    const spec = (name: string, cluster?: string) => ({ spec: envSpec(settings, name, { ...(cluster ? { cluster } : {}), ...(settings.protected?.includes(name) ? { sync: { automated: false, prune: false, selfHeal: false } } : {}) }), dotenv: '' });
    const files = generateRepo({ settings, envs: { dev: spec('dev'), prod: spec('prod', 'prod-eu'), staging: spec('staging', 'prod-us') } });
    const objects = Object.entries(files).filter(([f]) => f.startsWith('argocd/') && f.endsWith('.yaml')).map(([, t]) => parse(t) as { kind: string; metadata: { name: string } });
    const argo = objects.filter((o) => o.kind === 'Application' || o.kind === 'AppProject');
    // image-policy: the Kyverno Application and its own AppProject (one of each, in-cluster), as committed
    // in argocd/apps/image-policy.yaml and argocd/projects/image-policy.yaml.
    expect(argo.map((o) => o.metadata.name).sort()).toEqual([
      'dev-users-api', 'dev-users-api', 'image-policy', 'image-policy', 'mongodb-operator', 'mongodb-operator-prod-eu', 'mongodb-operator-prod-us', 'namespaces-prod-eu', 'namespaces-prod-us',
      'platform', 'platform-prod-eu', 'platform-prod-us', 'prod-users-api', 'prod-users-api', 'root', 'root', 'staging-users-api', 'staging-users-api',
    ]);
    const r = await env.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager=argocd-controller', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: argo }) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(argo.length);
  });
});
