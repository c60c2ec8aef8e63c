// One check for characters a reader cannot see, used on every input the toolkit reads (gitops.yaml,
// env.yaml, .env) and available to every other input check (API request fields, settings values).
// "Trojan Source" (CVE-2021-42574) showed what bidirectional overrides do to reviewed text; zero-width
// characters make two different values look identical in a pull request.
import type { Problem } from './errors.ts';

/** Unicode characters refused in inputs, with the name shown to the user. Control and format characters are refused by category below. */
const NAMED: Record<number, string> = {
  0x00ad: 'SOFT HYPHEN',
  0x034f: 'COMBINING GRAPHEME JOINER',
  0x061c: 'ARABIC LETTER MARK',
  0x115f: 'HANGUL CHOSEONG FILLER',
  0x1160: 'HANGUL JUNGSEONG FILLER',
  0x17b4: 'KHMER VOWEL INHERENT AQ',
  0x17b5: 'KHMER VOWEL INHERENT AA',
  0x180e: 'MONGOLIAN VOWEL SEPARATOR',
  0x200b: 'ZERO WIDTH SPACE',
  0x200c: 'ZERO WIDTH NON-JOINER',
  0x200d: 'ZERO WIDTH JOINER',
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x2028: 'LINE SEPARATOR',
  0x2029: 'PARAGRAPH SEPARATOR',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2060: 'WORD JOINER',
  0x2061: 'FUNCTION APPLICATION',
  0x2062: 'INVISIBLE TIMES',
  0x2063: 'INVISIBLE SEPARATOR',
  0x2064: 'INVISIBLE PLUS',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
  0x3164: 'HANGUL FILLER',
  0xfeff: 'ZERO WIDTH NO-BREAK SPACE (byte-order mark)',
  0xffa0: 'HALFWIDTH HANGUL FILLER',
};

// Cc: control characters but TAB, LF, CR; Cf: format characters (all bidi controls, zero-widths, tags);
// Zl/Zp: line and paragraph separators; variation selectors; spaces other than U+0020 that look like one.
const REFUSED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0\ufe00-\ufe0f\u{e0100}-\u{e01ef}]|[^\S\t\n\r ]/gu;
const ALLOWED_CONTROLS = new Set([0x09, 0x0a, 0x0d]);

export interface InvisibleCharacter {
  /** 1-based line and column (in code points) of the character. */
  line: number;
  column: number;
  codePoint: number;
  /** e.g. "U+202E RIGHT-TO-LEFT OVERRIDE" */
  label: string;
}

function labelOf(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = NAMED[cp] ?? (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ? 'CONTROL CHARACTER' : /\s/u.test(String.fromCodePoint(cp)) ? 'SPACE CHARACTER (not U+0020)' : 'FORMAT CHARACTER');
  return `${hex} ${name}`;
}

/** Every invisible, bidirectional or control character in `text` (TAB, LF and CR are allowed). */
export function findInvisibleCharacters(text: string): InvisibleCharacter[] {
  const found: InvisibleCharacter[] = [];
  REFUSED.lastIndex = 0;
  for (const m of text.matchAll(REFUSED)) {
    const cp = m[0].codePointAt(0)!;
    if (ALLOWED_CONTROLS.has(cp)) continue;
    const before = text.slice(0, m.index);
    const lineStart = before.lastIndexOf('\n') + 1;
    found.push({ line: before.split('\n').length, column: [...before.slice(lineStart)].length + 1, codePoint: cp, label: labelOf(cp) });
  }
  return found;
}

/** The same check as a list of problems for `file` (field: line and column), with the fix. */
export function invisibleCharacterProblems(file: string, text: string, field?: string): Problem[] {
  const lines = text.split('\n');
  return findInvisibleCharacters(text).map((c) => {
    // The setting the line holds (`KEY=` in .env, `key:` in YAML), so the message names the field.
    const key = field ? undefined : /^\s*(?:-\s+)?([A-Za-z0-9_.-]+)\s*[=:]/.exec(lines[c.line - 1] ?? '')?.[1];
    const where = field ? `line ${c.line} ` : '';
    return {
      file,
      path: field ?? `line ${c.line}`,
      message: `${where}column ${c.column}${key ? ` (${key})` : ''}: contains ${c.label}, an invisible or text-direction character (what a reviewer sees is not what is used)`,
      fix: `delete the character (e.g. retype the ${field || key ? 'value' : 'line'}); inputs accept visible text, spaces and tabs only`,
    };
  });
}
