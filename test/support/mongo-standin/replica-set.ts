// The stand-in as a replica set: N members on N ports, each answering hello as a mongod replica-set
// member does (setName, hosts, primary, me, isWritablePrimary/secondary, setVersion, electionId), so the
// driver runs its real replica-set discovery and server selection. Secondaries refuse writes
// (NotWritablePrimary, labelled RetryableWriteError for retryable writes) and primary reads
// (NotPrimaryNoSecondaryOk). Killing the primary or stepping it down starts an election after
// `electionDelayMs`. Connections authenticate with SCRAM-SHA-256 when users are given.
//
// What it does NOT model (docs/mongo-standin.md): replication lag, rollback, write concerns other than
// "acknowledged = on every member" (all members share one in-memory storage), oplog, read concern,
// elections by vote (the lowest-numbered eligible live member wins), priorities, arbiters, roles.
import { ObjectId } from 'bson';
import type { Document } from 'bson';
import { STAND_IN_NOTICE } from './commands.ts';
import type { MemberRole } from './commands.ts';
import { operatorConnectionString } from './operator-uri.ts';
import { ScramAuthority } from './scram.ts';
import type { StandInUser } from './scram.ts';
import { StandInServer } from './server.ts';
import { Storage } from './storage.ts';

/**
 * The application user of the stand-in set, with a password holding every character that the operator
 * must escape in the URI (mongodb/mongodb-kubernetes@1.10.0 pkg/util/stringutil EncodeUserinfoComponent).
 * A test credential of an in-memory double, not a secret.
 */
export const STAND_IN_APP_USER: StandInUser = { db: 'admin', username: 'users-api', password: 'p@ss:w/rd?#[]% +&=' };

export interface ReplicaSetOptions {
  /** Default 3. */
  members?: number;
  /** The replica set's name (the operator uses the MongoDBCommunity resource's name). Default users-db. */
  setName?: string;
  host?: string;
  /** One port per member; 0 or absent picks free ports. */
  ports?: number[];
  /** Users that may authenticate (SCRAM-SHA-256); none means no authentication, like mongod without --auth. */
  users?: StandInUser[];
  /** The user whose credentials go into `uri` (default: the first of `users`). */
  uriUser?: StandInUser;
  /** Time from losing the primary to a new one being elected. Default 500 ms (mongod: electionTimeoutMillis 10 s). */
  electionDelayMs?: number;
  log?: (line: string) => void;
}

export interface MongoStandInReplicaSet {
  /** In the operator's exact format (MongoAuthUserURI): all members, replicaSet=, escaped credentials. */
  uri: string;
  setName: string;
  /** host:port of each member, as in hello's hosts and me. */
  hosts: string[];
  /** The first member's port (what a single stand-in's `port` was). */
  port: number;
  label: 'stand-in';
  /** Index of the current primary, undefined during an election. */
  primary(): number | undefined;
  /** Resolves once a primary exists (at once if one does). */
  waitForPrimary(): Promise<number>;
  /** The member's process dies: listener closed, every socket cut. A primary is replaced by an election. */
  killMember(index: number): Promise<void>;
  /** Kills the primary and returns its index. */
  killPrimary(): Promise<number>;
  /** A killed member starts again, as a secondary. */
  restartMember(index: number): Promise<void>;
  /**
   * replSetStepDown: the primary becomes a secondary at once (its connections stay open, as since
   * MongoDB 4.2) and another member is elected after electionDelayMs. Returns the former primary.
   */
  stepDown(): Promise<number>;
  /** Every member stops listening and cuts its sockets; data is kept (the whole set lost). */
  suspend(): Promise<void>;
  /** Every member listens again; the primary is the one from before. */
  resume(): Promise<void>;
  /** A new, empty replica set behind the same hosts (a restore, a rebuilt set): data gone, sockets cut. */
  replaceWithEmptySet(): Promise<void>;
  /** (stand-in) The operator has applied a new password for a user (scram.ts setPassword). */
  setUserPassword(user: StandInUser, password: string): void;
  /** The connection string the operator writes for `user` with `password` (MongoAuthUserURI). */
  uriFor(user: StandInUser, password: string): string;
  stop(): Promise<void>;
}

/** An electionId that grows with the term (the driver ranks primaries by electionId, then setVersion). */
function electionIdFor(term: number): ObjectId {
  return new ObjectId(`7fffffff${term.toString(16).padStart(16, '0')}`);
}

export async function startMongoStandInReplicaSet(options: ReplicaSetOptions = {}): Promise<MongoStandInReplicaSet> {
  const count = options.members ?? 3;
  const setName = options.setName ?? 'users-db';
  const host = options.host ?? '127.0.0.1';
  const electionDelayMs = options.electionDelayMs ?? 500;
  const storage = new Storage();
  const retryableWrites = new Map<string, Document>();
  const authority = new ScramAuthority(options.users ?? []);
  let primary: number | undefined = 0;
  let term = 1;
  let hosts: string[] = [];
  const alive: boolean[] = Array.from({ length: count }, () => true);
  let election: NodeJS.Timeout | undefined;
  let waiters: Array<(index: number) => void> = [];

  const role = (index: number): MemberRole => ({
    isPrimary: () => primary === index,
    retryableWrites,
    helloFields: () => ({
      setName,
      setVersion: 1,
      hosts,
      me: hosts[index],
      ...(primary !== undefined ? { primary: hosts[primary] } : {}),
      ...(primary === index ? { electionId: electionIdFor(term) } : {}),
    }),
  });

  const members = Array.from(
    { length: count },
    (_, index) => new StandInServer({ host, port: options.ports?.[index] ?? 0, storage, member: role(index), ...(authority.enabled ? { authority } : {}) }),
  );
  try {
    for (const member of members) await member.listen();
  } catch (error) {
    for (const member of members) await member.stop();
    throw error;
  }
  const uriHost = host.includes(':') ? `[${host}]` : host;
  hosts = members.map((member) => `${uriHost}:${member.port}`);

  const elect = (excluded: number | undefined): void => {
    clearTimeout(election);
    election = setTimeout(() => {
      const candidates = alive.map((up, index) => (up ? index : -1)).filter((index) => index >= 0);
      const next = candidates.find((index) => index !== excluded) ?? candidates[0];
      if (next === undefined) return; // nobody left; a restarted member triggers the next election
      term += 1;
      primary = next;
      for (const wake of waiters.splice(0)) wake(next);
    }, electionDelayMs);
    election.unref();
  };

  const killMember = async (index: number): Promise<void> => {
    const member = members[index];
    if (!member) throw new RangeError(`no member ${index}`);
    alive[index] = false;
    await member.disconnect();
    if (primary === index) {
      primary = undefined;
      elect(index);
    }
  };

  const user = options.uriUser ?? options.users?.[0];
  const uri = user
    ? operatorConnectionString({ username: user.username, password: user.password, database: user.db, resourceName: setName, hosts })
    : `mongodb://${hosts.join(',')}/?replicaSet=${setName}&ssl=false`;
  (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(`[mongo-standin] ${STAND_IN_NOTICE} replica set ${setName} on ${hosts.join(', ')}`);

  let stopping: Promise<void> | undefined;
  return {
    uri,
    setName,
    hosts,
    port: members[0]!.port,
    label: 'stand-in',
    primary: () => primary,
    waitForPrimary: () => (primary !== undefined ? Promise.resolve(primary) : new Promise((resolve) => waiters.push(resolve))),
    killMember,
    async killPrimary() {
      const index = primary;
      if (index === undefined) throw new Error('there is no primary to kill (an election is in progress)');
      await killMember(index);
      return index;
    },
    async restartMember(index) {
      const member = members[index];
      if (!member) throw new RangeError(`no member ${index}`);
      await member.listen();
      alive[index] = true;
      if (primary === undefined) elect(undefined);
    },
    async stepDown() {
      const index = primary;
      if (index === undefined) throw new Error('there is no primary to step down');
      primary = undefined;
      elect(index);
      return index;
    },
    async suspend() {
      for (const member of members) await member.disconnect();
    },
    async resume() {
      for (const [index, member] of members.entries()) if (alive[index]) await member.listen();
    },
    async replaceWithEmptySet() {
      for (const member of members) await member.disconnect();
      for (const db of storage.databaseNames()) storage.dropDatabase(db);
      retryableWrites.clear();
      for (const [index, member] of members.entries()) if (alive[index]) await member.listen();
    },
    setUserPassword(user, password) {
      authority.setPassword(user.db, user.username, password);
    },
    uriFor: (u, password) => operatorConnectionString({ username: u.username, password, database: u.db, resourceName: setName, hosts }),
    stop: () =>
      (stopping ??= (async () => {
        clearTimeout(election);
        waiters = [];
        for (const member of members) await member.stop();
      })()),
  };
}
