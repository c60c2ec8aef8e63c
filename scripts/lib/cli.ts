// The thin edge every scripts/<verb>.ts shares: argument parsing, --help, error printing, exit codes.
// Commands never call process.exit; they return a code or throw, and this sets process.exitCode once.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, UsageError, exitCodeOf, formatProblem } from './errors.ts';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean | string[] }>;

export interface CliSpec<O extends OptionSpec> {
  /** e.g. "new-env" */
  name: string;
  /** "<name> [--from <env>] [--force]" */
  synopsis: string;
  /** One paragraph: what the command does. */
  description: string;
  /** Option help lines, e.g. ["--force  overwrite an existing environment"]. */
  optionHelp: string[];
  options: O;
  /** Positional arguments allowed: [min, max]. */
  positionals: [number, number];
  examples: string[];
}

export interface ParsedArgs<O extends OptionSpec> {
  values: { [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean | undefined : O[K]['multiple'] extends true ? string[] | undefined : string | undefined };
  positionals: string[];
}

export function usageText(spec: CliSpec<OptionSpec>): string {
  const lines = [
    `usage: zx scripts/${spec.name}.ts ${spec.synopsis}`.trimEnd(),
    '',
    spec.description,
    '',
    'options:',
    ...[...spec.optionHelp, '-h, --help  show this help'].map((l) => `  ${l}`),
  ];
  if (spec.examples.length > 0) lines.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

/** The arguments after the script's own path, whether run as `zx script.ts …` or `node script.ts …`. */
export function scriptArgv(scriptUrl: string, argv: readonly string[] = process.argv): string[] {
  const self = fileURLToPath(scriptUrl);
  const i = argv.findIndex((a, idx) => idx > 0 && resolve(a) === self);
  return argv.slice(i === -1 ? 2 : i + 1);
}

export function parseCli<O extends OptionSpec>(spec: CliSpec<O>, args: readonly string[]): ParsedArgs<O> | 'help' {
  if (args.includes('--help') || args.includes('-h')) return 'help';
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: spec.options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  const [min, max] = spec.positionals;
  const n = parsed.positionals.length;
  if (n < min) throw new UsageError(`missing argument: expected ${spec.synopsis}`);
  if (n > max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
  return parsed as unknown as ParsedArgs<O>;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Prints an error the way every command does and returns its exit code. */
export function reportError(name: string, error: unknown, io: Io = processIo): number {
  if (error instanceof InputError) {
    io.err(`${name}: ${error.message}`);
    for (const p of error.problems) io.err(`  ${formatProblem(p).replace(/\n/g, '\n  ')}`);
  } else if (error instanceof UsageError) {
    io.err(`${name}: ${error.message}\nrun with --help for usage`);
  } else if (error instanceof Error) {
    io.err(`${name}: ${error.message}`);
    if (process.env.DEBUG) io.err(error.stack ?? '');
  } else {
    io.err(`${name}: ${String(error)}`);
  }
  return exitCodeOf(error);
}

/**
 * Runs a command: parses its arguments, calls `main`, and sets process.exitCode from the result
 * (a returned number) or from the error thrown (see errors.ts).
 */
export async function runCli<O extends OptionSpec>(
  spec: CliSpec<O>,
  scriptUrl: string,
  main: (args: ParsedArgs<O>, io: Io) => Promise<number | void> | number | void,
): Promise<void> {
  try {
    const parsed = parseCli(spec, scriptArgv(scriptUrl));
    if (parsed === 'help') {
      processIo.out(usageText(spec as unknown as CliSpec<OptionSpec>));
      process.exitCode = 0;
      return;
    }
    process.exitCode = (await main(parsed, processIo)) ?? 0;
  } catch (error) {
    process.exitCode = reportError(spec.name, error);
  }
}
