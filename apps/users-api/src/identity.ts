// Who a user is, as a person means it: the character rules every field obeys, and the normalized keys
// that the unique indexes hold. What the user typed is kept for display; the keys only decide "same".
// The rules (docs/users-api.md, "Identity"):
//   every field   no lone surrogate, no control character (NUL included), no bidirectional control,
//                 not whitespace only;
//   username      additionally no whitespace and no invisible (default-ignorable) character, letters
//                 from one script (Latin, Greek, Cyrillic… may not be mixed: "pаypal" with a Cyrillic
//                 "а" is refused), key = NFKC, lower case, NFKC again (RFC 8265 UsernameCaseMapped:
//                 width mapping, case mapping, normalization), so NFC/NFD forms, full-width forms and
//                 case variants are one user;
//   email         ASCII (the JSON schema's email format), key = the whole address in lower case.

/** Bumped when the key rules change, so the start-up migration re-keys every stored user. */
export const IDENTITY_VERSION = 1;

const LONE_SURROGATE = /\p{Cs}/u;
const CONTROL = /\p{Cc}/u;
// Unicode's Bidi_Control characters: ALM, LRM, RLM, LRE…RLO, LRI…PDI.
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}]/u;
const WHITESPACE = /\p{White_Space}/u;
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

// Scripts a username's letters are sorted into; a letter of none of them counts as "another script".
const SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari', 'Bengali', 'Gurmukhi',
  'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar',
  'Georgian', 'Hangul', 'Ethiopic', 'Cherokee', 'Khmer', 'Mongolian', 'Hiragana', 'Katakana', 'Bopomofo', 'Han',
] as const;
const SCRIPT_PATTERNS = SCRIPTS.map((script) => [script, new RegExp(`\\p{Script=${script}}`, 'u')] as const);
// Scripts that one writing system combines (UTS #39 "Highly Restrictive": Japanese, Korean, Chinese).
const COMBINED = [new Set(['Han', 'Hiragana', 'Katakana']), new Set(['Han', 'Hangul']), new Set(['Han', 'Bopomofo'])];

function scriptOf(char: string): string {
  return SCRIPT_PATTERNS.find(([, pattern]) => pattern.test(char))?.[0] ?? 'another script';
}

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** What is wrong with the characters of a text field, or undefined. */
export function textProblem(field: 'name' | 'username' | 'email', value: string): string | undefined {
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate, which is not a Unicode character';
  const control = CONTROL.exec(value);
  if (control) return `contains the control character ${codePoint(control[0])}`;
  const bidi = BIDI_CONTROL.exec(value);
  if (bidi) return `contains the bidirectional control character ${codePoint(bidi[0])}, which can make text display differently from what it is`;
  if (!VISIBLE.test(value)) return 'must contain a visible character, not only white space';
  if (field === 'name') return undefined;
  const space = WHITESPACE.exec(value);
  if (space) return `must not contain white space (${codePoint(space[0])})`;
  const invisible = INVISIBLE.exec(value);
  if (invisible) return `contains the invisible character ${codePoint(invisible[0])}`;
  if (field === 'username') {
    const scripts = new Set<string>();
    for (const char of value.normalize('NFKC')) if (/\p{L}/u.test(char)) scripts.add(scriptOf(char));
    if (scripts.size > 1 && !COMBINED.some((allowed) => [...scripts].every((script) => allowed.has(script)))) {
      return `mixes letters of ${[...scripts].sort().join(' and ')}; a username uses one script so that it cannot pass for another user's name`;
    }
  }
  return undefined;
}

/** The key two usernames share exactly when they are the same user. */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase().normalize('NFKC');
}

/** The key two e-mail addresses share exactly when they are the same address (case-insensitive). */
export function emailKey(email: string): string {
  return email.normalize('NFKC').toLowerCase();
}

/** JSON Pointer + detail for every text field of a (schema-valid) body that breaks the rules. */
export function identityFieldErrors(body: Partial<Record<'name' | 'username' | 'email', unknown>>): Array<{ pointer: string; detail: string }> {
  const errors: Array<{ pointer: string; detail: string }> = [];
  for (const field of ['name', 'username', 'email'] as const) {
    const value = body[field];
    if (typeof value !== 'string') continue;
    const problem = textProblem(field, value);
    if (problem) errors.push({ pointer: `/${field}`, detail: problem });
  }
  return errors;
}
