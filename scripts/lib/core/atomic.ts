// Writing a set of files so that a run killed at any instant leaves the tree as it was or complete.
// Protocol: stage every new file in .gitops-tx/<id>/, then commit by renaming a plan into place,
// then move the staged files over their targets. A later run (or `recoverTransactions`) rolls a
// committed transaction forward and throws an uncommitted one away. One lock serialises runs.
//
// Every write and every delete goes through one path guard, `confine`: a command names the paths it
// owns, and anything else (a `..`, a symlinked directory, .git, another environment) is refused before
// the first byte is staged.
import {
  closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync,
  rmSync, rmdirSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConflictError } from './errors.ts';

export const TX_DIR = '.gitops-tx';
export const LOCK_FILE = '.gitops.lock';

/** Repo-relative path → new content, or null to delete the file. */
export type FileChanges = Record<string, string | null>;

/**
 * The paths a command may write or delete: entries ending in "/" own everything below them, other
 * entries one exact file. Hand-edited inputs (gitops.yaml, overlays/<env>/env.yaml and .env) are
 * owned only when named exactly, never through a directory entry.
 */
export type OwnedPaths = readonly string[];

/** Files people edit by hand; no directory entry of an ownership list covers them. */
const HAND_EDITED = /^(gitops\.yaml|overlays\/[^/]+\/(env\.yaml|\.env))$/;
const NEVER = new Set(['.git', TX_DIR, LOCK_FILE]);

interface PlanEntry {
  path: string;
  staged: string | null;
}

interface Plan {
  owned: string[];
  entries: PlanEntry[];
}

/** Thrown for a path outside what the command owns: exit 2, nothing written. */
export class PathOutsideError extends ConflictError {
  constructor(rel: string, why: string) {
    super(`refusing to write or delete ${JSON.stringify(rel)}: ${why}; nothing was written`);
    this.name = 'PathOutsideError';
  }
}

/** Why `rel` is not a plain repo-relative path (no "..", ".", empty parts, backslashes, NUL, .git), or null. */
export function pathSyntaxProblem(rel: string): string | null {
  if (typeof rel !== 'string' || rel === '') return 'an empty path is outside the repository';
  if (rel.includes('\0')) return 'a path with a NUL byte is outside the repository';
  if (rel.includes('\\')) return 'a path with a backslash is outside the repository';
  if (rel.startsWith('/')) return 'an absolute path is outside the repository';
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'a path with "..", "." or an empty part is outside the repository (or not the path it looks like)';
  const special = parts.find((p) => NEVER.has(p));
  if (special) return `${special} belongs to git or to the toolkit's own journal, outside the repository's files`;
  return null;
}

function owns(owned: OwnedPaths, rel: string): boolean {
  for (const o of owned) {
    if (o === rel) return true;
    if (o.endsWith('/') && rel.startsWith(o) && !HAND_EDITED.test(rel)) return true;
  }
  return false;
}

/**
 * The one path guard: the absolute path of `rel` under `root` when the command owning `owned` may
 * write or delete it; otherwise throws PathOutsideError. Checks the text of the path and then the
 * disk: no directory on the way may be a symbolic link (it would lead out of the repository).
 */
export function confine(root: string, owned: OwnedPaths, rel: string): string {
  const syntax = pathSyntaxProblem(rel);
  if (syntax) throw new PathOutsideError(rel, syntax);
  for (const o of owned) {
    const p = pathSyntaxProblem(o.endsWith('/') ? o.slice(0, -1) : o);
    if (p) throw new PathOutsideError(o, `the command's own path is invalid: ${p}`);
  }
  if (!owns(owned, rel)) {
    throw new PathOutsideError(rel, `outside the paths this command owns (${owned.length > 0 ? owned.join(', ') : 'none'})`);
  }
  const absRoot = resolve(root);
  const parts = rel.split('/');
  let current = absRoot;
  for (const part of parts.slice(0, -1)) {
    current = join(current, part);
    let st;
    try {
      st = lstatSync(current);
    } catch {
      break; // does not exist yet: nothing below it exists either
    }
    if (st.isSymbolicLink()) throw new PathOutsideError(rel, `${current.slice(absRoot.length + 1)} is a symbolic link, which may lead outside the repository`);
    if (!st.isDirectory()) throw new PathOutsideError(rel, `${current.slice(absRoot.length + 1)} is not a directory`);
  }
  const abs = join(absRoot, rel);
  try {
    const st = lstatSync(abs);
    if (st.isDirectory()) throw new PathOutsideError(rel, 'it is a directory, not a file');
  } catch (error) {
    if (error instanceof PathOutsideError) throw error;
  }
  return abs;
}

function writeDurably(file: string, content: string): void {
  const fd = openSync(file, 'w', 0o644);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes now-empty directories from `dir` up to (not including) `root`. */
function pruneEmptyDirs(root: string, dir: string): void {
  let current = dir;
  while (current.startsWith(root + sep) && current !== root) {
    try {
      if (readdirSync(current).length > 0) return;
      rmdirSync(current);
    } catch {
      return;
    }
    current = dirname(current);
  }
}

function applyPlan(root: string, txPath: string, plan: Plan): void {
  // Every target is checked before the first one is touched (a plan on disk is input too).
  const targets = plan.entries.map((entry) => confine(root, plan.owned, entry.path));
  plan.entries.forEach((entry, i) => {
    const target = targets[i]!;
    if (entry.staged === null) {
      rmSync(target, { force: true });
      pruneEmptyDirs(root, dirname(target));
      return;
    }
    if (!/^f\d+$/.test(entry.staged)) throw new PathOutsideError(entry.staged, 'not a staged file of this transaction');
    const staged = join(txPath, entry.staged);
    if (!existsSync(staged)) return; // moved by an earlier, interrupted roll-forward
    mkdirSync(dirname(target), { recursive: true });
    renameSync(staged, target);
  });
  rmSync(txPath, { recursive: true, force: true });
}

export interface RecoveryReport {
  /** Files of committed transactions that were completed. */
  rolledForward: number;
  /** Transactions killed before their commit point, thrown away (the tree was not touched by them). */
  discarded: number;
  /** How many files the completed transactions held. */
  filesCompleted: number;
}

function readPlan(planFile: string): Plan {
  const raw = JSON.parse(readFileSync(planFile, 'utf8')) as unknown;
  // The first journal format was a bare list of entries, owning exactly the paths it names.
  if (Array.isArray(raw)) return { owned: (raw as PlanEntry[]).map((e) => e.path), entries: raw as PlanEntry[] };
  const plan = raw as Plan;
  if (!plan || !Array.isArray(plan.owned) || !Array.isArray(plan.entries)) throw new Error(`${planFile} is not a transaction plan`);
  return plan;
}

/** Finishes committed transactions left by a killed run and discards uncommitted ones. Call it holding the lock. */
export function recoverTransactions(root: string): RecoveryReport {
  const absRoot = resolve(root);
  const txRoot = join(absRoot, TX_DIR);
  const report: RecoveryReport = { rolledForward: 0, discarded: 0, filesCompleted: 0 };
  if (!existsSync(txRoot)) return report;
  for (const id of readdirSync(txRoot).sort()) {
    const txPath = join(txRoot, id);
    const planFile = join(txPath, 'plan.json');
    if (existsSync(planFile)) {
      const plan = readPlan(planFile);
      applyPlan(absRoot, txPath, plan);
      report.rolledForward++;
      report.filesCompleted += plan.entries.length;
    } else {
      rmSync(txPath, { recursive: true, force: true });
      report.discarded++;
    }
  }
  rmSync(txRoot, { recursive: true, force: true });
  return report;
}

/** What a user is told after a recovery, or undefined when there was nothing to recover. */
export function describeRecovery(r: RecoveryReport): string | undefined {
  const parts: string[] = [];
  if (r.rolledForward > 0) parts.push(`recovered an interrupted run: ${r.filesCompleted} files completed`);
  if (r.discarded > 0) parts.push(`discarded ${r.discarded === 1 ? 'an interrupted run' : `${r.discarded} interrupted runs`} killed before its commit point: the tree was left as it was`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * Writes and deletes `changes` under `root` all-or-nothing (see the protocol above). Every path must
 * be one the command owns (`owned`, see confine); one that is not fails the whole call before anything
 * is staged. Call it holding the repository lock.
 */
export function writeFilesAtomically(root: string, changes: FileChanges, owned: OwnedPaths): void {
  const absRoot = resolve(root);
  const paths = Object.keys(changes).sort();
  for (const p of paths) confine(absRoot, owned, p);
  recoverTransactions(absRoot);
  if (paths.length === 0) return;
  const txPath = join(absRoot, TX_DIR, `${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(txPath, { recursive: true });
  const entries: PlanEntry[] = paths.map((path, i) => {
    const content = changes[path];
    if (content === null || content === undefined) return { path, staged: null };
    const staged = `f${i}`;
    writeDurably(join(txPath, staged), content);
    return { path, staged };
  });
  const plan: Plan = { owned: [...owned], entries };
  writeDurably(join(txPath, 'plan.json.tmp'), JSON.stringify(plan));
  renameSync(join(txPath, 'plan.json.tmp'), join(txPath, 'plan.json')); // the commit point
  applyPlan(absRoot, txPath, plan);
  try {
    rmdirSync(join(absRoot, TX_DIR));
  } catch {
    // another transaction directory is still there, or it is already gone
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOptions {
  /** How long to wait for a live holder before failing (default 120 s; 0 fails at once). */
  waitMs?: number;
  /** Called once when the lock is held by another live run and this one starts waiting. */
  onWait?: (holder: string) => void;
  /** Told what recovering an interrupted run did (see describeRecovery). */
  onRecovered?: (message: string) => void;
}

export const LOCK_WAIT_MS = 120_000;

/**
 * Runs `fn` holding the repository lock, after finishing or discarding a transaction a killed run left
 * (onRecovered says which). A lock left by a dead process is taken over; a live holder is waited for
 * (up to waitMs), so concurrent runs happen one after the other, each reading what the last one wrote.
 */
export async function withRepoLock<T>(root: string, command: string, fn: () => Promise<T> | T, opts: LockOptions = {}): Promise<T> {
  const lockPath = join(resolve(root), LOCK_FILE);
  const deadline = Date.now() + (opts.waitMs ?? LOCK_WAIT_MS);
  let told = false;
  for (let unreadable = 0; ; ) {
    try {
      writeFileSync(lockPath, `${JSON.stringify({ pid: process.pid, command })}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: { pid?: number; command?: string } = {};
      try {
        holder = JSON.parse(readFileSync(lockPath, 'utf8')) as typeof holder;
      } catch {
        // being written right now, released meanwhile, or garbage: treat as held unless it stays unreadable
      }
      if (typeof holder.pid === 'number' && !processAlive(holder.pid)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      if (holder.pid === undefined) {
        // A holder killed between creating the file and writing its pid leaves it empty: once it is
        // older than any write takes, it is stale.
        let ageMs = 0;
        try {
          ageMs = Date.now() - statSync(lockPath).mtimeMs;
        } catch {
          continue; // released meanwhile
        }
        if (ageMs > 2_000) {
          rmSync(lockPath, { force: true });
          continue;
        }
        if (++unreadable > 200) {
          throw new ConflictError(`the repository lock ${LOCK_FILE} is unreadable; delete ${lockPath} if no toolkit command is running`);
        }
      }
      const who = `pid ${holder.pid ?? '?'}: ${holder.command ?? 'unknown command'}`;
      if (Date.now() >= deadline) {
        throw new ConflictError(
          `another run holds the repository lock ${LOCK_FILE} (${who}); ` +
            `wait for it to finish, or delete ${lockPath} if no such process is running`,
        );
      }
      if (!told && holder.pid !== undefined) {
        told = true;
        opts.onWait?.(who);
      }
      await new Promise((r) => setTimeout(r, 25 + Math.floor(Math.random() * 50)));
    }
  }
  try {
    const message = describeRecovery(recoverTransactions(root));
    if (message) opts.onRecovered?.(message);
    return await fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

/**
 * For every command before it reads the tree: when a killed run left a transaction, takes the lock,
 * finishes or discards it, and returns what was done (undefined when there was nothing, without
 * taking the lock).
 */
export async function settleInterruptedRun(root: string, command: string, opts: Omit<LockOptions, 'onRecovered'> = {}): Promise<string | undefined> {
  if (!existsSync(join(resolve(root), TX_DIR))) return undefined;
  let message: string | undefined;
  await withRepoLock(root, command, () => undefined, { ...opts, onRecovered: (m) => (message = m) });
  return message;
}
