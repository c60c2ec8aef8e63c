// The official driver against the stand-in, and against the real server too when MONGODB_URI is set:
// the same assertions on both keep the stand-in honest. Assert codes and shapes, never server messages.
import { MongoBulkWriteError, MongoClient, MongoServerError, ObjectId } from 'mongodb';
import type { CommandStartedEvent, Db } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireTestMongo, availableMongoTargets, mongoTargetTitle } from '../support/test-mongo.ts';
import type { TestMongo } from '../support/test-mongo.ts';

const DUPLICATE_KEY = 11000;

const targets = availableMongoTargets().map((target) => [mongoTargetTitle(target), target] as const);

describe.each(targets)('official mongodb driver %s', (_title, target) => {
  let mongo: TestMongo;
  let client: MongoClient;
  let db: Db;
  const started: CommandStartedEvent[] = [];

  beforeAll(async () => {
    mongo = await acquireTestMongo({ target });
    client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 5_000, monitorCommands: true });
    client.on('commandStarted', (event) => started.push(event));
    await client.connect();
    db = client.db(mongo.dbName);
  });

  afterAll(async () => {
    await client?.close();
    await mongo?.release();
  });

  beforeEach(async () => {
    started.length = 0;
    for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) await db.collection(name).drop();
  });

  it(`runs against the labelled target ${mongoTargetTitle(target)}`, () => {
    expect(mongo.label).toBe(target);
  });

  it('round-trips a document with its ObjectId and field order', async () => {
    const users = db.collection('users');
    const { insertedId } = await users.insertOne({ name: 'test-name', username: 'test-username', email: 'username@email.com' });
    const found = await users.findOne({ _id: insertedId });
    expect(found).toEqual({ _id: insertedId, name: 'test-name', username: 'test-username', email: 'username@email.com' });
    expect(Object.keys(found!)[0]).toBe('_id');
    expect(insertedId.toHexString()).toMatch(/^[0-9a-f]{24}$/);
  });

  it('updates, replaces and deletes documents, reporting matched and modified counts', async () => {
    const users = db.collection('users');
    await users.insertMany([{ username: 'a', n: 1 }, { username: 'b', n: 2 }, { username: 'c', n: 3 }]);
    const many = await users.updateMany({ n: { $gte: 2 } }, { $inc: { n: 10 }, $set: { tag: 'x' } });
    expect([many.matchedCount, many.modifiedCount]).toEqual([2, 2]);
    const unchanged = await users.updateOne({ username: 'a' }, { $set: { n: 1 } });
    expect([unchanged.matchedCount, unchanged.modifiedCount]).toEqual([1, 0]);
    await users.replaceOne({ username: 'a' }, { username: 'a', replaced: true });
    expect(await users.findOne({ username: 'a' }, { projection: { _id: 0 } })).toEqual({ username: 'a', replaced: true });
    expect((await users.deleteOne({ n: { $gt: 10 } })).deletedCount).toBe(1);
    expect((await users.deleteMany({})).deletedCount).toBe(2);
    expect(await users.countDocuments()).toBe(0);
  });

  it('upserts with $setOnInsert only when inserting', async () => {
    const users = db.collection('users');
    const first = await users.updateOne({ username: 'u' }, { $set: { n: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(first.upsertedCount).toBe(1);
    const second = await users.updateOne({ username: 'u' }, { $set: { n: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    expect([second.upsertedCount, second.matchedCount]).toEqual([0, 1]);
    expect(await users.findOne({ username: 'u' }, { projection: { _id: 0 } })).toEqual({ username: 'u', n: 2, created: true });
  });

  it('rejects a duplicate on a unique index with code 11000, keyPattern and keyValue', async () => {
    const users = db.collection('users');
    await users.createIndex({ username: 1 }, { unique: true });
    await users.insertOne({ username: 'taken' });
    const error = await users.insertOne({ username: 'taken' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(DUPLICATE_KEY);
    expect((error as MongoServerError).keyPattern).toEqual({ username: 1 });
    expect((error as MongoServerError).keyValue).toEqual({ username: 'taken' });
    // The API maps duplicates by code; the prefix is checked once here because drivers and tools grep for it.
    expect((error as MongoServerError).errmsg).toMatch(/^E11000 duplicate key error/);
    expect(await users.countDocuments({ username: 'taken' })).toBe(1);
  });

  it('enforces unique indexes on update, upsert and findOneAndUpdate too', async () => {
    const users = db.collection('users');
    await users.createIndex({ email: 1 }, { unique: true });
    await users.insertMany([{ email: 'a@x.test' }, { email: 'b@x.test' }]);
    const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: MongoServerError) => e.code);
    expect(await codeOf(users.updateOne({ email: 'b@x.test' }, { $set: { email: 'a@x.test' } }))).toBe(DUPLICATE_KEY);
    expect(await codeOf(users.findOneAndUpdate({ email: 'b@x.test' }, { $set: { email: 'a@x.test' } }))).toBe(DUPLICATE_KEY);
    expect(await codeOf(users.updateOne({ email: 'c@x.test' }, { $set: { email: 'a@x.test' } }, { upsert: true }))).toBe(DUPLICATE_KEY);
    expect(await users.find({}, { projection: { _id: 0 } }).sort({ email: 1 }).toArray()).toEqual([{ email: 'a@x.test' }, { email: 'b@x.test' }]);
  });

  it('enforces a compound unique index on the combination only', async () => {
    const members = db.collection('members');
    await members.createIndex({ team: 1, user: 1 }, { unique: true });
    await members.insertMany([{ team: 't1', user: 'u1' }, { team: 't1', user: 'u2' }, { team: 't2', user: 'u1' }]);
    const error = await members.insertOne({ team: 't1', user: 'u1' }).catch((e: MongoServerError) => e);
    expect((error as MongoServerError).code).toBe(DUPLICATE_KEY);
    expect((error as MongoServerError).keyValue).toEqual({ team: 't1', user: 'u1' });
  });

  it('treats a missing field as null in a unique index, unless the index is sparse', async () => {
    const plain = db.collection('plain');
    await plain.createIndex({ email: 1 }, { unique: true });
    await plain.insertOne({ name: 'no email' });
    const error = await plain.insertOne({ name: 'no email either' }).catch((e: MongoServerError) => e);
    expect((error as MongoServerError).code).toBe(DUPLICATE_KEY);
    const sparse = db.collection('sparse');
    await sparse.createIndex({ email: 1 }, { unique: true, sparse: true });
    await sparse.insertMany([{ name: 'a' }, { name: 'b' }, { email: 'x@x.test' }]);
    expect(await sparse.countDocuments()).toBe(3);
  });

  it('enforces a partial unique index only on the documents it covers, and stops once dropped', async () => {
    const accounts = db.collection('accounts');
    await accounts.createIndex({ email: 1 }, { unique: true, partialFilterExpression: { active: true }, name: 'active_email' });
    await accounts.insertMany([{ email: 'a@x.test', active: false }, { email: 'a@x.test', active: false }, { email: 'a@x.test', active: true }]);
    const error = await accounts.insertOne({ email: 'a@x.test', active: true }).catch((e: MongoServerError) => e);
    expect((error as MongoServerError).code).toBe(DUPLICATE_KEY);
    await accounts.dropIndex('active_email');
    await accounts.insertOne({ email: 'a@x.test', active: true });
    expect(await accounts.countDocuments({ active: true })).toBe(2);
  });

  it('refuses to create a unique index over existing duplicates', async () => {
    const users = db.collection('users');
    await users.insertMany([{ username: 'same' }, { username: 'same' }]);
    const error = await users.createIndex({ username: 1 }, { unique: true }).catch((e: MongoServerError) => e);
    expect((error as MongoServerError).code).toBe(DUPLICATE_KEY);
    expect((await users.listIndexes().toArray()).map((index) => index.name)).toEqual(['_id_']);
  });

  it('lets exactly one of many concurrent duplicate inserts succeed', async () => {
    const users = db.collection('users');
    await users.createIndex({ username: 1 }, { unique: true });
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => users.insertOne({ username: 'race' })));
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(rejected.map((result) => (result.reason as MongoServerError).code)).toEqual(Array(11).fill(DUPLICATE_KEY));
    expect(await users.countDocuments({ username: 'race' })).toBe(1);
  });

  it('stops an ordered insertMany at the first duplicate and reports its index', async () => {
    const users = db.collection('users');
    await users.createIndex({ username: 1 }, { unique: true });
    const docs = [{ username: 'a' }, { username: 'b' }, { username: 'a' }, { username: 'c' }];
    const error = await users.insertMany(docs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    const bulk = error as MongoBulkWriteError;
    expect(bulk.insertedCount).toBe(2);
    expect(bulk.writeErrors).toMatchObject([{ index: 2, code: DUPLICATE_KEY }]);
    expect(await users.countDocuments()).toBe(2);
  });

  it('continues an unordered insertMany past duplicates', async () => {
    const users = db.collection('users');
    await users.createIndex({ username: 1 }, { unique: true });
    const docs = [{ username: 'a' }, { username: 'a' }, { username: 'b' }, { username: 'b' }];
    const error = (await users.insertMany(docs, { ordered: false }).catch((e: unknown) => e)) as MongoBulkWriteError;
    expect(error.writeErrors).toMatchObject([{ index: 1, code: DUPLICATE_KEY }, { index: 3, code: DUPLICATE_KEY }]);
    expect(await users.countDocuments()).toBe(2);
  });

  it('pages a result set through several getMore batches', async () => {
    const items = db.collection('items');
    await items.insertMany(Array.from({ length: 95 }, (_, n) => ({ n })));
    const seen = await items.find({ n: { $gte: 10 } }).sort({ n: 1 }).batchSize(20).toArray();
    expect(seen.map((doc) => doc.n)).toEqual(Array.from({ length: 85 }, (_, i) => i + 10));
    expect(started.filter((event) => event.commandName === 'getMore')).toHaveLength(4);
  });

  it('applies sort, skip, limit and projection together', async () => {
    const items = db.collection('items');
    await items.insertMany([5, 3, 9, 1, 7].map((n) => ({ n, name: `item-${n}` })));
    const page = await items.find({}, { projection: { _id: 0, name: 1 } }).sort({ n: -1 }).skip(1).limit(3).toArray();
    expect(page).toEqual([{ name: 'item-7' }, { name: 'item-5' }, { name: 'item-3' }]);
  });

  it('sorts mixed value types in MongoDB order, missing fields with null, and by several keys', async () => {
    const items = db.collection('items');
    const oid = new ObjectId();
    const date = new Date('2024-01-01T00:00:00Z');
    await items.insertMany([
      { tag: 'date', v: date }, { tag: 'true', v: true }, { tag: 'oid', v: oid }, { tag: 'obj', v: { a: 1 } },
      { tag: 'str', v: 'abc' }, { tag: 'num', v: 2.5 }, { tag: 'neg', v: -3 }, { tag: 'null', v: null }, { tag: 'missing' },
    ]);
    const ascending = (await items.find({}).sort({ v: 1, tag: 1 }).toArray()).map((doc) => doc.tag);
    expect(ascending).toEqual(['missing', 'null', 'neg', 'num', 'str', 'obj', 'oid', 'true', 'date']);
    const descending = (await items.find({}).sort({ v: -1, tag: -1 }).toArray()).map((doc) => doc.tag);
    expect(descending).toEqual(['date', 'true', 'oid', 'obj', 'str', 'num', 'neg', 'null', 'missing']);
  });

  it('pages by _id cursor with $gt and limit, as keyset pagination does', async () => {
    const items = db.collection('items');
    await items.insertMany(Array.from({ length: 7 }, (_, n) => ({ n })));
    const first = await items.find({}).sort({ _id: 1 }).limit(3).toArray();
    const next = await items.find({ _id: { $gt: first.at(-1)!._id } }).sort({ _id: 1 }).limit(3).toArray();
    expect([...first, ...next].map((doc) => doc.n)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('returns the document before or after findOneAndUpdate, and null when nothing matches', async () => {
    const users = db.collection('users');
    await users.insertOne({ username: 'f', n: 1 });
    const before = await users.findOneAndUpdate({ username: 'f' }, { $inc: { n: 1 } });
    const after = await users.findOneAndUpdate({ username: 'f' }, { $inc: { n: 1 } }, { returnDocument: 'after' });
    expect([before?.n, after?.n]).toEqual([1, 3]);
    expect(await users.findOneAndUpdate({ username: 'none' }, { $set: { n: 0 } })).toBeNull();
    const removed = await users.findOneAndDelete({ username: 'f' });
    expect(removed?.n).toBe(3);
    expect(await users.countDocuments()).toBe(0);
  });

  it('runs an aggregation pipeline and counts documents', async () => {
    const items = db.collection('items');
    await items.insertMany([{ kind: 'a', v: 1 }, { kind: 'b', v: 2 }, { kind: 'a', v: 3 }]);
    const groups = await items.aggregate([{ $group: { _id: '$kind', total: { $sum: '$v' } } }, { $sort: { _id: 1 } }]).toArray();
    expect(groups).toEqual([{ _id: 'a', total: 4 }, { _id: 'b', total: 2 }]);
    expect(await items.countDocuments({ kind: 'a' })).toBe(2);
    expect(await items.estimatedDocumentCount()).toBe(3);
  });

  it('lists the indexes it created, unique flag included', async () => {
    const users = db.collection('users');
    await users.createIndexes([{ key: { username: 1 }, unique: true }, { key: { email: 1 }, unique: true, name: 'email_unique' }]);
    const indexes = await users.listIndexes().toArray();
    expect(indexes.map(({ name, key, unique }) => ({ name, key, unique }))).toEqual([
      { name: '_id_', key: { _id: 1 }, unique: undefined },
      { name: 'username_1', key: { username: 1 }, unique: true },
      { name: 'email_unique', key: { email: 1 }, unique: true },
    ]);
  });

  it('refuses to change _id with ImmutableField (66)', async () => {
    const users = db.collection('users');
    const { insertedId } = await users.insertOne({ username: 'id' });
    const error = await users.updateOne({ _id: insertedId }, { $set: { _id: 'other' } }).catch((e: MongoServerError) => e);
    expect((error as MongoServerError).code).toBe(66);
    expect(await users.countDocuments({ _id: insertedId })).toBe(1);
  });

  it('answers an unknown command with CommandNotFound (59)', async () => {
    const error = await db.command({ noSuchCommandHere: 1 }).catch((e: MongoServerError) => e);
    expect((error as MongoServerError).code).toBe(59);
  });

  it('answers ping', async () => {
    expect(await db.command({ ping: 1 })).toMatchObject({ ok: 1 });
  });
});
