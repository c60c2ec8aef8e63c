// Faults a real API server cannot be made to produce on demand (stand-in): a server too slow to
// answer, a 5xx, a dropped connection. Each is one clear message naming the context, the server and
// the cause, and exit 2.
import { afterEach, describe, expect, it } from 'vitest';
import { createKube, kubeConfigFor } from '../../scripts/lib/cluster/kube/client.ts';
import { exitCodeOf } from '../../scripts/lib/core/errors.ts';
import { collectStatus } from '../../scripts/lib/cluster/status/index.ts';
import { startFaultServer } from '../support/fake-kube/faults.ts';
import type { FaultServer } from '../support/fake-kube/faults.ts';

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function failure(p: Promise<unknown>): Promise<{ message: string; code: number }> {
  try {
    await p;
  } catch (error) {
    return { message: (error as Error).message, code: exitCodeOf(error) };
  }
  throw new Error('expected a failure');
}

describe('cluster faults (stand-in)', () => {
  it('a server slower than the per-request timeout: "timed out after N ms" with context and server (stand-in)', async () => {
    server = await startFaultServer('slow', { delayMs: 5_000 });
    const kube = createKube(kubeConfigFor(server.url), { timeoutMs: 200 });
    const f = await failure(kube.version());
    expect(f.message).toBe(`reading the server version timed out after 200 ms on cluster ${server.url} (context test)\n    fix: check that the cluster is up and not overloaded (kubectl get --raw /readyz), then retry; raise --timeout for a slow link`);
    expect(f.code).toBe(2);
  });

  it('a 503 from the API server: its Status message, not the raw JSON, and what to check (stand-in)', async () => {
    server = await startFaultServer('unavailable');
    const kube = createKube(kubeConfigFor(server.url), { timeoutMs: 2_000 });
    const f = await failure(collectStatus(kube, [{ name: 'dev', namespace: 'dev', application: 'dev-users-api' }], 'argocd'));
    expect(f.message).toMatch(new RegExp(`failed on cluster ${server.url.replace(/[.:/]/g, '\\$&')} \\(context test\\): HTTP 503: the server is currently unable to handle the request`));
    expect(f.message).toContain('fix: the API server failed; check its health (kubectl get --raw /readyz?verbose) and retry');
    expect(f.message).not.toContain('"kind"');
    expect(f.code).toBe(2);
  });

  it('a connection dropped mid-request: the network cause code (stand-in)', async () => {
    server = await startFaultServer('drop');
    const kube = createKube(kubeConfigFor(server.url), { timeoutMs: 2_000 });
    const f = await failure(kube.version());
    expect(f.message).toMatch(new RegExp(`^cannot reach cluster ${server.url.replace(/[.:/]/g, '\\$&')} \\(context test\\) during reading the server version: (ECONNRESET|UND_ERR_SOCKET) \\(the connection was dropped\\)`));
    expect(f.code).toBe(2);
  });
});
