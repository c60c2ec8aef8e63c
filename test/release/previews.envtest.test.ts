// A preview as Argo CD would apply it, on the real API server: the sample pr-123 (the template with the
// ApplicationSet's overrides) server-side applied with strict validation, its Namespace first, like
// every environment; and the ApplicationSet accepted by the upstream CRD (argo-cd v3.5.1) as generated.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import { describeEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { REPO, asStream, intoNamespace, must, renderEnv, withoutHooks } from '../cluster/real.ts';
import { previewManagedNamespaceMetadata } from '../../scripts/lib/generate/previews.ts';

const ARGO_APPLY = ['apply', '--server-side', '--field-manager=argocd-controller', '--force-conflicts', '--validate=strict'];

describeEnvtest('preview environments on the real API server', () => {
  let env: Envtest;
  beforeAll(async () => {
    env = await useEnvtest();
  });

  it('the sample preview pr-123 applies with fieldValidation=Strict into the namespace Argo CD creates for it, no warning (kube-apiserver v1.28)', async () => {
    const ns = uniqueName('pr-123');
    const rendered = renderEnv('pr-123');
    expect(rendered.filter((o) => o.kind === 'Namespace')).toEqual([]);
    // The namespace as CreateNamespace=true with managedNamespaceMetadata creates it (a PreSync task first).
    const m = previewManagedNamespaceMetadata(123);
    const namespaces = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: m.labels, annotations: m.annotations } }] as KubeObject[];
    const rest = intoNamespace(withoutHooks(rendered), 'pr-123', ns);
    for (const batch of [namespaces, rest]) {
      const dry = await env.kubectl([...ARGO_APPLY, '--dry-run=server', '-f', '-'], { input: asStream(batch) });
      expect(dry.stderr).toBe('');
      expect(dry.code).toBe(0);
      const real = await env.kubectl([...ARGO_APPLY, '-f', '-'], { input: asStream(batch) });
      expect(real.stderr).toBe('');
      expect(real.code).toBe(0);
    }
    const db = JSON.parse(await must(env, ['-n', ns, 'get', 'mongodbcommunity', 'users-db', '-o', 'json'])) as KubeObject & { spec: { members: number } };
    expect(db.spec.members).toBe(1);
    const labels = JSON.parse(await must(env, ['get', 'namespace', ns, '-o', 'json'])) as KubeObject;
    expect(labels.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted', 'gitops-users.example.com/preview': 'true' });
  });

  it('the ApplicationSet and the previews project as generated: accepted by the upstream CRDs, a misspelt field refused (kube-apiserver v1.28)', async () => {
    const argocdNs = uniqueName('argocd');
    await must(env, ['create', 'namespace', argocdNs]);
    const load = (f: string) => intoNamespace(parseYamlStream(readFileSync(join(REPO, f), 'utf8')) as KubeObject[], 'argocd', argocdNs);
    const objects = [...load('argocd/previews.yaml'), ...load('argocd/projects/previews.yaml')];
    const r = await env.kubectl([...ARGO_APPLY, '-f', '-'], { input: asStream(objects) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const set = objects[0]! as KubeObject & { spec: Record<string, unknown> };
    const bad = { ...set, metadata: { ...set.metadata, name: 'previews-bad' }, spec: { ...set.spec, generators: [{ pullRequest: { github: { owner: 'o', repo: 'r', lables: ['x'] } } }] } };
    const refused = await env.kubectl([...ARGO_APPLY, '--dry-run=server', '-f', '-'], { input: asStream([bad]) });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/lables/);
  });
});
