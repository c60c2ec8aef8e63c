// Identity: one person is one user whatever form their name takes; characters that hide or disguise
// text are refused with a 400 naming the field; users stored under older rules are migrated at start-up
// without loss; the unique indexes are ensured on every (re)connection, and readiness fails without them.
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { emailKey, textProblem, usernameKey } from '../../apps/users-api/src/identity.ts';
import { acquireTestMongo, availableMongoTargets, mongoTargetTitle } from '../support/test-mongo.ts';
import type { MongoTarget, TestMongo } from '../support/test-mongo.ts';
import { eventually, newUser, problemOf, startTestApi } from './harness.ts';
import type { TestApi } from './harness.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(target: MongoTarget): Promise<{ mongo: TestMongo; api: TestApi; client: MongoClient }> {
  const mongo = await acquireTestMongo({ target });
  cleanups.push(() => mongo.release());
  const client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 5000 });
  cleanups.push(() => client.close());
  const api = await startTestApi(mongo);
  cleanups.push(() => api.server.stop());
  await api.server.databaseReady;
  return { mongo, api, client };
}

describe('identity keys (pure)', () => {
  it.each([
    ['Jos\u00e9', 'Jose\u0301'], // NFC and NFD
    ['Alice', 'alice'],
    ['\uff41\uff4c\uff49\uff43\uff45', 'alice'], // full-width
    ['\u212bngstr\u00f6m', '\u00c5ngstr\u00f6m'], // ANGSTROM SIGN vs Å
  ])('%j and %j are one username', (a, b) => {
    expect(usernameKey(a)).toBe(usernameKey(b));
  });

  it('e-mail addresses are one address whatever their case', () => {
    expect(emailKey('Case@X.com')).toBe(emailKey('case@x.com'));
  });

  it.each([
    ['name', 'a\ud800b', /lone UTF-16 surrogate/],
    ['name', 'a\u0000b', /control character U\+0000/],
    ['name', 'bell\u0007', /control character U\+0007/],
    ['name', 'evil\u202egnp.exe', /bidirectional control character U\+202E/],
    ['name', '\u2066isolate', /bidirectional control/],
    ['name', ' \u3000\u00a0 ', /visible character/],
    ['name', '\u200b\u200b', /visible character/],
    ['username', 'a\u200bb', /invisible character U\+200B/],
    ['username', 'two words', /white space/],
    ['username', 'p\u0430ypal', /mixes letters of Cyrillic and Latin/],
    ['email', 'a\u00adb@example.com', /invisible character U\+00AD/],
  ] as const)('%s %j is refused: %s', (field, value, reason) => {
    expect(textProblem(field, value)).toMatch(reason);
  });

  it.each([
    ['name', 'Zoë 👩‍👩‍👧 O\u2019Brien'],
    ['name', 'مريم'],
    ['username', '山田たろう'],
    ['username', 'jos\u00e9-42'],
    ['username', 'юля'],
  ] as const)('%s %j is accepted', (field, value) => {
    expect(textProblem(field, value)).toBeUndefined();
  });
});

for (const target of availableMongoTargets()) {
  describe(`users API identity rules ${mongoTargetTitle(target)}`, () => {
    it.each([
      ['NFC and NFD usernames', { username: 'Jos\u00e9' }, { username: 'Jose\u0301' }, 'username'],
      ['usernames differing in case', { username: 'Alice' }, { username: 'aLICE' }, 'username'],
      ['full-width and plain usernames', { username: '\uff41\uff4c\uff49' }, { username: 'ali' }, 'username'],
      ['e-mails differing in case', { email: 'Case@X.com' }, { email: 'case@x.com' }, 'email'],
    ])('%s are one user: the second POST is 409, the first keeps what was typed', async (_what, first, second, field) => {
      const { api } = await setUp(target);
      const created = await api.send('POST', '/users', { ...newUser('id'), ...first });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject(first);
      const twin = await api.send('POST', '/users', { ...newUser('id'), ...second });
      expect(twin.status).toBe(409);
      expect((await problemOf(twin)).detail).toContain(field);
    });

    it('a PATCH cannot create a twin either', async () => {
      const { api } = await setUp(target);
      expect((await api.send('POST', '/users', { ...newUser('p'), email: 'Case@X.com' })).status).toBe(201);
      const other = (await (await api.send('POST', '/users', newUser('p'))).json()) as { _id: string };
      const patched = await api.send('PATCH', `/users/${other._id}`, { email: 'CASE@x.COM' });
      expect(patched.status).toBe(409);
      expect((await problemOf(patched)).detail).toContain('email');
    });

    it.each([
      ['name', '"a\\ud800b"'],
      ['name', '"nul\\u0000"'],
      ['username', '"right\\u202eleft"'],
      ['username', '"   "'],
      ['username', '"zero\\u200bwidth"'],
      ['name', '"\\u2067"'],
    ])('a %s of %s is refused with a 400 naming the field', async (field, json) => {
      const { api } = await setUp(target);
      const body = JSON.stringify(newUser('c')).replace(new RegExp(`"${field}":"[^"]*"`), `"${field}":${json}`);
      const response = await api.send('POST', '/users', body);
      expect(response.status).toBe(400);
      const problem = await problemOf(response);
      expect(problem.errors).toEqual([expect.objectContaining({ pointer: `/${field}` })]);
    });

    it('a lone surrogate no longer makes a later username collide falsely', async () => {
      const { api } = await setUp(target);
      expect((await api.send('POST', '/users', JSON.stringify({ ...newUser('s'), username: 'x' }).replace('"x"', '"a\\ud800"'))).status).toBe(400);
      expect((await api.send('POST', '/users', { ...newUser('s'), username: 'a\ufffd' })).status).toBe(201);
    });
  });
}

describe('users stored under older rules (stand-in)', () => {
  it('are migrated at start-up without losing one: twins are kept, marked and reported', async () => {
    const mongo = await acquireTestMongo({ target: 'stand-in' });
    cleanups.push(() => mongo.release());
    const client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 5000 });
    cleanups.push(() => client.close());
    // What the previous API version stored: raw fields only, with the old indexes on them.
    const users = client.db(mongo.dbName).collection('users');
    await users.createIndexes([
      { key: { username: 1 }, name: 'username_unique', unique: true },
      { key: { email: 1 }, name: 'email_unique', unique: true },
    ]);
    const old = [
      { name: 'A', username: 'Jos\u00e9', email: 'jose@example.com' },
      { name: 'B', username: 'Jose\u0301', email: 'jose2@example.com' },
      { name: 'C', username: 'case', email: 'Case@X.com' },
      { name: 'D', username: 'case2', email: 'case@x.com' },
    ];
    for (const doc of old) await users.insertOne({ ...doc });

    const api = await startTestApi(mongo);
    cleanups.push(() => api.server.stop());
    await api.server.databaseReady;

    const listed = (await (await api.send('GET', '/users?limit=5')).json()) as Array<Record<string, string>>;
    expect(listed.map(({ name, username, email }) => ({ name, username, email }))).toEqual(old);
    const stored = await users.find({}).sort({ _id: 1 }).toArray();
    expect(stored.map((doc) => doc.usernameKey)).toEqual([usernameKey('José'), expect.stringContaining('\u0000conflict:'), 'case', 'case2']);
    expect(stored.map((doc) => doc.emailKey)).toEqual(['jose@example.com', 'jose2@example.com', 'case@x.com', expect.stringContaining('\u0000conflict:')]);
    const warnings = api.logs.records().filter((r) => r.level === 'warn' || r.level === 40);
    expect(warnings.map((r) => r.field)).toEqual(['username', 'email']);
    // The twins are still reachable by id, and the rule now holds for new users.
    expect((await api.send('GET', `/users/${String(stored[1]?._id)}`)).status).toBe(200);
    expect((await api.send('POST', '/users', { ...newUser('m'), username: 'JOSÉ' })).status).toBe(409);
    // A second start changes nothing.
    const again = await startTestApi(mongo);
    cleanups.push(() => again.server.stop());
    await again.server.databaseReady;
    expect(again.logs.lines.join('\n')).not.toContain('identity keys added');
  });
});

describe('unique indexes are ensured, not assumed (stand-in)', () => {
  it('after the database comes back empty while connected, readiness fails until they exist and the same user is still refused twice', async () => {
    const { mongo, api, client } = await setUp('stand-in');
    await client.db(mongo.dbName).dropDatabase();
    const report = await fetch(api.url('/readyz'));
    expect(report.status).toBe(503);
    expect(await report.json()).toMatchObject({ status: 'not ready', reason: expect.stringContaining('unique indexes missing') });
    await eventually(async () => ((await fetch(api.url('/readyz'))).status === 200 ? true : undefined), 5000, '/readyz to turn 200');
    const user = newUser('e');
    expect((await api.send('POST', '/users', user)).status).toBe(201);
    expect((await api.send('POST', '/users', user)).status).toBe(409);
  });

  it('after the replica set is replaced by an empty one, the API re-creates them on reconnection before accepting writes', async () => {
    const { mongo, api, client } = await setUp('stand-in');
    await mongo.standIn!.replaceWithEmptySet();
    // The driver learns of the loss from the next operation (its monitors poll every 10 s).
    await fetch(api.url('/users'));
    await eventually(async () => (api.logs.records().some((r) => r.msg === 'unique indexes in place' && r.why !== 'connected') ? true : undefined), 10_000, 'indexes re-ensured');
    const indexes = (await client.db(mongo.dbName).collection('users').listIndexes().toArray()).map((index) => index.name);
    expect(indexes).toEqual(expect.arrayContaining(['username_key_unique', 'email_key_unique']));
    const user = newUser('r');
    await eventually(async () => ((await api.send('POST', '/users', user)).status === 201 ? true : undefined), 5000, 'a write to succeed');
    expect((await api.send('POST', '/users', user)).status).toBe(409);
  });
});
