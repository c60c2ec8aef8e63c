// What generate, new-env and delete-env do, as functions over a repository root (the CLIs in scripts/
// only parse arguments and print). Each one reads and validates every input, computes the complete
// set of file changes, and only then writes them in one atomic transaction under the repository lock.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { configSpec } from '../../../apps/users-api/src/config.ts';
import { withRepoLock, writeFilesAtomically, type FileChanges } from '../atomic.ts';
import { applicationName, deleteEnvSpecField, ENV_SCHEMA_COMMENT, envNameProblems, setEnvSpecField } from '../envspec.ts';
import { ConflictError, InputError, UsageError, type Problem } from '../errors.ts';
import { ARGOCD_APPS_DIR, envDir, envDotenvFile, envSpecFile, SETTINGS_FILE } from '../layout.ts';
import { crossEnvProblems, dotenvWarnings, listEnvNames, loadEnv, loadSettings, readRepoInputs, RESERVED_ENV_NAMES, type RepoInputs } from '../repo-inputs.ts';
import type { RepoSettings } from '../spec.ts';
import { toYaml } from '../yaml.ts';
import { checkGenerated, generateRepo, plannedChanges, walkFiles, type Drift } from './index.ts';

/** The repository root: the nearest directory upwards holding gitops.yaml, else the git top level, else cwd. */
export function findRepoRoot(start: string = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, SETTINGS_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: start, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return resolve(start);
  }
}

export interface GenerateResult {
  changes: FileChanges;
  drift: Drift[];
  warnings: Problem[];
}

/** generate: regenerates everything; with check, writes nothing and returns the drift. */
export async function runGenerate(root: string, opts: { check: boolean }): Promise<GenerateResult> {
  const inputs = await readRepoInputs(root);
  const files = generateRepo(inputs);
  const warnings = dotenvWarnings(inputs);
  if (opts.check) return { changes: {}, drift: checkGenerated(root, files), warnings };
  return withRepoLock(root, 'generate', () => {
    const changes = plannedChanges(root, files);
    writeFilesAtomically(root, changes);
    return { changes, drift: [], warnings };
  });
}

/** The keys a new environment's .env starts with, at the API's defaults, each with its description. */
const NEW_ENV_KEYS = ['LOG_LEVEL', 'TRUST_PROXY', 'REQUEST_TIMEOUT_MS'] as const;

export function defaultDotenv(name: string): string {
  const lines = [
    `# Settings of the users API in environment ${name}: one KEY=value per line, no quotes, no spaces`,
    '# around "=", no inline comments (Kustomize keeps them literally). Keys: apps/users-api/src/config.ts.',
    '# Never put secrets here: this file is committed and becomes a ConfigMap.',
  ];
  for (const key of NEW_ENV_KEYS) {
    const spec = configSpec[key] as { default?: unknown; desc?: string };
    if (spec.desc) lines.push(`# ${spec.desc}`);
    lines.push(`${key}=${String(spec.default)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function defaultEnvYaml(name: string, namespace: string, settings: RepoSettings): string {
  const header = [
    ENV_SCHEMA_COMMENT,
    `# Environment ${name}. Hand-edited: change a field, run \`zx scripts/generate.ts\`, commit both.`,
    '',
  ].join('\n');
  return `${header}${toYaml({ namespace, ...settings.defaults })}`;
}

export interface NewEnvOptions {
  name: string;
  from?: string;
  namespace?: string;
  force?: boolean;
}

export interface NewEnvResult {
  changes: FileChanges;
  applicationFile: string;
  namespace: string;
  warnings: Problem[];
  /** Things the user should know about what was (not) copied. */
  notes: string[];
}

function originUrl(root: string): string | undefined {
  try {
    return execFileSync('git', ['remote', 'get-url', 'origin'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** new-env: validates the name and every input, then writes the environment and everything regenerated. */
export async function runNewEnv(root: string, opts: NewEnvOptions): Promise<NewEnvResult> {
  const { name } = opts;
  const problems: Problem[] = [...envNameProblems(name)];
  if (RESERVED_ENV_NAMES.includes(name)) problems.push({ message: `"${name}" is reserved`, fix: 'choose another environment name' });
  if (problems.length > 0) throw new InputError(problems);
  const exists = existsSync(join(root, envDir(name)));
  if (exists && !opts.force) {
    throw new ConflictError(`environment ${name} already exists (${envDir(name)}); nothing was written. Use --force to overwrite its env.yaml and .env, or choose another name`);
  }
  if (opts.from === name) throw new UsageError('--from must name another environment');
  if (opts.from !== undefined && !existsSync(join(root, envSpecFile(opts.from)))) {
    const known = listEnvNames(root).join(', ') || 'none';
    throw new InputError({ file: envSpecFile(opts.from), message: `environment ${opts.from} (--from) does not exist`, fix: `use one of: ${known}` });
  }
  if (!existsSync(join(root, SETTINGS_FILE))) {
    const origin = originUrl(root);
    throw new InputError({
      file: SETTINGS_FILE,
      message: 'is missing; it holds the repo URL Argo CD pulls, the image and the pinned versions',
      fix: origin ? `create it (see docs/environments.md) with repoURL: ${origin} (your git origin)` : 'create it (see docs/environments.md) and set repoURL to your repository URL',
    });
  }

  // Everything is read and validated before anything is written.
  const namespace = opts.namespace ?? name;
  const settingsResult = loadSettings(SETTINGS_FILE, readFileSync(join(root, SETTINGS_FILE), 'utf8'));
  if (!settingsResult.settings) throw new InputError(settingsResult.problems);
  const settings = settingsResult.settings;
  let specText: string;
  let dotenvText: string;
  const notes: string[] = [];
  if (opts.from !== undefined) {
    const source = readFileSync(join(root, envSpecFile(opts.from)), 'utf8');
    specText = setEnvSpecField(source, ['namespace'], namespace);
    specText = specText.replace(`Environment ${opts.from}.`, `Environment ${name}.`);
    // Two environments cannot serve one host name: the copy starts without an ingress.
    const withoutIngress = deleteEnvSpecField(specText, ['ingress']);
    if (withoutIngress !== specText) {
      notes.push(`the ingress of ${opts.from} was not copied (one host per environment): add an \`ingress:\` with a host of its own to ${envSpecFile(name)} if ${name} needs one`);
      specText = withoutIngress;
    }
    dotenvText = readFileSync(join(root, envDotenvFile(opts.from)), 'utf8');
  } else {
    specText = defaultEnvYaml(name, namespace, settings);
    dotenvText = defaultDotenv(name);
  }
  const inputs = readOtherEnvs(root, settings, name);
  const fresh = loadEnv(name, specText, dotenvText);
  if (fresh.problems.length > 0 || !fresh.spec) throw new InputError(fresh.problems);
  inputs.envs[name] = { spec: fresh.spec, dotenv: fresh.dotenv };
  // The other environments were valid on their own, so any clash involves the new one.
  const cross = crossEnvProblems(settings, inputs.envs);
  if (cross.length > 0) throw new InputError(cross.map((p) => ({ ...p, fix: `${p.fix ?? ''} (for ${name}: pass --namespace <ns>)` })));

  const files = generateRepo(inputs);
  return withRepoLock(root, 'new-env', () => {
    const changes: FileChanges = {
      ...plannedChanges(root, files),
      [envSpecFile(name)]: specText,
      [envDotenvFile(name)]: dotenvText,
    };
    writeFilesAtomically(root, changes);
    return { changes, applicationFile: `${ARGOCD_APPS_DIR}/${name}.yaml`, namespace, warnings: dotenvWarnings(inputs), notes };
  });
}

/** All environments but `except`, each validated; any problem anywhere stops the run. */
function readOtherEnvs(root: string, settings: RepoSettings, except: string): RepoInputs {
  const problems: Problem[] = [];
  const envs: RepoInputs['envs'] = {};
  for (const n of listEnvNames(root)) {
    if (n === except) continue;
    const specPath = join(root, envSpecFile(n));
    const dotenvPath = join(root, envDotenvFile(n));
    if (!existsSync(specPath) || !existsSync(dotenvPath)) {
      problems.push({ file: envDir(n), message: 'lacks env.yaml or .env', fix: `restore them, or delete the environment with \`zx scripts/delete-env.ts ${n} --yes\`` });
      continue;
    }
    const e = loadEnv(n, readFileSync(specPath, 'utf8'), readFileSync(dotenvPath));
    problems.push(...e.problems);
    if (e.spec) envs[n] = { spec: e.spec, dotenv: e.dotenv };
  }
  problems.push(...crossEnvProblems(settings, envs));
  if (problems.length > 0) throw new InputError(problems);
  return { settings, envs };
}

export function newEnvNextSteps(name: string, r: NewEnvResult, settings?: { sync?: boolean }): string {
  return [
    `created environment ${name} (namespace ${r.namespace}): ${Object.keys(r.changes).length} files written`,
    ...r.notes.map((n) => `note: ${n}`),
    '',
    'next steps:',
    `  1. review overlays/${name}/env.yaml (replicas, tag, ingress, MongoDB) and overlays/${name}/.env; after editing run \`zx scripts/generate.ts\``,
    `  2. git add -A && git commit -m "Add environment ${name}" && git push`,
    `  3. Argo CD's root application picks up ${r.applicationFile} and creates the Application ${applicationName(name)},`,
    `     which creates namespace ${r.namespace}, the MongoDB replica set (wave 0) and then the users API (wave 1)` +
      (settings?.sync === false ? '; this environment syncs manually: press Sync in Argo CD' : ''),
    '',
  ].join('\n');
}

/** delete-env: removes the overlay and regenerates (its Application disappears; the root prunes it). */
export async function runDeleteEnv(root: string, name: string): Promise<{ changes: FileChanges; namespace?: string }> {
  if (!existsSync(join(root, envDir(name)))) {
    const known = listEnvNames(root).join(', ') || 'none';
    throw new InputError({ file: envDir(name), message: `environment ${name} does not exist`, fix: `use one of: ${known}` });
  }
  const settingsResult = loadSettings(SETTINGS_FILE, existsSync(join(root, SETTINGS_FILE)) ? readFileSync(join(root, SETTINGS_FILE), 'utf8') : '');
  if (!settingsResult.settings) throw new InputError(settingsResult.problems);
  const inputs = readOtherEnvs(root, settingsResult.settings, name);
  let namespace: string | undefined;
  try {
    const e = loadEnv(name, readFileSync(join(root, envSpecFile(name)), 'utf8'), '');
    namespace = e.spec?.namespace;
  } catch {
    // an unreadable env.yaml of the environment being deleted does not matter
  }
  const files = generateRepo(inputs);
  return withRepoLock(root, 'delete-env', () => {
    const changes: FileChanges = { ...plannedChanges(root, files) };
    const own: string[] = [];
    walkFiles(root, envDir(name), own);
    for (const rel of own) changes[rel] = null;
    writeFilesAtomically(root, changes);
    return { changes, namespace };
  });
}
