// secrets/ owns finding secrets and making passwords: the one detector (detect.ts, rules.ts, run in a
// worker by sync.ts), the repository scan (here) and the password Job's program (password-job.ts), which
// the generated Jobs run in the cluster. It sits just above core, so inputs and review can both use it.
//
// The repository's secret scan, over the one detector in this folder (detect.ts) (secretlint's recommended
// preset plus this repository's rules). Three callers, one detector:
// - `scan-secrets` scans every file git tracks or would add (collectRepositoryFiles + detectInFiles);
// - the `.env` check that `generate`, `validate` and `promote` run (secretProblemsInText, synchronous);
// - `validate`'s no-secrets-in-git policy on rendered values (looksLikeSecret, synchronous).
// A finding names file, line and rule; the value itself is never returned or printed.
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Problem } from '../core/errors.ts';
import { gitChecked, gitRaw } from '../core/git.ts';
import type { ByteSource, SecretFinding } from './detect.ts';
import { SETTING_VALUES_PATH } from './rules.ts';
import { detectInTextsSync } from './sync.ts';

export { compareFindings, decodeForScan, detectInFiles, detectInText, detectInTexts } from './detect.ts';
export type { ByteSource, SecretFinding, TextSource } from './detect.ts';
export { detectInTextsSync } from './sync.ts';

/**
 * secretlint's own directive (rule @secretlint/secretlint-rule-filter-comments of the preset): a line
 * carrying it is not reported. For documentation that shows a fake value on purpose.
 */
export const ALLOW_DIRECTIVE = 'secretlint-disable-line';

export function findingToProblem(f: SecretFinding): Problem {
  if (f.rule === 'unscannable') {
    return {
      file: `${f.file}:${f.line}`,
      message: `unscannable: ${f.message}`,
      fix: 'store it as text (UTF-8) or out of git; a file the scan cannot read could hide anything',
    };
  }
  return {
    file: `${f.file}:${f.line}`,
    message: `${f.rule}: ${f.message} (value not shown)`,
    fix: 'remove it from the file and from git history, rotate it, and reference it from a Secret created on the cluster; ' +
      `if it is a documented fake, add "${ALLOW_DIRECTIVE}" on that line`,
  };
}

/**
 * The detector's findings in one text as problems (`line N`), synchronously: what the `.env` check
 * reports for a value that looks like a secret.
 */
export function secretProblemsInText(file: string, text: string): Problem[] {
  return detectInTextsSync([{ path: file, text }]).map((f) => ({
    file,
    path: `line ${f.line}`,
    message: f.rule === 'unscannable' ? f.message : `holds what looks like a secret (${f.rule}: ${f.message}); the value is not shown`,
    fix: 'remove the value; secrets never go in git: create a Kubernetes Secret on the cluster and reference it',
  }));
}

/** Whether one value (a rendered ConfigMap entry, an env literal) contains anything the detector finds. */
export function looksLikeSecret(value: string): boolean {
  return secretIn(value) !== undefined;
}

/**
 * secretIn for many one-line values at once (a .env file's), in one detector run: the values are
 * scanned as the lines of one text, so the cost does not grow with a call per value.
 */
export function secretsIn(values: readonly string[]): (string | undefined)[] {
  if (values.some((v) => /[\r\n\u2028\u2029]/.test(v))) return values.map(secretIn);
  const out: (string | undefined)[] = values.map(() => undefined);
  if (values.length === 0) return out;
  for (const f of detectInTextsSync([{ path: SETTING_VALUES_PATH, text: values.join('\n') }])) {
    const i = f.line - 1;
    if (i < out.length && out[i] === undefined) out[i] = `${f.rule}: ${f.message}`;
  }
  return out;
}

/** What the detector finds in one value (`github: found GitHub Token`), or undefined; never the value. */
export function secretIn(value: string): string | undefined {
  const f = detectInTextsSync([{ path: SETTING_VALUES_PATH, text: value }])[0];
  return f ? `${f.rule}: ${f.message}` : undefined;
}

// ---------------------------------------------------------------------------------------------------
// The files to scan: every tracked file (node_modules or lockfile included: git tracks it, so it is
// pushed), plus untracked files git would add; a staged change that differs from the work tree too.

export interface CollectedFiles {
  files: ByteSource[];
  /** Tracked entries that have no content here (submodules): reported, never skipped silently. */
  unscannable: SecretFinding[];
}

function gitBlobSha(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** Reads blobs by id with one `git cat-file --batch`. */
async function readBlobs(root: string, shas: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  if (shas.length === 0) return out;
  const raw = await gitChecked(root, ['cat-file', '--batch'], `${shas.join('\n')}\n`, 1024 * 1024 * 1024);
  let at = 0;
  while (at < raw.length) {
    const eol = raw.indexOf(10, at);
    const [sha, type, size] = raw.subarray(at, eol).toString('utf8').split(' ');
    if (type !== 'blob' || sha === undefined) {
      at = eol + 1;
      continue;
    }
    const n = Number(size);
    out.set(sha, raw.subarray(eol + 1, eol + 1 + n));
    at = eol + 1 + n + 1;
  }
  return out;
}

/** Work-tree bytes of a path without following a symlink: a link's own content is its target. */
function worktreeBytes(root: string, path: string): Buffer | undefined {
  try {
    const st = lstatSync(join(root, path));
    if (st.isSymbolicLink()) return Buffer.from(readlinkSync(join(root, path)));
    return st.isFile() ? readFileSync(join(root, path)) : undefined;
  } catch {
    return undefined;
  }
}

export async function collectRepositoryFiles(root: string, pathspecs: readonly string[] = []): Promise<CollectedFiles> {
  const staged = (await gitChecked(root, ['ls-files', '-z', '--stage', '--', ...pathspecs])).toString('utf8').split('\0').filter((l) => l !== '');
  const others = (await gitChecked(root, ['ls-files', '-z', '--others', '--exclude-standard', '--', ...pathspecs])).toString('utf8').split('\0').filter((l) => l !== '');
  // Paths whose index version differs from HEAD (all of them before the first commit): a staged
  // version that is not in the work tree any more is still what the next commit will hold.
  const head = await gitRaw(root, ['rev-parse', '--verify', '-q', 'HEAD']);
  const stagedPaths = head.code === 0
    ? new Set((await gitChecked(root, ['diff', '--cached', '--name-only', '--no-renames', '-z', '--', ...pathspecs])).toString('utf8').split('\0').filter((p) => p !== ''))
    : undefined;
  const files: ByteSource[] = [];
  const unscannable: SecretFinding[] = [];
  const needBlob: { path: string; sha: string; label: string }[] = [];
  const seen = new Set<string>();
  for (const entry of staged) {
    // "<mode> <sha> <stage>\t<path>"
    const tab = entry.indexOf('\t');
    const [mode, sha] = entry.slice(0, tab).split(' ');
    const path = entry.slice(tab + 1);
    if (sha === undefined) continue;
    if (mode === '160000') {
      unscannable.push({ file: path, line: 1, rule: 'unscannable', message: 'a submodule: its files are in another repository and are not scanned here' });
      continue;
    }
    const key = `${path}\0${sha}`;
    if (seen.has(key)) continue; // one entry per conflict stage is enough when they agree
    seen.add(key);
    const bytes = worktreeBytes(root, path);
    if (bytes === undefined) {
      needBlob.push({ path, sha, label: path });
      continue;
    }
    files.push({ path, bytes });
    if ((stagedPaths === undefined || stagedPaths.has(path)) && gitBlobSha(bytes) !== sha) needBlob.push({ path, sha, label: `${path} (staged)` });
  }
  for (const path of others) {
    const bytes = worktreeBytes(root, path);
    if (bytes !== undefined) files.push({ path, bytes });
    else unscannable.push({ file: path, line: 1, rule: 'unscannable', message: 'cannot be read (permissions, or not a regular file)' });
  }
  const blobs = await readBlobs(root, needBlob.map((b) => b.sha));
  for (const b of needBlob) {
    const bytes = blobs.get(b.sha);
    if (bytes) files.push({ path: b.label, bytes });
    else unscannable.push({ file: b.label, line: 1, rule: 'unscannable', message: 'its staged content cannot be read from git' });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, unscannable };
}
