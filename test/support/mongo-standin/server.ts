// The TCP side of the stand-in: one listener, a set of live sockets, and suspend/resume that drop
// every connection while keeping the in-memory data (a database lost mid-traffic, then back).
import net from 'node:net';
import type { Document } from 'bson';
import { runCommand } from './commands.ts';
import type { CommandContext, MemberRole } from './commands.ts';
import type { ScramAuthority } from './scram.ts';
import { Storage } from './storage.ts';
import { MessageReader, decodeRequest, encodeReply } from './wire.ts';

export interface ServerOptions {
  host: string;
  port: number;
  /** Shared by the members of a replica set (replication modelled as instantaneous). */
  storage?: Storage;
  member?: MemberRole;
  authority?: ScramAuthority;
}

export class StandInServer {
  readonly host: string;
  #port: number;
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  readonly #storage: Storage;
  readonly #member: MemberRole | undefined;
  readonly #authority: ScramAuthority | undefined;
  readonly #cursors: CommandContext['cursors'] = new Map();
  #lastCursorId = 0;
  #lastConnectionId = 0;
  #stopped = false;

  constructor(options: ServerOptions) {
    this.host = options.host;
    this.#port = options.port;
    this.#storage = options.storage ?? new Storage();
    this.#member = options.member;
    this.#authority = options.authority;
  }

  get storage(): Storage {
    return this.#storage;
  }

  get port(): number {
    return this.#port;
  }

  get listening(): boolean {
    return this.#server !== undefined;
  }

  async listen(): Promise<void> {
    if (this.#stopped) throw new Error('the MongoDB stand-in was stopped; start a new one');
    if (this.#server) return;
    const server = net.createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** Stops accepting and destroys every open socket; data and the port number are kept. */
  async disconnect(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    // Open cursors die with their connections on a real server restart, too.
    this.#cursors.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.disconnect();
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    const reader = new MessageReader();
    const context: CommandContext = {
      storage: this.#storage,
      cursors: this.#cursors,
      nextCursorId: () => ++this.#lastCursorId,
      connectionId: ++this.#lastConnectionId,
      ...(this.#member ? { member: this.#member } : {}),
      ...(this.#authority ? { auth: { authority: this.#authority, state: { authenticated: undefined, conversation: undefined } } } : {}),
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const message of reader.push(chunk)) {
          const request = decodeRequest(message);
          const reply: Document = runCommand(request.command, context, request.queryDb);
          if (!request.noReply) socket.write(encodeReply(request, reply));
        }
      } catch {
        // Unparseable bytes: a real server drops the connection as well.
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }
}
