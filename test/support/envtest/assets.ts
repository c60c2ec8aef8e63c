// Where the real API server's binaries are (kube-apiserver, etcd, optionally kubectl: the envtest layout),
// found the way the ecosystem does when KUBEBUILDER_ASSETS is not set. Read by vitest.config.ts before
// anything starts, so the run's globalSetup and every worker see the same KUBEBUILDER_ASSETS.
//
// Searched in this order (the first directory holding executable kube-apiserver and etcd of v1.28 wins):
//  1. KUBEBUILDER_ASSETS: controller-runtime's own variable (pkg/envtest), used as given;
//  2. ENVTEST_BIN_DIR: a `setup-envtest --bin-dir <dir>` store, i.e. <dir>/k8s/1.28.<patch>-<os>-<arch>;
//  3. setup-envtest's default store: ${XDG_DATA_HOME:-~/.local/share}/kubebuilder-envtest/k8s/1.28.<patch>-<os>-<arch>
//     (macOS: ~/Library/Application Support/io.kubebuilder.envtest/k8s/…): kubernetes-sigs/controller-runtime@v0.24.1:
//     tools/setup-envtest/store/helpers.go DefaultStoreDir, store/store.go (the "k8s" subdirectory),
//     versions/platform.go BaseName ("%d.%d.%d-%s-%s");
//  4. this project's own setup (../shared/envtest/setup): ${XDG_CACHE_HOME:-~/.cache}/envtest/k8s-v1.28.<patch>-<os>-<arch>.
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The Kubernetes minor the tests are written and labelled for ("(kube-apiserver v1.28)"). */
export const ENVTEST_K8S_MINOR = '1.28';

/**
 * The command that makes the assets available, for messages. setup-envtest itself comes from
 * `go install sigs.k8s.io/controller-runtime/tools/setup-envtest@release-0.22`
 * (controller-runtime@v0.24.1:tools/setup-envtest/README.md); README.md, Tests, says so.
 */
export const ENVTEST_HOWTO =
  '`setup-envtest use 1.28.x` (README.md, Tests) or `eval "$(../shared/envtest/setup)"`';

export interface FoundAssets {
  dir: string;
  /** how it was found, for the closing line */
  source: string;
}

const GOOS: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' };

function runnable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A directory holding the two binaries envtest starts. */
export function holdsAssets(dir: string): boolean {
  return runnable(join(dir, 'kube-apiserver')) && runnable(join(dir, 'etcd'));
}

/** The newest 1.28.<patch> directory of a setup-envtest store (`<store>/k8s/1.28.3-linux-amd64`). */
export function inSetupEnvtestStore(store: string, platform = `${GOOS[process.platform] ?? process.platform}-${GOARCH[process.arch] ?? process.arch}`): string | undefined {
  const k8s = join(store, 'k8s');
  if (!existsSync(k8s)) return undefined;
  const pattern = new RegExp(`^${ENVTEST_K8S_MINOR.replace('.', '\\.')}\\.(\\d+)-${platform}$`);
  const found = readdirSync(k8s)
    .map((name) => ({ name, patch: Number(pattern.exec(name)?.[1] ?? Number.NaN) }))
    .filter((c) => Number.isInteger(c.patch) && holdsAssets(join(k8s, c.name)))
    .sort((a, b) => b.patch - a.patch);
  return found[0] ? join(k8s, found[0].name) : undefined;
}

/** setup-envtest's DefaultStoreDir() (controller-runtime@v0.24.1 tools/setup-envtest/store/helpers.go). */
export function setupEnvtestDefaultStore(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const home = env.HOME || homedir();
  if (process.platform === 'darwin') return home ? join(home, 'Library/Application Support/io.kubebuilder.envtest') : undefined;
  if (process.platform === 'win32') return env.LocalAppData ? join(env.LocalAppData, 'kubebuilder-envtest') : undefined;
  const base = env.XDG_DATA_HOME || (home ? join(home, '.local/share') : undefined);
  return base ? join(base, 'kubebuilder-envtest') : undefined;
}

/** The project's own setup script's cache (../shared/envtest/setup: k8s-v1.28.<patch>-linux-amd64). */
export function projectSetupCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  const dir = join(base, 'envtest');
  if (!existsSync(dir)) return undefined;
  const pattern = new RegExp(`^k8s-v${ENVTEST_K8S_MINOR.replace('.', '\\.')}\\.(\\d+)-`);
  const found = readdirSync(dir)
    .filter((name) => pattern.test(name) && holdsAssets(join(dir, name)))
    .sort((a, b) => Number(pattern.exec(b)![1]) - Number(pattern.exec(a)![1]));
  return found[0] ? join(dir, found[0]) : undefined;
}

/** The assets for this run, or undefined when none can be found (the envtest tests are then skipped). */
export function findEnvtestAssets(env: NodeJS.ProcessEnv = process.env): FoundAssets | undefined {
  if (env.KUBEBUILDER_ASSETS) return { dir: env.KUBEBUILDER_ASSETS, source: 'KUBEBUILDER_ASSETS' };
  if (env.ENVTEST_BIN_DIR) {
    const dir = inSetupEnvtestStore(env.ENVTEST_BIN_DIR);
    if (dir) return { dir, source: 'ENVTEST_BIN_DIR (setup-envtest store)' };
  }
  const store = setupEnvtestDefaultStore(env);
  const fromStore = store ? inSetupEnvtestStore(store) : undefined;
  if (fromStore) return { dir: fromStore, source: "setup-envtest's default store" };
  const own = projectSetupCache(env);
  if (own) return { dir: own, source: "the project's envtest setup cache" };
  return undefined;
}
