// Storage of users behind a small interface, so routes never touch the driver and the HTTP layer can be
// measured alone (bench/api) with an in-memory implementation.
import { MongoError, MongoNetworkError, MongoServerError, ObjectId } from 'mongodb';
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { IDENTITY_VERSION, emailKey, usernameKey } from './identity.ts';
import type { User, UserInput, UserPatch } from './user-schema.ts';

export const USERS_COLLECTION = 'users';

/**
 * The unique indexes the API relies on for 409, on the normalized identity keys (identity.ts). Ensured
 * on every (re)connection before writes are accepted and /readyz says 200. Sparse, so that a document
 * written by an older API version (no key yet) does not collide with another one as "null" before the
 * migration keys it.
 */
export const USER_INDEXES = [
  { key: { usernameKey: 1 }, name: 'username_key_unique', unique: true, sparse: true },
  { key: { emailKey: 1 }, name: 'email_key_unique', unique: true, sparse: true },
] as const;

/** The field a key index protects, as the API names it to the client. */
const KEY_FIELDS: Record<string, 'username' | 'email'> = { usernameKey: 'username', emailKey: 'email', username: 'username', email: 'email' };

/** A write collided with a unique index; `field` is the user field when the server names it. */
export class DuplicateUserError extends Error {
  readonly field: string | undefined;
  constructor(field: string | undefined) {
    super(field ? `a user with this ${field} already exists` : 'a user with this username or email already exists');
    this.name = 'DuplicateUserError';
    this.field = field;
  }
}

export interface ListUsersQuery {
  limit: number;
  /** 24-hex id; only users with a greater _id are returned. */
  after?: string | undefined;
}

export interface UsersRepository {
  /** Up to `limit` users sorted by _id, plus whether more follow. */
  list(query: ListUsersQuery): Promise<{ users: User[]; hasMore: boolean }>;
  create(input: UserInput): Promise<User>;
  get(id: string): Promise<User | null>;
  update(id: string, patch: UserPatch): Promise<User | null>;
  remove(id: string): Promise<boolean>;
}

interface UserDocument {
  _id: ObjectId;
  /** As the user typed them (validated), for display. */
  name: string;
  username: string;
  email: string;
  /** The identity keys with the unique indexes; absent on documents of an older API version until migrated. */
  usernameKey?: string;
  emailKey?: string;
  identityVersion?: number;
}

const PROJECTION = { _id: 1, name: 1, username: 1, email: 1 } as const;
const DUPLICATE_KEY = 11000;

export function toUser(doc: UserDocument): User {
  return { _id: doc._id.toHexString(), name: doc.name, username: doc.username, email: doc.email };
}

/** Field of a duplicate-key error from the error's structured fields (never from its message). */
function duplicateField(error: MongoServerError): string | undefined {
  const pattern = (error.keyPattern ?? error.keyValue) as Record<string, unknown> | undefined;
  const key = pattern ? Object.keys(pattern)[0] : undefined;
  return key === undefined ? undefined : KEY_FIELDS[key];
}

function mapWriteError(error: unknown): never {
  if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) throw new DuplicateUserError(duplicateField(error));
  throw error;
}

/**
 * Node's own socket errors, as they can reach us unwrapped from the driver: mongodb@7.9.0
 * lib/cmap/connection.js `writeCommand` waits for 'drain' on the socket's 'error' event too and rethrows
 * that error as it is, so a write on a connection the server has just closed (Node's net.js
 * `writeAfterFIN`: "This socket has been ended by the other party", code EPIPE) escapes as a plain Error,
 * is not retried, and would be a 500. Seen while a primary was killed (test/hardening/faults.test.ts).
 */
const SOCKET_ERROR_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_SOCKET_CLOSED',
]);

/** A lost connection is a MongoNetworkError whichever way it surfaced; anything else is left as it is. */
export function asDriverError(error: unknown): unknown {
  if (error instanceof Error && !(error instanceof MongoError) && SOCKET_ERROR_CODES.has(String((error as NodeJS.ErrnoException).code))) {
    return new MongoNetworkError(`connection to MongoDB lost: ${error.message}`, { cause: error });
  }
  return error;
}

/** Every driver call of the repository goes through here, so its errors come out classified. */
async function driver<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw asDriverError(error);
  }
}

/**
 * Copies exactly the known fields: the input has been schema-validated, and building a fresh object
 * (instead of spreading the body) keeps anything else, `__proto__` included, out of the database.
 */
function pickFields(input: UserPatch): Partial<UserDocument> {
  const out: Partial<UserDocument> = {};
  if (typeof input.name === 'string') out.name = input.name;
  if (typeof input.username === 'string') {
    out.username = input.username;
    out.usernameKey = usernameKey(input.username);
  }
  if (typeof input.email === 'string') {
    out.email = input.email;
    out.emailKey = emailKey(input.email);
  }
  if (out.usernameKey !== undefined || out.emailKey !== undefined) out.identityVersion = IDENTITY_VERSION;
  return out;
}

export async function ensureUserIndexes(db: Db): Promise<void> {
  await db.collection(USERS_COLLECTION).createIndexes(USER_INDEXES.map((index) => ({ ...index, key: { ...index.key } })));
}

/** Names of the required indexes that the users collection lacks (all of them when it does not exist). */
export async function missingUserIndexes(db: Db): Promise<string[]> {
  let present: string[];
  try {
    present = (await db.collection(USERS_COLLECTION).listIndexes().toArray()).map((index) => String(index.name));
  } catch (error) {
    if (error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND) present = [];
    else throw error;
  }
  return USER_INDEXES.map((index) => index.name).filter((name) => !present.includes(name));
}

const NAMESPACE_NOT_FOUND = 26;

export interface IdentityMigration {
  /** Documents given their identity keys. */
  keyed: number;
  /**
   * Documents whose key another (older) user already holds: kept, with a key no input can produce
   * (it contains NUL, which identity.ts refuses), so nothing is lost and an operator can resolve them.
   */
  conflicts: Array<{ _id: string; field: 'username' | 'email'; sameAs: string }>;
}

/** The marker key of a conflicting document: unique to it, and never equal to a real key. */
function conflictKey(key: string, id: ObjectId): string {
  return `${key}\u0000conflict:${id.toHexString()}`;
}

/**
 * Gives every user written under older rules its identity keys, oldest first; the first holder of a key
 * keeps it. Idempotent and safe to run from several pods at once (each update is conditional on the
 * document still being unmigrated). Must run before the unique indexes are built.
 */
export async function migrateIdentityKeys(db: Db): Promise<IdentityMigration> {
  const users = db.collection<UserDocument>(USERS_COLLECTION);
  const stale = await users.find({ identityVersion: { $ne: IDENTITY_VERSION } }, { sort: { _id: 1 } }).toArray();
  const result: IdentityMigration = { keyed: 0, conflicts: [] };
  if (stale.length === 0) return result;
  const holders = { username: new Map<string, ObjectId>(), email: new Map<string, ObjectId>() };
  const current = await users
    .find({ identityVersion: IDENTITY_VERSION }, { projection: { _id: 1, usernameKey: 1, emailKey: 1 } })
    .toArray();
  for (const doc of current) {
    if (doc.usernameKey !== undefined) holders.username.set(doc.usernameKey, doc._id);
    if (doc.emailKey !== undefined) holders.email.set(doc.emailKey, doc._id);
  }
  const operations: AnyBulkWriteOperation<UserDocument>[] = [];
  for (const doc of stale) {
    const keys = { username: usernameKey(String(doc.username)), email: emailKey(String(doc.email)) };
    const set: Partial<UserDocument> = { identityVersion: IDENTITY_VERSION };
    for (const field of ['username', 'email'] as const) {
      const holder = holders[field].get(keys[field]);
      let key = keys[field];
      if (holder && !holder.equals(doc._id)) {
        result.conflicts.push({ _id: doc._id.toHexString(), field, sameAs: holder.toHexString() });
        key = conflictKey(key, doc._id);
      } else {
        holders[field].set(key, doc._id);
      }
      set[field === 'username' ? 'usernameKey' : 'emailKey'] = key;
    }
    operations.push({ updateOne: { filter: { _id: doc._id, identityVersion: { $ne: IDENTITY_VERSION } }, update: { $set: set } } });
    result.keyed += 1;
  }
  await users.bulkWrite(operations, { ordered: true });
  return result;
}

export interface MongoRepositoryOptions {
  /** Upper bound of one database operation (sent to the server as maxTimeMS). */
  operationTimeoutMs: number;
}

export function createMongoUsersRepository(db: Db, options: MongoRepositoryOptions): UsersRepository {
  const users: Collection<UserDocument> = db.collection<UserDocument>(USERS_COLLECTION);
  const maxTimeMS = options.operationTimeoutMs;
  return {
    async list({ limit, after }) {
      const filter = after ? { _id: { $gt: new ObjectId(after) } } : {};
      const docs = await driver(users.find(filter, { projection: PROJECTION, sort: { _id: 1 }, limit: limit + 1, maxTimeMS }).toArray());
      return { users: docs.slice(0, limit).map(toUser), hasMore: docs.length > limit };
    },
    async create(input) {
      const fields = pickFields(input) as UserDocument;
      const doc: UserDocument = {
        _id: new ObjectId(),
        name: fields.name,
        username: fields.username,
        email: fields.email,
        usernameKey: fields.usernameKey!,
        emailKey: fields.emailKey!,
        identityVersion: IDENTITY_VERSION,
      };
      try {
        await driver(users.insertOne(doc));
      } catch (error) {
        mapWriteError(error);
      }
      return toUser(doc);
    },
    async get(id) {
      const doc = await driver(users.findOne({ _id: new ObjectId(id) }, { projection: PROJECTION, maxTimeMS }));
      return doc ? toUser(doc) : null;
    },
    async update(id, patch) {
      try {
        const doc = await driver(
          users.findOneAndUpdate({ _id: new ObjectId(id) }, { $set: pickFields(patch) }, { returnDocument: 'after', projection: PROJECTION, maxTimeMS }),
        );
        return doc ? toUser(doc) : null;
      } catch (error) {
        return mapWriteError(error);
      }
    },
    async remove(id) {
      const result = await driver(users.deleteOne({ _id: new ObjectId(id) }));
      return result.deletedCount === 1;
    },
  };
}

export interface TrackedUsersRepository {
  users: UsersRepository;
  /** Resolves once no operation is pending (at once when none is). */
  settled(): Promise<void>;
}

/**
 * Counts the repository operations in progress, so shutdown can wait for them before closing the
 * MongoDB client. Sockets are no measure of that: a client that hung up leaves its handler querying.
 */
export function trackPendingOperations(inner: UsersRepository): TrackedUsersRepository {
  let pending = 0;
  let waiters: Array<() => void> = [];
  const track = async <T>(operation: () => Promise<T>): Promise<T> => {
    pending += 1;
    try {
      return await operation();
    } finally {
      pending -= 1;
      if (pending === 0) {
        for (const wake of waiters) wake();
        waiters = [];
      }
    }
  };
  return {
    users: {
      list: (query) => track(() => inner.list(query)),
      create: (input) => track(() => inner.create(input)),
      get: (id) => track(() => inner.get(id)),
      update: (id, patch) => track(() => inner.update(id, patch)),
      remove: (id) => track(() => inner.remove(id)),
    },
    settled: () => (pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}
