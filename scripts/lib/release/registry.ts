// Which image a tag names right now: the registry's answer for the manifest of `<image>:<tag>`, as a
// digest. Promotion resolves the tag once, verifies `<image>@<digest>` with cosign, resolves it again
// (a tag pushed again meanwhile is refused), and writes tag and digest into env.yaml: what the cluster
// pulls is then the image that was verified, whatever is pushed to the tag later.
//
// Protocol (opencontainers/distribution-spec@v1.1.1:spec.md, "Pulling manifests" and endpoint end-3):
// `HEAD /v2/<name>/manifests/<reference>` with an `Accept` header naming the manifest types the client
// takes; the answer's `Docker-Content-Digest` header is the manifest's digest. A multi-platform build is an
// image index, so the index types come first: OCI (opencontainers/image-spec:media-types.md) and
// Docker's manifest list / v2 manifest, which registries still serve for images pushed by Docker tooling.
// When a registry leaves the header out, the manifest is fetched (GET) and hashed here: its sha256 over
// the exact bytes is the digest (image-spec descriptor.md, "Digests").
// Authentication: a 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` is answered by asking the
// realm for a token (anonymously, or with REGISTRY_USERNAME/REGISTRY_PASSWORD as Basic credentials), then
// repeating the request with it (the token flow of distribution/distribution:docs/spec/auth/token.md,
// which GHCR and Docker Hub implement).
// Transport: https, except a loopback registry (localhost, 127.0.0.0/8, [::1]), which is plain http as
// container engines treat it (a registry on this machine: tests' stand-in, a local mirror).
import { createHash } from 'node:crypto';
import { ConflictError, UsageError } from '../core/errors.ts';

export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

/** A digest as env.yaml pins it (schemas/env.schema.json: digest). */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

export interface RegistryOptions {
  /** The HTTP client (global fetch by default). */
  fetch?: typeof fetch;
  /** Basic credentials for the token realm (e.g. a GitHub actor and token with packages: read). */
  credentials?: { username: string; password: string };
  timeoutMs?: number;
}

/** Registry host and repository name of an image reference without tag (gitops.yaml: image). */
export function splitImage(image: string): { host: string; name: string; baseUrl: string } {
  const slash = image.indexOf('/');
  if (slash <= 0) throw new UsageError(`image ${JSON.stringify(image)} names no registry (e.g. ghcr.io/owner/users-api)`);
  const host = image.slice(0, slash);
  const name = image.slice(slash + 1);
  const hostname = host.replace(/:\d+$/, '');
  const loopback = hostname === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) || hostname === '[::1]';
  return { host, name, baseUrl: `${loopback ? 'http' : 'https'}://${host}` };
}

/** Parses `Bearer realm="…",service="…",scope="…"` (RFC 6750 section 3 challenge parameters). */
export function parseBearerChallenge(header: string | null): Record<string, string> | undefined {
  if (!header || !/^Bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice(header.indexOf(' ') + 1).matchAll(/([A-Za-z_]+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return params.realm ? params : undefined;
}

export function registryCredentialsFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryOptions['credentials'] {
  return env.REGISTRY_USERNAME && env.REGISTRY_PASSWORD ? { username: env.REGISTRY_USERNAME, password: env.REGISTRY_PASSWORD } : undefined;
}

/** The digest `<image>:<tag>` names in its registry now. Throws UsageError/ConflictError naming the registry's answer. */
export async function resolveDigest(image: string, tag: string, opts: RegistryOptions = {}): Promise<string> {
  const doFetch = opts.fetch ?? fetch;
  const { baseUrl, name } = splitImage(image);
  const url = `${baseUrl}/v2/${name}/manifests/${encodeURIComponent(tag)}`;
  const where = `${image}:${tag}`;
  const timeout = opts.timeoutMs ?? 20_000;
  const request = async (method: 'HEAD' | 'GET', token?: string): Promise<Response> => {
    try {
      return await doFetch(url, { method, redirect: 'follow', signal: AbortSignal.timeout(timeout), headers: { accept: MANIFEST_MEDIA_TYPES.join(', '), ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    } catch (error) {
      throw new ConflictError(`cannot reach the registry of ${image} (${baseUrl}) to resolve ${where}: ${(error as Error).message}`);
    }
  };
  let token: string | undefined;
  let r = await request('HEAD');
  if (r.status === 401) {
    const challenge = parseBearerChallenge(r.headers.get('www-authenticate'));
    if (!challenge) throw new UsageError(`the registry refused ${where} (HTTP 401) without a Bearer challenge; set REGISTRY_USERNAME and REGISTRY_PASSWORD`);
    token = await fetchToken(doFetch, challenge, opts.credentials, timeout);
    r = await request('HEAD', token);
  }
  if (r.status === 404) throw new UsageError(`the registry has no ${where} (HTTP 404): was this tag built and pushed by the release workflow?`);
  if (r.status === 401 || r.status === 403) throw new UsageError(`the registry refused ${where} (HTTP ${r.status}): a private image needs REGISTRY_USERNAME and REGISTRY_PASSWORD (e.g. a token with packages: read)`);
  if (r.status !== 200) throw new ConflictError(`the registry answered HTTP ${r.status} for ${where}`);
  const header = r.headers.get('docker-content-digest');
  if (header !== null) {
    if (!DIGEST_PATTERN.test(header)) throw new ConflictError(`the registry answered ${where} with an unusable digest ${JSON.stringify(header.slice(0, 80))} (expected sha256:<64 hex>)`);
    return header;
  }
  // No digest header: hash the manifest itself.
  const got = await request('GET', token);
  if (got.status !== 200) throw new ConflictError(`the registry answered HTTP ${got.status} for ${where} (GET)`);
  const type = (got.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (!(MANIFEST_MEDIA_TYPES as readonly string[]).includes(type)) throw new ConflictError(`the registry answered ${where} with ${JSON.stringify(type)}, not an image manifest or index`);
  return `sha256:${createHash('sha256').update(Buffer.from(await got.arrayBuffer())).digest('hex')}`;
}

async function fetchToken(doFetch: typeof fetch, challenge: Record<string, string>, credentials: RegistryOptions['credentials'], timeout: number): Promise<string> {
  let realm: URL;
  try {
    realm = new URL(challenge.realm!);
  } catch {
    throw new ConflictError(`the registry's token realm ${JSON.stringify(challenge.realm!.slice(0, 80))} is not a URL`);
  }
  if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && splitImage(`${realm.host}/x`).baseUrl.startsWith('http:'))) {
    throw new ConflictError(`the registry's token realm ${realm.origin} is not https: refusing to send credentials there`);
  }
  if (challenge.service) realm.searchParams.set('service', challenge.service);
  if (challenge.scope) realm.searchParams.set('scope', challenge.scope);
  const headers: Record<string, string> = credentials ? { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` } : {};
  let r: Response;
  try {
    r = await doFetch(realm, { headers, signal: AbortSignal.timeout(timeout) });
  } catch (error) {
    throw new ConflictError(`cannot reach the registry's token service ${realm.origin}: ${(error as Error).message}`);
  }
  if (r.status !== 200) throw new UsageError(`the registry's token service refused (HTTP ${r.status}): a private image needs REGISTRY_USERNAME and REGISTRY_PASSWORD`);
  const body = (await r.json().catch(() => undefined)) as { token?: unknown; access_token?: unknown } | undefined;
  const token = typeof body?.token === 'string' ? body.token : typeof body?.access_token === 'string' ? body.access_token : undefined;
  if (!token) throw new ConflictError(`the registry's token service answered without a token`);
  return token;
}
