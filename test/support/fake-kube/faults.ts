// A stand-in for what a real API server cannot be made to do on demand: answer too slowly, fail with
// a 5xx, or drop the connection mid-request. Everything else is tested against the real server
// (test/support/envtest). Plain HTTP on loopback.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'slow' | 'unavailable' | 'drop';

export interface FaultServer {
  url: string;
  /** requests seen, "METHOD path" */
  requests: string[];
  close(): Promise<void>;
}

export async function startFaultServer(fault: Fault, opts: { delayMs?: number } = {}): Promise<FaultServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault === 'unavailable') {
      // The body a kube-apiserver sends with a 503 (metav1.Status).
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server is currently unable to handle the request', reason: 'ServiceUnavailable', code: 503 }));
      return;
    }
    const timer = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ major: '1', minor: '33', gitVersion: 'v1.33.0' }));
    }, opts.delayMs ?? 5_000);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
