// The same detector (./detect.ts), callable from synchronous code such as the .env check that
// `generate`, `validate` and `promote` run (scripts/lib/inputs/dotenv.ts). @secretlint/core's lintSource is
// asynchronous, so the detector runs in one worker thread, started on first use and reused, and the
// caller blocks on Atomics.wait until the answer is posted (the pattern of the `synckit` package).
// The worker is unref'd: it never keeps a process alive.
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
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

/** detectInTexts, synchronously. Throws if the detector itself fails (never on a file's content). */
export function detectInTextsSync(sources: readonly TextSource[]): SecretFinding[] {
  if (sources.length === 0) return [];
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
