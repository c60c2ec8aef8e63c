// One envalid spec for the API's settings, with each setting's real range and the rules between
// settings. The app parses process.env with it at start-up, and the environment generator validates
// every overlays/<env>/.env against the very same object (scripts/lib/inputs/dotenv.ts calls checkConfig).
import { isIP } from 'node:net';
import { bool, cleanEnv, makeValidator, str, EnvError, EnvMissingError } from 'envalid';
import { createRequire } from 'node:module';
import type { MongoClient as MongoClientType } from 'mongodb';
import { ConnectionString } from 'mongodb-connection-string-url';
import {
  DEPLOYMENT_BOUND_SETTINGS, HTTP_PORT, MONGODB_URI_ENV, SHUTDOWN_HARD_EXIT_MARGIN_MS, TERMINATION_GRACE_PERIOD_SECONDS,
} from './contract.ts';

/**
 * The largest SHUTDOWN_TIMEOUT_MS that still lets main.ts exit before the kubelet's SIGKILL:
 * the pod's grace period minus the hard-exit margin main.ts adds.
 */
export const MAX_SHUTDOWN_TIMEOUT_MS = TERMINATION_GRACE_PERIOD_SECONDS * 1000 - SHUTDOWN_HARD_EXIT_MARGIN_MS;

/**
 * A whole number in plain decimal digits within [min, max]. envalid's num() is Number(), which takes
 * `0x10`, `1e3`, ` 5 ` and `-1`; a timeout or a size is none of those.
 */
function integer(range: { min: number; max: number; unit: string; why?: string }) {
  return makeValidator<number>((input: string) => {
    const text = String(input);
    const value = /^(0|[1-9][0-9]{0,15})$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= range.min && value <= range.max)) {
      throw new EnvError(
        `must be a whole number of ${range.unit} from ${range.min} to ${range.max}, in decimal digits${range.why ? ` (${range.why})` : ''}`,
      );
    }
    return value;
  });
}

/**
 * The connection string as the driver reads it: mongodb-connection-string-url (the driver's own URI
 * parser) for the structure, then the driver's option parser (constructing a MongoClient, which does not
 * connect) for every option's value. A URL parser would refuse the operator's multi-host strings.
 */
export function checkMongoUri(uri: string): string | undefined {
  let parsed: ConnectionString;
  try {
    parsed = new ConnectionString(uri);
  } catch (error) {
    return redact(`is not a MongoDB connection string: ${(error as Error).message}`, uri);
  }
  try {
    // The driver is loaded here, not at import: every toolkit CLI imports this module for the settings
    // spec, and only a MONGODB_URI check needs the driver (about 0.3 s of start-up otherwise).
    const { MongoClient } = createRequire(import.meta.url)('mongodb') as { MongoClient: typeof MongoClientType };
    // eslint-disable-next-line no-new
    new MongoClient(uri);
  } catch (error) {
    return redact(`has an invalid option: ${(error as Error).message}`, uri, parsed);
  }
  return undefined;
}

/** Never let a credential reach a log line, even if a driver message quotes part of the URI. */
function redact(message: string, uri: string, parsed?: ConnectionString): string {
  const secrets = [parsed?.password, parsed?.username, parsed ? decodeURIComponentSafe(parsed.password) : undefined]
    .filter((s): s is string => typeof s === 'string' && s.length > 0);
  const userinfo = /^[a-z+]+:\/\/([^@/]*)@/i.exec(uri)?.[1];
  if (userinfo) secrets.push(userinfo, ...userinfo.split(':'));
  let out = message;
  // Shorter strings would mangle ordinary words of the message and cannot carry much of a secret.
  for (const secret of secrets.filter((s) => s.length >= 3)) out = out.split(secret).join('***');
  return out;
}

function decodeURIComponentSafe(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const mongoUri = makeValidator<string>((input: string) => {
  const problem = checkMongoUri(String(input));
  if (problem) throw new EnvError(problem);
  return String(input);
});

// MongoDB database names: under 64 bytes, none of / \ . " $ space or NUL
// (https://www.mongodb.com/docs/manual/reference/limits/#naming-restrictions).
const databaseName = makeValidator<string>((input: string) => {
  const text = String(input);
  if (text.length === 0 || Buffer.byteLength(text) >= 64 || /[/\\. "$\0]/.test(text)) {
    throw new EnvError('must be a MongoDB database name: 1 to 63 bytes without / \\ . " $ space or NUL');
  }
  return text;
});

const listenAddress = makeValidator<string>((input: string) => {
  const text = String(input);
  if (isIP(text) === 0) throw new EnvError('must be an IP address to listen on (0.0.0.0 or :: for every address)');
  return text;
});

const ms = (min: number, max: number, why?: string) => integer({ min, max, unit: 'milliseconds', ...(why ? { why } : {}) });

export const configSpec = {
  [MONGODB_URI_ENV]: mongoUri({
    desc: "MongoDB connection string; comes from the operator-generated Secret, never from .env (the operator's multi-host format is accepted)",
    example: 'mongodb://user:pass@db-0.db-svc:27017,db-1.db-svc:27017,db-2.db-svc:27017/admin?replicaSet=db&ssl=false',
  }),
  MONGODB_DB: databaseName({ default: 'users', desc: 'Application database (the URI path is the authentication database)' }),
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: ms(100, 60_000)({ default: 2000, desc: 'How long a request waits for a usable MongoDB server (100 to 60000)' }),
  MONGODB_CONNECT_RETRY_MAX_MS: ms(100, 300_000)({ default: 10000, desc: 'Upper bound of the reconnect backoff at start-up (100 to 300000)' }),
  PORT: integer({ min: 1, max: 65_535, unit: 'port' })({ default: HTTP_PORT, desc: 'TCP port to listen on (fixed by the manifests; not settable in .env)' }),
  // Loopback unless told otherwise: a local `npm start` is not reachable from the network. The image
  // (Dockerfile ENV HOST=0.0.0.0) and the generated Deployment set every address explicitly.
  HOST: listenAddress({ default: '127.0.0.1', desc: 'IP address to listen on: 127.0.0.1 by default; the image and the manifests set 0.0.0.0 (not settable in .env)' }),
  LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  BODY_LIMIT_BYTES: integer({ min: 2048, max: 1_048_576, unit: 'bytes', why: 'a valid user is up to ~1.4 KB of UTF-8 JSON; 1 MiB caps memory per request' })({
    default: 16384,
    desc: 'Largest accepted request body (2048 to 1048576)',
  }),
  PAGE_LIMIT_DEFAULT: integer({ min: 1, max: 10_000, unit: 'users' })({ default: 50, desc: 'Page size of GET /users without ?limit= (1 to PAGE_LIMIT_MAX)' }),
  PAGE_LIMIT_MAX: integer({ min: 1, max: 10_000, unit: 'users' })({ default: 500, desc: 'Largest accepted ?limit= (1 to 10000)' }),
  SHUTDOWN_TIMEOUT_MS: ms(1000, MAX_SHUTDOWN_TIMEOUT_MS, `the pod's terminationGracePeriodSeconds is ${TERMINATION_GRACE_PERIOD_SECONDS} and the process needs ${SHUTDOWN_HARD_EXIT_MARGIN_MS} ms more to exit`)({
    default: 10000,
    desc: `How long in-flight requests may take after SIGTERM (1000 to ${MAX_SHUTDOWN_TIMEOUT_MS}, at least REQUEST_TIMEOUT_MS)`,
  }),
  REQUEST_TIMEOUT_MS: ms(100, 60_000)({ default: 5000, desc: 'Upper bound of one database operation and of receiving a request body (100 to 60000)' }),
  TRUST_PROXY: bool({ default: false, desc: 'Honour X-Forwarded-* from the ingress controller' }),
} as const;

export type ConfigKey = keyof typeof configSpec;
export type Config = ReturnType<typeof cleanEnv<typeof configSpec>>;

/** Keys whose values are secret: they are injected from Secrets and must never appear in a .env file. */
export const SECRET_CONFIG_KEYS: readonly ConfigKey[] = [MONGODB_URI_ENV];

export interface ConfigProblem {
  key: string;
  message: string;
  /** How to fix it, when it is not simply "set a valid value". */
  fix?: string;
}

export interface CheckConfigOptions {
  /**
   * The values come from a per-environment .env (the generator's check): settings the manifests are
   * bound to (contract.ts DEPLOYMENT_BOUND_SETTINGS) may not be set there.
   */
  perEnvironment?: boolean;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.key}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Every problem in `env` at once (single settings, then the rules between them); empty when valid. */
export function checkConfig(env: Record<string, string | undefined>, options: CheckConfigOptions = {}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (options.perEnvironment) {
    for (const [key, { allowed, reason }] of Object.entries(DEPLOYMENT_BOUND_SETTINGS)) {
      const value = env[key];
      if (value === undefined || (allowed as readonly string[]).includes(value)) continue;
      problems.push({ key, message: `cannot be changed per environment: ${reason}`, fix: `delete the ${key} line` });
    }
  }
  let parsed: Config | undefined;
  cleanEnv(env, configSpec, {
    reporter: ({ errors, env: cleaned }) => {
      let failed = false;
      for (const [key, error] of Object.entries(errors)) {
        if (!error) continue;
        failed = true;
        const message = error instanceof EnvMissingError ? 'is required but not set' : describe(key, error);
        if (!problems.some((p) => p.key === key)) problems.push({ key, message });
      }
      if (!failed) parsed = cleaned as Config;
    },
  });
  if (parsed) problems.push(...crossFieldProblems(parsed));
  return problems.sort((a, b) => a.key.localeCompare(b.key));
}

/** Rules between settings, checked once each setting is valid on its own. */
function crossFieldProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.PAGE_LIMIT_DEFAULT > config.PAGE_LIMIT_MAX) {
    problems.push({
      key: 'PAGE_LIMIT_DEFAULT',
      message: `(${config.PAGE_LIMIT_DEFAULT}) is larger than PAGE_LIMIT_MAX (${config.PAGE_LIMIT_MAX}): GET /users without ?limit= would return more than any client may ask for`,
      fix: 'make PAGE_LIMIT_DEFAULT at most PAGE_LIMIT_MAX',
    });
  }
  if (config.REQUEST_TIMEOUT_MS > config.SHUTDOWN_TIMEOUT_MS) {
    problems.push({
      key: 'SHUTDOWN_TIMEOUT_MS',
      message: `(${config.SHUTDOWN_TIMEOUT_MS}) is shorter than REQUEST_TIMEOUT_MS (${config.REQUEST_TIMEOUT_MS}): a request accepted just before SIGTERM could be cut off`,
      fix: `make SHUTDOWN_TIMEOUT_MS at least REQUEST_TIMEOUT_MS (and at most ${MAX_SHUTDOWN_TIMEOUT_MS})`,
    });
  }
  return problems;
}

function describe(key: string, error: Error): string {
  // Values are never echoed (a .env value can be a pasted credential); our validators' messages name
  // the range instead. URI messages are redacted (checkMongoUri) before they get here.
  const message = error instanceof EnvError ? error.message.trim() : '';
  if ((SECRET_CONFIG_KEYS as readonly string[]).includes(key)) {
    return /^(is not a MongoDB connection string|has an invalid option)/.test(message) ? message : 'has an invalid value (value not shown: secret)';
  }
  return message || 'has an invalid value';
}

/** Parses and validates the API's configuration; throws ConfigError listing every bad key. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const problems = checkConfig(env);
  if (problems.length > 0) throw new ConfigError(problems);
  return cleanEnv(env, configSpec, { reporter: null });
}
