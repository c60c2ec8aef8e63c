// vitest globalSetup: ONE real API server per `vitest run` (when KUBEBUILDER_ASSETS is set), with the
// upstream CRDs of Argo CD v3.5.1 (only the CustomResourceDefinitions of its install.yaml) and MCK
// 1.10.0 installed once. Test files reach it through inject('envtest') (see index.ts).
// Without KUBEBUILDER_ASSETS nothing starts; describeEnvtest() then skips (or fails under CI=true).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { parseAllDocuments } from 'yaml';
import { startControlPlane } from './control-plane.ts';
import type { ControlPlane } from './control-plane.ts';
import { kubectlFor } from './kubectl.ts';
import { upstreamDir, UPSTREAM_FILES } from './upstream.ts';
import type { ProvidedEnvtest } from './upstream.ts';

/** The CustomResourceDefinitions of a multi-document manifest. */
export function crdsOf(manifest: string): object[] {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as { kind?: string } | null)
    .filter((o): o is { kind: string } => !!o && o.kind === 'CustomResourceDefinition');
}

function installCrds(cp: ControlPlane, kubectl: string, dir: string): void {
  for (const f of Object.values(UPSTREAM_FILES)) {
    if (!existsSync(`${dir}/${f}`)) {
      throw new Error(`envtest: ${dir}/${f} not found: the upstream files come from ../shared/envtest/upstream, or from the directory ENVTEST_UPSTREAM_DIR names (the GitHub workflow downloads them from their tags)`);
    }
  }
  const items = [...crdsOf(readFileSync(`${dir}/${UPSTREAM_FILES.argocd}`, 'utf8')), ...crdsOf(readFileSync(`${dir}/${UPSTREAM_FILES.mck}`, 'utf8'))];
  const docs = JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
  const run = (args: string[], input?: string) => execFileSync(kubectl, ['--kubeconfig', cp.kubeconfigPath, ...args], { input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });
  try {
    run(['apply', '--server-side', '--field-manager=envtest', '-f', '-'], docs);
    // `kubectl wait` fails on a CRD whose status is not written yet (".status.conditions accessor
    // error"): retry a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        run(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=180s']);
        break;
      } catch (e) {
        if (attempt >= 10) throw e;
        execFileSync('sleep', ['1']);
      }
    }
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`envtest: installing the upstream CRDs failed: ${err.stderr || err.message}`);
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
  const cp = await startControlPlane({ assetsDir: assets });
  const kubectl = kubectlFor(assets);
  const killNow = () => { for (const pid of cp.pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } };
  const onSignal = (signal: NodeJS.Signals) => {
    killNow();
    if (process.listenerCount(signal) === 1) { process.removeAllListeners(signal); process.kill(process.pid, signal); }
  };
  process.on('exit', killNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    installCrds(cp, kubectl, dir);
  } catch (e) {
    await cp.stop();
    throw e;
  }
  const provided: ProvidedEnvtest = {
    server: cp.server, caPem: cp.caPem, adminToken: cp.adminToken, noRightsToken: cp.noRightsToken,
    kubeconfigPath: cp.kubeconfigPath, kubeconfigYaml: cp.kubeconfigYaml, upstreamDir: dir, kubectl,
  };
  project.provide('envtest', provided);
  return async () => {
    process.off('exit', killNow);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cp.stop();
  };
}
