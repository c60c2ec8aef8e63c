// GET /users pagination on a database of its own: limit edges, the after= cursor and the Link header.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { acquireTestMongo, describeMongo } from '../support/test-mongo.ts';
import type { TestMongo } from '../support/test-mongo.ts';
import { TEST_LIMITS, newUser, problemOf, startTestApi } from './harness.ts';
import type { TestApi } from './harness.ts';

const TOTAL = 7; // more than PAGE_LIMIT_MAX (5), so every limit edge has a next page
let mongo: TestMongo;
let api: TestApi;
let ids: string[] = [];

beforeAll(async () => {
  mongo = await acquireTestMongo();
  api = await startTestApi(mongo);
  await api.server.databaseReady;
  for (let i = 0; i < TOTAL; i += 1) {
    const response = await api.send('POST', '/users', newUser('page'));
    ids.push(((await response.json()) as { _id: string })._id);
  }
  ids = ids.sort();
});
afterAll(async () => {
  await api?.server.stop();
  await mongo?.release();
});

async function page(query: string): Promise<{ status: number; ids: string[]; link: string | null }> {
  const response = await fetch(api.url(`/users${query}`));
  const body = (await response.json()) as Array<{ _id: string }> | Record<string, unknown>;
  return { status: response.status, ids: Array.isArray(body) ? body.map((u) => u._id) : [], link: response.headers.get('link') };
}

describeMongo('GET /users pagination', () => {
  it('without ?limit= returns PAGE_LIMIT_DEFAULT users sorted by _id and a Link to the next page', async () => {
    const first = await page('');
    expect(first.status).toBe(200);
    expect(first.ids).toEqual(ids.slice(0, TEST_LIMITS.PAGE_LIMIT_DEFAULT));
    expect(first.link).toBe(`</users?limit=${TEST_LIMITS.PAGE_LIMIT_DEFAULT}&after=${ids[TEST_LIMITS.PAGE_LIMIT_DEFAULT - 1]}>; rel="next"`);
  });

  it.each([
    ['1', 1],
    [String(TEST_LIMITS.PAGE_LIMIT_MAX), TEST_LIMITS.PAGE_LIMIT_MAX],
  ])('?limit=%s returns that many users', async (limit, count) => {
    const result = await page(`?limit=${limit}`);
    expect(result.status).toBe(200);
    expect(result.ids).toEqual(ids.slice(0, count));
    expect(result.link).toContain(`after=${ids[count - 1]}`);
  });

  it.each(['0', String(TEST_LIMITS.PAGE_LIMIT_MAX + 1), 'ten', '-1', '2.5', '', '1e1', '99999999999999999999', '01', '00', '+1', '1e0', ' 1', '0x8'])('?limit=%s → 400 problem', async (limit) => {
    const response = await fetch(api.url(`/users?limit=${limit}`));
    expect(response.status).toBe(400);
    expect((await problemOf(response)).detail).toContain(String(TEST_LIMITS.PAGE_LIMIT_MAX));
  });

  it('following Link headers visits every user exactly once, and the last page has no Link', async () => {
    const seen: string[] = [];
    let next: string | null = '/users?limit=2';
    let pages = 0;
    while (next) {
      const target: string = next.replace(/^<(.*)>; rel="next"$/, '$1');
      const result = await page(target.slice('/users'.length));
      seen.push(...result.ids);
      next = result.link;
      pages += 1;
    }
    expect(seen).toEqual(ids);
    expect(pages).toBe(Math.ceil(TOTAL / 2));
  });

  it('a page that ends exactly at the last user has no Link', async () => {
    const result = await page(`?limit=2&after=${ids[TOTAL - 3]}`);
    expect(result.ids).toEqual(ids.slice(TOTAL - 2));
    expect(result.link).toBeNull();
  });

  it('after= an id that belongs to no user continues from its position in _id order', async () => {
    const beforeAll = '000000000000000000000000';
    expect(ids).not.toContain(beforeAll);
    const result = await page(`?limit=2&after=${beforeAll}`);
    expect(result.ids).toEqual(ids.slice(0, 2));
    expect(result.link).toContain(`after=${ids[1]}`);
  });

  it('after= past the last id returns [] without a Link', async () => {
    const result = await page('?after=ffffffffffffffffffffffff');
    expect(result).toEqual({ status: 200, ids: [], link: null });
  });

  it.each(['123', 'zzzzzzzzzzzzzzzzzzzzzzzz', `${'a'.repeat(25)}`])('after=%s (malformed) → 400', async (after) => {
    expect((await fetch(api.url(`/users?after=${after}`))).status).toBe(400);
  });

  it('a repeated parameter → 400', async () => {
    expect((await fetch(api.url('/users?limit=1&limit=2'))).status).toBe(400);
  });
});
