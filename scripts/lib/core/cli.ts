// The thin edge every scripts/<verb>.ts shares: argument parsing, --help, error printing, exit codes.
// Commands never call process.exit; they return a code or throw, and this sets process.exitCode once.
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { parseArgs } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConflictError, InputError, UsageError, exitCodeOf, formatProblem } from './errors.ts';
import { OVERLAYS_DIR, SETTINGS_FILE } from './layout.ts';
import { termSafe } from './term.ts';

/**
 * The one way every command finds the repository: the nearest directory from `start` upwards that
 * holds gitops.yaml (in a clone that is git's top level; an exported tree without .git works too), so
 * a command runs the same from the root or any directory below it. Outside a repository: exit 2.
 * Walks the file system instead of spawning `git rev-parse --show-toplevel` (a few ms per command).
 */
export function findRepoRoot(start: string = process.cwd(), opts: { plainKustomize?: boolean } = {}): string {
  const from = resolve(start);
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, SETTINGS_FILE))) return dir;
    if (dirname(dir) === dir) break;
  }
  // render, diff and validate also serve a plain Kustomize repository that the generator does not manage
  // (no gitops.yaml): the git work tree's top (nearest .git upwards) when it holds overlays/<env>/, as they
  // always have. Still never
  // outside a repository: that is exit 2 like everywhere else.
  if (opts.plainKustomize) {
    for (let dir = from; ; dir = dirname(dir)) {
      if (existsSync(join(dir, '.git'))) {
        if (existsSync(join(dir, OVERLAYS_DIR))) return dir;
        break;
      }
      if (dirname(dir) === dir) break;
    }
  }
  throw new ConflictError(`run inside the repository (no ${SETTINGS_FILE} found from ${from} up)`);
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known flag closest to `given` ("--chek" → "--check"), or undefined when none is close. */
export function closestFlag(given: string, known: readonly string[]): string | undefined {
  const bare = given.replace(/^-+/, '').split('=')[0]!;
  let best: { flag: string; d: number } | undefined;
  for (const k of known) {
    const d = k.startsWith(bare) && bare.length >= 2 ? 0.5 : editDistance(bare, k);
    if (!best || d < best.d) best = { flag: k, d };
  }
  return best && best.d <= Math.max(2, Math.floor(bare.length / 3)) ? `--${best.flag}` : undefined;
}

/** parseArgs' message for an unknown or misused flag, rewritten: the flag as typed, the closest known one. */
function unknownFlagMessage(message: string, known: readonly string[]): string {
  const m = /^Unknown option '([^']+)'/.exec(message);
  if (!m) return message;
  const flag = m[1]!;
  const near = closestFlag(flag, known);
  const all = [...known].sort().map((k) => `--${k}`).join(', ');
  return `unknown option ${flag}${near ? ` (did you mean ${near}?)` : ''}; known: ${all || 'none'}, --help`;
}

/** A flag parsed by node:util parseArgs as written. */
export interface TextOption { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean | string[] }
/**
 * A typed, ranged number: `--polls abc`, `--interval -1` or `--polls 2.5` are usage errors (exit 2)
 * naming the flag, what it accepts and its unit, never a silent NaN or 0.
 */
export interface NumberOption {
  type: 'number';
  /** whole numbers only */
  integer?: boolean;
  min?: number;
  max?: number;
  /** for messages: "seconds", "polls" */
  unit?: string;
  default?: number;
  short?: string;
}
export type OptionSpec = Record<string, TextOption | NumberOption>;

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
  values: {
    [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean | undefined
      : O[K]['type'] extends 'number' ? number | undefined
      : O[K] extends { multiple: true } ? string[] | undefined
      : string | undefined;
  };
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

/** What a number flag accepts, for its error message: "a whole number of seconds from 1 to 3600". */
export function describeNumber(o: NumberOption): string {
  const what = `${o.integer ? 'a whole number' : 'a number'}${o.unit ? ` of ${o.unit}` : ''}`;
  if (o.min !== undefined && o.max !== undefined) return `${what} from ${o.min} to ${o.max}`;
  if (o.min !== undefined) return `${what}, at least ${o.min}`;
  if (o.max !== undefined) return `${what}, at most ${o.max}`;
  return what;
}

/** Parses one number flag's text; throws UsageError naming the flag, the value and what it accepts. */
export function parseNumberOption(flag: string, text: string, o: NumberOption): number {
  const trimmed = text.trim();
  // Number('') is 0 and Number('0x10') is 16: accept plain decimal notation only.
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) ? Number(trimmed) : Number.NaN;
  const bad = !Number.isFinite(n) || (o.integer && !Number.isInteger(n)) || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max);
  if (bad) throw new UsageError(`--${flag} must be ${describeNumber(o)}, got ${JSON.stringify(text)}`);
  return n;
}

export function parseCli<O extends OptionSpec>(spec: CliSpec<O>, args: readonly string[]): ParsedArgs<O> | 'help' {
  if (args.includes('--help') || args.includes('-h')) return 'help';
  // Number options are read as strings by parseArgs, then converted and range-checked here.
  const textOptions: Record<string, TextOption> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    textOptions[name] = o.type === 'number' ? { type: 'string', ...(o.short ? { short: o.short } : {}) } : o;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: textOptions, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(unknownFlagMessage((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), Object.keys(spec.options)));
  }
  const values = parsed.values as Record<string, unknown>;
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.type !== 'number') continue;
    const v = values[name];
    if (typeof v === 'string') values[name] = parseNumberOption(name, v, o);
    else if (o.default !== undefined) values[name] = o.default;
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

/** Commands that never write the repository: "nothing was written" would tell their user nothing. */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set(['validate', 'render', 'diff', 'status', 'release-tags', 'scan-secrets', 'previews', 'plan']);

/** An input error's summary as the command `name` prints it (read-only commands drop "nothing was written"). */
export function errorHeadline(name: string, message: string): string {
  return READ_ONLY_COMMANDS.has(name) ? message.replace(/[;,]? ?\(?nothing was written\)?(?=[.;]|$)/g, '') : message;
}

/** Prints an error the way every command does and returns its exit code. */
export function reportError(name: string, error: unknown, io: Io = processIo): number {
  // Messages carry text from outside (GitHub's error text, git output, file content): printed terminal-safe.
  const safe = (s: string) => termSafe(s, { multiline: true });
  if (error instanceof InputError) {
    io.err(`${name}: ${safe(errorHeadline(name, error.message))}`);
    for (const p of error.problems) io.err(`  ${safe(formatProblem(p)).replace(/\n/g, '\n  ')}`);
  } else if (error instanceof UsageError) {
    io.err(`${name}: ${safe(error.message)}\nrun with --help for usage`);
  } else if (error instanceof Error) {
    io.err(`${name}: ${safe(error.message)}`);
    if (process.env.DEBUG) io.err(safe(error.stack ?? ''));
  } else {
    io.err(`${name}: ${safe(String(error))}`);
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
  // Every CLI imports its work modules inside `main`; from here on they are compiled once and then read
  // from V8's code cache (NODE_COMPILE_CACHE, default the OS temp dir; NODE_DISABLE_COMPILE_CACHE=1 turns
  // it off): about a quarter less CPU to load them on later runs (bench/README.md, Start-up).
  enableCompileCache?.();
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
