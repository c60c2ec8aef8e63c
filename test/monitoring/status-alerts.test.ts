// status.ts's firing alerts per environment, against a stand-in Prometheus answering GET /api/v1/alerts in
// Prometheus's exact format (prometheus/prometheus@v2.42.0:docs/querying/api.md "Alerts"), over HTTP.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsProxyPath, parseAlertsResponse, AlertsResponseError, withAlerts } from '../../scripts/lib/cluster/status/alerts.ts';
import { formatStatusText, type EnvStatus } from '../../scripts/lib/cluster/status/index.ts';

const ANSWER = {
  status: 'success',
  data: {
    alerts: [
      { labels: { alertname: 'UsersApiLatencyP99High', severity: 'warning' , namespace: 'prod' }, annotations: { summary: 'users-api in prod: p99 latency above 0.5s', description: '…' }, state: 'firing', activeAt: '2026-12-04T15:01:12.60602144Z', value: '7.2e-01' },
      { labels: { alertname: 'UsersDbPrimaryLost', severity: 'critical', namespace: 'prod' }, annotations: { summary: 'MongoDB users-db in prod has no primary' }, state: 'firing', activeAt: '2026-12-04T15:03:00Z', value: '3e+00' },
      { labels: { alertname: 'UsersApiPodsNotReady', severity: 'warning', namespace: 'staging', deployment: 'users-api' }, annotations: { summary: 'users-api in staging: 1 pod(s) wanted but not available' }, state: 'pending', activeAt: '2026-12-04T15:05:00Z', value: '1e+00' },
      { labels: { alertname: 'Watchdog', severity: 'none' }, annotations: {}, state: 'firing', activeAt: '2026-12-04T00:00:00Z', value: '1e+00' },
    ],
  },
};

const status = (env: string): EnvStatus => ({ env, namespace: env, application: { name: `${env}-users-api`, sync: 'Synced', health: 'Healthy', revision: 'abc', message: null }, mongodb: { phase: 'Running' }, deployment: { ready: 1, desired: 1, updated: 1 }, ok: true, degraded: false, problems: [] });

describe('firing alerts in status', () => {
  let server: Server;
  let url: string;
  let answer: unknown = ANSWER;
  const paths: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const fetchUrl = async (u: string) => (await fetch(u)).json() as Promise<unknown>;
  const prometheus = () => ({ namespace: 'monitoring', service: 'prometheus-operated', port: 9090, url });

  it('lists each environment\'s firing alerts, critical first; pending ones and other namespaces\' are not listed', async () => {
    const out = await withAlerts([status('prod'), status('staging'), status('dev')], prometheus(), { fetchUrl });
    expect(paths.at(-1)).toBe('/api/v1/alerts');
    const text = formatStatusText(out);
    expect(text).toContain([
      'prod (namespace prod): ok',
      '  argocd    Synced, Healthy at abc',
      '  mongodb   Running',
      '  api       1/1 ready, 1 updated',
      '  alert     UsersDbPrimaryLost (critical): MongoDB users-db in prod has no primary since 2026-12-04T15:03:00Z',
      '  alert     UsersApiLatencyP99High (warning): users-api in prod: p99 latency above 0.5s since 2026-12-04T15:01:12.60602144Z',
    ].join('\n'));
    expect(text).toContain('staging (namespace staging): ok\n  argocd    Synced, Healthy at abc\n  mongodb   Running\n  api       1/1 ready, 1 updated\n  alerts    none firing');
    expect(out.find((s) => s.env === 'dev')!.alerts).toEqual([]);
  });

  it('without a URL, reads through the API server\'s service proxy path', async () => {
    const seen: string[] = [];
    const { url: _u, ...viaProxy } = prometheus();
    const out = await withAlerts([status('prod')], viaProxy, { fetchUrl, getPath: async (p) => { seen.push(p); return ANSWER; } });
    expect(seen).toEqual(['/api/v1/namespaces/monitoring/services/prometheus-operated%3A9090/proxy/api/v1/alerts']);
    expect(alertsProxyPath(viaProxy)).toBe(seen[0]);
    expect(out[0]!.alerts!.map((a) => a.name)).toEqual(['UsersDbPrimaryLost', 'UsersApiLatencyP99High']);
  });

  it('an error answer or an unreachable Prometheus makes the alerts "unknown", with the reason; the rest of status stands', async () => {
    answer = { status: 'error', errorType: 'unavailable', error: 'rule manager not ready' };
    const out = await withAlerts([status('prod')], prometheus(), { fetchUrl });
    expect(formatStatusText(out)).toContain('  alerts    unknown (Prometheus answered status "error": rule manager not ready)');
    expect(out[0]!.ok).toBe(true);
    answer = ANSWER;
    const down = await withAlerts([status('prod')], { ...prometheus(), url: 'http://127.0.0.1:1' }, { fetchUrl });
    expect(down[0]!.alertsUnavailable).toMatch(/fetch failed|ECONNREFUSED/);
  });

  it('the parser refuses what is not the alerts format', () => {
    expect(() => parseAlertsResponse('<html>')).toThrow(AlertsResponseError);
    expect(() => parseAlertsResponse({ status: 'success', data: {} })).toThrow(/data\.alerts/);
    expect(() => parseAlertsResponse({ status: 'success', data: { alerts: [{ state: 'firing' }] } })).toThrow(/alerts\[0\]/);
  });
});
