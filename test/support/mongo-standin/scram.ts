// SCRAM-SHA-256 (RFC 7677 over RFC 5802), the server side, so that a connection string with credentials
// is really authenticated: a wrongly escaped password fails here exactly as it would against mongod.
// Message shapes as the driver sends them (saslStart / saslContinue with options.skipEmptyExchange, and
// speculativeAuthenticate in the handshake hello): mongodb/node-mongodb-native lib/cmap/auth/scram.ts.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Binary } from 'bson';
import type { Document } from 'bson';
import { CommandError } from './storage.ts';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
/** The driver refuses fewer than 4096 iterations for SCRAM-SHA-256; mongod's default is 15000. */
const ITERATIONS = 4096;

export interface StandInUser {
  /** The authentication database (the operator's user.Database, the URI path). */
  db: string;
  username: string;
  password: string;
}

interface Credential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

interface Conversation {
  user: StandInUser;
  credential: Credential;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
}

export interface ConnectionAuth {
  /** "db.username" once authenticated. */
  authenticated: string | undefined;
  conversation: Conversation | undefined;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

function authFailed(): CommandError {
  return new CommandError(18, 'AuthenticationFailed', 'Authentication failed.');
}

/** RFC 5802 saslname: "=2C" is ",", "=3D" is "=". */
function decodeSaslName(text: string): string {
  return text.replaceAll('=2C', ',').replaceAll('=3D', '=');
}

function payloadText(payload: unknown): string {
  if (payload instanceof Binary) return Buffer.from(payload.buffer).toString('utf8');
  if (Buffer.isBuffer(payload) || payload instanceof Uint8Array) return Buffer.from(payload).toString('utf8');
  if (typeof payload === 'string') return payload;
  throw new CommandError(2, 'BadValue', 'SASL payload must be binary');
}

export class ScramAuthority {
  readonly #users: StandInUser[];
  readonly #credentials = new Map<string, Credential>();

  constructor(users: StandInUser[]) {
    this.#users = users.map((user) => ({ ...user }));
  }

  get enabled(): boolean {
    return this.#users.length > 0;
  }

  /** hello's saslSupportedMechs answer for "db.user" (only for users that exist, as mongod does). */
  supportedMechanisms(dbUser: unknown): string[] | undefined {
    if (typeof dbUser !== 'string') return undefined;
    return this.#find(dbUser.slice(0, dbUser.indexOf('.')), dbUser.slice(dbUser.indexOf('.') + 1)) ? [SCRAM_MECHANISM] : undefined;
  }

  /**
   * Stand-in for what MCK's agents do when a user's password Secret changes (new SCRAM credentials in
   * the automation config, applied by each member): later authentications need the new password;
   * connections already authenticated stay so, as with mongod's updateUser. Only for a known user.
   */
  setPassword(db: string, username: string, password: string): void {
    const index = this.#users.findIndex((user) => user.db === db && user.username === username);
    if (index < 0) throw new Error(`stand-in: no user ${db}.${username}`);
    this.#users[index] = { ...this.#users[index]!, password };
    this.#credentials.delete(`${db}.${username}`);
  }

  #find(db: string, username: string): StandInUser | undefined {
    return this.#users.find((user) => user.db === db && user.username === username);
  }

  #credential(user: StandInUser): Credential {
    const key = `${user.db}.${user.username}`;
    let credential = this.#credentials.get(key);
    if (!credential) {
      const salt = randomBytes(28);
      // SCRAM-SHA-256 hashes the SASLprep'd password; NFKC is SASLprep's normalization step (its
      // mapping and prohibition tables are not modelled: tests use ASCII passwords, which SASLprep keeps).
      const salted = pbkdf2Sync(user.password.normalize('NFKC'), salt, ITERATIONS, 32, 'sha256');
      const clientKey = hmac(salted, 'Client Key');
      credential = { salt, storedKey: createHash('sha256').update(clientKey).digest(), serverKey: hmac(salted, 'Server Key') };
      this.#credentials.set(key, credential);
    }
    return credential;
  }

  /** saslStart (also the speculativeAuthenticate of a hello). */
  start(command: Document, db: string, auth: ConnectionAuth): Document {
    if (command.mechanism !== SCRAM_MECHANISM) {
      throw new CommandError(2, 'MechanismUnavailable', `Received authentication for mechanism ${String(command.mechanism)} which is not enabled (stand-in: ${SCRAM_MECHANISM} only)`);
    }
    const clientFirst = payloadText(command.payload);
    const match = /^n,(?:a=[^,]*)?,(n=([^,]*),r=([^,]+).*)$/.exec(clientFirst);
    if (!match) throw new CommandError(17, 'ProtocolError', 'invalid SCRAM client-first message');
    const [, clientFirstBare = '', rawName = '', clientNonce = ''] = match;
    const user = this.#find(db, decodeSaslName(rawName));
    if (!user) throw authFailed();
    const credential = this.#credential(user);
    const nonce = clientNonce + randomBytes(24).toString('base64');
    const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${ITERATIONS}`;
    auth.conversation = { user, credential, clientFirstBare, serverFirst, nonce };
    auth.authenticated = undefined;
    return { conversationId: 1, done: false, payload: new Binary(Buffer.from(serverFirst)), ok: 1 };
  }

  /** saslContinue: checks the proof and answers with the server signature (done at once: skipEmptyExchange). */
  continue(command: Document, auth: ConnectionAuth): Document {
    const conversation = auth.conversation;
    if (!conversation) {
      // The final empty exchange of a client that did not ask to skip it.
      if (auth.authenticated && payloadText(command.payload ?? '') === '') return { conversationId: 1, done: true, payload: new Binary(Buffer.alloc(0)), ok: 1 };
      throw new CommandError(17, 'ProtocolError', 'No SASL session state found');
    }
    auth.conversation = undefined;
    const clientFinal = payloadText(command.payload);
    const match = /^(c=([^,]*),r=([^,]*)),p=([^,]+)$/.exec(clientFinal);
    if (!match) throw authFailed();
    const [, withoutProof = '', channel = '', nonce = '', proofText = ''] = match;
    if (channel !== 'biws' || nonce !== conversation.nonce) throw authFailed();
    const authMessage = `${conversation.clientFirstBare},${conversation.serverFirst},${withoutProof}`;
    const signature = hmac(conversation.credential.storedKey, authMessage);
    const proof = Buffer.from(proofText, 'base64');
    if (proof.length !== signature.length) throw authFailed();
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]!));
    if (!timingSafeEqual(createHash('sha256').update(clientKey).digest(), conversation.credential.storedKey)) throw authFailed();
    auth.authenticated = `${conversation.user.db}.${conversation.user.username}`;
    const serverFinal = `v=${hmac(conversation.credential.serverKey, authMessage).toString('base64')}`;
    return { conversationId: 1, done: true, payload: new Binary(Buffer.from(serverFinal)), ok: 1 };
  }
}
