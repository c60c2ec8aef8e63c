// A local stand-in for the few GitHub REST endpoints the toolkit calls (GitHub is not reachable from the
// tests). It holds pull requests in memory, answers in GitHub's documented shapes (REST API 2022-11-28:
// pulls, pulls/{n}/files, commits/{sha}, issues/{n}/timeline, issues/{n}/labels), pages listings with
// per_page/page as GitHub does, checks the Bearer token and records every request, so tests assert what the
// toolkit sent. Labels added or removed through it append `labeled`/`unlabeled` events to the timeline, by
// the token's account (github-actions[bot], type Bot), as GitHub records a workflow token's changes.
// `answer` lets a test replace any answer with a hostile one (an HTML page, a JSON object, a bad field).
// It is not GitHub: no rate limits, no permissions model beyond one token.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A user as GitHub's timeline events carry it (simple-user); `type` is "User", "Bot" or "Organization". */
export interface StandInActor {
  login: string;
  type: 'User' | 'Bot' | 'Organization';
}

export const BOT: StandInActor = { login: 'github-actions[bot]', type: 'Bot' };

/** One timeline event: the kinds the toolkit reads, plus `committed` (which has no created_at on GitHub). */
export type StandInEvent =
  | { event: 'labeled' | 'unlabeled'; label: string; actor: StandInActor; createdAt: string }
  | { event: 'head_ref_force_pushed' | 'reopened' | 'ready_for_review'; actor: StandInActor; createdAt: string }
  | { event: 'committed'; sha: string; authorDate: string; committerDate: string; message: string };

export interface StandInPull {
  number: number;
  labels: string[];
  draft?: boolean;
  /** full_name of the head repository; the stand-in's own repository when absent; null: the fork was deleted. */
  headRepo?: string | null;
  headSha: string;
  /** The head commit's committer date (written by its author: the toolkit must never trust it). */
  pushedAt: string;
  /** When the pull request was opened (GitHub's created_at); pushedAt when absent. */
  createdAt?: string;
  files: string[];
  /** The issue timeline, oldest first; a `committed` event for the head commit is added when absent. */
  timeline?: StandInEvent[];
}

export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A replacement answer: status, raw body and content type. */
export interface RawAnswer {
  status: number;
  body: string;
  contentType?: string;
}

export interface GithubStandIn {
  url: string;
  token: string;
  requests: Recorded[];
  pulls: StandInPull[];
  /** Return an answer to replace the stand-in's own for that request, or undefined to let it answer. */
  answer: ((method: string, url: URL) => RawAnswer | undefined) | undefined;
  close: () => Promise<void>;
}

const user = (a: StandInActor, id: number) => ({
  login: a.login, id, node_id: `MDQ6VXNlcj${id}`, avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`, gravatar_id: '',
  url: `https://api.github.com/users/${encodeURIComponent(a.login)}`, html_url: `https://github.com/${encodeURIComponent(a.login)}`, type: a.type, site_admin: false,
});

/** A timeline event in the shape GitHub's "List timeline events for an issue" returns (issue-event / timeline-committed-event). */
function timelineItem(owner: string, repo: string, e: StandInEvent, i: number): Record<string, unknown> {
  const id = 6_430_295_000 + i;
  if (e.event === 'committed') {
    const person = (date: string) => ({ name: 'Someone', email: 'someone@example.com', date });
    return {
      sha: e.sha, node_id: `C_kwDO${i}`, url: `https://api.github.com/repos/${owner}/${repo}/git/commits/${e.sha}`, html_url: `https://github.com/${owner}/${repo}/commit/${e.sha}`,
      author: person(e.authorDate), committer: person(e.committerDate), tree: { sha: 'f'.repeat(40), url: `https://api.github.com/repos/${owner}/${repo}/git/trees/${'f'.repeat(40)}` },
      message: e.message, parents: [], verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null }, event: 'committed',
    };
  }
  return {
    id, node_id: `LE_kwDO${id}`, url: `https://api.github.com/repos/${owner}/${repo}/issues/events/${id}`, actor: user(e.actor, 1000 + i), event: e.event,
    commit_id: null, commit_url: null, created_at: e.createdAt, ...('label' in e ? { label: { name: e.label, color: 'ededed' } } : {}), performed_via_github_app: null,
  };
}

export async function startGithubStandIn(opts: { owner?: string; repo?: string; pulls?: StandInPull[]; existingPromotionPr?: { number: number; html_url: string } } = {}): Promise<GithubStandIn> {
  const owner = opts.owner ?? 'example-org';
  const repo = opts.repo ?? 'gitops-users';
  const token = 'test-token';
  const requests: Recorded[] = [];
  const pulls = opts.pulls ?? [];
  const prefix = `/repos/${owner}/${repo}`;
  const state: GithubStandIn = { url: '', token, requests, pulls, answer: undefined, close: async () => {} };
  const timelineOf = (p: StandInPull): StandInEvent[] => {
    p.timeline ??= [];
    if (!p.timeline.some((e) => e.event === 'committed' && e.sha === p.headSha)) p.timeline.push({ event: 'committed', sha: p.headSha, authorDate: p.pushedAt, committerDate: p.pushedAt, message: 'change' });
    return p.timeline;
  };
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const body = data ? JSON.parse(data) : undefined;
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const send = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(json));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { message: 'Bad credentials' });
      const url = new URL(req.url!, 'http://x');
      const replaced = state.answer?.(req.method!, url);
      if (replaced) {
        res.writeHead(replaced.status, { 'content-type': replaced.contentType ?? 'application/json; charset=utf-8' });
        return res.end(replaced.body);
      }
      // GitHub's pagination: per_page (default 30, max 100) and page (from 1).
      const paged = (items: unknown[]) => {
        const per = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
        const page = Number(url.searchParams.get('page') ?? 1);
        return items.slice((page - 1) * per, page * per);
      };
      const path = url.pathname;
      const pull = (n: string) => pulls.find((p) => String(p.number) === n);
      const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && path === `${prefix}/pulls`) {
        const head = url.searchParams.get('head');
        if (head) return send(200, opts.existingPromotionPr ? [opts.existingPromotionPr] : []);
        return send(200, paged(pulls.map((p) => ({
          number: p.number, state: 'open', draft: p.draft ?? false, created_at: p.createdAt ?? p.pushedAt, labels: p.labels.map((name) => ({ name, color: 'ededed' })),
          head: { sha: p.headSha, ref: `branch-${p.number}`, repo: p.headRepo === null ? null : { full_name: p.headRepo ?? `${owner}/${repo}` } },
        }))));
      }
      if (req.method === 'POST' && path === `${prefix}/pulls`) return send(201, { number: 42, html_url: `https://github.com/${owner}/${repo}/pull/42` });
      if (req.method === 'PATCH' && (m = new RegExp(`^${prefix}/pulls/(\\d+)$`).exec(path))) return send(200, { number: Number(m[1]) });
      if (req.method === 'GET' && (m = new RegExp(`^${prefix}/pulls/(\\d+)/files$`).exec(path))) {
        const p = pull(m[1]!);
        return p ? send(200, paged(p.files.map((filename) => ({ filename, status: 'modified' })))) : send(404, { message: 'Not Found' });
      }
      if (req.method === 'GET' && (m = new RegExp(`^${prefix}/commits/([0-9a-f]+)$`).exec(path))) {
        const p = pulls.find((x) => x.headSha === m![1]);
        return p ? send(200, { sha: p.headSha, commit: { committer: { date: p.pushedAt } } }) : send(404, { message: 'No commit found' });
      }
      if (req.method === 'GET' && (m = new RegExp(`^${prefix}/issues/(\\d+)/timeline$`).exec(path))) {
        const p = pull(m[1]!);
        return p ? send(200, paged(timelineOf(p).map((e, i) => timelineItem(owner, repo, e, i)))) : send(404, { message: 'Not Found' });
      }
      if (req.method === 'POST' && (m = new RegExp(`^${prefix}/issues/(\\d+)/labels$`).exec(path))) {
        const p = pull(m[1]!);
        if (!p) return send(404, { message: 'Not Found' });
        for (const l of (body as { labels: string[] }).labels) {
          if (p.labels.includes(l)) continue;
          p.labels.push(l);
          timelineOf(p).push({ event: 'labeled', label: l, actor: BOT, createdAt: now() });
        }
        return send(200, p.labels.map((name) => ({ name })));
      }
      if (req.method === 'DELETE' && (m = new RegExp(`^${prefix}/issues/(\\d+)/labels/([^/]+)$`).exec(path))) {
        const p = pull(m[1]!);
        const name = decodeURIComponent(m[2]!);
        if (!p || !p.labels.includes(name)) return send(404, { message: 'Label does not exist' });
        p.labels = p.labels.filter((l) => l !== name);
        timelineOf(p).push({ event: 'unlabeled', label: name, actor: BOT, createdAt: now() });
        return send(200, p.labels.map((n) => ({ name: n })));
      }
      return send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((r) => server.close(() => r()));
  return state;
}
