// The promotion history of an environment, read from git: every commit that changed the image tag in
// overlays/<env>/env.yaml, oldest to newest, with when, which tag, from where and by which commit. Git is
// the record (promote, the release workflow and hand edits all end as commits), so nothing else is kept.
import { parse } from 'yaml';
import { gitRaw } from '../core/git.ts';
import { envSpecFile, OVERLAYS_DIR } from '../core/layout.ts';
import { termSafe } from '../core/term.ts';

export interface HistoryEntry {
  env: string;
  /** Committer date, ISO 8601 (git's %cI). */
  date: string;
  commit: string;
  author: string;
  subject: string;
  /** The tag the environment runs from this commit on; undefined when env.yaml was deleted. */
  tag: string | undefined;
  previous: string | undefined;
  /** The image digest env.yaml pins beside the tag (sha256:<64 hex>), when it has one; and the one before. */
  digest?: string;
  previousDigest?: string;
  /** Where the tag came from: another environment, "release" (a build of main or a tag), or "edit". */
  source: string;
  /** Why this commit's env.yaml could not be read (it does not parse, or has no tag); tag is then undefined. */
  problem?: string;
  /** The commit before this one had an unreadable env.yaml (previous is the last tag read before it). */
  previousProblem?: boolean;
  /** Position in git's topological order of the commits that change any env.yaml (0 = oldest): the listing order. */
  seq: number;
}

// The subject promote writes: "promote <from> → <to>: users-api <old> → <new>" (scripts/lib/release/promote.ts).
const PROMOTE_SUBJECT = /^promote (\S+) → (\S+): users-api (\S+) → (\S+)/;

export function sourceOf(subject: string, env: string): string {
  const m = PROMOTE_SUBJECT.exec(subject);
  return m && m[2] === env ? m[1]! : 'edit';
}

/** The tag (and digest) of one commit's env.yaml, or why it cannot be read (a parse error is that commit's, not a deletion). */
function readTag(text: string): { tag: string; digest?: string } | { problem: string } {
  try {
    const doc = parse(text) as { tag?: unknown; digest?: unknown } | null;
    if (typeof doc?.tag !== 'string') return { problem: 'env.yaml has no tag' };
    return typeof doc.digest === 'string' ? { tag: doc.tag, digest: doc.digest } : { tag: doc.tag };
  } catch (error) {
    return { problem: `env.yaml does not parse: ${(error as Error).message.split('\n')[0]}` };
  }
}

/** "0.2.0" or, pinned by digest, "0.2.0@sha256:<first 12 hex>…" (the review summary's short form). */
export function pinLabel(tag: string | undefined, digest: string | undefined, deleted: string): string {
  if (tag === undefined) return deleted;
  return digest === undefined ? tag : `${tag}@${digest.slice(0, 19)}…`;
}

/** Splits `git cat-file --batch` output into the blobs asked for, undefined for a "missing" object. */
export function parseCatFileBatch(out: Buffer, count: number): Array<string | undefined> {
  const blobs: Array<string | undefined> = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const nl = out.indexOf(10, at);
    if (nl === -1) break;
    const header = out.subarray(at, nl).toString('utf8');
    at = nl + 1;
    if (header.endsWith(' missing')) {
      blobs.push(undefined);
      continue;
    }
    const size = Number(header.split(' ')[2]);
    blobs.push(out.subarray(at, at + size).toString('utf8'));
    at += size + 1; // the object, then a newline
  }
  return blobs;
}

export async function tagHistory(root: string, env: string, ref = 'HEAD'): Promise<HistoryEntry[]> {
  const file = envSpecFile(env);
  // --topo-order: commits made within the same second keep git's order (parents before children).
  const log = await gitRaw(root, ['log', '--topo-order', '--reverse', '--format=%H%x00%cI%x00%an%x00%s', ref, '--', file]);
  if (log.code !== 0) throw new Error(`git log failed: ${log.stderr.trim()}`);
  const commits = log.stdout
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [commit = '', date = '', author = '', subject = ''] = line.split('\0');
      return { commit, date, author, subject };
    });
  if (commits.length === 0) return [];
  const batch = await gitRaw(root, ['cat-file', '--batch'], commits.map((c) => `${c.commit}:${file}\n`).join(''));
  if (batch.code !== 0) throw new Error(`git cat-file failed: ${batch.stderr.trim()}`);
  const texts = parseCatFileBatch(batch.stdout, commits.length);
  // One numbering for every environment: the topological order of all commits that change an env.yaml.
  const order = await gitRaw(root, ['rev-list', '--topo-order', '--reverse', ref, '--', `:(glob)${OVERLAYS_DIR}/*/env.yaml`]);
  if (order.code !== 0) throw new Error(`git rev-list failed: ${order.stderr.trim()}`);
  const seqOf = new Map(order.stdout.toString('utf8').split('\n').filter(Boolean).map((sha, i) => [sha, i] as const));
  const entries: HistoryEntry[] = [];
  let previous: string | undefined;
  let previousDigest: string | undefined;
  let previousState: 'tag' | 'deleted' | 'invalid' | undefined;
  commits.forEach((c, i) => {
    const text = texts[i];
    const read = text === undefined ? undefined : readTag(text);
    const state = read === undefined ? 'deleted' : 'tag' in read ? 'tag' : 'invalid';
    const tag = read && 'tag' in read ? read.tag : undefined;
    const digest = read && 'tag' in read ? read.digest : undefined;
    const problem = read && 'problem' in read ? read.problem : undefined;
    if (previousState !== undefined && state === previousState && (state !== 'tag' || (tag === previous && digest === previousDigest))) return;
    entries.push({
      env, date: c.date, commit: c.commit.slice(0, 12), author: c.author, subject: c.subject, tag,
      previous: previousState === undefined ? undefined : previous,
      source: previousState === undefined ? 'created' : sourceOf(c.subject, env),
      ...(digest !== undefined ? { digest } : {}), ...(previousState !== undefined && previousDigest !== undefined ? { previousDigest } : {}),
      ...(problem ? { problem } : {}), ...(previousState === 'invalid' ? { previousProblem: true } : {}),
      seq: seqOf.get(c.commit) ?? -1,
    });
    // The last tag read stays "previous" across an unreadable commit; a deletion clears it.
    if (state === 'tag') { previous = tag; previousDigest = digest; }
    if (state === 'deleted') { previous = undefined; previousDigest = undefined; }
    previousState = state;
  });
  return entries;
}

/**
 * Newest first in git's topological order (never by timestamp: commits of the same second, or with a
 * skewed clock, stay in the order git made them), one line each: date, environment, tag change, source,
 * commit, subject. Text from commits (subject, tag) is printed terminal-safe (scripts/lib/core/term.ts).
 */
export function formatHistory(entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return 'no history: no commit changed an environment\'s image tag\n';
  const rows = [...entries]
    .sort((a, b) => b.seq - a.seq || a.env.localeCompare(b.env))
    .map((e) => [
      e.date.replace('T', ' ').replace(/(\+00:00|Z)$/, 'Z'), e.env,
      termSafe(`${e.previousProblem ? '(unreadable)' : pinLabel(e.previous, e.previousDigest, '∅')} → ${e.problem ? `(unreadable: ${e.problem})` : pinLabel(e.tag, e.digest, '(deleted)')}`),
      e.source, e.commit.slice(0, 7), termSafe(e.subject),
    ]);
  const head = ['WHEN', 'ENV', 'TAG', 'FROM', 'COMMIT', 'SUBJECT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('  ');
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
