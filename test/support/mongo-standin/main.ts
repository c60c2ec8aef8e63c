// Standalone runner: `node test/support/mongo-standin/main.ts [--port 27017] [--host 127.0.0.1]`.
// Lets someone try the users API offline; prints the URI to use and runs until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { STAND_IN_APP_USER, STAND_IN_NOTICE, startMongoStandIn, startMongoStandInReplicaSet } from './index.ts';

const USAGE = `usage: node test/support/mongo-standin/main.ts [--port <port>] [--host <host>] [--members <n>]

Runs the in-memory MongoDB stand-in (${STAND_IN_NOTICE}).
Data lives in memory only and is gone when it stops. Stop it with Ctrl-C.

options:
  --port <port>  TCP port, 0 for any free one (default 27017)
  --host <host>  address to listen on (default 127.0.0.1)
  --members <n>  1 (default): one standalone server; 2 to 7: a replica set "users-db" on <port>, <port>+1…
                 (any free ports with --port 0), with SCRAM-SHA-256 user "users-api", reached by a
                 URI in the MongoDB operator's format (printed)
  -h, --help     show this help

example:
  node test/support/mongo-standin/main.ts --port 27017
  node test/support/mongo-standin/main.ts --port 27017 --members 3
  MONGODB_URI='mongodb://127.0.0.1:27017/users?directConnection=true' node apps/users-api/src/main.ts
`;

function parsePort(text: string): number | undefined {
  const port = Number(text);
  return /^\d+$/.test(text) && port <= 65_535 ? port : undefined;
}

async function main(argv: string[]): Promise<number> {
  let values: { port?: string | undefined; host?: string | undefined; members?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, host: { type: 'string' }, members: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`mongo-standin: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = parsePort(values.port ?? '27017');
  if (port === undefined) {
    process.stderr.write(`mongo-standin: --port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}\n`);
    return 2;
  }
  const members = /^[1-7]$/.test(values.members ?? '1') ? Number(values.members ?? '1') : undefined;
  if (members === undefined) {
    process.stderr.write(`mongo-standin: --members must be an integer from 1 to 7, got ${JSON.stringify(values.members)}\n`);
    return 2;
  }
  const host = values.host ?? '127.0.0.1';
  let standIn;
  try {
    standIn =
      members === 1
        ? await startMongoStandIn({ port, host, log: () => {} })
        : await startMongoStandInReplicaSet({
            members,
            host,
            ports: Array.from({ length: members }, (_, i) => (port === 0 ? 0 : port + i)),
            users: [STAND_IN_APP_USER],
            log: () => {},
          });
  } catch (error) {
    process.stderr.write(`mongo-standin: cannot listen on ${host}:${port}: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    [
      '==================================================================',
      ` ${STAND_IN_NOTICE}`,
      members === 1
        ? ' In-memory only; no auth, no transactions, no persistence.'
        : ` In-memory replica set of ${members} members (shared storage); no transactions, no persistence.`,
      ' See docs/mongo-standin.md.',
      '==================================================================',
      `MONGODB_URI=${standIn.uri}`,
      '',
    ].join('\n'),
  );
  const stop = (signal: string) => {
    process.stdout.write(`mongo-standin: ${signal} received, stopping\n`);
    void standIn.stop();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
