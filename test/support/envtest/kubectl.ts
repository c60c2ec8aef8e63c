// Which kubectl binary the tests run against the real API server.
//
// Where `kubectl` is the Google Cloud SDK's dispatcher (`kubectl version --client` prints a gitVersion
// ending in "-dispatcher"; the SDK ships it beside one binary per minor version, `kubectl.1.27` …
// `kubectl.1.33`), every call first asks the server for its version and then executes the matching
// `kubectl.<major>.<minor>`: two Go start-ups and one more request per call. Measured on the shared
// 2-core machine against kube-apiserver v1.28 (CPU per call, five calls each): `get ns` 280 ms through
// the dispatcher, 115 ms with kubectl.1.28 itself; a client-side `apply` 680 ms against 520 ms. The suite
// makes about 500 such calls, so the harness runs the binary the dispatcher would have chosen, directly.
// Anywhere else (a plain kubectl, setup-envtest's, a kind node's) the binary found is used as it is.
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';

/** `bin` as a path: itself when it has a slash, else the first match on PATH; undefined when not found. */
function onPath(bin: string): string | undefined {
  if (bin.includes('/')) return existsSync(bin) ? bin : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isAbsolute(dir) && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return undefined;
}

/** "1.28" from `kube-apiserver --version` ("Kubernetes v1.28.0"), or undefined. */
function serverMinor(assets: string): string | undefined {
  try {
    const out = execFileSync(join(assets, 'kube-apiserver'), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /v(\d+\.\d+)\./.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The kubectl for a server started from `assets` (KUBEBUILDER_ASSETS): `assets`/kubectl when it runs,
 * else `kubectl` on PATH; through the Cloud SDK dispatcher's own version-matched binary when that is
 * what it would run.
 */
export function kubectlFor(assets: string): string {
  const candidates = [join(assets, 'kubectl'), 'kubectl'];
  for (const candidate of candidates) {
    const path = onPath(candidate);
    if (!path) continue;
    let version: string;
    try {
      version = execFileSync(path, ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      continue;
    }
    const gitVersion = (JSON.parse(version) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? '';
    if (!gitVersion.endsWith('-dispatcher')) return path;
    const minor = serverMinor(assets);
    const matched = minor ? join(dirname(realpathSync(path)), `kubectl.${minor}`) : undefined;
    return matched && existsSync(matched) ? matched : path;
  }
  return 'kubectl';
}
