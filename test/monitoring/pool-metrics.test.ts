// The MongoDB driver pool gauges on /metrics: kept from the driver's CMAP events by the official driver
// talking to the MongoDB stand-in (or a real MongoDB when MONGODB_URI is set), and exact on a scripted event sequence.
import { EventEmitter } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics, observePool } from '../../apps/users-api/src/metrics.ts';
import { POOL_METRICS } from '../../apps/users-api/src/contract.ts';
import { acquireTestMongo, type TestMongo } from '../support/test-mongo.ts';
import { eventually, newUser, startTestApi, type TestApi } from '../api/harness.ts';

const sample = (text: string, name: string): number[] =>
  text.split('\n').filter((l) => l.startsWith(`${name}{`)).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));

describe('MongoDB pool gauges', () => {
  it('follow the CMAP events exactly: created/closed, checked out/in, check-out failures, pool cleared', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const client = new EventEmitter();
    observePool(client, metrics);
    const at = { address: 'users-db-0.users-db-svc:27017' };
    for (const e of ['connectionCreated', 'connectionCreated', 'connectionCheckedOut', 'connectionCheckedOut', 'connectionCheckedIn', 'connectionClosed']) client.emit(e, at);
    client.emit('connectionCheckOutFailed', { ...at, reason: 'timeout' });
    client.emit('connectionPoolCleared', at);
    const text = await metrics.registry.metrics();
    expect(text).toContain(`${POOL_METRICS.open}{server="users-db-0.users-db-svc:27017"} 1`);
    expect(text).toContain(`${POOL_METRICS.checkedOut}{server="users-db-0.users-db-svc:27017"} 1`);
    expect(text).toContain(`${POOL_METRICS.checkoutFailed}{server="users-db-0.users-db-svc:27017",reason="timeout"} 1`);
    expect(text).toContain(`${POOL_METRICS.cleared}{server="users-db-0.users-db-svc:27017"} 1`);
  });

  describe('served by the API on /metrics', () => {
    let mongo: TestMongo;
    let api: TestApi;
    afterAll(async () => {
      await api?.server.stop();
      await mongo?.release();
    });

    it('after a request, the open connections of the pool show per server, none left checked out', async () => {
      mongo = await acquireTestMongo();
      api = await startTestApi(mongo);
      await api.server.databaseReady;
      expect((await api.send('POST', '/users', newUser('pool'))).status).toBe(201);
      const text = await eventually(async () => {
        const t = await (await fetch(api.url('/metrics'))).text();
        return sample(t, POOL_METRICS.open).some((v) => v >= 1) ? t : undefined;
      }, 10_000, 'an open pool connection on /metrics');
      expect(sample(text, POOL_METRICS.open).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
      expect(sample(text, POOL_METRICS.checkedOut).every((v) => v === 0)).toBe(true);
    }, 60_000);
  });
});
