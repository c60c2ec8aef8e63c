// Issue 32's smaller frictions, as a user meets them: an unknown flag names the closest known one (exit 2),
// env.yaml problems carry their line, read-only commands never say "nothing was written", the grammar of
// fixes, and the API listens on loopback unless told otherwise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSpec } from '../../apps/users-api/src/config.ts';
import { closestFlag, parseCli, reportError, type CliSpec, type OptionSpec } from '../../scripts/lib/core/cli.ts';
import { formatProblem, InputError, UsageError } from '../../scripts/lib/core/errors.ts';
import { lineOfPointer, loadEnv } from '../../scripts/lib/inputs/index.ts';
import { committedTree, REPO } from '../support/repo-copy.ts';

const spec: CliSpec<OptionSpec> = {
  name: 'generate', synopsis: '[--check]', description: 'd', optionHelp: [], positionals: [0, 0], examples: [],
  options: { check: { type: 'boolean' }, format: { type: 'string' }, 'dry-run': { type: 'boolean' } },
};

describe('unknown flags', () => {
  it('are a usage error (exit 2) naming the flag as typed and the closest known one', () => {
    const error = (() => { try { parseCli(spec, ['--chek']); } catch (e) { return e; } })() as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('unknown option --chek (did you mean --check?); known: --check, --dry-run, --format, --help');
    expect(closestFlag('--formt', ['format', 'out'])).toBe('--format');
    expect(closestFlag('--dry', ['dry-run', 'check'])).toBe('--dry-run');
    expect(closestFlag('--xyzzy', ['format', 'out'])).toBeUndefined();
  });
});

describe('messages of read-only commands', () => {
  const printed = (name: string, error: unknown) => {
    const lines: string[] = [];
    const code = reportError(name, error, { out: (t) => lines.push(t), err: (t) => lines.push(t) });
    return { code, text: lines.join('\n') };
  };
  it('validate, render, diff and status never say "nothing was written"; generate does', () => {
    const problem = { file: 'overlays/dev/env.yaml', path: '/replicas', message: 'must be integer' };
    for (const name of ['validate', 'render', 'diff', 'status']) {
      const r = printed(name, new InputError(problem));
      expect(r.code).toBe(2);
      expect(r.text).toContain(`${name}: 1 problem found\n`);
      expect(r.text).not.toContain('nothing was written');
    }
    expect(printed('generate', new InputError(problem)).text).toContain('generate: 1 problem found; nothing was written');
  });
});

describe('env.yaml problems carry their line', () => {
  const specText = readFileSync(join(committedTree(), 'overlays/dev/env.yaml'), 'utf8')
    .replace(/^replicas: 1$/m, 'replicas: two')
    .replace(/^ {2}members: 1$/m, '  members: 4');
  const lineOf = (re: RegExp) => specText.split('\n').findIndex((l) => re.test(l)) + 1;

  it('a wrong type and a wrong value are reported at their lines, with "write an integer"', () => {
    const { problems } = loadEnv('dev', specText, 'LOG_LEVEL=info\n');
    const replicas = problems.find((p) => p.path === '/replicas')!;
    expect(replicas).toMatchObject({ file: 'overlays/dev/env.yaml', line: lineOf(/^replicas: two$/), fix: 'write an integer' });
    expect(formatProblem(replicas)).toMatch(new RegExp(`^overlays/dev/env\\.yaml /replicas: .* \\(line ${lineOf(/^replicas: two$/)}\\)\n`));
    expect(problems.find((p) => p.path === '/mongodb/members')).toMatchObject({ line: lineOf(/^ {2}members: 4$/) });
  });

  it('a pointer to a missing field points at its parent; an index into a list at the item', () => {
    const text = 'a:\n  b: 1\nlist:\n  - x\n  - y\n';
    expect(lineOfPointer(text, '/a/missing')).toBe(1);
    expect(lineOfPointer(text, '/a/b')).toBe(2);
    expect(lineOfPointer(text, '/list/1')).toBe(5);
  });
});

describe('the API listens on loopback by default', () => {
  it('HOST defaults to 127.0.0.1; the image and the generated Deployment set 0.0.0.0', () => {
    expect((configSpec.HOST as { default?: unknown }).default).toBe('127.0.0.1');
    expect(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).toMatch(/^ENV HOST=0\.0\.0\.0$/m);
    expect(readFileSync(join(committedTree(), 'apps/users-api/deploy/deployment.yaml'), 'utf8')).toMatch(/- name: HOST\n\s+value: 0\.0\.0\.0\n/);
  });
});
