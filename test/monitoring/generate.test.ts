// Monitoring in the rendered environments: present with the Prometheus operator, absent without, the
// thresholds of each env.yaml over gitops.yaml's, and validate accepts what is generated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEnv } from '../cluster/real.ts';
import type { KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERTS, monitoringCrds } from '../../scripts/lib/generate/monitoring.ts';
import { loadSettings } from '../../scripts/lib/inputs/index.ts';
import { monitoredCopy, PROD_ERROR_RATIO } from './fixture.ts';
import { REPO, type RepoCopy } from '../support/repo-copy.ts';

const ENVS = ['dev', 'staging', 'prod'];
const MONITORING_KINDS = ['ServiceMonitor', 'PrometheusRule'];
const EXPORTER = 'users-db-exporter';

type Rule = { alert: string; expr: string; for: string };
const rulesOf = (objects: KubeObject[]): Rule[] =>
  ((objects.find((o) => o.kind === 'PrometheusRule')!.spec as { groups: Array<{ rules: Rule[] }> }).groups[0]!.rules);

describe('monitoring objects in rendered environments', () => {
  let copy: RepoCopy;
  beforeAll(() => {
    copy = monitoredCopy();
  }, 120_000);
  afterAll(() => copy?.cleanup());

  it('the committed repository (no Prometheus operator) renders none', () => {
    for (const env of ENVS) {
      const objects = renderEnv(env, REPO);
      const kinds = objects.map((o) => o.kind);
      for (const k of MONITORING_KINDS) expect(kinds).not.toContain(k);
      expect(objects.filter((o) => o.metadata.name.startsWith(EXPORTER))).toEqual([]);
    }
  }, 120_000);

  for (const env of ENVS) {
    it(`${env}: ServiceMonitor on the API's named port and /metrics, PrometheusRule with every alert, dashboard ConfigMap for the sidecar, metrics NetworkPolicy`, () => {
      const objects = renderEnv(env, copy.root);
      const sm = objects.find((o) => o.kind === 'ServiceMonitor' && o.metadata.name === 'users-api')!;
      expect(sm.metadata.namespace).toBe(env);
      expect(sm.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'users-api')!;
      const smSpec = sm.spec as { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> };
      // The selector matches the Service's labels, and the endpoint names one of its ports.
      for (const [k, v] of Object.entries(smSpec.selector.matchLabels)) expect(svc.metadata.labels?.[k]).toBe(v);
      expect((svc.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name)).toContain(smSpec.endpoints[0]!.port);
      expect(smSpec.endpoints[0]!.path).toBe('/metrics');
      const rules = rulesOf(objects);
      expect(rules.map((r) => r.alert)).toEqual([...ALERTS]);
      for (const r of rules) expect(r.expr).toContain(`namespace="${env}"`);
      const dashboard = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1')!;
      const json = JSON.parse(Object.values((dashboard as unknown as { data: Record<string, string> }).data)[0]!) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
      const titles = json.panels.map((p) => p.title).join(' | ');
      for (const t of ['Requests', '5xx', 'Latency', 'pool', 'Replica-set']) expect(titles).toContain(t);
      expect(JSON.stringify(json)).toContain('mongodb_driver_pool_checked_out_connections');
      const np = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'users-api-metrics')!;
      expect(JSON.stringify(np.spec)).toContain('"kubernetes.io/metadata.name":"monitoring"');
    }, 120_000);

    it(`${env}: the MongoDB exporter (one container per member, as the monitoring user, password from the cluster's Secret), scraped, and let through`, () => {
      const objects = renderEnv(env, copy.root);
      const mdb = objects.find((o) => o.kind === 'MongoDBCommunity')!;
      const members = (mdb.spec as { members: number }).members;
      const users = (mdb.spec as { users: Array<{ name: string; roles: unknown[]; passwordSecretRef: { name: string } }> }).users;
      const monitor = users.find((u) => u.name === 'users-monitor')!;
      expect(monitor.roles).toEqual([{ name: 'clusterMonitor', db: 'admin' }, { name: 'read', db: 'local' }]);
      const dep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'users-db-exporter')!;
      const podSpec = (dep.spec as { template: { spec: { containers: Array<{ image: string; args: string[]; env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>; ports: Array<{ name: string; containerPort: number }> }> } } }).template.spec;
      expect(podSpec.containers).toHaveLength(members);
      podSpec.containers.forEach((c, i) => {
        expect(c.image).toMatch(/^percona\/mongodb_exporter:0\.53\.0/);
        expect(c.args).toEqual(expect.arrayContaining([`--mongodb.uri=mongodb://users-db-${i}.users-db-svc:27017/admin`, '--collector.replicasetstatus', `--web.listen-address=:${9216 + i}`]));
        expect(c.args.join(' ')).not.toMatch(/@/);
        expect(c.env).toEqual([{ name: 'MONGODB_USER', value: 'users-monitor' }, { name: 'MONGODB_PASSWORD', valueFrom: { secretKeyRef: { name: monitor.passwordSecretRef.name, key: 'password' } } }]);
      });
      // The PreSync hook creates that Secret (it is never rendered from git).
      expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
      const hook = objects.find((o) => o.kind === 'Job' && o.metadata.name === 'users-db-password')!;
      expect(JSON.stringify(hook.spec)).toContain(monitor.passwordSecretRef.name);
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'users-db-exporter')!;
      const sm = objects.find((o) => o.kind === 'ServiceMonitor' && o.metadata.name === 'users-db-exporter')!;
      const endpoints = (sm.spec as { endpoints: Array<{ port: string }> }).endpoints.map((e) => e.port);
      expect(endpoints).toEqual((svc.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name));
      expect(endpoints).toHaveLength(members);
      for (const [k, v] of Object.entries((sm.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels)) expect(svc.metadata.labels?.[k]).toBe(v);
      const fromPrometheus = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'users-db-exporter-metrics')!;
      expect(JSON.stringify(fromPrometheus.spec)).toContain('"kubernetes.io/metadata.name":"monitoring"');
      const toMembers = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'users-db-from-exporter')!;
      expect(toMembers.spec).toMatchObject({ podSelector: { matchLabels: { app: 'users-db-svc' } }, ingress: [{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'users-db-exporter' } } }], ports: [{ port: 27017 }] }] });
      const rules = rulesOf(objects);
      for (const a of ['UsersDbMemberDown', 'UsersDbPrimaryLost']) expect(rules.find((r) => r.alert === a)!.expr).toContain('job="users-db-exporter"');
    }, 120_000);
  }

  it('thresholds: prod\'s env.yaml overrides gitops.yaml, dev keeps the defaults', () => {
    const ratio = (env: string) => rulesOf(renderEnv(env, copy.root)).find((r) => r.alert === 'UsersApiErrorRatioHigh')!.expr;
    expect(ratio('prod')).toMatch(new RegExp(`> ${PROD_ERROR_RATIO}$`));
    expect(ratio('dev')).toMatch(/> 0\.05$/);
    const p99 = (env: string) => rulesOf(renderEnv(env, copy.root)).find((r) => r.alert === 'UsersApiLatencyP99High')!.expr;
    expect(p99('prod')).toMatch(/> 0\.5$/);
    expect(p99('staging')).toMatch(/> 1$/);
  }, 180_000);

  it('the sample preview carries no monitoring (previews report through Argo CD Notifications)', () => {
    const kinds = renderEnv('pr-123', copy.root).map((o) => o.kind);
    for (const k of MONITORING_KINDS) expect(kinds).not.toContain(k);
  }, 120_000);

  it('a cluster without the operator (clusters.in-cluster.prometheusOperator: false) turns it off again; generate --check then sees the drift', async () => {
    const settings = copy.read('gitops.yaml');
    copy.edit('gitops.yaml', 'capacity:\n  cpu: 7600m', 'clusters:\n  in-cluster: { prometheusOperator: false }\ncapacity:\n  cpu: 7600m');
    const check = await copy.run('generate.ts', ['--check']);
    expect(check.status).toBe(1);
    expect(check.stdout + check.stderr).toMatch(/overlays\/prod\/prometheusrule\.yaml/);
    copy.generate();
    expect(renderEnv('prod', copy.root).map((o) => o.kind)).not.toContain('PrometheusRule');
    copy.write('gitops.yaml', settings);
    copy.generate();
  }, 120_000);

  it('the sync plan finishes with monitoring on: the Prometheus operator\'s CRDs count as the cluster\'s, the exporter\'s password Secret as the PreSync hook\'s', async () => {
    const r = await copy.run('plan.ts', ['--format', 'json']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { stalls: unknown[] };
    expect(plan.stalls).toEqual([]);
    expect(r.stdout).toContain('users-db-exporter');
  }, 180_000);

  it('monitoringCrds: the operator\'s two CRDs when a cluster has monitoring on, none otherwise', () => {
    const on = loadSettings('gitops.yaml', copy.read('gitops.yaml')).settings!;
    expect(monitoringCrds(on).map((c) => c.key)).toEqual(['monitoring.coreos.com/ServiceMonitor', 'monitoring.coreos.com/PrometheusRule']);
    expect(monitoringCrds(loadSettings('gitops.yaml', readFileSync(join(REPO, 'gitops.yaml'), 'utf8')).settings!)).toEqual([]);
  });

  it('validate accepts the monitored environments (schemas of the fields written, and policies)', async () => {
    const r = await copy.run('validate.ts', ['dev', 'prod', '--format', 'json']);
    expect(r.stderr).not.toMatch(/no schema is known/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 180_000);

  it('a threshold out of range in env.yaml is an input error naming the file and field; nothing written', async () => {
    const before = copy.read('overlays/prod/prometheusrule.yaml');
    copy.edit('overlays/prod/env.yaml', `errorRatio: ${PROD_ERROR_RATIO}`, 'errorRatio: 5');
    const r = await copy.run('generate.ts', []);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/overlays\/prod\/env\.yaml.*\/monitoring\/errorRatio/);
    expect(copy.read('overlays/prod/prometheusrule.yaml')).toBe(before);
    copy.edit('overlays/prod/env.yaml', 'errorRatio: 5', `errorRatio: ${PROD_ERROR_RATIO}`);
  }, 60_000);
});
