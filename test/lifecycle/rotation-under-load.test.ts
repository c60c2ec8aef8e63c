// A password rotation under load, with no failed request and no lost write (issue 25.1). The users API
// runs as several "pods" (real HTTP servers, each with its own MongoDB client) behind a round-robin
// "Service", against the stand-in replica set (test/support/mongo-standin: SCRAM-SHA-256 per user, NOT
// MongoDB) with the two users the MongoDBCommunity declares. While workers POST and GET users without
// pause, the test plays the rotation in the order the components really act (docs/mongodb.md "Rotation
// without a failed request"):
//   1. PreSync `prepare` replaces the idle user's password Secret; the operator reconciles: new SCRAM
//      credentials in the automation config, applied by the agents (mongodb/mongodb-kubernetes@1.10.0:
//      mongodb-community-operator/controllers/replica_set_controller.go Reconcile → ensureUserResources →
//      deployMongoDBReplicaSet/deployAutomationConfig, waiting for agent.AllReachedGoalState), and only
//      then rewrites that user's connection-string Secret (updateConnectionStringSecrets, mongodb_users.go:
//      keys connectionString.standard/.standardSrv, username, password). prepare returns once it sees it.
//   2. Sync: the Deployment rolls (maxSurge 1, maxUnavailable 0): a new pod on the new user's connection
//      string joins the Service when ready, then one old pod leaves the Service and shuts down gracefully.
//   3. PostSync `retire`, once no pod runs as the old user: its password is replaced (the operator applies it).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_USERS } from '../../scripts/lib/inputs/mongodb.ts';
import { MONGODB } from '../../scripts/lib/inputs/spec.ts';
import { startMongoStandInReplicaSet } from '../support/mongo-standin/replica-set.ts';
import type { MongoStandInReplicaSet } from '../support/mongo-standin/replica-set.ts';
import type { StandInUser } from '../support/mongo-standin/scram.ts';
import { startTestApi } from '../api/harness.ts';
import type { TestApi } from '../api/harness.ts';

const PODS = 3;
const WORKERS = 6;
const DB = 'users_rotation';

interface Pod { api: TestApi; user: string }

describe('password rotation under load (stand-in)', () => {
  let rs: MongoStandInReplicaSet;
  const users: StandInUser[] = APP_USERS.map((username) => ({ db: MONGODB.authDb, username, password: randomBytes(16).toString('base64url') }));
  const [userA, userB] = users as [StandInUser, StandInUser];
  /** The connection-string Secrets the operator writes, by user. */
  const connectionSecret = new Map<string, string>();
  /** The Service's endpoints: ready pods only. */
  let endpoints: Pod[] = [];
  const everyPod: Pod[] = [];
  let next = 0;

  const startPod = async (user: StandInUser): Promise<Pod> => {
    const api = await startTestApi({ uri: connectionSecret.get(user.username)!, dbName: DB });
    await api.server.databaseReady; // readiness: only then does the Service route to it
    const pod = { api, user: user.username };
    everyPod.push(pod);
    return pod;
  };

  beforeAll(async () => {
    rs = await startMongoStandInReplicaSet({ users, log: () => {} });
    for (const u of users) connectionSecret.set(u.username, rs.uriFor(u, u.password));
    for (let i = 0; i < PODS; i++) endpoints.push(await startPod(userA)); // rotation 0: the API runs as a
  }, 60_000);
  afterAll(async () => {
    for (const pod of everyPod) await pod.api.server.stop().catch(() => {});
    await rs?.stop();
  });

  it('a rotation from user a to user b while reads and writes run: 0 failed requests, 0 lost writes', async () => {
    const failures: string[] = [];
    const written: string[] = [];
    let requests = 0;
    let running = true;
    const pick = (): Pod => endpoints[next++ % endpoints.length]!;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; running; i++) {
        const pod = pick();
        const username = `w${w}-${i}`;
        requests += 1;
        try {
          const post = await pod.api.send('POST', '/users', { name: username, username, email: `${username}@example.com` });
          if (post.status !== 201) failures.push(`POST ${post.status} ${await post.text()} (pod of ${pod.user})`);
          else {
            const id = ((await post.json()) as { _id: string })._id;
            written.push(id);
            requests += 1;
            const get = await pick().api.send('GET', `/users/${id}`);
            if (get.status !== 200) failures.push(`GET ${get.status}`);
            else await get.arrayBuffer();
          }
        } catch (error) {
          failures.push(`request error ${(error as Error).message}`);
        }
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    const steady = () => new Promise((resolve) => setTimeout(resolve, 150));
    await steady();

    // 1. PreSync prepare: a fresh password for the idle user b; the operator applies it, then writes b's connection string.
    const b1 = randomBytes(16).toString('base64url');
    rs.setUserPassword(userB, b1);
    connectionSecret.set(userB.username, rs.uriFor(userB, b1));
    await steady();

    // 2. The Deployment rolls onto b: surge one new pod, then retire one old pod, PODS times.
    const old = [...endpoints];
    for (const gone of old) {
      endpoints.push(await startPod(userB));
      endpoints = endpoints.filter((p) => p !== gone); // removed from the Service's endpoints first…
      await steady();
      await gone.api.server.stop(); // …then SIGTERM: in-flight requests finish, the client closes
    }
    expect(endpoints.every((p) => p.user === userB.username)).toBe(true);

    // 3. PostSync retire: no pod runs as a any more; a's password is replaced by one nobody holds.
    rs.setUserPassword(userA, randomBytes(16).toString('base64url'));
    await steady();
    running = false;
    await load;

    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(100);
    // 0 lost writes: every acknowledged POST is there, once.
    const listed = new Set<string>();
    const reader = endpoints[0]!;
    for (const id of written) {
      const r = await reader.api.send('GET', `/users/${id}`);
      if (r.status === 200) listed.add(id);
    }
    expect(listed.size).toBe(written.length);
  }, 120_000);

  it('the stand-in enforces what the rotation relies on: the retired user\'s old connection string no longer authenticates', async () => {
    const stale = rs.uriFor(userA, userA.password);
    const api = await startTestApi({ uri: stale, dbName: DB }, { MONGODB_CONNECT_RETRY_MAX_MS: '100' });
    everyPod.push({ api, user: userA.username });
    const outcome = await Promise.race([api.server.databaseReady.then(() => 'ready'), new Promise((resolve) => setTimeout(() => resolve('not ready'), 1500))]);
    expect(outcome).toBe('not ready');
    const r = await api.send('GET', '/users');
    expect(r.status).toBe(503);
  }, 30_000);
});
