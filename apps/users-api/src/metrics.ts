// Prometheus metrics on a Registry owned by one app instance, so tests can build many apps in a process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { POOL_METRICS } from './contract.ts';

export { POOL_METRICS };

export interface AppMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  pool: {
    open: Gauge<'server'>;
    checkedOut: Gauge<'server'>;
    checkoutFailed: Counter<'server' | 'reason'>;
    cleared: Counter<'server'>;
  };
}

/** Route label for requests that matched no route: one bucket, so scanners cannot explode cardinality. */
export const UNMATCHED_ROUTE = '<unmatched>';

export function createMetrics(options: { defaultMetrics?: boolean } = {}): AppMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const pool = {
    open: new Gauge({ name: POOL_METRICS.open, help: 'Connections the MongoDB driver holds open, per server (CMAP connectionCreated - connectionClosed)', labelNames: ['server'] as const, registers: [registry] }),
    checkedOut: new Gauge({ name: POOL_METRICS.checkedOut, help: 'Connections checked out of the MongoDB driver pool, per server (in use by an operation)', labelNames: ['server'] as const, registers: [registry] }),
    checkoutFailed: new Counter({ name: POOL_METRICS.checkoutFailed, help: 'Failed connection check-outs from the MongoDB driver pool, per server and reason (e.g. timeout: the pool was exhausted)', labelNames: ['server', 'reason'] as const, registers: [registry] }),
    cleared: new Counter({ name: POOL_METRICS.cleared, help: 'Times the MongoDB driver cleared a server\'s pool (the server was marked unknown, e.g. a failover)', labelNames: ['server'] as const, registers: [registry] }),
  };
  return { registry, httpDuration, pool };
}

/** The subset of MongoClient the pool gauges need: its CMAP events. */
export interface PoolEventSource {
  on(event: string, listener: (e: { address: string; reason?: string }) => void): unknown;
}

/**
 * Keeps the pool gauges from the driver's connection monitoring (CMAP) events, which MongoClient emits
 * (mongodb@7.9.0: src/constants.ts CONNECTION_CREATED … CONNECTION_POOL_CLEARED; src/cmap/connection_pool_events.ts
 * gives every event the server `address`, and check-out failures a `reason`).
 */
export function observePool(client: PoolEventSource, metrics: AppMetrics): void {
  const { pool } = metrics;
  client.on('connectionCreated', (e) => pool.open.inc({ server: e.address }));
  client.on('connectionClosed', (e) => pool.open.dec({ server: e.address }));
  client.on('connectionCheckedOut', (e) => pool.checkedOut.inc({ server: e.address }));
  client.on('connectionCheckedIn', (e) => pool.checkedOut.dec({ server: e.address }));
  client.on('connectionCheckOutFailed', (e) => pool.checkoutFailed.inc({ server: e.address, reason: e.reason ?? 'unknown' }));
  client.on('connectionPoolCleared', (e) => pool.cleared.inc({ server: e.address }));
}
