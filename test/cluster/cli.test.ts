import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closedPortUrl, startFakeKube } from '../support/fake-kube/server.ts';
import type { FakeKube, FakeKubeOptions } from '../support/fake-kube/server.ts';
import { seedK3s } from '../support/fake-kube/fixtures.ts';
import { MONGODB } from '../../scripts/lib/spec.ts';

// The commands as a user runs them: this repository as the working directory, a kubeconfig with a
// context for the fake API server and one for a cluster that is down. Everything printed is captured.
const REPO = resolve(import.meta.dirname, '../..');
const REPO_TOKEN = 'dummy-repo-token-cli-9999';
let tmp: string;
let deadUrl: string;
let fake: FakeKube | undefined;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kube-cli-'));
  deadUrl = await closedPortUrl();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function cluster(options: FakeKubeOptions = {}, seed?: Parameters<typeof seedK3s>[1]): Promise<string> {
  fake = await startFakeKube(options);
  seedK3s(fake, seed);
  const file = join(tmp, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        // client-node speaks plain HTTP only with TLS verification off (the fake has no certificate)
        { name: 'fake', cluster: { server: fake.url, 'insecure-skip-tls-verify': true } },
        { name: 'dead', cluster: { server: deadUrl, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'u', user: { token: 'dummy-bearer' } }],
      contexts: [
        { name: 'fake', context: { cluster: 'fake', user: 'u' } },
        { name: 'dead', context: { cluster: 'dead', user: 'u' } },
      ],
      'current-context': 'fake',
    }),
  );
  return file;
}

function run(script: string, args: string[], kubeconfig: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    // Async spawn: the fake API server runs in this process and must keep answering.
    const child = spawn(process.execPath, [`scripts/${script}.ts`, ...args], { cwd: REPO, env: { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function seedEnvs(f: FakeKube, health: Record<string, string>): void {
  for (const [env, h] of Object.entries(health)) {
    f.put({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: `${env}-users-api`, namespace: 'argocd' }, status: { sync: { status: 'Synced', revision: 'abc123' }, health: { status: h } } });
    f.put({ apiVersion: 'mongodbcommunity.mongodb.com/v1', kind: 'MongoDBCommunity', metadata: { name: 'users-db', namespace: env }, status: { phase: 'Running' } });
    f.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users-api', namespace: env }, spec: { replicas: 1 }, status: { readyReplicas: 1, updatedReplicas: 1 } });
  }
}

describe('bootstrap CLI', () => {
  it('an unreachable cluster: exit 2 and what to do', async () => {
    const r = await run('bootstrap', ['--context', 'dead'], await cluster());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot reach the cluster at ${deadUrl} (ECONNREFUSED)`);
    expect(r.stderr).toContain('fix: start the cluster');
  });

  it('an unknown --context: exit 2, listing the known ones', async () => {
    const r = await run('bootstrap', ['--context', 'nope'], await cluster());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('kube context "nope" not found; available: fake, dead');
  });

  it('missing StorageClass and 403 are all reported at once, nothing changes, and the repo token is never printed', async () => {
    const kubeconfig = await cluster({ forbidden: ['create secrets'] }, { defaultStorageClass: false });
    const r = await run('bootstrap', [], kubeconfig, { GITOPS_REPO_PASSWORD: REPO_TOKEN });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('repository https://github.com/example-org/gitops-users.git: username git with a password/token');
    expect(r.stderr).toContain('bootstrap: preflight failed; nothing was changed');
    expect(r.stderr).toContain('no default StorageClass (found: local-path)');
    expect(r.stderr).toContain('not allowed to create secrets in namespace prod');
    expect(fake!.requests.every((q) => q.method === 'GET' || q.path.endsWith('/selfsubjectaccessreviews'))).toBe(true);
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain(REPO_TOKEN);
      expect(out).not.toContain(Buffer.from(REPO_TOKEN).toString('base64'));
    }
  });
});

describe('status CLI', () => {
  it('exit 0 and one block per environment when all are healthy', async () => {
    const kubeconfig = await cluster();
    seedEnvs(fake!, { dev: 'Healthy', prod: 'Healthy', staging: 'Healthy' });
    const r = await run('status', [], kubeconfig);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^\S+ \(namespace \S+\): ok$/gm)).toEqual(['dev (namespace dev): ok', 'prod (namespace prod): ok', 'staging (namespace staging): ok']);
  });

  it('exit 1 when one is degraded; --format json for tools; only the environments asked for', async () => {
    const kubeconfig = await cluster();
    seedEnvs(fake!, { prod: 'Degraded', staging: 'Healthy' });
    const r = await run('status', ['prod', 'staging', '--format', 'json'], kubeconfig);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { degraded: boolean; environments: Array<{ env: string; degraded: boolean }> };
    expect(json.environments.map((e) => [e.env, e.degraded])).toEqual([['prod', true], ['staging', false]]);
  });

  it('refuses an unknown environment with exit 2', async () => {
    const r = await run('status', ['qa'], await cluster());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown environment qa; known: dev, prod, staging');
  });
});

// rotate-db-password talks to no cluster any more (a rotation is a commit): test/cluster/rotate.test.ts.

describe('diff --live CLI', () => {
  it('compares the working tree render of an environment with the cluster: everything is new on an empty cluster, exit 1 with --exit-code', async () => {
    const kubeconfig = await cluster();
    const r = await run('diff', ['--live', 'dev', '--format', 'json', '--exit-code'], kubeconfig);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { base: string; envs: Array<{ env: string; changes: Array<{ status: string; id: { kind: string; name: string } }> }> };
    expect(report.base).toBe('live (fake)');
    expect(report.envs.map((e) => e.env)).toEqual(['dev']);
    const added = report.envs[0]!.changes.filter((c) => c.status === 'added').map((c) => `${c.id.kind}/${c.id.name}`);
    expect(added).toContain('Deployment/users-api');
    expect(added).toContain('Service/users-api');
    // it only read and dry-ran: nothing was stored
    expect(fake!.requests.filter((q) => q.method !== 'GET').every((q) => q.query.dryRun === 'All')).toBe(true);
  });

  it('refuses --live together with --base', async () => {
    const r = await run('diff', ['--live', 'dev', '--base', 'HEAD'], await cluster());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot be combined with --base or --head');
  });
});
