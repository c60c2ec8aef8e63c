// Finding and running Kustomize: the standalone `kustomize` binary when it is on PATH, else the copy
// built into kubectl (`kubectl kustomize`). Everything else in the toolkit calls `KustomizeTool.build`.
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { readEntry, writeEntry } from '../core/cache-entry.ts';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, relative, resolve } from 'node:path';
import { ConflictError } from '../core/errors.ts';

export interface KustomizeTool {
  /** "kustomize" or "kubectl kustomize" */
  name: string;
  /** What the render cache keys on: tool, version and the binary's identity. */
  identity: string;
  /** The version it reports ("v5.5.0 (kubectl v1.32.4)"), for review headers. */
  version?: string;
  /** Renders `dir` (relative to `root`, the repository or worktree); rejects with KustomizeBuildError. */
  build(root: string, dir: string): Promise<string>;
}

export const KUSTOMIZE_INSTALL_HINT =
  'install kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/) or kubectl ' +
  '(https://kubernetes.io/docs/tasks/tools/), which includes it as `kubectl kustomize`, and put it on PATH';

/** Neither `kustomize` nor `kubectl` is on PATH: exit 2 with how to fix it. */
export class KustomizeMissingError extends ConflictError {
  constructor(path: string) {
    super(`neither \`kustomize\` nor \`kubectl\` was found on PATH (${path || 'empty'}); ${KUSTOMIZE_INSTALL_HINT}`);
    this.name = 'KustomizeMissingError';
  }
}

/** A failed build, with the file Kustomize complained about (repo-relative when it is inside the repo). */
export class KustomizeBuildError extends Error {
  readonly exitCode = 2;
  readonly dir: string;
  readonly file: string | undefined;
  readonly detail: string;
  constructor(dir: string, file: string | undefined, detail: string) {
    super(`kustomize build ${dir} failed${file ? ` at ${file}` : ''}: ${detail}`);
    this.name = 'KustomizeBuildError';
    this.dir = dir;
    this.file = file;
    this.detail = detail;
  }
}

export function findOnPath(command: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

function run(file: string, args: string[], cwd?: string): Promise<ExecResult> {
  return new Promise((done) => {
    execFile(file, args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      // A process that could not start has no stderr; its error message says why.
      done({ stdout, stderr: stderr || (error ? error.message : ''), code });
    });
  });
}

/** kubectl prefixes klog noise (`E1125 11:28:43.8 5781 run.go:72] "command failed" err=…`); keep the message. */
export function cleanKustomizeMessage(stderr: string): string {
  let text = stderr.replace(/^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] /gm, '');
  text = text.replace(/^"command failed" err=/m, '').replace(/^Error: /m, '');
  text = text.replace(/^</, '').replace(/\n\s*>\s*$/, '');
  text = text.replace(/^"|"$/g, '');
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The file a Kustomize error is about: an absolute path inside the build root, else a quoted or `path:`
 * file name resolved against the directory being built. The last match is the most specific one
 * (Kustomize wraps errors outermost first).
 */
export function fileAtFault(message: string, buildDir: string, root: string): string | undefined {
  const candidates: string[] = [];
  for (const m of message.matchAll(/(\/[^\s'"`:,]+)/g)) {
    const abs = m[1]!;
    if (abs.startsWith(root + '/')) candidates.push(abs);
  }
  if (candidates.length === 0) {
    for (const m of message.matchAll(/(?:['"`]|path: ?"?)([\w./-]+\.(?:ya?ml|env|json|properties))/g)) {
      candidates.push(resolve(buildDir, m[1]!));
    }
  }
  const last = candidates.at(-1);
  if (!last) return undefined;
  const rel = relative(root, last);
  return rel.startsWith('..') || isAbsolute(rel) ? last : rel;
}

async function versionOf(file: string, name: string): Promise<string> {
  if (name === 'kustomize') {
    const r = await run(file, ['version']);
    return r.stdout.trim() || 'unknown';
  }
  const r = await run(file, ['version', '--client', '-o', 'json']);
  try {
    const v = JSON.parse(r.stdout) as { kustomizeVersion?: string; clientVersion?: { gitVersion?: string } };
    return `${v.kustomizeVersion ?? 'unknown'} (kubectl ${v.clientVersion?.gitVersion ?? 'unknown'})`;
  } catch {
    return 'unknown';
  }
}

/**
 * Where the version each binary reported is remembered, by path, size, mtime and inode: asking
 * `kubectl version` costs a process start (0.16–0.23 s measured in issue 18) on every run otherwise.
 * $GITOPS_TOOL_CACHE, else $XDG_CACHE_HOME/gitops-users, else ~/.cache/gitops-users.
 */
export function toolCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.GITOPS_TOOL_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gitops-users');
  return join(base, 'kustomize-versions.json');
}

async function rememberedVersion(file: string, name: string, fingerprint: string): Promise<string> {
  const cacheFile = toolCacheFile();
  let known: Record<string, string> = {};
  try {
    const text = readEntry(cacheFile);
    if (text !== undefined) known = JSON.parse(text) as Record<string, string>;
  } catch {
    // first run, or a damaged file (its checksum does not match: cache-entry.ts): ask the binary
  }
  const hit = known[fingerprint];
  if (typeof hit === 'string') return hit;
  const version = await versionOf(file, name);
  if (version === 'unknown') return version;
  try {
    // Keep the entries of binaries that still exist as they were; drop the rest.
    const kept = Object.fromEntries(Object.entries(known).filter(([k]) => {
      const [path, size, mtime, ino] = k.split('\0');
      try {
        const st = statSync(path!);
        return `${st.size}` === size && `${Math.trunc(st.mtimeMs)}` === mtime && `${st.ino}` === ino;
      } catch {
        return false;
      }
    }));
    writeEntry(cacheFile, JSON.stringify({ ...kept, [fingerprint]: version }));
  } catch {
    // a read-only home: ask again next time
  }
  return version;
}

/** Locates Kustomize on `pathVar` (default: this process's PATH). */
export async function locateKustomize(pathVar: string = process.env.PATH ?? ''): Promise<KustomizeTool> {
  const standalone = findOnPath('kustomize', pathVar);
  const kubectl = standalone ? undefined : findOnPath('kubectl', pathVar);
  const file = standalone ?? kubectl;
  if (!file) throw new KustomizeMissingError(pathVar);
  const name = standalone ? 'kustomize' : 'kubectl kustomize';
  const prefix = standalone ? ['build'] : ['kustomize'];
  const stat = statSync(file);
  const fingerprint = [file, stat.size, Math.trunc(stat.mtimeMs), stat.ino].join('\0');
  const version = await rememberedVersion(file, standalone ? 'kustomize' : 'kubectl', fingerprint);
  return {
    name,
    identity: `${name} ${version} ${file} ${stat.size} ${Math.trunc(stat.mtimeMs)}`,
    version,
    async build(root: string, dir: string): Promise<string> {
      const absRoot = resolve(root);
      const abs = resolve(absRoot, dir);
      const r = await run(file, [...prefix, abs], absRoot);
      if (r.code !== 0) {
        const detail = cleanKustomizeMessage(r.stderr);
        throw new KustomizeBuildError(relative(absRoot, abs) || '.', fileAtFault(detail, abs, absRoot), detail);
      }
      return r.stdout;
    },
  };
}

/**
 * `tool`, with the builds of `dirs` under `root` started now, before the caller knows it will render
 * them: the first `build` of the same directory receives the running build instead of starting another;
 * every other build runs as usual. A review starts the overlays a change touches this way, so Kustomize
 * runs while the remembered check is looked up and the review's modules load (issue 24). A build nobody
 * asks for is left to finish and dropped (its failure too).
 */
export function withHeadStart(tool: KustomizeTool, root: string, dirs: readonly string[]): KustomizeTool {
  const key = (r: string, d: string): string => resolve(resolve(r), d);
  const running = new Map<string, Promise<string>>();
  for (const dir of dirs) {
    const build = tool.build(root, dir);
    build.catch(() => undefined);
    running.set(key(root, dir), build);
  }
  return {
    ...tool,
    build(r, d) {
      const k = key(r, d);
      const started = running.get(k);
      if (!started) return tool.build(r, d);
      running.delete(k);
      return started;
    },
  };
}
