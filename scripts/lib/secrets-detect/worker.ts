// The worker behind detectInTextsSync (./sync.ts): runs the asynchronous detector and wakes the
// waiting thread through the shared flag once the answer is on the port.
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import { detectInTexts } from './detect.ts';
import type { TextSource } from './detect.ts';

const { port, flag } = workerData as { port: MessagePort; flag: SharedArrayBuffer };
const signal = new Int32Array(flag);

port.on('message', (sources: TextSource[]) => {
  detectInTexts(sources)
    .then((findings) => port.postMessage({ findings }))
    .catch((error: unknown) => port.postMessage({ error: error instanceof Error ? error.name : 'Error' }))
    .finally(() => {
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    });
});
