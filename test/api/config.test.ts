// The API's settings: every value that used to pass the gates and then broke the API or the cluster
// (issue 11, "Values that pass the gates...") and the operator's multi-host connection string (issue 12).
// The same checkConfig serves the API (main.ts exits 2) and the .env check (scripts/lib/inputs/dotenv.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_SHUTDOWN_TIMEOUT_MS, checkConfig } from '../../apps/users-api/src/config.ts';
import { SHUTDOWN_HARD_EXIT_MARGIN_MS, TERMINATION_GRACE_PERIOD_SECONDS } from '../../apps/users-api/src/contract.ts';
import { apiDeployment } from '../../scripts/lib/generate/api-base.ts';
import { checkDotenv } from '../../scripts/lib/inputs/dotenv.ts';
import { operatorConnectionString } from '../support/mongo-standin/operator-uri.ts';

const MAIN = fileURLToPath(new URL('../../apps/users-api/src/main.ts', import.meta.url));

// The exact shape MCK 1.10.0 writes (MongoAuthUserURI), for a three-member set in namespace staging.
const OPERATOR_URI = operatorConnectionString({
  username: 'users-api',
  password: 'p@ss:w/rd?#[]% +',
  resourceName: 'users-db',
  namespace: 'staging',
  members: 3,
  database: 'admin',
});

function problemsOf(env: Record<string, string>): Array<{ key: string; message: string }> {
  return checkConfig({ MONGODB_URI: OPERATOR_URI, ...env });
}

describe('API settings: ranges and rules (issue 11)', () => {
  it.each([
    ['REQUEST_TIMEOUT_MS', '-1'],
    ['REQUEST_TIMEOUT_MS', '0x10'],
    ['REQUEST_TIMEOUT_MS', '1e3'],
    ['REQUEST_TIMEOUT_MS', ' 5000'],
    ['REQUEST_TIMEOUT_MS', '0'],
    ['MONGODB_SERVER_SELECTION_TIMEOUT_MS', '-5'],
    ['MONGODB_CONNECT_RETRY_MAX_MS', '99999999999'],
    ['BODY_LIMIT_BYTES', '-1'],
    ['BODY_LIMIT_BYTES', '1e12'],
    ['BODY_LIMIT_BYTES', '1000000000000'],
    ['PAGE_LIMIT_DEFAULT', '0'],
    ['PAGE_LIMIT_MAX', '0'],
    ['SHUTDOWN_TIMEOUT_MS', String(TERMINATION_GRACE_PERIOD_SECONDS * 1000 + 1)],
    ['SHUTDOWN_TIMEOUT_MS', String(MAX_SHUTDOWN_TIMEOUT_MS + 1)],
    ['PORT', '0'],
    ['PORT', '65536'],
    ['HOST', 'not-an-address'],
    ['MONGODB_DB', 'a.b'],
    ['MONGODB_DB', 'x'.repeat(64)],
  ])('%s=%s is refused, naming the setting and its range', (key, value) => {
    const problems = problemsOf({ [key]: value });
    expect(problems.map((p) => p.key)).toEqual([key]);
    expect(problems[0]?.message).toMatch(/must be/);
    // The value itself is never echoed: a .env value can be a pasted credential.
    if (value.length > 3) expect(problems[0]?.message).not.toContain(value);
  });

  it('accepts the defaults and the edges of every range', () => {
    expect(problemsOf({})).toEqual([]);
    expect(problemsOf({ REQUEST_TIMEOUT_MS: '100', SHUTDOWN_TIMEOUT_MS: '1000', BODY_LIMIT_BYTES: '2048', PAGE_LIMIT_DEFAULT: '1', PAGE_LIMIT_MAX: '1' })).toEqual([]);
    expect(problemsOf({ SHUTDOWN_TIMEOUT_MS: String(MAX_SHUTDOWN_TIMEOUT_MS), BODY_LIMIT_BYTES: '1048576', PAGE_LIMIT_MAX: '10000', PAGE_LIMIT_DEFAULT: '10000' })).toEqual([]);
  });

  it('PAGE_LIMIT_DEFAULT above PAGE_LIMIT_MAX is refused with the reason', () => {
    const problems = problemsOf({ PAGE_LIMIT_DEFAULT: '600', PAGE_LIMIT_MAX: '500' });
    expect(problems).toEqual([expect.objectContaining({ key: 'PAGE_LIMIT_DEFAULT', message: expect.stringContaining('PAGE_LIMIT_MAX (500)') })]);
  });

  it('SHUTDOWN_TIMEOUT_MS must fit in the grace period the Deployment really uses, and cover REQUEST_TIMEOUT_MS', () => {
    const deployment = apiDeployment({ image: 'x', defaults: { replicas: 1, tag: 't', resources: {} } } as never) as {
      spec: { template: { spec: { terminationGracePeriodSeconds: number } } };
    };
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(TERMINATION_GRACE_PERIOD_SECONDS);
    expect(MAX_SHUTDOWN_TIMEOUT_MS).toBe(TERMINATION_GRACE_PERIOD_SECONDS * 1000 - SHUTDOWN_HARD_EXIT_MARGIN_MS);
    expect(problemsOf({ SHUTDOWN_TIMEOUT_MS: '26000' })[0]?.message).toContain(`terminationGracePeriodSeconds is ${TERMINATION_GRACE_PERIOD_SECONDS}`);
    expect(problemsOf({ SHUTDOWN_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '5000' })).toEqual([
      expect.objectContaining({ key: 'SHUTDOWN_TIMEOUT_MS', message: expect.stringContaining('REQUEST_TIMEOUT_MS (5000)') }),
    ]);
  });

  it('a .env may not change PORT or HOST: the manifests are bound to the contract port on every address', () => {
    const { problems } = checkDotenv('overlays/dev/.env', 'LOG_LEVEL=info\nPORT=9090\nHOST=127.0.0.1\n');
    expect(problems).toEqual([
      expect.objectContaining({ path: 'line 2', message: expect.stringMatching(/^PORT cannot be changed per environment: .*8080/), fix: 'delete the PORT line' }),
      expect.objectContaining({ path: 'line 3', message: expect.stringMatching(/^HOST cannot be changed per environment: /), fix: 'delete the HOST line' }),
    ]);
    // Repeating what the manifests use changes nothing and is accepted.
    expect(checkDotenv('overlays/dev/.env', 'PORT=8080\nHOST=0.0.0.0\n').problems).toEqual([]);
    expect(checkDotenv('overlays/dev/.env', 'HOST=::\n').problems).toEqual([]);
  });

  it('the .env check applies the same ranges and rules as the API', () => {
    const { problems } = checkDotenv('overlays/dev/.env', 'REQUEST_TIMEOUT_MS=0x10\nPAGE_LIMIT_DEFAULT=900\n');
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/^REQUEST_TIMEOUT_MS must be a whole number/)]);
    const crossField = checkDotenv('overlays/dev/.env', 'PAGE_LIMIT_DEFAULT=900\n').problems;
    expect(crossField).toEqual([expect.objectContaining({ message: expect.stringContaining('PAGE_LIMIT_MAX (500)'), fix: 'make PAGE_LIMIT_DEFAULT at most PAGE_LIMIT_MAX' })]);
  });
});

describe('MONGODB_URI is read by the driver’s own parser (issue 12)', () => {
  it("accepts the operator's multi-host connection string with escaped credentials", () => {
    expect(OPERATOR_URI).toMatch(/^mongodb:\/\/users-api:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%20%2B@users-db-0\.users-db-svc\.staging\.svc\.cluster\.local:27017,users-db-1\..*,users-db-2\..*:27017\/admin\?replicaSet=users-db&ssl=false$/);
    expect(problemsOf({})).toEqual([]);
  });

  it.each([
    ['mongodb://a:27017/?tls=maybe', /tls/],
    ['mongodb://a:27017/?authMechanism=BOGUS', /authMechanism/],
    ['mongodb://user:%zz@a:27017/', /malformed/],
    ['http://a:27017/', /scheme/],
    ['mongodb://a:27017/?serverSelectionTimeoutMS=-5', /serverSelectionTimeoutMS/],
    ['mongodb://', /host/],
  ])('%s is refused with the driver’s reason', (uri, reason) => {
    const problems = checkConfig({ MONGODB_URI: uri });
    expect(problems).toEqual([expect.objectContaining({ key: 'MONGODB_URI', message: expect.stringMatching(reason) })]);
  });

  it('never shows the password, even when the driver quotes the URI', () => {
    const problems = checkConfig({ MONGODB_URI: 'mongodb://app:hunter2secret@a:27017,b:99999/?replicaSet=rs' }); // secretlint-disable-line -- a planted fake credential
    expect(problems.map((p) => p.key)).toEqual(['MONGODB_URI']);
    expect(JSON.stringify(problems)).not.toContain('hunter2secret');
  });
});

function runMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

describe('main.ts refuses bad settings with exit 2, naming them (not 1, "failed to start")', () => {
  it.each([
    [{ MONGODB_URI: 'mongodb://app:s3cr3tpw@a:27017/?tls=maybe' }, 'MONGODB_URI'], // secretlint-disable-line -- a planted fake credential
    [{ MONGODB_URI: 'mongodb://app:s3cr3tpw@a:27017/?authMechanism=BOGUS' }, 'MONGODB_URI'], // secretlint-disable-line -- a planted fake credential
    [{ MONGODB_URI: 'mongodb://app:%zz@a:27017/' }, 'MONGODB_URI'],
    [{ MONGODB_URI: 'http://app:s3cr3tpw@a:27017/' }, 'MONGODB_URI'], // secretlint-disable-line -- a planted fake credential
    [{ MONGODB_URI: OPERATOR_URI, MONGODB_SERVER_SELECTION_TIMEOUT_MS: '-5' }, 'MONGODB_SERVER_SELECTION_TIMEOUT_MS'],
    [{ MONGODB_URI: OPERATOR_URI, REQUEST_TIMEOUT_MS: '-1' }, 'REQUEST_TIMEOUT_MS'],
  ])('%o → exit 2 naming %s', async (env, key) => {
    const { code, output } = await runMain(env);
    expect(code).toBe(2);
    expect(output).toContain(key);
    expect(output).not.toContain('failed to start');
    expect(output).not.toContain('s3cr3tpw');
  });
});
