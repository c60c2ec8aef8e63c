// The e2e run's edge to the machine: one process runner (commands with their output captured, and the
// long-lived `kubectl port-forward`), and the preflight that says plainly what is missing. A container
// engine is asked whether its daemon answers (`docker info`), not whether its client is installed: a
// client without an engine (as on this project's CI machine) cannot build or run anything.
import { spawn } from 'node:child_process';
import { ConflictError } from '../../core/errors.ts';

export interface RunResult { code: number; stdout: string; stderr: string }

export interface Host {
  run(cmd: string, args: readonly string[], opts?: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  /** `kubectl port-forward` to a Service: resolves with the local port once kubectl says it forwards. */
  portForward(context: string, namespace: string, target: string, remotePort: number): Promise<{ port: number; stop(): void }>;
}

export const processHost: Host = {
  run: (cmd, args, opts = {}) =>
    new Promise((resolve) => {
      const child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', (e) => resolve({ code: 127, stdout, stderr: stderr + e.message }));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input ?? '');
    }),
  portForward: (context, namespace, target, remotePort) =>
    new Promise((resolve, reject) => {
      // Port 0: kubectl picks a free local port and prints "Forwarding from 127.0.0.1:<port> -> <remote>".
      const child = spawn('kubectl', ['--context', context, '-n', namespace, 'port-forward', '--address', '127.0.0.1', target, `0:${remotePort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let settledUp = false;
      const timer = setTimeout(() => { if (!settledUp) { settledUp = true; child.kill(); reject(new Error(`kubectl port-forward ${target} did not start within 60 s: ${out.trim()}`)); } }, 60_000);
      const onData = (c: Buffer) => {
        out += c.toString('utf8');
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (m && !settledUp) {
          settledUp = true;
          clearTimeout(timer);
          resolve({ port: Number(m[1]), stop: () => child.kill() });
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', (code) => { if (!settledUp) { settledUp = true; clearTimeout(timer); reject(new Error(`kubectl port-forward ${target} exited ${code}: ${out.trim()}`)); } });
    }),
};

export type Engine = 'docker' | 'podman';
export type ClusterTool = 'kind' | 'k3d';

const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

/** The first container engine whose daemon answers, or why none does. */
export async function findEngine(host: Host): Promise<{ engine?: Engine; tried: string[] }> {
  const tried: string[] = [];
  for (const engine of ['docker', 'podman'] as const) {
    const r = await host.run(engine, ['info', '--format', '{{json .}}']);
    if (r.code === 0) return { engine, tried };
    tried.push(r.code === 127 ? `${engine}: not installed` : `${engine} info: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  }
  return { tried };
}

export async function hasTool(host: Host, tool: ClusterTool | 'kubectl' | 'git'): Promise<boolean> {
  const args = tool === 'kubectl' ? ['version', '--client'] : tool === 'git' ? ['--version'] : ['version'];
  return (await host.run(tool, args)).code === 0;
}

export interface Preflight {
  engine: Engine;
  /** undefined with --context: the cluster is the user's. */
  create?: ClusterTool;
}

/**
 * What the run needs, checked before anything is created: a container engine that answers (to build
 * the image and run kind/k3d), kubectl and git, and either --context or a cluster tool. Exit 2 with what
 * is missing, never a half-made cluster.
 */
export async function preflight(host: Host, opts: { context?: string; create?: ClusterTool }): Promise<Preflight> {
  const { engine, tried } = await findEngine(host);
  if (!engine) {
    throw new ConflictError(
      `no container engine answers (${tried.join('; ')}): e2e builds the users-api image and runs the cluster on one. ` +
        'Install Docker or Podman (and kind or k3d), or run the e2e workflow on GitHub (.github/workflows/e2e.yml); see docs/e2e.md',
    );
  }
  for (const tool of ['kubectl', 'git'] as const) {
    if (!(await hasTool(host, tool))) throw new ConflictError(`${tool} is not installed: e2e needs it (docs/e2e.md)`);
  }
  if (opts.context !== undefined) return { engine };
  const candidates: ClusterTool[] = opts.create ? [opts.create] : ['kind', 'k3d'];
  for (const tool of candidates) if (await hasTool(host, tool)) return { engine, create: tool };
  throw new ConflictError(`${candidates.join(' or ')} is not installed: e2e creates its disposable cluster with it, or give --context <ctx> of a disposable cluster (docs/e2e.md)`);
}
