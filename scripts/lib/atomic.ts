// Writing a set of files so that a run killed at any instant leaves the tree as it was or complete.
// Protocol: stage every new file in .gitops-tx/<id>/, then commit by renaming a plan into place,
// then move the staged files over their targets. A later run (or `recoverTransactions`) rolls a
// committed transaction forward and throws an uncommitted one away. One lock serialises runs.
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync,
  rmSync, rmdirSync, writeFileSync, writeSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConflictError } from './errors.ts';

export const TX_DIR = '.gitops-tx';
export const LOCK_FILE = '.gitops.lock';

/** Repo-relative path → new content, or null to delete the file. */
export type FileChanges = Record<string, string | null>;

interface PlanEntry {
  path: string;
  staged: string | null;
}

function safeTarget(root: string, rel: string): string {
  const abs = resolve(root, rel);
  const back = relative(root, abs);
  if (back === '' || back.startsWith('..') || back.split(sep).includes(TX_DIR)) {
    throw new Error(`refusing to write outside the repository: ${rel}`);
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

function applyPlan(root: string, txPath: string, plan: PlanEntry[]): void {
  for (const entry of plan) {
    const target = safeTarget(root, entry.path);
    if (entry.staged === null) {
      rmSync(target, { force: true });
      pruneEmptyDirs(root, dirname(target));
      continue;
    }
    const staged = join(txPath, entry.staged);
    if (!existsSync(staged)) continue; // moved by an earlier, interrupted roll-forward
    mkdirSync(dirname(target), { recursive: true });
    renameSync(staged, target);
  }
  rmSync(txPath, { recursive: true, force: true });
}

/** Finishes committed transactions left by a killed run and discards uncommitted ones. */
export function recoverTransactions(root: string): { rolledForward: number; discarded: number } {
  const txRoot = join(root, TX_DIR);
  let rolledForward = 0;
  let discarded = 0;
  if (!existsSync(txRoot)) return { rolledForward, discarded };
  for (const id of readdirSync(txRoot).sort()) {
    const txPath = join(txRoot, id);
    const planFile = join(txPath, 'plan.json');
    if (existsSync(planFile)) {
      applyPlan(root, txPath, JSON.parse(readFileSync(planFile, 'utf8')) as PlanEntry[]);
      rolledForward++;
    } else {
      rmSync(txPath, { recursive: true, force: true });
      discarded++;
    }
  }
  rmSync(txRoot, { recursive: true, force: true });
  return { rolledForward, discarded };
}

/** Writes and deletes `changes` under `root` all-or-nothing (see the protocol above). */
export function writeFilesAtomically(root: string, changes: FileChanges): void {
  const absRoot = resolve(root);
  recoverTransactions(absRoot);
  const paths = Object.keys(changes).sort();
  for (const p of paths) safeTarget(absRoot, p);
  if (paths.length === 0) return;
  const txPath = join(absRoot, TX_DIR, `${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(txPath, { recursive: true });
  const plan: PlanEntry[] = paths.map((path, i) => {
    const content = changes[path];
    if (content === null || content === undefined) return { path, staged: null };
    const staged = `f${i}`;
    writeDurably(join(txPath, staged), content);
    return { path, staged };
  });
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

/**
 * Runs `fn` holding the repository lock. A lock left by a dead process is taken over; a live holder
 * makes this fail at once with a message naming it, rather than interleaving two runs' writes.
 */
export async function withRepoLock<T>(root: string, command: string, fn: () => Promise<T> | T): Promise<T> {
  const lockPath = join(resolve(root), LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockPath, `${JSON.stringify({ pid: process.pid, command })}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw error;
      let holder: { pid?: number; command?: string } = {};
      try {
        holder = JSON.parse(readFileSync(lockPath, 'utf8')) as typeof holder;
      } catch {
        // being written right now, or garbage: treat as held unless it stays unreadable
      }
      if (typeof holder.pid === 'number' && !processAlive(holder.pid)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      if (holder.pid === undefined && attempt < 3) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      throw new ConflictError(
        `another run holds the repository lock ${LOCK_FILE} (pid ${holder.pid ?? '?'}: ${holder.command ?? 'unknown command'}); ` +
          `wait for it to finish, or delete ${lockPath} if no such process is running`,
      );
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}
