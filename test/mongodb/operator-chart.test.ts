// The operator chart as Argo CD v3.5.1 renders it: `helm template` of the upstream chart source
// (mongodb/mongodb-kubernetes@1.10.0:helm_chart/, ../shared/envtest/upstream) by scripts/lib/render/helm.ts,
// with the committed Application's values. It must equal the typed list the generator builds the platform
// AppProject from, and the committed platform project must admit every object of it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kindsOf } from '../../scripts/lib/generate/argocd.ts';
import { mongoOperatorApplication, MONGODB_OPERATOR_DEFAULTS, operatorChartKinds } from '../../scripts/lib/generate/mongodb/operator.ts';
import { operatorChartSource, renderOperatorApplication } from '../../scripts/lib/render/operator-chart.ts';
import { admissionRefusals } from '../../scripts/lib/review/validate/admission.ts';
import type { RepoSettings } from '../../scripts/lib/inputs/spec.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import { REPO_ROOT } from '../support/envtest/upstream.ts';

type Obj = Record<string, unknown>;
const source = operatorChartSource(REPO_ROOT, MONGODB_OPERATOR_DEFAULTS.version);
const hasGo = spawnSync('go', ['version']).status === 0;
// Under CI the renderer's inputs must be there: a missing Go or chart source fails, never skips.
const why = !source ? 'the upstream chart source (../shared/envtest/upstream or GITOPS_UPSTREAM_DIR) is missing' : !hasGo ? 'Go is not installed (apt-get install golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev)' : '';
const run = why === '' || process.env.CI === 'true' ? describe : describe.skip;

const committed = (file: string): Obj => parseYamlStream(readFileSync(join(REPO_ROOT, file), 'utf8'))[0] as Obj;
const settings = { repoURL: 'https://git.example.invalid/users.git', argocd: { version: 'v3.5.1', namespace: 'argocd' }, operator: MONGODB_OPERATOR_DEFAULTS } as unknown as RepoSettings;
const label = (o: Obj) => `${String(o.kind)} ${String((o.metadata as Obj).namespace ?? '')}/${String((o.metadata as Obj).name)}`;
const inCluster = [{ name: 'in-cluster', server: 'https://kubernetes.default.svc' }];

run(`the upstream chart, rendered (${why || 'Go + sprig'})`, () => {
  const render = (app: Obj) => {
    if (!source) throw new Error(why);
    return renderOperatorApplication(app, source).map((o) => o.object);
  };

  it('renders what the committed operator Application applies: two RoleBindings in the operator namespace among them', () => {
    const objects = render(committed('argocd/apps/mongodb-operator.yaml'));
    const bindings = objects.filter((o) => o.kind === 'RoleBinding').map(label).sort();
    expect(bindings).toEqual(['RoleBinding mongodb-operator/mongodb-kubernetes-operator', 'RoleBinding mongodb-operator/mongodb-kubernetes-operator-pvc-resize-binding']);
    expect(objects.filter((o) => o.kind === 'CustomResourceDefinition')).toHaveLength(8);
    const deployment = objects.find((o) => o.kind === 'Deployment') as { spec: { template: { spec: { containers: Array<{ image: string; args: string[]; resources: unknown }> } } } };
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ image: 'quay.io/mongodb/mongodb-kubernetes:1.10.0', args: ['-watch-resource=mongodbcommunity'], resources: { requests: { cpu: '100m', memory: '200Mi' }, limits: { cpu: '1100m', memory: '1Gi' } } });
  });

  for (const watched of [[], ['users-dev', 'users-prod'], ['*']]) {
    it(`equals the typed list the platform project is generated from (watching ${JSON.stringify(watched)})`, () => {
      const objects = render(mongoOperatorApplication(settings, watched) as Obj);
      const rendered = kindsOf(objects);
      const typed = operatorChartKinds(watched, MONGODB_OPERATOR_DEFAULTS.namespace);
      const k = (l: Array<{ group: string; kind: string; name?: string }>) => [...new Set(l.map((x) => `${x.group}/${x.kind}/${x.name ?? ''}`))].sort();
      expect(k(typed.cluster)).toEqual(k(rendered.cluster));
      expect(k(typed.namespaced)).toEqual(k(rendered.namespaced));
    });
  }

  it('is admitted object by object by the committed platform project, and refused once RoleBinding is removed from it', () => {
    const app = committed('argocd/apps/mongodb-operator.yaml');
    const project = committed('argocd/projects/platform.yaml');
    const objects = render(app);
    expect(admissionRefusals({ app, objects, projects: new Map([['platform', project]]), clusters: inCluster })).toEqual([]);
    const spec = project.spec as { namespaceResourceWhitelist: Array<{ kind: string }> };
    const without = { ...project, spec: { ...spec, namespaceResourceWhitelist: spec.namespaceResourceWhitelist.filter((k) => k.kind !== 'RoleBinding') } };
    const refused = admissionRefusals({ app, objects, projects: new Map([['platform', without]]), clusters: inCluster });
    expect(refused.map((r) => `${r.object}: ${r.message}`)).toEqual([
      'rbac.authorization.k8s.io/RoleBinding mongodb-operator/mongodb-kubernetes-operator: resource rbac.authorization.k8s.io:RoleBinding is not permitted in project platform',
      'rbac.authorization.k8s.io/RoleBinding mongodb-operator/mongodb-kubernetes-operator-pvc-resize-binding: resource rbac.authorization.k8s.io:RoleBinding is not permitted in project platform',
    ]);
  });

  it('takes values as Helm coalesces them: a user null removes a chart default, nested maps merge', () => {
    const app = mongoOperatorApplication(settings, ['a']) as { spec: { source: { helm: { valuesObject: Obj } } } };
    const values = app.spec.source.helm.valuesObject as { operator: Obj };
    values.operator = { ...values.operator, podSecurityContext: null, nodeSelector: { disk: 'ssd' } };
    const deployment = render(app as unknown as Obj).find((o) => o.kind === 'Deployment') as { spec: { template: { spec: Obj } } };
    expect(deployment.spec.template.spec.securityContext).toBeUndefined();
    expect(deployment.spec.template.spec.nodeSelector).toEqual({ disk: 'ssd' });
    // the chart's other operator defaults survive the merge
    expect((deployment.spec.template.spec.containers as Array<{ securityContext: unknown }>)[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });
});

describe('without Go', () => {
  it('says plainly what to install instead of rendering nothing', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { helmRenderBinary, HelmRenderUnavailable } = await import('../../scripts/lib/render/helm.ts');
    const cache = mkdtempSync(join(tmpdir(), 'helm-render-nogo-'));
    try {
      expect(() => helmRenderBinary(cache, { ...process.env, PATH: '/nonexistent' })).toThrow(HelmRenderUnavailable);
      expect(() => helmRenderBinary(cache, { ...process.env, PATH: '/nonexistent' })).toThrow(/`go` was not found: install golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
