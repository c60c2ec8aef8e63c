// The database password Jobs (scripts/lib/secrets/password-job.ts, shipped by scripts/lib/generate/mongodb/password-hook.ts)
// on a real API server: the program exactly as the ConfigMap carries it (rendered by Kustomize from the
// generated base), run by Node 24 as a .ts file in a directory of its own, as each Job's ServiceAccount
// with a TokenRequest token. `prepare` creates both users' Secrets once, rotates the active user's,
// waits for the operator; `retire` waits until no API pod runs as the idle user, then replaces its
// password; neither prints a value, and each Role allows exactly that.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MONGODB } from '../../scripts/lib/inputs/spec.ts';
import { APP_USERS, appUserConnectionSecret, appUserPasswordSecret, BACKUP_USER, MONITOR_USER } from '../../scripts/lib/inputs/mongodb.ts';
import {
  PASSWORD_HOOK_NAME, PASSWORD_JOB_CONFIGMAP, PASSWORD_JOB_FILE, PASSWORD_JOB_KEY, PASSWORD_JOB_IMAGE, PASSWORD_RETIRE_NAME, passwordHookJob, passwordHookRbac,
  passwordRetireJob, passwordRetireRbac, ROTATION_ANNOTATION,
} from '../../scripts/lib/generate/mongodb/password-hook.ts';
import { activeIndex, idleIndex, podsUsingSecret, settingsFromEnv } from '../../scripts/lib/secrets/password-job.ts';
import { describeEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const [PW_A, PW_B] = APP_USERS.map(appUserPasswordSecret) as [string, string];
const [CONN_A, CONN_B] = APP_USERS.map(appUserConnectionSecret) as [string, string];

/** The program as the cluster gets it: the ConfigMap of the rendered replica-set base, written alone into a fresh directory. */
function shippedProgram(): string {
  const r = spawnSync('kubectl', ['kustomize', join(ROOT, 'platform/mongodb/replicaset')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const cm = parseAllDocuments(r.stdout).map((d) => d.toJS()).find((o) => o.kind === 'ConfigMap' && String(o.metadata.name).startsWith(`${PASSWORD_JOB_CONFIGMAP}-`));
  expect(cm, 'the ConfigMap of the program').toBeDefined();
  const dir = mkdtempSync(join(tmpdir(), 'password-job-'));
  writeFileSync(join(dir, PASSWORD_JOB_FILE), cm.data[PASSWORD_JOB_KEY]);
  return join(dir, PASSWORD_JOB_FILE);
}

describe('password Job program and image', () => {
  it('runs on the Dockerfile\'s pinned Node 24 base image (tag and digest), not the users-api image', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`ARG NODE_IMAGE=${PASSWORD_JOB_IMAGE}`);
    expect(PASSWORD_JOB_IMAGE).toMatch(/^node:24\.\d+\.\d+-alpine[\d.]+@sha256:[0-9a-f]{64}$/);
    for (const job of [passwordHookJob(), passwordRetireJob()] as any[]) {
      const c = job.spec.template.spec.containers[0];
      expect(c.image).toBe(PASSWORD_JOB_IMAGE);
      expect(c.command.slice(0, 2)).toEqual(['node', `/opt/password-job/${PASSWORD_JOB_KEY}`]);
    }
  });

  it('the generated copy is the module byte for byte', () => {
    expect(readFileSync(join(ROOT, 'platform/mongodb/replicaset', PASSWORD_JOB_FILE), 'utf8')).toBe(readFileSync(join(ROOT, 'scripts/lib/secrets', PASSWORD_JOB_FILE), 'utf8'));
  });

  it('rotation N runs the API as user a when even, b when odd; the other one is idle', () => {
    expect([0, 1, 2, 3].map(activeIndex)).toEqual([0, 1, 0, 1]);
    expect([0, 1, 2, 3].map(idleIndex)).toEqual([1, 0, 1, 0]);
  });

  it('bad settings are named, not guessed', () => {
    const ok = { ROTATION: '1', PASSWORD_SECRET_NAME: 'a,b', PASSWORD_KEY_NAME: 'password', CONNECTION_SECRET_NAME: 'c,d' };
    expect(settingsFromEnv('prepare', ok)).toMatchObject({ rotation: 1, passwordSecrets: ['a', 'b'], connectionSecrets: ['c', 'd'] });
    expect(() => settingsFromEnv('rotate', ok)).toThrow(/usage: node password-job.ts prepare\|retire/);
    expect(() => settingsFromEnv('prepare', { ...ok, ROTATION: '-1' })).toThrow(/ROTATION must be a whole number/);
    expect(() => settingsFromEnv('prepare', { ...ok, PASSWORD_SECRET_NAME: 'a' })).toThrow(/PASSWORD_SECRET_NAME must name exactly two Secrets/);
    expect(() => settingsFromEnv('retire', { ...ok, PASSWORD_KEY_NAME: undefined })).toThrow(/PASSWORD_KEY_NAME is required/);
  });

  it('a pod uses a Secret through env secretKeyRef or envFrom; others do not count', () => {
    const pod = (name: string, c: object) => ({ metadata: { name }, spec: { containers: [c] } });
    const pods = [
      pod('p1', { env: [{ name: 'MONGODB_URI', valueFrom: { secretKeyRef: { name: CONN_A, key: 'k' } } }] }),
      pod('p2', { envFrom: [{ secretRef: { name: CONN_A } }] }),
      pod('p3', { env: [{ name: 'MONGODB_URI', valueFrom: { secretKeyRef: { name: CONN_B, key: 'k' } } }] }),
    ];
    expect(podsUsingSecret(pods, CONN_A)).toEqual(['p1', 'p2']);
    expect(podsUsingSecret(pods, 'other')).toEqual([]);
  });
});

interface Run { code: number; stdout: string; stderr: string }

describeEnvtest('database password Jobs', () => {
  let env: Envtest;
  let program: string;
  const sa: Record<string, string> = {};
  const kubeconfig: Record<string, string> = {};
  const ns = uniqueName('pwhook');
  /** The program's and the ServiceAccounts' directories, removed after the file's tests. */
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the shipped program as the pod would, with its ServiceAccount's token and the cluster CA. */
  function run(mode: 'prepare' | 'retire', rotation: string, opts: { waitSeconds?: number; whileWaiting?: () => Promise<void> } = {}): Promise<Run> {
    const url = new URL(env.server);
    const job = (mode === 'prepare' ? passwordHookJob() : passwordRetireJob()) as any;
    const vars = Object.fromEntries((job.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [program, mode], {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH, ...vars, ROTATION: rotation, SA_DIR: sa[mode], KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, WAIT_SECONDS: String(opts.waitSeconds ?? 60), POLL_MS: '100' },
      });
      let stdout = '';
      let stderr = '';
      let acted = false;
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
        if (!acted && opts.whileWaiting && /waiting for/.test(stdout)) {
          acted = true;
          void opts.whileWaiting();
        }
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
  }

  async function secret(name: string): Promise<{ data: Record<string, string>; metadata: { annotations?: Record<string, string> } } | undefined> {
    const r = await env.kubectl(['-n', ns, 'get', 'secret', name, '-o', 'json']);
    return r.code === 0 ? JSON.parse(r.stdout) : undefined;
  }
  const password = async (name: string) => Buffer.from((await secret(name))!.data[MONGODB.passwordKey]!, 'base64').toString();
  const rotationOn = async (name: string) => (await secret(name))!.metadata.annotations![ROTATION_ANNOTATION];
  /** What the operator does once a user has its new password (mongodb_users.go updateConnectionStringSecrets). */
  const operatorWrites = (user: 0 | 1) => async (): Promise<void> => {
    const pw = await password([PW_A, PW_B][user]!);
    const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: [CONN_A, CONN_B][user], namespace: ns }, stringData: { username: APP_USERS[user], password: pw } };
    const r = await env.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', 'mongodb-kubernetes-operator', '-f', '-'], { input: JSON.stringify(manifest) });
    expect(r.stderr).toBe('');
  };
  const apiPod = (name: string, conn: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/name': 'users-api' } },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'api', image: 'example.invalid/api:1', env: [{ name: 'MONGODB_URI', valueFrom: { secretKeyRef: { name: conn, key: MONGODB.connectionKey } } }] }] },
  });

  beforeAll(async () => {
    env = await useEnvtest();
    program = shippedProgram();
    made.push(dirname(program));
    expect((await env.kubectl(['create', 'namespace', ns])).code).toBe(0);
    await env.kubectl(['-n', ns, 'create', 'serviceaccount', 'default']);
    // Both Jobs' ServiceAccounts, Roles and RoleBindings exactly as generated (the overlay sets the namespace).
    const rbac = [...passwordHookRbac(), ...passwordRetireRbac()].map((o) => {
      const obj = structuredClone(o) as { metadata: { namespace?: string }; subjects?: Array<{ namespace: string }> };
      obj.metadata.namespace = ns;
      for (const s of obj.subjects ?? []) s.namespace = ns;
      return obj;
    });
    const applied = await env.kubectl(['apply', '--server-side', '-f', '-'], { input: rbac.map((o) => JSON.stringify(o)).join('\n') });
    expect(applied.stderr).toBe('');
    for (const [mode, name] of [['prepare', PASSWORD_HOOK_NAME], ['retire', PASSWORD_RETIRE_NAME]] as const) {
      const token = await env.serviceAccountToken(ns, name);
      kubeconfig[mode] = env.kubeconfigForToken(token);
      const dir = mkdtempSync(join(tmpdir(), 'sa-'));
      made.push(dir);
      writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
      writeFileSync(join(dir, 'ca.crt'), env.caPem);
      writeFileSync(join(dir, 'namespace'), ns);
      sa[mode] = dir;
    }
  }, 120_000);

  it('prepare creates both users\' password Secrets once, with random values it never prints (kube-apiserver v1.28)', async () => {
    const first = await run('prepare', '0');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`created ${PW_A} (rotation 0)`);
    expect(first.stdout).toContain(`created ${PW_B} (rotation 0)`);
    expect(first.stdout).toContain(`created ${appUserPasswordSecret(BACKUP_USER)} (rotation 0)`);
    expect(first.stdout).toContain(`created ${appUserPasswordSecret(MONITOR_USER)} (rotation 0)`);
    const [a, b] = [await password(PW_A), await password(PW_B)];
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b).not.toBe(a);
    expect(first.stdout).not.toContain(a);
    expect(first.stdout).not.toContain(b);
    const again = await run('prepare', '0');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${PW_A} is at rotation 0: unchanged`);
    expect([await password(PW_A), await password(PW_B)]).toEqual([a, b]);
  }, 120_000);

  it('rotation 1: prepare gives user b a fresh password, leaves a alone (the running pods), and waits for the operator (kube-apiserver v1.28)', async () => {
    // The database is up: the operator has written both users' connection strings; the API runs as a.
    await operatorWrites(0)();
    await operatorWrites(1)();
    const [a, b] = [await password(PW_A), await password(PW_B)];
    const r = await run('prepare', '1', { whileWaiting: operatorWrites(1) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`replaced the password in ${PW_B} (rotation 0 -> 1)`);
    expect(r.stdout).toContain(`the operator has applied the password (${CONN_B} is current)`);
    expect(await password(PW_A)).toBe(a);
    const b1 = await password(PW_B);
    expect(b1).not.toBe(b);
    expect(`${r.stdout}${r.stderr}`).not.toContain(b1);
    expect(await rotationOn(PW_B)).toBe('1');
  }, 120_000);

  it('retire waits while a pod still runs as user a, then replaces a\'s password only (kube-apiserver v1.28)', async () => {
    const created = await env.kubectl(['apply', '-f', '-'], { input: JSON.stringify(apiPod('api-old', CONN_A)) + '\n' + JSON.stringify(apiPod('api-new', CONN_B)) });
    expect(created.code, created.stderr).toBe(0);
    const [a, b] = [await password(PW_A), await password(PW_B)];
    const r = await run('retire', '1', { whileWaiting: async () => void (await env.kubectl(['-n', ns, 'delete', 'pod', 'api-old', '--wait=false'])) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`waiting for 1 pod(s) still using ${CONN_A} to be replaced`);
    expect(r.stdout).toContain(`retired the password of ${PW_A} (rotation 0 -> 1)`);
    expect(await password(PW_A)).not.toBe(a);
    expect(await password(PW_B)).toBe(b);
    // Idempotent: a second PostSync (a retried sync) changes nothing.
    const again = await run('retire', '1');
    expect(again.stdout).toContain(`${PW_A} is at rotation 1: unchanged`);
  }, 120_000);

  it('retire fails (the sync is retried) while old pods remain past the wait; nothing is replaced (kube-apiserver v1.28)', async () => {
    await env.kubectl(['apply', '-f', '-'], { input: JSON.stringify(apiPod('api-stuck', CONN_B)) });
    const b = await password(PW_B);
    const r = await run('retire', '2', { waitSeconds: 1 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pods still run as the previous user after 1 s: .*api-stuck/);
    expect(await password(PW_B)).toBe(b);
    await env.kubectl(['-n', ns, 'delete', 'pod', 'api-stuck', '--wait=false']);
  }, 120_000);

  it('prepare fails (so Argo CD retries the sync) when the operator does not apply the new password in time; a retry does not rotate again (kube-apiserver v1.28)', async () => {
    const r = await run('prepare', '2', { waitSeconds: 1 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the operator has not applied the new password to ${CONN_A}`);
    const retry = await run('prepare', '2', { whileWaiting: operatorWrites(0) });
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain(`${PW_A} is at rotation 2: unchanged`);
  }, 120_000);

  it('each Role allows exactly that: no list of Secrets, no other Secret, no delete, retire cannot create (kube-apiserver v1.28)', async () => {
    await env.kubectl(['-n', ns, 'create', 'secret', 'generic', 'someone-elses', '--from-literal=k=dummy-value']);
    const denied = async (mode: 'prepare' | 'retire', args: string[]) => {
      const r = await env.kubectl(['--kubeconfig', kubeconfig[mode]!, '-n', ns, ...args]);
      expect(r.code, `${mode}: ${args.join(' ')}`).not.toBe(0);
      expect(r.stderr, args.join(' ')).toContain(`system:serviceaccount:${ns}:`);
    };
    for (const mode of ['prepare', 'retire'] as const) {
      await denied(mode, ['get', 'secrets']);
      await denied(mode, ['get', 'secret', 'someone-elses']);
      await denied(mode, ['delete', 'secret', PW_A]);
      await denied(mode, ['patch', 'secret', 'someone-elses', '-p', '{"metadata":{"labels":{"x":"y"}}}']);
      await denied(mode, ['get', 'configmaps']);
      await denied(mode, ['get', 'secret', PW_A, '-n', 'default']);
    }
    await denied('prepare', ['get', 'pods']);
    await denied('prepare', ['patch', 'secret', CONN_A, '-p', '{"metadata":{"labels":{"x":"y"}}}']);
    await denied('retire', ['create', 'secret', 'generic', 'new-one', '--from-literal=k=dummy-value']);
    await denied('retire', ['get', 'secret', CONN_A]);
    await denied('retire', ['delete', 'pod', 'api-new']);
    // The server's own account of each token's rights in the namespace (SelfSubjectRulesReview).
    const rulesOf = async (mode: 'prepare' | 'retire') => {
      const rules = await env.kubectl(['--kubeconfig', kubeconfig[mode]!, '-n', ns, 'auth', 'can-i', '--list']);
      expect(rules.code).toBe(0);
      const rows = rules.stdout.split('\n').slice(1).map((l) => l.trim().split(/\s{2,}/)).filter((cols) => cols.length === 4 && cols[0] !== '');
      return rows.filter(([resource]) => !/^selfsubject\w+\.(authentication|authorization)\.k8s\.io$/.test(resource!)).map((cols) => cols.join(' | ')).sort();
    };
    expect(await rulesOf('prepare')).toEqual([
      'secrets | [] | [] | [create]',
      `secrets | [] | [${CONN_A}] | [get]`,
      `secrets | [] | [${CONN_B}] | [get]`,
      // The backup user's password Secret: created when absent (unnamed create), read, never rotated.
      `secrets | [] | [${appUserPasswordSecret(BACKUP_USER)}] | [get]`,
      // The monitoring user's (the metrics exporter's), the same way.
      `secrets | [] | [${appUserPasswordSecret(MONITOR_USER)}] | [get]`,
      `secrets | [] | [${PW_A}] | [get patch]`,
      `secrets | [] | [${PW_B}] | [get patch]`,
    ].sort());
    expect(await rulesOf('retire')).toEqual(['pods | [] | [] | [list]', `secrets | [] | [${PW_A}] | [get patch]`, `secrets | [] | [${PW_B}] | [get patch]`].sort());
  }, 120_000);

  it('`create` cannot be limited by resourceNames, which is why the prepare Role grants it unnamed (kube-apiserver v1.28)', async () => {
    await env.kubectl(['-n', ns, 'create', 'serviceaccount', 'named-create']);
    await env.kubectl(['-n', ns, 'create', 'role', 'named-create', '--verb=create', '--resource=secrets', `--resource-name=${PW_A}`]);
    await env.kubectl(['-n', ns, 'create', 'rolebinding', 'named-create', '--role=named-create', `--serviceaccount=${ns}:named-create`]);
    const kc = env.kubeconfigForToken(await env.serviceAccountToken(ns, 'named-create'));
    const r = await env.kubectl(['--kubeconfig', kc, '-n', ns, 'create', 'secret', 'generic', 'users-db-x-password', '--from-literal=password=dummy-value']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/forbidden/);
  }, 120_000);
});
