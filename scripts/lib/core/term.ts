// The terminal edge every CLI shares: whether to colour (--color, FORCE_COLOR, NO_COLOR, a TTY), the
// colours themselves, and a progress line on stderr that appears only on a TTY and only once an
// operation has taken longer than a second. Pure decisions, thin writes.
import { UsageError } from './errors.ts';

export type ColorChoice = 'auto' | 'always' | 'never';
export const COLOR_CHOICES: readonly ColorChoice[] = ['auto', 'always', 'never'];

/** The `--color` option, for a CliSpec's options, and its help line. */
export const COLOR_OPTION = { color: { type: 'string', default: 'auto' } } as const;
export const COLOR_HELP = '--color <when>   auto (default: on a terminal, unless NO_COLOR is set), always or never';

export function parseColorChoice(value: string | undefined): ColorChoice {
  const v = value ?? 'auto';
  if (!(COLOR_CHOICES as readonly string[]).includes(v)) throw new UsageError(`--color must be one of ${COLOR_CHOICES.join(', ')}, not ${JSON.stringify(v)}`);
  return v as ColorChoice;
}

/**
 * Whether to colour output written to a stream: an explicit --color always/never wins; then
 * FORCE_COLOR (set and not "0"/"false": colour; "0"/"false": none); then NO_COLOR (set and non-empty:
 * none, https://no-color.org); then a TTY whose TERM is not "dumb".
 */
export function shouldColor(choice: ColorChoice, stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (choice === 'always') return true;
  if (choice === 'never') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export interface Style {
  enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => (s === '' ? s : `\x1b[${open}m${s}\x1b[${close}m`);
const plain = (s: string) => s;

export function style(enabled: boolean): Style {
  if (!enabled) return { enabled, bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return { enabled, bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

/** Removes SGR colour sequences (tests, width computations). */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

export interface ProgressStream {
  isTTY?: boolean;
  write(chunk: string): unknown;
}

export interface Progress {
  /** Sets the current count; shown after the delay, rewritten in place. */
  update(done: number, total: number): void;
  /** Clears the line (if one was shown). Call on success and failure alike. */
  end(): void;
}

/**
 * "rendering 37/100 environments…" on `stream`, rewritten in place: nothing for the first `delayMs`
 * (fast runs stay silent) and nothing at all when the stream is not a TTY (logs and pipes stay clean).
 */
export function progressLine(stream: ProgressStream, label: (done: number, total: number) => string, delayMs = 1000): Progress {
  if (stream.isTTY !== true) return { update() {}, end() {} };
  let state: [number, number] | undefined;
  let due = false;
  let shown = false;
  let ended = false;
  const draw = (): void => {
    if (ended || !state || state[1] === 0) return;
    shown = true;
    stream.write(`\r\x1b[K${label(state[0], state[1])}`);
  };
  const timer = setTimeout(() => {
    due = true;
    draw();
  }, delayMs);
  timer.unref?.();
  return {
    update(done, total) {
      state = [done, total];
      if (due) draw();
    },
    end() {
      ended = true;
      clearTimeout(timer);
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

// ---- Text from outside (git subjects and authors, GitHub answers and error text, file content) ----------
// A terminal acts on control characters: ESC starts CSI/OSC sequences (colour, cursor moves, window titles,
// OSC 8 links, clipboard writes with OSC 52), C1 controls (U+0080–U+009F) are their 8-bit forms, CR and BS
// overwrite what was printed, and the bidirectional overrides/isolates (U+202A–U+202E, U+2066–U+2069)
// reorder what is shown. Every one of them is printed as a visible escape (`\x1b`, `\u202e`) instead, so
// the text stays readable and nothing reaches the terminal as a command. One mechanism for every CLI.

// eslint-disable-next-line no-control-regex
const UNSAFE_LINE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_BLOCK = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const visible = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * `text` as it may be printed: control, escape and bidi characters shown as `\xNN` / `\uNNNN`. One line
 * (a subject, a name, a reason: newlines and tabs escaped too) unless `multiline`, which keeps `\n` and `\t`.
 * Non-strings (a field GitHub left out) print as the `(none)` marker, never as "undefined".
 */
export function termSafe(text: unknown, opts: { multiline?: boolean } = {}): string {
  if (typeof text !== 'string') return text === undefined || text === null ? '(none)' : termSafe(JSON.stringify(text) ?? String(text), opts);
  return text.replace(opts.multiline ? UNSAFE_BLOCK : UNSAFE_LINE, visible);
}
