// Pure pieces of the API, tested with plain inputs: body decoding, backoff, redaction, request ids.
import { describe, expect, it } from 'vitest';
import { mongoTargetOf, redactMongoUri, requestIdFrom } from '../../apps/users-api/src/logger.ts';
import { HttpProblem } from '../../apps/users-api/src/problem.ts';
import { createReadiness } from '../../apps/users-api/src/readiness.ts';
import { decodeJsonBody } from '../../apps/users-api/src/request-body.ts';
import { nextBackoffMs } from '../../apps/users-api/src/server.ts';
import { captureLogger } from './harness.ts';

function kindOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return error instanceof HttpProblem ? error.kind : `unexpected ${String(error)}`;
  }
}

describe('request body decoding', () => {
  it.each([
    ['application/json', '{"a":1}', 'ok'],
    ['application/json; charset=UTF-8', '{"a":1}', 'ok'],
    ['application/merge-patch+json', '{"a":1}', 'ok'],
    ['application/x-www-form-urlencoded', ' {"a":1}', 'ok'],
    [undefined, '{"a":1}', 'ok'],
    ['application/x-www-form-urlencoded', 'a=1', 'unsupportedMediaType'],
    ['text/plain', '{"a":1}', 'unsupportedMediaType'],
    ['multipart/form-data; boundary=x', '{}', 'unsupportedMediaType'],
    ['application/json; charset=utf-16', '{}', 'unsupportedMediaType'],
    ['application/json', '{"a":', 'malformedJson'],
    ['application/json', '', 'validation'],
  ])('%s with %j → %s', (type, text, expected) => {
    expect(kindOf(() => decodeJsonBody(type, Buffer.from(text)))).toBe(expected);
  });

  it('keeps __proto__ as a plain own key instead of a prototype', () => {
    const value = decodeJsonBody('application/json', Buffer.from('{"__proto__":{"polluted":1}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('connection retry backoff', () => {
  it('doubles from 100 ms and never exceeds the cap, with jitter in the upper half', () => {
    const low = () => 0;
    const high = () => 1;
    expect(nextBackoffMs(0, 10_000, high)).toBe(100);
    expect(nextBackoffMs(0, 10_000, low)).toBe(50);
    expect(nextBackoffMs(800, 10_000, high)).toBe(1600);
    expect(nextBackoffMs(8000, 10_000, high)).toBe(10_000);
    expect(nextBackoffMs(10_000, 10_000, low)).toBe(5000);
  });
});

describe('secrets in logs', () => {
  it.each([
    ['mongodb://user:p%40ss@db:27017/admin', 'mongodb://***@db:27017/admin'], // secretlint-disable-line -- a planted fake credential
    ['mongodb+srv://user@cluster.example/x', 'mongodb+srv://***@cluster.example/x'],
    ['failed: mongodb://a:b@h1,h2/?replicaSet=rs0 (timeout)', 'failed: mongodb://***@h1,h2/?replicaSet=rs0 (timeout)'], // secretlint-disable-line -- a planted fake credential
    ['mongodb://host:27017/db', 'mongodb://host:27017/db'],
    ['mongodb://h/?tls=true&tlsCertificateKeyFilePassword=pw&w=1', 'mongodb://h/?tls=true&tlsCertificateKeyFilePassword=***&w=1'],
  ])('redacts %s', (input, expected) => {
    expect(redactMongoUri(input)).toBe(expected);
  });

  it('logs only the scheme and hosts of the connection string', () => {
    expect(mongoTargetOf('mongodb://u:p@db-0.db:27017,db-1.db:27017/admin?replicaSet=rs0&tls=true')).toBe('mongodb://db-0.db:27017,db-1.db:27017'); // secretlint-disable-line -- a planted fake credential
    expect(mongoTargetOf('mongodb+srv://u@cluster.example/')).toBe('mongodb+srv://cluster.example'); // secretlint-disable-line -- a planted fake credential
  });

  it('scrubs credentials from any log line, including error messages and config objects', () => {
    const logs = captureLogger();
    logs.logger.error({ err: new Error('cannot reach mongodb://root:dummy-pw@db:27017') }, 'boom'); // secretlint-disable-line -- a planted fake credential
    logs.logger.info({ config: { MONGODB_URI: 'mongodb://root:dummy-pw@db' } }, 'config'); // secretlint-disable-line -- a planted fake credential
    expect(logs.lines).toHaveLength(2);
    expect(logs.lines.join('')).not.toContain('dummy-pw');
  });
});

describe('request ids', () => {
  it.each([
    ['abc-123', true],
    ['4bf92f3577b34da6a3ce929d0e0e4736', true],
    ['has space', false],
    ['x'.repeat(129), false],
    ['line\nbreak', false],
    ['', false],
  ])('%j is honoured: %s', (header, honoured) => {
    expect(requestIdFrom(header) === header).toBe(honoured);
  });
});

describe('readiness', () => {
  it('is false before the database is ready, while the probe hangs or fails, while indexes are missing, and once shutting down', async () => {
    let answer: () => Promise<string | undefined> = () => new Promise(() => {});
    const readiness = createReadiness({ probe: () => answer(), probeTimeoutMs: 50 });
    expect(await readiness.check()).toMatchObject({ ready: false });
    readiness.markDatabaseReady();
    expect(await readiness.check()).toEqual({ ready: false, reason: 'database unreachable' });
    answer = () => Promise.reject(new Error('network'));
    expect(await readiness.check()).toEqual({ ready: false, reason: 'database unreachable' });
    answer = async () => 'unique indexes missing: email_key_unique';
    expect(await readiness.check()).toEqual({ ready: false, reason: 'unique indexes missing: email_key_unique' });
    answer = async () => undefined;
    expect(await readiness.check()).toEqual({ ready: false, reason: 'unique indexes are being ensured' });
    expect(readiness.isSchemaReady()).toBe(false);
    readiness.markSchemaReady(true);
    expect(await readiness.check()).toEqual({ ready: true });
    expect(readiness.isSchemaReady()).toBe(true);
    readiness.beginShutdown();
    expect(await readiness.check()).toEqual({ ready: false, reason: 'shutting down' });
    // Draining: requests on connections still open are served until the server has closed.
    expect(readiness.isDatabaseReady()).toBe(true);
  });
});
