// One envalid spec for the API's settings. The app parses process.env with it at start-up, and the
// environment generator validates every overlays/<env>/.env against the very same object.
import { bool, cleanEnv, num, port, str, url, EnvError, EnvMissingError } from 'envalid';
import { HTTP_PORT, MONGODB_URI_ENV } from './contract.ts';

export const configSpec = {
  [MONGODB_URI_ENV]: url({
    desc: 'MongoDB connection string; comes from the operator-generated Secret, never from .env',
    example: 'mongodb://user:pass@host:27017/admin?replicaSet=rs0',
  }),
  MONGODB_DB: str({ default: 'users', desc: 'Application database (the URI path is the authentication database)' }),
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: num({ default: 2000, desc: 'How long a request waits for a usable MongoDB server' }),
  MONGODB_CONNECT_RETRY_MAX_MS: num({ default: 10000, desc: 'Upper bound of the reconnect backoff at start-up' }),
  PORT: port({ default: HTTP_PORT, desc: 'TCP port to listen on' }),
  HOST: str({ default: '0.0.0.0', desc: 'Address to listen on' }),
  LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  BODY_LIMIT_BYTES: num({ default: 16384, desc: 'Largest accepted request body' }),
  PAGE_LIMIT_DEFAULT: num({ default: 50, desc: 'Page size of GET /users without ?limit=' }),
  PAGE_LIMIT_MAX: num({ default: 500, desc: 'Largest accepted ?limit=' }),
  SHUTDOWN_TIMEOUT_MS: num({ default: 10000, desc: 'How long in-flight requests may take after SIGTERM' }),
  REQUEST_TIMEOUT_MS: num({ default: 5000, desc: 'Upper bound of one database operation' }),
  TRUST_PROXY: bool({ default: false, desc: 'Honour X-Forwarded-* from the ingress controller' }),
} as const;

export type ConfigKey = keyof typeof configSpec;
export type Config = ReturnType<typeof cleanEnv<typeof configSpec>>;

/** Keys whose values are secret: they are injected from Secrets and must never appear in a .env file. */
export const SECRET_CONFIG_KEYS: readonly ConfigKey[] = [MONGODB_URI_ENV];

export interface ConfigProblem {
  key: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.key}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Every problem in `env` at once (envalid reports them together); empty when the config is valid. */
export function checkConfig(env: Record<string, string | undefined>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  cleanEnv(env, configSpec, {
    reporter: ({ errors }) => {
      for (const [key, error] of Object.entries(errors)) {
        if (!error) continue;
        const message = error instanceof EnvMissingError ? 'is required but not set' : describe(key, error);
        problems.push({ key, message });
      }
    },
  });
  return problems.sort((a, b) => a.key.localeCompare(b.key));
}

function describe(key: string, error: Error): string {
  // envalid messages echo the offending value; a secret's value must not reach logs.
  if ((SECRET_CONFIG_KEYS as readonly string[]).includes(key)) return 'has an invalid value (value not shown: secret)';
  if (error instanceof EnvError) return error.message.trim() || 'has an invalid value';
  return 'has an invalid value';
}

/** Parses and validates the API's configuration; throws ConfigError listing every bad key. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const problems = checkConfig(env);
  if (problems.length > 0) throw new ConfigError(problems);
  return cleanEnv(env, configSpec, { reporter: null });
}
