// Public surface of the MongoDB stand-in: an in-memory server that the official driver talks to over
// the MongoDB wire protocol. It is a test double, not MongoDB; see docs/mongo-standin.md for its limits.
import { STAND_IN_NOTICE } from './commands.ts';
import { StandInServer } from './server.ts';

export { STAND_IN_NOTICE };
export { STAND_IN_APP_USER, startMongoStandInReplicaSet } from './replica-set.ts';
export type { MongoStandInReplicaSet, ReplicaSetOptions } from './replica-set.ts';
export { encodeUserinfoComponent, operatorConnectionString } from './operator-uri.ts';
export type { StandInUser } from './scram.ts';

export interface MongoStandIn {
  /** e.g. mongodb://127.0.0.1:40123/?directConnection=true */
  uri: string;
  port: number;
  label: 'stand-in';
  /** Closes the listener and every socket; safe to call more than once. */
  stop(): Promise<void>;
  /** Stops listening and destroys every open socket (MongoDB lost mid-traffic); data is kept. */
  suspend(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
}

export interface MongoStandInOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where the "this is a stand-in" line goes; default stderr. Pass () => {} to silence it. */
  log?: (line: string) => void;
}

export async function startMongoStandIn(opts: MongoStandInOptions = {}): Promise<MongoStandIn> {
  const host = opts.host ?? '127.0.0.1';
  const server = new StandInServer({ host, port: opts.port ?? 0 });
  await server.listen();
  const port = server.port;
  const uriHost = host.includes(':') ? `[${host}]` : host;
  const uri = `mongodb://${uriHost}:${port}/?directConnection=true`;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  log(`[mongo-standin] ${STAND_IN_NOTICE} listening on ${uri}`);
  let stopping: Promise<void> | undefined;
  return {
    uri,
    port,
    label: 'stand-in',
    stop: () => (stopping ??= server.stop()),
    suspend: () => server.disconnect(),
    resume: () => server.listen(),
  };
}
