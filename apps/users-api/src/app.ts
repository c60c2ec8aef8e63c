// createApp(deps): the whole HTTP surface as an Express 5 app that never listens (server.ts does).
// Request flow: request context → route → body decode → validate → handler → repository; every error
// ends in one middleware that renders problem+json.
import express from 'express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  MongoClientClosedError,
  MongoExpiredSessionError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import type { Db } from 'mongodb';
import type { Config } from './config.ts';
import { PATHS } from './contract.ts';
import type { Logger } from './logger.ts';
import { requestIdFrom } from './logger.ts';
import { UNMATCHED_ROUTE, createMetrics } from './metrics.ts';
import type { AppMetrics } from './metrics.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { HttpProblem, problemBody, sendProblem } from './problem.ts';
import type { ProblemKind } from './problem.ts';
import type { Readiness } from './readiness.ts';
import { CLOSE_CONNECTION, hasBody, jsonBody, lingerBeforeClose } from './request-body.ts';
import { identityFieldErrors } from './identity.ts';
import { OBJECT_ID_PATTERN, createUserValidators, fieldErrors } from './user-schema.ts';
import type { UserPatch } from './user-schema.ts';
import { DuplicateUserError, createMongoUsersRepository } from './users-repository.ts';
import type { UsersRepository } from './users-repository.ts';

export type AppConfig = Pick<Config, 'PAGE_LIMIT_DEFAULT' | 'PAGE_LIMIT_MAX' | 'BODY_LIMIT_BYTES' | 'REQUEST_TIMEOUT_MS' | 'TRUST_PROXY'>;

export interface AppDeps {
  /** The application database; the users repository is built on it unless `users` is given. */
  db?: Db;
  /** Replaces the MongoDB repository (the benchmark measures the HTTP layer alone with one in memory). */
  users?: UsersRepository;
  config: AppConfig;
  logger: Logger;
  readiness: Readiness;
  /** Defaults to a fresh per-app registry. */
  metrics?: AppMetrics;
}

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

const CLIENT_CLOSED_REQUEST = 499;

const ALLOW = {
  collection: 'GET, HEAD, POST, OPTIONS',
  item: 'GET, HEAD, PATCH, DELETE, OPTIONS',
  readOnly: 'GET, HEAD, OPTIONS',
} as const;

/**
 * A replica set between primaries: "not primary" and "node is recovering / shutting down" codes, as the
 * driver classifies them (mongodb@7.9.0 lib/error.js MONGODB_ERROR_CODES, the state-change codes of the
 * server discovery spec). Answered 503: the next request finds the new primary.
 */
const STATE_CHANGE_CODES = new Set([91, 189, 10107, 11600, 11602, 13435, 13436]);

function isDatabaseUnavailable(error: unknown): boolean {
  return (
    (error instanceof MongoServerError && (STATE_CHANGE_CODES.has(Number(error.code)) || error.hasErrorLabel('RetryableWriteError'))) ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoOperationTimeoutError ||
    // The client was closed under the operation (shutdown past its deadline).
    error instanceof MongoClientClosedError ||
    error instanceof MongoExpiredSessionError ||
    // MaxTimeMSExpired: the server gave up within our bound.
    (error instanceof MongoServerError && error.code === 50)
  );
}

/** Only body-parser's own, well-known client errors are trusted to carry a status. */
function bodyParserProblem(error: unknown): HttpProblem | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, status } = error as { type?: unknown; status?: unknown };
  switch (type) {
    case 'entity.too.large':
      return new HttpProblem('payloadTooLarge', 'the request body is larger than the accepted limit');
    case 'encoding.unsupported':
      return new HttpProblem('unsupportedMediaType', 'compressed request bodies are not accepted');
    case 'request.aborted':
    case 'request.size.invalid':
      return new HttpProblem('badRequest', 'the request body was incomplete');
    default:
      // Express itself marks undecodable path parameters (e.g. "%E0") as a 400.
      return status === 400 ? new HttpProblem('badRequest', 'the request could not be parsed') : undefined;
  }
}

/** The identity rules' character checks (identity.ts), as a 400 naming each field at fault. */
function rejectBadCharacters(body: UserPatch, detail: string): void {
  const errors = identityFieldErrors(body);
  if (errors.length > 0) throw new HttpProblem('validation', detail, { errors });
}

function instanceOf(req: Request): string {
  return req.originalUrl.split('?')[0] ?? req.originalUrl;
}

function methodNotAllowed(allow: string): RequestHandler {
  return (req) => {
    throw new HttpProblem('methodNotAllowed', `${req.method} is not allowed here; allowed: ${allow}`, { headers: { Allow: allow } });
  };
}

function optionsHandler(allow: string): RequestHandler {
  return (_req, res) => {
    res.setHeader('Allow', allow);
    res.status(204).end();
  };
}

function singleQueryValue(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpProblem('invalidParameter', `?${name}= must be given once`);
  return value;
}

function parseLimit(text: string | undefined, config: AppConfig): number {
  if (text === undefined) return config.PAGE_LIMIT_DEFAULT;
  // Strict decimal, no sign, exponent or leading zero (docs/users-api.md): "01", "+1", "1e0" are all 400.
  const limit = /^[1-9]\d{0,8}$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= config.PAGE_LIMIT_MAX)) {
    throw new HttpProblem('invalidParameter', `?limit= must be an integer from 1 to ${config.PAGE_LIMIT_MAX}`);
  }
  return limit;
}

function parseObjectId(text: string | undefined, what: string): string {
  if (text === undefined || !OBJECT_ID_PATTERN.test(text)) throw new HttpProblem('invalidParameter', `${what} must be 24 hexadecimal digits`);
  return text.toLowerCase();
}

export function createApp(deps: AppDeps): Express {
  const { config, logger, readiness } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const users =
    deps.users ??
    (deps.db
      ? createMongoUsersRepository(deps.db, { operationTimeoutMs: config.REQUEST_TIMEOUT_MS })
      : undefined);
  if (!users) throw new TypeError('createApp needs either db or users');
  const validate = createUserValidators();
  const openapi = JSON.stringify(buildOpenApiDocument({ pageLimitDefault: config.PAGE_LIMIT_DEFAULT, pageLimitMax: config.PAGE_LIMIT_MAX, bodyLimitBytes: config.BODY_LIMIT_BYTES }));
  const readBody = jsonBody(config.BODY_LIMIT_BYTES, config.REQUEST_TIMEOUT_MS);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.TRUST_PROXY);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    req.id = requestIdFrom(req.headers['x-request-id']);
    req.log = logger.child({ reqId: req.id });
    res.setHeader('X-Request-Id', req.id);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    // Keep-alive clients learn to reconnect (to another replica) once this one is draining.
    if (readiness.isShuttingDown()) res.setHeader('Connection', 'close');
    // Only POST and PATCH read a body; any other request that sends one gets its answer and the
    // connection closes, instead of Node draining a body nobody reads (possibly endless).
    if (req.method !== 'POST' && req.method !== 'PATCH' && hasBody(req) && req.headers['content-length'] !== '0') res.setHeader('Connection', 'close');
    // A body still arriving when the connection closes (refused, too large, too slow) is read a little
    // longer, so the client gets to read the answer (request-body.ts lingerBeforeClose).
    if (hasBody(req)) lingerBeforeClose(req);
    // 'close' also fires when the client hangs up before the response is complete ('finish' does not);
    // those are recorded with nginx's 499 (client closed request) so they are visible, not lost.
    res.on('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : UNMATCHED_ROUTE;
      const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED_REQUEST;
      metrics.httpDuration.observe({ method: req.method, route, status_code: String(status) }, seconds);
      req.log.info({ method: req.method, path: req.path, route, status, durationMs: Math.round(seconds * 1e4) / 10 }, 'request');
    });
    // RFC 9112 §3.2: an HTTP/1.1 request without exactly one non-empty Host is a 400 (Node's own
    // check is switched off in server.ts, so that the answer is problem+json like every other).
    if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
      let hosts = 0;
      for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]?.toLowerCase() === 'host') hosts += 1;
      if (hosts !== 1 || !req.headers.host?.trim()) throw new HttpProblem('badRequest', 'an HTTP/1.1 request needs exactly one non-empty Host header');
    }
    next();
  });

  const requireDatabase: RequestHandler = (_req, _res, next) => {
    if (!readiness.isDatabaseReady()) {
      throw new HttpProblem('unavailable', 'the database is not available yet', { headers: { 'Retry-After': '1' } });
    }
    next();
  };

  // Writes need the unique indexes: without them the same person could be stored twice.
  const requireIndexes: RequestHandler = (_req, _res, next) => {
    if (!readiness.isSchemaReady()) {
      throw new HttpProblem('unavailable', 'the database is being prepared (unique indexes); retry shortly', { headers: { 'Retry-After': '1' } });
    }
    next();
  };

  app
    .route(PATHS.users)
    .get(requireDatabase, async (req, res) => {
      const limit = parseLimit(singleQueryValue(req, 'limit'), config);
      const afterText = singleQueryValue(req, 'after');
      const after = afterText === undefined ? undefined : parseObjectId(afterText, '?after=');
      const page = await users.list({ limit, after });
      const last = page.users.at(-1);
      if (page.hasMore && last) res.setHeader('Link', `<${PATHS.users}?limit=${limit}&after=${last._id}>; rel="next"`);
      res.status(200).json(page.users);
    })
    .post(requireDatabase, requireIndexes, ...readBody, async (req, res) => {
      const body: unknown = req.body;
      if (!validate.create(body)) throw new HttpProblem('validation', 'the user is invalid', { errors: fieldErrors(validate.create.errors) });
      rejectBadCharacters(body, 'the user is invalid');
      const user = await users.create(body);
      res.setHeader('Location', `${PATHS.users}/${user._id}`);
      res.status(201).json(user);
    })
    .options(optionsHandler(ALLOW.collection))
    .all(methodNotAllowed(ALLOW.collection));

  app
    .route(`${PATHS.users}/:id`)
    .get(requireDatabase, async (req, res) => {
      const id = parseObjectId(req.params.id, 'the user id');
      const user = await users.get(id);
      if (!user) throw new HttpProblem('notFound', `no user with id ${id}`);
      res.status(200).json(user);
    })
    .patch(requireDatabase, requireIndexes, ...readBody, async (req, res) => {
      const id = parseObjectId(req.params.id, 'the user id');
      const body: unknown = req.body;
      if (!validate.patch(body)) throw new HttpProblem('validation', 'the change is invalid', { errors: fieldErrors(validate.patch.errors) });
      rejectBadCharacters(body, 'the change is invalid');
      const user = await users.update(id, body);
      if (!user) throw new HttpProblem('notFound', `no user with id ${id}`);
      res.status(200).json(user);
    })
    .delete(requireDatabase, async (req, res) => {
      const id = parseObjectId(req.params.id, 'the user id');
      if (!(await users.remove(id))) throw new HttpProblem('notFound', `no user with id ${id}`);
      res.status(204).end();
    })
    .options(optionsHandler(ALLOW.item))
    .all(methodNotAllowed(ALLOW.item));

  app
    .route(PATHS.liveness)
    .get((_req, res) => {
      res.status(200).json({ status: 'ok' });
    })
    .all(methodNotAllowed(ALLOW.readOnly));

  app
    .route(PATHS.readiness)
    .get(async (_req, res) => {
      const report = await readiness.check();
      res.status(report.ready ? 200 : 503).json(report.ready ? { status: 'ready' } : { status: 'not ready', reason: report.reason });
    })
    .all(methodNotAllowed(ALLOW.readOnly));

  app
    .route(PATHS.metrics)
    .get(async (_req, res) => {
      const text = await metrics.registry.metrics();
      res.status(200).type(metrics.registry.contentType).send(text);
    })
    .all(methodNotAllowed(ALLOW.readOnly));

  app
    .route(PATHS.openapi)
    .get((_req, res) => {
      res.status(200).type('application/json').send(openapi);
    })
    .all(methodNotAllowed(ALLOW.readOnly));

  app.use((req) => {
    throw new HttpProblem('notFound', `no resource at ${instanceOf(req)}`);
  });

  // Express 5 recognises error middleware by its four parameters.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let problem = error instanceof HttpProblem ? error : bodyParserProblem(error);
    if (!problem && error instanceof DuplicateUserError) problem = new HttpProblem('conflict', error.message);
    if (!problem && isDatabaseUnavailable(error)) {
      req.log.warn({ err: error }, 'database unavailable');
      problem = new HttpProblem('unavailable', 'the database is unavailable; retry later', { headers: { 'Retry-After': '1' } });
    }
    if (res.headersSent) {
      req.log.error({ err: error }, 'error after the response started');
      res.destroy();
      return;
    }
    const kind: ProblemKind = problem?.kind ?? 'internal';
    if (!problem) req.log.error({ err: error }, 'unhandled error');
    const detail = problem?.detail ?? `unexpected error; quote request id ${req.id}`;
    // A body left unread (refused before or while reading it) is never drained: the connection closes.
    const headers = req.complete ? problem?.headers : { ...problem?.headers, ...CLOSE_CONNECTION };
    sendProblem(res, problemBody(kind, detail, instanceOf(req), req.id, problem?.errors), headers);
  });

  return app;
}
