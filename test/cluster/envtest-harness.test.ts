// Proves the shared real API server: an admin can write, a token without grants is denied by RBAC,
// and the TokenRequest API issues a token that acts as the ServiceAccount with exactly its Role.
import { beforeAll, expect, it } from 'vitest';
import { describeEnvtest, startPrivateEnvtest, uniqueName, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';

describeEnvtest('envtest harness', () => {
  let env: Envtest;
  const ns = uniqueName('harness');
  beforeAll(async () => {
    env = await useEnvtest();
  });

  it('the admin token creates a namespace and a ConfigMap (kube-apiserver v1.28)', async () => {
    expect((await env.kubectl(['create', 'namespace', ns])).code).toBe(0);
    const r = await env.kubectl(['-n', ns, 'create', 'configmap', 'probe', '--from-literal=a=b']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const v = await env.kubectl(['version', '-o', 'json']);
    expect(JSON.parse(v.stdout).serverVersion.gitVersion).toBe('v1.28.0');
  });

  it('the upstream CRDs of Argo CD v3.5.1 and MCK 1.10.0 are established (kube-apiserver v1.28)', async () => {
    const r = await env.kubectl(['get', 'crd', '-o', 'name']);
    expect(r.stdout).toContain('applications.argoproj.io');
    expect(r.stdout).toContain('appprojects.argoproj.io');
    expect(r.stdout).toContain('mongodbcommunity.mongodbcommunity.mongodb.com');
  });

  it('the no-rights token is authenticated but denied by RBAC (kube-apiserver v1.28)', async () => {
    const r = await env.kubectl(['-n', ns, 'get', 'configmaps'], { token: env.noRightsToken });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/forbidden: User "envtest-nobody" cannot list resource "configmaps"/);
    const bad = await env.kubectl(['get', 'namespaces'], { token: 'not-a-token' });
    expect(bad.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  it('TokenRequest gives a ServiceAccount token that can do what its Role allows and nothing more (kube-apiserver v1.28)', async () => {
    await env.kubectl(['-n', ns, 'create', 'serviceaccount', 'reader']);
    await env.kubectl(['-n', ns, 'create', 'role', 'cm-reader', '--verb=get,list', '--resource=configmaps']);
    await env.kubectl(['-n', ns, 'create', 'rolebinding', 'cm-reader', '--role=cm-reader', `--serviceaccount=${ns}:reader`]);
    const token = await env.serviceAccountToken(ns, 'reader');
    const kc = env.kubeconfigForToken(token);
    const ok = await env.kubectl(['--kubeconfig', kc, '-n', ns, 'get', 'configmap', 'probe', '-o', 'name']);
    expect(ok.stdout.trim()).toBe('configmap/probe');
    const denied = await env.kubectl(['--kubeconfig', kc, '-n', ns, 'delete', 'configmap', 'probe']);
    expect(denied.stderr).toContain(`system:serviceaccount:${ns}:reader`);
    expect(denied.stderr).toContain('forbidden');
  });
});

describeEnvtest('envtest harness teardown', () => {
  it('a private server is stopped by PID: etcd and kube-apiserver are gone, the server no longer answers (kube-apiserver v1.28)', async () => {
    const priv = await startPrivateEnvtest();
    const version = await priv.kubectl(['version', '-o', 'json']);
    expect(version.code).toBe(0);
    const pids = priv.pids;
    expect(pids).toHaveLength(2); // etcd, kube-apiserver
    for (const pid of pids) expect(() => process.kill(pid, 0), `pid ${pid} runs`).not.toThrow();
    await priv.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0), `pid ${pid}`).toThrow();
    expect((await priv.kubectl(['version', '-o', 'json', '--request-timeout=3s'])).code).not.toBe(0);
  }, 120_000);
});
