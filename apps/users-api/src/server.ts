// startServer: parse config once, start listening at once (so /healthz answers while MongoDB is still
// absent), connect MongoDB in the background with bounded backoff, then create the unique indexes and
// only then report ready. stop() drains in-flight requests within SHUTDOWN_TIMEOUT_MS.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, problemBody } from './problem.ts';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { createLogger, mongoTargetOf } from './logger.ts';
import type { Logger } from './logger.ts';
import type { AppMetrics } from './metrics.ts';
import { createReadiness } from './readiness.ts';
import type { Readiness } from './readiness.ts';
import { createMongoUsersRepository, ensureUserIndexes, trackPendingOperations } from './users-repository.ts';

export interface ServerDeps {
  logger?: Logger;
  metrics?: AppMetrics;
  /** Defaults to setTimeout; tests never need to change it, the backoff is bounded by config. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:40123 */
  address: string;
  port: number;
  readiness: Readiness;
  /** Resolves once MongoDB is connected and the indexes exist (never rejects; pending while absent). */
  databaseReady: Promise<void>;
  /** Readiness false, refuse new connections, let in-flight requests finish, close server and client. Safe to call twice. */
  stop(): Promise<void>;
}

export type ServerConfig = Pick<
  Config,
  | 'MONGODB_URI'
  | 'MONGODB_DB'
  | 'MONGODB_SERVER_SELECTION_TIMEOUT_MS'
  | 'MONGODB_CONNECT_RETRY_MAX_MS'
  | 'PORT'
  | 'HOST'
  | 'LOG_LEVEL'
  | 'BODY_LIMIT_BYTES'
  | 'PAGE_LIMIT_DEFAULT'
  | 'PAGE_LIMIT_MAX'
  | 'SHUTDOWN_TIMEOUT_MS'
  | 'REQUEST_TIMEOUT_MS'
  | 'TRUST_PROXY'
>;

const FIRST_RETRY_MS = 100;

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** The next backoff: doubling, capped, with jitter so replicas do not reconnect in lockstep. */
export function nextBackoffMs(previousMs: number, capMs: number, random: () => number = Math.random): number {
  const doubled = Math.min(capMs, Math.max(FIRST_RETRY_MS, previousMs * 2));
  return Math.round(doubled / 2 + (random() * doubled) / 2);
}

function createMongoClient(config: ServerConfig): MongoClient {
  return new MongoClient(config.MONGODB_URI, {
    serverSelectionTimeoutMS: config.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    connectTimeoutMS: config.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    // Bounds a request stuck on a half-open socket; operations carry maxTimeMS for the server side.
    socketTimeoutMS: config.REQUEST_TIMEOUT_MS + config.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    waitQueueTimeoutMS: config.REQUEST_TIMEOUT_MS,
    appName: 'users-api',
  });
}

/** Whether `work` settles before the wall-clock `deadline`. */
async function settlesBefore(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startServer(config: ServerConfig, deps: ServerDeps = {}): Promise<RunningServer> {
  const logger = deps.logger ?? createLogger({ level: config.LOG_LEVEL });
  const sleep = deps.sleep ?? defaultSleep;
  // One client, and so one Db handle for the app, across every connection attempt: a closed
  // MongoClient can connect() again.
  const client = createMongoClient(config);
  const db: Db = client.db(config.MONGODB_DB);
  const readiness = createReadiness({
    ping: () => db.command({ ping: 1 }),
    pingTimeoutMs: Math.min(1000, config.MONGODB_SERVER_SELECTION_TIMEOUT_MS),
  });
  const repository = trackPendingOperations(createMongoUsersRepository(db, { operationTimeoutMs: config.REQUEST_TIMEOUT_MS }));
  const app = createApp({ db, users: repository.users, config, logger, readiness, ...(deps.metrics ? { metrics: deps.metrics } : {}) });

  const server = createServer(
    {
      // Bounds how long a client may take to send one request (slow-loris); headersTimeout follows it.
      requestTimeout: config.REQUEST_TIMEOUT_MS * 2 + 1000,
      // Longer than ingress-nginx's upstream keep-alive (60 s), so the proxy, not Node, closes idle
      // connections and never sends a request on a socket Node is closing (a 502).
      keepAliveTimeout: 65_000,
    },
    app,
  );
  // Requests Node's HTTP parser rejects (broken framing, oversized headers) never reach Express; answer
  // them in the same problem+json shape instead of Node's bare status line.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const kind = error.code === 'HPE_HEADER_OVERFLOW' ? 'headersTooLarge' : 'badRequest';
    const { status, title } = PROBLEM_TYPES[kind];
    const body = JSON.stringify(problemBody(kind, 'the request could not be parsed as HTTP/1.1', ''));
    socket.end(`HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_MEDIA_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  // A keep-alive connection whose request was in flight at stop() turns idle when its response ends;
  // close it then, instead of waiting for the keep-alive timeout.
  server.on('request', (_req, res: ServerResponse) => {
    res.on('close', () => {
      if (readiness.isShuttingDown()) setImmediate(() => server.closeIdleConnections());
    });
  });
  server.listen(config.PORT, config.HOST);
  await once(server, 'listening');
  const { port, address: host } = server.address() as AddressInfo;
  const address = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ address, database: config.MONGODB_DB, mongodb: mongoTargetOf(config.MONGODB_URI) }, 'listening');

  const connecting = new AbortController();
  const databaseReady = (async () => {
    let delay = 0;
    for (let attempt = 1; !connecting.signal.aborted; attempt += 1) {
      try {
        await client.connect();
        await ensureUserIndexes(db);
        if (connecting.signal.aborted) return;
        readiness.markDatabaseReady();
        logger.info({ attempt }, 'connected to MongoDB; indexes in place');
        return;
      } catch (error) {
        if (connecting.signal.aborted) return;
        // A failed first connect can leave the client's topology closed for good ("Topology is
        // closed"); closing it explicitly makes the next connect() start from scratch.
        await client.close().catch(() => {});
        delay = nextBackoffMs(delay, config.MONGODB_CONNECT_RETRY_MAX_MS);
        logger.warn({ attempt, retryInMs: delay, err: { name: (error as Error).name, message: (error as Error).message } }, 'MongoDB not reachable yet');
        await sleep(delay, connecting.signal);
      }
    }
  })();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      readiness.beginShutdown();
      connecting.abort();
      logger.info({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutting down');
      const deadline = Date.now() + config.SHUTDOWN_TIMEOUT_MS;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (!(await settlesBefore(closed, deadline))) {
        logger.warn('in-flight requests did not finish in time; closing their connections');
        server.closeAllConnections();
        await closed;
      }
      // Handlers whose clients hung up are no longer on any socket but may still be querying.
      if (!(await settlesBefore(repository.settled(), deadline))) logger.warn('database operations still running at the shutdown deadline');
      // Closing the client also ends a connection attempt still waiting for server selection.
      await client.close().catch((error: unknown) => logger.warn({ err: { message: (error as Error).message } }, 'closing the MongoDB client failed'));
      await databaseReady;
      logger.info('stopped');
    })());

  return { address, port, readiness, databaseReady, stop };
}
