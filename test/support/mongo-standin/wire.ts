// MongoDB wire protocol framing for the stand-in: split a TCP byte stream into messages, decode the two
// request kinds the official driver sends (OP_MSG, and OP_QUERY for the very first handshake) and encode
// the matching replies. Layouts: https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
import { deserialize, serialize } from 'bson';
import type { Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

const HEADER_BYTES = 16;
const FLAG_CHECKSUM_PRESENT = 1 << 0;
const FLAG_MORE_TO_COME = 1 << 1;

// Numbers come back as plain JS numbers, so mingo compares and sorts them as the server would.
const DESERIALIZE_OPTIONS = { promoteValues: true, promoteLongs: true, promoteBuffers: false } as const;

export interface CommandRequest {
  opCode: typeof OP_MSG | typeof OP_QUERY;
  requestId: number;
  /** The command document, with OP_MSG document sequences (kind 1) folded in as array fields. */
  command: Document;
  /** OP_QUERY only: the database taken from "<db>.$cmd". */
  queryDb?: string;
  /** OP_MSG moreToCome: the client expects no reply (unacknowledged write). */
  noReply: boolean;
}

export class WireProtocolError extends Error {}

/** Accumulates socket bytes and yields every complete message. */
export class MessageReader {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const messages: Buffer[] = [];
    while (this.#pending.length >= 4) {
      const length = this.#pending.readInt32LE(0);
      if (length < HEADER_BYTES) throw new WireProtocolError(`message length ${length} is smaller than a header`);
      if (this.#pending.length < length) break;
      messages.push(this.#pending.subarray(0, length));
      this.#pending = this.#pending.subarray(length);
    }
    return messages;
  }
}

export function decodeRequest(message: Buffer): CommandRequest {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) return decodeOpMsg(message, requestId);
  if (opCode === OP_QUERY) return decodeOpQuery(message, requestId);
  throw new WireProtocolError(`unsupported opCode ${opCode} (the stand-in speaks OP_MSG and OP_QUERY only)`);
}

function decodeOpMsg(message: Buffer, requestId: number): CommandRequest {
  const flags = message.readUInt32LE(HEADER_BYTES);
  // The optional CRC-32C trailer is not verified: loopback TCP already guarantees integrity here.
  const end = flags & FLAG_CHECKSUM_PRESENT ? message.length - 4 : message.length;
  let offset = HEADER_BYTES + 4;
  let command: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = message.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      const size = message.readInt32LE(offset);
      command = deserialize(message.subarray(offset, offset + size), DESERIALIZE_OPTIONS);
      offset += size;
    } else if (kind === 1) {
      const size = message.readInt32LE(offset);
      const sectionEnd = offset + size;
      const nameEnd = message.indexOf(0, offset + 4);
      const identifier = message.toString('utf8', offset + 4, nameEnd);
      const documents: Document[] = [];
      let docOffset = nameEnd + 1;
      while (docOffset < sectionEnd) {
        const docSize = message.readInt32LE(docOffset);
        documents.push(deserialize(message.subarray(docOffset, docOffset + docSize), DESERIALIZE_OPTIONS));
        docOffset += docSize;
      }
      sequences.push([identifier, documents]);
      offset = sectionEnd;
    } else {
      throw new WireProtocolError(`unsupported OP_MSG section kind ${kind}`);
    }
  }
  if (command === undefined) throw new WireProtocolError('OP_MSG without a body section');
  for (const [identifier, documents] of sequences) command[identifier] = documents;
  return { opCode: OP_MSG, requestId, command, noReply: (flags & FLAG_MORE_TO_COME) !== 0 };
}

function decodeOpQuery(message: Buffer, requestId: number): CommandRequest {
  let offset = HEADER_BYTES + 4; // flags
  const nameEnd = message.indexOf(0, offset);
  const fullCollectionName = message.toString('utf8', offset, nameEnd);
  offset = nameEnd + 1 + 8; // numberToSkip, numberToReturn
  const size = message.readInt32LE(offset);
  let command = deserialize(message.subarray(offset, offset + size), DESERIALIZE_OPTIONS);
  // Legacy drivers may wrap the command as { $query: {...}, $readPreference: ... }.
  if (command.$query && typeof command.$query === 'object') command = command.$query as Document;
  const queryDb = fullCollectionName.split('.')[0] ?? 'admin';
  return { opCode: OP_QUERY, requestId, command, queryDb, noReply: false };
}

let nextResponseId = 1;

function header(totalLength: number, responseTo: number, opCode: number): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeInt32LE(totalLength, 0);
  head.writeInt32LE(nextResponseId++ & 0x7fffffff, 4);
  head.writeInt32LE(responseTo, 8);
  head.writeInt32LE(opCode, 12);
  return head;
}

export function encodeOpMsgReply(responseTo: number, body: Document): Buffer {
  const bson = serialize(body);
  const flagsAndKind = Buffer.alloc(5); // flagBits 0, then section kind 0
  return Buffer.concat([header(HEADER_BYTES + 5 + bson.length, responseTo, OP_MSG), flagsAndKind, bson]);
}

export function encodeOpReply(responseTo: number, body: Document): Buffer {
  const bson = serialize(body);
  const fields = Buffer.alloc(20); // responseFlags, cursorID (int64), startingFrom, numberReturned
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header(HEADER_BYTES + 20 + bson.length, responseTo, OP_REPLY), fields, bson]);
}

export function encodeReply(request: CommandRequest, body: Document): Buffer {
  return request.opCode === OP_MSG ? encodeOpMsgReply(request.requestId, body) : encodeOpReply(request.requestId, body);
}
