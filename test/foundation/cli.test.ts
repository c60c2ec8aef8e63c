import { describe, expect, it } from 'vitest';
import { parseCli, reportError, scriptArgv, usageText, type CliSpec } from '../../scripts/lib/core/cli.ts';
import { FindingsError, InputError, UsageError } from '../../scripts/lib/core/errors.ts';

const spec = {
  name: 'demo',
  synopsis: '<env> [--force]',
  description: 'Does a demo.',
  optionHelp: ['--force  overwrite'],
  options: { force: { type: 'boolean' as const }, format: { type: 'string' as const } },
  positionals: [1, 1] as [number, number],
  examples: ['zx scripts/demo.ts dev'],
} satisfies CliSpec<{ force: { type: 'boolean' }; format: { type: 'string' } }>;

function capture() {
  const lines: string[] = [];
  return { io: { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) }, lines };
}

describe('the CLI edge', () => {
  it('finds the arguments after the script under zx and under node', () => {
    const url = new URL('file:///repo/scripts/demo.ts').href;
    expect(scriptArgv(url, ['/n/node', '/n/zx', '/repo/scripts/demo.ts', 'dev', '--force'])).toEqual(['dev', '--force']);
    expect(scriptArgv(url, ['/n/node', '/repo/scripts/demo.ts', 'dev'])).toEqual(['dev']);
  });

  it('parses options and positionals', () => {
    const parsed = parseCli(spec, ['dev', '--force', '--format', 'json']);
    expect(parsed).not.toBe('help');
    if (parsed === 'help') return;
    expect(parsed.positionals).toEqual(['dev']);
    expect(parsed.values.force).toBe(true);
    expect(parsed.values.format).toBe('json');
  });

  it.each([
    [['dev', '--frobnicate'], /frobnicate/],
    [[], /missing argument/],
    [['dev', 'prod'], /unexpected argument "prod"/],
  ])('turns %j into a usage error', (args, message) => {
    expect(() => parseCli(spec, args)).toThrow(UsageError);
    expect(() => parseCli(spec, args)).toThrow(message);
  });

  it('answers --help before checking anything else', () => {
    expect(parseCli(spec, ['--help'])).toBe('help');
    expect(usageText(spec)).toMatch(/^usage: zx scripts\/demo.ts <env> \[--force\]/);
    expect(usageText(spec)).toContain('zx scripts/demo.ts dev');
  });

  it.each([
    [new UsageError('bad flag'), 2],
    [new InputError([{ file: 'overlays/dev/env.yaml', path: '/replicas', message: 'must be >= 1', fix: 'set replicas: 1' }]), 2],
    [new FindingsError('drift'), 1],
    [new Error('boom'), 1],
  ])('maps %o to its exit code', (error, code) => {
    const { io } = capture();
    expect(reportError('demo', error, io)).toBe(code);
  });

  it('prints every input problem with file, field and fix', () => {
    const { io, lines } = capture();
    reportError('demo', new InputError([
      { file: 'overlays/dev/env.yaml', path: '/replicas', message: 'must be >= 1', fix: 'set replicas: 1' },
      { file: 'overlays/dev/.env', path: 'line 3', message: 'looks like a secret' },
    ]), io);
    const text = lines.join('\n');
    expect(text).toContain('overlays/dev/env.yaml /replicas: must be >= 1');
    expect(text).toContain('fix: set replicas: 1');
    expect(text).toContain('overlays/dev/.env line 3: looks like a secret');
  });
});
