// Command handlers of the stand-in: each takes the decoded command document and returns the reply body.
// Queries, sorts, projections, update operators and pipelines are evaluated by mingo; this file only
// maps MongoDB command shapes and reply shapes onto it.
import { Long, ObjectId, serialize } from 'bson';
import type { Document } from 'bson';
import { Aggregator, Query, update as applyOperators } from 'mingo';
import type { Options as MingoOptions } from 'mingo/types';
import type { ConnectionAuth, ScramAuthority } from './scram.ts';
import { sortDocuments } from './sort-order.ts';
import { CommandError, cloneDocument } from './storage.ts';
import type { Collection, IndexSpec, Storage } from './storage.ts';

/** Wire version 21 is MongoDB 7.0; driver 7.9 accepts 9 (4.4) to 29 (see lib/cmap/wire_protocol/constants.js). */
export const MAX_WIRE_VERSION = 21;
export const REPORTED_VERSION = '7.0.0';
export const STAND_IN_NOTICE = 'STAND-IN, not MongoDB: in-memory test double (test/support/mongo-standin)';

const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
const MAX_WRITE_BATCH_SIZE = 100_000;
const DEFAULT_FIRST_BATCH = 101;

interface OpenCursor {
  ns: string;
  remaining: Document[];
}

/** What a replica-set member knows about the set (replica-set.ts); absent for a standalone server. */
export interface MemberRole {
  /** setName, hosts, primary, me, setVersion, electionId (the primary only), as mongod's hello has them. */
  helloFields(): Document;
  isPrimary(): boolean;
  /** Results of retryable writes by lsid + txnNumber, shared by the set (mongod replicates them in config.transactions). */
  retryableWrites: Map<string, Document>;
}

export interface CommandContext {
  storage: Storage;
  cursors: Map<number, OpenCursor>;
  nextCursorId: () => number;
  connectionId: number;
  member?: MemberRole;
  /** Present when the server was started with users: every data command needs an authenticated connection. */
  auth?: { authority: ScramAuthority; state: ConnectionAuth };
}

// Commands by what a secondary does with them (mongod: writes fail with NotWritablePrimary, reads
// without a secondary-ok read preference with NotPrimaryNoSecondaryOk).
const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'create', 'createIndexes', 'dropIndexes', 'drop', 'dropDatabase']);
const RETRYABLE_WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify']);
const READ_COMMANDS = new Set(['find', 'getMore', 'aggregate', 'count', 'listIndexes', 'listCollections', 'listDatabases']);
// What mongod lets an unauthenticated connection run.
const UNAUTHENTICATED_COMMANDS = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'buildInfo', 'saslStart', 'saslContinue', 'endSessions', 'getParameter']);

type Handler = (command: Document, db: string, context: CommandContext) => Document;

function mingoOptions(storage: Storage, db: string): Partial<MingoOptions> {
  // $lookup / $unionWith name other collections of the same database.
  return { collectionResolver: (name: string) => storage.collection(db, name)?.documents ?? [] };
}

function collectionName(command: Document, verb: string): string {
  const name = command[verb];
  if (typeof name !== 'string' || name === '') {
    throw new CommandError(73, 'InvalidNamespace', `collection name for ${verb} must be a non-empty string`);
  }
  return name;
}

function isPlainObject(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function isOperatorDocument(value: unknown): boolean {
  return isPlainObject(value) && Object.keys(value).some((key) => key.startsWith('$'));
}

function setAtPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let target = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(target[part])) target[part] = {};
    target = target[part] as Document;
  }
  target[parts[parts.length - 1]!] = value;
}

/** Like mongod: _id becomes the first field, and is generated when the client sent none. */
function withId(doc: Document): Document {
  const { _id, ...fields } = doc;
  return { _id: _id === undefined ? new ObjectId() : _id, ...fields };
}

// mingo's own errors for cases the server reports with a specific code; anything else becomes BadValue.
const ENGINE_ERROR_CODES: Array<[RegExp, number, string]> = [
  [/immutable field '_id'/, 66, 'ImmutableField'],
  [/unknown update operator/i, 9, 'FailedToParse'],
];

function runEngine<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof CommandError) throw error;
    const message = (error as Error).message;
    const [, code, codeName] = ENGINE_ERROR_CODES.find(([pattern]) => pattern.test(message)) ?? [undefined, 2, 'BadValue'];
    throw new CommandError(code, codeName, `stand-in query engine (mingo) rejected the command: ${message}`);
  }
}

function isScalarId(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || value instanceof ObjectId;
}

function match(collection: Collection | undefined, filter: Document | undefined, storage: Storage, db: string): Document[] {
  if (!collection) return [];
  if (!filter || Object.keys(filter).length === 0) return collection.documents;
  const fields = Object.keys(filter);
  if (fields.length === 1 && fields[0] === '_id' && isScalarId(filter._id)) {
    const found = collection.findById(filter._id);
    return found ? [found] : [];
  }
  return runEngine(() => new Query(filter, mingoOptions(storage, db)).find<Document>(collection.documents).all());
}

function sortSpec(sort: unknown): Record<string, 1 | -1> | undefined {
  if (!isPlainObject(sort)) return undefined;
  const spec: Record<string, 1 | -1> = {};
  for (const [field, direction] of Object.entries(sort)) {
    if (field === '$natural') continue;
    spec[field] = Number(direction) < 0 ? -1 : 1;
  }
  return Object.keys(spec).length > 0 ? spec : undefined;
}

function cursorReply(context: CommandContext, ns: string, docs: Document[], batchSize: unknown, singleBatch: boolean): Document {
  const size = typeof batchSize === 'number' && batchSize > 0 ? batchSize : DEFAULT_FIRST_BATCH;
  const firstBatch = docs.slice(0, size);
  let id = 0;
  if (!singleBatch && docs.length > size) {
    id = context.nextCursorId();
    context.cursors.set(id, { ns, remaining: docs.slice(size) });
  }
  return { cursor: { firstBatch, id: Long.fromNumber(id), ns }, ok: 1 };
}

// ---- update helpers ---------------------------------------------------------------------------------

function immutableId(): CommandError {
  return new CommandError(66, 'ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
}

function sameValue(a: unknown, b: unknown): boolean {
  return Buffer.from(serialize({ v: a })).equals(serialize({ v: b }));
}

/** Returns the updated copy of doc; doc itself is never mutated (open cursors may still hold it). */
function updatedCopy(doc: Document, update: unknown, arrayFilters: Document[] | undefined, inserting: boolean, options: Partial<MingoOptions>): Document {
  if (Array.isArray(update)) {
    const [result] = runEngine(() => new Aggregator(update as Document[], options).run([cloneDocument(doc)]));
    if (!result) throw new CommandError(2, 'BadValue', 'update pipeline removed the document');
    if (!sameValue(result._id, doc._id) && doc._id !== undefined) throw immutableId();
    return result;
  }
  if (!isPlainObject(update)) throw new CommandError(9, 'FailedToParse', 'update must be a document or a pipeline');
  const keys = Object.keys(update);
  if (keys.length > 0 && keys.every((key) => key.startsWith('$'))) {
    const copy = cloneDocument(doc);
    const { $setOnInsert, ...operators } = update;
    if (Object.keys(operators).length > 0) runEngine(() => applyOperators(copy, operators, arrayFilters, undefined, { queryOptions: options }));
    if (inserting && isPlainObject($setOnInsert)) runEngine(() => applyOperators(copy, { $set: $setOnInsert }, undefined, undefined, { queryOptions: options }));
    if (doc._id !== undefined && !sameValue(copy._id, doc._id)) throw immutableId();
    return copy;
  }
  if (keys.some((key) => key.startsWith('$'))) {
    throw new CommandError(9, 'FailedToParse', 'an update cannot mix update operators and replacement fields');
  }
  // Replacement document: keeps the stored _id.
  if (update._id !== undefined && doc._id !== undefined && !sameValue(update._id, doc._id)) throw immutableId();
  const { _id, ...fields } = cloneDocument(update);
  const id = doc._id ?? _id;
  return id === undefined ? fields : { _id: id, ...fields };
}

/** The document an upsert starts from: the equality fields of its filter, as the server does. */
function upsertSeed(filter: Document | undefined): Document {
  const seed: Document = {};
  for (const [field, value] of Object.entries(filter ?? {})) {
    if (field === '$and' && Array.isArray(value)) {
      for (const part of value) Object.assign(seed, upsertSeed(part as Document));
    } else if (field.startsWith('$')) {
      continue;
    } else if (isOperatorDocument(value)) {
      if ('$eq' in (value as Document)) setAtPath(seed, field, (value as Document).$eq);
    } else {
      setAtPath(seed, field, value);
    }
  }
  return seed;
}

function writeError(index: number, error: unknown): Document {
  if (error instanceof CommandError) return { index, code: error.code, errmsg: error.message, ...error.extra };
  return { index, code: 1, errmsg: (error as Error).message };
}

function errorReply(error: CommandError): Document {
  return { ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName, ...error.extra };
}

// ---- handlers ------------------------------------------------------------------------------------------

function hello(command: Document, db: string, context: CommandContext): Document {
  const legacy = command.isMaster !== undefined || command.ismaster !== undefined;
  const writable = context.member ? context.member.isPrimary() : true;
  const auth = context.auth;
  const mechanisms = auth ? auth.authority.supportedMechanisms(command.saslSupportedMechs) : undefined;
  let speculative: Document | undefined;
  if (auth && isPlainObject(command.speculativeAuthenticate)) {
    try {
      const start = command.speculativeAuthenticate;
      speculative = auth.authority.start(start, typeof start.db === 'string' ? start.db : db, auth.state);
    } catch {
      // mongod leaves speculativeAuthenticate out of the reply when it fails; the client then runs saslStart.
    }
  }
  return {
    ...(command.helloOk ? { helloOk: true } : {}),
    ...(legacy ? { ismaster: writable } : { isWritablePrimary: writable }),
    ...(context.member ? { secondary: !writable, ...context.member.helloFields() } : {}),
    ...(mechanisms ? { saslSupportedMechs: mechanisms } : {}),
    ...(speculative ? { speculativeAuthenticate: speculative } : {}),
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    // Present so the driver attaches sessions as it would against a real server.
    logicalSessionTimeoutMinutes: 30,
    connectionId: context.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    // No topologyVersion on purpose: without it the driver polls with plain hello commands instead of
    // the streaming (exhaust) protocol, which the stand-in does not implement.
    standIn: STAND_IN_NOTICE,
    ok: 1,
  };
}

const handlers: Record<string, Handler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: () => ({ ok: 1 }),
  buildInfo: () => ({
    version: REPORTED_VERSION,
    versionArray: [7, 0, 0, 0],
    gitVersion: 'stand-in',
    standIn: STAND_IN_NOTICE,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    ok: 1,
  }),
  getParameter: () => ({ ok: 1 }),
  saslStart(command, db, context) {
    if (!context.auth) throw new CommandError(334, 'MechanismUnavailable', 'authentication is not enabled on this stand-in');
    return context.auth.authority.start(command, db, context.auth.state);
  },
  saslContinue(command, _db, context) {
    if (!context.auth) throw new CommandError(17, 'ProtocolError', 'No SASL session state found');
    return context.auth.authority.continue(command, context.auth.state);
  },
  endSessions: () => ({ ok: 1 }),
  killAllSessions: () => ({ ok: 1 }),

  insert(command, db, { storage }) {
    const collection = storage.ensureCollection(db, collectionName(command, 'insert'));
    const documents = (command.documents ?? []) as Document[];
    const ordered = command.ordered !== false;
    const writeErrors: Document[] = [];
    let n = 0;
    for (const [index, document] of documents.entries()) {
      try {
        collection.insert(withId(document));
        n += 1;
      } catch (error) {
        writeErrors.push(writeError(index, error));
        if (ordered) break;
      }
    }
    return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  },

  find(command, db, context) {
    const name = collectionName(command, 'find');
    const collection = context.storage.collection(db, name);
    let docs = match(collection, command.filter as Document | undefined, context.storage, db);
    const sort = sortSpec(command.sort);
    if (sort) docs = sortDocuments(docs, sort);
    const skip = typeof command.skip === 'number' && command.skip > 0 ? command.skip : 0;
    const limit = typeof command.limit === 'number' && command.limit !== 0 ? Math.abs(command.limit) : Infinity;
    docs = docs.slice(skip, skip + limit);
    const projection = isPlainObject(command.projection) && Object.keys(command.projection).length > 0 ? command.projection : undefined;
    if (projection) docs = runEngine(() => new Query({}, mingoOptions(context.storage, db)).find<Document>(docs, projection).all());
    const singleBatch = command.singleBatch === true || (typeof command.limit === 'number' && command.limit < 0);
    return cursorReply(context, `${db}.${name}`, docs, command.batchSize, singleBatch);
  },

  getMore(command, db, context) {
    const id = Number(command.getMore);
    const cursor = context.cursors.get(id);
    if (!cursor) throw new CommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
    const size = typeof command.batchSize === 'number' && command.batchSize > 0 ? command.batchSize : cursor.remaining.length;
    const nextBatch = cursor.remaining.splice(0, size);
    const exhausted = cursor.remaining.length === 0;
    if (exhausted) context.cursors.delete(id);
    return { cursor: { nextBatch, id: Long.fromNumber(exhausted ? 0 : id), ns: cursor.ns }, ok: 1 };
  },

  killCursors(command, _db, context) {
    const ids = ((command.cursors ?? []) as unknown[]).map(Number);
    const killed = ids.filter((id) => context.cursors.delete(id));
    const notFound = ids.filter((id) => !killed.includes(id));
    return {
      cursorsKilled: killed.map((id) => Long.fromNumber(id)),
      cursorsNotFound: notFound.map((id) => Long.fromNumber(id)),
      cursorsAlive: [],
      cursorsUnknown: [],
      ok: 1,
    };
  },

  update(command, db, { storage }) {
    const collection = storage.ensureCollection(db, collectionName(command, 'update'));
    const options = mingoOptions(storage, db);
    const ordered = command.ordered !== false;
    const writeErrors: Document[] = [];
    const upserted: Document[] = [];
    let n = 0;
    let nModified = 0;
    for (const [index, statement] of ((command.updates ?? []) as Document[]).entries()) {
      try {
        const arrayFilters = statement.arrayFilters as Document[] | undefined;
        let targets = match(collection, statement.q as Document, storage, db);
        if (!statement.multi) targets = targets.slice(0, 1);
        if (targets.length === 0 && statement.upsert) {
          const doc = withId(updatedCopy(upsertSeed(statement.q as Document), statement.u, arrayFilters, true, options));
          collection.insert(doc);
          n += 1;
          upserted.push({ index, _id: doc._id });
          continue;
        }
        for (const target of targets) {
          const next = updatedCopy(target, statement.u, arrayFilters, false, options);
          n += 1;
          if (sameValue(next, target)) continue;
          collection.replace(target, next);
          nModified += 1;
        }
      } catch (error) {
        writeErrors.push(writeError(index, error));
        if (ordered) break;
      }
    }
    return {
      n,
      nModified,
      ...(upserted.length > 0 ? { upserted } : {}),
      ...(writeErrors.length > 0 ? { writeErrors } : {}),
      ok: 1,
    };
  },

  delete(command, db, { storage }) {
    const collection = storage.collection(db, collectionName(command, 'delete'));
    let n = 0;
    for (const statement of (command.deletes ?? []) as Document[]) {
      let targets = match(collection, statement.q as Document, storage, db);
      if (statement.limit === 1) targets = targets.slice(0, 1);
      for (const target of targets) collection!.remove(target);
      n += targets.length;
    }
    return { n, ok: 1 };
  },

  findAndModify(command, db, { storage }) {
    const collection = storage.ensureCollection(db, collectionName(command, 'findAndModify'));
    const options = mingoOptions(storage, db);
    let candidates = match(collection, command.query as Document, storage, db);
    const sort = sortSpec(command.sort);
    if (sort) candidates = sortDocuments(candidates, sort);
    const target = candidates[0];
    const fields = isPlainObject(command.fields) && Object.keys(command.fields).length > 0 ? command.fields : undefined;
    const shape = (doc: Document | undefined) =>
      doc === undefined ? null : fields ? runEngine(() => new Query({}, options).find<Document>([doc], fields).all()[0] ?? null) : doc;
    const arrayFilters = command.arrayFilters as Document[] | undefined;

    if (command.remove) {
      if (target) collection.remove(target);
      return { lastErrorObject: { n: target ? 1 : 0 }, value: shape(target), ok: 1 };
    }
    if (command.update === undefined) throw new CommandError(9, 'FailedToParse', 'Either an update or remove=true must be specified');
    if (!target) {
      if (!command.upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
      const doc = withId(updatedCopy(upsertSeed(command.query as Document), command.update, arrayFilters, true, options));
      collection.insert(doc);
      return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id }, value: command.new ? shape(doc) : null, ok: 1 };
    }
    const next = updatedCopy(target, command.update, arrayFilters, false, options);
    if (!sameValue(next, target)) collection.replace(target, next);
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: shape(command.new ? next : target), ok: 1 };
  },

  count(command, db, { storage }) {
    const collection = storage.collection(db, collectionName(command, 'count'));
    let docs = match(collection, command.query as Document | undefined, storage, db);
    if (typeof command.skip === 'number' && command.skip > 0) docs = docs.slice(command.skip);
    if (typeof command.limit === 'number' && command.limit !== 0) docs = docs.slice(0, Math.abs(command.limit));
    return { n: docs.length, ok: 1 };
  },

  aggregate(command, db, context) {
    const pipeline = (command.pipeline ?? []) as Document[];
    const unsupported = pipeline.map((stage) => Object.keys(stage)[0]).find((stage) => stage === '$out' || stage === '$merge');
    if (unsupported) throw new CommandError(59, 'CommandNotFound', `the stand-in does not support ${unsupported}`);
    const name = typeof command.aggregate === 'string' ? command.aggregate : '$cmd.aggregate';
    const source = typeof command.aggregate === 'string' ? (context.storage.collection(db, name)?.documents ?? []) : [];
    const docs = runEngine(() => new Aggregator(pipeline, mingoOptions(context.storage, db)).run(source));
    const cursor = isPlainObject(command.cursor) ? command.cursor : {};
    return cursorReply(context, `${db}.${name}`, docs, cursor.batchSize, false);
  },

  create(command, db, { storage }) {
    const name = collectionName(command, 'create');
    if (storage.collection(db, name)) throw new CommandError(48, 'NamespaceExists', `Collection ${db}.${name} already exists.`);
    storage.ensureCollection(db, name);
    return { ok: 1 };
  },

  createIndexes(command, db, { storage }) {
    const name = collectionName(command, 'createIndexes');
    const existed = storage.collection(db, name) !== undefined;
    const collection = storage.ensureCollection(db, name);
    const before = collection.indexes.length;
    for (const index of (command.indexes ?? []) as Document[]) {
      if (!isPlainObject(index.key) || typeof index.name !== 'string') {
        throw new CommandError(9, 'FailedToParse', 'each index needs a key document and a name');
      }
      const spec: IndexSpec = { name: index.name, key: index.key, unique: index.unique === true, sparse: index.sparse === true };
      if (isPlainObject(index.partialFilterExpression)) spec.partialFilterExpression = index.partialFilterExpression;
      collection.addIndex(spec);
    }
    return {
      numIndexesBefore: before,
      numIndexesAfter: collection.indexes.length,
      createdCollectionAutomatically: !existed,
      ...(before === collection.indexes.length ? { note: 'all indexes already exist' } : {}),
      ok: 1,
    };
  },

  listIndexes(command, db, context) {
    const name = collectionName(command, 'listIndexes');
    const collection = context.storage.collection(db, name);
    if (!collection) throw new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${db}.${name}`);
    const docs = collection.indexes.map((index) => ({
      v: 2,
      key: index.key,
      name: index.name,
      ...(index.unique && index.name !== '_id_' ? { unique: true } : {}),
      ...(index.sparse ? { sparse: true } : {}),
      ...(index.partialFilterExpression ? { partialFilterExpression: index.partialFilterExpression } : {}),
    }));
    const cursor = isPlainObject(command.cursor) ? command.cursor : {};
    return cursorReply(context, `${db}.$cmd.listIndexes.${name}`, docs, cursor.batchSize, false);
  },

  dropIndexes(command, db, { storage }) {
    const name = collectionName(command, 'dropIndexes');
    const collection = storage.collection(db, name);
    if (!collection) throw new CommandError(26, 'NamespaceNotFound', `ns not found ${db}.${name}`);
    const before = collection.indexes.length;
    const requested = command.index;
    const names = requested === '*'
      ? collection.indexes.map((index) => index.name).filter((indexName) => indexName !== '_id_')
      : Array.isArray(requested) ? (requested as string[]) : [String(requested)];
    for (const indexName of names) collection.dropIndex(indexName);
    return { nIndexesWas: before, ok: 1 };
  },

  listCollections(command, db, context) {
    const filter = isPlainObject(command.filter) ? command.filter : {};
    const all = context.storage.collections(db).map((collection) => ({
      name: collection.name,
      type: 'collection',
      options: {},
      info: { readOnly: false },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    }));
    const docs = Object.keys(filter).length > 0 ? runEngine(() => new Query(filter, {}).find<Document>(all).all()) : all;
    const shaped = command.nameOnly ? docs.map((doc) => ({ name: doc.name, type: doc.type })) : docs;
    const cursor = isPlainObject(command.cursor) ? command.cursor : {};
    return cursorReply(context, `${db}.$cmd.listCollections`, shaped, cursor.batchSize, false);
  },

  listDatabases(command, _db, { storage }) {
    const databases = storage.databaseNames().map((name) => ({ name, sizeOnDisk: 0, empty: false }));
    return command.nameOnly ? { databases: databases.map(({ name }) => ({ name })), ok: 1 } : { databases, totalSize: 0, ok: 1 };
  },

  drop(command, db, { storage }) {
    const name = collectionName(command, 'drop');
    const collection = storage.collection(db, name);
    storage.dropCollection(db, name);
    // Servers since 7.0 answer ok for a missing collection too.
    return { nIndexesWas: collection?.indexes.length ?? 0, ns: `${db}.${name}`, ok: 1 };
  },

  dropDatabase(_command, db, { storage }) {
    storage.dropDatabase(db);
    return { dropped: db, ok: 1 };
  },
};

/** Authentication and replica-set role checks, in mongod's order; an error reply or undefined. */
function admission(verb: string, command: Document, context: CommandContext): Document | undefined {
  const auth = context.auth;
  if (auth && auth.authority.enabled && !auth.state.authenticated && !UNAUTHENTICATED_COMMANDS.has(verb)) {
    return { ok: 0, errmsg: `Command ${verb} requires authentication`, code: 13, codeName: 'Unauthorized' };
  }
  const member = context.member;
  if (!member || member.isPrimary()) return undefined;
  if (WRITE_COMMANDS.has(verb)) {
    return {
      ok: 0,
      errmsg: 'not primary',
      code: 10107,
      codeName: 'NotWritablePrimary',
      // mongod (4.4+) labels the errors of retryable writes that the client may retry.
      ...(command.txnNumber !== undefined ? { errorLabels: ['RetryableWriteError'] } : {}),
    };
  }
  const mode = isPlainObject(command.$readPreference) ? command.$readPreference.mode : undefined;
  if (READ_COMMANDS.has(verb) && (mode === undefined || mode === 'primary')) {
    return { ok: 0, errmsg: 'not primary and secondaryOk=false', code: 13435, codeName: 'NotPrimaryNoSecondaryOk' };
  }
  return undefined;
}

/** mongod expires these with their session (30 min); the stand-in keeps the newest 10 000. */
function rememberRetryableWrite(store: Map<string, Document>, key: string, reply: Document): void {
  store.set(key, reply);
  if (store.size > 10_000) store.delete(store.keys().next().value!);
}

function retryableWriteKey(verb: string, command: Document, context: CommandContext): string | undefined {
  if (!context.member || !RETRYABLE_WRITE_COMMANDS.has(verb) || command.txnNumber === undefined || !isPlainObject(command.lsid)) return undefined;
  const id = command.lsid.id as { buffer?: Uint8Array } | undefined;
  if (!id?.buffer) return undefined;
  return `${Buffer.from(id.buffer).toString('hex')}:${String(command.txnNumber)}`;
}

/** Runs one command; never throws: failures become { ok: 0 } replies as the server sends them. */
export function runCommand(command: Document, context: CommandContext, fallbackDb: string | undefined): Document {
  const verb = Object.keys(command)[0];
  const db = typeof command.$db === 'string' ? command.$db : (fallbackDb ?? 'admin');
  const handler = verb === undefined ? undefined : handlers[verb];
  if (!handler) {
    return { ok: 0, errmsg: `no such command: '${verb}' (not supported by the MongoDB stand-in)`, code: 59, codeName: 'CommandNotFound' };
  }
  try {
    const refusal = admission(verb!, command, context);
    if (refusal) return refusal;
    const retryKey = retryableWriteKey(verb!, command, context);
    const stored = retryKey === undefined ? undefined : context.member?.retryableWrites.get(retryKey);
    if (stored) return stored;
    const reply = handler(command, db, context);
    if (retryKey !== undefined && reply.ok === 1) rememberRetryableWrite(context.member!.retryableWrites, retryKey, reply);
    return reply;
  } catch (error) {
    if (error instanceof CommandError) return errorReply(error);
    return { ok: 0, errmsg: `stand-in internal error: ${(error as Error).message}`, code: 1, codeName: 'InternalError' };
  }
}
