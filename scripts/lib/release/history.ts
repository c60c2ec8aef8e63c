// The promotion history of an environment, read from git: every commit that changed the image tag in
// overlays/<env>/env.yaml, oldest to newest, with when, which tag, from where and by which commit. Git is
// the record (promote, the release workflow and hand edits all end as commits), so nothing else is kept.
import { parse } from 'yaml';
import { gitRaw } from '../git.ts';
import { envSpecFile } from '../layout.ts';

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
}

// The subject promote writes: "promote <from> → <to>: users-api <old> → <new>" (scripts/lib/promote).
const PROMOTE_SUBJECT = /^promote (\S+) → (\S+): users-api (\S+) → (\S+)/;

export function sourceOf(subject: string, env: string): string {
  const m = PROMOTE_SUBJECT.exec(subject);
  return m && m[2] === env ? m[1]! : 'edit';
}

function pinOf(text: string | undefined): { tag?: string; digest?: string } {
  if (text === undefined) return {};
  try {
    const doc = parse(text) as { tag?: unknown; digest?: unknown } | null;
    return { tag: typeof doc?.tag === 'string' ? doc.tag : undefined, digest: typeof doc?.digest === 'string' ? doc.digest : undefined };
  } catch {
    return {};
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
  const log = await gitRaw(root, ['log', '--reverse', '--format=%H%x00%cI%x00%an%x00%s', ref, '--', file]);
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
  const entries: HistoryEntry[] = [];
  let previous: string | undefined;
  let previousDigest: string | undefined;
  let seen = false;
  commits.forEach((c, i) => {
    const { tag, digest } = pinOf(texts[i]);
    if (seen && tag === previous && digest === previousDigest) return;
    entries.push({
      env, date: c.date, commit: c.commit.slice(0, 12), author: c.author, subject: c.subject, tag, previous: seen ? previous : undefined, source: seen ? sourceOf(c.subject, env) : 'created',
      ...(digest !== undefined ? { digest } : {}), ...(seen && previousDigest !== undefined ? { previousDigest } : {}),
    });
    previous = tag;
    previousDigest = digest;
    seen = true;
  });
  return entries;
}

/** Newest first, one line each: date, environment, tag change, source, commit, subject. */
export function formatHistory(entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return 'no history: no commit changed an environment\'s image tag\n';
  const rows = [...entries]
    .sort((a, b) => (a.date === b.date ? 0 : a.date < b.date ? 1 : -1))
    .map((e) => [e.date.replace('T', ' ').replace(/(\+00:00|Z)$/, 'Z'), e.env, `${pinLabel(e.previous, e.previousDigest, '∅')} → ${pinLabel(e.tag, e.digest, '(deleted)')}`, e.source, e.commit.slice(0, 7), e.subject]);
  const head = ['WHEN', 'ENV', 'TAG', 'FROM', 'COMMIT', 'SUBJECT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('  ');
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
