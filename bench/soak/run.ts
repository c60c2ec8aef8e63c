// Soak: the users API under a bounded, mixed read/write load on loopback, to show zero errors, the
// latency tail and that memory does not grow with traffic.
//
//   node --expose-gc bench/soak/run.ts [--seconds 60] [--connections 16] [--out bench/soak/results.json]
//
// MongoDB: the real server named by MONGODB_URI (a fresh database, dropped afterwards), otherwise the
// in-memory stand-in in a child process of its own (so its growing data set is not counted as the
// API's memory). The API runs in this process (startServer, the same code main.ts runs); autocannon,
// the load generator, runs here too, so "memory" is API + load generator, measured after a full GC.
// Exit code: 0 when there were no errors, 1 when any request failed, timed out or was not 2xx.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../apps/users-api/src/config.ts';
import { createLogger } from '../../apps/users-api/src/logger.ts';
import { startServer } from '../../apps/users-api/src/server.ts';
import type { ServerConfig } from '../../apps/users-api/src/server.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const STAND_IN_MAIN = resolve(ROOT, 'test/support/mongo-standin/main.ts');
const SEED_USERS = 200;
const WARM_UP_SECONDS = 5;
/** Growth of heap used after GC beyond which the run is reported as a likely leak. */
const HEAP_GROWTH_LIMIT_MB = 32;

const USAGE = `usage: node --expose-gc bench/soak/run.ts [--seconds N] [--connections N] [--out FILE]

Mixed load (GET /users?limit=20, GET /users/<id>, POST /users: 3 reads to 1 write) against the users API
on 127.0.0.1 for N seconds (default 60) after a ${WARM_UP_SECONDS} s warm-up. Uses MONGODB_URI when set, else the
in-memory stand-in. Prints a table and writes the figures as JSON (default bench/soak/results.json).
Exits 1 when any request failed.`;

interface Options {
  seconds: number;
  connections: number;
  out: string;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: { seconds: { type: 'string' }, connections: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return undefined;
  const seconds = Number(values.seconds ?? '60');
  const connections = Number(values.connections ?? '16');
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new Error('--seconds must be an integer from 1 to 3600');
  if (!Number.isInteger(connections) || connections < 1 || connections > 1000) throw new Error('--connections must be an integer from 1 to 1000');
  return { seconds, connections, out: resolve(values.out ?? resolve(ROOT, 'bench/soak/results.json')) };
}

interface Database {
  uri: string;
  dbName: string;
  target: 'real MongoDB' | 'stand-in';
  close(): Promise<void>;
}

async function startStandInProcess(): Promise<{ uri: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [STAND_IN_MAIN, '--port', '0', '--members', '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const uri = await new Promise<string>((resolveUri, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /MONGODB_URI=(\S+)/.exec(text);
      if (match?.[1]) resolveUri(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`the stand-in exited (${code}) before printing its URI`)));
  });
  child.stdout?.resume();
  return { uri, child };
}

async function openDatabase(): Promise<Database> {
  const dbName = `soak_${randomBytes(4).toString('hex')}`;
  const real = process.env.MONGODB_URI;
  if (real) {
    return {
      uri: real,
      dbName,
      target: 'real MongoDB',
      close: async () => {
        const client = new MongoClient(real);
        await client.db(dbName).dropDatabase().finally(() => client.close());
      },
    };
  }
  const { uri, child } = await startStandInProcess();
  return {
    uri,
    dbName,
    target: 'stand-in',
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    },
  };
}

function serverConfig(db: Database): ServerConfig {
  const config = loadConfig({ MONGODB_URI: db.uri, MONGODB_DB: db.dbName, HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  // Port 0 (any free port) is for benchmarks and tests; the config spec rightly refuses it.
  return { ...config, PORT: 0 };
}

interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
  /** Buffers and other memory outside the JS heap (where socket buffers would leak). */
  externalMb: number;
}

function memoryAfterGc(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { rssMb: round(m.rss / 2 ** 20), heapUsedMb: round(m.heapUsed / 2 ** 20), externalMb: round(m.external / 2 ** 20) };
}

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function seed(base: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < SEED_USERS; i += 1) {
    const response = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Seed ${i}`, username: `seed-${i}`, email: `seed-${i}@example.test` }),
    });
    if (response.status !== 201) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
    ids.push(((await response.json()) as { _id: string })._id);
  }
  return ids;
}

let written = 0;
function load(base: string, ids: string[], seconds: number, connections: number, tag: string): Promise<autocannon.Result> {
  let read = 0;
  return autocannon({
    url: base,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      { method: 'GET', path: '/users?limit=20' },
      {
        method: 'GET',
        path: '/users',
        setupRequest: (req) => {
          read += 1;
          return { ...req, path: `/users/${ids[read % ids.length]}` };
        },
      },
      { method: 'GET', path: '/users?limit=5' },
      {
        method: 'POST',
        path: '/users',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          written += 1;
          const n = `${tag}-${written}`;
          return { ...req, body: JSON.stringify({ name: `Soak ${n}`, username: `soak-${n}`, email: `soak-${n}@example.test` }) };
        },
      },
    ],
  });
}

interface LoadFigures {
  requests: { total: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: { p50: number; p90: number; p99: number; max: number };
  statusCodeStats: unknown;
}

/** The two halves as one run: counts add up; percentiles are the worse half's (conservative). */
function combine(a: autocannon.Result, b: autocannon.Result): LoadFigures {
  return {
    requests: { total: a.requests.total + b.requests.total, average: (a.requests.total + b.requests.total) / (a.duration + b.duration) },
    errors: a.errors + b.errors,
    timeouts: a.timeouts + b.timeouts,
    non2xx: a.non2xx + b.non2xx,
    latency: {
      p50: Math.max(a.latency.p50, b.latency.p50),
      p90: Math.max(a.latency.p90, b.latency.p90),
      p99: Math.max(a.latency.p99, b.latency.p99),
      max: Math.max(a.latency.max, b.latency.max),
    },
    statusCodeStats: [a.statusCodeStats, b.statusCodeStats],
  };
}

export interface SoakResult {
  target: string;
  seconds: number;
  connections: number;
  node: string;
  requests: number;
  writes: number;
  requestsPerSecond: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  memoryBefore: MemorySample;
  /** After the first half of the run: growth that stops here is warm-up (pools, JIT, allocator), not a leak. */
  memoryHalfway: MemorySample;
  memoryAfter: MemorySample;
  peakRssMb: number;
  gcExposed: boolean;
  heapGrowthLimitMb: number;
  /** 1-minute load average at the start and the end: other work on the machine skews the latency. */
  loadAverage: { start: number; end: number };
}

export function resultTable(r: SoakResult): string {
  return [
    '| measurement | value |',
    '|---|---:|',
    `| duration, connections | ${r.seconds} s, ${r.connections} |`,
    `| requests (3 reads : 1 write) | ${r.requests} (${r.requestsPerSecond} req/s) |`,
    `| errors + timeouts + non-2xx | ${r.errors} + ${r.timeouts} + ${r.non2xx} |`,
    `| latency p50 / p90 / p99 / max (worse of the two halves) | ${r.latencyMs.p50} / ${r.latencyMs.p90} / ${r.latencyMs.p99} / ${r.latencyMs.max} ms |`,
    `| RSS after GC, before → halfway → after (peak) | ${r.memoryBefore.rssMb} → ${r.memoryHalfway.rssMb} → ${r.memoryAfter.rssMb} MB (${r.peakRssMb} MB) |`,
    `| heap used after GC, before → halfway → after | ${r.memoryBefore.heapUsedMb} → ${r.memoryHalfway.heapUsedMb} → ${r.memoryAfter.heapUsedMb} MB |`,
    `| external (buffers) after GC, before → halfway → after | ${r.memoryBefore.externalMb} → ${r.memoryHalfway.externalMb} → ${r.memoryAfter.externalMb} MB |`,
  ].join('\n');
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`soak: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!gcExposed) process.stderr.write('soak: run node with --expose-gc for memory figures after a full GC\n');

  const db = await openDatabase();
  const server = await startServer(serverConfig(db), { logger: createLogger({ level: 'warn' }) });
  try {
    await server.databaseReady;
    const ids = await seed(server.address);
    process.stderr.write(`soak: ${db.target}, warm-up ${WARM_UP_SECONDS} s, then ${options.seconds} s with ${options.connections} connections\n`);
    await load(server.address, ids, WARM_UP_SECONDS, options.connections, 'warm');
    const memoryBefore = memoryAfterGc();
    const loadAtStart = round(loadavg()[0] ?? 0, 2);
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 250);
    const writesBefore = written;
    // Two halves, so growth that plateaus (allocator, pools) can be told from growth that goes on.
    const firstHalf = Math.ceil(options.seconds / 2);
    const first = await load(server.address, ids, firstHalf, options.connections, 'soak1');
    const memoryHalfway = memoryAfterGc();
    const second = options.seconds > firstHalf ? await load(server.address, ids, options.seconds - firstHalf, options.connections, 'soak2') : undefined;
    clearInterval(sampler);
    const memoryAfter = memoryAfterGc();
    const result = second ? combine(first, second) : first;
    const soak: SoakResult = {
      target: db.target,
      seconds: options.seconds,
      connections: options.connections,
      node: process.version,
      requests: result.requests.total,
      writes: written - writesBefore,
      requestsPerSecond: Math.round(result.requests.average),
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      memoryBefore,
      memoryHalfway,
      memoryAfter,
      peakRssMb: round(peakRss / 2 ** 20),
      gcExposed,
      heapGrowthLimitMb: HEAP_GROWTH_LIMIT_MB,
      loadAverage: { start: loadAtStart, end: round(loadavg()[0] ?? 0, 2) },
    };
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(soak, null, 2)}\n`);
    process.stdout.write(`${resultTable(soak)}\n\nwritten to ${options.out}\n`);
    const failed = soak.errors + soak.timeouts + soak.non2xx;
    const growth = memoryAfter.heapUsedMb - memoryBefore.heapUsedMb;
    if (failed > 0) process.stderr.write(`soak: ${failed} request(s) failed\n`);
    if (gcExposed && growth > HEAP_GROWTH_LIMIT_MB) process.stderr.write(`soak: heap grew by ${round(growth)} MB after GC (limit ${HEAP_GROWTH_LIMIT_MB} MB): likely leak\n`);
    return failed > 0 || (gcExposed && growth > HEAP_GROWTH_LIMIT_MB) ? 1 : 0;
  } finally {
    await server.stop();
    await db.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
