// The worker behind detectInTextsSync (./sync.ts): runs the asynchronous detector and wakes the
// waiting thread through the shared flag once the answer is on the port. The detector is imported
// dynamically so that even a failure to load it is answered (instead of leaving the caller waiting).
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import type { TextSource } from './detect.ts';

const { port, flag } = workerData as { port: MessagePort; flag: SharedArrayBuffer };
const signal = new Int32Array(flag);
const detector = import('./detect.ts');

port.on('message', (sources: TextSource[]) => {
  detector
    .then(({ detectInTexts }) => detectInTexts(sources))
    .then((findings) => port.postMessage({ findings }))
    .catch((error: unknown) => port.postMessage({ error: error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : 'Error' }))
    .finally(() => {
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    });
});
