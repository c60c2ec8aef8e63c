// Start-up without MongoDB, losing MongoDB mid-traffic, graceful shutdown, and the container entry point.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { MongoClient } from 'mongodb';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { acquireTestMongo, describeMongo } from '../support/test-mongo.ts';
import type { TestMongo } from '../support/test-mongo.ts';
import { TEST_LIMITS, eventually, newUser, problemOf, startTestApi } from './harness.ts';
import type { TestApi } from './harness.ts';

const MAIN = fileURLToPath(new URL('../../apps/users-api/src/main.ts', import.meta.url));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function apiOn(mongo: TestMongo, overrides: Record<string, string> = {}): Promise<TestApi> {
  const api = await startTestApi(mongo, overrides);
  cleanups.push(() => api.server.stop());
  return api;
}

async function standIn(): Promise<TestMongo & { standIn: NonNullable<TestMongo['standIn']> }> {
  const mongo = await acquireTestMongo({ target: 'stand-in' });
  cleanups.push(() => mongo.release());
  if (!mongo.standIn) throw new Error('expected the stand-in');
  return mongo as TestMongo & { standIn: NonNullable<TestMongo['standIn']> };
}

async function statusOf(url: string): Promise<number> {
  return (await fetch(url)).status;
}

describeMongo(
  'users API without MongoDB',
  () => {
    it('serves /healthz at once, answers 503 fast while MongoDB is absent, and becomes ready when it appears', async () => {
      const mongo = await standIn();
      await mongo.standIn.suspend();
      const api = await apiOn(mongo);
      expect(await statusOf(api.url('/healthz'))).toBe(200);
      const readyz = await fetch(api.url('/readyz'));
      expect(readyz.status).toBe(503);
      expect(await readyz.json()).toMatchObject({ status: 'not ready' });
      const started = Date.now();
      const list = await fetch(api.url('/users'));
      expect(list.status).toBe(503);
      expect(list.headers.get('retry-after')).toBe('1');
      expect((await problemOf(list)).status).toBe(503);
      expect(Date.now() - started).toBeLessThan(1000);
      // Resume only after a connection attempt has failed: recovering from that is the point.
      await eventually(async () => (api.logs.lines.some((line) => line.includes('MongoDB not reachable yet')) ? true : undefined), 5000, 'a failed connection attempt');

      await mongo.standIn.resume();
      await eventually(async () => ((await statusOf(api.url('/readyz'))) === 200 ? true : undefined), 8000, '/readyz to turn 200');
      expect(await statusOf(api.url('/users'))).toBe(200);
    });

    it('answers 503 within the server-selection bound when MongoDB goes away, and recovers', async () => {
      const mongo = await standIn();
      const api = await apiOn(mongo);
      await api.server.databaseReady;
      expect((await api.send('POST', '/users', newUser())).status).toBe(201);

      await mongo.standIn.suspend();
      for (const [method, path, body] of [
        ['GET', '/users', undefined],
        ['POST', '/users', newUser()],
      ] as const) {
        const started = Date.now();
        const response = await api.send(method, path, body);
        expect(response.status).toBe(503);
        expect(await problemOf(response)).toMatchObject({ status: 503, title: 'Service Unavailable' });
        // serverSelectionTimeoutMS is 600 in tests; a retryable operation may select twice.
        expect(Date.now() - started).toBeLessThan(3000);
      }
      expect(await statusOf(api.url('/readyz'))).toBe(503);

      await mongo.standIn.resume();
      await eventually(async () => ((await statusOf(api.url('/users'))) === 200 ? true : undefined), 8000, 'GET /users to recover');
      // Ready again once the unique indexes have been ensured on the server that came back.
      await eventually(async () => ((await statusOf(api.url('/readyz'))) === 200 ? true : undefined), 5000, '/readyz to recover');
    });

    it('never logs MongoDB credentials, even from connection failures', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as { port: number };
          probe.close(() => resolve(port));
        });
      });
      const unreachable = { uri: `mongodb://app-user:dummy-password-123@127.0.0.1:${closedPort}/admin`, dbName: 'users' }; // secretlint-disable-line -- a planted fake credential
      const api = await startTestApi(unreachable);
      cleanups.push(() => api.server.stop());
      await eventually(async () => (api.logs.lines.some((line) => line.includes('MongoDB not reachable yet')) ? true : undefined), 5000, 'a connection failure log');
      await api.server.stop();
      const all = api.logs.lines.join('');
      expect(all).toContain(`"mongodb":"mongodb://127.0.0.1:${closedPort}"`);
      expect(all).not.toContain('dummy-password-123');
      expect(all).not.toContain('app-user');
    });
  },
  'stand-in',
);

describeMongo('users API shutdown', () => {
  it('lets an in-flight request finish, refuses new connections, and stop() is safe twice', async () => {
    const mongo = await acquireTestMongo();
    cleanups.push(() => mongo.release());
    const api = await startTestApi(mongo);
    await api.server.databaseReady;
    const user = newUser('drain');
    const body = JSON.stringify(user);
    let bodyDone = false;

    // Send half the body, stop the server, then finish the body: the request was in flight.
    const inFlight = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = request(api.url('/users'), { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        bodyDone = true;
        req.end(body.slice(10));
      }, 300);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const first = api.server.stop();
    let bodyDoneWhenStopped: boolean | undefined;
    void first.then(() => (bodyDoneWhenStopped = bodyDone));
    const second = api.server.stop();
    expect(second).toBe(first);
    expect(api.server.readiness.isShuttingDown()).toBe(true);
    await expect(fetch(api.url('/healthz'))).rejects.toThrow();

    expect((await inFlight).status).toBe(201);
    await first;
    expect(bodyDoneWhenStopped).toBe(true);
    const started = Date.now();
    await first;
    await api.server.stop();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describeMongo('users API shutdown with abandoned requests', () => {
  it('waits for the queries of clients that already hung up before closing the MongoDB client', async () => {
    const mongo = await acquireTestMongo();
    cleanups.push(() => mongo.release());
    const api = await startTestApi(mongo);
    await api.server.databaseReady;
    const seeded = new MongoClient(mongo.uri);
    await seeded.db(mongo.dbName).collection('users').insertMany(Array.from({ length: 1500 }, (_, i) => ({ name: `N${i}`, username: `bulk-${i}`, email: `bulk-${i}@example.test` })));
    await seeded.close();
    // Each client sends a request and disconnects at once: its handler is still querying MongoDB.
    await Promise.all(
      Array.from({ length: 30 }, () =>
        new Promise<void>((resolve) => {
          const socket = connect(api.server.port, '127.0.0.1', () => {
            socket.write(`GET /users?limit=${TEST_LIMITS.PAGE_LIMIT_MAX} HTTP/1.1\r\nHost: x\r\n\r\n`, () => {
              socket.destroy();
              resolve();
            });
          });
        }),
      ),
    );
    await api.server.stop();
    // A query cut off by client.close() would surface as a 'database unavailable' warning or an error.
    const records = api.logs.records();
    expect(records.filter((r) => r.level === 'error' || r.level === 'fatal' || r.msg === 'database unavailable')).toEqual([]);
    // The hung-up requests are logged (and counted in /metrics) as 499, not silently dropped.
    // (Node emits no 'close' for a response whose socket was gone before the request was parsed, so not
    // all 30 appear.)
    expect(records.filter((r) => r.msg === 'request' && r.route === '/users' && r.status === 499).length).toBeGreaterThan(0);
  });
});

function runMain(env: Record<string, string>): { exit: Promise<{ code: number | null; stdout: string; stderr: string }>; child: ReturnType<typeof spawn>; stdout: () => string } {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exit;
  });
  return { exit, child, stdout: () => stdout };
}

describeMongo(
  'users API entry point (node apps/users-api/src/main.ts)',
  () => {
    it('exits 2 listing every bad setting without printing the secret', async () => {
      const { exit } = runMain({ MONGODB_URI: 'not a url with password hunter2', PORT: 'eighty', PAGE_LIMIT_MAX: 'many' });
      const { code, stdout, stderr } = await exit;
      expect(code).toBe(2);
      for (const key of ['MONGODB_URI', 'PORT', 'PAGE_LIMIT_MAX']) expect(stderr).toContain(key);
      expect(stdout + stderr).not.toContain('hunter2');
    });

    it("connects with the operator's replica-set connection string, serves, then on SIGTERM drains and exits 0 with no type-stripping warning", async () => {
      const mongo = await standIn();
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port: free } = probe.address() as { port: number };
          probe.close(() => resolve(free));
        });
      });
      const { exit, child, stdout } = runMain({ MONGODB_URI: mongo.uri, MONGODB_DB: mongo.dbName, PORT: String(port), HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: '3000', REQUEST_TIMEOUT_MS: '2000' });
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (stdout().includes('indexes in place') ? true : undefined), 10_000, 'the API to connect');
      expect((await fetch(`${base}/users`, { method: 'POST', body: JSON.stringify(newUser('main')), headers: { 'content-type': 'application/json' } })).status).toBe(201);
      child.kill('SIGTERM');
      const result = await exit;
      expect(result.code).toBe(0);
      expect(result.stderr).not.toMatch(/ExperimentalWarning|Type Stripping/i);
      const messages = result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toEqual(expect.arrayContaining(['listening', 'request', 'shutting down', 'stopped']));
    });
  },
  'stand-in',
);
