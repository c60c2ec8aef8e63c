// The terminal: colour only where it helps (a TTY, or when asked), never in pipes and logs unless forced;
// a progress line on stderr only on a TTY and only for runs longer than a second.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progressLine, shouldColor, stripAnsi, style } from '../../scripts/lib/core/term.ts';
import { runScript } from './cli.ts';
import { createFixtureRepo, overlayFiles } from './fixture.ts';
import type { FixtureRepo } from './fixture.ts';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('when to colour', () => {
  it('auto: a TTY yes, a pipe no; NO_COLOR off; FORCE_COLOR on (or off with 0); TERM=dumb off', () => {
    expect(shouldColor('auto', tty, {})).toBe(true);
    expect(shouldColor('auto', pipe, {})).toBe(false);
    expect(shouldColor('auto', tty, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColor('auto', tty, { NO_COLOR: '' })).toBe(true); // no-color.org: present and not empty
    expect(shouldColor('auto', pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldColor('auto', pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(shouldColor('auto', tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(shouldColor('auto', tty, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
    expect(shouldColor('auto', tty, { TERM: 'dumb' })).toBe(false);
  });

  it('--color=always and --color=never win over the environment', () => {
    expect(shouldColor('always', pipe, { NO_COLOR: '1' })).toBe(true);
    expect(shouldColor('never', tty, { FORCE_COLOR: '1' })).toBe(false);
  });

  it('styles are plain text when off', () => {
    expect(style(false).red('x')).toBe('x');
    expect(style(true).red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(stripAnsi(style(true).bold(style(true).green('ok')))).toBe('ok');
  });
});

describe('progress on stderr', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const stream = (isTTY: boolean) => {
    const writes: string[] = [];
    return { isTTY, writes, write: (s: string) => writes.push(s) };
  };
  const label = (d: number, t: number) => `rendering ${d}/${t} environment builds…`;

  it('says nothing for the first second, then rewrites one line in place and clears it at the end', () => {
    const s = stream(true);
    const p = progressLine(s, label);
    p.update(0, 100);
    p.update(12, 100);
    vi.advanceTimersByTime(999);
    expect(s.writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(s.writes).toEqual(['\r\x1b[Krendering 12/100 environment builds…']);
    p.update(37, 100);
    expect(s.writes.at(-1)).toBe('\r\x1b[Krendering 37/100 environment builds…');
    p.end();
    expect(s.writes.at(-1)).toBe('\r\x1b[K');
  });

  it('a run under a second prints nothing; a pipe never gets a progress line', () => {
    const fast = stream(true);
    const p = progressLine(fast, label);
    p.update(1, 1);
    p.end();
    vi.advanceTimersByTime(5000);
    expect(fast.writes).toEqual([]);
    const piped = stream(false);
    const q = progressLine(piped, label);
    q.update(1, 100);
    vi.advanceTimersByTime(5000);
    q.end();
    expect(piped.writes).toEqual([]);
  });
});

describe('diff on a terminal and in a pipe', () => {
  let repo: FixtureRepo;
  beforeEach(() => {
    repo = createFixtureRepo(['staging']);
    repo.write(overlayFiles('staging', { tag: '1.1.0' }));
    repo.commit('staging: users-api 1.1.0');
  });
  afterEach(() => repo.cleanup());
  const env = (extra: NodeJS.ProcessEnv) => {
    const e = { ...process.env, ...extra };
    for (const k of ['NO_COLOR', 'FORCE_COLOR'] as const) if (!(k in extra)) delete e[k];
    return e;
  };
  const args = ['--base', 'HEAD~1', '--head', 'HEAD'];

  it('a pipe gets plain text and a quiet stderr; --color=always colours the diff lines', async () => {
    const plain = await runScript('diff', args, repo.root, env({}));
    expect(plain.stdout).not.toContain('\x1b[');
    expect(plain.stderr).toBe('');
    const coloured = await runScript('diff', [...args, '--color=always'], repo.root, env({ NO_COLOR: '1' }));
    expect(coloured.stdout).toContain('\x1b[31m-          image: ghcr.io/example/users-api:1.0.0\x1b[39m');
    expect(coloured.stdout).toContain('\x1b[32m+          image: ghcr.io/example/users-api:1.1.0\x1b[39m');
    expect(stripAnsi(coloured.stdout)).toBe(plain.stdout);
  });

  it('FORCE_COLOR colours a pipe, NO_COLOR and --color=never do not; a bad --color is a usage error', async () => {
    expect((await runScript('diff', args, repo.root, env({ FORCE_COLOR: '1' }))).stdout).toContain('\x1b[');
    expect((await runScript('diff', [...args, '--color', 'never'], repo.root, env({ FORCE_COLOR: '1' }))).stdout).not.toContain('\x1b[');
    expect((await runScript('diff', args, repo.root, env({ NO_COLOR: '1' }))).stdout).not.toContain('\x1b[');
    const bad = await runScript('diff', [...args, '--color=sometimes'], repo.root, env({}));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--color must be one of auto, always, never, not "sometimes"');
  });
});

describe('diff --out', () => {
  let repo: FixtureRepo;
  beforeEach(() => {
    repo = createFixtureRepo(['staging']);
    repo.write(overlayFiles('staging', { tag: '1.1.0' }));
    repo.commit('staging: users-api 1.1.0');
  });
  afterEach(() => repo.cleanup());

  it('writes the file (stdout stays empty, stderr says where) and refuses a directory that does not exist', async () => {
    const ok = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'json', '--out', 'review.json'], repo.root);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toBe('diff: wrote review.json (1 environment(s) changed)\n');
    expect(JSON.parse(repo.read('review.json')).envs[0].summary.verdict).toBe('image 1.0.0 → 1.1.0; rolls users-api');
    const bad = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--out', 'no/such/dir/review.html', '--format', 'html'], repo.root);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--out no/such/dir/review.html: the directory');
    expect(existsSync(join(repo.root, 'no'))).toBe(false);
  });
});

// util-linux `script` runs the CLI on a pseudo-terminal: stdout and stderr are TTYs, as for a person.
const SCRIPT = '/usr/bin/script';
describe.skipIf(!existsSync(SCRIPT))('diff on a real terminal (util-linux script)', () => {
  let repo: FixtureRepo;
  let bin: string;
  beforeEach(() => {
    repo = createFixtureRepo(['staging']);
    repo.write(overlayFiles('staging', { tag: '1.1.0' }));
    repo.commit('staging: users-api 1.1.0');
    // A kustomize that takes 1.5 s per build, so the run lasts longer than the one-second threshold.
    bin = mkdtempSync(join(tmpdir(), 'slow-kustomize-'));
    mkdirSync(join(bin, 'bin'));
    writeFileSync(join(bin, 'bin/kustomize'), '#!/bin/sh\nif [ "$1" = version ]; then echo v5.5.0-slow; exit 0; fi\nsleep 1.5\nexec kubectl kustomize "$2"\n');
    chmodSync(join(bin, 'bin/kustomize'), 0o755);
  });
  afterEach(() => {
    repo.cleanup();
    rmSync(bin, { recursive: true, force: true });
  });

  it('colours by default and shows a progress line that it clears before the output', async () => {
    const diff = resolve(import.meta.dirname, '../../scripts/diff.ts');
    const command = `'${process.execPath}' '${diff}' --base HEAD~1 --head HEAD`;
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(bin, 'bin')}${delimiter}${process.env.PATH ?? ''}`, TERM: 'xterm' };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const out = await new Promise<string>((done, fail) => {
      execFile(SCRIPT, ['-qec', command, '/dev/null'], { cwd: repo.root, env, encoding: 'utf8' }, (error, stdout) => (error ? fail(error) : done(stdout)));
    });
    expect(out).toMatch(/\r\x1b\[Krendering [0-2]\/2 environment builds…/);
    // The line is cleared before the report starts, and the report is coloured.
    const report = out.indexOf('render diff');
    expect(out.lastIndexOf('\r\x1b[K', report)).toBeGreaterThan(out.lastIndexOf('rendering', report));
    expect(out).toContain('\x1b[32m+          image: ghcr.io/example/users-api:1.1.0\x1b[39m');
  });
});
