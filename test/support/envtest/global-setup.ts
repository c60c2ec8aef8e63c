// vitest globalSetup: ONE real API server per `vitest run` (when KUBEBUILDER_ASSETS is set), with the
// upstream CRDs of Argo CD v3.5.1 (only the CustomResourceDefinitions of its install.yaml) and MCK
// 1.10.0 installed once. Test files reach it through inject('envtest') (see index.ts); the server starts
// in the background and useEnvtest() waits until it serves with its CRDs.
// Without KUBEBUILDER_ASSETS nothing starts; describeEnvtest() then skips (or fails under CI=true).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { parseAllDocuments } from 'yaml';
import { launchControlPlane } from './control-plane.ts';
import type { ControlPlane } from './control-plane.ts';
import { kubectlFor } from './kubectl.ts';
import { processHost } from '../../../scripts/lib/cluster/e2e/host.ts';
import { upstreamDir, UPSTREAM_FILES } from './upstream.ts';
import type { ProvidedEnvtest } from './upstream.ts';

/** The CustomResourceDefinitions of a multi-document manifest. */
export function crdsOf(manifest: string): object[] {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as { kind?: string } | null)
    .filter((o): o is { kind: string } => !!o && o.kind === 'CustomResourceDefinition');
}

async function installCrds(cp: ControlPlane, kubectl: string, dir: string): Promise<void> {
  for (const f of Object.values(UPSTREAM_FILES)) {
    if (!existsSync(`${dir}/${f}`)) {
      throw new Error(`envtest: ${dir}/${f} not found: the upstream files come from ../shared/envtest/upstream, or from the directory ENVTEST_UPSTREAM_DIR names (the GitHub workflow downloads them from their tags)`);
    }
  }
  const items = [...crdsOf(readFileSync(`${dir}/${UPSTREAM_FILES.argocd}`, 'utf8')), ...crdsOf(readFileSync(`${dir}/${UPSTREAM_FILES.mck}`, 'utf8'))];
  const docs = JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
  // Asynchronous: this runs in vitest's main process while the first test files already run.
  const run = async (args: string[], input?: string): Promise<void> => {
    const r = await processHost.run(kubectl, ['--kubeconfig', cp.kubeconfigPath, ...args], input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`envtest: installing the upstream CRDs failed: kubectl ${args[0]}: ${r.stderr.trim()}`);
  };
  await run(['apply', '--server-side', '--field-manager=envtest', '-f', '-'], docs);
  // `kubectl wait` fails on a CRD whose status is not written yet (".status.conditions accessor
  // error"): retry a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      await run(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=180s']);
      return;
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/**
 * Whether a test file of this run can use the shared server: every file that does names
 * test/support/envtest (describeEnvtest, useEnvtest). A run of other files only (`npx vitest run
 * test/foundation/yaml.test.ts`) then starts no etcd and kube-apiserver: about 20 CPU seconds saved per run.
 * Without file filters (the whole suite), or when vitest does not say which filters it got, it starts.
 */
async function runUsesServer(project: TestProject): Promise<boolean> {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  if (!filters || filters.length === 0) return true;
  const { testFiles } = await project.globTestFiles(filters);
  return testFiles.length === 0 || testFiles.some((f) => readFileSync(f, 'utf8').includes('support/envtest'));
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const assets = process.env.KUBEBUILDER_ASSETS;
  if (!assets) return;
  if (!(await runUsesServer(project))) return;
  const dir = upstreamDir();
  const cp = await launchControlPlane({ assetsDir: assets });
  const kubectl = kubectlFor(assets);
  const killNow = () => { for (const pid of cp.pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } };
  const onSignal = (signal: NodeJS.Signals) => {
    killNow();
    if (process.listenerCount(signal) === 1) { process.removeAllListeners(signal); process.kill(process.pid, signal); }
  };
  process.on('exit', killNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The server comes up and takes the CRDs while the first test files run; useEnvtest() waits for the
  // outcome, written to a file of its own (the control plane's directory goes when a failed start stops it).
  const status = mkdtempSync(join(tmpdir(), 'envtest-status-'));
  const readyFile = join(status, 'ready');
  const failedFile = join(status, 'failed');
  const clientDir = join(status, 'clients');
  mkdirSync(clientDir, { mode: 0o700 });
  const started = cp.ready
    .then(() => installCrds(cp, kubectl, dir))
    .then(
      () => writeFileSync(readyFile, ''),
      async (e: unknown) => {
        // Written whole, then renamed: a reader never sees a half-written reason.
        writeFileSync(`${failedFile}.tmp`, e instanceof Error ? e.message : String(e));
        renameSync(`${failedFile}.tmp`, failedFile);
        await cp.stop();
      },
    );
  const provided: ProvidedEnvtest = {
    server: cp.server, caPem: cp.caPem, adminToken: cp.adminToken, noRightsToken: cp.noRightsToken,
    kubeconfigPath: cp.kubeconfigPath, kubeconfigYaml: cp.kubeconfigYaml, upstreamDir: dir, kubectl, readyFile, failedFile, clientDir,
  };
  project.provide('envtest', provided);
  return async () => {
    await started;
    process.off('exit', killNow);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cp.stop();
    rmSync(status, { recursive: true, force: true });
  };
}
