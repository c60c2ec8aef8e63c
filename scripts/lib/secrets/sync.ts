// The same detector (./detect.ts), callable from synchronous code such as the .env check that
// `generate`, `validate` and `promote` run (scripts/lib/inputs/dotenv.ts). @secretlint/core's lintSource is
// asynchronous, so the detector runs in one worker thread, started on first use and reused, and the
// caller blocks on Atomics.wait until the answer is posted (the pattern of the `synckit` package).
// The worker is unref'd: it never keeps a process alive.
//
// Starting that worker and loading secretlint's rules costs about 0.3 s of wall time and 0.65 s of CPU,
// paid by every `generate`, `new-env` or `promote` even when no `.env` changed. The detector is a pure
// function of the texts and of its own code, so its answers are remembered in the toolkit's
// `.cache/secrets/`: one sealed entry (../core/cache-entry.ts) per call, named by an HMAC-SHA256 of the
// detector's fingerprint (the source of ./detect.ts, ./rules.ts, ./worker.ts and the installed packages'
// lock) and the texts, under a random key kept beside the entries (mode 0600). The name tells nothing
// about a text without that key; an entry holds only the findings (rule, line and a message that never
// carries the value, ./detect.ts). A changed detector or package is another name; a damaged entry reads
// as absent and the worker runs. `scan-secrets` (the gate over every file) never uses it: it calls the
// detector itself (./detect.ts detectInTexts).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { readEntry, writeEntry } from '../core/cache-entry.ts';
import type { SecretFinding, TextSource } from './detect.ts';

/** Long enough for the first call on a busy 2-core machine (loading the rules); a hang is a bug. */
const TIMEOUT_MS = 60_000;

let bridge: { port: MessagePort; signal: Int32Array; worker: Worker } | undefined;

function start(): NonNullable<typeof bridge> {
  const flag = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { port: port2, flag }, transferList: [port2] });
  worker.unref();
  port1.unref();
  worker.on('error', () => {
    bridge = undefined;
  });
  return { port: port1, signal: new Int32Array(flag), worker };
}

const TOOLKIT = resolve(import.meta.dirname, '../../..');
/** Where the detector's answers are remembered (the toolkit's cache, not the repository's). */
export const SECRETS_MEMO_DIR = join(TOOLKIT, '.cache/secrets');
/** Entries kept at most; past it the directory is emptied (answers are cheap to find again). */
const MEMO_MAX_ENTRIES = 4096;
const DETECTOR_FILES = ['detect.ts', 'rules.ts', 'worker.ts'].map((f) => join(import.meta.dirname, f));
const LOCKS = ['node_modules/.package-lock.json', 'package-lock.json'].map((f) => join(TOOLKIT, f));

const memoKeys = new Map<string, { key: Buffer; fingerprint: string } | null>();

function readFirst(files: readonly string[]): Buffer | undefined {
  for (const file of files) {
    try {
      return readFileSync(file);
    } catch {
      // the next one
    }
  }
  return undefined;
}

/** The HMAC key kept in `dir` and the detector's fingerprint, or null when the memo cannot be used there. */
function memoKeyOf(dir: string): { key: Buffer; fingerprint: string } | null {
  const known = memoKeys.get(dir);
  if (known !== undefined) return known;
  let found: { key: Buffer; fingerprint: string } | null;
  try {
    const h = createHash('sha256');
    for (const file of DETECTOR_FILES) h.update(readFileSync(file));
    h.update(readFirst(LOCKS) ?? 'no lock');
    const keyFile = join(dir, 'key');
    let key = readFirst([keyFile]);
    if (key?.length !== 32) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      key = randomBytes(32);
      const tmp = `${keyFile}.${process.pid}.tmp`;
      writeFileSync(tmp, key, { mode: 0o600 });
      renameSync(tmp, keyFile);
    }
    found = { key, fingerprint: h.digest('hex') };
  } catch {
    found = null;
  }
  memoKeys.set(dir, found);
  return found;
}

/** The remembered answer for `sources` in `dir`, and the entry a new answer goes to. */
function memoOf(sources: readonly TextSource[], dir: string): { file: string; findings?: SecretFinding[] } | undefined {
  const k = memoKeyOf(dir);
  if (!k) return undefined;
  const mac = createHmac('sha256', k.key).update(k.fingerprint).update('\0');
  for (const s of sources) mac.update(`${s.path.length}:${s.path}${s.text.length}:`).update(s.text);
  const file = join(dir, `${mac.digest('hex')}.json`);
  const text = readEntry(file);
  if (text === undefined) return { file };
  try {
    const findings = JSON.parse(text) as unknown;
    return Array.isArray(findings) ? { file, findings: findings as SecretFinding[] } : { file };
  } catch {
    return { file };
  }
}

function remember(file: string, findings: readonly SecretFinding[], dir: string): void {
  try {
    const names = readdirSync(dir);
    if (names.length > MEMO_MAX_ENTRIES) for (const name of names) if (name.endsWith('.json')) rmSync(join(dir, name), { force: true });
    writeEntry(file, JSON.stringify(findings));
  } catch {
    // a read-only toolkit: the detector runs again next time
  }
}

/**
 * detectInTexts, synchronously, its answers remembered in `memoDir` (default: the toolkit's
 * `.cache/secrets`; undefined: not remembered). Throws if the detector itself fails (never on a file's
 * content).
 */
export function detectInTextsSync(sources: readonly TextSource[], memoDir: string | undefined = SECRETS_MEMO_DIR): SecretFinding[] {
  if (sources.length === 0) return [];
  const memo = memoDir === undefined ? undefined : memoOf(sources, memoDir);
  if (memo?.findings) return memo.findings;
  const findings = detectWithWorker(sources);
  if (memo && memoDir !== undefined) remember(memo.file, findings, memoDir);
  return findings;
}

function detectWithWorker(sources: readonly TextSource[]): SecretFinding[] {
  bridge ??= start();
  const { port, signal } = bridge;
  Atomics.store(signal, 0, 0);
  port.postMessage(sources);
  const waited = Atomics.wait(signal, 0, 0, TIMEOUT_MS);
  const reply = receiveMessageOnPort(port)?.message as { findings?: SecretFinding[]; error?: string } | undefined;
  if (waited === 'timed-out' || !reply) {
    void bridge.worker.terminate();
    bridge = undefined;
    throw new Error(`the secret detector did not answer within ${TIMEOUT_MS / 1000} s`);
  }
  if (reply.error !== undefined || !reply.findings) throw new Error(`the secret detector failed (${reply.error ?? 'no answer'})`);
  return reply.findings;
}
