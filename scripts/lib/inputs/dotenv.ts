// overlays/<env>/.env: parsed exactly the way Kustomize 5.5's configMapGenerator `envs:` parses it,
// and refused wherever a dotenv library (or docker compose, or a shell) would read a different value.
// The measurements behind every rule are in docs/environments.md ("How Kustomize reads .env").
import { checkConfig, configSpec, SECRET_CONFIG_KEYS } from '../../../apps/users-api/src/config.ts';
import type { Problem } from '../core/errors.ts';
import { secretsIn } from '../secrets/scan.ts';
import { MONGODB } from './spec.ts';

export interface DotenvEntry {
  key: string;
  value: string;
  line: number;
}

export interface ParsedDotenv {
  entries: DotenvEntry[];
  /** key → value, exactly what the ConfigMap will hold. */
  values: Record<string, string>;
  problems: Problem[];
}

const KEY = /^[A-Z_][A-Z0-9_]*$/;
const BOM = '\uFEFF';

function lineProblem(file: string, line: number, message: string, fix: string): Problem {
  return { file, path: `line ${line}`, message, fix };
}

/**
 * Parses `.env` bytes (or text) into the ConfigMap data Kustomize would produce, collecting a problem
 * for every line whose meaning would differ between Kustomize and dotenv.
 */
export function parseDotenv(file: string, input: string | Uint8Array): ParsedDotenv {
  const problems: Problem[] = [];
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      // ignoreBOM: keep a BOM so that the rule below sees it (the default decoder drops it silently).
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch {
      // kustomize: "line [...] has invalid utf8 bytes"; it refuses the whole build.
      return { entries: [], values: {}, problems: [{ file, message: 'is not valid UTF-8 (kustomize refuses to build it)', fix: 'save the file as UTF-8' }] };
    }
  }
  if (text.startsWith(BOM)) {
    // kustomize drops a BOM at the start of the file; Node's dotenv keeps it as part of the first key.
    problems.push(lineProblem(file, 1, 'starts with a byte-order mark (kustomize drops it, dotenv makes it part of the first key)', 'save the file as UTF-8 without BOM'));
    text = text.slice(1);
  }
  const entries: DotenvEntry[] = [];
  const firstLine = new Map<string, number>();
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const n = i + 1;
    // CRLF: both kustomize and dotenv drop the CR before LF; a CR anywhere else is part of kustomize's value.
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.includes('\r')) {
      problems.push(lineProblem(file, n, 'contains a carriage return inside the line (kustomize keeps it in the value)', 'use LF or CRLF line endings only'));
      return;
    }
    if (line.trim() === '') return;
    if (/^\s/.test(line)) {
      problems.push(lineProblem(file, n, 'starts with whitespace', 'remove the leading spaces or tabs'));
      return;
    }
    if (line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq === -1) {
      // kustomize 5.5: value ""; `kubectl create configmap --from-env-file`: the caller's environment; dotenv: ignored.
      problems.push(lineProblem(file, n, `"${line}" has no "=" (kustomize sets it to "", kubectl --from-env-file copies it from the shell, dotenv ignores it)`, `write ${line.split(/\s/)[0]}= for an empty value, or delete the line`));
      return;
    }
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key.startsWith('export ')) {
      problems.push(lineProblem(file, n, `"export" prefix: kustomize makes the key "${key}", dotenv strips "export "`, `remove "export " from the line`));
      return;
    }
    if (/\s$/.test(key) || /^\s/.test(value)) {
      problems.push(lineProblem(file, n, `spaces around "=": kustomize keeps them in the key and value, dotenv trims them`, `write ${key.trim()}=${value.trim()}`));
      return;
    }
    if (!KEY.test(key)) {
      problems.push(lineProblem(file, n, `key "${key}" is not an environment variable name (A-Z, 0-9, _; not starting with a digit)`, 'use an UPPER_SNAKE_CASE key from the API config spec'));
      return;
    }
    if (/^["'`]/.test(value)) {
      problems.push(lineProblem(file, n, `${key}: quotes are kept literally by kustomize (the app would get ${JSON.stringify(value)}), dotenv removes them`, `write ${key}=${value.replace(/^["'`]|["'`]$/g, '')} without quotes`));
      return;
    }
    if (value.includes('#')) {
      problems.push(lineProblem(file, n, `${key}: "#" is part of the value for kustomize but starts a comment for dotenv`, 'remove the comment from the line (put it on its own line above)'));
      return;
    }
    if (/\s$/.test(value)) {
      problems.push(lineProblem(file, n, `${key}: trailing whitespace is kept by kustomize, trimmed by dotenv`, 'remove the trailing whitespace'));
      return;
    }
    if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(value)) {
      // kustomize refuses DEL and C1 codes ("control characters are not allowed") and turns NEL into a space.
      problems.push(lineProblem(file, n, `${key}: contains an invisible control character (kustomize refuses or changes it)`, 'remove the control character from the value'));
      return;
    }
    if (value.includes('$') || value.includes('\\')) {
      problems.push(lineProblem(file, n, `${key}: "$" and "\\" are literal for kustomize but expanded or escaped by dotenv-expand, compose and shells`, 'write the literal value without "$" or "\\"'));
      return;
    }
    const previous = firstLine.get(key);
    if (previous !== undefined) {
      // kustomize: "configmap illegally repeats the key"; dotenv: the last one wins.
      problems.push(lineProblem(file, n, `${key} is set again (first on line ${previous}); kustomize refuses repeated keys, dotenv keeps the last`, 'keep one line for the key'));
      return;
    }
    firstLine.set(key, n);
    entries.push({ key, value, line: n });
  });
  const values: Record<string, string> = {};
  for (const e of entries) values[e.key] = e.value;
  return { entries, values, problems };
}

const SECRET_NAME = /(PASSWORD|PASSWD|PWD|TOKEN|SECRET|PRIVATE|CREDENTIAL|API_?KEY|(^|_)KEY$)/;

/** Problems with the values themselves: unknown or secret keys, envalid failures, the database name. */
export function validateDotenvValues(file: string, parsed: ParsedDotenv): Problem[] {
  const problems: Problem[] = [];
  const lineOf = (key: string): string => {
    const e = parsed.entries.find((x) => x.key === key);
    return e ? `line ${e.line}` : '';
  };
  const known = new Set(Object.keys(configSpec));
  const secretKeys = new Set<string>(SECRET_CONFIG_KEYS);
  const forEnvalid: Record<string, string> = { MONGODB_URI: 'mongodb://placeholder.invalid:27017/admin' };
  const found = secretsIn(parsed.entries.map((e) => e.value));
  const secretAt = new Map(parsed.entries.map((e, i) => [e.line, found[i]]));
  for (const { key, value, line } of parsed.entries) {
    const where = `line ${line}`;
    if (secretKeys.has(key)) {
      problems.push({ file, path: where, message: `${key} is a secret: it comes from the operator's Secret ${MONGODB.connectionSecret} through secretKeyRef`, fix: `delete the ${key} line; never put it in .env` });
      continue;
    }
    if (SECRET_NAME.test(key)) {
      problems.push({ file, path: where, message: `${key} looks like a secret; secrets never go in .env (it is committed to git)`, fix: `delete the line and create a Kubernetes Secret on the cluster instead` });
      continue;
    }
    // The repository's one secret detector (scripts/lib/secrets/scan.ts): keys, URLs, tokens, JWTs, PEM.
    const secret = secretAt.get(line);
    if (secret !== undefined) {
      problems.push({ file, path: where, message: `${key} holds what looks like a secret (${secret}; value not shown); secrets never go in .env (it is committed to git)`, fix: 'remove the value; create a Kubernetes Secret on the cluster and reference it' });
      continue;
    }
    if (!known.has(key)) {
      problems.push({ file, path: where, message: `${key} is not a setting of the users API`, fix: `use one of: ${[...known].filter((k) => !secretKeys.has(k)).sort().join(', ')}` });
      continue;
    }
    forEnvalid[key] = value;
  }
  for (const p of checkConfig(forEnvalid, { perEnvironment: true })) {
    if (secretKeys.has(p.key)) continue;
    problems.push({ file, path: lineOf(p.key), message: `${p.key} ${p.message}`, fix: p.fix ?? `set a valid value for ${p.key} (see apps/users-api/src/config.ts)` });
  }
  const db = parsed.values.MONGODB_DB;
  if (db !== undefined && db !== MONGODB.appDb) {
    problems.push({ file, path: lineOf('MONGODB_DB'), message: `MONGODB_DB is "${db}" but the app's database user may only use "${MONGODB.appDb}"`, fix: `delete the line or set MONGODB_DB=${MONGODB.appDb}` });
  }
  return problems;
}

/** Parses and fully validates one .env file. */
export function checkDotenv(file: string, input: string | Uint8Array): { values: Record<string, string>; problems: Problem[] } {
  const parsed = parseDotenv(file, input);
  const lineNo = (p: Problem): number => Number(/^line (\d+)$/.exec(p.path ?? '')?.[1] ?? 0);
  const problems = [...parsed.problems, ...validateDotenvValues(file, parsed)].sort((a, b) => lineNo(a) - lineNo(b));
  return { values: parsed.values, problems };
}

/** Warnings for keys some environments set and others do not (a likely forgotten setting). */
export function keysMissingAcrossEnvs(envs: Record<string, Record<string, string>>, fileOf: (env: string) => string): Problem[] {
  const names = Object.keys(envs).sort();
  const all = new Set<string>();
  for (const n of names) for (const k of Object.keys(envs[n] ?? {})) all.add(k);
  const warnings: Problem[] = [];
  for (const key of [...all].sort()) {
    const have = names.filter((n) => key in (envs[n] ?? {}));
    if (have.length === names.length) continue;
    for (const n of names.filter((x) => !have.includes(x))) {
      warnings.push({ file: fileOf(n), message: `${key} is set in ${have.join(', ')} but not here (the API default applies)`, fix: `add ${key}= with the value this environment needs, or ignore if the default is intended` });
    }
  }
  return warnings;
}
