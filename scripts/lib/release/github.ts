// The GitHub side of a promotion pull request: which repository the Argo CD repoURL names, and the three
// REST calls a promotion needs. Endpoints and fields as documented in GitHub's REST API
// (github/rest-api-description, api.github.com, version 2022-11-28):
//   POST  /repos/{owner}/{repo}/pulls                 create a pull request {title, head, base, body}
//   GET   /repos/{owner}/{repo}/pulls?head=o:b&state=open   find the open one of a branch
//   PATCH /repos/{owner}/{repo}/pulls/{pull_number}   update its title/body when the promotion is re-run
import { compiledSchema } from '../core/compiled-schema.ts';
import { UsageError } from '../core/errors.ts';

export { githubRepoOf, type GithubRepo } from '../inputs/refs-urls.ts';
import type { GithubRepo } from '../inputs/refs-urls.ts';

/** How the client reaches GitHub: injectable so tests can point it at a local server. */
export interface GithubApi {
  /** e.g. https://api.github.com (GITHUB_API_URL in Actions) */
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
}

export interface PullRequest {
  number: number;
  url: string;
  created: boolean;
}

// ---- One validated reader for every answer ---------------------------------------------------------------
// Nothing GitHub (or whatever answers at GITHUB_API_URL) returns is trusted: every answer is checked against
// a JSON Schema of the fields the toolkit reads (ajv; the shapes of GitHub's REST API 2022-11-28,
// github/rest-api-description), numbers and shas by strict pattern, dates as RFC 3339 instants. Paths are
// built from segments, each encodeURIComponent-ed, so no value can add a segment, a `..` or a query. A page
// that is not a JSON array, or the page bound reached, is an error naming the request: exit 2, nothing applied.

/** A pull request number: a positive JSON integer (a string "7" or "1/../x" is refused). */
const NUMBER = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;
/** A commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hexadecimal digits. */
export const SHA_PATTERN = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const SHA = { type: 'string', pattern: SHA_PATTERN.source } as const;
/** RFC 3339 / ISO 8601 as GitHub writes it (2026-12-01T12:00:00Z); also checked to be a real instant. */
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const DATE = { type: 'string', pattern: DATE_PATTERN.source } as const;
const NAME_STRING = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const LABEL = { type: 'object', required: ['name'], properties: { name: NAME_STRING } } as const;
const ACTOR = { type: ['object', 'null'], required: ['login'], properties: { login: NAME_STRING, type: { type: 'string' } } } as const;

const SCHEMAS = {
  pulls: {
    type: 'array',
    items: {
      type: 'object',
      required: ['number', 'head', 'created_at'],
      properties: {
        number: NUMBER,
        draft: { type: 'boolean' },
        created_at: DATE,
        labels: { type: 'array', items: LABEL },
        head: { type: 'object', required: ['sha', 'repo'], properties: { sha: SHA, repo: { type: ['object', 'null'], required: ['full_name'], properties: { full_name: NAME_STRING } } } },
      },
    },
  },
  files: { type: 'array', items: { type: 'object', required: ['filename'], properties: { filename: NAME_STRING, previous_filename: NAME_STRING } } },
  // Issue timeline (GET /repos/{o}/{r}/issues/{n}/timeline): events differ in shape; `event` names the kind.
  // The ones read here carry GitHub's own `created_at` and the `actor` who caused them; a `committed` event
  // carries only the commit's author/committer dates (set by whoever made the commit), never read as a time.
  timeline: {
    type: 'array',
    items: {
      type: 'object',
      required: ['event'],
      properties: { event: { type: 'string' }, created_at: DATE, actor: ACTOR, label: LABEL },
      if: { properties: { event: { enum: ['labeled', 'unlabeled', 'head_ref_force_pushed', 'reopened', 'ready_for_review'] } } },
      then: { required: ['created_at', 'actor'] },
    },
  },
  pulls_open: { type: 'array', items: { type: 'object', required: ['number', 'html_url'], properties: { number: NUMBER, html_url: { type: 'string', pattern: '^https://[\\x21-\\x7e]+$' } } } },
  pull: { type: 'object', required: ['number', 'html_url'], properties: { number: NUMBER, html_url: { type: 'string', pattern: '^https://[\\x21-\\x7e]+$' } } },
} as const;

type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
let compiled: Record<keyof typeof SCHEMAS, Validator> | undefined;
function validator(name: keyof typeof SCHEMAS): Validator {
  if (!compiled) {
    // Kept as code after the first compile (scripts/lib/core/compiled-schema.ts).
    compiled = Object.fromEntries(Object.entries(SCHEMAS).map(([k, v]) => [k, compiledSchema(`github-${k}`, v as object, { allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true })])) as unknown as Record<keyof typeof SCHEMAS, Validator>;
  }
  return compiled[name];
}

/** A pull request number as typed: plain decimal, no sign, exponent, prefix or leading zero ("1e1", "0x8", "08" are refused). */
export function parsePullNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > NUMBER.maximum) throw new UsageError(`${flag} must be a pull request number (a plain decimal like 42), not ${JSON.stringify(text)}`);
  return Number(text);
}

/** Builds `/seg/seg/…` with every segment encoded: `"1/../../admin"` stays one segment (`1%2F..%2F..%2Fadmin`). */
export function apiPath(...segments: Array<string | number>): string {
  return segments.map((s) => `/${encodeURIComponent(String(s))}`).join('');
}

const repoPath = (repo: GithubRepo, ...rest: Array<string | number>) => apiPath('repos', repo.owner, repo.repo, ...rest);

interface Answer {
  status: number;
  json: unknown;
  /** Set when the body was not JSON (an HTML error page, a proxy's text). */
  notJson?: string;
  contentType: string;
}

async function call(api: GithubApi, method: string, path: string, body?: unknown): Promise<Answer> {
  const f = api.fetch ?? fetch;
  let res: Response;
  try {
    res = await f(`${api.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${api.token}`,
        'x-github-api-version': '2022-11-28',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UsageError(`cannot reach GitHub at ${api.baseUrl} (${cause}); check the network or GITHUB_API_URL`);
  }
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  try {
    return { status: res.status, json: text ? JSON.parse(text) : undefined, contentType };
  } catch {
    return { status: res.status, json: undefined, notJson: text, contentType };
  }
}

/** The first 80 characters of a non-JSON body, on one line (printed terminal-safe by the CLI edge). */
const excerpt = (text: string) => JSON.stringify(text.replace(/\s+/g, ' ').trim().slice(0, 80));

/** Checks an answer against its schema; anything else is an error naming the request and what was wrong. */
function readAnswer<T>(source: string, r: Answer, schema: keyof typeof SCHEMAS): T {
  if (r.notJson !== undefined) throw new UsageError(`GitHub ${source}: the answer is not JSON (HTTP ${r.status}, ${r.contentType || 'no content-type'}): ${excerpt(r.notJson)}; check GITHUB_API_URL`);
  const check = validator(schema);
  if (!check(r.json)) {
    const e = check.errors?.[0];
    const found = r.json === undefined ? 'an empty answer' : Array.isArray(r.json) ? 'an array' : r.json === null ? 'null' : `a JSON ${typeof r.json}`;
    throw new UsageError(`GitHub ${source}: unexpected answer (${found}): ${e ? `${e.instancePath || '(the answer)'} ${e.message ?? 'is invalid'}` : 'invalid'}; ${source.startsWith('GET ') ? 'nothing was changed' : 'the request was made: check on GitHub what it did'}`);
  }
  return r.json as T;
}

function apiError(what: string, r: Answer): Error {
  const m = (r.json as { message?: unknown } | undefined)?.message;
  const message = typeof m === 'string' ? m.slice(0, 300) : r.notJson !== undefined ? excerpt(r.notJson) : '';
  const hint = r.status === 401 ? ' (the token is missing or invalid: set GITHUB_TOKEN)' : r.status === 403 || r.status === 404 ? ' (the token lacks pull-requests: write / contents: write on this repository, or the repository is wrong)' : '';
  return new UsageError(`GitHub refused to ${what}: HTTP ${r.status} ${message}${hint}`.trimEnd());
}

/** Opens a pull request from `head` into `base`, or updates the open one of that branch (same title and body). */
export async function openOrUpdatePullRequest(api: GithubApi, repo: GithubRepo, pr: { head: string; base: string; title: string; body: string }): Promise<PullRequest> {
  const prefix = repoPath(repo, 'pulls');
  const listing = `${prefix}?state=open&head=${encodeURIComponent(`${repo.owner}:${pr.head}`)}`;
  const existing = await call(api, 'GET', listing);
  if (existing.status !== 200) throw apiError('list pull requests', existing);
  const open = readAnswer<Array<{ number: number; html_url: string }>>(`GET ${listing}`, existing, 'pulls_open');
  if (open[0]) {
    const path = repoPath(repo, 'pulls', open[0].number);
    const r = await call(api, 'PATCH', path, { title: pr.title, body: pr.body });
    if (r.status !== 200) throw apiError(`update pull request #${open[0].number}`, r);
    return { number: open[0].number, url: open[0].html_url, created: false };
  }
  const r = await call(api, 'POST', prefix, pr);
  if (r.status !== 201) throw apiError('open a pull request', r);
  const j = readAnswer<{ number: number; html_url: string }>(`POST ${prefix}`, r, 'pull');
  return { number: j.number, url: j.html_url, created: true };
}

/** GitHub refuses pull request bodies over 65,536 characters; the diff is cut to fit, and says so. */
export const PR_BODY_LIMIT = 65_536;

// ---- Pull requests for previews (GitHub REST: GET /repos/{o}/{r}/pulls?state=open, GET …/pulls/{n}/files,
// GET …/issues/{n}/timeline, POST …/issues/{n}/labels, DELETE …/issues/{n}/labels/{name}); pages of 100.

/** At most this many pages of 100 are read per listing; a listing that fills them all is refused, not cut. */
export const MAX_PAGES = 30;

async function getAll<T>(api: GithubApi, path: string, what: string, schema: keyof typeof SCHEMAS): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const url = `${path}${path.includes('?') ? '&' : '?'}per_page=100&page=${page}`;
    const r = await call(api, 'GET', url);
    if (r.status !== 200) throw apiError(what, r);
    const items = readAnswer<T[]>(`GET ${url}`, r, schema);
    out.push(...items);
    if (items.length < 100) return out;
  }
  throw new UsageError(`GitHub GET ${path}: more than ${MAX_PAGES * 100} items (${MAX_PAGES} full pages); refusing to plan on a partial list`);
}

export interface PullSummary {
  number: number;
  labels: string[];
  draft: boolean;
  fromFork: boolean;
  headSha: string;
  /** When the pull request was opened (GitHub's created_at). */
  createdAt: string;
}

/** The open pull requests, each number once (a listing that repeats one, as pages shifting under a new pull request can, counts it once). */
export async function openPulls(api: GithubApi, repo: GithubRepo): Promise<PullSummary[]> {
  const full = `${repo.owner}/${repo.repo}`.toLowerCase();
  const items = await getAll<{ number: number; draft?: boolean; created_at: string; labels?: Array<{ name: string }>; head: { sha: string; repo: { full_name: string } | null } }>(
    api, `${repoPath(repo, 'pulls')}?state=open`, 'list pull requests', 'pulls',
  );
  const seen = new Map<number, PullSummary>();
  for (const p of items) {
    if (seen.has(p.number)) continue;
    seen.set(p.number, {
      number: p.number,
      labels: (p.labels ?? []).map((l) => l.name),
      draft: p.draft === true,
      // GitHub compares owner/repo case-insensitively; a deleted fork's head repo is null (still a fork).
      fromFork: p.head.repo?.full_name.toLowerCase() !== full,
      headSha: p.head.sha,
      createdAt: p.created_at,
    });
  }
  return [...seen.values()];
}

export async function pullFiles(api: GithubApi, repo: GithubRepo, n: number): Promise<string[]> {
  const items = await getAll<{ filename: string; previous_filename?: string }>(api, repoPath(repo, 'pulls', n, 'files'), `list the files of #${n}`, 'files');
  return items.flatMap((f) => (f.previous_filename ? [f.filename, f.previous_filename] : [f.filename]));
}

/** One timeline event as the planner reads it: kind, GitHub's time, who, and the label for (un)labeled. */
export interface TimelineEvent {
  event: string;
  createdAt?: string;
  actor?: { login: string; type?: string };
  label?: string;
}

/** GET /repos/{o}/{r}/issues/{n}/timeline (every pull request is an issue), all pages, validated. */
export async function pullTimeline(api: GithubApi, repo: GithubRepo, n: number): Promise<TimelineEvent[]> {
  const items = await getAll<{ event: string; created_at?: string; actor?: { login: string; type?: string } | null; label?: { name: string } }>(
    api, repoPath(repo, 'issues', n, 'timeline'), `read the timeline of #${n}`, 'timeline',
  );
  return items.map((e) => ({ event: e.event, ...(e.created_at ? { createdAt: e.created_at } : {}), ...(e.actor ? { actor: { login: e.actor.login, ...(e.actor.type ? { type: e.actor.type } : {}) } } : {}), ...(e.label ? { label: e.label.name } : {}) }));
}

export async function setLabel(api: GithubApi, repo: GithubRepo, n: number, label: string, on: boolean): Promise<void> {
  const base = repoPath(repo, 'issues', n, 'labels');
  const r = on ? await call(api, 'POST', base, { labels: [label] }) : await call(api, 'DELETE', `${base}${apiPath(label)}`);
  // Removing a label the pull request no longer has is not an error (404).
  if (r.status !== 200 && !(r.status === 404 && !on)) throw apiError(`${on ? 'add' : 'remove'} label ${label} on #${n}`, r);
}

/** The API client the environment configures (GitHub Actions sets GITHUB_API_URL and GITHUB_TOKEN); undefined without a token. */
export function githubApiFromEnv(env: NodeJS.ProcessEnv = process.env): GithubApi | undefined {
  const token = env.GITHUB_TOKEN || env.GH_TOKEN;
  return token ? { baseUrl: env.GITHUB_API_URL || 'https://api.github.com', token } : undefined;
}
