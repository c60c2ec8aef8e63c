// The one translator from a failed cluster request (or a kubeconfig that cannot be used) to a message
// a person can act on: which context and server, what the cause was (HTTP status and the server's own
// message, a TLS or network error code), and a fix. Every such failure exits 2 (ConflictError): the
// cluster cannot be reached or used, which is not a finding about the repository.
import { ConflictError } from '../../core/errors.ts';

/** A failed cluster request, with a message saying what to do. */
export class KubeRequestError extends ConflictError {
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined) {
    super(message);
    this.name = 'KubeRequestError';
    this.status = status;
  }
}

/** Where a request went, for every message. */
export interface KubeTarget {
  context: string;
  server: string;
}

export const where = (t: KubeTarget): string => `cluster ${t.server} (context ${t.context || 'none'})`;

/** The first string `code` on an error or its `cause` chain (undici wraps socket and TLS errors). */
export function causeCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 6 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Node's TLS verification codes (node:tls / OpenSSL X509_V_ERR names) and what each means here. */
const TLS_CAUSES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a CA the kubeconfig trusts',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not signed by a CA the kubeconfig trusts',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chain ends in a CA the kubeconfig does not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not the one in the kubeconfig',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet (check the clocks)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this address',
};

const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name cannot be resolved right now (DNS)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ECONNRESET: 'the connection was dropped',
  UND_ERR_SOCKET: 'the connection was dropped',
  EPIPE: 'the connection was dropped',
};

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** A Kubernetes `Status` body (metav1.Status), as the API server sends it with every error. */
interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

/**
 * Server-side apply conflicts (reason Conflict; causes with reason FieldManagerConflict — the JSON name
 * of metav1.StatusCause.Type is "reason"): which field,
 * which manager. The cause message reads `conflict with "argocd-controller" using argoproj.io/v1alpha1`.
 */
export function applyConflicts(body: unknown): Array<{ field: string; manager: string }> {
  const causes = (body as StatusBody | undefined)?.details?.causes ?? [];
  return causes
    .filter((c) => c.reason === 'FieldManagerConflict')
    .map((c) => ({ field: c.field ?? '?', manager: /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1] ?? 'another manager' }));
}

export interface HttpFailure {
  status: number;
  body: unknown;
}

/** The message part of an HTTP failure: the server's Status message, never the raw JSON. */
function httpCause(f: HttpFailure): string {
  const b = f.body as StatusBody | string | undefined;
  const message = typeof b === 'object' && b?.message ? b.message : typeof b === 'string' && !b.trim().startsWith('{') ? b.trim().slice(0, 300) : '';
  const phrase = f.status === 401 ? 'Unauthorized' : f.status === 403 ? 'Forbidden' : f.status === 404 ? 'Not Found' : f.status === 409 ? 'Conflict' : '';
  return `HTTP ${f.status}${phrase ? ` ${phrase}` : ''}${message && message !== phrase ? `: ${message}` : ''}`;
}

export interface ExplainOptions {
  action: string;
  target: KubeTarget;
  timeoutMs?: number;
  /** A command that resolves a 409 for this particular object (e.g. the kubectl apply that takes ownership). */
  conflictFix?: string;
}

/** Turns any failure of a cluster request into a KubeRequestError naming context, server, cause and fix. */
export function explainKubeError(error: unknown, opts: ExplainOptions): KubeRequestError {
  if (error instanceof KubeRequestError) return error;
  const { action, target } = opts;
  const http = httpFailureOf(error);
  if (http) {
    const code = http.status;
    const conflicts = code === 409 ? applyConflicts(http.body) : [];
    const cause = conflicts.length
      ? `HTTP 409 Conflict: ${conflicts.map((c) => `${c.field} is managed by "${c.manager}"`).join('; ')}`
      : httpCause(http);
    const fix =
      code === 401 ? `the credentials of context ${target.context} were rejected: refresh them (k3s: copy /etc/rancher/k3s/k3s.yaml again, or \`kubectl config view --minify\` to see which user is used) and retry`
      : code === 403 ? 'ask a cluster admin for this permission, or use a context with cluster-admin (k3s: the default admin kubeconfig)'
      : code === 404 ? 'the API or object does not exist on this cluster; check the server version and that what provides it is installed'
      : conflicts.length ? (opts.conflictFix ?? `another field manager owns ${conflicts.map((c) => c.field).join(', ')}; if this tool should own it, re-apply with forced conflicts (kubectl apply --server-side --force-conflicts), else leave the field to "${conflicts[0]!.manager}"`)
      : code === 409 ? 'the object changed while this ran; run the command again'
      // Server-side apply answers a value of the wrong type (a string where the schema has an object) with a 500.
      : code === 500 && /failed to create typed patch object/.test(cause) ? 'a field has a type the schema does not allow (named above); correct it in the file and run again'
      : code >= 500 ? 'the API server failed; check its health (kubectl get --raw /readyz?verbose) and retry'
      : 'check the message above, fix the cause and run the command again';
    return new KubeRequestError(`${action} failed on ${where(target)}: ${cause}\n    fix: ${fix}`, code);
  }
  const code = causeCode(error);
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError' || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new KubeRequestError(
      `${action} timed out after ${opts.timeoutMs ?? '?'} ms on ${where(target)}\n    fix: check that the cluster is up and not overloaded (kubectl get --raw /readyz), then retry; raise --timeout for a slow link`,
      undefined,
    );
  }
  if (code && TLS_CAUSES[code]) {
    return new KubeRequestError(
      `${action} failed on ${where(target)}: TLS ${code}: ${TLS_CAUSES[code]}\n    fix: use the kubeconfig the cluster issued (k3s: /etc/rancher/k3s/k3s.yaml, whose certificate-authority-data matches the server); when the server was reinstalled, copy it again`,
      undefined,
    );
  }
  if (code && NETWORK_CAUSES[code]) {
    return new KubeRequestError(
      `cannot reach ${where(target)} during ${action}: ${code} (${NETWORK_CAUSES[code]})\n    fix: start the cluster (k3s: sudo systemctl start k3s), or point KUBECONFIG / --context at a running one; test with \`kubectl version\``,
      undefined,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new KubeRequestError(`${action} failed on ${where(target)}: ${code ? `${code}: ` : ''}${message}`, undefined);
}

/** An HTTP failure from the client library (ApiException-like: numeric `code` and a `body`). */
function httpFailureOf(error: unknown): HttpFailure | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { code?: unknown; body?: unknown; name?: string };
  if (typeof e.code === 'number' && e.code >= 300) {
    let body = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // keep the text
      }
    }
    return { status: e.code, body };
  }
  return undefined;
}

/** A download that failed, with its network or TLS cause kept (ENOTFOUND, ECONNREFUSED, …). */
export function explainDownloadError(error: unknown, url: string): KubeRequestError {
  const code = causeCode(error);
  const name = (error as { name?: string } | undefined)?.name;
  const cause = name === 'TimeoutError' ? 'timed out' : code ? `${code}${NETWORK_CAUSES[code] ? ` (${NETWORK_CAUSES[code]})` : TLS_CAUSES[code] ? ` (${TLS_CAUSES[code]})` : ''}` : (error as Error).message;
  return new KubeRequestError(
    `cannot download ${url}: ${cause}\n    fix: check the machine's internet access (or proxy settings) and retry; on an air-gapped machine download the file elsewhere and pass it with --argocd-manifest FILE`,
    undefined,
  );
}
