// Hostile clients against the users API over real HTTP: random and malicious bodies, headers, ids and
// query strings. Whatever arrives, the API answers a problem+json 4xx (or a success for valid input),
// never a 500, never stores an operator or a `$`/dotted key, never pollutes Object.prototype, and stays up.
import fc from 'fast-check';
import { MongoClient } from 'mongodb';
import { identityFieldErrors } from '../../apps/users-api/src/identity.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { acquireTestMongo, describeMongo } from '../support/test-mongo.ts';
import type { TestMongo } from '../support/test-mongo.ts';
import { startTestApi } from '../api/harness.ts';
import type { TestApi } from '../api/harness.ts';
import { allKeys, rawRequest, recordFigures } from './support.ts';

const BODY_LIMIT = 65_536;
// A quarter of each full count by default, all of it with FUZZ_RUNS=full (test/support/property-runs.ts).
import { FUZZ_SEED, propertyRuns } from '../support/property-runs.ts';
const SEED = FUZZ_SEED;
const runs = propertyRuns;

let mongo: TestMongo;
let api: TestApi;
let client: MongoClient;
let tried = 0;
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  mongo = await acquireTestMongo();
  api = await startTestApi(mongo, { BODY_LIMIT_BYTES: String(BODY_LIMIT), PAGE_LIMIT_MAX: '500', PAGE_LIMIT_DEFAULT: '50' });
  await api.server.databaseReady;
  client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 2000 });
});

afterAll(async () => {
  recordFigures({ fuzzRequests: tried });
  await client?.close();
  await api?.server.stop();
  await mongo?.release();
});

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', '$gt', '$ne', '$where', '$set', '$regex', '$expr', '$function', 'a.b', 'name.first', '_id', '$', '', 'name', 'username', 'email'];
const OPERATOR_VALUES = ['{"$gt":""}', '{"$ne":null}', '{"$where":"sleep(1000) || true"}', '{"$regex":".*"}', '{"$function":{"body":"return 1","args":[],"lang":"js"}}', '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}', '["a","b"]', '[]', '{}', 'null', 'true', '0', '-1e309', '""'];

const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 12 }), fc.string({ maxLength: 8 }).map((s) => `$${s}`));
const scalarText = fc.oneof(
  fc.string({ maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s)),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.constantFrom('true', 'false', 'null', ...OPERATOR_VALUES),
);
/** JSON text built by hand, so keys such as "__proto__" appear literally, as a hostile client sends them. */
const { json: jsonText } = fc.letrec<{ json: string; array: string; object: string }>((tie) => ({
  json: fc.oneof({ depthSize: 'small' }, scalarText, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(hostileKey, tie('json')), { maxLength: 5 }).map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
}));

const plainText = (min: number, max: number) => fc.string({ minLength: min, maxLength: max });
const fieldText = fc.oneof(
  { weight: 3, arbitrary: plainText(1, 30).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.emailAddress().map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.constantFrom(...OPERATOR_VALUES) },
  { weight: 1, arbitrary: jsonText },
);
/** A user-shaped body where any field may be an operator object, wrong type or extra key. */
const userShapedBody = fc
  .record({ name: fieldText, username: fieldText, email: fieldText, extra: fc.option(fc.tuple(hostileKey, jsonText), { nil: undefined }) })
  .map(({ name, username, email, extra }) => {
    const pairs = [`"name":${name}`, `"username":${username}`, `"email":${email}`];
    if (extra) pairs.push(`${JSON.stringify(extra[0])}:${extra[1]}`);
    return `{${pairs.join(',')}}`;
  });
const deepBody = fc.tuple(fc.integer({ min: 100, max: 10_000 }), fc.constantFrom('[', '{"a":', '{"$gt":', '{"__proto__":')).map(([depth, open]) => {
  const close = open === '[' ? ']' : '}';
  const text = `${open.repeat(depth)}1${close.repeat(depth)}`;
  return text.length > BODY_LIMIT ? text.slice(0, BODY_LIMIT) : text;
});
const hugeStringBody = fc.integer({ min: 200, max: 60_000 }).map((n) => JSON.stringify({ name: 'x'.repeat(n), username: `huge-${n}`, email: `huge${n}@example.test` }));
/** Valid users whose string values look like operators or pollution keys: stored literally, as text. */
const hostileString = fc.oneof(fc.constantFrom('$gt', '$where', '{"$gt":""}', '__proto__', 'constructor', 'a.b', '$', "'; db.dropDatabase(); //"), plainText(1, 30));
const validUserHostileStrings = fc
  .tuple(hostileString, hostileString, fc.nat())
  .map(([name, username, n]) => JSON.stringify({ name, username: `${username.slice(0, 50)}-${n}`, email: `fuzz${n}@example.test` }));
const anyBody = fc.oneof(jsonText, userShapedBody, validUserHostileStrings, deepBody, hugeStringBody, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }));

const isProblem = (response: Response): boolean => (response.headers.get('content-type') ?? '').startsWith('application/problem+json');

async function expectClientError(response: Response, allowed: number[]): Promise<void> {
  tried += 1;
  expect(allowed, `status ${response.status}`).toContain(response.status);
  if (response.status >= 400) {
    expect(isProblem(response), `problem+json for ${response.status}`).toBe(true);
    const problem = (await response.json()) as { status?: unknown; detail?: unknown };
    expect(problem.status).toBe(response.status);
    // No stack traces or driver internals in what a client sees.
    expect(JSON.stringify(problem)).not.toMatch(/at .*\.ts:\d+|Mongo[A-Z]\w*Error|node_modules/);
  } else {
    await response.arrayBuffer();
  }
}

/** Exactly three string fields, and nothing else: the only bodies POST may accept. */
function isValidUserShape(text: string): boolean {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const keys = Object.keys(value).sort();
    return keys.join(',') === 'email,name,username' && Object.values(value).every((v) => typeof v === 'string');
  } catch {
    return false;
  }
}

describeMongo('users API under hostile input', () => {
  it('answers any POST body with 201 for a valid user or a problem+json 4xx, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const response = await api.send('POST', '/users', body);
        if (response.status === 201) {
          expect(isValidUserShape(body), `accepted ${body.slice(0, 200)}`).toBe(true);
          const stored = (await response.clone().json()) as Record<string, unknown>;
          const sent = JSON.parse(body) as Record<string, unknown>;
          expect({ name: stored.name, username: stored.username, email: stored.email }).toEqual({ name: sent.name, username: sent.username, email: sent.email });
        }
        await expectClientError(response, [201, 400, 409, 413]);
      }),
      runs(500),
    );
  });

  it('answers any PATCH body with 200, 404 or a problem+json 4xx, and never stores a non-string field', async () => {
    const created = await api.send('POST', '/users', { name: 'Patch Target', username: 'patch-target', email: 'patch-target@example.test' });
    const { _id: id } = (await created.json()) as { _id: string };
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const response = await api.send('PATCH', `/users/${id}`, body);
        await expectClientError(response, [200, 400, 409, 413]);
      }),
      runs(200),
    );
  });

  const contentType = fc.oneof(
    fc.constantFrom(
      'application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF8', 'application/json; charset=latin1',
      'application/json; charset=utf-16', 'application/json; charset', 'application/json;;;', 'application/merge-patch+json',
      'application/vnd.evil+json; charset="utf-8"', 'text/plain', 'text/json', 'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x', 'application/xml', '*/*', '', ' ', 'application/json, text/plain',
    ),
    fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => s.replace(/[\x00-\x1f\x7f]/g, '')),
  );
  const extraHeaders = fc.record(
    {
      'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'),
      'x-request-id': fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((s) => s.replace(/[\x00-\x1f\x7f]/g, '')), fc.constant('a'.repeat(5000))),
      accept: fc.constantFrom('application/xml', 'text/html', '*/*', 'application/problem+json'),
    },
    { requiredKeys: [] },
  );
  it('answers any content type, charset or odd header with a success or a problem+json 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(contentType, extraHeaders, fc.oneof(userShapedBody, jsonText), async (type, headers, body) => {
        const response = await api.send('POST', '/users', body, { ...headers, 'content-type': type });
        await expectClientError(response, [201, 400, 409, 413, 415]);
      }),
      runs(300),
    );
  });

  const hex24 = fc.stringMatching(/^[0-9a-fA-F]{24}$/);
  const anyId = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.constantFrom('$gt', '{"$gt":""}', '..', '/', '%2F', '%', '\u0000', 'null', 'undefined', '__proto__', 'constructor', 'a'.repeat(5000), 'Z'.repeat(24), '0'.repeat(25)),
    hex24,
  );
  it('answers any id on GET, PATCH and DELETE /users/<id> with 400 or 404 problem+json', async () => {
    await fc.assert(
      fc.asyncProperty(anyId, fc.constantFrom('GET', 'PATCH', 'DELETE'), async (id, method) => {
        fc.pre(id !== '');
        const response = await api.send(method, `/users/${encodeURIComponent(id)}`, method === 'PATCH' ? { name: 'x' } : undefined);
        await expectClientError(response, [400, 404]);
      }),
      runs(400),
    );
  });

  it.each([
    '/users/%', '/users/%E0%A4%A', '/users/%2F..%2F..%2Fetc%2Fpasswd', '/users/..%2f', '/users/a/b', '/users/%00', '/users/%24gt', '/users/;', '/users/%7B%22%24gt%22%3A%22%22%7D',
  ])('answers the raw path %s with a problem+json 4xx', async (path) => {
    const response = await rawRequest(api.server.port, [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    tried += 1;
    expect([400, 404]).toContain(response.status);
    expect(response.head).toMatch(/content-type: application\/problem\+json/i);
  });

  const queryKey = fc.oneof(
    fc.constantFrom('limit', 'after', 'limit[]', 'after[]', 'limit[$gt]', 'after[$ne]', '__proto__', '__proto__[polluted]', 'constructor[prototype][polluted]', 'limit.x', '$where'),
    fc.string({ maxLength: 10 }),
  );
  const queryValue = fc.oneof(
    fc.constantFrom('0', '1', '-1', '5', '500', '501', '1e3', '0x10', ' 1', '1 ', 'NaN', 'Infinity', '', '99999999999999999999', '{"$gt":""}', 'yes', '0'.repeat(24), 'f'.repeat(24), 'g'.repeat(24)),
    fc.nat().map(String),
    fc.string({ maxLength: 30 }),
    hex24,
  );
  it('answers any query string on GET /users with 200 and an array, or a 400 problem+json', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(queryKey, queryValue), { maxLength: 5 }), async (pairs) => {
        const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const response = await api.send('GET', `/users?${query}`);
        if (response.status === 200) {
          tried += 1;
          expect(Array.isArray(await response.json())).toBe(true);
        } else {
          await expectClientError(response, [400]);
        }
      }),
      runs(400),
    );
  });

  it('answers Content-Length lies and malformed framing with a 4xx or a closed connection, and keeps serving', async () => {
    const body = JSON.stringify({ name: 'Framing', username: 'framing', email: 'framing@example.test' });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -40, max: 40 }), async (delta) => {
        const length = Math.max(0, Buffer.byteLength(body) + delta);
        const response = await rawRequest(api.server.port, [`POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${body}`]);
        tried += 1;
        // 0: the server dropped the connection. A 400 may come from Node's HTTP parser (the client
        // half-closed before sending the promised bytes) before Express sees a request: it too must be
        // problem+json (the server's clientError handler).
        expect([0, 201, 400, 409]).toContain(response.status);
        if (response.status >= 400) expect(response.head).toMatch(/content-type: application\/problem\+json/i);
      }),
      runs(60),
    );
    const framings = [
      `POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{}`,
      `POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}`,
      `POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}`,
      `POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
      `POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`,
      `POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `GET /users HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
      `GET /users/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `BREW /users HTTP/1.1\r\nHost: x\r\n\r\n`,
      'garbage\r\n\r\n',
    ];
    for (const request of framings) {
      const response = await rawRequest(api.server.port, [request]);
      tried += 1;
      // Broken framing is rejected by Node's HTTP parser before Express: still a problem+json 4xx, never a 5xx.
      expect(response.status === 0 || (response.status >= 400 && response.status < 500), `${request.slice(0, 60)} → ${response.status}`).toBe(true);
      if (response.status >= 400) expect(response.head, request.slice(0, 60)).toMatch(/content-type: application\/problem\+json/i);
    }
    expect((await fetch(api.url('/healthz'))).status).toBe(200);
  });

  it('answers any method on any route with a success or a 4xx, never a 5xx', async () => {
    const method = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH', 'QUERY', 'get', 'BREW'), fc.stringMatching(/^[A-Z]{1,10}$/));
    const path = fc.constantFrom('/users', '/users/', '/users/0123456789abcdef01234567', '/healthz', '/readyz', '/metrics', '/openapi.json', '/', '/USERS', '/users/x/y', '/users/%2e%2e/', '/users?limit=1', '*', '/..', '//users');
    await fc.assert(
      fc.asyncProperty(method, path, async (m, p) => {
        const response = await rawRequest(api.server.port, [`${m} ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`]);
        tried += 1;
        expect(response.status === 0 || (response.status >= 200 && response.status < 500), `${m} ${p} → ${response.status}`).toBe(true);
        if (response.status >= 400) expect(response.head).toMatch(/content-type: application\/problem\+json/i);
      }),
      runs(150),
    );
  });

  it('refuses a body over the limit with 413 without reading it all', async () => {
    const response = await api.send('POST', '/users', 'x'.repeat(4 * BODY_LIMIT));
    await expectClientError(response, [413]);
  });

  it('never stores two users for two spellings of one identity (case, NFC/NFD, full-width), nor a lone surrogate', async () => {
    // Letters with and without precomposed accents, so NFD and case variants are real variants.
    const letter = fc.constantFrom(...'aeiouclnsxzAEIOUCLNS\u00e9\u00e8\u00e7\u00f1\u00fc\u00e5\u00c9\u00d1'.split(''));
    const spell = (text: string, how: number): string => {
      if (how === 0) return text.toUpperCase();
      if (how === 1) return text.normalize('NFD');
      if (how === 2) return text.toLowerCase().normalize('NFD').toUpperCase();
      // Full-width forms of the ASCII letters (U+FF21…), which NFKC maps back.
      return [...text].map((c) => (/[A-Za-z]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c)).join('');
    };
    let serial = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: letter, minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), async (stem, how, surrogate) => {
        serial += 1;
        tried += 2;
        const username = `${stem}${serial}`;
        const first = await api.send('POST', '/users', { name: `Twin ${serial}`, username, email: `twin-${serial}@example.test` });
        expect(first.status).toBe(201);
        const twin = spell(username, how);
        const body = JSON.stringify({ name: `Twin ${serial}b`, username: twin, email: `twin-${serial}b@example.test` });
        const second = await api.send('POST', '/users', surrogate ? body.replace('"name":"Twin', '"name":"\\ud800Twin') : body);
        // A lone surrogate is refused before the identity is even looked at; otherwise the twin is a 409.
        expect(second.status).toBe(surrogate ? 400 : 409);
      }),
      runs(60),
    );
  });

  it('stored nothing but users with three string fields and their identity keys: no operator, no $-prefixed or dotted key', async () => {
    const docs = await client.db(mongo.dbName).collection('users').find({}).toArray();
    // Enough accepted users that the check means something, some of them with operator-looking text.
    expect(docs.length).toBeGreaterThan(20);
    expect(docs.some((d) => String(d.name).startsWith('$') || String(d.username).startsWith('$'))).toBe(true);
    for (const doc of docs) {
      expect(Object.keys(doc).sort()).toEqual(['_id', 'email', 'emailKey', 'identityVersion', 'name', 'username', 'usernameKey']);
      for (const field of ['name', 'username', 'email', 'usernameKey', 'emailKey'] as const) expect(typeof doc[field]).toBe('string');
      // Every stored value obeys the identity rules, so no lone surrogate was stored as U+FFFD.
      expect(identityFieldErrors(doc as { name?: unknown; username?: unknown; email?: unknown })).toEqual([]);
      for (const key of allKeys(doc)) expect(key.startsWith('$') || key.includes('.')).toBe(false);
    }
    recordFigures({ fuzzStoredUsers: docs.length });
  });

  it('left Object.prototype untouched and the process serving, with no unhandled error logged', async () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await fetch(api.url('/healthz'))).status).toBe(200);
    expect((await fetch(api.url('/readyz'))).status).toBe(200);
    const unhandled = api.logs.records().filter((r) => r.msg === 'unhandled error' || ['error', 'fatal', 50, 60].includes(r.level as string | number));
    expect(unhandled).toEqual([]);
  });
});
