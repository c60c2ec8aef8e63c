// Stand-in only: losing the database mid-traffic and getting it back, stopping, and how it labels itself.
import { MongoClient, MongoError, MongoServerSelectionError } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startMongoStandIn } from '../support/mongo-standin/index.ts';
import type { MongoStandIn } from '../support/mongo-standin/index.ts';

const quiet = { log: () => {} };
const SELECTION_TIMEOUT_MS = 1_000;

describe('MongoDB stand-in lifecycle (stand-in)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function started(): Promise<{ standIn: MongoStandIn; client: MongoClient }> {
    const standIn = await startMongoStandIn(quiet);
    const client = new MongoClient(standIn.uri, { serverSelectionTimeoutMS: SELECTION_TIMEOUT_MS });
    cleanups.push(() => standIn.stop(), () => client.close());
    await client.connect();
    return { standIn, client };
  }

  it('listens on 127.0.0.1 on a free port with a directConnection URI and labels itself', async () => {
    const lines: string[] = [];
    const standIn = await startMongoStandIn({ log: (line) => lines.push(line) });
    cleanups.push(() => standIn.stop());
    expect(standIn.uri).toBe(`mongodb://127.0.0.1:${standIn.port}/?directConnection=true`);
    expect(standIn.port).toBeGreaterThan(0);
    expect(standIn.label).toBe('stand-in');
    expect(lines).toEqual([expect.stringContaining('STAND-IN, not MongoDB')]);
  });

  it('says it is a stand-in in hello and buildInfo', async () => {
    const { client } = await started();
    const admin = client.db('admin');
    expect((await admin.command({ hello: 1 })).standIn).toMatch(/STAND-IN/);
    expect((await admin.command({ buildInfo: 1 })).standIn).toMatch(/STAND-IN/);
  });

  it('fails operations with a driver error while suspended, then the same client recovers with its data', async () => {
    const { standIn, client } = await started();
    const users = client.db('app').collection('users');
    await users.insertOne({ username: 'kept' });

    await standIn.suspend();
    const begin = performance.now();
    const error = await users.findOne({ username: 'kept' }).catch((e: unknown) => e);
    const elapsed = performance.now() - begin;
    expect(error).toBeInstanceOf(MongoError);
    expect(elapsed).toBeLessThan(SELECTION_TIMEOUT_MS + 1_500);
    // Once the driver has seen the loss, new operations wait for server selection and time out.
    const second = await users.findOne({}).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(MongoServerSelectionError);

    await standIn.resume();
    expect(await users.findOne({ username: 'kept' }, { projection: { _id: 0 } })).toEqual({ username: 'kept' });
  });

  it('resumes on the same port and keeps unique indexes', async () => {
    const { standIn, client } = await started();
    const users = client.db('app').collection('users');
    await users.createIndex({ username: 1 }, { unique: true });
    await users.insertOne({ username: 'one' });
    const port = standIn.port;
    await standIn.suspend();
    // As with a restarted mongod, the driver only learns of dead pooled sockets when an operation fails.
    await expect(client.db('app').command({ ping: 1 })).rejects.toBeInstanceOf(MongoError);
    await standIn.resume();
    expect(standIn.port).toBe(port);
    const error = await users.insertOne({ username: 'one' }).catch((e: { code?: number }) => e);
    expect((error as { code?: number }).code).toBe(11000);
  });

  it('can be stopped twice, and refuses connections afterwards', async () => {
    const standIn = await startMongoStandIn(quiet);
    await standIn.stop();
    await expect(standIn.stop()).resolves.toBeUndefined();
    const client = new MongoClient(standIn.uri, { serverSelectionTimeoutMS: 300 });
    await expect(client.connect()).rejects.toBeInstanceOf(MongoServerSelectionError);
    await client.close();
  });

  it('keeps separate data in separate stand-ins', async () => {
    const a = await started();
    const b = await started();
    await a.client.db('app').collection('users').insertOne({ username: 'only-in-a' });
    expect(await b.client.db('app').collection('users').countDocuments()).toBe(0);
  });
});
