// A stand-in OCI registry on 127.0.0.1: answers `HEAD|GET /v2/<name>/manifests/<tag>` as the distribution
// spec describes (opencontainers/distribution-spec@v1.1.1:spec.md, "Pulling manifests"): 200 with the
// manifest's media type and `Docker-Content-Digest`, 404 for an unknown tag; optionally behind the
// Bearer token challenge GHCR uses (401 + `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, then a
// `/token` endpoint answering {"token": …}). Tags can be re-pointed while a test runs, and every request
// is recorded with its Accept and Authorization headers.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RegistryStandIn {
  /** e.g. 127.0.0.1:41234 — an image reference is `${host}/example-org/users-api`. */
  host: string;
  /** Points a tag at a manifest body; returns its digest. */
  push(name: string, tag: string, body: string): string;
  requests: Array<{ method: string; url: string; accept?: string; authorization?: string }>;
  /** Called on every manifest request before it is answered (a test can re-point a tag from here). */
  onManifest?: (n: number) => void;
  close(): Promise<void>;
}

export const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';

export async function startRegistryStandIn(opts: { bearer?: boolean; omitDigestHeader?: boolean } = {}): Promise<RegistryStandIn> {
  const tags = new Map<string, string>();
  const requests: RegistryStandIn['requests'] = [];
  let manifestCalls = 0;
  let host = '';
  const self: RegistryStandIn = {
    host: '',
    requests,
    push(name, tag, body) {
      tags.set(`${name}:${tag}`, body);
      return `sha256:${createHash('sha256').update(body).digest('hex')}`;
    },
    close: () => new Promise((done) => server.close(() => done())),
  };
  const server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, accept: req.headers.accept, authorization: req.headers.authorization });
    const url = new URL(req.url!, `http://${host}`);
    if (url.pathname === '/token') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ token: 'stand-in-token', scope: url.searchParams.get('scope') }));
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!m || (req.method !== 'HEAD' && req.method !== 'GET')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"NAME_UNKNOWN"}]}');
    }
    if (opts.bearer && req.headers.authorization !== 'Bearer stand-in-token') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="${host}",scope="repository:${m[1]}:pull"`, 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    self.onManifest?.(++manifestCalls);
    const body = tags.get(`${m[1]}:${decodeURIComponent(m[2]!)}`);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    }
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    res.writeHead(200, { 'content-type': INDEX_TYPE, 'content-length': Buffer.byteLength(body), ...(opts.omitDigestHeader ? {} : { 'docker-content-digest': digest }) });
    res.end(req.method === 'GET' ? body : undefined);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  self.host = host;
  return self;
}

/** A manifest body that differs per label: pushing another label re-points the tag. */
export const indexBody = (label: string): string => JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [], annotations: { 'org.opencontainers.image.description': label } });
