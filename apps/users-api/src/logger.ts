// Structured JSON logs (pino). Credentials in MongoDB connection strings are scrubbed from every line
// at the last step before output, so no code path, error message or stack can leak them.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger };

// mongodb://user:pass@host and mongodb+srv://user@host: everything between the scheme and '@'.
const URI_CREDENTIALS = /(mongodb(?:\+srv)?:\/\/)[^@/\s"'?#]+@/gi;

// Connection-string options that carry secrets (e.g. a TLS key password) rather than the userinfo.
const SECRET_URI_OPTIONS = /((?:password|tlsCertificateKeyFilePassword|authMechanismProperties)=)[^&\s"']*/gi;

/** The text with every MongoDB URI's user and password, and secret URI options, replaced by `***`. */
export function redactMongoUri(text: string): string {
  return text.replace(URI_CREDENTIALS, '$1***@').replace(SECRET_URI_OPTIONS, '$1***');
}

/** Scheme and hosts only, for a log line that says where the API connects: no userinfo, no options. */
export function mongoTargetOf(uri: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)(?:[^@/]*@)?([^/?]*)/i.exec(uri);
  return match ? `${match[1]}${match[2]}` : '(unparseable URI)';
}

export interface LoggerOptions {
  level: string;
  /** Defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'users-api' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Belt and braces: the config object or a URI field is never logged on purpose, but if it were...
      redact: { paths: ['MONGODB_URI', '*.MONGODB_URI', 'uri', '*.uri', 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      hooks: { streamWrite: redactMongoUri },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

// Printable token characters only, bounded: a client-chosen id is echoed into logs and headers.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The client's X-Request-Id when it is sane, else a fresh UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}
