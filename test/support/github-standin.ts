// A local stand-in for the few GitHub REST endpoints the toolkit calls (GitHub is not reachable from the
// tests). It holds pull requests in memory, answers in GitHub's documented shapes (REST API 2022-11-28:
// pulls, pulls/{n}/files, commits/{sha}, issues/{n}/labels), checks the Bearer token and records every
// request, so tests assert what the toolkit sent. It is not GitHub: no pagination beyond one page, no
// rate limits, no permissions model beyond one token.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInPull {
  number: number;
  labels: string[];
  draft?: boolean;
  /** full_name of the head repository; the stand-in's own repository when absent. */
  headRepo?: string;
  headSha: string;
  /** The head commit's committer date. */
  pushedAt: string;
  files: string[];
}

export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface GithubStandIn {
  url: string;
  token: string;
  requests: Recorded[];
  pulls: StandInPull[];
  close: () => Promise<void>;
}

export async function startGithubStandIn(opts: { owner?: string; repo?: string; pulls?: StandInPull[]; existingPromotionPr?: { number: number; html_url: string } } = {}): Promise<GithubStandIn> {
  const owner = opts.owner ?? 'example-org';
  const repo = opts.repo ?? 'gitops-users';
  const token = 'test-token';
  const requests: Recorded[] = [];
  const pulls = opts.pulls ?? [];
  const prefix = `/repos/${owner}/${repo}`;
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const body = data ? JSON.parse(data) : undefined;
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const send = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { message: 'Bad credentials' });
      const url = new URL(req.url!, 'http://x');
      const path = url.pathname;
      const pull = (n: string) => pulls.find((p) => p.number === Number(n));
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && path === `${prefix}/pulls`) {
        const head = url.searchParams.get('head');
        if (head) return send(200, opts.existingPromotionPr ? [opts.existingPromotionPr] : []);
        return send(200, pulls.map((p) => ({ number: p.number, draft: p.draft ?? false, labels: p.labels.map((name) => ({ name })), head: { sha: p.headSha, repo: { full_name: p.headRepo ?? `${owner}/${repo}` } } })));
      }
      if (req.method === 'POST' && path === `${prefix}/pulls`) return send(201, { number: 42, html_url: `https://github.com/${owner}/${repo}/pull/42` });
      if (req.method === 'PATCH' && (m = new RegExp(`^${prefix}/pulls/(\\d+)$`).exec(path))) return send(200, { number: Number(m[1]) });
      if (req.method === 'GET' && (m = new RegExp(`^${prefix}/pulls/(\\d+)/files$`).exec(path))) {
        const p = pull(m[1]!);
        return p ? send(200, p.files.map((filename) => ({ filename, status: 'modified' }))) : send(404, { message: 'Not Found' });
      }
      if (req.method === 'GET' && (m = new RegExp(`^${prefix}/commits/([0-9a-f]+)$`).exec(path))) {
        const p = pulls.find((x) => x.headSha === m![1]);
        return p ? send(200, { sha: p.headSha, commit: { committer: { date: p.pushedAt } } }) : send(404, { message: 'No commit found' });
      }
      if (req.method === 'POST' && (m = new RegExp(`^${prefix}/issues/(\\d+)/labels$`).exec(path))) {
        const p = pull(m[1]!);
        if (!p) return send(404, { message: 'Not Found' });
        for (const l of (body as { labels: string[] }).labels) if (!p.labels.includes(l)) p.labels.push(l);
        return send(200, p.labels.map((name) => ({ name })));
      }
      if (req.method === 'DELETE' && (m = new RegExp(`^${prefix}/issues/(\\d+)/labels/([^/]+)$`).exec(path))) {
        const p = pull(m[1]!);
        const name = decodeURIComponent(m[2]!);
        if (!p || !p.labels.includes(name)) return send(404, { message: 'Label does not exist' });
        p.labels = p.labels.filter((l) => l !== name);
        return send(200, p.labels.map((n) => ({ name: n })));
      }
      return send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, token, requests, pulls, close: () => new Promise<void>((r) => server.close(() => r())) };
}
