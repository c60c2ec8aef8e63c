// This repository's own secretlint rules: only what @secretlint/secretlint-rule-preset-recommend 13.1.0
// does not cover (its rule list: node_modules/@secretlint/secretlint-rule-preset-recommend/README.md).
//
// - kubernetes-secret: a Kubernetes Secret that carries data, in any form a manifest can take (YAML or
//   JSON, `kind: "Secret"` quoted, nested in a `kind: List` or any other object, flow style, block
//   scalars), a Kustomize secretGenerator with literals or files; and a YAML/JSON file that cannot be
//   read safely (syntax error, alias bomb) is a finding, so no file is passed over in silence.
// - url-credentials: user-info in a URL (`https://TOKEN@host`, `user:pw@`, short passwords, ssh
//   passwords) and credential query parameters (`?password=`). In settings files and values any
//   user-info at all; elsewhere documentation placeholders pass. The preset's basicauth rule only sees
//   http(s)/ftp with `[-A-Za-z0-9_]` user and password and a dotted host; its database-connection-string
//   rule only mongodb/mysql/postgres with a password of 4 characters or more.
// - secret-setting: a literal value under a secret-named key (`password: |`, `apiKey: …`,
//   `DB_PASSWORD=…`) in the settings formats this repository uses: YAML, JSON and .env.
// - jwt: JSON Web Tokens; Kubernetes ServiceAccount tokens (what a kubeconfig or an Argo CD cluster
//   Secret would leak) are JWTs, and the preset has no JWT rule.
// - base64-private-key: a PEM private key that was base64-encoded, as a Secret's `data` holds it.
//
// Every report's message is fixed text: the matched value is never part of it.
import type { SecretLintRuleCreator, SecretLintRuleContext, SecretLintSourceCode } from '@secretlint/types';
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Node as YamlNode } from 'yaml';

export const RULE_PREFIX = '@gitops-users/';
/** Messages that say a file could not be read, not that a secret was found. */
export const UNSCANNABLE_MESSAGES: ReadonlySet<string> = new Set(['YAML_UNREADABLE', 'YAML_ALIAS_BOMB']);

type Messages = Record<string, { en: () => string }>;

function repoRule(name: string, messages: Messages, scan: (source: SecretLintSourceCode, report: (id: string, range: readonly [number, number]) => void) => void): SecretLintRuleCreator {
  return {
    messages,
    meta: { id: `${RULE_PREFIX}${name}`, type: 'scanner', recommended: true, supportedContentTypes: ['text'] },
    create(context: SecretLintRuleContext) {
      const t = context.createTranslator(messages);
      return {
        file(source: SecretLintSourceCode) {
          scan(source, (id, range) => context.report({ message: t(id), range }));
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Kubernetes Secrets

/** More aliases than this in one document is treated as an alias bomb (the `yaml` package's own default). */
export const MAX_YAML_ALIASES = 100;
const MANIFEST_EXT = /^\.(ya?ml|json)$/i;

function pairValue(map: YamlNode, key: string): YamlNode | null | undefined {
  if (!isMap(map)) return undefined;
  for (const item of map.items) {
    if (isPair(item) && isScalar(item.key) && item.key.value === key) return item.value as YamlNode | null;
  }
  return undefined;
}

function hasEntries(node: YamlNode | null | undefined): boolean {
  if (node === null || node === undefined) return false;
  if (isAlias(node)) return true; // data borrowed from elsewhere: still data
  if (isMap(node) || isSeq(node)) return node.items.length > 0;
  return isScalar(node) ? node.value !== null && node.value !== '' : true;
}

/** Every map node in a document, depth first (aliases are not followed, so a bomb cannot explode here). */
function* maps(node: unknown): Generator<YamlNode> {
  if (isMap(node)) {
    yield node;
    for (const item of node.items) if (isPair(item)) yield* maps(item.value);
  } else if (isSeq(node)) {
    for (const item of node.items) yield* maps(item);
  }
}

const kubernetesSecret = repoRule(
  'kubernetes-secret',
  {
    SECRET_WITH_DATA: { en: () => 'a Kubernetes Secret with data or stringData in git' },
    SECRET_GENERATOR: { en: () => 'a Kustomize secretGenerator with literals or files from git' },
    YAML_UNREADABLE: { en: () => 'a YAML/JSON syntax error: the file cannot be checked for Secrets' },
    YAML_ALIAS_BOMB: { en: () => `more than ${MAX_YAML_ALIASES} YAML aliases (an alias bomb): the file cannot be checked safely` },
  },
  (source, report) => {
    if (!MANIFEST_EXT.test(source.ext)) return;
    const docs = parseAllDocuments(source.content, { version: '1.1', uniqueKeys: false });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      const error = doc.errors[0];
      if (error) {
        report('YAML_UNREADABLE', [error.pos[0], Math.max(error.pos[1], error.pos[0] + 1)]);
        continue;
      }
      let aliases = 0;
      try {
        doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
      } catch {
        aliases = MAX_YAML_ALIASES + 1;
      }
      if (aliases > MAX_YAML_ALIASES) report('YAML_ALIAS_BOMB', [doc.range[0], Math.max(doc.range[1], doc.range[0] + 1)]);
      for (const map of maps(doc.contents)) {
        // Kustomize's secretGenerator makes a Secret from literals or from files in git.
        const generators = pairValue(map, 'secretGenerator');
        if (isSeq(generators)) {
          for (const g of generators.items) {
            const source = ['literals', 'files', 'envs', 'env'].map((k) => pairValue(g as YamlNode, k)).find(hasEntries);
            if (source) report('SECRET_GENERATOR', [(source.range ?? [0, 1])[0], (source.range ?? [0, 1])[1]]);
          }
        }
        const kind = pairValue(map, 'kind');
        if (!isScalar(kind) || kind.value !== 'Secret') continue;
        if (!hasEntries(pairValue(map, 'data')) && !hasEntries(pairValue(map, 'stringData'))) continue;
        const at = kind.range ?? [0, 1];
        report('SECRET_WITH_DATA', [at[0], at[1]]);
      }
    }
  },
);

// ---------------------------------------------------------------------------------------------------
// Literal values under secret-named keys in settings files (YAML, JSON, .env)

const SECRET_WORD = /(?:pass(?:word|wd)?|pwd|secret|token|api[-_]?key|private[-_]?key|credentials?)$/i;

/**
 * The key ends in a word that names a credential, starting a word of its own (`DB_PASSWORD`, `dbPassword`,
 * `apiKey`, `token`; not `bypass`, nor `passwordSecretRef`, `secretName`, `tokenFile`).
 */
export function namesSecret(key: string): boolean {
  const m = SECRET_WORD.exec(key);
  if (!m) return false;
  if (m.index === 0) return true;
  const before = key[m.index - 1]!;
  return !/[A-Za-z]/.test(before) || (/[a-z]/.test(before) && /[A-Z]/.test(key[m.index]!));
}
const DOTENV_FILE = /(^|\/)\.env(\.[^/]*)?$/;
const DOTENV_LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/gm;

function isLiteralSecret(value: string): boolean {
  const v = value.trim().replace(/^(["'])(.*)\1$/s, '$2');
  if (v.length < 4 || isPlaceholder(v) || /\$\{|\$\(|\{\{|%[A-Za-z_]+%/.test(v)) return false;
  // A name, not a value: a Secret's or a host's (DNS-1123, like `tlsSecret: users-api-tls`), an
  // environment variable's. The price: an all-lower-case password of letters, digits and dashes passes.
  return !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v) && !/^[A-Z][A-Z0-9_]*$/.test(v);
}

function* scalarsUnderKeys(node: unknown): Generator<{ key: string; value: YamlNode }> {
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      if (isScalar(item.key) && isScalar(item.value)) yield { key: String(item.key.value), value: item.value };
      else yield* scalarsUnderKeys(item.value);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) yield* scalarsUnderKeys(item);
  }
}

const secretSetting = repoRule(
  'secret-setting',
  { SECRET_SETTING: { en: () => 'a literal value under a secret-named key in a settings file' } },
  (source, report) => {
    if (DOTENV_FILE.test(source.filePath ?? '')) {
      for (const m of source.content.matchAll(DOTENV_LINE)) {
        if (!namesSecret(m[1] ?? '') || !isLiteralSecret(m[2] ?? '')) continue;
        const start = m.index ?? 0;
        report('SECRET_SETTING', [start, start + m[0].length]);
      }
      return;
    }
    if (!MANIFEST_EXT.test(source.ext)) return;
    const docs = parseAllDocuments(source.content, { version: '1.1', uniqueKeys: false });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length > 0) continue; // reported by kubernetes-secret
      for (const { key, value } of scalarsUnderKeys(doc.contents)) {
        if (!isScalar(value) || typeof value.value !== 'string' || !namesSecret(key) || !isLiteralSecret(value.value)) continue;
        const at = value.range ?? [0, 1];
        report('SECRET_SETTING', [at[0], Math.max(at[1], at[0] + 1)]);
      }
    }
  },
);

// ---------------------------------------------------------------------------------------------------
// Credentials in URLs

/** scheme://…@ — the user-info part ends at the first "@" before any "/", "?" or "#" (RFC 3986 3.2). */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]{1,30}):\/\/([^\s/?#@'"`<>()[\]{}\\]+)@/gi;
/** ?password=… &token=… and the like, in any URL or query string. */
const CREDENTIAL_PARAM = /[?&](?:password|passwd|pwd|pass|secret|client_secret|token|access_token|auth_token|private_token|api_key|apikey)=([^&#\s'"`<>\\]+)/gi;
/** Schemes where a user name alone is the login name, not a credential (ssh://git@github.com/...). */
const LOGIN_NAME_SCHEMES = /^(?:ssh|git\+ssh|ssh\+git|sftp)$/i;

/**
 * The path the synchronous callers give setting values (a .env file's values, a rendered ConfigMap's):
 * scanned as a settings file.
 */
export const SETTING_VALUES_PATH = '(setting values)';

/** Settings formats: .env, YAML, JSON, and setting values handed over one by one. */
function isSettingsSource(source: SecretLintSourceCode): boolean {
  const path = source.filePath ?? '';
  return path === SETTING_VALUES_PATH || DOTENV_FILE.test(path) || MANIFEST_EXT.test(source.ext);
}

/** A reference the reader of the file resolves (`$VAR`, `${VAR}`, `$(cmd)`): never a literal. */
export function isReference(value: string): boolean {
  return value.startsWith('$');
}

/** A documentation placeholder or a reference, never a credential. */
export function isPlaceholder(value: string): boolean {
  const v = decodeURIComponentSafe(value);
  if (/^[$%{<]/.test(v)) return true; // a variable, a template, a <placeholder>
  if ([...v].length === 1) return true; // documentation shorthand: mongodb://u:p@host
  return /^(?:|user(?:name)?|pass(?:word)?|passwd|pwd|pw|token|secret|x+|\*+|\.+|…|<[^<>]*>|\$\{[^}]*\}|\$\([^)]*\)|\{\{[^}]*\}\}|%[A-Za-z_]+%|\$[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\]|(?:your|my)[-_]?[a-z_-]*|changeme)$/i.test(v);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const urlCredentials = repoRule(
  'url-credentials',
  {
    URL_USERINFO: { en: () => 'a URI with credentials in its user-info part (scheme://user:password@ or scheme://token@)' },
    URL_CREDENTIAL_PARAM: { en: () => 'a URI with credentials in a query parameter (password=, token=, …)' },
  },
  (source, report) => {
    // In a settings file any user-info is refused (only a reference such as `$VAR` passes); in prose and
    // code, documentation placeholders (`user:password@`, `<token>@`, `u:p@`) are not credentials.
    const strict = isSettingsSource(source);
    const exempt = strict ? isReference : isPlaceholder;
    for (const m of source.content.matchAll(URL_USERINFO)) {
      const scheme = m[1] ?? '';
      const info = m[2] ?? '';
      const colon = info.indexOf(':');
      const user = colon === -1 ? info : info.slice(0, colon);
      const password = colon === -1 ? undefined : info.slice(colon + 1);
      // With a password, the password is the credential (a user name beside an elided one is documentation);
      // without one, the user part is: a token (https://TOKEN@host), except an ssh login name (git@).
      if (password !== undefined ? exempt(password) : exempt(user) || LOGIN_NAME_SCHEMES.test(scheme)) continue;
      const start = m.index ?? 0;
      report('URL_USERINFO', [start, start + m[0].length]);
    }
    for (const m of source.content.matchAll(CREDENTIAL_PARAM)) {
      if (exempt(m[1] ?? '')) continue;
      const start = m.index ?? 0;
      report('URL_CREDENTIAL_PARAM', [start, start + m[0].length]);
    }
  },
);

// ---------------------------------------------------------------------------------------------------
// JSON Web Tokens

const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;

function isJwtHeader(part: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && ('alg' in header || 'typ' in header);
  } catch {
    return false;
  }
}

const jwt = repoRule(
  'jwt',
  { JWT: { en: () => 'a JSON Web Token (a Kubernetes ServiceAccount token is one)' } },
  (source, report) => {
    for (const m of source.content.matchAll(JWT)) {
      if (!isJwtHeader(m[0].slice(0, m[0].indexOf('.')))) continue;
      const start = m.index ?? 0;
      report('JWT', [start, start + m[0].length]);
    }
  },
);

// ---------------------------------------------------------------------------------------------------
// Base64-encoded private keys

/** "-----BEGIN" base64-encoded at the three byte alignments it can take inside a longer value. */
const BASE64_BEGIN = ['LS0tLS1CRUdJTi', 'tLS0tLUJFR0lO', '0tLS0tQkVHSU4'];
const BASE64_RUN = /[A-Za-z0-9+/]{40,}={0,2}/g;
const PRIVATE_KEY_HEADER = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;

const base64PrivateKey = repoRule(
  'base64-private-key',
  { BASE64_PRIVATE_KEY: { en: () => 'a base64-encoded PEM private key' } },
  (source, report) => {
    if (!BASE64_BEGIN.some((b) => source.content.includes(b))) return;
    for (const m of source.content.matchAll(BASE64_RUN)) {
      if (!BASE64_BEGIN.some((b) => m[0].includes(b))) continue;
      if (!PRIVATE_KEY_HEADER.test(Buffer.from(m[0], 'base64').toString('latin1'))) continue;
      const start = m.index ?? 0;
      report('BASE64_PRIVATE_KEY', [start, start + m[0].length]);
    }
  },
);

export const REPOSITORY_RULES: readonly SecretLintRuleCreator[] = [kubernetesSecret, secretSetting, urlCredentials, jwt, base64PrivateKey];
