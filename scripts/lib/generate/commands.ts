// What generate, new-env and delete-env do, as functions over a repository root (the CLIs in scripts/
// only parse arguments and print). Each one reads and validates every input, computes the complete
// set of file changes, and only then writes them in one atomic transaction under the repository lock.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { configSpec } from '../../../apps/users-api/src/config.ts';
import { settleInterruptedRun, withRepoLock, writeFilesAtomically, type FileChanges } from '../core/atomic.ts';
import { isProtectedEnv, PROTECTED_POLICY, PROTECTED_SYNC } from '../inputs/rules.ts';
import { applicationName, deleteEnvSpecField, ENV_SCHEMA_COMMENT, parseYamlFile, setEnvSpecField } from '../inputs/schema.ts';
import { ConflictError, InputError, UsageError, type Problem } from '../core/errors.ts';
import { readInputFile, readInputText } from '../inputs/file.ts';
import { ARGOCD_APPS_DIR, envDir, envDotenvFile, envOwnedPaths, envSpecFile, GENERATED_PATHS, SETTINGS_FILE } from '../core/layout.ts';
import { compareQuantities, isQuantity, parseQuantity } from '../core/quantity.ts';
import { crossEnvProblems, dotenvWarnings, envArgument, listEnvNames, loadEnv, readRepoInputs, type RepoInputs } from '../inputs/index.ts';
import type { EnvSpec, RepoSettings } from '../inputs/spec.ts';
import { toYaml } from '../core/yaml.ts';
import { checkGenerated, describeDrift, generateRepo, plannedChanges, walkFiles, type Drift } from './index.ts';

/** The one root finder lives in the CLI shell (scripts/lib/core/cli.ts); re-exported for existing callers. */
export { findRepoRoot } from '../core/cli.ts';

export interface GenerateResult {
  changes: FileChanges;
  drift: Drift[];
  warnings: Problem[];
}

/**
 * For every command, before it reads the tree: finishes or discards a transaction a killed run left
 * (under the lock) and says so on stderr, e.g. "generate: recovered an interrupted run: 19 files completed".
 * True when it changed nothing and waited for no other writer: what was read of the tree before still holds.
 */
export async function settleRepository(root: string, command: string, err: (text: string) => void): Promise<boolean> {
  let waited = false;
  const note = await settleInterruptedRun(root, command, { onWait: (who) => { waited = true; err(`${command}: waiting for the repository lock (${who})`); } });
  if (note) err(`${command}: ${note}`);
  return !note && !waited;
}

/** Options of the writing commands: where to say that the lock is awaited or a run was recovered. */
export interface RunLog {
  err?: (text: string) => void;
}

function lockOptions(command: string, log: RunLog = {}) {
  return {
    onWait: (who: string) => log.err?.(`${command}: waiting for the repository lock (${who})`),
    onRecovered: (message: string) => log.err?.(`${command}: ${message}`),
  };
}

/**
 * generate: regenerates everything; with check, writes nothing and returns the drift. Inputs are read,
 * generated and written holding the lock, so a concurrent new-env or promote is never undone.
 */
export async function runGenerate(root: string, opts: { check: boolean } & RunLog): Promise<GenerateResult> {
  if (opts.check) {
    await settleRepository(root, 'generate --check', opts.err ?? (() => undefined));
    const inputs = await readRepoInputs(root);
    const files = generateRepo(inputs);
    return { changes: {}, drift: checkGenerated(root, files), warnings: dotenvWarnings(inputs) };
  }
  return withRepoLock(root, 'generate', async () => {
    const inputs = await readRepoInputs(root);
    const files = generateRepo(inputs);
    const changes = plannedChanges(root, files);
    writeFilesAtomically(root, changes, GENERATED_PATHS);
    return { changes, drift: [], warnings: dotenvWarnings(inputs) };
  }, lockOptions('generate', opts));
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

export interface NewEnvOptions extends RunLog {
  name: string;
  from?: string;
  namespace?: string;
  force?: boolean;
  /** With force: allow the reset to lower data-bearing settings (replica-set members, storage size). */
  allowShrink?: boolean;
}

export interface NewEnvResult {
  changes: FileChanges;
  applicationFile: string;
  namespace: string;
  warnings: Problem[];
  /** Things the user should know about what was (not) copied. */
  notes: string[];
  /** Whether the environment syncs automatically. */
  automated: boolean;
  /** With --force on an existing environment: the unified diff of its env.yaml and .env (what the reset changes). */
  reset?: string;
}

function originUrl(root: string): string | undefined {
  try {
    return execFileSync('git', ['remote', 'get-url', 'origin'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Data-bearing settings a reset would lower: replica-set members and storage size (the data lives there). */
export function shrinkingSettings(before: unknown, after: EnvSpec): string[] {
  const old = (before ?? {}) as { mongodb?: { members?: unknown; storage?: { size?: unknown } } };
  const out: string[] = [];
  const m0 = old.mongodb?.members;
  if (typeof m0 === 'number' && m0 > after.mongodb.members) out.push(`mongodb.members ${m0} → ${after.mongodb.members}`);
  const s0 = old.mongodb?.storage?.size;
  if (typeof s0 === 'string') {
    const a = parseQuantity(s0);
    const b = parseQuantity(after.mongodb.storage.size);
    if (isQuantity(a) && isQuantity(b) && compareQuantities(a, b) > 0) out.push(`mongodb.storage.size ${s0} → ${after.mongodb.storage.size}`);
  }
  return out;
}

function resetDiff(root: string, name: string, specText: string, dotenvText: string): string {
  return [
    [envSpecFile(name), specText],
    [envDotenvFile(name), dotenvText],
  ]
    .map(([rel, next]) => {
      const r = readInputFile(root, rel!);
      const before = r.kind === 'ok' ? r.text : '';
      return before === next ? '' : createTwoFilesPatch(`a/${rel}`, `b/${rel}`, before, next!, undefined, undefined, { context: 2 }).replace(/^=+\n/, '').replace(/^Index: .*\n/, '');
    })
    .join('');
}

/**
 * new-env: validates the name, then, holding the repository lock, reads every input, generates and
 * writes the environment and everything regenerated (so concurrent runs each see the others' files).
 * On an existing environment, --force is a reset: the result says what changes, and lowering
 * members or storage needs allowShrink.
 */
export async function runNewEnv(root: string, opts: NewEnvOptions): Promise<NewEnvResult> {
  const { name } = opts;
  envArgument(root, name, { mustExist: false });
  if (opts.from === name) throw new UsageError('--from must name another environment');
  if (opts.from !== undefined) envArgument(root, opts.from, { mustExist: false, option: '--from' });
  return withRepoLock(root, 'new-env', async () => {
    const exists = existsSync(join(root, envDir(name)));
    if (exists && !opts.force) {
      throw new ConflictError(`environment ${name} already exists (${envDir(name)}); nothing was written. Use --force to reset its env.yaml and .env, or choose another name`);
    }
    if (opts.from !== undefined) envArgument(root, opts.from, { mustExist: true, option: '--from' });
    const settingsFile = readInputFile(root, SETTINGS_FILE);
    if (settingsFile.kind === 'missing') {
      const origin = originUrl(root);
      throw new InputError({
        file: SETTINGS_FILE,
        message: 'is missing; it holds the repo URL Argo CD pulls, the image and the pinned versions',
        fix: origin ? `create it (see docs/environments.md) with repoURL: ${origin} (your git origin)` : 'create it (see docs/environments.md) and set repoURL to your repository URL',
      });
    }
    // Everything is read and validated before anything is written.
    const inputs = await readRepoInputs(root, { except: name });
    const settings = inputs.settings;
    const namespace = opts.namespace ?? name;
    let specText: string;
    let dotenvText: string;
    const notes: string[] = [];
    if (opts.from !== undefined) {
      const source = readInputText(root, envSpecFile(opts.from));
      specText = setEnvSpecField(source, ['namespace'], namespace);
      specText = specText.replace(`Environment ${opts.from}.`, `Environment ${name}.`);
      // Two environments cannot serve one host name: the copy starts without an ingress.
      const withoutIngress = deleteEnvSpecField(specText, ['ingress']);
      if (withoutIngress !== specText) {
        notes.push(`the ingress of ${opts.from} was not copied (one host per environment): add an \`ingress:\` with a host of its own to ${envSpecFile(name)} if ${name} needs one`);
        specText = withoutIngress;
      }
      dotenvText = readInputText(root, envDotenvFile(opts.from));
    } else {
      specText = defaultEnvYaml(name, namespace, settings);
      dotenvText = defaultDotenv(name);
    }
    if (isProtectedEnv(settings, name)) {
      // A protected environment starts with manual sync (inputs/rules.ts PROTECTED_SYNC); anything else is refused.
      specText = setEnvSpecField(specText, ['sync'], { ...PROTECTED_SYNC });
      notes.push(`${name} is protected (gitops.yaml protected): its sync is manual, with prune and selfHeal off`);
    }
    const fresh = loadEnv(name, specText, dotenvText);
    if (fresh.problems.length > 0 || !fresh.spec) throw new InputError(fresh.problems);
    inputs.envs[name] = { spec: fresh.spec, dotenv: fresh.dotenv };
    // The other environments were valid on their own, so any clash involves the new one.
    const cross = crossEnvProblems(settings, inputs.envs);
    if (cross.length > 0) throw new InputError(cross.map((p) => ({ ...p, fix: `${p.fix ?? ''} (for ${name}: pass --namespace <ns>)` })));

    let reset: string | undefined;
    if (exists) {
      reset = resetDiff(root, name, specText, dotenvText);
      const old = readInputFile(root, envSpecFile(name));
      const shrinking = old.kind === 'ok' ? shrinkingSettings(parseYamlFile(envSpecFile(name), old.text).data, fresh.spec) : [];
      if (shrinking.length > 0 && !opts.allowShrink) {
        throw new InputError(
          { file: envSpecFile(name), message: `resetting ${name} would lower data-bearing settings: ${shrinking.join(', ')} (fewer members or a smaller volume loses data or cannot be applied)`, fix: `keep the values (edit ${envSpecFile(name)} instead of resetting it), or pass --allow-shrink to reset anyway` },
          `refusing to reset environment ${name}; nothing was written. The reset would change:\n${reset}`,
        );
      }
    }

    const files = generateRepo(inputs);
    const changes: FileChanges = {
      ...plannedChanges(root, files),
      [envSpecFile(name)]: specText,
      [envDotenvFile(name)]: dotenvText,
    };
    writeFilesAtomically(root, changes, [...GENERATED_PATHS, ...envOwnedPaths(name)]);
    return {
      changes, applicationFile: `${ARGOCD_APPS_DIR}/${name}.yaml`, namespace, warnings: dotenvWarnings(inputs), notes,
      automated: fresh.spec.sync?.automated !== false, ...(reset !== undefined ? { reset } : {}),
    };
  }, lockOptions('new-env', opts));
}

export function newEnvNextSteps(name: string, r: NewEnvResult): string {
  const head = r.reset !== undefined
    ? [
        `reset environment ${name} (namespace ${r.namespace}) to ${r.reset === '' ? 'the same settings: env.yaml and .env are unchanged' : 'new settings'}: ${Object.keys(r.changes).length} files written`,
        ...(r.reset === '' ? [] : ['what the reset changed:', r.reset.trimEnd()]),
      ]
    : [`created environment ${name} (namespace ${r.namespace}): ${Object.keys(r.changes).length} files written`];
  return [
    ...head,
    ...r.notes.map((n) => `note: ${n}`),
    '',
    'next steps:',
    `  1. review overlays/${name}/env.yaml (replicas, tag, ingress, MongoDB) and overlays/${name}/.env; after editing run \`zx scripts/generate.ts\``,
    `  2. git add -A && git commit -m "${r.reset !== undefined ? 'Reset' : 'Add'} environment ${name}" && git push`,
    `  3. Argo CD's root application creates namespace ${r.namespace}, picks up ${r.applicationFile} and ${r.reset !== undefined ? 'syncs' : 'creates'} the Application ${applicationName(name)},`,
    `     whose sync generates the database password in the cluster, then creates the MongoDB replica set (wave 0) and the users API (wave 1)` +
      (r.automated === false ? '; this environment syncs manually: press Sync in Argo CD' : ''),
    '',
  ].join('\n');
}

/**
 * delete-env: validates the name (an existing environment), then, holding the lock, removes its overlay
 * and regenerates (its Application disappears; the root prunes it). Deletions are confined to
 * overlays/<name>/ and the generated files.
 */
export async function runDeleteEnv(root: string, name: string, log: RunLog = {}, opts: { deleteProtected?: boolean } = {}): Promise<{ changes: FileChanges; namespace?: string; protected: boolean }> {
  envArgument(root, name, { mustExist: true });
  return withRepoLock(root, 'delete-env', async () => {
    envArgument(root, name, { mustExist: true });
    const inputs = await readRepoInputs(root, { except: name });
    const guarded = isProtectedEnv(inputs.settings, name);
    if (guarded && opts.deleteProtected !== true) {
      throw new InputError({ file: SETTINGS_FILE, path: '/protected', message: `[${PROTECTED_POLICY}] environment ${name} is protected; nothing was deleted`, fix: `if ${name} really must go, run again with --delete-protected (its Application is then left in Argo CD: see docs/environments.md "Protected environments")` });
    }
    let namespace: string | undefined;
    const own = readInputFile(root, envSpecFile(name));
    if (own.kind === 'ok') {
      const ns = (parseYamlFile(envSpecFile(name), own.text).data as { namespace?: unknown } | undefined)?.namespace;
      if (typeof ns === 'string') namespace = ns;
    }
    const files = generateRepo(inputs);
    const changes: FileChanges = { ...plannedChanges(root, files) };
    const ownFiles: string[] = [];
    walkFiles(root, envDir(name), ownFiles);
    for (const rel of ownFiles) changes[rel] = null;
    writeFilesAtomically(root, changes, [...GENERATED_PATHS, ...envOwnedPaths(name)]);
    return { changes, namespace, protected: guarded };
  }, lockOptions('delete-env', log));
}

/**
 * Whether `root` holds the generator's inputs (gitops.yaml or any overlays/<env>/env.yaml). A plain
 * Kustomize tree without them is rendered and validated as it is; a tree with them is checked first.
 */
export function holdsGeneratorInputs(root: string): boolean {
  return existsSync(join(root, SETTINGS_FILE)) || listEnvNames(root).some((n) => existsSync(join(root, envSpecFile(n))));
}

/**
 * The checks generate runs, for the commands that read generated files (validate, render, diff):
 * every input read safely and validated exactly as generate does (an InputError, exit 2), then the
 * generated files compared with what those inputs produce. Stale files are returned, not thrown.
 */
export async function checkRepository(root: string): Promise<{ inputs: RepoInputs; files: Record<string, string>; drift: Drift[]; warnings: Problem[] }> {
  const inputs = await readRepoInputs(root);
  const files = generateRepo(inputs);
  return { inputs, files, drift: checkGenerated(root, files), warnings: dotenvWarnings(inputs) };
}

/** The message for stale generated files: which ones, and the fix. */
export function staleMessage(command: string, drift: Drift[]): string {
  return [
    `${command}: ${drift.length} generated file(s) do not match the inputs (env.yaml, .env, gitops.yaml); ${command} would read stale files:`,
    ...drift.map((d) => `  ${describeDrift(d)}`),
    'fix: run `zx scripts/generate.ts` and commit the result',
  ].join('\n');
}
