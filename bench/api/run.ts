// Load benchmark of the users API against a raw node:http handler doing the same storage calls:
//   node bench/api/run.ts [--seconds 10] [--warmup 2] [--connections 10] [--write]
// (--write replaces the "Users API" section of bench/README.md with this run's results)
// Against the MongoDB named by MONGODB_URI, else the in-memory stand-in as a 3-member replica set (its own process). Every case
// runs for a fixed time on loopback; the results and the API/raw ratios come from this one run.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    write: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP_SECONDS = Number(values.warmup);
const CONNECTIONS = Number(values.connections);
const SEED = 50; // one full default page for GET /users
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const children: ChildProcess[] = [];

function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = output.match(ready);
      if (match) resolve({ child, match });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${output}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

let serial = 0;
function uniqueUser(tag: string): string {
  serial += 1;
  return JSON.stringify({ name: `Bench ${tag} ${serial}`, username: `${tag}-${process.pid}-${serial}`, email: `${tag}-${process.pid}-${serial}@bench.test` });
}

async function seed(url: string): Promise<void> {
  const existing = (await (await fetch(`${url}/users`)).json()) as unknown[];
  for (let i = existing.length; i < SEED; i += 1) {
    const response = await fetch(`${url}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: uniqueUser('seed') });
    if (response.status !== 201) throw new Error(`seeding failed: ${response.status}`);
  }
}

interface Measurement {
  store: string;
  endpoint: string;
  target: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

async function measure(url: string, endpoint: 'GET /users' | 'POST /users', tag: string, seconds: number): Promise<Pick<Measurement, 'rps' | 'p50' | 'p99' | 'requests' | 'non2xx' | 'errors'>> {
  const options: autocannon.Options = {
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests:
      endpoint === 'GET /users'
        ? [{ method: 'GET', path: '/users' }]
        : [
            {
              method: 'POST',
              path: '/users',
              headers: { 'content-type': 'application/json' },
              setupRequest: (request) => ({ ...request, body: uniqueUser(tag) }),
            },
          ],
  };
  const result = await autocannon(options);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total, non2xx: result.non2xx, errors: result.errors };
}

/** `uptime` as the machine prints it (load averages over 1, 5 and 15 minutes), or os.loadavg() without it. */
function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg().map((n) => n.toFixed(2)).join(', ')}`;
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  const uptimeBefore = uptime();
  let uri = process.env.MONGODB_URI;
  let database = 'the MongoDB at MONGODB_URI';
  if (!uri) {
    // The replica-set stand-in, reached like production: all three members, replicaSet=, SCRAM credentials.
    const { match } = await startProcess([here('../../test/support/mongo-standin/main.ts'), '--port', '0', '--members', '3'], {}, /MONGODB_URI=(mongodb:\/\/\S+)/);
    uri = match[1] ?? '';
    database = "the in-memory MongoDB stand-in as a 3-member replica set (test/support/mongo-standin, own process; the operator's URI format)";
  }
  const env = { MONGODB_URI: uri };
  console.error(`# users API benchmark: ${SECONDS}s per case after ${WARMUP_SECONDS}s warm-up, ${CONNECTIONS} connections, loopback`);
  console.error(`# node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), database: ${database}`);

  // Each pair runs A-B-B-A (API, raw, raw, API) so drift on a shared machine hits both sides alike; every
  // measurement gets a fresh target process, and every POST measurement a fresh database, because the
  // stand-in's inserts get slower as a collection grows.
  const results: Measurement[] = [];
  let round = 0;
  for (const store of ['mongo', 'memory'] as const) {
    for (const endpoint of ['GET /users', 'POST /users'] as const) {
      for (const target of ['api', 'raw', 'raw', 'api'] as const) {
        round += 1;
        const database = endpoint === 'POST /users' ? `bench_${process.pid}_${round}` : `bench_${process.pid}_get`;
        const { child, match } = await startProcess([here('./target.ts'), target, store], { ...env, BENCH_DB: database }, /READY (\S+)/);
        const url = match[1] ?? '';
        if (endpoint === 'GET /users') await seed(url);
        // Unrecorded warm-up: JIT and connection pools settle before the measured window.
        if (WARMUP_SECONDS > 0) await measure(url, endpoint, `${store}-${target}-${round}-warm`, WARMUP_SECONDS);
        const measured = await measure(url, endpoint, `${store}-${target}-${round}`, SECONDS);
        await stop(child);
        results.push({ store, endpoint, target, ...measured });
        console.error(`#   ${store.padEnd(6)} ${endpoint.padEnd(11)} ${target.padEnd(3)} ${measured.rps.toFixed(0).padStart(6)} req/s  p99 ${measured.p99} ms  (${measured.requests} requests, non-2xx ${measured.non2xx}, errors ${measured.errors})`);
      }
    }
  }

  const lines = [
    '| storage | endpoint | API req/s | raw req/s | API/raw req/s | API p99 ms | raw p99 ms | non-2xx + errors |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ];
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  for (const store of ['mongo', 'memory']) {
    for (const endpoint of ['GET /users', 'POST /users']) {
      const of = (target: string) => results.filter((r) => r.store === store && r.endpoint === endpoint && r.target === target);
      const api = of('api');
      const raw = of('raw');
      if (api.length === 0 || raw.length === 0) continue;
      const [apiRps, rawRps] = [mean(api.map((r) => r.rps)), mean(raw.map((r) => r.rps))];
      const [apiP99, rawP99] = [mean(api.map((r) => r.p99)), mean(raw.map((r) => r.p99))];
      const failures = [...api, ...raw].reduce((sum, r) => sum + r.non2xx + r.errors, 0);
      const storeName = store === 'mongo' ? (process.env.MONGODB_URI ? 'MongoDB' : 'stand-in') : 'in-memory (HTTP layer only)';
      lines.push(
        `| ${storeName} | ${endpoint} | ${apiRps.toFixed(0)} | ${rawRps.toFixed(0)} | ${(apiRps / rawRps).toFixed(2)} | ${apiP99.toFixed(0)} | ${rawP99.toFixed(0)} | ${failures} |`,
      );
    }
  }
  const rawRps = (store: string, endpoint: string): number =>
    mean(results.filter((r) => r.store === store && r.endpoint === endpoint && r.target === 'raw').map((r) => r.rps));
  const bottleneck = ['GET /users', 'POST /users'].map(
    (endpoint) => `${endpoint}: raw handler ${rawRps('mongo', endpoint).toFixed(0)} req/s with the database vs ${rawRps('memory', endpoint).toFixed(0)} in memory`,
  );
  const shares = ['GET /users', 'POST /users'].map((endpoint) => ({ endpoint, share: rawRps('mongo', endpoint) / rawRps('memory', endpoint) }));
  const worst = shares.reduce((a, b) => (b.share < a.share ? b : a));
  const databaseBound = worst.share < 0.5;
  const command = `node bench/api/run.ts${SECONDS === 10 ? '' : ` --seconds ${SECONDS}`}${WARMUP_SECONDS === 2 ? '' : ` --warmup ${WARMUP_SECONDS}`}${CONNECTIONS === 10 ? '' : ` --connections ${CONNECTIONS}`} --write`;
  const section = [
    '## Users API',
    '',
    `\`${command}\` on ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, one run.`,
    `Database: ${database}. autocannon on loopback, ${CONNECTIONS} connections, ${SECONDS} s per measurement after a ${WARMUP_SECONDS} s unrecorded warm-up.`,
    '"API" is `apps/users-api` (Express 5, ajv, problem+json, metrics; request logs off: LOG_LEVEL=warn); "raw" is a bare `node:http`',
    'handler (`bench/api/raw-server.ts`) making the same repository calls, hence the same driver calls on the same database.',
    'Each pair runs API, raw, raw, API (each in a fresh process, each POST run on a fresh database) and the table shows the means.',
    'GET /users returns a full default page (50 users); POST /users inserts a new unique user per request.',
    'The in-memory rows replace the database by `bench/api/memory-users.ts` in both servers: the HTTP layer alone.',
    '',
    ...lines,
    '',
    `Where the time goes (${bottleneck.join('; ')}): the load generator, the server and the database share the ${availableParallelism()} cores,`,
    'so the database rows measure the whole system; the in-memory rows are the cost of the API layer itself.',
    databaseBound
      ? `The database is the bottleneck here (with it, the raw handler reaches ${(100 * worst.share).toFixed(0)}% of its in-memory rate on ${worst.endpoint}), so the database rows say little about the API layer; read the in-memory rows for that.`
      : 'The database is not the dominant cost here: the database rows compare the API layer under realistic load.',
    `Machine load: 1-minute load average ${loadBefore.toFixed(1)} before and ${loadavg()[0]?.toFixed(1)} after the run on ${availableParallelism()} cores (other jobs raise it and the spread between runs).`,
    `\`uptime\` before: \`${uptimeBefore}\`; after: \`${uptime()}\`.`,
    '',
  ].join('\n');
  process.stdout.write(section);
  if (values.write) {
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '# Benchmarks\n';
    const re = /## Users API\n[\s\S]*?(?=\n## |$)/;
    const next = re.test(text) ? text.replace(re, `${section.trimEnd()}\n`) : `${text.trimEnd()}\n\n${section}`;
    writeFileSync(readme, next.endsWith('\n') ? next : `${next}\n`);
  }
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const child of children) await stop(child);
  });
