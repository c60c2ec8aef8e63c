// inputs/ owns reading and checking what people write: gitops.yaml, overlays/<env>/env.yaml and .env
// (file.ts reads, schema.ts and rules.ts check, dotenv.ts parses as Kustomize does; clusters, previews,
// backups and restore requests have their own rules files). spec.ts holds the shapes every layer shares.
//
// The shell-side reader of the generator's inputs: gitops.yaml, overlays/*/env.yaml, overlays/*/.env.
// Reads every file first, then reports every problem at once (file, JSON pointer or line, fix).
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { clusterEnvProblems } from './clusters.ts';
import { checkDotenv, keysMissingAcrossEnvs, parseDotenv } from './dotenv.ts';
import { envNameProblems, parseYamlFile, validateEnvSpec, validateSettings } from './schema.ts';
import { configMapSizeProblem, protectedEnvProblems } from './rules.ts';
import { envBackupProblems } from './backup.ts';
import { restoreProblems } from './restore.ts';
import { InputError, type Problem } from '../core/errors.ts';
import { readInputFile } from './file.ts';
import { envDir, envDotenvFile, envSpecFile, OVERLAYS_DIR, PREVIEW_NAME_PATTERN, SETTINGS_FILE } from '../core/layout.ts';
import { previewProblems } from './previews.ts';
import { MONGODB_OPERATOR_APP_NAME } from './mongodb.ts';
import type { EnvSpec, RepoSettings } from './spec.ts';

export interface RepoInputs {
  settings: RepoSettings;
  /** env name → its validated spec and the raw text of its .env (and of its env.yaml when read from disk). */
  envs: Record<string, { spec: EnvSpec; dotenv: string; specText?: string }>;
}

/** Names that would collide with generated files in argocd/apps/ or the AppProject. */
export const RESERVED_ENV_NAMES: readonly string[] = [MONGODB_OPERATOR_APP_NAME, 'root', 'project'];

/** Why `name` cannot be an environment, or undefined: generated files or preview environments own it. */
export function reservedEnvName(name: string): string | undefined {
  if (RESERVED_ENV_NAMES.includes(name)) return `"${name}" is reserved (argocd/apps/${name}.yaml or the AppProject use it)`;
  if (PREVIEW_NAME_PATTERN.test(name)) return `"${name}" is reserved: pr-<number> names belong to preview environments (gitops.yaml previews)`;
  return undefined;
}

/** The environments: every directory in overlays/ but the generated sample preview (pr-<number>). */
export function listEnvNames(root: string): string[] {
  const dir = join(root, OVERLAYS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !PREVIEW_NAME_PATTERN.test(d.name))
    .map((d) => d.name)
    .sort();
}

/** Entries of overlays/ that look like environments but are links or other non-directories. */
function overlayEntryProblems(root: string): Problem[] {
  const dir = join(root, OVERLAYS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isSymbolicLink())
    .map((d) => ({ file: envDir(d.name), message: 'is a symbolic link; an environment is a directory of its own inside the repository (nothing was read through the link)', fix: `replace ${envDir(d.name)} with a directory, or delete it` }));
}

/**
 * The one rule for an environment named on a command line (every command that takes one): a valid
 * environment name (DNS-1123 label, short enough, not reserved) and, with mustExist, an existing
 * overlays/<name>/ directory. Checked before anything touches the disk; throws InputError (exit 2).
 */
export function envArgumentProblems(root: string, name: string, opts: { mustExist: boolean; option?: string }): Problem[] {
  const label = opts.option ? ` (${opts.option})` : '';
  const syntax = envNameProblems(name).map((p) => ({ ...p, message: `${p.message}${label}` }));
  if (syntax.length > 0) return syntax;
  const reserved = reservedEnvName(name);
  if (reserved) return [{ message: `${reserved}${label}`, fix: 'choose another environment name' }];
  if (!opts.mustExist) return [];
  let isDir = false;
  try {
    isDir = lstatSync(join(root, envDir(name))).isDirectory();
  } catch {
    // missing
  }
  if (!isDir) {
    const known = listEnvNames(root).join(', ') || 'none';
    return [{ file: envDir(name), message: `unknown environment ${JSON.stringify(name)}${label}; known: ${known}`, fix: `name one of them, or create it with \`zx scripts/new-env.ts ${name}\`` }];
  }
  return [];
}

/** envArgumentProblems for each of `names`, all reported together; returns the names. */
export function envArguments(root: string, names: readonly string[], opts: { mustExist: boolean; option?: string }): string[] {
  const problems = names.flatMap((n) => envArgumentProblems(root, n, opts));
  if (problems.length > 0) throw new InputError(problems, `invalid environment argument${names.length > 1 ? 's' : ''}; nothing was read or written`);
  return [...names];
}

export function envArgument(root: string, name: string, opts: { mustExist: boolean; option?: string } = { mustExist: true }): string {
  return envArguments(root, [name], opts)[0]!;
}

/**
 * The line of a JSON pointer ("/mongodb/members") in a YAML text: the `yaml` parser keeps every node's
 * source range. The deepest node that exists is used (a missing field points at its parent mapping).
 */
export function lineOfPointer(text: string, pointer: string): number | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, keepSourceTokens: false });
  if (doc.errors.length > 0) return undefined;
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key || String((p.key as { value?: unknown } | null)?.value) === key);
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && /^[0-9]+$/.test(key) && Number(key) < node.items.length) {
      keyNode = undefined;
      node = node.items[Number(key)];
    } else break;
  }
  const at = keyNode?.range ?? (node as Node | null)?.range;
  return at ? counter.linePos(at[0]).line : undefined;
}

/** Gives every problem of `file` that points into it (a JSON pointer) the line it is on. */
export function withLines(problems: Problem[], file: string, text: string): Problem[] {
  return problems.map((p) => {
    if (p.file !== file || p.line !== undefined || !p.path?.startsWith('/')) return p;
    const line = lineOfPointer(text, p.path);
    return line === undefined ? p : { ...p, line };
  });
}

export function loadSettings(file: string, text: string): { settings?: RepoSettings; problems: Problem[] } {
  const y = parseYamlFile(file, text);
  if (y.problems.length > 0) return { problems: y.problems };
  const v = validateSettings(file, y.data);
  return v.problems.length > 0 ? { ...v, problems: withLines(v.problems, file, text) } : v;
}

/** Validates one environment's two input files (given as text/bytes). */
export function loadEnv(name: string, specText: string, dotenv: string | Uint8Array): { spec?: EnvSpec; dotenv: string; problems: Problem[] } {
  const specFile = envSpecFile(name);
  const y = parseYamlFile(specFile, specText);
  const problems = [...y.problems];
  let spec: EnvSpec | undefined;
  if (y.problems.length === 0) {
    const v = validateEnvSpec(name, specFile, y.data);
    problems.push(...v.problems);
    spec = v.spec;
  }
  const reserved = reservedEnvName(name);
  if (reserved) problems.push({ file: specFile, message: reserved, fix: 'choose another environment name' });
  const d = checkDotenv(envDotenvFile(name), dotenv);
  problems.push(...d.problems);
  const size = configMapSizeProblem(envDotenvFile(name), d.values);
  if (size) problems.push(size);
  const text = typeof dotenv === 'string' ? dotenv : Buffer.from(dotenv).toString('utf8');
  return { spec, dotenv: text, problems: problems.length > 0 ? withLines(problems, specFile, specText) : problems };
}

/**
 * Cross-environment rules: a known cluster, one namespace per environment on its cluster and none the
 * platform uses there (clusters/index.ts clusterEnvProblems), one host per environment.
 */
export function crossEnvProblems(settings: RepoSettings | undefined, envs: Record<string, { spec: EnvSpec }>): Problem[] {
  // kube-* and default are refused per environment (inputs/rules.ts reservedNamespaceProblem).
  const problems: Problem[] = clusterEnvProblems(settings, envs);
  const byHost = new Map<string, string>();
  for (const name of Object.keys(envs).sort()) {
    const file = envSpecFile(name);
    const host = envs[name]!.spec.ingress?.host;
    const hostOwner = host ? byHost.get(host) : undefined;
    if (host && hostOwner) problems.push({ file, path: '/ingress/host', message: `host "${host}" is already served by environment ${hostOwner}`, fix: 'give every environment its own host name' });
    else if (host) byHost.set(host, name);
  }
  // Reported environment by environment (a stable sort keeps each one's own order).
  const order = Object.keys(envs).sort().map(envSpecFile);
  problems.sort((a, b) => order.indexOf(a.file ?? '') - order.indexOf(b.file ?? ''));
  problems.push(...protectedEnvProblems(settings, envs, envSpecFile));
  problems.push(...envBackupProblems(settings, envs, envSpecFile));
  for (const name of Object.keys(envs).sort()) problems.push(...restoreProblems(envSpecFile(name), envs[name]!.spec, settings?.protected?.includes(name) === true));
  problems.push(...previewProblems(settings, envs));
  return problems;
}

/** gitops.yaml through the safe reader, validated. */
export function readSettingsFile(root: string): { settings?: RepoSettings; problems: Problem[] } {
  const r = readInputFile(root, SETTINGS_FILE);
  if (r.kind === 'missing') return { problems: [{ file: SETTINGS_FILE, message: 'is missing', fix: 'restore gitops.yaml (see docs/environments.md); it holds repoURL, image and pinned versions' }] };
  if (r.kind === 'refused') return { problems: r.problems };
  return loadSettings(SETTINGS_FILE, r.text);
}

/** One environment's env.yaml and .env through the safe reader, validated (problems when missing or refused). */
export function readEnvFiles(root: string, name: string): { spec?: EnvSpec; dotenv: string; specText?: string; problems: Problem[] } {
  const specFile = envSpecFile(name);
  const dotenvFile = envDotenvFile(name);
  const spec = readInputFile(root, specFile);
  const dotenv = readInputFile(root, dotenvFile);
  const problems: Problem[] = [];
  if (spec.kind === 'missing') problems.push({ file: specFile, message: 'is missing: every directory in overlays/ is an environment', fix: `run \`zx scripts/new-env.ts ${name} --force\`, or delete overlays/${name}` });
  if (spec.kind === 'refused') problems.push(...spec.problems);
  if (dotenv.kind === 'missing') problems.push({ file: dotenvFile, message: 'is missing', fix: 'create it (it may be empty) with the API settings of this environment' });
  if (dotenv.kind === 'refused') problems.push(...dotenv.problems);
  if (spec.kind !== 'ok' || dotenv.kind !== 'ok') return { dotenv: '', problems };
  const e = loadEnv(name, spec.text, dotenv.text);
  return { ...e, specText: spec.text };
}

/** Every input of the generator, read safely and validated; any problem anywhere is an InputError (exit 2). */
export async function readRepoInputs(root: string, opts: { except?: string } = {}): Promise<RepoInputs> {
  const problems: Problem[] = [];
  const s = readSettingsFile(root);
  problems.push(...s.problems);
  const settings = s.settings;
  problems.push(...overlayEntryProblems(root));
  const envs: RepoInputs['envs'] = {};
  for (const name of listEnvNames(root)) {
    if (name === opts.except) continue;
    const e = readEnvFiles(root, name);
    problems.push(...e.problems);
    if (e.spec) envs[name] = { spec: e.spec, dotenv: e.dotenv, specText: e.specText };
  }
  let cross = crossEnvProblems(settings, envs);
  for (const [name, e] of Object.entries(envs)) if (e.specText !== undefined) cross = withLines(cross, envSpecFile(name), e.specText);
  problems.push(...cross);
  if (problems.length > 0 || !settings) throw new InputError(problems);
  return { settings, envs };
}

/** Keys one environment's .env sets and another's lacks: warnings, never errors. */
export function dotenvWarnings(inputs: RepoInputs): Problem[] {
  const values: Record<string, Record<string, string>> = {};
  for (const [name, e] of Object.entries(inputs.envs)) values[name] = parseDotenv(envDotenvFile(name), e.dotenv).values;
  return keysMissingAcrossEnvs(values, envDotenvFile);
}
