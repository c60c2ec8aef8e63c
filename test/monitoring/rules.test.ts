// The alert rules against recorded series, with Prometheus's own rule engine: `promtool test rules`
// (Debian bookworm's `prometheus` package 2.42.0 ships promtool; .ci/run installs it). Each alert has a
// series set that fires it and one that keeps it silent (healthy values, or another namespace's trouble).
// promtool compares annotations exactly and ours are Go templates of $value: the unit tests run the rules
// without annotations, and `promtool check rules` checks the full rules, templates included.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertRules, type AlertRule } from '../../scripts/lib/generate/monitoring.ts';
import { toYaml } from '../../scripts/lib/core/yaml.ts';

const THRESHOLDS = { errorRatio: 0.05, latencyP99Seconds: 1, podsNotReadyMinutes: 10, backupMaxAgeHours: 26, rotationMaxMinutes: 15 };
const NS = 'dev';

function promtool(): string | undefined {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : undefined;
}
const version = promtool();
if (!version && process.env.CI === 'true') throw new Error('promtool is missing: apt-get install prometheus (Debian bookworm ships promtool in it)');

interface Case {
  name: string;
  series: Array<[string, string]>;
  evalTime: string;
  alert: AlertRule['alert'];
  fires: Array<Record<string, string>>;
}

const api = (labels: string) => `{namespace="${NS}",job="users-api",method="GET",route="/users",${labels}}`;
// percona/mongodb_exporter@v0.53.0's replSetGetStatus series as Prometheus stores them: the exporter's labels
// (member_idx = the member's name, member_state = its stateStr: exporter/metrics.go processSlice; cl_id,
// rs_nm, rs_state: exporter/topology_info.go; cl_role is empty outside a sharded cluster, getClusterRole, and
// Prometheus drops empty labels) and the ServiceMonitor's target labels (job = the
// Service's name, namespace, service, endpoint = the port's name, pod, container, instance). Exporter e
// runs beside member e (scripts/lib/generate/monitoring.ts): each reports every member as its member sees it.
const member = (m: number) => `users-db-${m}.users-db-svc.${NS}.svc.cluster.local:27017`;
function rs(metric: string, exporter: number, m: number, stateStr: string, ns = NS): string {
  const host = member(m).replace(`.${NS}.`, `.${ns}.`);
  return `${metric}{namespace="${ns}",job="users-db-exporter",service="users-db-exporter",endpoint="metrics-${exporter}",pod="users-db-exporter-7d9c8b6f5-x2x4q",container="member-${exporter}",`
    + `instance="10.42.0.17:${9216 + exporter}",cl_id="6740f2b3c1a9e0d4f5b6c7d8",rs_nm="users-db",rs_state="${exporter === 0 ? 1 : 2}",member_idx="${host}",member_state="${stateStr}"}`;
}

/**
 * What exporter e scrapes (its member's replSetGetStatus): per member m, mongodb_members_health and
 * mongodb_members_state labelled with m's stateStr as e's member sees it, and mongodb_members_self 1 on e's
 * own entry (replSetGetStatus sets `self: true` only there; booleans export as 1/0, exporter/metrics.go asFloat64).
 */
function view(e: number, stateStrs: string[], health: number[], ns = NS): Array<[string, string]> {
  const STATE: Record<string, number> = { PRIMARY: 1, SECONDARY: 2, '(not reachable/healthy)': 8 };
  return stateStrs.flatMap((st, m) => [
    [rs('mongodb_members_health', e, m, st, ns), `${health[m]}x10`],
    [rs('mongodb_members_state', e, m, st, ns), `${STATE[st]}x10`],
    ...(m === e ? [[rs('mongodb_members_self', e, m, st, ns), '1x10'] as [string, string]] : []),
  ] as Array<[string, string]>);
}

const CASES: Case[] = [
  { name: '10% 5xx fires the error ratio', alert: 'UsersApiErrorRatioHigh', evalTime: '15m', fires: [{ severity: 'critical' }],
    series: [[`http_request_duration_seconds_count${api('status_code="200"')}`, '0+54x30'], [`http_request_duration_seconds_count${api('status_code="500"')}`, '0+6x30']] },
  { name: '1% 5xx stays silent; another namespace\'s 5xx do not count', alert: 'UsersApiErrorRatioHigh', evalTime: '15m', fires: [],
    series: [[`http_request_duration_seconds_count${api('status_code="200"')}`, '0+99x30'], [`http_request_duration_seconds_count${api('status_code="500"')}`, '0+1x30'],
      ['http_request_duration_seconds_count{namespace="staging",job="users-api",method="GET",route="/users",status_code="500"}', '0+600x30']] },
  { name: 'requests between 1s and 2.5s fire the p99 latency', alert: 'UsersApiLatencyP99High', evalTime: '20m', fires: [{ severity: 'warning' }],
    series: [['0.1', '0x30'], ['1', '0x30'], ['2.5', '0+60x30'], ['+Inf', '0+60x30']].map(([le, v]) => [`http_request_duration_seconds_bucket${api(`status_code="200",le="${le}"`)}`, v!] as [string, string]) },
  { name: 'requests under 100ms stay silent', alert: 'UsersApiLatencyP99High', evalTime: '20m', fires: [],
    series: [['0.1', '0+60x30'], ['1', '0+60x30'], ['2.5', '0+60x30'], ['+Inf', '0+60x30']].map(([le, v]) => [`http_request_duration_seconds_bucket${api(`status_code="200",le="${le}"`)}`, v!] as [string, string]) },
  { name: 'one of two API pods unavailable for 10m fires', alert: 'UsersApiPodsNotReady', evalTime: '12m', fires: [{ severity: 'warning', namespace: NS, deployment: 'users-api' }],
    series: [[`kube_deployment_spec_replicas{namespace="${NS}",deployment="users-api"}`, '2x20'], [`kube_deployment_status_replicas_available{namespace="${NS}",deployment="users-api"}`, '1x20']] },
  { name: 'one pod unavailable for 5m (a rollout) stays silent', alert: 'UsersApiPodsNotReady', evalTime: '12m', fires: [],
    series: [[`kube_deployment_spec_replicas{namespace="${NS}",deployment="users-api"}`, '2x20'], [`kube_deployment_status_replicas_available{namespace="${NS}",deployment="users-api"}`, '2 2 2 2 2 2 2 1 1 1 1 1 1 2 2 2']] },
  { name: 'a member pod not ready for 10m fires', alert: 'UsersDbMemberNotReady', evalTime: '12m', fires: [{ severity: 'warning', namespace: NS, statefulset: 'users-db' }],
    series: [[`kube_statefulset_replicas{namespace="${NS}",statefulset="users-db"}`, '3x20'], [`kube_statefulset_status_replicas_ready{namespace="${NS}",statefulset="users-db"}`, '2x20']] },
  { name: 'every member pod ready stays silent', alert: 'UsersDbMemberNotReady', evalTime: '12m', fires: [],
    series: [[`kube_statefulset_replicas{namespace="${NS}",statefulset="users-db"}`, '3x20'], [`kube_statefulset_status_replicas_ready{namespace="${NS}",statefulset="users-db"}`, '3x20']] },
  { name: 'a member the others see unhealthy fires, per member', alert: 'UsersDbMemberDown', evalTime: '5m', fires: [{ severity: 'warning', namespace: NS, member_idx: member(2) }],
    series: [...view(0, ['PRIMARY', 'SECONDARY', '(not reachable/healthy)'], [1, 1, 0]), ...view(1, ['PRIMARY', 'SECONDARY', '(not reachable/healthy)'], [1, 1, 0])] },
  { name: 'a member alive but cut off fires, though it sees itself healthy', alert: 'UsersDbMemberDown', evalTime: '5m', fires: [{ severity: 'warning', namespace: NS, member_idx: member(2) }],
    series: [...view(0, ['PRIMARY', 'SECONDARY', '(not reachable/healthy)'], [1, 1, 0]), ...view(1, ['PRIMARY', 'SECONDARY', '(not reachable/healthy)'], [1, 1, 0]),
      ...view(2, ['(not reachable/healthy)', '(not reachable/healthy)', 'SECONDARY'], [0, 0, 1])] },
  { name: 'healthy members, and another namespace\'s down member, stay silent', alert: 'UsersDbMemberDown', evalTime: '5m', fires: [],
    series: [...view(0, ['PRIMARY', 'SECONDARY', 'SECONDARY'], [1, 1, 1]), ...view(1, ['PRIMARY', 'SECONDARY', 'SECONDARY'], [1, 1, 1]), ...view(2, ['PRIMARY', 'SECONDARY', 'SECONDARY'], [1, 1, 1]),
      ...view(0, ['PRIMARY', '(not reachable/healthy)', 'SECONDARY'], [1, 0, 1], 'staging'), ...view(2, ['PRIMARY', '(not reachable/healthy)', 'SECONDARY'], [1, 0, 1], 'staging')] },
  { name: 'a single member (dev) sees only itself: silent', alert: 'UsersDbMemberDown', evalTime: '5m', fires: [],
    series: view(0, ['PRIMARY'], [1]) },
  { name: 'members reported, none PRIMARY, fires', alert: 'UsersDbPrimaryLost', evalTime: '5m', fires: [{ severity: 'critical', namespace: NS }],
    series: [0, 1].flatMap((e) => [0, 1, 2].map((m) => [rs('mongodb_members_state', e, m, 'SECONDARY'), '2x10'] as [string, string])) },
  { name: 'a PRIMARY among the members stays silent', alert: 'UsersDbPrimaryLost', evalTime: '5m', fires: [],
    series: [0, 1].flatMap((e) => [0, 1, 2].map((m) => (m === 1 ? [rs('mongodb_members_state', e, m, 'PRIMARY'), '1x10'] : [rs('mongodb_members_state', e, m, 'SECONDARY'), '2x10']) as [string, string])) },
  { name: 'the last successful backup 30h old fires', alert: 'UsersDbBackupTooOld', evalTime: '30h', fires: [{ severity: 'critical', namespace: NS, cronjob: 'users-db-backup' }],
    series: [[`kube_cronjob_status_last_successful_time{namespace="${NS}",cronjob="users-db-backup"}`, '0x1900'], [`kube_cronjob_created{namespace="${NS}",cronjob="users-db-backup"}`, '0x1900']] },
  { name: 'a backup CronJob 30h old that never succeeded fires', alert: 'UsersDbBackupTooOld', evalTime: '30h', fires: [{ severity: 'critical', namespace: NS, cronjob: 'users-db-backup' }],
    series: [[`kube_cronjob_created{namespace="${NS}",cronjob="users-db-backup"}`, '0x1900']] },
  { name: 'a backup 2h old, and a new CronJob without a run yet, stay silent', alert: 'UsersDbBackupTooOld', evalTime: '30h', fires: [],
    series: [[`kube_cronjob_status_last_successful_time{namespace="${NS}",cronjob="users-db-backup"}`, '100800x1900'], [`kube_cronjob_created{namespace="${NS}",cronjob="users-db-backup"}`, '0x1900'],
      [`kube_cronjob_created{namespace="${NS}",cronjob="users-db-backup-s3"}`, '104400x1900']] },
  { name: 'a failed rotation Job fires', alert: 'UsersDbPasswordRotationStuck', evalTime: '5m', fires: [{ severity: 'warning', namespace: NS, job_name: 'users-db-password', reason: 'DeadlineExceeded' }],
    series: [[`kube_job_status_failed{namespace="${NS}",job_name="users-db-password",reason="DeadlineExceeded"}`, '1x10']] },
  { name: 'a rotation Job active for 20m fires', alert: 'UsersDbPasswordRotationStuck', evalTime: '20m', fires: [{ severity: 'warning', namespace: NS, job_name: 'users-db-password' }],
    series: [[`kube_job_status_start_time{namespace="${NS}",job_name="users-db-password"}`, '0x30'], [`kube_job_status_active{namespace="${NS}",job_name="users-db-password"}`, '1x30']] },
  { name: 'a rotation Job active for 5m, and another namespace\'s failed one, stay silent', alert: 'UsersDbPasswordRotationStuck', evalTime: '20m', fires: [],
    series: [[`kube_job_status_start_time{namespace="${NS}",job_name="users-db-password"}`, '900x30'], [`kube_job_status_active{namespace="${NS}",job_name="users-db-password"}`, '1x30'],
      ['kube_job_status_failed{namespace="prod",job_name="users-db-password",reason="BackoffLimitExceeded"}', '1x30']] },
];

function unitTests(cases: Case[]): object {
  return {
    rule_files: ['rules.yaml'],
    evaluation_interval: '1m',
    tests: cases.map((c) => ({
      name: c.name,
      interval: '1m',
      input_series: c.series.map(([series, values]) => ({ series, values })),
      alert_rule_test: [{ eval_time: c.evalTime, alertname: c.alert, exp_alerts: c.fires.map((labels) => ({ exp_labels: labels })) }],
    })),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runTests(rules: AlertRule[], cases: Case[]): { code: number | null; out: string } {
  writeFileSync(join(dir, 'rules.yaml'), toYaml({ groups: [{ name: 'users-api-dev', rules: rules.map(({ annotations: _a, ...r }) => r) }] }));
  writeFileSync(join(dir, 'tests.yaml'), toYaml(unitTests(cases)));
  const r = spawnSync('promtool', ['test', 'rules', 'tests.yaml'], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe.skipIf(!version)(`alert rules under promtool test rules (${version ?? 'promtool missing: apt-get install prometheus'})`, () => {
  const rules = alertRules(NS, THRESHOLDS);

  it('every alert has a case that fires it and one that keeps it silent', () => {
    for (const r of rules) {
      expect(CASES.some((c) => c.alert === r.alert && c.fires.length > 0), r.alert).toBe(true);
      expect(CASES.some((c) => c.alert === r.alert && c.fires.length === 0), r.alert).toBe(true);
    }
  });

  it('each case fires or stays silent as expected', () => {
    const r = runTests(rules, CASES);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.code, r.out).toBe(0);
  }, 300_000);

  it('the same cases fail against a rule with the wrong threshold: the check can fail', () => {
    const loose = alertRules(NS, { ...THRESHOLDS, errorRatio: 0.2 });
    const r = runTests(loose, CASES.filter((c) => c.alert === 'UsersApiErrorRatioHigh'));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/10% 5xx fires the error ratio/);
  }, 120_000);

  it('a rule that counts a member\'s view of itself misses the member that is cut off: the check can fail', () => {
    const naive = rules.map((r) => (r.alert === 'UsersDbMemberDown' ? { ...r, expr: `max by (namespace, member_idx) (mongodb_members_health{namespace="${NS}",job="users-db-exporter"}) == 0` } : r));
    const r = runTests(naive, CASES.filter((c) => c.alert === 'UsersDbMemberDown'));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/a member alive but cut off fires/);
    expect(r.out).not.toMatch(/a member the others see unhealthy fires, per member[^\n]*\n[^\n]*FAILED/);
  }, 120_000);

  it('the full rules, annotation templates included, pass promtool check rules', () => {
    writeFileSync(join(dir, 'full.yaml'), toYaml({ groups: [{ name: 'users-api-dev', rules }] }));
    const out = execFileSync('promtool', ['check', 'rules', 'full.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(out).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
  }, 120_000);
});
