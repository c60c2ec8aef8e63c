// Standalone runner: `node test/support/mongo-standin/main.ts [--port 27017] [--host 127.0.0.1]`.
// Lets someone try the users API offline; prints the URI to use and runs until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { STAND_IN_NOTICE, startMongoStandIn } from './index.ts';

const USAGE = `usage: node test/support/mongo-standin/main.ts [--port <port>] [--host <host>]

Runs the in-memory MongoDB stand-in (${STAND_IN_NOTICE}).
Data lives in memory only and is gone when it stops. Stop it with Ctrl-C.

options:
  --port <port>  TCP port, 0 for any free one (default 27017)
  --host <host>  address to listen on (default 127.0.0.1)
  -h, --help     show this help

example:
  node test/support/mongo-standin/main.ts --port 27017
  MONGODB_URI='mongodb://127.0.0.1:27017/users?directConnection=true' node apps/users-api/src/main.ts
`;

function parsePort(text: string): number | undefined {
  const port = Number(text);
  return /^\d+$/.test(text) && port <= 65_535 ? port : undefined;
}

async function main(argv: string[]): Promise<number> {
  let values: { port?: string | undefined; host?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  const host = values.host ?? '127.0.0.1';
  let standIn;
  try {
    standIn = await startMongoStandIn({ port, host, log: () => {} });
  } catch (error) {
    process.stderr.write(`mongo-standin: cannot listen on ${host}:${port}: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    [
      '==================================================================',
      ` ${STAND_IN_NOTICE}`,
      ' In-memory only; no auth, no transactions, no persistence.',
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
