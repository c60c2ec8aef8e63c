// Monitoring as part of an environment, on a cluster with the Prometheus operator (gitops.yaml
// `monitoring.prometheusOperator`, per cluster `clusters.<name>.prometheusOperator`): a ServiceMonitor for
// the API's /metrics, a PrometheusRule with the alerts that matter for this service, a Grafana dashboard
// ConfigMap for the Grafana chart's dashboard sidecar, and a NetworkPolicy that lets Prometheus's
// namespace scrape the API. Pure functions of the settings and the environment; docs/monitoring.md.
//
// Upstream facts, at the versions docs/monitoring.md pins:
//  - ServiceMonitor / PrometheusRule fields: prometheus-operator/prometheus-operator@v0.93.0:
//    pkg/apis/monitoring/v1/servicemonitor_types.go (ServiceMonitorSpec selector, endpoints,
//    namespaceSelector), types.go (Endpoint port, path, interval; Duration's pattern),
//    prometheusrule_types.go (RuleGroup name, rules; Rule alert, expr, for, labels, annotations).
//    A ServiceMonitor's targets carry the labels namespace, service, pod and job (= the Service's name).
//  - The API's series: apps/users-api/src/metrics.ts (http_request_duration_seconds histogram with
//    method/route/status_code; the driver pool gauges mongodb_driver_pool_*).
//  - Kubernetes object series: kubernetes/kube-state-metrics@v2.20.0:docs/metrics/workload/
//    deployment-metrics.md (kube_deployment_spec_replicas, kube_deployment_status_replicas_available),
//    statefulset-metrics.md (kube_statefulset_replicas, kube_statefulset_status_replicas_ready),
//    cronjob-metrics.md (kube_cronjob_status_last_successful_time, kube_cronjob_created),
//    job-metrics.md (kube_job_status_failed, kube_job_status_active, kube_job_status_start_time).
//  - Replica-set member state: percona/mongodb_exporter@v0.53.0, deployed here per environment
//    (exporterObjects below; docs/monitoring.md "MongoDB series"). Its replSetGetStatus collector
//    (exporter/replset_status_collector.go) flattens the command's answer with prefix "" (makeMetrics("", …)),
//    so the "replSetGetStatus" → "rs" renaming of exporter/metrics.go `prefixes` does not apply: the
//    members array becomes mongodb_members_health (1 up, 0 down) and mongodb_members_state (MongoDB's
//    replica-set state numbers, 1 = PRIMARY), one series per member labelled member_idx (the member's
//    `name`, host:port) and member_state (its `stateStr`) (exporter/metrics.go processSlice), beside the
//    topology labels cl_role, cl_id, rs_nm, rs_state (exporter/topology_info.go); the collector's own test
//    (exporter/replset_status_collector_test.go) expects mongodb_myState, not mongodb_rs_myState.
//    Flags and env (main.go): --collector.replicasetstatus, --web.listen-address (default :9216),
//    --mongodb.direct-connect (default true), MONGODB_USER / MONGODB_PASSWORD; the image runs as
//    65535:65535 and exposes 9216 (Dockerfile); the user's roles: README.md "Permissions".
//  - Dashboard ConfigMaps: grafana/helm-charts charts/grafana README, sidecar.dashboards.label
//    (default grafana_dashboard) and sidecar.dashboards.searchNamespace (ALL to search every namespace).
import { APP_NAME, HTTP_PORT_NAME, PATHS, POOL_METRICS } from '../../../apps/users-api/src/contract.ts';
import { knownClusters, envCluster } from '../inputs/clusters.ts';
import { PASSWORD_HOOK_NAME } from './mongodb/password-hook.ts';
import { MONGODB_POD } from './mongodb/replicaset.ts';
import { appUserPasswordSecret, MONITOR_USER } from '../inputs/mongodb.ts';
import { MONGODB, type EnvSpec, type MonitoringThresholds, type RepoSettings } from '../inputs/spec.ts';
import { ALERTS, GRAFANA_DASHBOARD_LABEL } from './monitoring-facts.ts';

export { ALERT_THRESHOLDS, ALERTS, GRAFANA_DASHBOARD_LABEL } from './monitoring-facts.ts';

/** The prometheus-operator release whose CRDs the generated objects are written against. */
export const PROMETHEUS_OPERATOR_VERSION = 'v0.93.0';
export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

export const MONITORING_FILES = {
  serviceMonitor: 'servicemonitor.yaml',
  rule: 'prometheusrule.yaml',
  dashboard: 'grafana-dashboard.yaml',
  networkPolicy: 'networkpolicy-metrics.yaml',
  exporterDeployment: 'mongodb-exporter-deployment.yaml',
  exporterService: 'mongodb-exporter-service.yaml',
  exporterServiceMonitor: 'mongodb-exporter-servicemonitor.yaml',
  exporterNetworkPolicy: 'mongodb-exporter-networkpolicy.yaml',
  mongodFromExporter: 'mongodb-exporter-networkpolicy-members.yaml',
} as const;

/**
 * percona/mongodb_exporter, pinned by tag: the image's digest cannot be read from upstream's
 * repository (goreleaser pushes it, .goreleaser.yml `dockers`), so no digest is claimed here; pin it
 * (`:0.53.0@sha256:…`) from your registry when you mirror the image.
 */
export const MONGODB_EXPORTER_IMAGE = 'percona/mongodb_exporter:0.53.0';
export const MONGODB_EXPORTER = {
  name: `${MONGODB.resourceName}-exporter`,
  /** Its default --web.listen-address port; member i's container listens on basePort + i. */
  basePort: 9216,
  /** The image's USER (Dockerfile). */
  runAsUser: 65535,
} as const;
/** Port (and container) name of member i's exporter. */
export const exporterPortName = (i: number): string => `metrics-${i}`;

/** Backup CronJobs are recognised by name (scripts/lib for backups names them after env.yaml `backup`). */
export const BACKUP_CRONJOB_PATTERN = '.*backup.*';
export const SCRAPE_INTERVAL = '30s';



/** Whether environments on `cluster` get monitoring: the cluster's own setting, else gitops.yaml's. */
export function monitoringEnabled(settings: RepoSettings, cluster: string): boolean {
  if (!settings.monitoring) return false;
  const own = knownClusters(settings).get(cluster)?.prometheusOperator;
  return own ?? settings.monitoring.prometheusOperator;
}

/**
 * The CRDs a cluster with monitoring on already has (the Prometheus operator's, installed with it, not by this
 * repository): the sync plan (scripts/lib/review/plan) counts them as present before the root syncs. The monitoring
 * objects are rendered only for environments on such a cluster, so naming them once is enough.
 */
export function monitoringCrds(settings: RepoSettings): Array<{ key: string; by: string }> {
  if (![...knownClusters(settings).keys()].some((c) => monitoringEnabled(settings, c))) return [];
  return ['ServiceMonitor', 'PrometheusRule'].map((kind) => ({ key: `monitoring.coreos.com/${kind}`, by: "the cluster's Prometheus operator (gitops.yaml monitoring.prometheusOperator)" }));
}

/** An environment's thresholds: its env.yaml `monitoring`, each absent one from gitops.yaml. */
export function envThresholds(settings: RepoSettings, env: EnvSpec): MonitoringThresholds {
  return { ...settings.monitoring!.thresholds, ...env.monitoring };
}

const sel = (namespace: string, extra: string): string => `namespace="${namespace}"${extra ? `,${extra}` : ''}`;

/** A number as PromQL writes it (no exponent for the ranges the schema allows). */
function num(n: number): string {
  return String(n);
}

export interface AlertRule {
  alert: (typeof ALERTS)[number];
  expr: string;
  for: string;
  labels: { severity: 'critical' | 'warning' };
  annotations: { summary: string; description: string };
}

/** The alert rules of one environment (namespace-scoped selectors, thresholds filled in). */
export function alertRules(namespace: string, t: MonitoringThresholds): AlertRule[] {
  const api = (extra = ''): string => sel(namespace, `job="${APP_NAME}"${extra ? `,${extra}` : ''}`);
  const requests = (extra = ''): string => `sum(rate(http_request_duration_seconds_count{${api(extra)}}[5m]))`;
  const deploy = sel(namespace, `deployment="${APP_NAME}"`);
  const sts = sel(namespace, `statefulset="${MONGODB.resourceName}"`);
  const rs = sel(namespace, `job="${MONGODB_EXPORTER.name}"`);
  const backup = sel(namespace, `cronjob=~"${BACKUP_CRONJOB_PATTERN}"`);
  const rotation = sel(namespace, `job_name="${PASSWORD_HOOK_NAME}"`);
  return [
    {
      alert: 'UsersApiErrorRatioHigh',
      expr: `${requests('status_code=~"5.."')} / ${requests()} > ${num(t.errorRatio)}`,
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: `users-api in ${namespace} answers more than ${num(t.errorRatio * 100)}% of requests with 5xx`,
        description: 'Share of 5xx answers over the last 5 minutes: {{ $value | humanizePercentage }}. Check the API logs and the database (MongoDB alerts, status.ts).',
      },
    },
    {
      alert: 'UsersApiLatencyP99High',
      expr: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${api()}}[5m]))) > ${num(t.latencyP99Seconds)}`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `users-api in ${namespace}: p99 latency above ${num(t.latencyP99Seconds)}s`,
        description: 'p99 request duration over the last 5 minutes: {{ $value | humanizeDuration }}. See the dashboard\'s latency and MongoDB pool panels (a pool at its maximum queues requests).',
      },
    },
    {
      alert: 'UsersApiPodsNotReady',
      expr: `kube_deployment_spec_replicas{${deploy}} - kube_deployment_status_replicas_available{${deploy}} > 0`,
      for: `${t.podsNotReadyMinutes}m`,
      labels: { severity: 'warning' },
      annotations: {
        summary: `users-api in ${namespace}: {{ $value }} pod(s) wanted but not available`,
        description: `Some API pods have not been ready for ${t.podsNotReadyMinutes} minutes (readiness answers 503 while the database is unreachable). kubectl -n ${namespace} describe deployment ${APP_NAME}.`,
      },
    },
    {
      alert: 'UsersDbMemberNotReady',
      expr: `kube_statefulset_replicas{${sts}} - kube_statefulset_status_replicas_ready{${sts}} > 0`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `MongoDB ${MONGODB.resourceName} in ${namespace}: {{ $value }} member pod(s) not ready`,
        description: `A replica-set member's pod is not ready (kube-state-metrics). kubectl -n ${namespace} get mongodbcommunity,pods.`,
      },
    },
    {
      alert: 'UsersDbMemberDown',
      // Each exporter reports every member as its own member sees it; a member always sees itself healthy
      // (replSetGetStatus marks that entry `self: true`, exported as mongodb_members_self 1), so its own
      // view is left out: a member is down when no other member sees it healthy (also when it is alive
      // but cut off from the others).
      expr: `max by (namespace, member_idx) (mongodb_members_health{${rs}} unless on (namespace, instance, member_idx) (mongodb_members_self{${rs}} == 1)) == 0`,
      for: '2m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `MongoDB ${MONGODB.resourceName} in ${namespace}: member {{ $labels.member_idx }} is down`,
        description: `No other member's replSetGetStatus sees it healthy (${MONGODB_EXPORTER.name}, one exporter per member): it is down or cut off. The set keeps serving while a majority is up.`,
      },
    },
    {
      alert: 'UsersDbPrimaryLost',
      expr: `count by (namespace) (mongodb_members_state{${rs}}) unless on (namespace) count by (namespace) (mongodb_members_state{${rs}} == 1)`,
      for: '1m',
      labels: { severity: 'critical' },
      annotations: {
        summary: `MongoDB ${MONGODB.resourceName} in ${namespace} has no primary`,
        description: 'No member is PRIMARY (state 1): writes fail until an election succeeds. A majority of members must be up to elect one.',
      },
    },
    {
      alert: 'UsersDbBackupTooOld',
      expr: `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${backup}}) > ${t.backupMaxAgeHours * 3600}`
        + ` or (time() - max by (namespace, cronjob) (kube_cronjob_created{${backup}}) > ${t.backupMaxAgeHours * 3600}`
        + ` unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{${backup}})`,
      for: '15m',
      labels: { severity: 'critical' },
      annotations: {
        summary: `${namespace}: backup {{ $labels.cronjob }} has not succeeded for ${t.backupMaxAgeHours}h`,
        description: `The last successful run of the backup CronJob is older than ${t.backupMaxAgeHours} hours (or it never succeeded since it was created that long ago). kubectl -n ${namespace} get cronjob,jobs.`,
      },
    },
    {
      alert: 'UsersDbPasswordRotationStuck',
      expr: `kube_job_status_failed{${rotation}} > 0`
        + ` or (time() - kube_job_status_start_time{${rotation}} > ${t.rotationMaxMinutes * 60}`
        + ` and on (namespace, job_name) kube_job_status_active{${rotation}} > 0)`,
      for: '1m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `${namespace}: the database password rotation is stuck`,
        description: `The ${PASSWORD_HOOK_NAME} PreSync Job failed, or has run longer than ${t.rotationMaxMinutes} minutes: the sync waits on it. kubectl -n ${namespace} logs job/${PASSWORD_HOOK_NAME}; then sync again.`,
      },
    },
  ];
}

const commonLabels = { 'app.kubernetes.io/name': APP_NAME, 'app.kubernetes.io/component': 'monitoring' } as const;

export function serviceMonitor(settings: RepoSettings): object {
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'ServiceMonitor',
    metadata: { name: APP_NAME, labels: { ...commonLabels, ...settings.monitoring?.selectorLabels } },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': APP_NAME } },
      endpoints: [{ port: HTTP_PORT_NAME, path: PATHS.metrics, interval: SCRAPE_INTERVAL }],
    },
  };
}

const exporterLabels = { 'app.kubernetes.io/name': MONGODB_EXPORTER.name, 'app.kubernetes.io/component': 'monitoring' } as const;
const exporterSelector = { 'app.kubernetes.io/name': MONGODB_EXPORTER.name } as const;

/**
 * The exporter of one environment: one container per replica-set member, each connected directly to its
 * member (direct connection, the exporter's default: it answers replSetGetStatus whatever the member's
 * state, so a set without a primary is still reported), as the monitoring user, whose password Secret
 * the PreSync password hook creates in the cluster (scripts/lib/generate/mongodb/password-hook.ts; never in git).
 * Member hosts: <resource>-<i>.<resource>-svc (mongodb/mongodb-kubernetes@1.10.0:
 * mongodb-community-operator/api/v1/mongodbcommunity_types.go Hosts), resolved in the pod's own namespace.
 */
export function exporterDeployment(env: EnvSpec): object {
  const members = Array.from({ length: env.mongodb.members }, (_, i) => i);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: MONGODB_EXPORTER.name, labels: exporterLabels },
    spec: {
      replicas: 1,
      selector: { matchLabels: exporterSelector },
      template: {
        metadata: { labels: exporterLabels },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: MONGODB_EXPORTER.runAsUser, runAsGroup: MONGODB_EXPORTER.runAsUser, seccompProfile: { type: 'RuntimeDefault' } },
          containers: members.map((i) => {
            const port = MONGODB_EXPORTER.basePort + i;
            return {
              name: `member-${i}`,
              image: MONGODB_EXPORTER_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              args: [
                `--mongodb.uri=mongodb://${MONGODB.resourceName}-${i}.${MONGODB.resourceName}-svc:${MONGODB.port}/${MONGODB.authDb}`,
                '--collector.replicasetstatus',
                `--web.listen-address=:${port}`,
              ],
              env: [
                { name: 'MONGODB_USER', value: MONITOR_USER },
                { name: 'MONGODB_PASSWORD', valueFrom: { secretKeyRef: { name: appUserPasswordSecret(MONITOR_USER), key: MONGODB.passwordKey } } },
              ],
              ports: [{ name: exporterPortName(i), containerPort: port, protocol: 'TCP' }],
              // The exporter keeps serving while its member is unreachable (it retries at every scrape,
              // exporter/exporter.go New), so a TCP probe does not turn a down member into a down exporter.
              readinessProbe: { tcpSocket: { port }, periodSeconds: 10 },
              livenessProbe: { tcpSocket: { port }, periodSeconds: 20, failureThreshold: 6 },
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, privileged: false, capabilities: { drop: ['ALL'] } },
            };
          }),
        },
      },
    },
  };
}

export function exporterService(env: EnvSpec): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: MONGODB_EXPORTER.name, labels: exporterLabels },
    spec: {
      selector: exporterSelector,
      ports: Array.from({ length: env.mongodb.members }, (_, i) => ({ name: exporterPortName(i), port: MONGODB_EXPORTER.basePort + i, targetPort: exporterPortName(i), protocol: 'TCP' })),
    },
  };
}

/** Scrapes every member's exporter; the targets' job label is the Service's name (users-db-exporter). */
export function exporterServiceMonitor(settings: RepoSettings, env: EnvSpec): object {
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'ServiceMonitor',
    metadata: { name: MONGODB_EXPORTER.name, labels: { ...exporterLabels, ...settings.monitoring?.selectorLabels } },
    spec: {
      selector: { matchLabels: exporterSelector },
      endpoints: Array.from({ length: env.mongodb.members }, (_, i) => ({ port: exporterPortName(i), path: PATHS.metrics, interval: SCRAPE_INTERVAL })),
    },
  };
}

/** Prometheus's namespace may reach the exporter; the exporter may reach the members' port (the base policy admits only the API, the members and the operator). */
export function exporterNetworkPolicies(settings: RepoSettings, env: EnvSpec): object[] {
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${MONGODB_EXPORTER.name}-metrics`, labels: exporterLabels },
      spec: {
        podSelector: { matchLabels: exporterSelector },
        policyTypes: ['Ingress'],
        ingress: [{
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': settings.monitoring!.prometheus.namespace } } }],
          ports: Array.from({ length: env.mongodb.members }, (_, i) => ({ port: exporterPortName(i), protocol: 'TCP' })),
        }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${MONGODB.resourceName}-from-exporter`, labels: exporterLabels },
      spec: {
        podSelector: { matchLabels: MONGODB_POD.selector },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: exporterSelector } }], ports: [{ port: MONGODB.port, protocol: 'TCP' }] }],
      },
    },
  ];
}


export function prometheusRule(settings: RepoSettings, env: EnvSpec): object {
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PrometheusRule',
    metadata: { name: APP_NAME, labels: { ...commonLabels, ...settings.monitoring?.selectorLabels } },
    spec: { groups: [{ name: `${APP_NAME}-${env.name}`, rules: alertRules(env.namespace, envThresholds(settings, env)) }] },
  };
}

/** Lets Prometheus's namespace reach the API's port (the base NetworkPolicy admits only the ingress controller and the namespace). */
export function metricsNetworkPolicy(settings: RepoSettings): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `${APP_NAME}-metrics`, labels: commonLabels },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': APP_NAME } },
      policyTypes: ['Ingress'],
      ingress: [{
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': settings.monitoring!.prometheus.namespace } } }],
        ports: [{ port: HTTP_PORT_NAME, protocol: 'TCP' }],
      }],
    },
  };
}

interface Panel { title: string; unit: string; exprs: Array<[string, string]> }

/** The dashboard's panels: request rate, errors, latency, MongoDB pool, replica-set state. */
export function dashboardPanels(namespace: string): Panel[] {
  const api = sel(namespace, `job="${APP_NAME}"`);
  return [
    { title: 'Requests per second by route', unit: 'reqps', exprs: [['sum by (route) (rate(http_request_duration_seconds_count{' + api + '}[5m]))', '{{route}}']] },
    { title: '5xx ratio', unit: 'percentunit', exprs: [[`sum(rate(http_request_duration_seconds_count{${api},status_code=~"5.."}[5m])) / sum(rate(http_request_duration_seconds_count{${api}}[5m]))`, '5xx']] },
    {
      title: 'Latency', unit: 's', exprs: [0.5, 0.9, 0.99].map((q) => [`histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{${api}}[5m])))`, `p${q * 100}`] as [string, string]),
    },
    {
      title: 'MongoDB connection pool', unit: 'short', exprs: [
        [`sum(${POOL_METRICS.open}{${api}})`, 'open'],
        [`sum(${POOL_METRICS.checkedOut}{${api}})`, 'checked out'],
        [`sum(rate(${POOL_METRICS.checkoutFailed}{${api}}[5m]))`, 'checkout failures/s'],
        [`sum(rate(${POOL_METRICS.cleared}{${api}}[5m]))`, 'pool cleared/s'],
      ],
    },
    {
      title: 'Replica-set state (1 primary, 2 secondary)', unit: 'short', exprs: [
        [`max by (member_idx) (mongodb_members_state{${sel(namespace, `job="${MONGODB_EXPORTER.name}"`)}})`, '{{member_idx}}'],
        [`kube_statefulset_status_replicas_ready{${sel(namespace, `statefulset="${MONGODB.resourceName}"`)}}`, 'member pods ready'],
      ],
    },
  ];
}

export function dashboardJson(env: EnvSpec): string {
  const panels = dashboardPanels(env.namespace).map((p, i) => ({
    id: i + 1,
    type: 'timeseries',
    title: p.title,
    gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
    fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
    targets: p.exprs.map(([expr, legendFormat], j) => ({ refId: String.fromCharCode(65 + j), expr, legendFormat })),
  }));
  const dashboard = { uid: `${APP_NAME}-${env.name}`.slice(0, 40), title: `users-api ${env.name}`, tags: [APP_NAME, env.name], timezone: 'utc', schemaVersion: 39, refresh: '30s', time: { from: 'now-6h', to: 'now' }, panels };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

export function dashboardConfigMap(env: EnvSpec): object {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${APP_NAME}-dashboard`, labels: { ...commonLabels, ...GRAFANA_DASHBOARD_LABEL } },
    data: { [`${APP_NAME}-${env.name}.json`]: dashboardJson(env) },
  };
}

/** The monitoring files of an environment's overlay (file name → object), or none when its cluster has no Prometheus operator. */
export function monitoringObjects(settings: RepoSettings, env: EnvSpec): Record<string, object> {
  if (!monitoringEnabled(settings, envCluster(env))) return {};
  return {
    [MONITORING_FILES.dashboard]: dashboardConfigMap(env),
    [MONITORING_FILES.exporterDeployment]: exporterDeployment(env),
    [MONITORING_FILES.exporterNetworkPolicy]: exporterNetworkPolicies(settings, env)[0]!,
    [MONITORING_FILES.exporterService]: exporterService(env),
    [MONITORING_FILES.exporterServiceMonitor]: exporterServiceMonitor(settings, env),
    [MONITORING_FILES.mongodFromExporter]: exporterNetworkPolicies(settings, env)[1]!,
    [MONITORING_FILES.networkPolicy]: metricsNetworkPolicy(settings),
    [MONITORING_FILES.rule]: prometheusRule(settings, env),
    [MONITORING_FILES.serviceMonitor]: serviceMonitor(settings),
  };
}
