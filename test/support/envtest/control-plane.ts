// A real Kubernetes control plane for tests, started the way controller-runtime's envtest starts one
// (etcd + kube-apiserver on loopback, no kubelet/scheduler/controllers), in TypeScript:
//  - free loopback ports, a fresh data directory per start;
//  - a throwaway CA and serving certificate made with openssl (node:crypto cannot sign X.509);
//  - token authentication (admin in system:masters, one token with no RBAC grants), RBAC on;
//  - service-account signing keys, so the TokenRequest API issues tokens a test can act with;
//  - /readyz polled until the server answers ok; stop() kills both processes by PID.
// The flags follow ../shared/envtest/README.md and kube-apiserver v1.28's `--help`.
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, openSync, closeSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ControlPlane {
  server: string;
  caPem: string;
  adminToken: string;
  noRightsToken: string;
  kubeconfigPath: string;
  kubeconfigYaml: string;
  dir: string;
  pids: number[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function kubeconfigYamlFor(server: string, caPem: string, token: string, user = 'envtest'): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: envtest',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: envtest',
    '  context:',
    '    cluster: envtest',
    `    user: ${user}`,
    'current-context: envtest',
    '',
  ].join('\n');
}

function makeCerts(dir: string): void {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-days', '2', '-subj', '/CN=envtest-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
    '-subj', '/CN=kube-apiserver']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
}

async function readyz(server: string, caPem: string, token: string): Promise<string> {
  return await new Promise((resolve) => {
    const req = httpsRequest(`${server}/readyz`, { ca: caPem, headers: { authorization: `Bearer ${token}` }, timeout: 3_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}: ${body.slice(-300)}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (!child.pid || !alive(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => { if (alive(child)) child.kill('SIGKILL'); }, 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Kills the control plane even if this process dies without running its teardown (SIGKILL, crash).
 * stop() ends the watchdog first, so it never outlives the processes it guards (no stale PIDs killed).
 */
function watchdog(pids: number[], dir: string): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; kill -9 ${pids.join(' ')} 2>/dev/null; rm -rf '${dir}'`;
  const w = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  w.unref();
  return w;
}

export interface StartOptions {
  assetsDir: string;
  /** how long to wait for /readyz (default 120 s: the machine may be busy) */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
  /** extra kube-apiserver flags, e.g. feature gates (VALIDATING_ADMISSION_POLICY_ARGS in index.ts) */
  apiServerArgs?: readonly string[];
}

/** A control plane whose processes are started; `ready` settles once /readyz says ok (stopped if it never does). */
export interface LaunchedControlPlane extends ControlPlane {
  ready: Promise<void>;
}

/** Starts a control plane and waits until it serves. */
export async function startControlPlane(opts: StartOptions): Promise<ControlPlane> {
  const cp = await launchControlPlane(opts);
  await cp.ready;
  return cp;
}

/**
 * Starts etcd and kube-apiserver and returns at once, with everything a client needs (address, CA,
 * tokens, kubeconfig), so the run's other work overlaps the seconds the server takes to come up.
 */
export async function launchControlPlane(opts: StartOptions): Promise<LaunchedControlPlane> {
  const etcdBin = join(opts.assetsDir, 'etcd');
  const apiBin = join(opts.assetsDir, 'kube-apiserver');
  for (const bin of [etcdBin, apiBin]) {
    if (!existsSync(bin)) throw new Error(`envtest: ${bin} not found; KUBEBUILDER_ASSETS=${opts.assetsDir} must hold etcd and kube-apiserver (eval "$(../shared/envtest/setup)")`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'envtest-'));
  makeCerts(dir);
  const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const adminToken = randomBytes(24).toString('hex');
  const noRightsToken = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'),
    `${adminToken},envtest-admin,envtest-admin,"system:masters"\n${noRightsToken},envtest-nobody,envtest-nobody\n`, { mode: 0o600 });

  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const logFd = openSync(join(dir, 'control-plane.log'), 'a');
  const spawnLogged = (bin: string, args: string[]) => {
    const child = spawn(bin, args, { stdio: ['ignore', logFd, logFd], detached: false });
    children.push(child);
    return child;
  };
  let guard: ChildProcess | undefined;
  const stop = async () => {
    if (guard?.pid && alive(guard)) guard.kill('SIGKILL');
    for (const child of [...children].reverse()) await killAndWait(child);
    try { closeSync(logFd); } catch { /* already closed */ }
    rmSync(dir, { recursive: true, force: true });
  };

  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigYaml = kubeconfigYamlFor(server, caPem, adminToken, 'envtest-admin');
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml, { mode: 0o600 });
  let etcd: ChildProcess;
  let api: ChildProcess;
  try {
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    etcd = spawnLogged(etcdBin, [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync=true', '--quota-backend-bytes=4294967296', '--log-level=warn',
    ]);
    api = spawnLogged(apiBin, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      `--cert-dir=${dir}`, `--tls-cert-file=${join(dir, 'server.crt')}`, `--tls-private-key-file=${join(dir, 'server.key')}`,
      `--client-ca-file=${join(dir, 'ca.crt')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--api-audiences=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/16', '--endpoint-reconciler-type=none',
      '--disable-admission-plugins=ServiceAccount', '--allow-privileged=true',
      '--v=0',
      ...(opts.apiServerArgs ?? []),
    ]);
    guard = watchdog(children.map((c) => c.pid!).filter(Boolean), dir);
  } catch (e) {
    await stop();
    throw e;
  }
  const ready = (async () => {
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
    let last = '';
    for (;;) {
      if (!alive(etcd) || !alive(api)) {
        const log = readFileSync(join(dir, 'control-plane.log'), 'utf8').slice(-2000);
        throw new Error(`envtest: ${alive(etcd) ? 'kube-apiserver' : 'etcd'} exited during start-up:\n${log}`);
      }
      last = await readyz(server, caPem, adminToken);
      if (last === 'ok') return;
      if (Date.now() > deadline) throw new Error(`envtest: ${server}/readyz not ok after ${opts.readyTimeoutMs ?? 120_000} ms (last: ${last})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  })().catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  // Settled by whoever awaits it; never an unhandled rejection meanwhile.
  ready.catch(() => {});
  return { server, caPem, adminToken, noRightsToken, kubeconfigPath, kubeconfigYaml, dir, pids: children.map((c) => c.pid!).filter(Boolean), stop, ready };
}
