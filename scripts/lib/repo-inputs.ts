// The shell-side reader of the generator's inputs: gitops.yaml, overlays/*/env.yaml, overlays/*/.env.
// Reads every file first, then reports every problem at once (file, JSON pointer or line, fix).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDotenv, keysMissingAcrossEnvs, parseDotenv } from './envfile.ts';
import { parseYamlFile, validateEnvSpec, validateSettings } from './envspec.ts';
import { configMapSizeProblem, protectedEnvProblems } from './env-rules.ts';
import { InputError, type Problem } from './errors.ts';
import { envDotenvFile, envSpecFile, OVERLAYS_DIR, SETTINGS_FILE } from './layout.ts';
import { MONGODB_OPERATOR_APP_NAME } from './mongodb/operator.ts';
import type { EnvSpec, RepoSettings } from './spec.ts';

export interface RepoInputs {
  settings: RepoSettings;
  /** env name → its validated spec and the raw text of its .env. */
  envs: Record<string, { spec: EnvSpec; dotenv: string }>;
}

/** Names that would collide with generated files in argocd/apps/ or the AppProject. */
export const RESERVED_ENV_NAMES: readonly string[] = [MONGODB_OPERATOR_APP_NAME, 'root', 'project'];

export function listEnvNames(root: string): string[] {
  const dir = join(root, OVERLAYS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function loadSettings(file: string, text: string): { settings?: RepoSettings; problems: Problem[] } {
  const y = parseYamlFile(file, text);
  if (y.problems.length > 0) return { problems: y.problems };
  return validateSettings(file, y.data);
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
  if (RESERVED_ENV_NAMES.includes(name)) {
    problems.push({ file: specFile, message: `"${name}" is reserved (argocd/apps/${name}.yaml or the AppProject use it)`, fix: 'choose another environment name' });
  }
  const d = checkDotenv(envDotenvFile(name), dotenv);
  problems.push(...d.problems);
  const size = configMapSizeProblem(envDotenvFile(name), d.values);
  if (size) problems.push(size);
  const text = typeof dotenv === 'string' ? dotenv : Buffer.from(dotenv).toString('utf8');
  return { spec, dotenv: text, problems };
}

/** Cross-environment rules: one namespace per environment, none of Argo CD's or the operator's. */
export function crossEnvProblems(settings: RepoSettings | undefined, envs: Record<string, { spec: EnvSpec }>): Problem[] {
  const problems: Problem[] = [];
  const byNs = new Map<string, string>();
  const byHost = new Map<string, string>();
  // kube-* and default are refused per environment (env-rules.ts reservedNamespaceProblem).
  const reserved = new Map<string, string>();
  if (settings) {
    reserved.set(settings.argocd.namespace, 'Argo CD');
    reserved.set(settings.operator.namespace, 'the MongoDB operator');
  }
  for (const name of Object.keys(envs).sort()) {
    const ns = envs[name]!.spec.namespace;
    const file = envSpecFile(name);
    const other = byNs.get(ns);
    if (other) problems.push({ file, path: '/namespace', message: `namespace "${ns}" is already used by environment ${other}`, fix: 'give every environment its own namespace' });
    else byNs.set(ns, name);
    const host = envs[name]!.spec.ingress?.host;
    const hostOwner = host ? byHost.get(host) : undefined;
    if (host && hostOwner) problems.push({ file, path: '/ingress/host', message: `host "${host}" is already served by environment ${hostOwner}`, fix: 'give every environment its own host name' });
    else if (host) byHost.set(host, name);
    const owner = reserved.get(ns);
    if (owner) problems.push({ file, path: '/namespace', message: `namespace "${ns}" belongs to ${owner}`, fix: `use a namespace of its own, e.g. ${name}` });
  }
  problems.push(...protectedEnvProblems(settings, envs, envSpecFile));
  return problems;
}

export async function readRepoInputs(root: string): Promise<RepoInputs> {
  const problems: Problem[] = [];
  let settings: RepoSettings | undefined;
  const settingsPath = join(root, SETTINGS_FILE);
  if (!existsSync(settingsPath)) {
    problems.push({ file: SETTINGS_FILE, message: 'is missing', fix: 'restore gitops.yaml (see docs/environments.md); it holds repoURL, image and pinned versions' });
  } else {
    const s = loadSettings(SETTINGS_FILE, readFileSync(settingsPath, 'utf8'));
    problems.push(...s.problems);
    settings = s.settings;
  }
  const envs: RepoInputs['envs'] = {};
  for (const name of listEnvNames(root)) {
    const specPath = join(root, envSpecFile(name));
    const dotenvPath = join(root, envDotenvFile(name));
    if (!existsSync(specPath)) {
      problems.push({ file: envSpecFile(name), message: 'is missing: every directory in overlays/ is an environment', fix: `run \`zx scripts/new-env.ts ${name} --force\`, or delete overlays/${name}` });
      continue;
    }
    if (!existsSync(dotenvPath)) {
      problems.push({ file: envDotenvFile(name), message: 'is missing', fix: 'create it (it may be empty) with the API settings of this environment' });
      continue;
    }
    const e = loadEnv(name, readFileSync(specPath, 'utf8'), readFileSync(dotenvPath));
    problems.push(...e.problems);
    if (e.spec) envs[name] = { spec: e.spec, dotenv: e.dotenv };
  }
  problems.push(...crossEnvProblems(settings, envs));
  if (problems.length > 0 || !settings) throw new InputError(problems);
  return { settings, envs };
}

/** Keys one environment's .env sets and another's lacks: warnings, never errors. */
export function dotenvWarnings(inputs: RepoInputs): Problem[] {
  const values: Record<string, Record<string, string>> = {};
  for (const [name, e] of Object.entries(inputs.envs)) values[name] = parseDotenv(envDotenvFile(name), e.dotenv).values;
  return keysMissingAcrossEnvs(values, envDotenvFile);
}
