// The users API over real HTTP against MongoDB (real when MONGODB_URI is set, else the stand-in).
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { userCreateSchema, userPatchSchema } from '../../apps/users-api/src/user-schema.ts';
import { acquireTestMongo, describeMongo } from '../support/test-mongo.ts';
import type { TestMongo } from '../support/test-mongo.ts';
import { TEST_LIMITS, newUser, problemOf, startTestApi } from './harness.ts';
import type { TestApi } from './harness.ts';

const HEX_ID = /^[0-9a-f]{24}$/;
const run = promisify(execFile);
const curlAvailable = await run('curl', ['--version']).then(
  () => true,
  () => false,
);

let mongo: TestMongo;
let api: TestApi;

beforeAll(async () => {
  mongo = await acquireTestMongo();
  api = await startTestApi(mongo);
  await api.server.databaseReady;
});
afterAll(async () => {
  await api?.server.stop();
  await mongo?.release();
});

async function createUser(user = newUser()): Promise<{ _id: string; name: string; username: string; email: string }> {
  const response = await api.send('POST', '/users', user);
  expect(response.status).toBe(201);
  return (await response.json()) as { _id: string; name: string; username: string; email: string };
}

describeMongo('users API: the original contract', () => {
  it('GET /users and /users/ answer 200 with a JSON array', async () => {
    for (const path of ['/users', '/users/']) {
      const response = await api.send('GET', path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Array.isArray(await response.json())).toBe(true);
    }
  });

  it('POST /users returns 201, the stored user with a 24-hex _id, and a Location that serves it', async () => {
    const user = newUser();
    const response = await api.send('POST', '/users', user);
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({ _id: expect.stringMatching(HEX_ID), ...user });
    expect(response.headers.get('location')).toBe(`/users/${String(body._id)}`);
    const fetched = await api.send('GET', String(response.headers.get('location')));
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual(body);
  });

  it('accepts the documented form-encoded JSON POST (curl -d) exactly as the original did', async () => {
    const user = newUser('form');
    const response = await fetch(api.url('/users/'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `{"name": "${user.name}", "username": "${user.username}", "email" : "${user.email}"}`,
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject(user);
  });

  it.skipIf(!curlAvailable)('the README curl commands work verbatim: POST → 201, same POST → 409, list shows the user', async () => {
    const payload = '{"name": "test-name", "username": "test-username", "email" : "username@email.com"}';
    const post = (): Promise<{ stdout: string }> => run('curl', ['-sS', '-L', '-w', '\n%{http_code}', '-X', 'POST', api.url('/users'), '-d', payload]);
    const first = (await post()).stdout.split('\n');
    expect(first.at(-1)).toBe('201');
    const created = JSON.parse(first[0] ?? '') as { _id: string };
    expect(created._id).toMatch(HEX_ID);
    const second = (await post()).stdout.split('\n');
    expect(second.at(-1)).toBe('409');
    expect(JSON.parse(second[0] ?? '')).toMatchObject({ status: 409, title: 'Conflict' });
    const list = JSON.parse((await run('curl', ['-sS', '-L', api.url('/users')])).stdout) as unknown[];
    expect(Array.isArray(list) && list.length > 0).toBe(true);
    const one = await run('curl', ['-sS', '-L', api.url(`/users/${created._id}`)]);
    expect(JSON.parse(one.stdout)).toEqual({ _id: created._id, name: 'test-name', username: 'test-username', email: 'username@email.com' });
  });

  it('GET /users/:id, PATCH and DELETE work on a stored user; afterwards it is 404', async () => {
    const created = await createUser();
    const patched = await api.send('PATCH', `/users/${created._id}`, { name: 'Renamed' });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toEqual({ ...created, name: 'Renamed' });
    const deleted = await api.send('DELETE', `/users/${created._id}`);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    for (const method of ['GET', 'DELETE']) expect((await api.send(method, `/users/${created._id}`)).status).toBe(404);
  });

  it('HEAD /users answers like GET without a body', async () => {
    const response = await api.send('HEAD', '/users');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });
});

describeMongo('users API: errors are RFC 9457 problem details', () => {
  it.each([
    ['malformed JSON', 'POST', '/users', '{"name": ', { 'content-type': 'application/json' }, 400],
    ['malformed JSON sent form-encoded', 'POST', '/users', '{"name": ', { 'content-type': 'application/x-www-form-urlencoded' }, 400],
    ['an empty body', 'POST', '/users', '', { 'content-type': 'application/json' }, 400],
    ['a JSON array', 'POST', '/users', '[]', { 'content-type': 'application/json' }, 400],
    ['a JSON string', 'POST', '/users', '"x"', { 'content-type': 'application/json' }, 400],
    ['invalid UTF-8', 'POST', '/users', Buffer.from([0x7b, 0xff, 0x7d]), { 'content-type': 'application/json' }, 400],
    ['text/plain', 'POST', '/users', '{}', { 'content-type': 'text/plain' }, 415],
    ['real form fields', 'POST', '/users', 'name=a&username=b', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
    ['a non-UTF-8 charset', 'POST', '/users', '{}', { 'content-type': 'application/json; charset=latin1' }, 415],
    ['a gzip body', 'POST', '/users', '{}', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 415],
    ['a body over BODY_LIMIT_BYTES', 'POST', '/users', JSON.stringify({ name: 'x'.repeat(TEST_LIMITS.BODY_LIMIT_BYTES) }), { 'content-type': 'application/json' }, 413],
    ['an unknown route', 'GET', '/nope', undefined, {}, 404],
    ['an unknown user id', 'GET', '/users/0123456789abcdef01234567', undefined, {}, 404],
    ['a malformed user id (GET)', 'GET', '/users/123', undefined, {}, 400],
    ['a malformed user id (PATCH)', 'PATCH', '/users/not-an-id', '{"name":"x"}', { 'content-type': 'application/json' }, 400],
    ['a malformed user id (DELETE)', 'DELETE', '/users/zzzzzzzzzzzzzzzzzzzzzzzz', undefined, {}, 400],
    ['an undecodable path', 'GET', '/users/%E0%A4%A', undefined, {}, 400],
  ])('%s → %i problem+json', async (_what, method, path, body, headers, status) => {
    const response = await fetch(api.url(path), { method, headers, ...(body === undefined ? {} : { body }) });
    expect(response.status).toBe(status);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ status, type: expect.stringMatching(/^urn:users-api:problem:/), title: expect.any(String), detail: expect.any(String) });
    expect(problem.instance).toBe(path.split('?')[0]);
    expect(JSON.stringify(problem)).not.toMatch(/at .*\.ts:\d+|node_modules|Mongo[A-Za-z]*Error/);
  });

  it.each([
    ['PUT', '/users', 'GET, HEAD, POST, OPTIONS'],
    ['DELETE', '/users/', 'GET, HEAD, POST, OPTIONS'],
    ['POST', '/users/0123456789abcdef01234567', 'GET, HEAD, PATCH, DELETE, OPTIONS'],
    ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
  ])('%s %s → 405 with Allow', async (method, path, allow) => {
    const response = await fetch(api.url(path), { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect((await problemOf(response)).status).toBe(405);
  });

  it('OPTIONS lists the allowed methods', async () => {
    const response = await fetch(api.url('/users'), { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
  });

  it('validation errors point at each bad field without echoing values', async () => {
    const response = await api.send('POST', '/users', { name: '', username: 7, email: 'not-an-email', extra: 'secret-value' });
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    const pointers = (problem.errors as Array<{ pointer: string }>).map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/email', '/extra', '/name', '/username']);
    expect(JSON.stringify(problem)).not.toContain('secret-value');
  });

  it.each([
    ['missing email', { name: 'a', username: 'b' }],
    ['username too long', { name: 'a', username: 'b'.repeat(userCreateSchema.properties.username.maxLength + 1), email: 'a@b.test' }],
    ['email without a domain', { name: 'a', username: 'b', email: 'a@' }],
  ])('POST /users refuses %s with 400', async (_what, body) => {
    expect((await api.send('POST', '/users', body)).status).toBe(400);
  });
});

describeMongo('users API: hostile input never reaches MongoDB', () => {
  it.each([
    ['a $-prefixed key', '{"name":"a","username":"b","email":"c@d.test","$where":"sleep(1000)"}'],
    ['a dotted key', '{"name":"a","username":"b","email":"c@d.test","profile.admin":"true"}'],
    ['an operator as a value', '{"name":{"$gt":""},"username":"b","email":"c@d.test"}'],
    ['an array value', '{"name":["a"],"username":"b","email":"c@d.test"}'],
    ['a __proto__ key', '{"name":"a","username":"b","email":"c@d.test","__proto__":{"polluted":"yes"}}'],
    ['a constructor key', '{"name":"a","username":"b","email":"c@d.test","constructor":{"prototype":{"polluted":"yes"}}}'],
  ])('POST with %s → 400 and nothing stored or polluted', async (_what, body) => {
    const response = await api.send('POST', '/users', body);
    expect(response.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const listed = (await (await api.send('GET', `/users?limit=${TEST_LIMITS.PAGE_LIMIT_MAX}`)).json()) as Array<{ username: string }>;
    expect(listed.some((u) => u.username === 'b')).toBe(false);
  });

  it('PATCH with an update operator → 400 and the user is unchanged', async () => {
    const created = await createUser();
    const response = await api.send('PATCH', `/users/${created._id}`, { $set: { name: 'x' } });
    expect(response.status).toBe(400);
    expect(await (await api.send('GET', `/users/${created._id}`)).json()).toEqual(created);
  });

  it('an operator in the query string is just an unknown parameter', async () => {
    const response = await fetch(`${api.url('/users')}?after[$gt]=0&limit[$ne]=1`);
    expect(response.status).toBe(200);
  });
});

describeMongo('users API: uniqueness of username and email', () => {
  it('the same POST twice → 201 then 409 naming the field', async () => {
    const user = newUser();
    expect((await api.send('POST', '/users', user)).status).toBe(201);
    const again = await api.send('POST', '/users', user);
    expect(again.status).toBe(409);
    expect((await problemOf(again)).detail).toMatch(/username|email/);
  });

  it('a new username with a taken email → 409', async () => {
    const taken = await createUser();
    const response = await api.send('POST', '/users', { ...newUser(), email: taken.email });
    expect(response.status).toBe(409);
    expect((await problemOf(response)).detail).toContain('email');
  });

  it('12 parallel POSTs of one user → exactly one 201, the rest 409', async () => {
    const user = newUser('race');
    const responses = await Promise.all(Array.from({ length: 12 }, () => api.send('POST', '/users', user)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(11);
  });

  it('parallel POSTs sharing only the email → exactly one 201', async () => {
    const email = newUser().email;
    const responses = await Promise.all(Array.from({ length: 8 }, () => api.send('POST', '/users', { ...newUser(), email })));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(7);
  });

  it('PATCH onto a taken username → 409, unknown id → 404, empty or invalid change → 400', async () => {
    const a = await createUser();
    const b = await createUser();
    expect((await api.send('PATCH', `/users/${b._id}`, { username: a.username })).status).toBe(409);
    expect((await api.send('PATCH', '/users/0123456789abcdef01234567', { name: 'x' })).status).toBe(404);
    expect((await api.send('PATCH', `/users/${b._id}`, {})).status).toBe(400);
    expect((await api.send('PATCH', `/users/${b._id}`, { email: 'nope' })).status).toBe(400);
    expect((await api.send('PATCH', `/users/${b._id}`, { name: 'x' }, { 'content-type': 'text/plain' })).status).toBe(415);
    const merge = await api.send('PATCH', `/users/${b._id}`, { email: `m-${b.email}` }, { 'content-type': 'application/merge-patch+json' });
    expect(merge.status).toBe(200);
    expect(await merge.json()).toEqual({ ...b, email: `m-${b.email}` });
  });
});

describeMongo('users API: request ids, metrics and OpenAPI', () => {
  it('honours a sane X-Request-Id, replaces an insane one, and logs it', async () => {
    const sane = await fetch(api.url('/healthz'), { headers: { 'x-request-id': 'abc-123' } });
    expect(sane.headers.get('x-request-id')).toBe('abc-123');
    const insane = await fetch(api.url('/healthz'), { headers: { 'x-request-id': `a b ${'x'.repeat(200)}` } });
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(api.logs.records().some((r) => r.reqId === 'abc-123' && r.route === '/healthz' && r.status === 200)).toBe(true);
  });

  it('/metrics exposes request durations by route template and status, and process metrics', async () => {
    const created = await createUser();
    await api.send('GET', `/users/${created._id}`);
    await api.send('GET', '/no/such/route');
    const response = await fetch(api.url('/metrics'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/users\/:id"[^}]*status_code="200"/);
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*method="POST",route="\/users",status_code="201"\} [1-9]/);
    expect(text).toMatch(/route="<unmatched>",status_code="404"/);
    expect(text).not.toContain(created._id);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('/openapi.json documents the paths with the schemas the validator enforces', async () => {
    const response = await fetch(api.url('/openapi.json'));
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; schema: Record<string, unknown> }> }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/users', '/users/{id}', '/healthz', '/readyz', '/metrics']));
    expect(Object.keys(doc.paths['/users'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/users/{id}'] ?? {}).sort()).toEqual(['delete', 'get', 'parameters', 'patch']);
    expect(doc.components.schemas.UserCreate).toEqual(JSON.parse(JSON.stringify(userCreateSchema)));
    expect(doc.components.schemas.UserPatch).toEqual(JSON.parse(JSON.stringify(userPatchSchema)));
    const limit = doc.paths['/users']?.get?.parameters?.find((p) => p.name === 'limit');
    expect(limit?.schema).toMatchObject({ maximum: TEST_LIMITS.PAGE_LIMIT_MAX, default: TEST_LIMITS.PAGE_LIMIT_DEFAULT });
  });

  it('/healthz is 200 and /readyz is 200 once MongoDB is connected', async () => {
    expect((await fetch(api.url('/healthz'))).status).toBe(200);
    const ready = await fetch(api.url('/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('a request with a body but no Content-Type is read as JSON', async () => {
    const user = newUser('raw');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(api.url('/users'), { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify(user));
    });
    expect(status).toBe(201);
  });
});
