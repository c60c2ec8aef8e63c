// The commands on a copy of this repository given three clusters: generate and validate pass (exit 0),
// an environment on an unknown cluster is refused (exit 2, nothing written); bootstrap --cluster from the
// command line against two real API servers (kubeconfig with two contexts), printing what it granted.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { copyRepository, type SyncRepoCopy as RepoCopy } from '../support/repo-copy.ts';
import { describeEnvtest, startPrivateEnvtest, uniqueName, useEnvtest, type Envtest } from '../support/envtest/index.ts';

function withClusters(copy: RepoCopy, prodEuServer: string, argocdNamespace?: string): void {
  const gitops = join(copy.dir, 'gitops.yaml');
  let text = readFileSync(gitops, 'utf8');
  if (argocdNamespace) text = text.replace(/^ {2}namespace: argocd$/m, `  namespace: ${argocdNamespace}`);
  text += [
    '',
    '# Three clusters (test): Argo CD in in-cluster, prod on prod-eu, staging on prod-us.',
    'clusters:',
    '  in-cluster: { context: control }',
    `  prod-eu: { server: "${prodEuServer}", context: prod-eu }`,
    '  prod-us: { server: "https://prod-us.example.com:6443" }',
    '',
  ].join('\n');
  writeFileSync(gitops, text);
  for (const [env, cluster] of [['prod', 'prod-eu'], ['staging', 'prod-us']]) {
    const file = join(copy.dir, `overlays/${env}/env.yaml`);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^namespace: (.*)$/m, `namespace: $1\ncluster: ${cluster}`));
  }
}

describe('three clusters from the command line', () => {
  let copy: RepoCopy;
  beforeAll(() => {
    copy = copyRepository('clusters-cli');
    withClusters(copy, 'https://prod-eu.example.com:6443');
  }, 120_000);
  afterAll(() => copy?.remove());

  it('generate writes destinations by cluster name and validate passes (exit 0)', () => {
    const gen = copy.run(['scripts/generate.ts']);
    expect(gen.stderr).toBe('');
    expect(gen.status).toBe(0);
    const app = parse(readFileSync(join(copy.dir, 'argocd/apps/prod.yaml'), 'utf8'));
    expect(app.spec.destination).toEqual({ name: 'prod-eu', namespace: 'prod' });
    expect(parse(readFileSync(join(copy.dir, 'argocd/apps/mongodb-operator-prod-us.yaml'), 'utf8')).spec.source.helm.valuesObject.operator.watchNamespace).toBe('staging');
    const val = copy.run(['scripts/validate.ts']);
    expect(`${val.stdout}${val.stderr}`).toMatch(/no findings/);
    expect(val.status).toBe(0);
  }, 300_000);

  it('promote across clusters works unchanged: staging (prod-us) to prod (prod-eu) edits only prod\'s tag and digest', () => {
    // prod is protected: promote pins the tag by digest, and without --digest it asks the registry, which
    // tests cannot reach (scripts/promote.ts usage). Staging pins 0.2.0 by this digest; promote is given the same.
    const digest = `sha256:${'2'.repeat(64)}`;
    const staging = join(copy.dir, 'overlays/staging/env.yaml');
    writeFileSync(staging, readFileSync(staging, 'utf8').replace(/^tag: .*$/m, 'tag: 0.2.0').replace(/^digest: .*$/m, `digest: ${digest}`));
    expect(copy.run(['scripts/generate.ts']).status).toBe(0);
    const prodFile = join(copy.dir, 'overlays/prod/env.yaml');
    const prodBefore = parse(readFileSync(prodFile, 'utf8'));
    const r = copy.run(['scripts/promote.ts', 'staging', 'prod', '--digest', digest]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const prod = parse(readFileSync(prodFile, 'utf8'));
    expect([prod.tag, prod.digest, prod.cluster]).toEqual(['0.2.0', digest, 'prod-eu']);
    expect({ ...prod, tag: prodBefore.tag, digest: prodBefore.digest }).toEqual(prodBefore);
    expect(parse(readFileSync(join(copy.dir, 'argocd/apps/prod.yaml'), 'utf8')).spec.destination).toEqual({ name: 'prod-eu', namespace: 'prod' });
  });

  it('an environment on an unknown cluster: exit 2 naming the file and field, nothing written', () => {
    const file = join(copy.dir, 'overlays/dev/env.yaml');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, before.replace(/^namespace: dev$/m, 'namespace: dev\ncluster: prod-ap'));
    const status = copy.git('status', '--porcelain');
    const gen = copy.run(['scripts/generate.ts']);
    expect(gen.status).toBe(2);
    expect(gen.stderr).toContain('overlays/dev/env.yaml /cluster: cluster "prod-ap" is not one of gitops.yaml clusters (in-cluster, prod-eu, prod-us)');
    expect(copy.git('status', '--porcelain')).toBe(status);
    writeFileSync(file, before);
  });

  it('bootstrap --cluster refuses in-cluster, an unknown cluster and a cluster without a context before any request (exit 2)', () => {
    for (const [name, message] of [['in-cluster', 'needs no registration'], ['prod-ap', 'is not in gitops.yaml clusters'], ['prod-us', 'pass --context <ctx> or set clusters.prod-us.context']] as const) {
      const r = copy.run(['scripts/bootstrap.ts', '--cluster', name], { KUBECONFIG: '/nonexistent/kubeconfig' });
      expect(r.stderr).toContain(message);
      expect(r.status).toBe(2);
    }
  });
});

describeEnvtest('bootstrap --cluster from the command line', () => {
  let control: Envtest;
  let target: Envtest & { stop(): Promise<void> };
  let copy: RepoCopy;
  let kubeconfig: string;
  let argocdNs: string;

  beforeAll(async () => {
    control = await useEnvtest();
    target = await startPrivateEnvtest();
    argocdNs = uniqueName('argocd');
    await control.kubectl(['create', 'namespace', argocdNs]);
    copy = copyRepository('clusters-bootstrap');
    withClusters(copy, target.server, argocdNs);
    const gen = copy.run(['scripts/generate.ts']);
    if (gen.status !== 0) throw new Error(gen.stderr);
    // One kubeconfig, two contexts: the cluster Argo CD runs in, and prod-eu.
    const ca = (pem: string) => Buffer.from(pem).toString('base64');
    kubeconfig = join(copy.dir, '.cache-kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config',
      'clusters:',
      `- name: control\n  cluster:\n    server: ${control.server}\n    certificate-authority-data: ${ca(control.caPem)}`,
      `- name: prod-eu\n  cluster:\n    server: ${target.server}\n    certificate-authority-data: ${ca(target.caPem)}`,
      'users:',
      `- name: control\n  user:\n    token: ${control.adminToken}`,
      `- name: prod-eu\n  user:\n    token: ${target.adminToken}`,
      'contexts:',
      '- name: control\n  context:\n    cluster: control\n    user: control',
      '- name: prod-eu\n  context:\n    cluster: prod-eu\n    user: prod-eu',
      'current-context: prod-eu', '',
    ].join('\n'), { mode: 0o600 });
  }, 180_000);
  afterAll(async () => {
    copy?.remove();
    await target?.stop();
  });

  it('--dry-run prints the plan and the grants; the real run waits for the token, registers, never prints it; a second run changes nothing (kube-apiserver v1.28)', async () => {
    const dry = copy.run(['scripts/bootstrap.ts', '--cluster', 'prod-eu', '--dry-run'], { KUBECONFIG: kubeconfig });
    expect(dry.stderr).toBe('');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('would create ClusterRole argocd-manager-role');
    expect(dry.stdout).toContain('granted to kube-system/argocd-manager on prod-eu (ClusterRole argocd-manager-role; not cluster-admin):');
    expect(dry.stdout).toMatch(/dry run: \d+ change\(s\) admitted by the servers/);
    expect((await target.kubectl(['get', 'clusterrole', 'argocd-manager-role'])).code).not.toBe(0);

    // The real run waits for the token controller, which envtest lacks: a background process plays it
    // (copy.run blocks this process), writing a TokenRequest token into the Secret once it exists.
    const k = `kubectl --kubeconfig '${target.kubeconfigPath}' -n kube-system`;
    const controller = spawn('sh', ['-c', `for i in $(seq 120); do if ${k} get secret argocd-manager-long-lived-token >/dev/null 2>&1; then t=$(${k} create token argocd-manager --duration=3600s) && ${k} patch secret argocd-manager-long-lived-token --type=merge -p "{\\"data\\":{\\"token\\":\\"$(printf %s "$t" | base64 -w0)\\"}}" && exit 0; fi; sleep 0.5; done; exit 1`], { stdio: 'ignore' });
    const real = copy.run(['scripts/bootstrap.ts', '--cluster', 'prod-eu'], { KUBECONFIG: kubeconfig });
    controller.kill();
    expect(real.stderr).toBe('');
    expect(real.status).toBe(0);
    expect(real.stdout).toContain('created ClusterRole argocd-manager-role');
    expect(real.stdout).toContain(`created Secret ${argocdNs}/cluster-prod-eu on ${control.server}`);
    const secret = JSON.parse((await control.kubectl(['-n', argocdNs, 'get', 'secret', 'cluster-prod-eu', '-o', 'json'])).stdout);
    const config = JSON.parse(Buffer.from(secret.data.config, 'base64').toString('utf8'));
    // The CA from the kubeconfig (the Secret had none), the token never on stdout.
    expect(config.tlsClientConfig.caData).toBe(Buffer.from(target.caPem).toString('base64'));
    expect(real.stdout).not.toContain(config.bearerToken);
    const again = copy.run(['scripts/bootstrap.ts', '--cluster', 'prod-eu'], { KUBECONFIG: kubeconfig });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('cluster prod-eu already registered');
  });

  it('status groups by cluster: reachable ones read there, one without a context reported unreachable, not as a broken environment (kube-apiserver v1.28)', () => {
    const r = copy.run(['scripts/status.ts'], { KUBECONFIG: kubeconfig });
    expect(r.stdout).toMatch(/^cluster in-cluster \(https:\/\/kubernetes\.default\.svc, context control\): reachable\n  dev \(namespace dev\): progressing/m);
    expect(r.stdout).toMatch(/^cluster prod-eu \([^)]*context prod-eu\): reachable\n  prod \(namespace prod\): progressing/m);
    expect(r.stdout).toContain('cluster prod-us (https://prod-us.example.com:6443): UNREACHABLE: no kubeconfig context for it: set clusters.prod-us.context in gitops.yaml or pass --cluster-context prod-us=<ctx>');
    expect(r.stdout).not.toContain('DEGRADED');
    expect(r.stderr).toContain('status: cluster prod-us unreachable from here (a connection problem, not an environment fault)');
    expect(r.status).toBe(1);
  });
});

