// The stand-in as a replica set, seen through the official driver: real discovery from the operator's
// connection string, SCRAM-SHA-256 with escaped credentials, failover after the primary dies, step-down.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MongoClient, MongoServerError } from 'mongodb';
import type { TopologyDescription } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeUserinfoComponent, operatorConnectionString, startMongoStandInReplicaSet } from '../support/mongo-standin/index.ts';
import type { MongoStandInReplicaSet } from '../support/mongo-standin/index.ts';
import { STAND_IN_APP_USER } from '../support/test-mongo.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function replicaSet(electionDelayMs = 300): Promise<MongoStandInReplicaSet> {
  const set = await startMongoStandInReplicaSet({ users: [STAND_IN_APP_USER], electionDelayMs, log: () => {} });
  cleanups.push(() => set.stop());
  return set;
}

function client(uri: string): MongoClient {
  const c = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
  cleanups.push(() => c.close());
  return c;
}

describe("the operator's connection-string format", () => {
  // Expected strings from mongodb/mongodb-kubernetes@1.10.0: pkg/authentication/authtypes/authtypes_test.go
  // (TestGetLoginString) and mongodb-community-operator/api/v1/mongodbcommunity_types_test.go
  // (TestMongoDBCommunity_MongoAuthUserURI).
  it.each([
    ['pass word', 'pass%20word'],
    ['pass+word', 'pass%2Bword'],
    ['rob:name', 'rob%3Aname'],
    ['password', 'password'],
  ])('escapes %j as %j', (input, escaped) => {
    expect(encodeUserinfoComponent(input)).toBe(escaped);
  });

  it('builds MongoAuthUserURI exactly as the operator does', () => {
    expect(operatorConnectionString({ username: 'testuser', password: 'password', resourceName: 'my-rs', namespace: 'my-namespace', members: 2, database: 'admin' })).toBe(
      'mongodb://testuser:password@my-rs-0.my-rs-svc.my-namespace.svc.cluster.local:27017,my-rs-1.my-rs-svc.my-namespace.svc.cluster.local:27017/admin?replicaSet=my-rs&ssl=false',
    );
    expect(operatorConnectionString({ username: 'rob', password: 'pass word', resourceName: 'my-rs', namespace: 'my-namespace', members: 2, database: 'admin' })).toBe(
      'mongodb://rob:pass%20word@my-rs-0.my-rs-svc.my-namespace.svc.cluster.local:27017,my-rs-1.my-rs-svc.my-namespace.svc.cluster.local:27017/admin?replicaSet=my-rs&ssl=false', // secretlint-disable-line -- a planted fake credential
    );
  });
});

describe('stand-in replica set (stand-in)', () => {
  it("is discovered by the driver from the operator's connection string: three members, one primary", async () => {
    const set = await replicaSet();
    expect(set.uri).toBe(
      `mongodb://users-api:${encodeUserinfoComponent(STAND_IN_APP_USER.password)}@${set.hosts.join(',')}/admin?replicaSet=users-db&ssl=false`,
    );
    expect(set.uri).toContain('users-api:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%20%2B%26%3D@');
    const c = client(set.uri);
    let topology: TopologyDescription | undefined;
    c.on('topologyDescriptionChanged', (event) => (topology = event.newDescription));
    await c.connect();
    await c.db('t').collection('c').insertOne({ a: 1 });
    await expect.poll(() => topology?.servers.size, { timeout: 5000 }).toBe(3);
    expect(topology?.type).toBe('ReplicaSetWithPrimary');
    expect(topology?.setName).toBe('users-db');
    const types = [...(topology?.servers.values() ?? [])].map((server) => server.type).sort();
    expect(types).toEqual(['RSPrimary', 'RSSecondary', 'RSSecondary']);
  });

  it('refuses a wrong password and an unauthenticated connection', async () => {
    const set = await replicaSet();
    const wrong = client(set.uri.replace(encodeUserinfoComponent(STAND_IN_APP_USER.password), 'not-the-password'));
    await expect(wrong.connect()).rejects.toThrow(/Authentication failed/);
    const anonymous = client(`mongodb://${set.hosts.join(',')}/?replicaSet=users-db`);
    await expect(anonymous.db('t').collection('c').findOne({})).rejects.toMatchObject({ code: 13 });
  });

  it('a secondary refuses writes (NotWritablePrimary) and serves reads that allow a secondary', async () => {
    const set = await replicaSet();
    const secondary = set.hosts[1]!;
    const direct = client(`mongodb://users-api:${encodeUserinfoComponent(STAND_IN_APP_USER.password)}@${secondary}/admin?directConnection=true`);
    const error = await direct.db('t').collection('c').insertOne({ a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(10107);
    // A direct connection reads with primaryPreferred (server-selection spec), which a secondary serves.
    await expect(direct.db('t').collection('c').findOne({}, { readPreference: 'secondaryPreferred' })).resolves.toBeNull();
  });

  it('after the primary is killed, the driver finds the newly elected primary and no acknowledged write is lost', async () => {
    const set = await replicaSet();
    const c = client(set.uri);
    const users = c.db('t').collection<{ n: number }>('c');
    for (let n = 0; n < 5; n += 1) await users.insertOne({ n });
    const killed = await set.killPrimary();
    for (let n = 5; n < 10; n += 1) await users.insertOne({ n }); // waits for the election (retryable write)
    expect(set.primary()).not.toBe(killed);
    expect((await users.find({}).sort({ n: 1 }).toArray()).map((doc) => doc.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await set.restartMember(killed);
    expect(set.primary()).not.toBe(killed);
  });

  it('step-down: the old primary turns secondary, writes move to the new primary', async () => {
    const set = await replicaSet();
    const c = client(set.uri);
    const users = c.db('t').collection<{ n: number }>('c');
    await users.insertOne({ n: 1 });
    const old = await set.stepDown();
    await users.insertOne({ n: 2 });
    const now = await set.waitForPrimary();
    expect(now).not.toBe(old);
    expect(await users.countDocuments()).toBe(2);
  });

  it('a retried write whose first attempt was applied is not applied twice', async () => {
    const set = await replicaSet();
    const c = client(set.uri);
    const session = c.startSession();
    const admin = c.db('t');
    const command = { insert: 'c', documents: [{ _id: 1 }], lsid: session.id, txnNumber: 1 } as const;
    // The same statement sent twice, as the driver does after a network error: one document, both ok.
    await admin.command({ ...command });
    const again = await admin.command({ ...command });
    expect(again).toMatchObject({ n: 1, ok: 1 });
    expect(await admin.collection('c').countDocuments()).toBe(1);
    await session.endSession();
  });
});

describe('the runner with --members (stand-in)', () => {
  const MAIN = fileURLToPath(new URL('../support/mongo-standin/main.ts', import.meta.url));

  it('--members 3 prints an operator-format URI that the driver connects to; --members 9 exits 2', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', '0', '--members', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    });
    const uri = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /MONGODB_URI=(\S+)/.exec(text);
        if (match?.[1]) resolve(match[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${text}`)));
    });
    expect(uri).toMatch(/^mongodb:\/\/users-api:[^@]+@127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/admin\?replicaSet=users-db&ssl=false$/);
    const c = client(uri);
    await c.db('t').collection('c').insertOne({ a: 1 });
    expect(await c.db('t').collection('c').countDocuments()).toBe(1);

    const bad = spawn(process.execPath, [MAIN, '--members', '9'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    bad.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => bad.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('--members');
  });
});
