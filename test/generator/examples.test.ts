import { loadSettings } from '../../scripts/lib/inputs/index.ts';
// The committed example environments: generated, rendering, and shaped as documented.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { normalizeRender } from '../../scripts/lib/render/normalize.ts';
import { effectivePodRequests, formatAmount, workloadRequests } from '../../scripts/lib/review/validate/capacity.ts';
import { capacityFindings } from '../../scripts/lib/review/validate/validate.ts';
import { committedSettings, REPO } from './support.ts';

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

  it('has a PodDisruptionBudget for the API and one for the MongoDB members that allows one eviction', () => {
    const pdbs = objs.filter((o) => o.kind === 'PodDisruptionBudget');
    expect(pdbs.map((p) => p.metadata.name).sort()).toEqual(['users-api', 'users-db']);
    expect(pdbs.find((p) => p.metadata.name === 'users-db').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { app: 'users-db-svc' } } });
  });

  it(tls ? 'routes only the API\'s public paths through its Ingress' : 'publishes nothing', () => {
    const ing = find(objs, 'Ingress');
    if (!tls) return expect(ing).toBeUndefined();
    expect(ing.spec.rules[0].http.paths.map((p: any) => `${p.pathType} ${p.path}`)).toEqual(['Prefix /users', 'Exact /openapi.json']);
  });

  it('sizes the operator\'s init containers, so a member asks for its containers\' requests only', () => {
    const [w] = workloadRequests(normalizeRender(execFileSync('kubectl', ['kustomize', `${REPO}overlays/${env}`], { encoding: 'utf8' }))).filter((x) => x.id.kind === 'MongoDBCommunity');
    const spec = find(objs, 'MongoDBCommunity').spec.statefulSet.spec.template.spec;
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['mongod-posthook', 'mongodb-agent-readinessprobe']);
    expect(w!.pods).toBe(members);
    expect(formatAmount('cpu', w!.perPod.cpu)).toBe(formatAmount('cpu', effectivePodRequests(spec.containers.map((c: any) => c.resources), []).cpu));
  });
});

it('the committed environments fit the capacity in gitops.yaml, each alone and all together (with the operator)', () => {
  const settings = committedSettings();
  expect(settings.capacity).toBeDefined();
  const render = (env: string) => normalizeRender(execFileSync('kubectl', ['kustomize', `${REPO}overlays/${env}`], { encoding: 'utf8' }));
  const rendered = new Map(['dev', 'staging', 'prod'].map((env) => [env, render(env)]));
  // The committed capacity (two nodes) holds the environments and previews.maxConcurrent previews.
  const withPreviews = loadSettings('gitops.yaml', readFileSync(`${REPO}gitops.yaml`, 'utf8')).settings!;
  expect(withPreviews.previews).toBeDefined();
  expect(capacityFindings(new Map([...rendered, ['pr-123', render('pr-123')]]), withPreviews, true)).toEqual([]);
  // dev, staging and prod alone fit one 4-vCPU / 8 GiB node…
  const oneNode = { ...settings, capacity: { cpu: '3800m', memory: '7Gi' } };
  expect(capacityFindings(rendered, oneNode, true)).toEqual([]);
  // …and would not with the operator's default init-container requests (0.5 CPU each; 7 members).
  const withoutInit = new Map([...rendered].map(([env, objs]) => [env, objs.map((o) =>
    o.id.kind === 'MongoDBCommunity' ? { ...o, object: JSON.parse(JSON.stringify(o.object, (k, v) => (k === 'initContainers' ? undefined : v))) } : o)]));
  expect(capacityFindings(withoutInit, oneNode, true).map((f) => `${f.policy} ${f.file}`)).toEqual(['capacity gitops.yaml']);
});

it('prod syncs by hand, dev automatically', () => {
  const app = (env: string) => parseAllDocuments(readFileSync(`${REPO}argocd/apps/${env}.yaml`, 'utf8'))[0]!.toJS();
  expect(app('prod').spec.syncPolicy.automated).toBeUndefined();
  expect(app('dev').spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
});
