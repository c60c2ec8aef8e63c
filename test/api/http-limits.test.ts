// The HTTP edge, as a hostile or broken client meets it: bodies past the limit stop being read at once
// (413, connection closed), bodies that do not arrive in time get 408, and the requests Node's parser
// answers by itself (no/empty Host, Expect) get problem+json like every other error.
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { acquireTestMongo, describeMongo } from '../support/test-mongo.ts';
import type { TestMongo } from '../support/test-mongo.ts';
import { TEST_LIMITS, newUser, startTestApi } from './harness.ts';
import type { TestApi } from './harness.ts';

const REQUEST_TIMEOUT_MS = 600;

interface RawExchange {
  /** Everything the server sent. */
  response: string;
  /** Body bytes the client managed to hand to the socket before the server closed it. */
  bytesWritten: number;
  /** The server closed the connection (end or reset), rather than the test giving up. */
  closedByServer: boolean;
}

/**
 * Sends `head`, then (optionally) keeps writing chunks of a chunked body until the server closes the
 * connection or `giveUpMs` passes.
 */
function exchange(port: number, head: string, options: { endlessChunked?: boolean; giveUpMs?: number; readDelayMs?: number } = {}): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let bytesWritten = 0;
    let done = false;
    const chunk = `${(64 * 1024).toString(16)}\r\n${'x'.repeat(64 * 1024)}\r\n`;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, bytesWritten, closedByServer });
    };
    const timer = setTimeout(() => finish(false), options.giveUpMs ?? 10_000);
    const pump = (): void => {
      while (!done && socket.writable) {
        bytesWritten += 64 * 1024;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.on('connect', () => {
      // A client busy uploading reads its socket late (curl checks for an answer between writes):
      // the answer must still be there, not discarded by a reset.
      if (options.readDelayMs) {
        socket.pause();
        setTimeout(() => socket.resume(), options.readDelayMs);
      }
      socket.write(head);
      if (options.endlessChunked) pump();
    });
    socket.on('data', (data: Buffer) => (response += data.toString('latin1')));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

function parse(response: string): { status: number; headers: Record<string, string>; body: string } {
  const [head = '', ...rest] = response.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

function problemIn(response: string): Record<string, unknown> {
  const { headers, body } = parse(response);
  expect(headers['content-type']).toMatch(/^application\/problem\+json/);
  return JSON.parse(body) as Record<string, unknown>;
}

describeMongo('users API HTTP limits', () => {
  let mongo: TestMongo;
  let api: TestApi;
  beforeAll(async () => {
    mongo = await acquireTestMongo();
    api = await startTestApi(mongo, { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
    await api.server.databaseReady;
  });
  afterAll(async () => {
    await api?.server.stop();
    await mongo?.release();
  });

  it('an endless chunked POST is answered 413 problem+json as soon as it crosses the limit, and the connection is closed', async () => {
    const { response, bytesWritten, closedByServer } = await exchange(
      api.server.port,
      'POST /users HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      { endlessChunked: true },
    );
    expect(closedByServer).toBe(true);
    expect(parse(response).status).toBe(413);
    expect(parse(response).headers.connection).toBe('close');
    expect(problemIn(response)).toMatchObject({ status: 413, detail: expect.stringContaining(String(TEST_LIMITS.BODY_LIMIT_BYTES)) });
    // What the client got into socket buffers before the close; the old code read 9.8 GB in 15 s.
    expect(bytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('an oversized chunked upload gets its 413 every time: 20 of 20 over a real socket, none reset before the answer', async () => {
    // The client keeps sending after the limit; the server must half-close and keep reading (bounded)
    // so the answer is read before any reset (RFC 9112 §9.6 "Tear-down").
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { response } = await exchange(
        api.server.port,
        'POST /users HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        { endlessChunked: true, readDelayMs: 50 + 10 * i },
      );
      statuses.push(parse(response).status);
    }
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 413));
  });

  it('a Content-Length over the limit is answered 413 without reading the body, and the connection is closed', async () => {
    const { response, closedByServer } = await exchange(
      api.server.port,
      `POST /users HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\nContent-Length: ${TEST_LIMITS.BODY_LIMIT_BYTES + 1}\r\n\r\n{`,
    );
    expect(closedByServer).toBe(true);
    expect(parse(response).status).toBe(413);
    expect(problemIn(response)).toMatchObject({ status: 413 });
  });

  it('a body that does not arrive within REQUEST_TIMEOUT_MS is answered 408 problem+json, not 400', async () => {
    const body = JSON.stringify(newUser('slow'));
    const { response, closedByServer } = await exchange(
      api.server.port,
      `POST /users HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    expect(closedByServer).toBe(true);
    expect(parse(response).status).toBe(408);
    expect(problemIn(response)).toMatchObject({ status: 408, title: 'Request Timeout', detail: expect.stringContaining(`${REQUEST_TIMEOUT_MS} ms`) });
  });

  it('a refused request with an unread body closes the connection instead of draining it', async () => {
    const { response, closedByServer } = await exchange(
      api.server.port,
      'PUT /users HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      { endlessChunked: true },
    );
    expect(closedByServer).toBe(true);
    expect(parse(response).status).toBe(405);
    expect(parse(response).headers.connection).toBe('close');
  });

  it('an endless chunked body on a GET is never drained: the answer comes and the connection closes', async () => {
    const { response, closedByServer } = await exchange(
      api.server.port,
      'GET /users HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n',
      { endlessChunked: true },
    );
    expect(closedByServer).toBe(true);
    expect(parse(response).status).toBe(200);
    expect(parse(response).headers.connection).toBe('close');
  });

  it.each([
    ['an empty Host', 'GET /users HTTP/1.1\r\nHost:\r\n\r\n'],
    ['no Host', 'GET /users HTTP/1.1\r\n\r\n'],
    ['two Hosts', 'GET /users HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ])('%s is a 400 problem+json', async (_what, head) => {
    const { response } = await exchange(api.server.port, head, { giveUpMs: 3000 });
    expect(parse(response).status).toBe(400);
    expect(problemIn(response)).toMatchObject({ status: 400, detail: expect.stringContaining('Host') });
  });

  it('HTTP/1.0 without Host is still served', async () => {
    const { response } = await exchange(api.server.port, 'GET /healthz HTTP/1.0\r\n\r\n', { giveUpMs: 3000 });
    expect(parse(response).status).toBe(200);
  });

  it('Expect: foo is a 417 problem+json; Expect: 100-continue still works', async () => {
    const failed = await exchange(api.server.port, 'GET /users HTTP/1.1\r\nHost: api.test\r\nExpect: foo\r\n\r\n', { giveUpMs: 3000 });
    expect(parse(failed.response).status).toBe(417);
    expect(problemIn(failed.response)).toMatchObject({ status: 417, title: 'Expectation Failed', instance: '/users' });

    const body = JSON.stringify(newUser('continue'));
    const continued = await new Promise<string>((resolve) => {
      const socket = connect(api.server.port, '127.0.0.1', () =>
        socket.write(`POST /users HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`),
      );
      let text = '';
      socket.on('data', (data: Buffer) => {
        text += data.toString();
        if (text.startsWith('HTTP/1.1 100') && !text.includes('201')) socket.write(body);
      });
      socket.on('close', () => resolve(text));
    });
    expect(continued).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 Created/);
  });
});
