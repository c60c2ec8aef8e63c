// Request bodies: JSON only. The original API's documented `curl -d '{...}'` sends
// application/x-www-form-urlencoded, and it accepted that as JSON; we keep that: a form-typed body that
// is a JSON document is parsed as JSON. Anything else that is not JSON is 415.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpProblem } from './problem.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface MediaType {
  type: string;
  charset: string | undefined;
}

function parseMediaType(header: string | undefined): MediaType | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const [type = '', ...params] = header.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const [name, value] = param.split('=');
    if (name?.trim().toLowerCase() === 'charset' && value !== undefined) charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { type: type.trim().toLowerCase(), charset };
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

export const ACCEPTED_BODY_TYPES = ['application/json', 'application/merge-patch+json', 'application/x-www-form-urlencoded (a JSON document)'];

/** The JSON value of the body, or a 400/415 HttpProblem. */
export function decodeJsonBody(contentType: string | undefined, raw: Buffer | undefined): unknown {
  const media = parseMediaType(contentType);
  if (media && !isJsonType(media.type) && media.type !== 'application/x-www-form-urlencoded') {
    throw new HttpProblem('unsupportedMediaType', `${media.type} is not accepted; send application/json`);
  }
  if (media?.charset !== undefined && media.charset !== 'utf-8' && media.charset !== 'utf8') {
    throw new HttpProblem('unsupportedMediaType', `charset ${media.charset} is not accepted; send UTF-8`);
  }
  if (!raw || raw.length === 0) throw new HttpProblem('validation', 'a JSON request body is required');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new HttpProblem('malformedJson', 'the request body is not valid UTF-8');
  }
  if (media?.type === 'application/x-www-form-urlencoded' && !/^\s*[[{]/.test(text)) {
    throw new HttpProblem('unsupportedMediaType', 'form fields are not accepted; send a JSON document (application/json)');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpProblem('malformedJson', 'the request body is not valid JSON');
  }
}

/** Whether the request carries a body at all (RFC 9112 §6.3: Transfer-Encoding or Content-Length). */
export function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
}

/**
 * The response to a request whose body is not read to its end must close the connection: otherwise
 * Node drains the rest of the body to reuse the connection (an endless chunked upload: forever).
 */
export const CLOSE_CONNECTION = { Connection: 'close' } as const;

/** How much of an unread body is read and thrown away after the answer, and for how long at most. */
export const LINGER = { maxBytes: 1024 * 1024, maxMs: 5000 } as const;

const LINGERING_REQUEST = Symbol('lingeringRequest');
type LingeringSocket = Socket & { [LINGERING_REQUEST]?: IncomingMessage };

/**
 * Closing a connection whose request body is still arriving must not reset it before the client has
 * read the answer. Node ends such a connection with `socket.destroySoon()` once the response is written
 * (node _http_server.js resOnFinish), and closing a socket with unread data makes the kernel send a RST
 * that discards the answer still unread at the client (a 413 seen as "connection reset": nodejs/node#21026,
 * #64272). RFC 9112 §9.6 ("Tear-down") prescribes the staged close used here instead: half-close (our FIN
 * after the answer), keep reading and discarding what the client still sends, up to `limits.maxBytes`,
 * then stop reading but keep the socket until the client closes or `limits.maxMs` passes.
 * Called for every request that carries a body; a completely read request closes as before.
 */
export function lingerBeforeClose(req: IncomingMessage, limits: { maxBytes: number; maxMs: number } = LINGER): void {
  const socket = req.socket as LingeringSocket;
  if (!(LINGERING_REQUEST in socket)) {
    const destroySoon = socket.destroySoon.bind(socket);
    socket.destroySoon = () => {
      const pending = socket[LINGERING_REQUEST];
      if (!pending || pending.complete || socket.destroyed) {
        destroySoon();
        return;
      }
      linger(socket, pending, limits);
    };
  }
  socket[LINGERING_REQUEST] = req;
}

function linger(socket: Socket, req: IncomingMessage, limits: { maxBytes: number; maxMs: number }): void {
  let discarded = 0;
  const stop = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(stop, limits.maxMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('end', stop);
  socket.once('error', stop);
  req.once('end', stop);
  req.once('error', stop);
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    // Enough read: stop reading (the client's window closes; no reset while it reads the answer).
    if (discarded >= limits.maxBytes) req.pause();
  });
  // Our FIN goes out after the answer; reading continues.
  socket.end();
  req.resume();
}

/**
 * Reads the raw body into req.body, then replaces it with its JSON value. Stops reading as soon as the
 * body crosses `limitBytes` (413) or has not arrived within `timeoutMs` (408); both answers close the
 * connection instead of draining what the client still sends. No compressed bodies (415).
 */
export function jsonBody(limitBytes: number, timeoutMs: number): RequestHandler[] {
  const readRaw = (req: Request, _res: Response, next: NextFunction): void => {
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      next(new HttpProblem('unsupportedMediaType', 'compressed request bodies are not accepted', { headers: CLOSE_CONNECTION }));
      return;
    }
    if (!hasBody(req)) {
      req.body = undefined;
      next();
      return;
    }
    const tooLarge = () => new HttpProblem('payloadTooLarge', `the request body is larger than the accepted limit of ${limitBytes} bytes`, { headers: CLOSE_CONNECTION });
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limitBytes) {
      next(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (error?: HttpProblem): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onAborted);
      if (error) {
        // Stop reading: what is still on its way is never read, and the answer closes the connection.
        req.pause();
        next(error);
        return;
      }
      req.body = Buffer.concat(chunks, received);
      next();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limitBytes) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish();
    const onAborted = (): void => finish(new HttpProblem('badRequest', 'the request body was incomplete', { headers: CLOSE_CONNECTION }));
    const timer = setTimeout(
      () => finish(new HttpProblem('requestTimeout', `the request body did not arrive within ${timeoutMs} ms`, { headers: CLOSE_CONNECTION })),
      timeoutMs,
    );
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onAborted);
  };
  const decode = (req: Request, _res: Response, next: NextFunction): void => {
    req.body = decodeJsonBody(req.headers['content-type'], Buffer.isBuffer(req.body) ? req.body : undefined);
    next();
  };
  return [readRaw, decode];
}
