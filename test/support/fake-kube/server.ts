// A small in-memory Kubernetes API server on loopback for tests. It checks every request the way the
// real server would reject it (method, path, content type, field manager, body matching the URL) and
// records each one, so a test can assert the exact sequence a command sends. Anything it does not
// understand is answered 400/404/405/415 and listed in `violations`, which tests assert to be empty.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';

export interface KindInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const KINDS: KindInfo[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
  { group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', plural: 'storageclasses', namespaced: false },
  { group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  { group: 'argoproj.io', version: 'v1alpha1', kind: 'Application', plural: 'applications', namespaced: true },
  { group: 'argoproj.io', version: 'v1alpha1', kind: 'AppProject', plural: 'appprojects', namespaced: true },
  { group: 'mongodbcommunity.mongodb.com', version: 'v1', kind: 'MongoDBCommunity', plural: 'mongodbcommunity', namespaced: true },
];

export interface RecordedRequest {
  method: string;
  /** Path with the query string, e.g. /api/v1/namespaces/argocd/secrets?fieldManager=… */
  url: string;
  path: string;
  query: Record<string, string>;
  contentType: string;
  /** The raw body text (tests search it for secret values, and assert what was sent). */
  body: string;
  status: number;
}

export type StoredObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string };
};

export interface FakeKubeOptions {
  /** `verb resource` pairs (e.g. "create secrets") the caller may not do: access reviews say no, requests get 403. */
  forbidden?: string[];
  /** Delay every response by this much (to exercise client timeouts). */
  delayMs?: number;
  /** Deployments/StatefulSets report ready only after this many reads of each (default 0: at once). */
  readyAfterReads?: number;
  serverVersion?: { major: string; minor: string; gitVersion: string };
  /** Called after every stored write: plays a controller (e.g. the operator rewriting a Secret). */
  onWrite?: (obj: StoredObject, fake: FakeKube) => void;
}

export interface FakeKube {
  url: string;
  requests: RecordedRequest[];
  violations: string[];
  /** Objects by "apiVersion|kind|namespace|name". */
  objects: Map<string, StoredObject>;
  put(obj: StoredObject): void;
  find(apiVersion: string, kind: string, name: string, namespace?: string): StoredObject | undefined;
  options: FakeKubeOptions;
  close(): Promise<void>;
}

const keyOf = (apiVersion: string, kind: string, ns: string | undefined, name: string) => `${apiVersion}|${kind}|${ns ?? ''}|${name}`;
const apiVersionOf = (k: KindInfo) => (k.group ? `${k.group}/${k.version}` : k.version);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Apply semantics close enough for our objects: maps merge, lists and scalars replace. */
function mergeApplied(live: unknown, applied: unknown): unknown {
  if (isRecord(live) && isRecord(applied)) {
    const out: Record<string, unknown> = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(live[k], v);
    return out;
  }
  return structuredClone(applied);
}

function statusOf(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const objects = new Map<string, StoredObject>();
  const reads = new Map<string, number>();
  const simulated = new Set<string>();
  let rv = 1000;

  function put(obj: StoredObject): void {
    const md = obj.metadata;
    rv++;
    md.resourceVersion = String(rv);
    md.uid ??= `uid-${rv}`;
    md.generation ??= 1;
    objects.set(keyOf(obj.apiVersion, obj.kind, md.namespace, md.name), obj);
  }
  /** A write made by a request (not by the test seeding the store). */
  function write(obj: StoredObject): void {
    put(obj);
    options.onWrite?.(obj, fake);
  }

  function kindByPath(groupVersion: string, plural: string): KindInfo | undefined {
    return KINDS.find((k) => apiVersionOf(k) === groupVersion && k.plural === plural);
  }

  function withReadiness(obj: StoredObject): StoredObject {
    if (obj.kind !== 'Deployment' && obj.kind !== 'StatefulSet') return obj;
    const key = keyOf(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const n = (reads.get(key) ?? 0) + 1;
    reads.set(key, n);
    const spec = (obj.spec ?? {}) as { replicas?: number };
    const want = spec.replicas ?? 1;
    const ready = n > (options.readyAfterReads ?? 0) ? want : 0;
    // Only workloads the test did not give a status to are simulated (as if their pods started).
    if (!isRecord(obj.status) || simulated.has(key)) {
      simulated.add(key);
      obj.status = { observedGeneration: obj.metadata.generation, replicas: want, updatedReplicas: want, readyReplicas: ready, availableReplicas: ready };
    }
    return obj;
  }

  function forbidden(verb: string, resource: string): boolean {
    return (options.forbidden ?? []).includes(`${verb} ${resource}`);
  }

  async function handle(req: IncomingMessage, body: string, res: ServerResponse): Promise<number> {
    const send = (code: number, payload: unknown): number => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
      return code;
    };
    const fail = (code: number, reason: string, message: string): number => {
      if (code !== 404 && code !== 403 && code !== 409) violations.push(`${req.method} ${req.url}: ${message}`);
      return send(code, statusOf(code, reason, message));
    };
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const segs = url.pathname.split('/').filter(Boolean);

    if (method === 'GET' && url.pathname === '/version') return send(200, { ...(options.serverVersion ?? { major: '1', minor: '31', gitVersion: 'v1.31.4+k3s1' }), platform: 'linux/amd64' });
    if (method === 'GET' && url.pathname === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'] });
    if (method === 'GET' && url.pathname === '/apis') {
      const groups = [...new Set(KINDS.filter((k) => k.group).map((k) => k.group))];
      return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => { const v = KINDS.find((k) => k.group === g)!.version; return { name: g, versions: [{ groupVersion: `${g}/${v}`, version: v }], preferredVersion: { groupVersion: `${g}/${v}`, version: v } }; }) });
    }

    // /api/v1/... or /apis/<group>/<version>/...
    let groupVersion: string;
    let rest: string[];
    if (segs[0] === 'api' && segs[1] === 'v1') {
      groupVersion = 'v1';
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      groupVersion = `${segs[1]}/${segs[2]}`;
      rest = segs.slice(3);
    } else {
      return fail(404, 'NotFound', `unknown path ${url.pathname}`);
    }
    if (rest.length === 0) {
      if (method !== 'GET') return fail(405, 'MethodNotAllowed', 'discovery is GET only');
      const resources = KINDS.filter((k) => apiVersionOf(k) === groupVersion).map((k) => ({ name: k.plural, singularName: k.kind.toLowerCase(), namespaced: k.namespaced, kind: k.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }));
      if (resources.length === 0) return fail(404, 'NotFound', `no API ${groupVersion}`);
      return send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources });
    }
    if (groupVersion === 'authorization.k8s.io/v1' && rest[0] === 'selfsubjectaccessreviews' && rest.length === 1) {
      if (method !== 'POST') return fail(405, 'MethodNotAllowed', 'access reviews are POST only');
      if (contentType !== 'application/json') return fail(415, 'UnsupportedMediaType', `access review with content type ${contentType}`);
      const review = JSON.parse(body) as { kind?: string; spec?: { resourceAttributes?: { verb?: string; resource?: string } } };
      const attrs = review.spec?.resourceAttributes;
      if (review.kind !== 'SelfSubjectAccessReview' || !attrs?.verb || !attrs.resource) return fail(400, 'BadRequest', 'malformed SelfSubjectAccessReview');
      const denied = forbidden(attrs.verb, attrs.resource);
      return send(201, { ...review, status: { allowed: !denied, ...(denied ? { reason: 'RBAC: access denied' } : {}) } });
    }

    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, sub] = rest;
    const kind = plural === undefined ? undefined : kindByPath(groupVersion, plural);
    if (!kind || sub !== undefined) return fail(404, 'NotFound', `unknown resource ${url.pathname}`);
    if (kind.namespaced !== (namespace !== undefined) && !(kind.namespaced && name === undefined && namespace === undefined)) {
      return fail(400, 'BadRequest', `${kind.kind} is ${kind.namespaced ? '' : 'not '}namespaced but the path says otherwise`);
    }
    const apiVersion = apiVersionOf(kind);
    const verb = method === 'GET' ? (name ? 'get' : url.searchParams.get('watch') === 'true' ? 'watch' : 'list') : method === 'POST' ? 'create' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : 'other';
    if (forbidden(verb, kind.plural)) return fail(403, 'Forbidden', `${kind.plural} is forbidden: cannot ${verb} ${kind.plural}`);

    if (method === 'GET' && name) {
      const obj = objects.get(keyOf(apiVersion, kind.kind, namespace, name));
      if (!obj) return fail(404, 'NotFound', `${kind.plural} "${name}" not found`);
      return send(200, withReadiness(obj));
    }
    if (method === 'GET') {
      const selector = url.searchParams.get('labelSelector');
      const items = [...objects.values()]
        .filter((o) => o.apiVersion === apiVersion && o.kind === kind.kind && (namespace === undefined || o.metadata.namespace === namespace))
        .filter((o) => {
          if (!selector) return true;
          const labels = (o.metadata.labels ?? {}) as Record<string, string>;
          return selector.split(',').every((term) => { const [k, v] = term.split('='); return k !== undefined && labels[k] === v; });
        })
        .sort((a, b) => keyOf(a.apiVersion, a.kind, a.metadata.namespace, a.metadata.name).localeCompare(keyOf(b.apiVersion, b.kind, b.metadata.namespace, b.metadata.name)))
        .map(withReadiness);
      return send(200, { kind: `${kind.kind}List`, apiVersion, metadata: { resourceVersion: String(rv) }, items });
    }

    // Writes: the body must be an object of this kind, named like the URL says.
    let obj: StoredObject;
    try {
      obj = (contentType === 'application/apply-patch+yaml' ? parseYaml(body) : JSON.parse(body)) as StoredObject;
    } catch {
      return fail(400, 'BadRequest', `body is not ${contentType}`);
    }
    if (!isRecord(obj)) return fail(400, 'BadRequest', 'body is not an object');
    const isMergePatch = method === 'PATCH' && contentType !== 'application/apply-patch+yaml';
    // A merge patch carries only the fields it changes; an apply or a create is a whole object.
    if (!isMergePatch && !isRecord(obj.metadata)) return fail(400, 'BadRequest', 'body has no metadata');
    obj.metadata ??= { name: name ?? '' };
    const bodyNs = obj.metadata.namespace as string | undefined;
    if (bodyNs !== undefined && bodyNs !== namespace) return fail(400, 'BadRequest', `body namespace ${bodyNs} does not match the path namespace ${namespace}`);
    const dryRun = url.searchParams.get('dryRun');
    if (dryRun !== null && dryRun !== 'All') return fail(400, 'BadRequest', `dryRun must be All, got ${dryRun}`);

    if (method === 'POST' && !name) {
      if (contentType !== 'application/json') return fail(415, 'UnsupportedMediaType', `create with content type ${contentType}`);
      if (obj.apiVersion !== apiVersion || obj.kind !== kind.kind || typeof obj.metadata.name !== 'string') return fail(400, 'BadRequest', 'create body does not match the resource');
      if (objects.has(keyOf(apiVersion, kind.kind, namespace, obj.metadata.name))) return fail(409, 'AlreadyExists', `${kind.plural} "${obj.metadata.name}" already exists`);
      const stored = structuredClone(obj);
      stored.metadata.namespace = namespace;
      if (kind.kind === 'Secret' && isRecord(stored.stringData)) {
        const data = (isRecord(stored.data) ? stored.data : {}) as Record<string, string>;
        for (const [k, v] of Object.entries(stored.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        stored.data = data;
        delete stored.stringData;
      }
      if (dryRun !== 'All') write(stored);
      return send(201, stored);
    }
    if (method === 'PATCH' && name) {
      const existing = objects.get(keyOf(apiVersion, kind.kind, namespace, name));
      if (contentType === 'application/apply-patch+yaml') {
        if (!url.searchParams.get('fieldManager')) return fail(400, 'BadRequest', 'server-side apply requires a fieldManager');
        if (obj.apiVersion !== apiVersion || obj.kind !== kind.kind || obj.metadata.name !== name) return fail(400, 'BadRequest', 'apply body does not match the URL');
        const merged = mergeApplied(existing ?? {}, obj) as StoredObject;
        merged.metadata.namespace = namespace;
        if (existing && JSON.stringify(existing.spec) !== JSON.stringify(merged.spec)) merged.metadata.generation = ((existing.metadata.generation as number) ?? 1) + 1;
        if (dryRun !== 'All') write(merged);
        return send(existing ? 200 : 201, merged);
      }
      if (contentType === 'application/strategic-merge-patch+json' || contentType === 'application/merge-patch+json') {
        if (!existing) return fail(404, 'NotFound', `${kind.plural} "${name}" not found`);
        const merged = mergeApplied(existing, obj) as StoredObject;
        if (JSON.stringify(existing.spec) !== JSON.stringify(merged.spec)) merged.metadata.generation = ((existing.metadata.generation as number) ?? 1) + 1;
        if (dryRun !== 'All') write(merged);
        return send(200, merged);
      }
      return fail(415, 'UnsupportedMediaType', `patch with content type ${contentType}`);
    }
    return fail(405, 'MethodNotAllowed', `${method} not supported here`);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://fake');
      const entry: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: (req.headers['content-type'] ?? '').split(';')[0]!.trim(),
        body,
        status: 0,
      };
      requests.push(entry);
      const go = () =>
        handle(req, body, res)
          .then((status) => { entry.status = status; })
          .catch((error: unknown) => {
            violations.push(`${req.method} ${req.url}: ${(error as Error).message}`);
            entry.status = 500;
            res.writeHead(500).end();
          });
      if (options.delayMs) setTimeout(go, options.delayMs).unref();
      else void go();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeKube = {
    url: `http://127.0.0.1:${port}`,
    requests,
    violations,
    objects,
    put,
    find: (apiVersion, kind, name, namespace) => objects.get(keyOf(apiVersion, kind, namespace, name)),
    options,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}

/** A URL on loopback where nothing listens: the "cluster unreachable" case. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** "GET /api/v1/namespaces/x/secrets/y" lines: the shape tests compare request logs in. */
export function requestLines(requests: readonly RecordedRequest[]): string[] {
  return requests.map((r) => `${r.method} ${r.path}`);
}
