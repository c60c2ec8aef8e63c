// The committed example environments: generated, rendering, and shaped as documented.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO } from './support.ts';

function render(env: string): any[] {
  const out = execFileSync('kubectl', ['kustomize', `${REPO}overlays/${env}`], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS());
}
const find = (objs: any[], kind: string) => objs.find((o) => o.kind === kind);

describe.each([
  ['dev', 1, 1, false],
  ['staging', 2, 3, true],
  ['prod', 3, 3, true],
])('example %s', (env, replicas, members, tls) => {
  const objs = render(env);

  it(`renders ${replicas} API replica(s) and ${members} MongoDB member(s) in namespace ${env}`, () => {
    expect(find(objs, 'Deployment').spec.replicas).toBe(replicas);
    expect(find(objs, 'MongoDBCommunity').spec.members).toBe(members);
    expect(new Set(objs.map((o) => o.metadata.namespace))).toEqual(new Set([env]));
  });

  it('points the pods at the hash-suffixed ConfigMap built from its .env', () => {
    const cm = find(objs, 'ConfigMap');
    expect(cm.metadata.name).toMatch(/^users-api-config-[a-z0-9]{10}$/);
    expect(find(objs, 'Deployment').spec.template.spec.containers[0].envFrom[0].configMapRef.name).toBe(cm.metadata.name);
  });

  it(tls ? 'has a TLS ingress' : 'has no ingress', () => {
    const ing = find(objs, 'Ingress');
    if (tls) expect(ing.spec.tls[0].secretName).toBeTruthy();
    else expect(ing).toBeUndefined();
  });

  it('has a PodDisruptionBudget', () => {
    expect(find(objs, 'PodDisruptionBudget')).toBeDefined();
  });
});

it('prod syncs by hand, dev automatically', () => {
  const app = (env: string) => parseAllDocuments(readFileSync(`${REPO}argocd/apps/${env}.yaml`, 'utf8'))[0]!.toJS();
  expect(app('prod').spec.syncPolicy.automated).toBeUndefined();
  expect(app('dev').spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
});
