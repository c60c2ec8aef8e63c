// Set-up for the few cluster tests that need faults a real API server cannot produce (timeouts, 5xx,
// dropped connections): a fake API server, a client pointed at it, captured output.
import type { FakeKube, FakeKubeOptions } from '../support/fake-kube/server.ts';
import { startFakeKube } from '../support/fake-kube/server.ts';
import { seedK3s } from '../support/fake-kube/fixtures.ts';
import { FAKE_INSTALL_MANIFEST } from '../support/fake-kube/fixtures.ts';
import type { Kube } from '../../scripts/lib/kube/client.ts';
import { createKube, kubeConfigFor } from '../../scripts/lib/kube/client.ts';
import type { BootstrapDeps } from '../../scripts/lib/bootstrap/index.ts';

export const DUMMY_PASSWORDS = ['dummy-db-password-aaaa', 'dummy-db-password-bbbb', 'dummy-db-password-cccc', 'dummy-db-password-dddd'];

export interface Harness {
  fake: FakeKube;
  kube: Kube;
  lines: string[];
  deps: BootstrapDeps;
  /** Passwords handed out so far (to assert none is ever printed). */
  issued: string[];
}

export async function harness(options: FakeKubeOptions & { seed?: Parameters<typeof seedK3s>[1]; timeoutMs?: number } = {}): Promise<Harness> {
  const fake = await startFakeKube(options);
  seedK3s(fake, options.seed);
  const kube = createKube(kubeConfigFor(fake.url), { timeoutMs: options.timeoutMs ?? 5_000 });
  const lines: string[] = [];
  const issued: string[] = [];
  return {
    fake,
    kube,
    lines,
    issued,
    deps: {
      kube,
      fetchManifest: async () => FAKE_INSTALL_MANIFEST,
      log: (line) => lines.push(line),
      sleep: async () => {},
      readiness: { timeoutMs: 50, intervalMs: 10 },
    },
  };
}

/** A fresh client on the same fake (a second CLI run has no discovery cache). */
export function secondClient(h: Harness): Kube {
  return createKube(kubeConfigFor(h.fake.url), { timeoutMs: 5_000 });
}

/** A request that changes nothing: a GET, or an access review (a question the server answers and stores nowhere). */
export function isRead(r: { method: string; path: string }): boolean {
  return r.method === 'GET' || (r.method === 'POST' && r.path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
}
