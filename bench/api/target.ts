// One benchmark target in its own process (so it never shares an event loop with the load generator):
//   node bench/api/target.ts <api|raw> <mongo|memory>
// Reads MONGODB_URI and BENCH_DB for the mongo store; prints "READY <url>" once it serves.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { MongoClient } from 'mongodb';
import { createApp } from '../../apps/users-api/src/app.ts';
import { loadConfig } from '../../apps/users-api/src/config.ts';
import { createLogger } from '../../apps/users-api/src/logger.ts';
import { createReadiness } from '../../apps/users-api/src/readiness.ts';
import { startServer } from '../../apps/users-api/src/server.ts';
import { createMongoUsersRepository, ensureUserIndexes } from '../../apps/users-api/src/users-repository.ts';
import { createMemoryUsersRepository } from './memory-users.ts';
import { createRawServer } from './raw-server.ts';

const [kind, store] = process.argv.slice(2);
const uri = process.env.MONGODB_URI ?? '';
const dbName = process.env.BENCH_DB ?? 'bench';
// The API at its production defaults, except request logs (the raw handler writes none either).
const config = loadConfig({ MONGODB_URI: uri || 'mongodb://127.0.0.1:1/', MONGODB_DB: dbName, HOST: '127.0.0.1', LOG_LEVEL: 'warn' });

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function main(): Promise<string> {
  if (kind === 'api' && store === 'mongo') {
    const running = await startServer({ ...config, PORT: 0 });
    await running.databaseReady;
    return running.address;
  }
  if (kind === 'api' && store === 'memory') {
    const readiness = createReadiness({ probe: async () => undefined, probeTimeoutMs: 1000 });
    readiness.markDatabaseReady();
    readiness.markSchemaReady(true);
    const app = createApp({ users: createMemoryUsersRepository(), config, logger: createLogger({ level: 'warn' }), readiness });
    return listen(createServer(app));
  }
  if (kind === 'raw' && store === 'mongo') {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: config.MONGODB_SERVER_SELECTION_TIMEOUT_MS, appName: 'bench-raw' });
    const db = client.db(dbName);
    await ensureUserIndexes(db);
    return listen(createRawServer(createMongoUsersRepository(db, { operationTimeoutMs: config.REQUEST_TIMEOUT_MS })));
  }
  if (kind === 'raw' && store === 'memory') return listen(createRawServer(createMemoryUsersRepository()));
  throw new Error('usage: node bench/api/target.ts <api|raw> <mongo|memory>');
}

main().then(
  (url) => process.stdout.write(`READY ${url}\n`),
  (error: unknown) => {
    process.stderr.write(`bench target failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
