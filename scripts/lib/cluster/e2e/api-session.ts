// The original exercise's curl session against a running API, and a bounded load of reads and writes
// that must see no failed request while something changes underneath (a password rotation, a rollout).
// Plain `fetch` with the exact bodies and media types curl sends (`curl -d` is
// application/x-www-form-urlencoded; the API reads such a body as JSON, docs/users-api.md).

export type Fetch = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

const FORM = 'application/x-www-form-urlencoded';
const HEX_ID = /^[0-9a-f]{24}$/;

async function call(fetchImpl: Fetch, method: string, url: string, body?: string, type = FORM): Promise<{ status: number; type: string; json: unknown; text: string }> {
  const r = await fetchImpl(url, { method, ...(body === undefined ? {} : { headers: { 'content-type': type }, body }) });
  const text = await r.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, type: r.headers.get('content-type') ?? '', json, text };
}

/**
 * GET /users, POST a user as the original curl does (201, hex `_id`), the same POST again (409
 * problem+json), a malformed body (400 problem+json), GET /users/<_id> (the user is stored). `suffix`
 * keeps the usernames of repeated runs apart. Returns one line per request; throws on the first surprise.
 */
export async function curlSession(baseUrl: string, fetchImpl: Fetch, suffix: string): Promise<string[]> {
  const seen: string[] = [];
  const expect = (ok: boolean, what: string, got: { status: number; text: string }) => {
    if (!ok) throw new Error(`${what}: got HTTP ${got.status} ${got.text.slice(0, 300)}`);
    seen.push(`${what}: HTTP ${got.status}`);
  };
  const users = `${baseUrl}/users`;
  const first = await call(fetchImpl, 'GET', users);
  expect(first.status === 200 && Array.isArray(first.json), 'GET /users answers a JSON array', first);
  const user = { name: 'test-name', username: `test-username-${suffix}`, email: `username-${suffix}@email.com` };
  const created = await call(fetchImpl, 'POST', users, JSON.stringify(user));
  const id = (created.json as { _id?: unknown } | undefined)?._id;
  expect(created.status === 201 && typeof id === 'string' && HEX_ID.test(id), 'POST /users (curl -d, form-encoded JSON) creates the user with a hex _id', created);
  const again = await call(fetchImpl, 'POST', users, JSON.stringify(user));
  expect(again.status === 409 && again.type.startsWith('application/problem+json'), 'the same POST again is a 409 problem+json', again);
  const bad = await call(fetchImpl, 'POST', users, '{"name": ', 'application/json');
  expect(bad.status === 400 && bad.type.startsWith('application/problem+json'), 'a malformed body is a 400 problem+json', bad);
  const stored = await call(fetchImpl, 'GET', `${users}/${id as string}`);
  expect(stored.status === 200 && (stored.json as { username?: unknown } | undefined)?.username === user.username, 'GET /users/<_id> returns the stored user', stored);
  return seen;
}

export interface LoadResult {
  requests: number;
  failed: number;
  /** Users the API acknowledged (201) during the load. */
  written: string[];
  /** Acknowledged users that a GET after the load did not find. */
  lost: string[];
  /** The first few failures, for the report. */
  failures: string[];
}

/**
 * Reads and writes from `workers` loops until `during` settles (and at most `maxRequests`), then checks
 * that every acknowledged write is still there. Any 5xx, network error or unexpected status counts as a
 * failed request: a rotation without downtime has none.
 */
export async function loadDuring<T>(baseUrl: string, fetchImpl: Fetch, during: Promise<T>, opts: { workers: number; maxRequests: number; tag: string; pauseMs?: number; sleep?: (ms: number) => Promise<void> }): Promise<{ result: T; load: LoadResult }> {
  let over = false;
  const load: LoadResult = { requests: 0, failed: 0, written: [], lost: [], failures: [] };
  const fail = (what: string) => {
    load.failed++;
    if (load.failures.length < 10) load.failures.push(what);
  };
  const worker = async (w: number) => {
    for (let i = 0; !over && load.requests < opts.maxRequests; i++) {
      load.requests++;
      const write = i % 4 === 0;
      try {
        if (write) {
          const n = `${opts.tag}-${w}-${i}`;
          const r = await call(fetchImpl, 'POST', `${baseUrl}/users`, JSON.stringify({ name: 'load', username: `load-${n}`, email: `load-${n}@example.com` }), 'application/json');
          const id = (r.json as { _id?: string } | undefined)?._id;
          if (r.status === 201 && id) load.written.push(id);
          else fail(`POST /users: HTTP ${r.status} ${r.text.slice(0, 120)}`);
        } else {
          const r = await call(fetchImpl, 'GET', `${baseUrl}/users?limit=5`);
          if (r.status !== 200) fail(`GET /users: HTTP ${r.status} ${r.text.slice(0, 120)}`);
        }
      } catch (e) {
        fail(`${write ? 'POST' : 'GET'} /users: ${(e as Error).message}`);
      }
      if (opts.pauseMs && opts.sleep) await opts.sleep(opts.pauseMs);
    }
  };
  const workers = Array.from({ length: opts.workers }, (_, w) => worker(w));
  let result: T;
  try {
    result = await during;
  } finally {
    over = true;
    await Promise.all(workers);
  }
  for (const id of load.written) {
    try {
      const r = await call(fetchImpl, 'GET', `${baseUrl}/users/${id}`);
      if (r.status !== 200) load.lost.push(id);
    } catch {
      load.lost.push(id);
    }
  }
  return { result, load };
}
