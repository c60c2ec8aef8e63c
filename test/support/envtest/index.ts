// The test-file side of the shared real API server (see global-setup.ts and control-plane.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, inject, it } from 'vitest';
import { kubeconfigYamlFor, startControlPlane } from './control-plane.ts';
import type { ProvidedEnvtest } from './upstream.ts';
import { upstreamDir } from './upstream.ts';
import { ENVTEST_HOWTO } from './assets.ts';
import { kubectlFor } from './kubectl.ts';
import { processHost } from '../../../scripts/lib/cluster/e2e/host.ts';

export { UPSTREAM_FILES } from './upstream.ts';
export const ENVTEST_LABEL = '(kube-apiserver v1.28)';
/** Default per-test budget inside describeEnvtest (vitest's own default is 30 s). */
export const ENVTEST_TEST_TIMEOUT_MS = 180_000;

const SETUP_HINT = `no kube-apiserver/etcd found (KUBEBUILDER_ASSETS unset, none in setup-envtest's store or the project's cache): run ${ENVTEST_HOWTO}`;

/** describe() that runs when KUBEBUILDER_ASSETS is set; otherwise skipped with the reason,
 *  except under CI=true where a missing server FAILS. */
export function describeEnvtest(name: string, fn: () => void): void {
  const title = name.includes(ENVTEST_LABEL) ? name : `${name} ${ENVTEST_LABEL}`;
  if (process.env.KUBEBUILDER_ASSETS) {
    // A budget, not an assertion: a real server on 2 busy cores can take many seconds per request burst.
    describe(title, { timeout: ENVTEST_TEST_TIMEOUT_MS }, fn);
  } else if (process.env.CI === 'true') {
    describe(title, () => {
      it('has a real API server', () => { throw new Error(`CI=true needs the real API server. ${SETUP_HINT}`); });
    });
  } else {
    describe.skip(`${title} — skipped: ${SETUP_HINT}`, fn);
  }
}

export interface KubectlResult { code: number; stdout: string; stderr: string }

export interface Envtest {
  server: string;
  kubeconfigPath: string;
  kubeconfigYaml: string;
  adminToken: string;
  noRightsToken: string;
  caPem: string;
  /** directory holding the pinned upstream files (UPSTREAM_FILES) */
  upstreamDir: string;
  /** kubectl --kubeconfig <admin> ...args; never throws */
  kubectl(args: string[], opts?: { input?: string; token?: string }): Promise<KubectlResult>;
  /** a token for a ServiceAccount via the TokenRequest API (creates nothing else) */
  serviceAccountToken(namespace: string, name: string): Promise<string>;
  /** a kubeconfig file that authenticates with `token` */
  kubeconfigForToken(token: string): string;
}

/** kubectl and friends, through the toolkit's one process runner (scripts/lib/cluster/e2e/host.ts): never throws. */
function run(bin: string, args: string[], input?: string): Promise<KubectlResult> {
  return processHost.run(bin, args, { input });
}

let cached: Envtest | undefined;

function envtestOf(p: Omit<ProvidedEnvtest, 'readyFile' | 'failedFile'>): Envtest {
  let n = 0;
  return {
    server: p.server,
    kubeconfigPath: p.kubeconfigPath,
    kubeconfigYaml: p.kubeconfigYaml,
    adminToken: p.adminToken,
    noRightsToken: p.noRightsToken,
    caPem: p.caPem,
    upstreamDir: p.upstreamDir,
    kubectl: (args, opts = {}) =>
      run(p.kubectl, ['--kubeconfig', p.kubeconfigPath, ...(opts.token ? ['--token', opts.token] : []), ...args], opts.input),
    serviceAccountToken: async (namespace, name) => {
      const r = await run(p.kubectl, ['--kubeconfig', p.kubeconfigPath, 'create', 'token', name, '-n', namespace, '--duration=3600s']);
      if (r.code !== 0) throw new Error(`TokenRequest for ${namespace}/${name} failed: ${r.stderr.trim()}`);
      return r.stdout.trim();
    },
    kubeconfigForToken: (token) => {
      const file = join(p.clientDir, `kubeconfig-${process.pid}-${++n}`);
      writeFileSync(file, kubeconfigYamlFor(p.server, p.caPem, token, `token-${n}`), { mode: 0o600 });
      return file;
    },
  };
}

/**
 * kube-apiserver v1.28 serves ValidatingAdmissionPolicy only as admissionregistration.k8s.io/v1beta1 behind
 * a Beta feature gate that is off by default (kubernetes/apiserver@v0.28.0:pkg/features/kube_features.go);
 * GA (v1, on) from 1.30. A private server started with these flags evaluates the policies itself.
 */
export const VALIDATING_ADMISSION_POLICY_ARGS: readonly string[] = [
  '--feature-gates=ValidatingAdmissionPolicy=true',
  '--runtime-config=admissionregistration.k8s.io/v1beta1=true',
];

/**
 * A private server for one test file, for what the shared one cannot show: a fresh cluster without
 * any CRD (bootstrap from nothing, an operator that is not installed). Costs a few seconds; stop() it
 * in afterAll. Only inside describeEnvtest (needs KUBEBUILDER_ASSETS).
 */
export async function startPrivateEnvtest(opts: { apiServerArgs?: readonly string[] } = {}): Promise<Envtest & { pids: number[]; stop(): Promise<void> }> {
  const assets = process.env.KUBEBUILDER_ASSETS;
  if (!assets) throw new Error(SETUP_HINT);
  const cp = await startControlPlane({ assetsDir: assets, apiServerArgs: opts.apiServerArgs });
  const kill = () => { for (const pid of cp.pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } };
  process.once('exit', kill);
  const kubectl = kubectlFor(assets);
  const env = envtestOf({
    server: cp.server, caPem: cp.caPem, adminToken: cp.adminToken, noRightsToken: cp.noRightsToken,
    kubeconfigPath: cp.kubeconfigPath, kubeconfigYaml: cp.kubeconfigYaml, upstreamDir: upstreamDir(), kubectl,
    // The control plane's own directory, which stop() removes.
    clientDir: cp.dir,
  });
  return { ...env, pids: cp.pids, stop: async () => { process.off('exit', kill); await cp.stop(); } };
}

/** Until globalSetup says the shared server serves with its CRDs (it starts while the first files run). */
async function serving(p: ProvidedEnvtest, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(p.readyFile)) return;
    if (existsSync(p.failedFile)) throw new Error(`the run's envtest server did not start: ${readFileSync(p.failedFile, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`the run's envtest server was not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The run's shared server (started once per vitest run in globalSetup, CRDs of Argo CD 3.5.1 and
 *  MCK 1.10.0 installed). Use your own namespaces (unique names) so files do not collide. */
export async function useEnvtest(): Promise<Envtest> {
  if (cached) return cached;
  const p: ProvidedEnvtest | undefined = inject('envtest');
  if (!p) throw new Error(`no envtest server was started for this run. ${SETUP_HINT}`);
  await serving(p);
  const env = envtestOf(p);
  cached = env;
  return env;
}

/** A namespace name unique to this worker and call, for test isolation on the shared server. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 7)}`.slice(0, 63).replace(/-+$/, '');
}
