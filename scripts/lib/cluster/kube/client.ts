// The one client every cluster call goes through. The KubeConfig is loaded at the edge (loadKubeConfig)
// and passed in, so tests point it at the fake API server (test/support/fake-kube) and see every request.
import {
  ApiException, AuthorizationV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, VersionApi,
  createConfiguration, ServerConfiguration,
} from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ConflictError } from '../../core/errors.ts';
import { KubeRequestError, explainKubeError, where } from './errors.ts';

export { KubeRequestError, explainKubeError } from './errors.ts';

/** Our name in managedFields: server-side apply records which fields this toolkit owns. */
export const FIELD_MANAGER = 'gitops-toolkit';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  /** one object's name (a Role rule with resourceNames) */
  name?: string;
}

export interface ApplyOptions {
  fieldManager?: string;
  /** Server-side dry run (`dryRun=All`): validated and defaulted by the server, stored nowhere. */
  dryRun?: boolean;
  force?: boolean;
  /** `fieldValidation=Strict`: an unknown or duplicate field is an error, not a warning. */
  strict?: boolean;
  /** The fix a 409 field-manager conflict should name for this object. */
  conflictFix?: string;
}

export interface Kube {
  /** The API server URL and context name, for messages. */
  readonly server: string;
  readonly context: string;
  version(): Promise<{ gitVersion: string; major: string; minor: string }>;
  /** SelfSubjectAccessReview: asks the server whether the current user may do this (stores nothing). */
  canI(check: AccessCheck): Promise<{ allowed: boolean; reason?: string }>;
  /** The live object, or undefined when it (or its kind) does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]>;
  /** Server-side apply (`application/apply-patch+yaml`) with our field manager. */
  apply(obj: KubeObject, options?: ApplyOptions): Promise<KubeObject>;
  /** POST; fails with KubeRequestError code 409 when the object already exists. */
  create(obj: KubeObject, options?: { dryRun?: boolean }): Promise<KubeObject>;
  /** Strategic merge patch of a few fields (e.g. the pod-template annotation that restarts a rollout). */
  patch(ref: ObjectRef, patch: Record<string, unknown>): Promise<KubeObject>;
  /** Whether a kind is namespaced, from discovery; undefined when the server does not know the kind. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>;
  /** GET of an API path answering JSON (e.g. a Service's proxy subresource: status.ts reads Prometheus's alerts). */
  getPath?(path: string, what: string): Promise<unknown>;
}

/**
 * The current kubeconfig (KUBECONFIG or ~/.kube/config), switched to `context` when given.
 * Only CLIs call this; libraries receive the KubeConfig (or a Kube) as an argument.
 */
export function loadKubeConfig(context?: string, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  // Which files the client would read, checked first: its fallbacks (in-cluster, then
  // http://localhost:8080) turn a missing file into an unrelated TLS/HTTP message.
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (listed.length > 0) {
    const missing = listed.filter((f) => !existsSync(f));
    if (missing.length > 0) {
      throw new ConflictError(
        `KUBECONFIG names ${missing.map((f) => JSON.stringify(f)).join(', ')}, which does not exist\n` +
          '    fix: point KUBECONFIG at your kubeconfig file (k3s: a copy of /etc/rancher/k3s/k3s.yaml), or unset it to use ~/.kube/config',
      );
    }
  } else if (!existsSync(join(env.HOME ?? homedir(), '.kube', 'config')) && !env.KUBERNETES_SERVICE_HOST) {
    throw new ConflictError(
      'no kubeconfig found: KUBECONFIG is not set and ~/.kube/config does not exist\n' +
        '    fix: set KUBECONFIG to your kubeconfig file or create ~/.kube/config (k3s: sudo cat /etc/rancher/k3s/k3s.yaml > ~/.kube/config)',
    );
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (error) {
    throw new ConflictError(`cannot read the kubeconfig (${listed.join(', ') || '~/.kube/config'}): ${(error as Error).message}\n    fix: check the file with \`kubectl config view\``);
  }
  if (context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === context)) {
      throw new ConflictError(
        `kube context ${JSON.stringify(context)} not found; available: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}\n` +
          '    fix: run `kubectl config get-contexts` and pass one of them with --context',
      );
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) {
    throw new ConflictError(`the kubeconfig has no current cluster (context ${JSON.stringify(kc.getCurrentContext())})\n    fix: set current-context (kubectl config use-context <name>) or pass --context`);
  }
  return kc;
}

function describe(ref: { kind: string; name?: string; namespace?: string }): string {
  return `${ref.kind}${ref.namespace ? ` ${ref.namespace}/` : ' '}${ref.name ?? ''}`.trimEnd();
}

function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export interface KubeOptions {
  /** Per-request timeout; a slow API server fails with a clear message instead of hanging. */
  timeoutMs?: number;
}

/** The Kube client over a KubeConfig. */
export function createKube(kc: KubeConfig, options: KubeOptions = {}): Kube {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ConflictError('no current cluster in the kubeconfig\n    fix: pass --context or set KUBECONFIG');
  const server = cluster.server;
  const target = { context: kc.getCurrentContext(), server };
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: { default: kc },
    // A per-request deadline, so a slow API server fails with a clear message instead of hanging.
    promiseMiddleware: [
      {
        pre: async (ctx) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          return ctx;
        },
        post: async (res) => res,
      },
    ],
  });
  // Discovery (plural names, namespaced or not) comes from the client's cached resource lists.
  const discovery = new KubernetesObjectApi(configuration);
  const versions = new VersionApi(configuration);
  const authz = new AuthorizationV1Api(configuration);
  const discover = (discovery as unknown as { resource(a: string, k: string): Promise<{ name: string; namespaced: boolean } | undefined> }).resource.bind(discovery);

  async function call<T>(action: string, fn: () => Promise<T>, conflictFix?: string): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw explainKubeError(error, { action, target, timeoutMs, conflictFix });
    }
  }

  /** Resource metadata, or undefined when the server does not serve the kind (e.g. CRDs not installed yet). */
  async function resourceOf(apiVersion: string, kind: string): Promise<{ name: string; namespaced: boolean } | undefined> {
    try {
      return await discover(apiVersion, kind);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw explainKubeError(error, { action: `discovery of ${apiVersion}`, target, timeoutMs });
    }
  }

  async function pathOf(ref: { apiVersion: string; kind: string; name?: string; namespace?: string }): Promise<string | undefined> {
    const resource = await resourceOf(ref.apiVersion, ref.kind);
    if (!resource) return undefined;
    const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    const ns = resource.namespaced && ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
    return `${base}${ns}/${resource.name}${ref.name ? `/${encodeURIComponent(ref.name)}` : ''}`;
  }

  /**
   * One request with the object as plain JSON both ways. The typed serializer of the generated
   * client is bypassed on purpose: it drops keys its models spell differently (a CRD schema's
   * `x-kubernetes-*` and `$ref`) and fields newer than the client.
   */
  async function request(method: 'GET' | 'POST' | 'PATCH', path: string, query: Record<string, string | undefined>, body?: { contentType: string; value: unknown }): Promise<unknown> {
    const ctx = configuration.baseServer.makeRequestContext(path, method as never);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) ctx.setQueryParam(k, v);
    ctx.setHeaderParam('Accept', 'application/json');
    if (body) {
      ctx.setHeaderParam('Content-Type', body.contentType);
      ctx.setBody(JSON.stringify(body.value));
    }
    await kc.applySecurityAuthentication(ctx);
    ctx.setSignal(AbortSignal.timeout(timeoutMs));
    const res = await configuration.httpApi.send(ctx).toPromise();
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text for the error message
    }
    if (res.httpStatusCode >= 200 && res.httpStatusCode <= 299) return parsed;
    throw new ApiException(res.httpStatusCode, 'Unsuccessful HTTP Request', parsed, res.headers);
  }

  const unknownKind = (o: { apiVersion: string; kind: string }) =>
    new KubeRequestError(`${where(target)} does not serve ${o.apiVersion} ${o.kind} (no such API or CustomResourceDefinition)\n    fix: install what provides it (for argoproj.io: run bootstrap; for MongoDBCommunity: the mongodb-operator Application), then retry`, 404);

  return {
    server,
    context: kc.getCurrentContext(),
    version: () =>
      call('reading the server version', async () => {
        const v = await versions.getCode();
        return { gitVersion: v.gitVersion, major: v.major, minor: v.minor };
      }),
    canI: (check) =>
      call(`access review (${check.verb} ${check.resource})`, async () => {
        const review = await authz.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: { resourceAttributes: { verb: check.verb, group: check.group, resource: check.resource, namespace: check.namespace, name: check.name } },
          },
        });
        return { allowed: review.status?.allowed === true, reason: review.status?.reason };
      }),
    async get(ref) {
      const path = await pathOf(ref);
      if (!path) return undefined;
      try {
        return (await request('GET', path, {})) as KubeObject;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw explainKubeError(error, { action: `reading ${describe(ref)}`, target, timeoutMs });
      }
    },
    async getPath(path, what) {
      return call(`reading ${what}`, () => request('GET', path, {}));
    },
    async list(apiVersion, kind, namespace, labelSelector) {
      const path = await pathOf({ apiVersion, kind, namespace });
      if (!path) return [];
      return call(`listing ${kind}${namespace ? ` in ${namespace}` : ''}`, async () => {
        const res = (await request('GET', path, { labelSelector })) as { items?: KubeObject[] };
        return res.items ?? [];
      });
    },
    async apply(obj, opts = {}) {
      const what = describe({ kind: obj.kind, ...obj.metadata });
      const path = await pathOf({ ...obj, name: obj.metadata.name, namespace: obj.metadata.namespace });
      if (!path) throw unknownKind(obj);
      return call(`${opts.dryRun ? 'dry-run ' : ''}server-side apply of ${what}`, async () =>
        (await request(
          'PATCH',
          path,
          {
            fieldManager: opts.fieldManager ?? FIELD_MANAGER,
            force: String(opts.force ?? false),
            dryRun: opts.dryRun ? 'All' : undefined,
            fieldValidation: opts.strict ? 'Strict' : undefined,
          },
          { contentType: PatchStrategy.ServerSideApply, value: obj },
        )) as KubeObject,
      opts.conflictFix);
    },
    async create(obj, opts = {}) {
      const path = await pathOf({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace });
      if (!path) throw unknownKind(obj);
      return call(`${opts.dryRun ? 'dry-run ' : ''}creating ${describe({ kind: obj.kind, ...obj.metadata })}`, async () =>
        (await request('POST', path, { fieldManager: FIELD_MANAGER, dryRun: opts.dryRun ? 'All' : undefined }, { contentType: 'application/json', value: obj })) as KubeObject,
      );
    },
    async patch(ref, body) {
      const path = await pathOf(ref);
      if (!path) throw unknownKind(ref);
      return call(`patching ${describe(ref)}`, async () =>
        (await request('PATCH', path, { fieldManager: FIELD_MANAGER }, { contentType: PatchStrategy.StrategicMergePatch, value: body })) as KubeObject,
      );
    },
    async isNamespaced(apiVersion, kind) {
      return (await resourceOf(apiVersion, kind))?.namespaced;
    },
  };
}

/** A KubeConfig for one server without credentials files (tests, and `--server` style use). */
export function kubeConfigFor(server: string, token = 'dummy-token'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'test', cluster: 'c', user: 'u' }],
    currentContext: 'test',
  });
  return kc;
}
