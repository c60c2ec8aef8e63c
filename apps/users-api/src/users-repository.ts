// Storage of users behind a small interface, so routes never touch the driver and the HTTP layer can be
// measured alone (bench/api) with an in-memory implementation.
import { MongoServerError, ObjectId } from 'mongodb';
import type { Collection, Db } from 'mongodb';
import type { User, UserInput, UserPatch } from './user-schema.ts';

export const USERS_COLLECTION = 'users';

/** The unique indexes the API relies on for 409; created at start-up before the API reports ready. */
export const USER_INDEXES = [
  { key: { username: 1 }, name: 'username_unique', unique: true },
  { key: { email: 1 }, name: 'email_unique', unique: true },
] as const;

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
  name: string;
  username: string;
  email: string;
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
  return key === 'username' || key === 'email' ? key : undefined;
}

function mapWriteError(error: unknown): never {
  if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) throw new DuplicateUserError(duplicateField(error));
  throw error;
}

/**
 * Copies exactly the known fields: the input has been schema-validated, and building a fresh object
 * (instead of spreading the body) keeps anything else, `__proto__` included, out of the database.
 */
function pickFields(input: UserPatch): UserPatch {
  const out: UserPatch = {};
  if (typeof input.name === 'string') out.name = input.name;
  if (typeof input.username === 'string') out.username = input.username;
  if (typeof input.email === 'string') out.email = input.email;
  return out;
}

export async function ensureUserIndexes(db: Db): Promise<void> {
  await db.collection(USERS_COLLECTION).createIndexes(USER_INDEXES.map((index) => ({ ...index, key: { ...index.key } })));
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
      const docs = await users.find(filter, { projection: PROJECTION, sort: { _id: 1 }, limit: limit + 1, maxTimeMS }).toArray();
      return { users: docs.slice(0, limit).map(toUser), hasMore: docs.length > limit };
    },
    async create(input) {
      const fields = pickFields(input) as UserInput;
      const doc: UserDocument = { _id: new ObjectId(), name: fields.name, username: fields.username, email: fields.email };
      try {
        await users.insertOne(doc);
      } catch (error) {
        mapWriteError(error);
      }
      return toUser(doc);
    },
    async get(id) {
      const doc = await users.findOne({ _id: new ObjectId(id) }, { projection: PROJECTION, maxTimeMS });
      return doc ? toUser(doc) : null;
    },
    async update(id, patch) {
      try {
        const doc = await users.findOneAndUpdate(
          { _id: new ObjectId(id) },
          { $set: pickFields(patch) },
          { returnDocument: 'after', projection: PROJECTION, maxTimeMS },
        );
        return doc ? toUser(doc) : null;
      } catch (error) {
        return mapWriteError(error);
      }
    },
    async remove(id) {
      const result = await users.deleteOne({ _id: new ObjectId(id) });
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
