// The repository's one secret detector: @secretlint/core 13.1.0 running
// @secretlint/secretlint-rule-preset-recommend (every rule it registers, the AWS access-key-id scan
// switched on) plus this repository's rules (./rules.ts). Pure: text in, findings out; a finding names
// file, line and rule, never the value. The measurement that chose it over the old hand-written scanner
// is in docs/hardening.md ("Issue 11: secrets").
// Upstream behaviour relied on (read in the installed 13.1.0 packages; sources in
// secretlint/secretlint@v13.1.0:packages/@secretlint/…/src/index.ts):
// - secretlint-rule-aws reports access key ids only with `enableIDScanRule` (default false);
// - secretlint-rule-basicauth and -database-connection-string take `allows`, regular expressions as
//   "/…/flags" strings matched against the whole URL (@textlint/regexp-string-matcher);
// - secretlint-rule-filter-comments (in the preset) honours `secretlint-disable-line`,
//   `secretlint-disable-next-line` and `secretlint-disable`/`secretlint-enable` anywhere on a line;
// - core's `maskSecrets` masks the reported data inside messages.
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import type { SecretLintCoreConfig, SecretLintCoreResultMessage } from '@secretlint/types';
import { REPOSITORY_RULES, RULE_PREFIX, UNSCANNABLE_MESSAGES } from './rules.ts';

export interface SecretFinding {
  file: string;
  /** 1-based */
  line: number;
  /** short rule id: `github`, `aws`, `kubernetes-secret`, … or `unscannable` */
  rule: string;
  message: string;
}

export interface TextSource {
  path: string;
  text: string;
}

const PRESET_ID = '@secretlint/secretlint-rule-preset-recommend';
const AWS_ID = '@secretlint/secretlint-rule-aws';
const BASIC_AUTH_ID = '@secretlint/secretlint-rule-basicauth';
const CONNECTION_STRING_ID = '@secretlint/secretlint-rule-database-connection-string';
/**
 * A password that is a `<placeholder>` or a template-literal interpolation (`${encode(pw)}`: the preset
 * takes an interpolation over 50 characters for a literal). secretlint's `allows` takes regular
 * expressions written as "/…/flags" strings.
 */
const PLACEHOLDER_PASSWORD = '/:(?:<[^<>@\\s]*>|\\$\\{[^@]*\\})@/';

const CONFIG: SecretLintCoreConfig = {
  rules: [
    // The AWS rule reports access key ids (AKIA…) only with enableIDScanRule; a key id is what a
    // leaked credential pair is found by, so we want it.
    {
      id: PRESET_ID,
      rule: recommended,
      rules: [
        { id: AWS_ID, options: { enableIDScanRule: true } },
        ...[BASIC_AUTH_ID, CONNECTION_STRING_ID].map((id) => ({ id, options: { allows: [PLACEHOLDER_PASSWORD] } })),
      ],
    },
    ...REPOSITORY_RULES.map((rule) => ({ id: rule.meta.id, rule })),
  ],
};

/** `@secretlint/secretlint-rule-github` → `github`; `@gitops-users/jwt` → `jwt`. */
export function shortRuleId(ruleId: string): string {
  return ruleId.startsWith(RULE_PREFIX) ? ruleId.slice(RULE_PREFIX.length) : ruleId.replace(/^@secretlint\/secretlint-rule-/, '');
}

function extOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : base.startsWith('.') ? base : '';
}

/**
 * A human description of a message that cannot carry the secret: secretlint's (masked) text is cut
 * before its first ":" or "(" — where every preset rule puts the value — and dropped altogether if any
 * 6-character piece of the matched text is still in it.
 */
function describe(m: SecretLintCoreResultMessage, matched: string): string {
  if (m.ruleId.startsWith(RULE_PREFIX)) return m.message; // our own rules' messages are fixed text
  const head = m.message.split(/[:(]/)[0]!.trim();
  for (let i = 0; i + 6 <= matched.length; i++) if (head.includes(matched.slice(i, i + 6))) return m.messageId;
  return head === '' ? m.messageId : head;
}

/** Findings in one text, sorted by line then rule, one per line and rule. */
export async function detectInText(path: string, text: string): Promise<SecretFinding[]> {
  let messages: SecretLintCoreResultMessage[];
  try {
    const result = await lintSource({
      source: { filePath: path, content: text, ext: extOf(path), contentType: 'text' },
      options: { config: CONFIG, maskSecrets: true, noPhysicFilePath: true },
    });
    messages = result.messages;
  } catch (error) {
    // A rule that throws must not abort the scan of the other files, nor pass this one silently.
    return [{ file: path, line: 1, rule: 'unscannable', message: `the secret scan failed on this file (${(error as Error).name})` }];
  }
  const seen = new Set<string>();
  const out: SecretFinding[] = [];
  for (const m of messages) {
    // A file our YAML rule could not read is reported as unscannable, like an undecodable file.
    const rule = UNSCANNABLE_MESSAGES.has(m.messageId) ? 'unscannable' : shortRuleId(m.ruleId);
    const line = m.loc.start.line;
    const key = `${line} ${rule}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file: path, line, rule, message: describe(m, text.slice(m.range[0], m.range[1])) });
  }
  return out.sort(compareFindings);
}

export function compareFindings(a: SecretFinding, b: SecretFinding): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0);
}

/** Findings in several texts, sorted by file, line and rule. */
export async function detectInTexts(sources: readonly TextSource[]): Promise<SecretFinding[]> {
  const out: SecretFinding[] = [];
  for (const s of sources) out.push(...(await detectInText(s.path, s.text)));
  return out.sort(compareFindings);
}

// ---------------------------------------------------------------------------------------------------
// Bytes → text: decode what can be decoded; name what cannot.

export const MAX_SCAN_BYTES = 16 * 1024 * 1024;

export type Decoded = { text: string; encoding: string } | { unscannable: string };

const COMPRESSED: readonly [string, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['zip', [0x50, 0x4b, 0x03, 0x04]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['7z', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.length <= bytes.length && prefix.every((b, i) => bytes[i] === b);
}

function utf16(bytes: Uint8Array, bigEndian: boolean): string {
  const even = bytes.subarray(0, bytes.length - (bytes.length % 2));
  const le = bigEndian ? Buffer.from(even).swap16() : even;
  return new TextDecoder('utf-16le').decode(le);
}

/** UTF-16 without a BOM: ASCII-range text leaves every other byte NUL. */
function guessUtf16(bytes: Uint8Array): 'le' | 'be' | undefined {
  const n = Math.min(bytes.length, 4096) & ~1;
  if (n < 8) return undefined;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZero++;
    if (bytes[i + 1] === 0) oddZero++;
  }
  const pairs = n / 2;
  if (oddZero > pairs * 0.4 && evenZero < pairs * 0.05) return 'le';
  if (evenZero > pairs * 0.4 && oddZero < pairs * 0.05) return 'be';
  return undefined;
}

/**
 * Text to scan from a file's bytes. UTF-8 (BOM dropped, invalid bytes replaced), UTF-16 with a BOM or
 * recognisably without one, and files with NUL or other control bytes (their text runs: each control
 * byte becomes a space, so line numbers stay true). Compressed data, UTF-32 and files over 16 MiB
 * cannot be scanned: the reason is returned, to be reported as a finding.
 */
export function decodeForScan(bytes: Uint8Array): Decoded {
  if (bytes.length > MAX_SCAN_BYTES) return { unscannable: `larger than ${MAX_SCAN_BYTES / 1024 / 1024} MiB` };
  for (const [name, magic] of COMPRESSED) if (startsWith(bytes, magic)) return { unscannable: `${name}-compressed data` };
  if (startsWith(bytes, [0xff, 0xfe, 0x00, 0x00]) || startsWith(bytes, [0x00, 0x00, 0xfe, 0xff])) return { unscannable: 'UTF-32 text' };
  if (startsWith(bytes, [0xff, 0xfe])) return { text: utf16(bytes.subarray(2), false), encoding: 'UTF-16LE' };
  if (startsWith(bytes, [0xfe, 0xff])) return { text: utf16(bytes.subarray(2), true), encoding: 'UTF-16BE' };
  const body = startsWith(bytes, [0xef, 0xbb, 0xbf]) ? bytes.subarray(3) : bytes;
  if (body.includes(0)) {
    const guess = guessUtf16(body);
    if (guess) return { text: utf16(body, guess === 'be'), encoding: `UTF-16${guess.toUpperCase()} (no BOM)` };
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body);
  // eslint-disable-next-line no-control-regex
  const runs = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, ' ');
  return { text: runs, encoding: runs === text ? 'UTF-8' : 'UTF-8 text runs' };
}

export interface ByteSource {
  path: string;
  bytes: Uint8Array;
}

/** Decodes and scans files; a file that cannot be decoded is itself a finding (rule `unscannable`). */
export async function detectInFiles(files: readonly ByteSource[]): Promise<SecretFinding[]> {
  const out: SecretFinding[] = [];
  for (const f of files) {
    const d = decodeForScan(f.bytes);
    if ('unscannable' in d) out.push({ file: f.path, line: 1, rule: 'unscannable', message: `cannot be scanned: ${d.unscannable}` });
    else out.push(...(await detectInText(f.path, d.text)));
  }
  return out.sort(compareFindings);
}
