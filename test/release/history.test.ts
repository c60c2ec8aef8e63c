// `status --history` read as a user reads it: an old commit whose env.yaml does not parse is shown as that
// commit's parse error (not as a deletion followed by a re-creation), commit subjects cannot drive the
// terminal, and commits made within the same second (or with a skewed clock) list newest first in git's
// own order, not by timestamp.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatHistory, tagHistory } from '../../scripts/lib/release/history.ts';
import { termSafe } from '../../scripts/lib/core/term.ts';
import { formatStatusText } from '../../scripts/lib/cluster/status/index.ts';
import { reportError } from '../../scripts/lib/core/cli.ts';
import { InputError, UsageError } from '../../scripts/lib/core/errors.ts';
import { createRepoCopy } from '../support/repo-copy.ts';
import type { RepoCopy } from '../support/repo-copy.ts';

describe('status --history', { timeout: 180_000 }, () => {
  let copy: RepoCopy;
  const SECOND = '2026-12-01T12:00:00Z';
  const commitAt = (date: string, message: string) => {
    const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid', GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
    execFileSync('git', ['add', '-A'], { cwd: copy.root, env });
    execFileSync('git', ['commit', '-q', '-m', message], { cwd: copy.root, env });
  };
  beforeAll(() => {
    copy = createRepoCopy();
    const good = copy.read('overlays/dev/env.yaml');
    copy.write('overlays/dev/env.yaml', 'tag: [0.1.0\n');
    commitAt(SECOND, 'break env.yaml');
    copy.write('overlays/dev/env.yaml', good);
    commitAt(SECOND, 'repair env.yaml');
    copy.edit('overlays/dev/env.yaml', /^tag: .*$/m, 'tag: 0.2.0');
    copy.generate();
    // A child whose committer clock is an hour behind its parent's: still listed first (newest in git's order).
    commitAt('2026-12-01T11:00:00Z', 'promote staging → dev: users-api 0.1.0 → 0.2.0 \u001b[31mred\u001b]0;pwned\u0007\u009b2J\u202eevil');
  }, 300_000);
  afterAll(() => copy?.cleanup());

  it('shows the parse error of that commit, neutralises escape codes, and lists newest first by topology', async () => {
    const r = await copy.run('status.ts', ['--history', 'dev']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WHEN\s+ENV\s+TAG\s+FROM\s+COMMIT\s+SUBJECT$/);
    const rows = lines.slice(1).map((l) => l.split(/ {2,}/));
    expect(rows.map((c) => [c[0], c[2], c[3], c[5]])).toEqual([
      ['2026-12-01 11:00:00Z', expect.stringMatching(/^0\.1\.0(@sha256:[0-9a-f]{12}…)? → 0\.2\.0(@sha256:[0-9a-f]{12}…)?$/), 'staging', 'promote staging → dev: users-api 0.1.0 → 0.2.0 \\x1b[31mred\\x1b]0;pwned\\x07\\x9b2J\\u202eevil'],
      ['2026-12-01 12:00:00Z', expect.stringMatching(/^\(unreadable\) → 0\.1\.0(@sha256:[0-9a-f]{12}…)?$/), 'edit', 'repair env.yaml'],
      [SECOND.replace('T', ' '), expect.stringMatching(/^0\.1\.0(@sha256:[0-9a-f]{12}…)? → \(unreadable: env\.yaml does not parse: .+\)$/), 'edit', 'break env.yaml'],
      [expect.any(String), expect.stringMatching(/^∅ → 0\.1\.0(@sha256:[0-9a-f]{12}…)?$/), 'created', 'baseline: the repository as generated'],
    ]);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(r.stdout).not.toContain('(deleted)');
  });

  it('the JSON names the problem and keeps the last readable tag as previous', async () => {
    const entries = await tagHistory(copy.root, 'dev');
    expect(entries.map((e) => [e.tag, e.previous, e.problem === undefined ? undefined : e.problem.split(':')[0], e.previousProblem])).toEqual([
      ['0.1.0', undefined, undefined, undefined],
      [undefined, '0.1.0', 'env.yaml does not parse', undefined],
      ['0.1.0', '0.1.0', undefined, true],
      ['0.2.0', '0.1.0', undefined, undefined],
    ]);
    // A deletion is still a deletion (the committed environments pin a digest beside the tag: labels may carry it).
    expect(formatHistory([{ ...entries[3]!, tag: undefined, digest: undefined, previous: '0.2.0', previousDigest: undefined, seq: 99 }])).toContain('0.2.0 → (deleted)');
  });
});

describe('terminal-safe text', { timeout: 120_000 }, () => {
  it('no control, escape or bidi character survives; printable text is unchanged', () => {
    const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => {
      expect(termSafe(text)).not.toMatch(unsafe);
      expect(termSafe(text, { multiline: true }).replace(/[\n\t]/g, '')).not.toMatch(unsafe);
      if (!unsafe.test(text)) expect(termSafe(text)).toBe(text);
    }), { seed: 33, numRuns: 500 });
    expect(termSafe('a\u001b[2Jb\nc')).toBe('a\\x1b[2Jb\\x0ac');
    expect(termSafe('a\u001b[2Jb\nc', { multiline: true })).toBe('a\\x1b[2Jb\nc');
    expect(termSafe(undefined)).toBe('(none)');
  });

  it('every command\'s error text (GitHub\'s message, git\'s stderr, a file\'s content) is printed terminal-safe', () => {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) };
    expect(reportError('x', new UsageError('GitHub refused: \u001b]52;c;ZXZpbA==\u0007 ok\nsecond line'), io)).toBe(2);
    expect(reportError('x', new InputError({ file: 'overlays/dev/env.yaml', message: 'bad \u001b[2J value' }), io)).toBe(2);
    expect(reportError('x', new Error('git: \u009b31m'), io)).toBe(1);
    const text = lines.join('\n');
    expect(text).toContain('x: GitHub refused: \\x1b]52;c;ZXZpbA==\\x07 ok\nsecond line');
    expect(text).toContain('overlays/dev/env.yaml: bad \\x1b[2J value');
    expect(text).toContain('x: git: \\x9b31m');
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('status prints condition messages and phases from the cluster terminal-safe', () => {
    const text = formatStatusText([{ env: 'dev', namespace: 'dev', application: { name: 'dev-users-api', sync: 'OutOfSync', health: 'Degraded\u001b[2J', revision: null, message: null }, mongodb: { phase: 'Failed\u001b]0;x\u0007' }, deployment: null, ok: false, degraded: true, problems: ['ComparisonError: \u001b[31mboom\r\u009b2K'] }]);
    expect(text).toContain('Degraded\\x1b[2J');
    expect(text).toContain('  ! ComparisonError: \\x1b[31mboom\\x0d\\x9b2K');
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
