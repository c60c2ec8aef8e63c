// The database-password Job's program: ordinary, tested TypeScript that the cluster runs as is.
//
// It ships to the cluster from git, not inside an image: `generate` copies this file byte for byte into
// platform/mongodb/replicaset/ and a Kustomize configMapGenerator (`files:`) turns it into a ConfigMap the
// Job mounts (scripts/lib/generate/mongodb/password-hook.ts). The Job runs it on the pinned Node 24 base image of the
// Dockerfile (by tag and digest), which exists before any build of the API: `node password-job.ts <mode>`.
// Node 24 runs .ts files by type stripping, stable since v24.12.0 and without a warning since v24.3.0
// (nodejs/node doc/api/typescript.md, "Modules: TypeScript", changes list; "Type stripping"), so this file
// uses erasable syntax only (no enum, no parameter properties, no namespaces) and Node's standard library
// only: it must run alone, with no node_modules and no other file of this repository.
//
// Two application users alternate (users-api-a, users-api-b): the rotation counter N in git chooses the
// active one (N even: a, odd: b). Two modes, two Argo CD hooks of the environment's sync:
//   prepare (PreSync)  creates both password Secrets (and the backup user's) when absent; gives the active user a fresh password
//                      unless it already has the one of rotation N; waits until the operator has applied it
//                      (the user's connection-string Secret carries it). The idle user is untouched, so pods
//                      still running on it keep working.
//   retire (PostSync)  waits until no pod of the API refers to the idle user's connection-string Secret
//                      any more (the rollout is over, the old pods are gone), then replaces the idle user's
//                      password with a fresh one nobody holds.
// The operator's order these waits rely on is documented with its source in docs/mongodb.md "Rotation".
// Passwords are made here (crypto.randomBytes) and never printed.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

export const ROTATION_ANNOTATION = 'gitops-users.example.com/password-rotation';

export type Mode = 'prepare' | 'retire';

export interface JobSettings {
  mode: Mode;
  rotation: number;
  /** Password Secrets of the two users, in order (a, b). */
  passwordSecrets: [string, string];
  passwordKey: string;
  /** Password Secrets of other users (the backup user): created when absent, never rotated. */
  otherPasswordSecrets: string[];
  /** Connection-string Secrets the operator writes for the two users, in order. */
  connectionSecrets: [string, string];
  /** Label selector of the API's pods (retire). */
  apiSelector: string;
  waitMs: number;
  pollMs: number;
  labels: Record<string, string>;
}

/** What the Job reads from its environment; a clear error names the variable. */
export function settingsFromEnv(mode: string | undefined, env: Record<string, string | undefined>): JobSettings {
  if (mode !== 'prepare' && mode !== 'retire') throw new Error(`usage: node password-job.ts prepare|retire (got ${JSON.stringify(mode)})`);
  const need = (name: string): string => {
    const v = env[name];
    if (v === undefined || v.trim() === '') throw new Error(`environment variable ${name} is required`);
    return v.trim();
  };
  const pair = (name: string): [string, string] => {
    const parts = need(name).split(',').map((s) => s.trim());
    if (parts.length !== 2 || parts.some((p) => p === '')) throw new Error(`${name} must name exactly two Secrets, comma-separated`);
    return [parts[0]!, parts[1]!];
  };
  const rotation = Number(need('ROTATION'));
  if (!Number.isInteger(rotation) || rotation < 0) throw new Error(`ROTATION must be a whole number ≥ 0 (got ${JSON.stringify(env.ROTATION)})`);
  return {
    mode,
    rotation,
    passwordSecrets: pair('PASSWORD_SECRET_NAME'),
    passwordKey: need('PASSWORD_KEY_NAME'),
    otherPasswordSecrets: (env.OTHER_PASSWORD_SECRET_NAME ?? '').split(',').map((x) => x.trim()).filter((x) => x !== ''),
    connectionSecrets: pair('CONNECTION_SECRET_NAME'),
    apiSelector: env.API_SELECTOR?.trim() || 'app.kubernetes.io/name=users-api',
    waitMs: Number(env.WAIT_SECONDS ?? '600') * 1000,
    pollMs: Number(env.POLL_MS ?? '5000'),
    labels: env.LABELS ? (JSON.parse(env.LABELS) as Record<string, string>) : {},
  };
}

/** Index of the user rotation `n` runs the API on: a for even, b for odd. */
export const activeIndex = (rotation: number): 0 | 1 => (rotation % 2 === 0 ? 0 : 1);
export const idleIndex = (rotation: number): 0 | 1 => (activeIndex(rotation) === 0 ? 1 : 0);

/** 32 random bytes, base64url (43 characters), as the value of a Secret's data (base64). */
export function freshPasswordData(): string {
  return Buffer.from(randomBytes(32).toString('base64url')).toString('base64');
}

// ---- the Kubernetes API, as the pod's ServiceAccount ----

export interface ApiResponse {
  status: number;
  json: any;
}
export type Call = (method: string, path: string, body?: unknown, contentType?: string) => Promise<ApiResponse>;

export interface Connection {
  host: string;
  port: string;
  token: string;
  ca: Buffer;
  namespace: string;
}

/** The in-cluster connection: ServiceAccount token, CA and namespace (SA_DIR overrides the mount for tests). */
export function inClusterConnection(env: Record<string, string | undefined>): Connection {
  const dir = env.SA_DIR || '/var/run/secrets/kubernetes.io/serviceaccount';
  return {
    host: env.KUBERNETES_SERVICE_HOST ?? '',
    port: env.KUBERNETES_SERVICE_PORT ?? '443',
    token: readFileSync(`${dir}/token`, 'utf8').trim(),
    ca: readFileSync(`${dir}/ca.crt`),
    namespace: readFileSync(`${dir}/namespace`, 'utf8').trim(),
  };
}

export function httpsCall(c: Connection): Call {
  return (method, path, body, contentType) =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: c.host,
          port: c.port,
          path,
          method,
          ca: c.ca,
          headers: { authorization: `Bearer ${c.token}`, accept: 'application/json', ...(data ? { 'content-type': contentType ?? 'application/json' } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            let json: unknown = {};
            try {
              json = JSON.parse(text);
            } catch {
              json = {};
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
}

function fail(what: string, r: ApiResponse): never {
  throw new Error(`${what}: HTTP ${r.status} ${String(r.json?.message ?? '')}`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the two modes ----

export interface Io {
  log: (line: string) => void;
  now: () => number;
}

/** Reads a password Secret, creating it with a fresh password (annotated with `rotation`) when absent. */
async function ensureSecret(call: Call, base: string, name: string, s: JobSettings, io: Io): Promise<any> {
  let r = await call('GET', `${base}/${name}`);
  if (r.status === 404) {
    const created = await call('POST', base, {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name, labels: s.labels, annotations: { [ROTATION_ANNOTATION]: String(s.rotation) } },
      data: { [s.passwordKey]: freshPasswordData() },
    });
    if (created.status === 201) {
      io.log(`created ${name} (rotation ${s.rotation})`);
      return created.json;
    }
    if (created.status !== 409) fail(`create ${name}`, created);
    r = await call('GET', `${base}/${name}`);
  }
  if (r.status !== 200) fail(`read ${name}`, r);
  return r.json;
}

/** A fresh password for `secret` unless it already carries rotation `rotation`; returns the current Secret. */
async function renew(call: Call, base: string, secret: any, s: JobSettings, io: Io, verb: string): Promise<any> {
  const name = secret.metadata.name as string;
  const applied = secret.metadata.annotations?.[ROTATION_ANNOTATION] ?? 'none';
  if (applied === String(s.rotation)) {
    io.log(`${name} is at rotation ${s.rotation}: unchanged`);
    return secret;
  }
  const patched = await call(
    'PATCH',
    `${base}/${name}`,
    // The resourceVersion makes the patch fail (409) if anyone changed the Secret since it was read.
    { metadata: { resourceVersion: secret.metadata.resourceVersion, annotations: { [ROTATION_ANNOTATION]: String(s.rotation) } }, data: { [s.passwordKey]: freshPasswordData() } },
    'application/merge-patch+json',
  );
  if (patched.status !== 200) fail(`${verb} ${name}`, patched);
  io.log(`${verb === 'rotate' ? 'replaced the password in' : 'retired the password of'} ${name} (rotation ${applied} -> ${s.rotation})`);
  return patched.json;
}

/** PreSync: both Secrets exist; the active user has rotation N's password, applied by the operator. */
export async function prepare(call: Call, namespace: string, s: JobSettings, io: Io): Promise<void> {
  const base = `/api/v1/namespaces/${namespace}/secrets`;
  const active = activeIndex(s.rotation);
  const secrets = [await ensureSecret(call, base, s.passwordSecrets[0], s, io), await ensureSecret(call, base, s.passwordSecrets[1], s, io)];
  // The operator needs every declared user's password Secret (mongodb_users.go ensureUserResources).
  for (const other of s.otherPasswordSecrets) await ensureSecret(call, base, other, s, io);
  const current = await renew(call, base, secrets[active], s, io, 'rotate');
  const want = current.data?.[s.passwordKey];
  const conn = s.connectionSecrets[active];
  io.log(`rotation ${s.rotation}: the API runs as the user of ${s.passwordSecrets[active]}`);
  for (const start = io.now(); ; ) {
    const c = await call('GET', `${base}/${conn}`);
    if (c.status === 404) {
      // The operator writes it once the replica set is ready (first sync): the API waits for it.
      io.log(`${conn} does not exist yet: the operator writes it once the database is up`);
      return;
    }
    if (c.status !== 200) fail(`read ${conn}`, c);
    if (c.json.data?.password === want) {
      io.log(`the operator has applied the password (${conn} is current)`);
      return;
    }
    if (io.now() - start >= s.waitMs) throw new Error(`the operator has not applied the new password to ${conn} after ${s.waitMs / 1000} s; see kubectl describe mongodbcommunity -n ${namespace}`);
    io.log(`waiting for the operator to apply the new password to ${conn}`);
    await sleep(s.pollMs);
  }
}

/** Pods (by name) whose containers read `secret` through an env secretKeyRef or envFrom. */
export function podsUsingSecret(pods: any[], secret: string): string[] {
  return pods
    .filter((p) =>
      [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].some(
        (c: any) =>
          (c.env ?? []).some((e: any) => e.valueFrom?.secretKeyRef?.name === secret) || (c.envFrom ?? []).some((e: any) => e.secretRef?.name === secret),
      ),
    )
    .map((p) => String(p.metadata?.name));
}

/** PostSync: once no API pod uses the idle user, that user's password is replaced by one nobody holds. */
export async function retire(call: Call, namespace: string, s: JobSettings, io: Io): Promise<void> {
  const idle = idleIndex(s.rotation);
  const conn = s.connectionSecrets[idle];
  const podsPath = `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(s.apiSelector)}`;
  for (const start = io.now(); ; ) {
    const r = await call('GET', podsPath);
    if (r.status !== 200) fail('list the API pods', r);
    // Terminating pods are listed until they are gone: they may still open connections.
    const using = podsUsingSecret(r.json.items ?? [], conn);
    if (using.length === 0) break;
    if (io.now() - start >= s.waitMs) throw new Error(`pods still run as the previous user after ${s.waitMs / 1000} s: ${using.join(', ')}; see kubectl rollout status deployment -n ${namespace}`);
    io.log(`waiting for ${using.length} pod(s) still using ${conn} to be replaced`);
    await sleep(s.pollMs);
  }
  const base = `/api/v1/namespaces/${namespace}/secrets`;
  const secret = await ensureSecret(call, base, s.passwordSecrets[idle], s, io);
  await renew(call, base, secret, s, io, 'retire');
}

export async function runJob(call: Call, namespace: string, s: JobSettings, io: Io): Promise<void> {
  if (s.mode === 'prepare') await prepare(call, namespace, s, io);
  else await retire(call, namespace, s, io);
}

if (import.meta.main) {
  try {
    const s = settingsFromEnv(process.argv[2], process.env);
    const c = inClusterConnection(process.env);
    await runJob(httpsCall(c), c.namespace, s, { log: (line) => console.log(line), now: () => Date.now() });
  } catch (error) {
    console.error(String((error as Error)?.message ?? error));
    process.exitCode = 1;
  }
}
