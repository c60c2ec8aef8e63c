// One way to turn a one-field change of overlays/<env>/env.yaml into a reviewed git change: validate
// the edited text exactly as generate would, then under the repository lock regenerate, write
// atomically (only the generated paths and that env.yaml), render the environment before and after
// and return the rendered diff, and with `commit` record exactly those files with the diff in the
// message. Used by promote (scripts/lib/release/promote.ts) and rotate-db-password (scripts/lib/release/rotate.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { withRepoLock, writeFilesAtomically } from '../core/atomic.ts';
import type { FileChanges } from '../core/atomic.ts';
import { deleteEnvSpecField, setEnvSpecField } from '../inputs/schema.ts';
import { ConflictError, InputError } from '../core/errors.ts';
import { envDir, envSpecFile, GENERATED_PATHS } from '../core/layout.ts';
import { readInputText } from '../inputs/file.ts';
import { generateRepo, plannedChanges } from '../generate/index.ts';
import { loadEnv, readRepoInputs } from '../inputs/index.ts';
import type { RepoInputs } from '../inputs/index.ts';
import type { KustomizeTool } from '../render/kustomize.ts';
import { diffEnvironment } from '../review/diff/diffRenders.ts';
import { formatText } from '../review/diff/format.ts';
import { normalizeRender } from '../render/normalize.ts';
import { git } from '../review/diff/git.ts';

export interface EnvEdit {
  root: string;
  /** The lock holder's name in messages (the command). */
  command: string;
  inputs: RepoInputs;
  env: string;
  /** The env.yaml field to set, e.g. ['tag'] or ['mongodb', 'passwordRotation']. */
  path: string[];
  value: unknown;
  /** More fields changed in the same edit (e.g. digest beside tag): undefined deletes the field; `after` places a new one. */
  also?: Array<{ path: string[]; value: unknown; after?: string }>;
  /** How the two renders are labelled in the diff header, e.g. "staging at rotation 0". */
  labels: { before: string; after: string };
  commit?: { subject: string };
  kustomize?: KustomizeTool;
}

export interface EnvEditResult {
  files: string[];
  /** 'rendered': kustomize output of overlays/<env> before/after; 'files': unified diff of the changed files. */
  diffSource: 'rendered' | 'files';
  diff: string;
  commit?: string;
}

function filesDiff(root: string, changes: FileChanges): string {
  return Object.keys(changes)
    .sort()
    .map((rel) => {
      const abs = join(root, rel);
      const before = existsSync(abs) ? readFileSync(abs, 'utf8') : '';
      return createTwoFilesPatch(`a/${rel}`, `b/${rel}`, before, changes[rel] ?? '', undefined, undefined, { context: 3 }).replace(/^=+\n/, '');
    })
    .join('');
}

async function gitOut(root: string, args: string[]): Promise<string> {
  const r = await git(root, args);
  if (r.code !== 0) throw new ConflictError(`git ${args[0]} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function applyEnvEdit(edit: EnvEdit): Promise<EnvEditResult> {
  const { root, env, inputs } = edit;
  const target = inputs.envs[env]!;
  const specFile = envSpecFile(env);
  // Validate the edited env.yaml exactly as generate would, before anything is written.
  let newSpecText = setEnvSpecField(target.specText ?? readInputText(root, specFile), edit.path, edit.value);
  for (const f of edit.also ?? []) newSpecText = f.value === undefined ? deleteEnvSpecField(newSpecText, f.path) : setEnvSpecField(newSpecText, f.path, f.value, f.after);
  const checked = loadEnv(env, newSpecText, target.dotenv);
  if (checked.problems.length > 0 || !checked.spec) throw new InputError(checked.problems);

  if (edit.commit) {
    const dirty = (await gitOut(root, ['status', '--porcelain', '--', envDir(env)])).trim();
    if (dirty) throw new ConflictError(`${envDir(env)} has uncommitted changes; commit or discard them first, so the ${edit.command} commit holds only this change\n${dirty}`);
  }

  return withRepoLock(root, edit.command, async () => {
    // Read the inputs again under the lock: what a run that finished meanwhile wrote (new-env, generate)
    // is kept rather than undone; an env.yaml edited meanwhile is not overwritten.
    const current = await readRepoInputs(root);
    if (current.envs[env]?.specText !== (target.specText ?? current.envs[env]?.specText)) {
      throw new ConflictError(`${specFile} changed while ${edit.command} was running; nothing was written. Run ${edit.command} again`);
    }
    const files = generateRepo({ ...current, envs: { ...current.envs, [env]: { spec: checked.spec!, dotenv: target.dotenv, specText: newSpecText } } });
    const changes: FileChanges = { ...plannedChanges(root, files), [specFile]: newSpecText };
    const paths = Object.keys(changes).sort();

    let diffSource: EnvEditResult['diffSource'] = 'files';
    let diff = '';
    let before: string | undefined;
    if (edit.kustomize) before = await edit.kustomize.build(root, envDir(env));
    else diff = filesDiff(root, changes);
    writeFilesAtomically(root, changes, [...GENERATED_PATHS, specFile]);
    if (edit.kustomize && before !== undefined) {
      const after = await edit.kustomize.build(root, envDir(env));
      const envDiff = diffEnvironment(env, normalizeRender(before), normalizeRender(after));
      diff = formatText({ base: edit.labels.before, head: edit.labels.after, reached: [env], envs: envDiff ? [envDiff] : [] });
      diffSource = 'rendered';
    }
    let commit: string | undefined;
    if (edit.commit) {
      const message = `${edit.commit.subject}\n\n${diffSource === 'rendered' ? 'Rendered diff' : 'Diff of the changed files'}:\n\n${diff}`;
      await gitOut(root, ['add', '-A', '--', ...paths]);
      await gitOut(root, ['commit', '--quiet', '--cleanup=verbatim', '-m', message, '--', ...paths]);
      commit = (await gitOut(root, ['rev-parse', 'HEAD'])).trim();
    }
    return { files: paths, diffSource, diff, commit };
  });
}
