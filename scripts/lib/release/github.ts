// The GitHub side of a promotion pull request: which repository the Argo CD repoURL names, and the three
// REST calls a promotion needs. Endpoints and fields as documented in GitHub's REST API
// (github/rest-api-description, api.github.com, version 2022-11-28):
//   POST  /repos/{owner}/{repo}/pulls                 create a pull request {title, head, base, body}
//   GET   /repos/{owner}/{repo}/pulls?head=o:b&state=open   find the open one of a branch
//   PATCH /repos/{owner}/{repo}/pulls/{pull_number}   update its title/body when the promotion is re-run
import { UsageError } from '../errors.ts';

export interface GithubRepo {
  owner: string;
  repo: string;
}

const NAME = '[A-Za-z0-9_.-]+';
const FORMS = [
  new RegExp(`^https://github\\.com/(${NAME})/(${NAME}?)(?:\\.git)?/?$`),
  new RegExp(`^git@github\\.com:(${NAME})/(${NAME}?)(?:\\.git)?$`),
  new RegExp(`^ssh://git@github\\.com/(${NAME})/(${NAME}?)(?:\\.git)?$`),
];

/** owner/repo of a github.com repository URL (https, scp-like or ssh form); anything else is a usage error. */
export function githubRepoOf(repoURL: string): GithubRepo {
  for (const form of FORMS) {
    const m = form.exec(repoURL);
    if (m) return { owner: m[1]!, repo: m[2]!.replace(/\.git$/, '') };
  }
  throw new UsageError(`gitops.yaml repoURL ${JSON.stringify(repoURL)} is not a github.com repository: pull requests can only be opened on GitHub (promote with --commit and push instead)`);
}

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

async function call(api: GithubApi, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
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
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

function apiError(what: string, r: { status: number; json: unknown }): Error {
  const message = (r.json as { message?: string } | undefined)?.message ?? String(r.json ?? '');
  const hint = r.status === 401 ? ' (the token is missing or invalid: set GITHUB_TOKEN)' : r.status === 403 || r.status === 404 ? ' (the token lacks pull-requests: write / contents: write on this repository, or the repository is wrong)' : '';
  return new UsageError(`GitHub refused to ${what}: HTTP ${r.status} ${message}${hint}`);
}

/** Opens a pull request from `head` into `base`, or updates the open one of that branch (same title and body). */
export async function openOrUpdatePullRequest(api: GithubApi, repo: GithubRepo, pr: { head: string; base: string; title: string; body: string }): Promise<PullRequest> {
  const prefix = `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/pulls`;
  const existing = await call(api, 'GET', `${prefix}?state=open&head=${encodeURIComponent(`${repo.owner}:${pr.head}`)}`);
  if (existing.status !== 200) throw apiError('list pull requests', existing);
  const open = (existing.json as Array<{ number: number; html_url: string }>)[0];
  if (open) {
    const r = await call(api, 'PATCH', `${prefix}/${open.number}`, { title: pr.title, body: pr.body });
    if (r.status !== 200) throw apiError(`update pull request #${open.number}`, r);
    return { number: open.number, url: open.html_url, created: false };
  }
  const r = await call(api, 'POST', prefix, pr);
  if (r.status !== 201) throw apiError('open a pull request', r);
  const j = r.json as { number: number; html_url: string };
  return { number: j.number, url: j.html_url, created: true };
}

/** GitHub refuses pull request bodies over 65,536 characters; the diff is cut to fit, and says so. */
export const PR_BODY_LIMIT = 65_536;

// ---- Pull requests for previews (GitHub REST: GET /repos/{o}/{r}/pulls?state=open, GET …/pulls/{n}/files,
// GET …/commits/{sha}, POST …/issues/{n}/labels, DELETE …/issues/{n}/labels/{name}); pages of 100.

async function getAll(api: GithubApi, path: string, what: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let page = 1; page <= 30; page++) {
    const r = await call(api, 'GET', `${path}${path.includes('?') ? '&' : '?'}per_page=100&page=${page}`);
    if (r.status !== 200) throw apiError(what, r);
    const items = r.json as unknown[];
    out.push(...items);
    if (items.length < 100) break;
  }
  return out;
}

export interface PullSummary {
  number: number;
  labels: string[];
  draft: boolean;
  fromFork: boolean;
  headSha: string;
}

export async function openPulls(api: GithubApi, repo: GithubRepo): Promise<PullSummary[]> {
  const full = `${repo.owner}/${repo.repo}`;
  const items = (await getAll(api, `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/pulls?state=open`, 'list pull requests')) as Array<{
    number: number; draft?: boolean; labels?: Array<{ name: string }>; head: { sha: string; repo: { full_name: string } | null };
  }>;
  return items.map((p) => ({
    number: p.number,
    labels: (p.labels ?? []).map((l) => l.name),
    draft: p.draft === true,
    fromFork: p.head.repo?.full_name !== full,
    headSha: p.head.sha,
  }));
}

export async function pullFiles(api: GithubApi, repo: GithubRepo, n: number): Promise<string[]> {
  const items = (await getAll(api, `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/pulls/${n}/files`, `list the files of #${n}`)) as Array<{ filename: string; previous_filename?: string }>;
  return items.flatMap((f) => (f.previous_filename ? [f.filename, f.previous_filename] : [f.filename]));
}

export async function commitDate(api: GithubApi, repo: GithubRepo, sha: string): Promise<string> {
  const r = await call(api, 'GET', `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/commits/${sha}`);
  if (r.status !== 200) throw apiError(`read commit ${sha}`, r);
  return (r.json as { commit: { committer: { date: string } } }).commit.committer.date;
}

export async function setLabel(api: GithubApi, repo: GithubRepo, n: number, label: string, on: boolean): Promise<void> {
  const base = `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}/issues/${n}/labels`;
  const r = on ? await call(api, 'POST', base, { labels: [label] }) : await call(api, 'DELETE', `${base}/${encodeURIComponent(label)}`);
  // Removing a label the pull request no longer has is not an error (404).
  if (r.status !== 200 && !(r.status === 404 && !on)) throw apiError(`${on ? 'add' : 'remove'} label ${label} on #${n}`, r);
}

/** The API client the environment configures (GitHub Actions sets GITHUB_API_URL and GITHUB_TOKEN); undefined without a token. */
export function githubApiFromEnv(env: NodeJS.ProcessEnv = process.env): GithubApi | undefined {
  const token = env.GITHUB_TOKEN || env.GH_TOKEN;
  return token ? { baseUrl: env.GITHUB_API_URL || 'https://api.github.com', token } : undefined;
}
