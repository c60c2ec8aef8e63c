// The cluster commands as a user runs them (node scripts/<cmd>.ts in this repository), against the
// real API server: exit codes, number flags, and every way a cluster cannot be used named with its
// context, server and cause — no kubeconfig, a missing KUBECONFIG file, a certificate the kubeconfig
// does not trust, a rejected token (no raw Status JSON), a host that does not resolve.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchText } from '../../scripts/lib/cluster/bootstrap/fetch.ts';
import { exitCodeOf } from '../../scripts/lib/core/errors.ts';
import { describeEnvtest, useEnvtest } from '../support/envtest/index.ts';
import type { Envtest } from '../support/envtest/index.ts';
import { CHECKOUT, REPO } from './real.ts';

type Run = { code: number | null; stdout: string; stderr: string };

function cli(script: string, args: string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((done) => {
    const full: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...env };
    for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
    const child = spawn(process.execPath, [join(CHECKOUT, `scripts/${script}.ts`), ...args], { cwd: REPO, env: full });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

// The kubeconfigs the tests write: one directory, made by the first of them, removed after the file.
let tmp: string | undefined;
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function kubeconfig(name: string, cluster: Record<string, unknown>, token: string): string {
  tmp ??= mkdtempSync(join(tmpdir(), 'kube-cli-'));
  const file = join(tmp, name);
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'c', cluster }], users: [{ name: 'u', user: { token } }],
    contexts: [{ name: name, context: { cluster: 'c', user: 'u' } }], 'current-context': name,
  }));
  return file;
}

describe('cluster CLIs without a usable kubeconfig (no server needed)', () => {
  let emptyHome: string;
  beforeAll(() => {
    emptyHome = mkdtempSync(join(tmpdir(), 'no-home-'));
  });
  afterAll(() => {
    if (emptyHome) rmSync(emptyHome, { recursive: true, force: true });
  });
  for (const [script, args] of [['status', []], ['bootstrap', ['--dry-run']], ['diff', ['--live', 'dev']]] as const) {
    it(`${script} ${args.join(' ')}: no kubeconfig at all → exit 2, says to set KUBECONFIG or create ~/.kube/config`, async () => {
      const r = await cli(script, [...args], { KUBECONFIG: undefined, HOME: emptyHome, KUBERNETES_SERVICE_HOST: undefined });
      expect(r.stderr).toContain('no kubeconfig found: KUBECONFIG is not set and ~/.kube/config does not exist');
      expect(r.stderr).not.toContain('HTTP protocol is not allowed');
      expect(r.code).toBe(2);
    });
  }

  it('KUBECONFIG naming a file that does not exist → exit 2 naming it', async () => {
    const r = await cli('status', [], { KUBECONFIG: '/nonexistent/kubeconfig' });
    expect(r.stderr).toContain('KUBECONFIG names "/nonexistent/kubeconfig", which does not exist');
    expect(r.code).toBe(2);
  });

  it('number flags are typed and ranged: --polls abc, --interval abc, --polls 0, --timeout 2s → exit 2 before anything runs', async () => {
    const cases: Array<[string[], string]> = [
      [['--watch', '--polls', 'abc'], '--polls must be a whole number of polls from 1 to 10000, got "abc"'],
      [['--watch', '--interval', 'abc'], '--interval must be a number of seconds from 0.5 to 600, got "abc"'],
      [['--watch', '--polls', '0'], '--polls must be a whole number of polls from 1 to 10000, got "0"'],
      [['--timeout', '2s'], '--timeout must be a number of seconds from 1 to 600, got "2s"'],
    ];
    for (const [args, message] of cases) {
      const r = await cli('status', args, { KUBECONFIG: '/nonexistent/kubeconfig' });
      expect(r.stderr, args.join(' ')).toContain(`status: ${message}`);
      expect(r.code).toBe(2);
    }
    const b = await cli('bootstrap', ['--wait=-5'], {});
    expect(b.stderr).toContain('bootstrap: --wait must be a number of seconds from 1 to 3600, got "-5"');
    expect(b.code).toBe(2);
  });

  it('a host that does not resolve: ENOTFOUND with the context and server, exit 2', async () => {
    const file = kubeconfig('nowhere', { server: 'https://nonexistent.invalid:6443' }, 'dummy-token');
    const r = await cli('status', ['--timeout', '20'], { KUBECONFIG: file });
    expect(r.stderr).toMatch(/cannot reach cluster https:\/\/nonexistent\.invalid:6443 \(context nowhere\) during .*: (ENOTFOUND|EAI_AGAIN)/);
    expect(r.code).toBe(2);
  });

  it('an unreachable download keeps its cause (ENOTFOUND) and says what to do offline', async () => {
    const error = await fetchText('https://nonexistent.invalid/install.yaml', 20_000).then(() => undefined, (e: unknown) => e);
    expect(exitCodeOf(error)).toBe(2);
    const message = (error as Error).message;
    expect(message).toMatch(/^cannot download https:\/\/nonexistent\.invalid\/install\.yaml: (ENOTFOUND|EAI_AGAIN) \(/);
    expect(message).toContain('--argocd-manifest FILE');
  });
});

describeEnvtest('cluster CLIs against the real API server', () => {
  let env: Envtest;
  beforeAll(async () => {
    env = await useEnvtest();
  });

  it('a token the server rejects: HTTP 401 Unauthorized named with context and server, no raw Status JSON, exit 2 (kube-apiserver v1.28)', async () => {
    const file = kubeconfig('badtoken', { server: env.server, 'certificate-authority-data': Buffer.from(env.caPem).toString('base64') }, 'not-a-valid-token');
    const r = await cli('status', [], { KUBECONFIG: file });
    expect(r.stderr).toContain(`failed on cluster ${env.server} (context badtoken): HTTP 401 Unauthorized`);
    expect(r.stderr).toContain('fix: the credentials of context badtoken were rejected');
    expect(r.stderr).not.toMatch(/"kind":\s*"Status"|\{"/);
    expect(r.code).toBe(2);
  });

  it('a server certificate the kubeconfig does not trust: the TLS cause code, exit 2 (kube-apiserver v1.28)', async () => {
    const file = kubeconfig('untrusted', { server: env.server }, env.adminToken);
    const r = await cli('status', [], { KUBECONFIG: file });
    expect(r.stderr).toMatch(new RegExp(`failed on cluster ${env.server.replace(/[.:/]/g, '\\$&')} \\(context untrusted\\): TLS (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)`));
    expect(r.stderr).not.toContain('fetch failed');
    expect(r.code).toBe(2);
  });

  it('a user without rights: 403 names the user and the resource, exit 2 (kube-apiserver v1.28)', async () => {
    const r = await cli('status', [], { KUBECONFIG: env.kubeconfigForToken(env.noRightsToken) });
    expect(r.stderr).toMatch(/HTTP 403 Forbidden: .* is forbidden: User "envtest-nobody" cannot/);
    expect(r.code).toBe(2);
  });

  it('status --watch that never settles stops at --polls and exits 1 saying so (kube-apiserver v1.28)', async () => {
    const r = await cli('status', ['dev', '--watch', '--polls', '2', '--interval', '0.5'], { KUBECONFIG: env.kubeconfigPath });
    expect(r.stdout).toContain('--- poll 2');
    expect(r.stdout).not.toContain('--- poll 3');
    expect(r.stderr).toContain('status: not settled after 2 polls: dev still progressing');
    expect(r.code).toBe(1);
  });

  it('diff --live compares the working tree render with the cluster, exit 1 with --exit-code when they differ (kube-apiserver v1.28)', async () => {
    const r = await cli('diff', ['--live', 'prod', '--exit-code'], { KUBECONFIG: env.kubeconfigPath });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Deployment');
    expect(r.code).toBe(1);
  });
});
