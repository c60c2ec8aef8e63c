// The database password hook (scripts/lib/secrets/hook.ts) on a real API server: its own program,
// run as its ServiceAccount with a TokenRequest token, creates the Secret once, rotates it when the
// counter is raised, waits for the operator, never prints the value — and the Role lets it do that
// and nothing more.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { MONGODB } from '../../scripts/lib/spec.ts';
import { PASSWORD_HOOK_NAME, PASSWORD_HOOK_PROGRAM, passwordHookRbac, ROTATION_ANNOTATION } from '../../scripts/lib/secrets/hook.ts';
import { describeEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';

interface Run { code: number; stdout: string; stderr: string }

/** Runs the hook's program as the pod would, with the ServiceAccount's token and the cluster CA. */
function runHook(env: Envtest, saDir: string, rotation: string, opts: { waitSeconds?: number; whileWaiting?: () => Promise<void> } = {}): Promise<Run> {
  const url = new URL(env.server);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', PASSWORD_HOOK_PROGRAM], {
      env: {
        PATH: process.env.PATH,
        SA_DIR: saDir,
        KUBERNETES_SERVICE_HOST: url.hostname,
        KUBERNETES_SERVICE_PORT: url.port,
        PASSWORD_SECRET_NAME: MONGODB.passwordSecret,
        PASSWORD_KEY_NAME: MONGODB.passwordKey,
        CONNECTION_SECRET_NAME: MONGODB.connectionSecret,
        ROTATION: rotation,
        WAIT_SECONDS: String(opts.waitSeconds ?? 60),
        POLL_MS: '100',
      },
    });
    let stdout = '';
    let stderr = '';
    let acted = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (!acted && opts.whileWaiting && stdout.includes('waiting for the operator')) {
        acted = true;
        void opts.whileWaiting();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describeEnvtest('database password hook', () => {
  let env: Envtest;
  let saDir: string;
  let asHook: string;
  const ns = uniqueName('pwhook');

  async function secret(name: string): Promise<{ data: Record<string, string>; metadata: { annotations?: Record<string, string> } } | undefined> {
    const r = await env.kubectl(['-n', ns, 'get', 'secret', name, '-o', 'json']);
    return r.code === 0 ? JSON.parse(r.stdout) : undefined;
  }
  const password = async () => Buffer.from((await secret(MONGODB.passwordSecret))!.data[MONGODB.passwordKey]!, 'base64').toString();
  /** What the operator does once the user has the new password: rewrite the connection-string Secret. */
  async function operatorWritesConnectionSecret(): Promise<void> {
    const pw = await password();
    const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: MONGODB.connectionSecret, namespace: ns }, stringData: { username: MONGODB.appUser, password: pw } };
    const r = await env.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', 'mongodb-kubernetes-operator', '-f', '-'], { input: JSON.stringify(manifest) });
    expect(r.stderr).toBe('');
  }

  beforeAll(async () => {
    env = await useEnvtest();
    expect((await env.kubectl(['create', 'namespace', ns])).code).toBe(0);
    // The hook's ServiceAccount, Role and RoleBinding exactly as generated (the overlay sets the namespace).
    const rbac = passwordHookRbac().map((o) => {
      const obj = structuredClone(o) as { metadata: { namespace?: string }; subjects?: Array<{ namespace: string }> };
      obj.metadata.namespace = ns;
      for (const s of obj.subjects ?? []) s.namespace = ns;
      return obj;
    });
    const applied = await env.kubectl(['apply', '--server-side', '-f', '-'], { input: rbac.map((o) => JSON.stringify(o)).join('\n') });
    expect(applied.stderr).toBe('');
    const token = await env.serviceAccountToken(ns, PASSWORD_HOOK_NAME);
    asHook = env.kubeconfigForToken(token);
    saDir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(saDir, 'token'), token, { mode: 0o600 });
    writeFileSync(join(saDir, 'ca.crt'), env.caPem);
    writeFileSync(join(saDir, 'namespace'), ns);
  }, 120_000);

  it('creates the password Secret once, with a random value it never prints (kube-apiserver v1.28)', async () => {
    const first = await runHook(env, saDir, '0');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`created ${ns}/${MONGODB.passwordSecret} (rotation 0)`);
    const pw = await password();
    expect(pw).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.stdout).not.toContain(pw);
    expect((await secret(MONGODB.passwordSecret))!.metadata.annotations![ROTATION_ANNOTATION]).toBe('0');

    const again = await runHook(env, saDir, '0');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('is at rotation 0: unchanged');
    expect(await password()).toBe(pw);
  }, 120_000);

  it('a raised counter replaces the password and waits until the operator has applied it (kube-apiserver v1.28)', async () => {
    await operatorWritesConnectionSecret(); // the database is up with the current password
    const before = await password();
    const r = await runHook(env, saDir, '1', { whileWaiting: operatorWritesConnectionSecret });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(rotation 0 -> 1)');
    expect(r.stdout).toContain('the operator has applied the password');
    const after = await password();
    expect(after).not.toBe(before);
    expect(`${r.stdout}${r.stderr}`).not.toContain(after);
    expect((await secret(MONGODB.passwordSecret))!.metadata.annotations![ROTATION_ANNOTATION]).toBe('1');
  }, 120_000);

  it('fails (so Argo CD retries the sync) when the operator does not apply the new password in time (kube-apiserver v1.28)', async () => {
    const r = await runHook(env, saDir, '2', { waitSeconds: 1 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the operator has not applied the new password to ${MONGODB.connectionSecret}`);
    // A retry does not rotate again: the counter is applied, it only waits for the operator.
    const retry = await runHook(env, saDir, '2', { whileWaiting: operatorWritesConnectionSecret });
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('is at rotation 2: unchanged');
  }, 120_000);

  it('a lowered counter (a reverted rotation commit) is a change too: it rotates again (kube-apiserver v1.28)', async () => {
    const before = await password();
    const r = await runHook(env, saDir, '1', { whileWaiting: operatorWritesConnectionSecret });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('(rotation 2 -> 1)');
    expect(await password()).not.toBe(before);
  }, 120_000);

  it('the Role allows exactly that: no list, no other Secret, no delete, nothing else (kube-apiserver v1.28)', async () => {
    await env.kubectl(['-n', ns, 'create', 'secret', 'generic', 'someone-elses', '--from-literal=k=dummy-value']);
    const denied = async (args: string[]) => {
      const r = await env.kubectl(['--kubeconfig', asHook, '-n', ns, ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toContain(`system:serviceaccount:${ns}:${PASSWORD_HOOK_NAME}`);
    };
    await denied(['get', 'secrets']);
    await denied(['get', 'secret', 'someone-elses']);
    await denied(['delete', 'secret', MONGODB.passwordSecret]);
    await denied(['patch', 'secret', MONGODB.connectionSecret, '-p', '{"metadata":{"labels":{"x":"y"}}}']);
    await denied(['patch', 'secret', 'someone-elses', '-p', '{"metadata":{"labels":{"x":"y"}}}']);
    await denied(['get', 'configmaps']);
    await denied(['create', 'configmap', 'x', '--from-literal=a=b']);
    await denied(['get', 'secret', MONGODB.passwordSecret, '-n', 'default']);
    const ok = await env.kubectl(['--kubeconfig', asHook, '-n', ns, 'get', 'secret', MONGODB.passwordSecret, '-o', 'name']);
    expect(ok.stdout.trim()).toBe(`secret/${MONGODB.passwordSecret}`);
    // The server's own account of what the token may do in the namespace (SelfSubjectRulesReview):
    // the three Secret rules, and only what every authenticated user has (self reviews).
    const rules = await env.kubectl(['--kubeconfig', asHook, '-n', ns, 'auth', 'can-i', '--list']);
    expect(rules.code).toBe(0);
    const resourceRows = rules.stdout.split('\n').slice(1).map((l) => l.trim().split(/\s{2,}/)).filter((cols) => cols.length === 4 && cols[0] !== '');
    const mine = resourceRows.filter(([resource]) => !/^selfsubject\w+\.(authentication|authorization)\.k8s\.io$/.test(resource!));
    expect(mine.map((cols) => cols.join(' | ')).sort()).toEqual([
      'secrets | [] | [] | [create]',
      `secrets | [] | [${MONGODB.connectionSecret}] | [get]`,
      `secrets | [] | [${MONGODB.passwordSecret}] | [get patch]`,
    ].sort());
  }, 120_000);

  it('`create` cannot be limited by resourceNames, which is why the Role grants it unnamed (kube-apiserver v1.28)', async () => {
    await env.kubectl(['-n', ns, 'create', 'serviceaccount', 'named-create']);
    await env.kubectl(['-n', ns, 'create', 'role', 'named-create', '--verb=create', '--resource=secrets', `--resource-name=${MONGODB.passwordSecret}`]);
    await env.kubectl(['-n', ns, 'create', 'rolebinding', 'named-create', '--role=named-create', `--serviceaccount=${ns}:named-create`]);
    const kc = env.kubeconfigForToken(await env.serviceAccountToken(ns, 'named-create'));
    const r = await env.kubectl(['--kubeconfig', kc, '-n', ns, 'create', 'secret', 'generic', MONGODB.passwordSecret, '--from-literal=password=dummy-value']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/forbidden/);
  }, 120_000);
});
