import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOCK_FILE, TX_DIR, confine, describeRecovery, recoverTransactions, settleInterruptedRun, withRepoLock, writeFilesAtomically } from '../../scripts/lib/core/atomic.ts';
import { GENERATED_PATHS, envOwnedPaths } from '../../scripts/lib/core/layout.ts';
import { ConflictError } from '../../scripts/lib/core/errors.ts';

const ATOMIC = resolve(import.meta.dirname, '../../scripts/lib/core/atomic.ts');
/** The directories this file's tests made: each test's are removed when it ends. */
const made: string[] = [];
const tempRoot = () => {
  const root = mkdtempSync(join(tmpdir(), 'atomic-'));
  made.push(root);
  return root;
};
afterEach(() => {
  for (const root of made.splice(0)) rmSync(root, { recursive: true, force: true });
});

function versionsOf(root: string, files: string[]): Set<string> {
  return new Set(files.map((f) => (existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : 'missing')));
}

describe('writing files atomically', () => {
  it('writes, replaces and deletes files and leaves no journal behind', () => {
    const root = tempRoot();
    writeFileSync(join(root, 'old.txt'), 'old');
    writeFilesAtomically(root, { 'a/b/new.txt': 'new\n', 'old.txt': null }, ['a/', 'old.txt']);
    expect(readFileSync(join(root, 'a/b/new.txt'), 'utf8')).toBe('new\n');
    expect(existsSync(join(root, 'old.txt'))).toBe(false);
    expect(existsSync(join(root, TX_DIR))).toBe(false);
  });

  it('removes directories that a deletion leaves empty', () => {
    const root = tempRoot();
    writeFilesAtomically(root, { 'overlays/qa/env.yaml': 'x', 'overlays/qa/.env': 'y', 'overlays/dev/env.yaml': 'z' }, [...envOwnedPaths('qa'), ...envOwnedPaths('dev')]);
    writeFilesAtomically(root, { 'overlays/qa/env.yaml': null, 'overlays/qa/.env': null }, envOwnedPaths('qa'));
    expect(readdirSync(join(root, 'overlays'))).toEqual(['dev']);
  });

  it.each(['../escape.txt', '/etc/passwd-copy', `${TX_DIR}/x`, 'a/../../x', './ok2.txt', 'a//b', '.git/config', 'a\\b', 'a\0b'])('refuses to write %j and writes nothing', (path) => {
    const root = tempRoot();
    expect(() => writeFilesAtomically(root, { 'ok.txt': 'ok', [path]: 'bad' }, ['ok.txt', path, 'a/'])).toThrow(/outside the repository|belongs to git/);
    expect(existsSync(join(root, 'ok.txt'))).toBe(false);
  });

  it('refuses a path the command does not own, naming what it owns (exit 2), and writes nothing', () => {
    const root = tempRoot();
    let error: unknown;
    try {
      writeFilesAtomically(root, { 'argocd/apps/qa.yaml': 'ok', 'scripts/generate.ts': 'bad' }, GENERATED_PATHS);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/"scripts\/generate\.ts": outside the paths this command owns \(apps\/users-api\/deploy\/, /);
    expect((error as { exitCode: number }).exitCode).toBe(2);
    expect(readdirSync(root)).toEqual([]);
  });

  it('never lets a directory entry cover a hand-edited input: only an exact entry does', () => {
    const root = tempRoot();
    for (const input of ['gitops.yaml', 'overlays/dev/env.yaml', 'overlays/dev/.env']) {
      expect(() => confine(root, GENERATED_PATHS, input)).toThrow(/outside the paths this command owns/);
    }
    expect(confine(root, envOwnedPaths('dev'), 'overlays/dev/env.yaml')).toBe(join(root, 'overlays/dev/env.yaml'));
    expect(() => confine(root, envOwnedPaths('dev'), 'overlays/prod/env.yaml')).toThrow(/outside the paths this command owns/);
  });

  it('refuses to write through a symlinked directory (it may lead outside the repository)', () => {
    const root = tempRoot();
    const outside = tempRoot();
    mkdirSync(join(root, 'overlays'));
    symlinkSync(outside, join(root, 'overlays/dev'));
    expect(() => writeFilesAtomically(root, { 'overlays/dev/kustomization.yaml': 'x' }, GENERATED_PATHS)).toThrow(/overlays\/dev is a symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('a plan left on disk is input too: recovery refuses a plan entry outside what the plan owns', () => {
    const root = tempRoot();
    const tx = join(root, TX_DIR, '1-forged');
    mkdirSync(tx, { recursive: true });
    writeFileSync(join(root, 'keep.txt'), 'keep');
    writeFileSync(join(tx, 'plan.json'), JSON.stringify({ owned: ['argocd/'], entries: [{ path: 'keep.txt', staged: null }] }));
    expect(() => recoverTransactions(root)).toThrow(/outside the paths this command owns/);
    expect(readFileSync(join(root, 'keep.txt'), 'utf8')).toBe('keep');
  });

  it('rolls a committed transaction forward and discards an uncommitted one', () => {
    const root = tempRoot();
    writeFileSync(join(root, 'f.txt'), 'before');
    // The journal a run killed after its commit point, and one killed before it, leave behind.
    const committed = join(root, TX_DIR, '1-committed');
    const uncommitted = join(root, TX_DIR, '2-uncommitted');
    mkdirSync(committed, { recursive: true });
    mkdirSync(uncommitted, { recursive: true });
    writeFileSync(join(committed, 'f0'), 'after');
    writeFileSync(join(committed, 'plan.json'), JSON.stringify({ owned: ['f.txt'], entries: [{ path: 'f.txt', staged: 'f0' }] }));
    writeFileSync(join(uncommitted, 'f0'), 'never');
    const report = recoverTransactions(root);
    expect(report).toEqual({ rolledForward: 1, discarded: 1, filesCompleted: 1 });
    expect(describeRecovery(report)).toBe('recovered an interrupted run: 1 files completed; discarded an interrupted run killed before its commit point: the tree was left as it was');
    expect(readFileSync(join(root, 'f.txt'), 'utf8')).toBe('after');
    expect(existsSync(join(root, TX_DIR))).toBe(false);
  });

  it('leaves the tree as it was or complete when the writer is killed with SIGKILL mid-write', async () => {
    const files = Array.from({ length: 60 }, (_, i) => `dir${i % 7}/file${i}.yaml`);
    const writer = `
      import { writeFilesAtomically } from ${JSON.stringify(ATOMIC)};
      const [root, files] = [process.argv[1], JSON.parse(process.argv[2])];
      for (let v = 1; ; v++) {
        writeFilesAtomically(root, Object.fromEntries(files.map((f) => [f, 'version ' + v + '\\n' + 'x'.repeat(2000)])), ['dir0/', 'dir1/', 'dir2/', 'dir3/', 'dir4/', 'dir5/', 'dir6/']);
        process.stdout.write('.');
      }`;
    for (const delayMs of [40, 90, 160, 250]) {
      const root = tempRoot();
      writeFilesAtomically(root, Object.fromEntries(files.map((f) => [f, 'version 0\n' + 'x'.repeat(2000)])), ['dir0/', 'dir1/', 'dir2/', 'dir3/', 'dir4/', 'dir5/', 'dir6/']);
      const child = spawn(process.execPath, ['--input-type=module', '-e', writer, root, JSON.stringify(files)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const started = await new Promise<boolean>((done) => {
        child.stdout.once('data', () => done(true));
        child.once('exit', () => done(false));
      });
      expect(started, 'the writer child started writing').toBe(true);
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      recoverTransactions(root);
      expect(versionsOf(root, files).size, `after a kill at ${delayMs} ms`).toBe(1);
      expect(existsSync(join(root, TX_DIR))).toBe(false);
    }
  });
});

describe('the repository lock', () => {
  it('makes a second concurrent run wait for the first (saying whom it waits for), then run', async () => {
    const root = tempRoot();
    let release!: () => void;
    const order: string[] = [];
    const first = withRepoLock(root, 'generate', () => new Promise<void>((r) => (release = () => { order.push('first'); r(); })));
    const waits: string[] = [];
    const second = withRepoLock(root, 'new-env qa', () => { order.push('second'); return 'second'; }, { onWait: (who) => waits.push(who) });
    await new Promise((r) => setTimeout(r, 200));
    expect(order).toEqual([]);
    expect(waits).toEqual([`pid ${process.pid}: generate`]);
    release();
    await first;
    await expect(second).resolves.toBe('second');
    expect(order).toEqual(['first', 'second']);
    expect(existsSync(join(root, LOCK_FILE))).toBe(false);
  });

  it('gives up after waitMs with a message naming the holder (exit 2)', async () => {
    const root = tempRoot();
    let release!: () => void;
    const first = withRepoLock(root, 'generate', () => new Promise<void>((r) => (release = r)));
    await expect(withRepoLock(root, 'new-env qa', () => 'second', { waitMs: 100 })).rejects.toThrow(ConflictError);
    await expect(withRepoLock(root, 'new-env qa', () => 'second', { waitMs: 0 })).rejects.toThrow(new RegExp(`pid ${process.pid}: generate`));
    release();
    await first;
  });

  it('recovers an interrupted run when taken, and settleInterruptedRun says what it did', async () => {
    const root = tempRoot();
    expect(await settleInterruptedRun(root, 'status')).toBeUndefined();
    const tx = join(root, TX_DIR, '1-committed');
    mkdirSync(tx, { recursive: true });
    writeFileSync(join(tx, 'f0'), 'after');
    writeFileSync(join(tx, 'f1'), 'after too');
    writeFileSync(join(tx, 'plan.json'), JSON.stringify({ owned: ['a/'], entries: [{ path: 'a/1', staged: 'f0' }, { path: 'a/2', staged: 'f1' }] }));
    expect(await settleInterruptedRun(root, 'status')).toBe('recovered an interrupted run: 2 files completed');
    expect(readFileSync(join(root, 'a/2'), 'utf8')).toBe('after too');
    expect(existsSync(join(root, TX_DIR))).toBe(false);
    expect(existsSync(join(root, LOCK_FILE))).toBe(false);
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const root = tempRoot();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(join(root, LOCK_FILE), JSON.stringify({ pid: dead.pid, command: 'generate' }));
    await expect(withRepoLock(root, 'generate', () => 'ran')).resolves.toBe('ran');
  });

  it('takes over an empty lock file once it is stale (a holder killed before writing its pid)', async () => {
    const root = tempRoot();
    writeFileSync(join(root, LOCK_FILE), '');
    const old = new Date(Date.now() - 10_000);
    utimesSync(join(root, LOCK_FILE), old, old);
    await expect(withRepoLock(root, 'generate', () => 'ran', { waitMs: 0 })).resolves.toBe('ran');
  });

  it('releases the lock when the work throws', async () => {
    const root = tempRoot();
    await expect(withRepoLock(root, 'generate', () => { throw new Error('bad'); })).rejects.toThrow('bad');
    expect(existsSync(join(root, LOCK_FILE))).toBe(false);
  });
});
