// startServer: parse config once, start listening at once (so /healthz answers while MongoDB is still
// absent), connect MongoDB in the background with bounded backoff, then create the unique indexes and
// only then report ready. stop() drains in-flight requests within SHUTDOWN_TIMEOUT_MS.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { createMetrics, observePool } from './metrics.ts';
import { createReadiness } from './readiness.ts';
import type { Readiness } from './readiness.ts';
import { createMongoUsersRepository, ensureUserIndexes, migrateIdentityKeys, missingUserIndexes, trackPendingOperations } from './users-repository.ts';

/** Server types that accept writes: reaching one (again) means indexes must be ensured (again). */
const WRITABLE_SERVER_TYPES = new Set(['RSPrimary', 'Standalone', 'Mongos', 'LoadBalancer']);

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
  // Aborted by stop(): ends connection attempts and index retries.
  const connecting = new AbortController();
  // Indexes are ensured, never assumed: at the first connection, and again whenever a writable server
  // is (re)discovered (reconnection, failover, a rebuilt or restored set) or /readyz finds them missing.
  // One run at a time; anything that invalidates them during a run makes it run once more; a failed
  // run is retried with the connection backoff until it succeeds or the server stops.
  let preparing: Promise<void> | undefined;
  let prepareAgain = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = 0;
  const invalidateSchema = (): void => {
    readiness.markSchemaReady(false);
    if (preparing) prepareAgain = true;
  };
  const prepareOnce = async (): Promise<void> => {
    const migration = await migrateIdentityKeys(db);
    if (migration.keyed > 0) {
      logger.info({ keyed: migration.keyed, conflicts: migration.conflicts.length }, 'identity keys added to users stored under older rules');
    }
    for (const conflict of migration.conflicts) {
      logger.warn({ ...conflict }, 'user kept with a conflict marker: it is the same person as an older user by the identity rules; resolve by hand');
    }
    await ensureUserIndexes(db);
  };
  const prepareDatabase = (why: string): Promise<void> => {
    invalidateSchema();
    if (preparing) return preparing;
    clearTimeout(retryTimer);
    preparing = (async () => {
      try {
        for (;;) {
          prepareAgain = false;
          try {
            await prepareOnce();
          } catch (error) {
            if (prepareAgain && !connecting.signal.aborted) continue;
            throw error;
          }
          if (!prepareAgain) break;
        }
        retryDelay = 0;
        readiness.markSchemaReady(true);
        logger.info({ why }, 'unique indexes in place');
      } finally {
        preparing = undefined;
      }
    })();
    return preparing;
  };
  const prepareInBackground = (why: string): void => {
    prepareDatabase(why).catch((error: unknown) => {
      if (connecting.signal.aborted) return;
      retryDelay = nextBackoffMs(retryDelay, config.MONGODB_CONNECT_RETRY_MAX_MS);
      logger.warn({ why, retryInMs: retryDelay, err: { name: (error as Error).name, message: (error as Error).message } }, 'ensuring the unique indexes failed; retrying');
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => {
        if (!connecting.signal.aborted && !readiness.isSchemaReady()) prepareInBackground('retry');
      }, retryDelay);
      retryTimer.unref();
    });
  };
  const readiness = createReadiness({
    probe: async () => {
      const missing = await missingUserIndexes(db);
      if (missing.length > 0) {
        prepareInBackground('indexes missing');
        return `unique indexes missing: ${missing.join(', ')}`;
      }
      if (!readiness.isSchemaReady() && !preparing) prepareInBackground('not yet ensured on this server');
      return undefined;
    },
    probeTimeoutMs: Math.min(1000, config.MONGODB_SERVER_SELECTION_TIMEOUT_MS),
  });
  client.on('serverDescriptionChanged', (event) => {
    const now = event.newDescription.type;
    const before = event.previousDescription.type;
    if (!readiness.isDatabaseReady() || readiness.isShuttingDown() || now === before) return;
    // Losing the writable server: whatever comes back (a restart, another member, a rebuilt set) is
    // unknown ground, so writes wait until the indexes have been ensured there. Preparing at once also
    // makes the driver look for the next primary (server selection re-checks every member each 500 ms)
    // instead of learning of it at the next 10 s heartbeat, as no write reaches it meanwhile.
    if (WRITABLE_SERVER_TYPES.has(before) || WRITABLE_SERVER_TYPES.has(now)) prepareInBackground(`${event.address} became ${now}`);
  });
  // The monitors poll every 10 s; a pooled connection found dead at check-out ('error') is the earlier
  // sign that the server went away and may have come back as something else.
  client.on('connectionClosed', (event) => {
    if (event.reason !== 'error' || !readiness.isDatabaseReady() || readiness.isShuttingDown()) return;
    prepareInBackground(`a connection to ${event.address} was lost`);
  });
  const repository = trackPendingOperations(createMongoUsersRepository(db, { operationTimeoutMs: config.REQUEST_TIMEOUT_MS }));
  // The driver's pool gauges (metrics.ts observePool) live on the same registry /metrics serves.
  const metrics = deps.metrics ?? createMetrics();
  observePool(client, metrics);
  const app = createApp({ db, users: repository.users, config, logger, readiness, metrics });

  const server = createServer(
    {
      // Bounds how long a client may take to send one request (slow-loris); headersTimeout follows it.
      requestTimeout: config.REQUEST_TIMEOUT_MS * 2 + 1000,
      // Longer than ingress-nginx's upstream keep-alive (60 s), so the proxy, not Node, closes idle
      // connections and never sends a request on a socket Node is closing (a 502).
      keepAliveTimeout: 65_000,
      // How often Node enforces requestTimeout/headersTimeout (default 30 s would let a slow client
      // hold a connection up to 30 s past the bound).
      connectionsCheckingInterval: 1000,
      // Checked in app.ts instead, to answer problem+json (and an empty Host, which Node lets through).
      requireHostHeader: false,
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
    const kind = error.code === 'HPE_HEADER_OVERFLOW' ? 'headersTooLarge' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'requestTimeout' : 'badRequest';
    const { status, title } = PROBLEM_TYPES[kind];
    const detail = kind === 'requestTimeout' ? `the request did not arrive within ${config.REQUEST_TIMEOUT_MS * 2 + 1000} ms` : 'the request could not be parsed as HTTP/1.1';
    const body = JSON.stringify(problemBody(kind, detail, ''));
    socket.end(`HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_MEDIA_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  // Node answers an Expect other than 100-continue with a bare 417 unless someone listens here.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.stringify(problemBody('expectationFailed', `the expectation ${JSON.stringify(String(req.headers.expect))} is not supported; only 100-continue is`, (req.url ?? '').split('?')[0] ?? ''));
    res.writeHead(417, { 'Content-Type': PROBLEM_MEDIA_TYPE, 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
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

  const databaseReady = (async () => {
    let delay = 0;
    for (let attempt = 1; !connecting.signal.aborted; attempt += 1) {
      try {
        await client.connect();
        await prepareDatabase('connected');
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
      clearTimeout(retryTimer);
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
