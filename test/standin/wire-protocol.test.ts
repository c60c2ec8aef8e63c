// Wire-level behaviour the driver does not exercise on every path: OP_MSG document sequences (kind 1),
// the checksum flag, moreToCome, the legacy OP_QUERY handshake, and what happens to garbage.
import net from 'node:net';
import { ObjectId, deserialize, serialize } from 'bson';
import type { Document } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMongoStandIn } from '../support/mongo-standin/index.ts';
import type { MongoStandIn } from '../support/mongo-standin/index.ts';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

function frame(opCode: number, requestId: number, body: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeInt32LE(16 + body.length, 0);
  head.writeInt32LE(requestId, 4);
  head.writeInt32LE(opCode, 12);
  return Buffer.concat([head, body]);
}

function opMsg(requestId: number, command: Document, options: { sequence?: [string, Document[]]; checksum?: boolean; moreToCome?: boolean } = {}): Buffer {
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE((options.checksum ? 1 : 0) | (options.moreToCome ? 2 : 0));
  const parts = [flags, Buffer.from([0]), Buffer.from(serialize(command))];
  if (options.sequence) {
    const [identifier, docs] = options.sequence;
    const payload = Buffer.concat([Buffer.from(`${identifier}\0`), ...docs.map((doc) => Buffer.from(serialize(doc)))]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + payload.length);
    parts.push(Buffer.from([1]), size, payload);
  }
  if (options.checksum) parts.push(Buffer.alloc(4)); // value unchecked by the stand-in
  return frame(OP_MSG, requestId, Buffer.concat(parts));
}

function opQuery(requestId: number, collection: string, query: Document): Buffer {
  const skipAndReturn = Buffer.alloc(8);
  skipAndReturn.writeInt32LE(-1, 4);
  return frame(OP_QUERY, requestId, Buffer.concat([Buffer.alloc(4), Buffer.from(`${collection}\0`), skipAndReturn, Buffer.from(serialize(query))]));
}

interface Reply { opCode: number; responseTo: number; body: Document }

/** Sends raw messages on one socket and collects `expected` replies. */
async function exchange(port: number, messages: Buffer[], expected: number): Promise<{ replies: Reply[]; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  const replies: Reply[] = [];
  let pending = Buffer.alloc(0);
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); resolve({ replies, closed: false }); }, 1_000);
    const finish = (closed: boolean) => { clearTimeout(timer); socket.destroy(); resolve({ replies, closed }); };
    socket.on('error', reject);
    socket.on('close', () => finish(true));
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const message = pending.subarray(0, pending.readInt32LE(0));
        pending = pending.subarray(message.length);
        const opCode = message.readInt32LE(12);
        const bodyAt = opCode === OP_MSG ? 21 : 36;
        replies.push({ opCode, responseTo: message.readInt32LE(8), body: deserialize(message.subarray(bodyAt)) });
      }
      if (replies.length >= expected) finish(false);
    });
    socket.write(Buffer.concat(messages));
  });
}

describe('MongoDB stand-in wire protocol (stand-in)', () => {
  let standIn: MongoStandIn;
  beforeAll(async () => { standIn = await startMongoStandIn({ log: () => {} }); });
  afterAll(async () => { await standIn.stop(); });

  it('answers a legacy OP_QUERY isMaster with an OP_REPLY that a 7.x driver accepts', async () => {
    const { replies } = await exchange(standIn.port, [opQuery(7, 'admin.$cmd', { isMaster: 1, helloOk: true })], 1);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ opCode: OP_REPLY, responseTo: 7, body: { ok: 1, ismaster: true, helloOk: true } });
    expect(replies[0]!.body.maxWireVersion).toBeGreaterThanOrEqual(9);
  });

  it('folds an OP_MSG kind-1 document sequence into the command, with the checksum flag set', async () => {
    const insert = opMsg(1, { insert: 'seq', $db: 'wire' }, { sequence: ['documents', [{ _id: 1 }, { _id: 2 }]], checksum: true });
    const find = opMsg(2, { find: 'seq', filter: {}, $db: 'wire' });
    const { replies } = await exchange(standIn.port, [insert, find], 2);
    expect(replies.map((reply) => [reply.opCode, reply.responseTo])).toEqual([[OP_MSG, 1], [OP_MSG, 2]]);
    expect(replies[0]!.body).toMatchObject({ ok: 1, n: 2 });
    expect(replies[1]!.body.cursor.firstBatch).toEqual([{ _id: 1 }, { _id: 2 }]);
  });

  it('sends no reply to a moreToCome (unacknowledged) write but still applies it', async () => {
    const write = opMsg(1, { insert: 'silent', documents: [{ _id: 'x' }], $db: 'wire' }, { moreToCome: true });
    const count = opMsg(2, { count: 'silent', $db: 'wire' });
    const { replies } = await exchange(standIn.port, [write, count], 1);
    expect(replies.map((reply) => reply.responseTo)).toEqual([2]);
    expect(replies[0]!.body).toMatchObject({ ok: 1, n: 1 });
  });

  it('gives a document sent without _id an ObjectId _id as its first field', async () => {
    const insert = opMsg(1, { insert: 'noid', documents: [{ name: 'x' }], $db: 'wire' });
    const find = opMsg(2, { find: 'noid', filter: {}, $db: 'wire' });
    const { replies } = await exchange(standIn.port, [insert, find], 2);
    const [stored] = replies[1]!.body.cursor.firstBatch as Document[];
    expect(Object.keys(stored!)).toEqual(['_id', 'name']);
    expect(stored!._id).toBeInstanceOf(ObjectId);
  });

  it('drops the connection on an unsupported opcode, like a server does', async () => {
    const { replies, closed } = await exchange(standIn.port, [frame(2002, 1, Buffer.alloc(8))], 1);
    expect(replies).toEqual([]);
    expect(closed).toBe(true);
  });
});
