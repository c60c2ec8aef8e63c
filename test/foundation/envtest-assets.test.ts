// Issue 31: without KUBEBUILDER_ASSETS the run finds kube-apiserver and etcd where the ecosystem puts them
// (test/support/envtest/assets.ts), and says at the end how many real-API-server tests ran or why not.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findEnvtestAssets } from '../support/envtest/assets.ts';
import { kubectlFor } from '../support/envtest/kubectl.ts';
import { envtestSummary } from '../support/envtest/reporter.ts';

const root = mkdtempSync(join(tmpdir(), 'envtest-assets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PLATFORM = `${{ linux: 'linux', darwin: 'darwin' }[process.platform as 'linux' | 'darwin'] ?? process.platform}-${{ x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'] ?? process.arch}`;

/** A directory in the envtest layout: executable kube-apiserver and etcd (only their presence matters here). */
function assetsDir(dir: string, bins = ['kube-apiserver', 'etcd']): string {
  mkdirSync(dir, { recursive: true });
  for (const b of bins) {
    writeFileSync(join(dir, b), '#!/bin/sh\n');
    chmodSync(join(dir, b), 0o755);
  }
  return dir;
}

describe.runIf(process.platform === 'linux')('envtest assets are found like setup-envtest and the project setup find them', () => {
  const home = join(root, 'home');
  const empty = { HOME: home } as NodeJS.ProcessEnv;

  it('nothing anywhere: none found', () => {
    expect(findEnvtestAssets(empty)).toBeUndefined();
  });

  it('KUBEBUILDER_ASSETS wins, as given', () => {
    expect(findEnvtestAssets({ ...empty, KUBEBUILDER_ASSETS: '/some/where' })).toEqual({ dir: '/some/where', source: 'KUBEBUILDER_ASSETS' });
  });

  it("the project's setup cache: ${XDG_CACHE_HOME:-~/.cache}/envtest/k8s-v1.28.<patch>-…", () => {
    const dir = assetsDir(join(home, '.cache/envtest/k8s-v1.28.0-linux-amd64'));
    expect(findEnvtestAssets(empty)).toEqual({ dir, source: "the project's envtest setup cache" });
    const xdg = assetsDir(join(root, 'xdg-cache/envtest/k8s-v1.28.0-linux-amd64'));
    expect(findEnvtestAssets({ ...empty, XDG_CACHE_HOME: join(root, 'xdg-cache') })?.dir).toBe(xdg);
  });

  it("setup-envtest's default store (~/.local/share/kubebuilder-envtest/k8s/1.28.<patch>-<os>-<arch>) comes first, newest patch, v1.28 only", () => {
    assetsDir(join(home, `.local/share/kubebuilder-envtest/k8s/1.28.0-${PLATFORM}`));
    const newest = assetsDir(join(home, `.local/share/kubebuilder-envtest/k8s/1.28.3-${PLATFORM}`));
    assetsDir(join(home, `.local/share/kubebuilder-envtest/k8s/1.30.0-${PLATFORM}`));
    assetsDir(join(home, `.local/share/kubebuilder-envtest/k8s/1.28.9-${PLATFORM}`), ['kube-apiserver']); // no etcd: incomplete
    expect(findEnvtestAssets(empty)).toEqual({ dir: newest, source: "setup-envtest's default store" });
  });

  it('ENVTEST_BIN_DIR names a setup-envtest --bin-dir store, searched before the default one', () => {
    const dir = assetsDir(join(root, `bin-dir/k8s/1.28.1-${PLATFORM}`));
    expect(findEnvtestAssets({ ...empty, ENVTEST_BIN_DIR: join(root, 'bin-dir') })).toEqual({ dir, source: 'ENVTEST_BIN_DIR (setup-envtest store)' });
  });
});

describe('the closing line of a run', () => {
  it('says how many were skipped and how to enable them, or how many ran and from where', () => {
    expect(envtestSummary({ ran: 0, skipped: 87 }, {})).toMatch(/^87 tests against a real kube-apiserver skipped: run `setup-envtest use 1\.28\.x` .* to enable them$/);
    expect(envtestSummary({ ran: 86, skipped: 0 }, { dir: '/x', source: "setup-envtest's default store" })).toBe("86 tests ran against a real kube-apiserver v1.28 (/x, found by setup-envtest's default store)");
    expect(envtestSummary({ ran: 0, skipped: 0 }, {})).toBeUndefined();
  });
});

describe.runIf(process.platform === 'linux')('the kubectl the harness runs against the API server (test/support/envtest/kubectl.ts)', () => {
  /** An assets directory whose kube-apiserver says v1.28.0 and whose kubectl reports `gitVersion`. */
  function withKubectl(name: string, gitVersion: string): string {
    const dir = assetsDir(join(root, name), []);
    writeFileSync(join(dir, 'kube-apiserver'), '#!/bin/sh\necho "Kubernetes v1.28.0"\n');
    writeFileSync(join(dir, 'kubectl'), `#!/bin/sh\necho '{"clientVersion":{"gitVersion":"${gitVersion}"}}'\n`);
    for (const b of ['kube-apiserver', 'kubectl']) chmodSync(join(dir, b), 0o755);
    return dir;
  }

  it('a plain kubectl is used as it is', () => {
    const dir = withKubectl('plain', 'v1.28.0');
    writeFileSync(join(dir, 'kubectl.1.28'), '');
    expect(kubectlFor(dir)).toBe(join(dir, 'kubectl'));
  });

  it("the Cloud SDK dispatcher is replaced by its own binary for the server's minor version", () => {
    const dir = withKubectl('dispatcher', 'v1.32.4-dispatcher');
    writeFileSync(join(dir, 'kubectl.1.27'), '');
    writeFileSync(join(dir, 'kubectl.1.28'), '');
    expect(kubectlFor(dir)).toBe(join(dir, 'kubectl.1.28'));
  });

  it('a link to the dispatcher (what the envtest setup makes) finds the binaries beside the link target', () => {
    const sdk = withKubectl('sdk-bin', 'v1.32.4-dispatcher');
    writeFileSync(join(sdk, 'kubectl.1.28'), '');
    const dir = assetsDir(join(root, 'linked'), []);
    writeFileSync(join(dir, 'kube-apiserver'), '#!/bin/sh\necho "Kubernetes v1.28.0"\n');
    chmodSync(join(dir, 'kube-apiserver'), 0o755);
    symlinkSync(join(sdk, 'kubectl'), join(dir, 'kubectl'));
    expect(kubectlFor(dir)).toBe(join(sdk, 'kubectl.1.28'));
  });

  it('a dispatcher without a binary for that minor version is used as it is', () => {
    const dir = withKubectl('dispatcher-only', 'v1.32.4-dispatcher');
    writeFileSync(join(dir, 'kubectl.1.31'), '');
    expect(kubectlFor(dir)).toBe(join(dir, 'kubectl'));
  });
});
