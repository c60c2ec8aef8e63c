// The one option parser's number options (scripts/lib/core/cli.ts): typed, ranged, with the unit in the
// message; the string and boolean options every other CLI uses keep working.
import { describe, expect, it } from 'vitest';
import { parseCli, parseNumberOption, describeNumber } from '../../scripts/lib/core/cli.ts';
import type { CliSpec } from '../../scripts/lib/core/cli.ts';
import { UsageError } from '../../scripts/lib/core/errors.ts';

const options = {
  polls: { type: 'number', integer: true, min: 1, max: 100, unit: 'polls', default: 10 },
  interval: { type: 'number', min: 0.5, unit: 'seconds' },
  format: { type: 'string', default: 'text' },
  watch: { type: 'boolean' },
} as const;
const spec: CliSpec<typeof options> = { name: 't', synopsis: '', description: '', optionHelp: [], options, positionals: [0, 0], examples: [] };

function usage(args: string[]): string {
  try {
    parseCli(spec, args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('number options', () => {
  it('parse to numbers, with defaults, next to string and boolean options', () => {
    const parsed = parseCli(spec, ['--interval', '2.5', '--watch', '--format', 'json']);
    expect(parsed).not.toBe('help');
    if (parsed === 'help') return;
    expect(parsed.values).toEqual({ polls: 10, interval: 2.5, watch: true, format: 'json' });
    const eq = parseCli(spec, ['--polls=7']);
    expect(eq !== 'help' && eq.values.polls).toBe(7);
  });

  it('refuse what is not a number, not whole, or out of range, naming flag, range, unit and value', () => {
    expect(usage(['--polls', 'abc'])).toBe('--polls must be a whole number of polls from 1 to 100, got "abc"');
    expect(usage(['--polls', '2.5'])).toBe('--polls must be a whole number of polls from 1 to 100, got "2.5"');
    expect(usage(['--polls', '0'])).toBe('--polls must be a whole number of polls from 1 to 100, got "0"');
    expect(usage(['--polls', '101'])).toBe('--polls must be a whole number of polls from 1 to 100, got "101"');
    expect(usage(['--interval', ''])).toBe('--interval must be a number of seconds, at least 0.5, got ""');
    expect(usage(['--interval', '0x10'])).toBe('--interval must be a number of seconds, at least 0.5, got "0x10"');
    expect(usage(['--interval', 'Infinity'])).toBe('--interval must be a number of seconds, at least 0.5, got "Infinity"');
    expect(usage(['--interval', '0.1'])).toBe('--interval must be a number of seconds, at least 0.5, got "0.1"');
  });

  it('describe themselves for help and errors', () => {
    expect(describeNumber({ type: 'number', max: 3 })).toBe('a number, at most 3');
    expect(parseNumberOption('n', ' 1e3 ', { type: 'number', integer: true })).toBe(1000);
  });
});
