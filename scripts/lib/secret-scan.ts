// The repository's secret scan: pure, over { path: content }, so CI, a pre-commit hook and tests share
// one implementation. Two kinds of rules: well-known token formats (exact shapes, no guessing) and
// secret-named assignments whose value looks like a real secret rather than a name, a reference or a
// placeholder. A finding never prints the value itself.
import { parseAllDocuments } from 'yaml';
import type { Problem } from './errors.ts';

export interface SecretFinding {
  file: string;
  /** 1-based */
  line: number;
  rule: string;
  message: string;
}

interface TokenRule {
  id: string;
  what: string;
  pattern: RegExp;
}

/** Formats with a fixed, documented shape: any match is a finding. */
const TOKEN_RULES: readonly TokenRule[] = [
  { id: 'private-key', what: 'a private key', pattern: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----/ },
  { id: 'aws-access-key-id', what: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { id: 'github-token', what: 'a GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b/ },
  { id: 'gitlab-token', what: 'a GitLab token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}\b/ },
  { id: 'slack-token', what: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { id: 'google-api-key', what: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { id: 'npm-token', what: 'an npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { id: 'jwt', what: 'a JSON Web Token', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
];

/** user:password@ in a URL, the password not a placeholder or a variable. */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/([^\s/:@'"`]+):([^\s/@'"`]+)@/gi;

/** A key that names a secret, then = or :, then a value (quoted or bare). */
const SECRET_ASSIGNMENT =
  /(?<key>[A-Za-z0-9_.-]*(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|credential)[A-Za-z0-9_.-]*)["']?\s*[:=]\s*(?<value>"[^"\n]*"|'[^'\n]*'|`[^`\n]*`|[^\s,;#}\])]+)/gi;

/** A line carrying this marker is skipped: for documentation that shows a fake value on purpose. */
export const ALLOW_MARKER = 'secret-scan: allow';

const PLACEHOLDER =
  /^(?:|x+|\*+|\.+|…|changeme|change-me|redacted|example|dummy|secret|pass|pw|pwd|user|password|passw(?:or)?d|token|none|null|nil|true|false|undefined|required|optional|string|<[^>]*>|\{\{.*\}\}|\$\{.*\}|\$\(.*\)|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_]+%?)$/i;

/** Values that announce themselves as fakes: tests and docs may commit these. */
const OBVIOUS_DUMMY = /dummy|example|fake|placeholder|not-a-secret|changeme|hunter2|redacted/i;

/** In source code a bare value after = or : is an expression (a name, a call), not a literal. */
const CODE_FILE = /\.(?:[cm]?[jt]sx?|lua|go|py|rb|java|kt|rs)$/;

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function unquote(v: string): string {
  const q = v[0];
  return (q === '"' || q === "'" || q === '`') && v.endsWith(q) && v.length >= 2 ? v.slice(1, -1) : v;
}

/**
 * Whether an assigned value looks like a real secret. Names (Kubernetes Secret names, env var names,
 * identifiers, dotted paths), references (variables, templates, command substitution) and short or
 * low-entropy words are not.
 */
export function looksLikeSecretValue(raw: string): boolean {
  // Unquoted values in prose end where the sentence or the markdown code span does.
  const v = unquote(raw.trim()).replace(/[`),.;:]+$/, '');
  if (PLACEHOLDER.test(v) || OBVIOUS_DUMMY.test(v)) return false;
  if (v.length < 8) return false;
  if (/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) return false; // a DNS name: a Secret's name, a host
  if (/^[A-Z][A-Z0-9_]*$/.test(v)) return false; // an environment variable's name
  if (/^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*(\(\))?$/.test(v) && !/\d/.test(v)) return false; // an identifier / property path
  if (/[$]\{|[$]\(|\{\{|process\.env|import\.meta/.test(v)) return false;
  if (/^(https?|file):\/\//.test(v)) return false; // URLs are covered by the URL-credentials rule
  if (/\s/.test(v)) return false; // prose
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(v)).length;
  return entropy(v) >= 3 && classes >= 2;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Kubernetes Secrets with values in a YAML file: git is not where a Secret's data lives. */
function secretManifests(file: string, content: string): SecretFinding[] {
  if (!/\.ya?ml$/.test(file) || !/\bkind:\s*Secret\b/.test(content)) return [];
  const findings: SecretFinding[] = [];
  let docs;
  try {
    docs = parseAllDocuments(content);
  } catch {
    return [];
  }
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const obj = doc.toJS() as { kind?: unknown; data?: Record<string, unknown>; stringData?: Record<string, unknown>; metadata?: { name?: unknown } } | null;
    if (!obj || obj.kind !== 'Secret') continue;
    const keys = [...Object.keys(obj.data ?? {}), ...Object.keys(obj.stringData ?? {})];
    if (keys.length === 0) continue;
    const start = doc.range?.[0] ?? 0;
    const kindAt = content.slice(start).search(/^kind:\s*Secret\b/m);
    findings.push({
      file,
      line: lineOf(content, start + Math.max(0, kindAt)),
      rule: 'kubernetes-secret',
      message: `Secret ${String(obj.metadata?.name ?? '')} carries data (${keys.sort().join(', ')}) in git`,
    });
  }
  return findings;
}

/** Every finding in one file. */
export function scanFile(file: string, content: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const lines = content.split('\n');
  const allowed = new Set(lines.flatMap((l, i) => (l.includes(ALLOW_MARKER) ? [i + 1] : [])));
  const add = (index: number, rule: string, message: string) => {
    const line = lineOf(content, index);
    if (!allowed.has(line)) findings.push({ file, line, rule, message });
  };
  for (const rule of TOKEN_RULES) {
    const re = new RegExp(rule.pattern.source, `${rule.pattern.flags.replace('g', '')}g`);
    for (const m of content.matchAll(re)) add(m.index ?? 0, rule.id, `${rule.what}`);
  }
  for (const m of content.matchAll(URL_CREDENTIALS)) {
    const password = m[2] ?? '';
    // Shorter than 8 characters is a test's stand-in ("a:b@", "user:p%40ss@"), not a password anyone uses.
    if (password.length >= 8 && !PLACEHOLDER.test(password) && !OBVIOUS_DUMMY.test(password) && !/^[$%{<]/.test(password)) add(m.index ?? 0, 'url-credentials', `a password in the URL for user "${m[1]}"`);
  }
  const code = CODE_FILE.test(file);
  for (const m of content.matchAll(SECRET_ASSIGNMENT)) {
    const value = m.groups?.value ?? '';
    const quoted = /^["'`]/.test(value);
    if ((quoted || !code) && looksLikeSecretValue(value)) add(m.index ?? 0, 'secret-assignment', `a literal value assigned to "${m.groups?.key}"`);
  }
  for (const f of secretManifests(file, content)) if (!allowed.has(f.line)) findings.push(f);
  return findings;
}

/** Paths never scanned: dependencies and lockfiles hold hashes, not our secrets. */
export function isScanned(path: string): boolean {
  return !/(^|\/)(node_modules|\.git)\//.test(path) && !/(^|\/)package-lock\.json$/.test(path);
}

/** Scans { path: content }; findings sorted by file, line and rule, one per line and rule. */
export function scanForSecrets(files: Record<string, string>): SecretFinding[] {
  const out: SecretFinding[] = [];
  for (const path of Object.keys(files).sort()) {
    if (!isScanned(path)) continue;
    const content = files[path] ?? '';
    if (content.includes('\u0000')) continue; // binary
    const seen = new Set<string>();
    for (const f of scanFile(path, content)) {
      const key = `${f.line} ${f.rule}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(f);
    }
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)));
}

export function findingToProblem(f: SecretFinding): Problem {
  return {
    file: `${f.file}:${f.line}`,
    message: `${f.rule}: ${f.message} (value not shown)`,
    fix: 'remove it from the file and from git history, rotate it, and reference it from a Secret created on the cluster; ' +
      `if it is a documented fake, add "${ALLOW_MARKER}" on that line`,
  };
}
