// Issue 11, "inputs that reach files they must not" and "invisible characters": every input file goes
// through one reader (scripts/lib/inputs/file.ts) that refuses links, directories, FIFOs and devices
// by lstat before opening anything, refuses invalid UTF-8 and a BOM, and refuses invisible and
// bidirectional characters with file, line and fix. Against the old code a .env symlink to
// /etc/passwd printed its lines, a FIFO hung generate, a directory gave a bare EISDIR, promote
// rewrote invalid UTF-8 as U+FFFD and a BOM in .env passed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, InputError } from '../../scripts/lib/core/errors.ts';
import { decodeInput } from '../../scripts/lib/inputs/file.ts';
import { readRepoInputs } from '../../scripts/lib/inputs/index.ts';
import { findInvisibleCharacters } from '../../scripts/lib/core/text.ts';
import { makeToolkitRepo, recordFigures, runScript, snapshotTree } from './support.ts';

let dir: string;
let outside: string;
let attacks = 0;
let held = 0;
beforeAll(async () => {
  dir = await makeToolkitRepo('inputs-files-');
  outside = mkdtempSync(join(tmpdir(), 'inputs-outside-'));
}, 180_000);
afterAll(() => {
  recordFigures({ inputsFilesAttacks: attacks, inputsFilesHeld: held });
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** Replaces `rel` in the test repository by what `make` creates there, runs `check`, then restores the file. */
async function withReplaced(rel: string, make: (abs: string) => void, check: () => Promise<void>): Promise<void> {
  const abs = join(dir, rel);
  const saved = `${abs}.saved-by-test`;
  renameSync(abs, saved);
  try {
    make(abs);
    await check();
  } finally {
    rmSync(abs, { recursive: true, force: true });
    renameSync(saved, abs);
  }
}

async function problemsOf(): Promise<string> {
  try {
    await readRepoInputs(dir);
  } catch (error) {
    if (error instanceof InputError) return error.problems.map(formatProblem).join('\n');
    throw error;
  }
  return '';
}

describe('input files that are not regular files inside the repository (exit 2, the path named, nothing foreign read)', () => {
  it('overlays/dev/.env -> /etc/passwd: generate exits 2 naming the link, and no line of /etc/passwd is printed', async () => {
    attacks++;
    await withReplaced('overlays/dev/.env', (abs) => symlinkSync('/etc/passwd', abs), async () => {
      const before = snapshotTree(dir);
      const r = await runScript(dir, 'generate', []);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/overlays\/dev\/\.env: is a symbolic link, not a regular file/);
      expect(r.err + r.out).not.toMatch(/root:|nologin|\/bin\/(ba)?sh/);
      expect(snapshotTree(dir)).toEqual(before);
    });
    held++;
  }, 60_000);

  it('a .env symlink to a valid file outside the repository fails generate and generate --check', async () => {
    attacks++;
    writeFileSync(join(outside, 'valid.env'), readFileSync(join(dir, 'overlays/dev/.env')));
    await withReplaced('overlays/dev/.env', (abs) => symlinkSync(join(outside, 'valid.env'), abs), async () => {
      for (const args of [[], ['--check']]) {
        const r = await runScript(dir, 'generate', args);
        expect(r.code, `generate ${args.join(' ')}`).toBe(2);
        expect(r.err).toContain('overlays/dev/.env: is a symbolic link');
      }
    });
    held++;
  }, 60_000);

  it.each([
    ['env.yaml as a symlink', 'overlays/dev/env.yaml', (abs: string) => symlinkSync('../prod/env.yaml', abs), /overlays\/dev\/env\.yaml: is a symbolic link/],
    ['gitops.yaml as a symlink', 'gitops.yaml', (abs: string) => symlinkSync(`${abs}.saved-by-test`, abs), /gitops\.yaml: is a symbolic link/],
    ['.env as a directory', 'overlays/dev/.env', (abs: string) => mkdirSync(abs), /overlays\/dev\/\.env: is a directory, not a regular file/],
    ['.env as a FIFO (used to hang generate)', 'overlays/dev/.env', (abs: string) => execFileSync('mkfifo', [abs]), /overlays\/dev\/\.env: is a named pipe \(FIFO\)/],
    ['.env as a link to a device (/dev/zero)', 'overlays/dev/.env', (abs: string) => symlinkSync('/dev/zero', abs), /overlays\/dev\/\.env: is a symbolic link/],
  ])('%s: refused with the path named', async (_label, rel, make, message) => {
    attacks++;
    await withReplaced(rel, make, async () => {
      expect(await problemsOf()).toMatch(message);
    });
    held++;
  });

  it('a FIFO .env makes the generate CLI exit 2 at once instead of hanging', async () => {
    attacks++;
    await withReplaced('overlays/dev/.env', (abs) => execFileSync('mkfifo', [abs]), async () => {
      const r = await runScript(dir, 'generate', [], { timeoutMs: 60_000 });
      expect(r.code).toBe(2);
      expect(r.err).toContain('named pipe (FIFO)');
    });
    held++;
  }, 90_000);

  it('an environment directory that is a symlink (overlays/evil -> outside) is refused, not followed', async () => {
    attacks++;
    mkdirSync(join(outside, 'evil'), { recursive: true });
    symlinkSync(join(outside, 'evil'), join(dir, 'overlays/evil'));
    try {
      expect(await problemsOf()).toMatch(/overlays\/evil: is a symbolic link; an environment is a directory/);
    } finally {
      unlinkSync(join(dir, 'overlays/evil'));
    }
    held++;
  });
});

describe('bytes the toolkit would have to change, and characters a reviewer cannot see', () => {
  it('invalid UTF-8 in an env.yaml comment: promote exits 2 naming file and line, and the bytes stay as they were', async () => {
    attacks++;
    const file = join(dir, 'overlays/prod/env.yaml');
    const original = readFileSync(file);
    const latin1 = Buffer.concat([original, Buffer.from('# r\xe9sum\xe9 in Latin-1\n', 'latin1')]);
    writeFileSync(file, latin1);
    try {
      const r = await runScript(dir, 'promote', ['dev', 'prod', '--tag', '9.9.9']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/overlays\/prod\/env\.yaml line \d+: is not valid UTF-8 \(byte \d+\)/);
      expect(readFileSync(file).equals(latin1)).toBe(true);
    } finally {
      writeFileSync(file, original);
    }
    held++;
  }, 60_000);

  it('a UTF-8 BOM at the start of .env is refused (docs/environments.md says so; it used to pass)', async () => {
    attacks++;
    const file = join(dir, 'overlays/dev/.env');
    const original = readFileSync(file);
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), original]));
    try {
      expect(await problemsOf()).toMatch(/overlays\/dev\/\.env line 1: starts with a UTF-8 byte-order mark \(BOM\)\n\s+fix: save the file as UTF-8 without BOM/);
    } finally {
      writeFileSync(file, original);
    }
    held++;
  });

  it.each([
    ['a zero-width space in a .env value', 'overlays/dev/.env', 'LOG_LEVEL=in\u200bfo\n', /overlays\/dev\/\.env line \d+: column 13 \(LOG_LEVEL\): contains U\+200B ZERO WIDTH SPACE/],
    ['a right-to-left override in a .env value', 'overlays/dev/.env', 'LOG_LEVEL=\u202eofni\n', /overlays\/dev\/\.env line \d+: column 11 \(LOG_LEVEL\): contains U\+202E RIGHT-TO-LEFT OVERRIDE/],
    ['a right-to-left isolate in an env.yaml comment', 'overlays/dev/env.yaml', '# tag is \u2067safe\u2069\n', /overlays\/dev\/env\.yaml line \d+: column 10: contains U\+2067 RIGHT-TO-LEFT ISOLATE/],
    ['a word joiner in gitops.yaml', 'gitops.yaml', '# pinned\u2060\n', /gitops\.yaml line \d+: column 9: contains U\+2060 WORD JOINER/],
    ['a no-break space in env.yaml', 'overlays/dev/env.yaml', '#\u00a0note\n', /contains U\+00A0 SPACE CHARACTER \(not U\+0020\)/],
  ])('%s is refused with file, line, column and fix', async (_label, rel, appended, message) => {
    attacks++;
    const file = join(dir, rel);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original + appended);
    try {
      const problems = await problemsOf();
      expect(problems).toMatch(message);
      expect(problems).toMatch(/fix: delete the character/);
    } finally {
      writeFileSync(file, original);
    }
    held++;
  });

  it('the text check finds every bidirectional control of Trojan Source (CVE-2021-42574) and leaves visible text alone', () => {
    const bidi = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c];
    const found = findInvisibleCharacters(bidi.map((c) => `x${String.fromCodePoint(c)}`).join(''));
    expect(found.map((f) => f.codePoint)).toEqual(bidi);
    expect(findInvisibleCharacters('plain: "text" with\ttabs, CRLF\r\n, accents é ü ß and 日本語\n')).toEqual([]);
    expect(decodeInput('f', Buffer.from('ok: é\n')).text).toBe('ok: é\n');
  });
});
