// Firing alerts per environment for status.ts: Prometheus's HTTP API `GET /api/v1/alerts`
// (prometheus/prometheus@v2.42.0:docs/querying/api.md "Alerts": { status: "success", data: { alerts: [
// { labels, annotations, state: "firing" | "pending", activeAt, value } ] } }), read through the Kubernetes
// API server's service proxy (`/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/<path>`, the
// Service "proxy" subresource of core/v1) or from gitops.yaml monitoring.prometheus.url. The generated
// rules select by namespace (scripts/lib/generate/monitoring.ts), so an alert belongs to the environment
// whose namespace its `namespace` label names.
import type { MonitoringSettings } from '../../inputs/spec.ts';

export interface FiringAlert {
  name: string;
  severity: string;
  summary: string;
  activeAt: string;
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt?: string;
  value?: string;
}

export class AlertsResponseError extends Error {}

/** The service-proxy path of Prometheus's alerts endpoint. */
export function alertsProxyPath(prometheus: MonitoringSettings['prometheus']): string {
  return `/api/v1/namespaces/${encodeURIComponent(prometheus.namespace)}/services/${encodeURIComponent(`${prometheus.service}:${prometheus.port}`)}/proxy/api/v1/alerts`;
}

const isStringMap = (v: unknown): v is Record<string, string> => !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/** Validates an /api/v1/alerts answer; anything else (an error answer, HTML from a proxy) is an AlertsResponseError naming what was wrong. */
export function parseAlertsResponse(body: unknown): PrometheusAlert[] {
  const b = body as { status?: unknown; error?: unknown; data?: { alerts?: unknown } };
  if (!b || typeof b !== 'object') throw new AlertsResponseError('the answer is not a JSON object (is the URL Prometheus\'s?)');
  if (b.status !== 'success') throw new AlertsResponseError(`Prometheus answered status ${JSON.stringify(b.status)}${typeof b.error === 'string' ? `: ${b.error}` : ''}`);
  const alerts = b.data?.alerts;
  if (!Array.isArray(alerts)) throw new AlertsResponseError('data.alerts is missing or not a list');
  return alerts.map((a, i) => {
    const x = a as PrometheusAlert;
    if (!x || !isStringMap(x.labels) || !isStringMap(x.annotations ?? {}) || typeof x.state !== 'string') throw new AlertsResponseError(`data.alerts[${i}] has no labels/state`);
    return { labels: x.labels, annotations: x.annotations ?? {}, state: x.state, ...(typeof x.activeAt === 'string' ? { activeAt: x.activeAt } : {}), ...(typeof x.value === 'string' ? { value: x.value } : {}) };
  });
}

/** Firing alerts by namespace (pending ones are not firing yet), sorted by severity (critical first), then name. */
export function firingByNamespace(alerts: readonly PrometheusAlert[]): Map<string, FiringAlert[]> {
  const out = new Map<string, FiringAlert[]>();
  for (const a of alerts) {
    const ns = a.labels.namespace;
    if (a.state !== 'firing' || !ns) continue;
    const list = out.get(ns) ?? [];
    list.push({ name: a.labels.alertname ?? '(unnamed)', severity: a.labels.severity ?? 'none', summary: a.annotations.summary ?? '', activeAt: a.activeAt ?? '' });
    out.set(ns, list);
  }
  const rank = (s: string) => (s === 'critical' ? 0 : s === 'warning' ? 1 : 2);
  for (const list of out.values()) list.sort((x, y) => rank(x.severity) - rank(y.severity) || x.name.localeCompare(y.name) || x.summary.localeCompare(y.summary));
  return out;
}

/** Text lines for one environment (indented like status's other lines). */
export function formatAlertLines(alerts: readonly FiringAlert[] | undefined, unavailable?: string): string[] {
  if (unavailable) return [`  alerts    unknown (${unavailable})`];
  if (!alerts) return [];
  if (alerts.length === 0) return ['  alerts    none firing'];
  return alerts.map((a) => `  alert     ${a.name} (${a.severity})${a.summary ? `: ${a.summary}` : ''}${a.activeAt ? ` since ${a.activeAt}` : ''}`);
}

/** Where status reads alerts: a configured URL (fetched directly), else the service proxy through the cluster's API server. */
export interface AlertSources {
  getPath?: (path: string, what: string) => Promise<unknown>;
  fetchUrl: (url: string) => Promise<unknown>;
}

/** Each status with its namespace's firing alerts, or the reason they are unknown. Never throws: alerts are extra information. */
export async function withAlerts<T extends { namespace: string }>(statuses: T[], prometheus: MonitoringSettings['prometheus'], sources: AlertSources): Promise<Array<T & { alerts?: FiringAlert[]; alertsUnavailable?: string }>> {
  let byNs: Map<string, FiringAlert[]>;
  try {
    const body = prometheus.url !== undefined
      ? await sources.fetchUrl(`${prometheus.url.replace(/\/$/, '')}/api/v1/alerts`)
      : sources.getPath
        ? await sources.getPath(alertsProxyPath(prometheus), `Prometheus alerts (service ${prometheus.namespace}/${prometheus.service}:${prometheus.port})`)
        : undefined;
    if (body === undefined) throw new AlertsResponseError('no way to reach Prometheus');
    byNs = firingByNamespace(parseAlertsResponse(body));
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    return statuses.map((s) => ({ ...s, alertsUnavailable: reason }));
  }
  return statuses.map((s) => ({ ...s, alerts: byNs.get(s.namespace) ?? [] }));
}
