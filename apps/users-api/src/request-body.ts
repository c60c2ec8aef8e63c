// Request bodies: JSON only. The original API's documented `curl -d '{...}'` sends
// application/x-www-form-urlencoded, and it accepted that as JSON; we keep that: a form-typed body that
// is a JSON document is parsed as JSON. Anything else that is not JSON is 415.
import express from 'express';
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

/** Reads the raw body (bounded by `limit`, no compressed bodies) and replaces req.body with its JSON value. */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const readRaw = express.raw({ type: () => true, limit: limitBytes, inflate: false });
  const decode = (req: Request, _res: Response, next: NextFunction): void => {
    req.body = decodeJsonBody(req.headers['content-type'], Buffer.isBuffer(req.body) ? req.body : undefined);
    next();
  };
  return [readRaw, decode];
}
