// RFC 9457 problem details: the one shape every error response of the API takes.
import type { Response } from 'express';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export interface ProblemFieldError {
  /** JSON Pointer (RFC 6901) into the request body, "" for the body itself. */
  pointer: string;
  detail: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId?: string;
  errors?: ProblemFieldError[];
}

/** The problem kinds the API emits; `type` URIs are stable identifiers documented in the OpenAPI file. */
export const PROBLEM_TYPES = {
  badRequest: { status: 400, title: 'Bad Request', slug: 'bad-request' },
  malformedJson: { status: 400, title: 'Malformed JSON', slug: 'malformed-json' },
  validation: { status: 400, title: 'Invalid request body', slug: 'validation' },
  invalidParameter: { status: 400, title: 'Invalid parameter', slug: 'invalid-parameter' },
  notFound: { status: 404, title: 'Not Found', slug: 'not-found' },
  methodNotAllowed: { status: 405, title: 'Method Not Allowed', slug: 'method-not-allowed' },
  requestTimeout: { status: 408, title: 'Request Timeout', slug: 'request-timeout' },
  conflict: { status: 409, title: 'Conflict', slug: 'conflict' },
  headersTooLarge: { status: 431, title: 'Request Header Fields Too Large', slug: 'headers-too-large' },
  payloadTooLarge: { status: 413, title: 'Content Too Large', slug: 'payload-too-large' },
  unsupportedMediaType: { status: 415, title: 'Unsupported Media Type', slug: 'unsupported-media-type' },
  expectationFailed: { status: 417, title: 'Expectation Failed', slug: 'expectation-failed' },
  internal: { status: 500, title: 'Internal Server Error', slug: 'internal' },
  unavailable: { status: 503, title: 'Service Unavailable', slug: 'unavailable' },
} as const;

export type ProblemKind = keyof typeof PROBLEM_TYPES;

export function problemTypeUri(kind: ProblemKind): string {
  return `urn:users-api:problem:${PROBLEM_TYPES[kind].slug}`;
}

/** Thrown by handlers and middleware; the error middleware renders it, nothing else does. */
export class HttpProblem extends Error {
  readonly kind: ProblemKind;
  readonly detail: string;
  readonly errors: ProblemFieldError[] | undefined;
  readonly headers: Record<string, string>;
  constructor(kind: ProblemKind, detail: string, extra: { errors?: ProblemFieldError[]; headers?: Record<string, string> } = {}) {
    super(detail);
    this.name = 'HttpProblem';
    this.kind = kind;
    this.detail = detail;
    this.errors = extra.errors;
    this.headers = extra.headers ?? {};
  }
  get status(): number {
    return PROBLEM_TYPES[this.kind].status;
  }
}

export function problemBody(kind: ProblemKind, detail: string, instance: string, requestId?: string, errors?: ProblemFieldError[]): ProblemBody {
  const { status, title } = PROBLEM_TYPES[kind];
  return {
    type: problemTypeUri(kind),
    title,
    status,
    detail,
    instance,
    ...(requestId ? { requestId } : {}),
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function sendProblem(res: Response, body: ProblemBody, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(body.status).type(PROBLEM_MEDIA_TYPE).send(JSON.stringify(body));
}
