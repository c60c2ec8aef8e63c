// Errors that reach the API from the driver in a shape the driver did not classify: a socket Node closed
// under a write escapes mongodb@7.9.0 (lib/cmap/connection.js writeCommand rethrows the socket's own
// 'error' from its drain wait) as a plain Error with code EPIPE. Seen as a 500 while a primary was killed
// (test/hardening/faults.test.ts); the API must answer it as the lost connection it is: 503, retry later.
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { MongoNetworkError } from 'mongodb';
import type { Db } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../apps/users-api/src/app.ts';
import { loadConfig } from '../../apps/users-api/src/config.ts';
import { createReadiness } from '../../apps/users-api/src/readiness.ts';
import { asDriverError, createMongoUsersRepository } from '../../apps/users-api/src/users-repository.ts';
import { captureLogger, newUser, problemOf } from './harness.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The error Node itself raises for a write on a socket whose peer has closed it (net.js writeAfterFIN). */
async function writeAfterPeerClosed(): Promise<Error> {
  const server = net.createServer((socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.resume();
  await once(client, 'end');
  const failed = once(client, 'error') as Promise<[Error]>;
  client.write(Buffer.from('after the peer closed'));
  const [error] = await failed;
  return error;
}

/** A Db whose every collection operation fails with `error`, as the driver would surface it. */
function failingDb(error: Error): Db {
  const fail = (): Promise<never> => Promise.reject(error);
  const collection = {
    find: () => ({ toArray: fail }),
    insertOne: fail,
    findOne: fail,
    findOneAndUpdate: fail,
    deleteOne: fail,
  };
  return { collection: () => collection } as unknown as Db;
}

async function apiOver(db: Db): Promise<{ url: (path: string) => string; logs: ReturnType<typeof captureLogger> }> {
  const config = loadConfig({ MONGODB_URI: 'mongodb://127.0.0.1:1/', MONGODB_DB: 'driver_errors', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  const readiness = createReadiness({ probe: async () => undefined, probeTimeoutMs: 1000 });
  readiness.markDatabaseReady();
  readiness.markSchemaReady(true);
  const logs = captureLogger();
  const server = createHttpServer(createApp({ db, config, logger: logs.logger, readiness }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: (path) => `${base}${path}`, logs };
}

describe('driver errors the driver left unclassified', () => {
  it('a write on a socket the server closed (EPIPE) is a MongoNetworkError from every repository operation', async () => {
    const epipe = await writeAfterPeerClosed();
    expect((epipe as NodeJS.ErrnoException).code).toBe('EPIPE');
    const users = createMongoUsersRepository(failingDb(epipe), { operationTimeoutMs: 1000 });
    const id = '0123456789abcdef01234567';
    const operations = [users.list({ limit: 1 }), users.create(newUser('epipe')), users.get(id), users.update(id, { name: 'x' }), users.remove(id)];
    for (const outcome of await Promise.allSettled(operations)) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as MongoNetworkError;
      expect(reason).toBeInstanceOf(MongoNetworkError);
      expect(reason.cause).toBe(epipe);
    }
  });

  it('anything that is not a lost connection is left as it is', () => {
    const bug = new TypeError('cannot read properties of undefined');
    expect(asDriverError(bug)).toBe(bug);
    const file = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(asDriverError(file)).toBe(file);
    const network = new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed');
    expect(asDriverError(network)).toBe(network);
  });

  it('the API answers it 503 problem+json with Retry-After, never 500; a real bug stays a 500', async () => {
    const epipe = await writeAfterPeerClosed();
    const api = await apiOver(failingDb(epipe));
    const post = await fetch(api.url('/users'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(newUser('epipe')) });
    expect(post.status).toBe(503);
    expect(post.headers.get('retry-after')).toBe('1');
    expect((await problemOf(post)).type).toBe('urn:users-api:problem:unavailable');
    const list = await fetch(api.url('/users'));
    expect(list.status).toBe(503);
    await list.arrayBuffer();
    expect(api.logs.records().filter((r) => r.msg === 'unhandled error')).toEqual([]);

    const broken = await apiOver(failingDb(new TypeError('cannot read properties of undefined')));
    const answer = await fetch(broken.url('/users'));
    expect(answer.status).toBe(500);
    expect((await problemOf(answer)).type).toBe('urn:users-api:problem:internal');
  });
});
