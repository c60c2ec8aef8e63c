import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOCK_FILE, TX_DIR, recoverTransactions, withRepoLock, writeFilesAtomically } from '../../scripts/lib/atomic.ts';
import { ConflictError } from '../../scripts/lib/errors.ts';

const ATOMIC = resolve(import.meta.dirname, '../../scripts/lib/atomic.ts');
const tempRoot = () => mkdtempSync(join(tmpdir(), 'atomic-'));

function versionsOf(root: string, files: string[]): Set<string> {
  return new Set(files.map((f) => (existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : 'missing')));
}

describe('writing files atomically', () => {
  it('writes, replaces and deletes files and leaves no journal behind', () => {
    const root = tempRoot();
    writeFileSync(join(root, 'old.txt'), 'old');
    writeFilesAtomically(root, { 'a/b/new.txt': 'new\n', 'old.txt': null });
    expect(readFileSync(join(root, 'a/b/new.txt'), 'utf8')).toBe('new\n');
    expect(existsSync(join(root, 'old.txt'))).toBe(false);
    expect(existsSync(join(root, TX_DIR))).toBe(false);
  });

  it('removes directories that a deletion leaves empty', () => {
    const root = tempRoot();
    writeFilesAtomically(root, { 'overlays/qa/env.yaml': 'x', 'overlays/qa/.env': 'y', 'overlays/dev/env.yaml': 'z' });
    writeFilesAtomically(root, { 'overlays/qa/env.yaml': null, 'overlays/qa/.env': null });
    expect(readdirSync(join(root, 'overlays'))).toEqual(['dev']);
  });

  it.each(['../escape.txt', '/etc/passwd-copy', `${TX_DIR}/x`])('refuses to write %j and writes nothing', (path) => {
    const root = tempRoot();
    expect(() => writeFilesAtomically(root, { 'ok.txt': 'ok', [path]: 'bad' })).toThrow(/outside the repository/);
    expect(existsSync(join(root, 'ok.txt'))).toBe(false);
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
    writeFileSync(join(committed, 'plan.json'), JSON.stringify([{ path: 'f.txt', staged: 'f0' }]));
    writeFileSync(join(uncommitted, 'f0'), 'never');
    expect(recoverTransactions(root)).toEqual({ rolledForward: 1, discarded: 1 });
    expect(readFileSync(join(root, 'f.txt'), 'utf8')).toBe('after');
    expect(existsSync(join(root, TX_DIR))).toBe(false);
  });

  it('leaves the tree as it was or complete when the writer is killed with SIGKILL mid-write', async () => {
    const files = Array.from({ length: 60 }, (_, i) => `dir${i % 7}/file${i}.yaml`);
    const writer = `
      import { writeFilesAtomically } from ${JSON.stringify(ATOMIC)};
      const [root, files] = [process.argv[1], JSON.parse(process.argv[2])];
      for (let v = 1; ; v++) {
        writeFilesAtomically(root, Object.fromEntries(files.map((f) => [f, 'version ' + v + '\\n' + 'x'.repeat(2000)])));
        process.stdout.write('.');
      }`;
    for (const delayMs of [40, 90, 160, 250]) {
      const root = tempRoot();
      writeFilesAtomically(root, Object.fromEntries(files.map((f) => [f, 'version 0\n' + 'x'.repeat(2000)])));
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
  it('refuses a second concurrent run with a message naming the holder, then frees the lock', async () => {
    const root = tempRoot();
    let release!: () => void;
    const first = withRepoLock(root, 'generate', () => new Promise<void>((r) => (release = r)));
    await expect(withRepoLock(root, 'new-env qa', () => 'second')).rejects.toThrow(ConflictError);
    await expect(withRepoLock(root, 'new-env qa', () => 'second')).rejects.toThrow(new RegExp(`pid ${process.pid}: generate`));
    release();
    await first;
    expect(existsSync(join(root, LOCK_FILE))).toBe(false);
    await expect(withRepoLock(root, 'new-env qa', () => 'second')).resolves.toBe('second');
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const root = tempRoot();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(join(root, LOCK_FILE), JSON.stringify({ pid: dead.pid, command: 'generate' }));
    await expect(withRepoLock(root, 'generate', () => 'ran')).resolves.toBe('ran');
  });

  it('releases the lock when the work throws', async () => {
    const root = tempRoot();
    await expect(withRepoLock(root, 'generate', () => { throw new Error('bad'); })).rejects.toThrow('bad');
    expect(existsSync(join(root, LOCK_FILE))).toBe(false);
  });
});
