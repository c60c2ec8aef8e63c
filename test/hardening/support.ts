// Shared pieces of the hardening suites: raw HTTP (for requests fetch() refuses to send), a free port
// for the real entry point, and the figures file that bench/README.md's "Hardening" table quotes.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyToolkitTree } from '../support/repo-copy.ts';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const FIGURES_FILE = new URL('../../.cache/hardening/figures.json', import.meta.url).pathname;

/** Merges `figures` into .cache/hardening/figures.json (one key per measured fact). */
export function recordFigures(figures: Record<string, unknown>): void {
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(readFileSync(FIGURES_FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    // First figure of this run.
  }
  mkdirSync(dirname(FIGURES_FILE), { recursive: true });
  writeFileSync(FIGURES_FILE, `${JSON.stringify({ ...current, ...figures }, null, 2)}\n`);
}

export interface RawResponse {
  /** 0 when the server closed the connection without a status line. */
  status: number;
  head: string;
  body: string;
}

/**
 * Sends `chunks` as they are over one TCP connection (half-closing after the last one unless
 * `keepOpen`) and returns the first response. For lies fetch() would correct: Content-Length,
 * malformed request lines, raw bytes.
 */
export function rawRequest(port: number, chunks: Array<string | Buffer>, options: { keepOpen?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      finish();
    }, options.timeoutMs ?? 3000);
    let done = false;
    function finish(): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const text = Buffer.concat(received).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: split === -1 ? '' : text.slice(split + 4) });
    }
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      // One response is enough: stop once its declared body is complete.
      const text = Buffer.concat(received).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split === -1) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split))?.[1];
      if (length !== undefined && Buffer.byteLength(text.slice(split + 4), 'latin1') >= Number(length)) {
        socket.destroy();
        finish();
      }
    });
    socket.on('error', () => finish());
    socket.on('close', () => finish());
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (!options.keepOpen) socket.end();
    });
    socket.on('timeout', () => reject(new Error('raw request timed out')));
  });
}

/** A TCP port that was free a moment ago (the real entry point refuses PORT=0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Every key anywhere in `value` (objects and arrays), for the "nothing stored" checks. */
export function allKeys(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) allKeys(v, out);
  else if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      if (k !== '_id') allKeys(v, out);
    }
  }
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

// ---- Toolkit attacks (test/hardening/inputs-*.test.ts): a throw-away repository and a run of a CLI. ----

const TOOLKIT_COPY = ['gitops.yaml', 'overlays', 'apps/users-api/src', 'apps/users-api/deploy', 'platform/mongodb', 'argocd', 'previews', 'schemas', 'scripts', 'package.json', 'tsconfig.json'];
const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export interface ScriptRun {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `node scripts/<script>.ts …args` in `dir` (no cluster: KUBECONFIG points at nothing). */
export function runScript(dir: string, script: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ScriptRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [`scripts/${script}.ts`, ...args], {
      cwd: dir,
      env: { ...process.env, KUBECONFIG: join(dir, '.no-kubeconfig'), NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out, err });
    });
  });
}

/**
 * A temporary git repository holding the toolkit, the inputs and the generated files, regenerated and
 * committed so that it starts clean (`generate --check` passes) whatever the working tree holds.
 */
export async function makeToolkitRepo(prefix = 'inputs-'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Code from the working tree, data (environments, .env, gitops.yaml) as committed: test/support/repo-copy.ts.
  copyToolkitTree(dir, TOOLKIT_COPY);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  const r = await runScript(dir, 'generate', []);
  if (r.code !== 0) throw new Error(`generate failed in the test repository: ${r.err}`);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
  git('init', '-q');
  writeFileSync(join(dir, '.gitignore'), 'node_modules\n.cache/\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'start');
  return dir;
}

/**
 * Every entry under `dir` (.git included, node_modules excluded): path → content hash, link target or
 * "dir". Equal snapshots mean nothing was written, deleted, renamed or re-linked.
 */
export function snapshotTree(dir: string, rel = '', out: Record<string, string> = {}): Record<string, string> {
  for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    if (p === 'node_modules' || p === '.cache') continue;
    const abs = join(dir, p);
    if (d.isSymbolicLink()) out[p] = `link:${readlinkSync(abs)}`;
    else if (d.isDirectory()) {
      out[p] = 'dir';
      snapshotTree(dir, p, out);
    } else if (d.isFile()) out[p] = createHash('sha256').update(readFileSync(abs)).digest('hex');
    else out[p] = 'special';
  }
  return out;
}
