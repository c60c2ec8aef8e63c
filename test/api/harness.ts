// Starts the users API over real HTTP (port 0) against a test MongoDB, with logs captured in memory.
import { loadConfig } from '../../apps/users-api/src/config.ts';
import { createLogger } from '../../apps/users-api/src/logger.ts';
import type { Logger } from '../../apps/users-api/src/logger.ts';
import { startServer } from '../../apps/users-api/src/server.ts';
import type { RunningServer, ServerConfig } from '../../apps/users-api/src/server.ts';

/** Small limits so pagination and body-size edges are cheap to reach. */
export const TEST_LIMITS = { PAGE_LIMIT_DEFAULT: 3, PAGE_LIMIT_MAX: 5, BODY_LIMIT_BYTES: 2048 } as const;

export function testConfig(mongo: { uri: string; dbName: string }, overrides: Record<string, string> = {}): ServerConfig {
  const config = loadConfig({
    MONGODB_URI: mongo.uri,
    MONGODB_DB: mongo.dbName,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    PAGE_LIMIT_DEFAULT: String(TEST_LIMITS.PAGE_LIMIT_DEFAULT),
    PAGE_LIMIT_MAX: String(TEST_LIMITS.PAGE_LIMIT_MAX),
    BODY_LIMIT_BYTES: String(TEST_LIMITS.BODY_LIMIT_BYTES),
    MONGODB_SERVER_SELECTION_TIMEOUT_MS: '600',
    MONGODB_CONNECT_RETRY_MAX_MS: '200',
    REQUEST_TIMEOUT_MS: '2000',
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...overrides,
  });
  // PORT=0 (any free port) is for tests only; the config spec rightly refuses it.
  return { ...config, PORT: 0 };
}

export interface CapturedLogger {
  logger: Logger;
  lines: string[];
  records(): Array<Record<string, unknown>>;
}

export function captureLogger(level = 'info'): CapturedLogger {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

export interface TestApi {
  server: RunningServer;
  logs: CapturedLogger;
  url(path: string): string;
  /** fetch() with a JSON body (application/json unless headers say otherwise). */
  send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

export async function startTestApi(mongo: { uri: string; dbName: string }, overrides: Record<string, string> = {}): Promise<TestApi> {
  const logs = captureLogger();
  const server = await startServer(testConfig(mongo, overrides), { logger: logs.logger });
  const url = (path: string): string => `${server.address}${path}`;
  return {
    server,
    logs,
    url,
    send: (method, path, body, headers = {}) =>
      fetch(url(path), {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
  };
}

let counter = 0;
/** A valid, unique user for this process. */
export function newUser(tag = 'u'): { name: string; username: string; email: string } {
  counter += 1;
  const id = `${tag}${process.pid}-${counter}`;
  return { name: `Name ${id}`, username: `user-${id}`, email: `${id}@example.test` };
}

export async function problemOf(response: Response): Promise<Record<string, unknown>> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) throw new Error(`expected problem+json, got ${type} (${response.status}): ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
