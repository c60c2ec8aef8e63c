// Which MongoDB a test suite runs against: the real server named by MONGODB_URI (CI's mongo service),
// or, offline, the in-memory stand-in. Suite titles say which, so a green run never hides that it
// only met the stand-in.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { describe } from 'vitest';
import { STAND_IN_APP_USER, startMongoStandInReplicaSet } from './mongo-standin/index.ts';
import type { MongoStandInReplicaSet } from './mongo-standin/index.ts';

export type MongoTarget = 'real' | 'stand-in';

export interface TestMongo {
  uri: string;
  /** Unique per acquire call, so suites and files never see each other's data. */
  dbName: string;
  label: MongoTarget;
  /**
   * Only for the stand-in, a three-member replica set: suspend()/resume() lose and regain the whole
   * set; killPrimary(), stepDown(), replaceWithEmptySet() model what the operator's set can do.
   */
  standIn?: MongoStandInReplicaSet;
  /** Drops the database (real) or stops the stand-in; safe to call twice. */
  release(): Promise<void>;
}

/** The target acquireTestMongo() uses by default: real when MONGODB_URI is set. */
export function defaultMongoTarget(): MongoTarget {
  return process.env.MONGODB_URI ? 'real' : 'stand-in';
}

/** Every target available here: always the stand-in, plus the real server when MONGODB_URI is set. */
export function availableMongoTargets(): MongoTarget[] {
  return process.env.MONGODB_URI ? ['stand-in', 'real'] : ['stand-in'];
}

export function mongoTargetTitle(target: MongoTarget): string {
  return target === 'real' ? '(real MongoDB)' : '(stand-in)';
}

/** describe() whose title ends with "(real MongoDB)" or "(stand-in)". */
export function describeMongo(title: string, fn: () => void, target: MongoTarget = defaultMongoTarget()): void {
  describe(`${title} ${mongoTargetTitle(target)}`, fn);
}

export { STAND_IN_APP_USER };

let acquired = 0;

function uniqueDbName(): string {
  acquired += 1;
  // Database names are limited to 63 bytes; this stays well under.
  return `test_${process.pid}_${acquired}_${randomBytes(4).toString('hex')}`;
}

export async function acquireTestMongo(options: { target?: MongoTarget } = {}): Promise<TestMongo> {
  const target = options.target ?? defaultMongoTarget();
  const dbName = uniqueDbName();
  if (target === 'real') {
    const uri = process.env.MONGODB_URI;
    if (!uri) throw new Error('acquireTestMongo({ target: "real" }) needs MONGODB_URI to be set');
    let released: Promise<void> | undefined;
    const drop = async (): Promise<void> => {
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
      try {
        await client.db(dbName).dropDatabase();
      } finally {
        await client.close();
      }
    };
    return { uri, dbName, label: 'real', release: () => (released ??= drop()) };
  }
  // Offline, the database is what production runs: a three-member replica set reached with the
  // operator's connection string (all members, replicaSet=, escaped credentials, SCRAM-SHA-256).
  const standIn = await startMongoStandInReplicaSet({ members: 3, setName: 'users-db', users: [STAND_IN_APP_USER], log: () => {} });
  return { uri: standIn.uri, dbName, label: 'stand-in', standIn, release: () => standIn.stop() };
}
