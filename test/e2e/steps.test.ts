// The e2e run's logic that needs no cluster: the step runner (order, timing, first failure, "not run"),
// the report, the preflight (no engine → exit 2 before anything is created), the expected Application
// order read from the committed argocd/ files, and the curl session and load loop against the real API
// on the stand-in replica set.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { curlSession, loadDuring } from '../../scripts/lib/cluster/e2e/api-session.ts';
import type { Fetch } from '../../scripts/lib/cluster/e2e/api-session.ts';
import { preflight } from '../../scripts/lib/cluster/e2e/host.ts';
import type { Host, RunResult } from '../../scripts/lib/cluster/e2e/host.ts';
import { formatReportMarkdown, formatReportText } from '../../scripts/lib/cluster/e2e/report.ts';
import { runSteps } from '../../scripts/lib/cluster/e2e/runner.ts';
import { expectedApplications, orderByPlan } from '../../scripts/lib/cluster/e2e/wait.ts';
import { E2E_REPO_URL, gitServerDockerfile, gitServerObjects, pinnedBaseImage } from '../../scripts/lib/cluster/e2e/git-server.ts';
import { prepareE2eClone } from '../../scripts/lib/cluster/e2e/index.ts';
import { gitUrlProblem } from '../../scripts/lib/inputs/refs-urls.ts';
import { acquireTestMongo, describeMongo } from '../support/test-mongo.ts';
import type { TestMongo } from '../support/test-mongo.ts';
import { startTestApi } from '../api/harness.ts';
import type { TestApi } from '../api/harness.ts';
import { createRepoCopy } from '../support/repo-copy.ts';
import type { RepoCopy } from '../support/repo-copy.ts';

const REPO = resolve(import.meta.dirname, '../..');

/** A host whose commands answer from a table: `docker info` fails like a client without a daemon. */
function tableHost(answers: Record<string, Partial<RunResult>>): Host & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run: async (cmd, args) => {
      calls.push([cmd, ...args].join(' '));
      const a = answers[cmd] ?? { code: 127, stderr: `${cmd}: not found` };
      return { code: a.code ?? 0, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
    },
    portForward: async () => { throw new Error('no cluster in this test'); },
  };
}

const NO_DAEMON = { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n' };

describe('e2e preflight', () => {
  it('a docker client without a daemon and no podman: exit 2 naming both, before anything is created', async () => {
    const host = tableHost({ docker: NO_DAEMON, kubectl: {}, git: {}, kind: {} });
    const err = (await preflight(host, {}).then(() => new Error('no error'), (e: unknown) => e)) as Error & { exitCode?: number };
    expect(err).toBeInstanceOf(Error);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/no container engine answers \(docker info: Cannot connect to the Docker daemon.*; podman: not installed\)/);
    expect(err.message).toContain('docs/e2e.md');
    expect(host.calls.some((c) => c.startsWith('kind'))).toBe(false);
  });

  it('an engine but neither kind nor k3d, and no --context: exit 2 saying how to go on', async () => {
    const err = (await preflight(tableHost({ docker: {}, kubectl: {}, git: {} }), {}).then(() => new Error('no error'), (e: unknown) => e)) as Error & { exitCode?: number };
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/kind or k3d is not installed.*--context/);
  });

  it('podman when docker has no daemon; kind preferred to k3d; --context needs no cluster tool', async () => {
    expect(await preflight(tableHost({ docker: NO_DAEMON, podman: {}, kubectl: {}, git: {}, kind: {}, k3d: {} }), {})).toEqual({ engine: 'podman', create: 'kind' });
    expect(await preflight(tableHost({ docker: {}, kubectl: {}, git: {}, k3d: {} }), {})).toEqual({ engine: 'docker', create: 'k3d' });
    expect(await preflight(tableHost({ docker: {}, kubectl: {}, git: {} }), { context: 'kind-scratch' })).toEqual({ engine: 'docker' });
    await expect(preflight(tableHost({ docker: {}, kubectl: {}, git: {}, kind: {} }), { create: 'k3d' })).rejects.toThrow(/k3d is not installed/);
  });

  it('the CLI with no engine on PATH says so and exits 2 (as on this project\'s CI machine)', () => {
    // Stubs first on PATH: docker answers like a client without a daemon, podman is absent.
    const bin = mkdtempSync(join(tmpdir(), 'e2e-bin-'));
    onTestFinished(() => rmSync(bin, { recursive: true, force: true }));
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\necho '${NO_DAEMON.stderr.trim()}' >&2\nexit 1\n`);
    writeFileSync(join(bin, 'podman'), '#!/bin/sh\nexit 127\n');
    chmodSync(join(bin, 'docker'), 0o755);
    chmodSync(join(bin, 'podman'), 0o755);
    const r = spawnSync(process.execPath, [join(REPO, 'scripts/e2e.ts')], { cwd: REPO, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^e2e: no container engine answers/m);
    expect(r.stdout).toBe('');
  });
});

describe('e2e steps and report', () => {
  let t = 0;
  const clock = { now: () => t };

  it('runs steps in order, times them, stops at the first failure with its diagnostics, marks the rest not run', async () => {
    const ran: string[] = [];
    const diagnosed: string[] = [];
    const step = (name: string, ms: number, fail?: string) => ({
      name,
      proves: `${name} works`,
      run: async ({ note }: { note(l: string): void }) => {
        ran.push(name);
        t += ms;
        note(`${name} saw something`);
        if (fail) throw new Error(fail);
      },
    });
    const report = await runSteps([step('a', 1000), step('b', 2500, 'wave -1 stalled'), step('c', 10)], { commit: 'abc1234', context: 'kind-x' }, {
      ...clock,
      diagnose: async (s) => { diagnosed.push(s.name); return 'Application mongodb-operator: OutOfSync/Missing'; },
    });
    expect(ran).toEqual(['a', 'b']);
    expect(diagnosed).toEqual(['b']);
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => [s.name, s.status, s.ms])).toEqual([['a', 'passed', 1000], ['b', 'failed', 2500], ['c', 'not run', 0]]);
    const text = formatReportText(report);
    expect(text).toMatch(/^e2e of abc1234 on kind-x: FAILED in 3\.5 s/);
    expect(text).toContain('error: wave -1 stalled');
    expect(text).toContain('| Application mongodb-operator: OutOfSync/Missing');
    expect(text).toMatch(/first failing step: b \(it proves: b works\)/);
    const md = formatReportMarkdown(report);
    expect(md).toContain('| b | FAILED | 2.5 s | b works |');
    expect(md).toContain('<details><summary>Argo CD and pod diagnostics</summary>');
  });

  it('a diagnostics failure is reported, not thrown', async () => {
    const report = await runSteps([{ name: 'x', proves: 'p', run: async () => { throw new Error('boom'); } }], { commit: 'c', context: 'k' }, { ...clock, diagnose: async () => { throw new Error('cluster gone'); } });
    expect(report.steps[0]!.diagnostics).toBe('(collecting diagnostics failed too: cluster gone)');
  });
});

describe('e2e inputs from the committed repository', () => {
  let repo: RepoCopy;
  let copy: string;
  beforeAll(() => {
    repo = createRepoCopy();
    copy = repo.root;
    // The committed Dockerfile (the copy holds the GitOps files only).
    writeFileSync(join(copy, 'Dockerfile'), execFileSync('git', ['show', 'HEAD:Dockerfile'], { cwd: REPO, encoding: 'utf8' }));
  });
  afterAll(() => repo?.cleanup());

  it('expects the root\'s Applications in wave order, protected ones as manual', () => {
    const { root, apps } = expectedApplications(copy);
    expect(root).toBe('root');
    const waves = apps.map((a) => a.wave);
    expect(waves).toEqual([...waves].sort((a, b) => a - b));
    expect(apps.find((a) => a.name === 'mongodb-operator')).toMatchObject({ wave: -1, manual: false });
    expect(apps[0]!.wave).toBe(-1);
    expect(apps.find((a) => a.name === 'prod-users-api')).toMatchObject({ manual: true });
    expect(apps.find((a) => a.name === 'dev-users-api')).toMatchObject({ manual: false });
  });

  it('the sync plan of the committed repository orders the first sync: the operator before the environments', async () => {
    const { planRepository } = await import('../../scripts/lib/review/plan/index.ts');
    const { locateKustomize } = await import('../../scripts/lib/render/kustomize.ts');
    const plan = await planRepository(copy, { kustomize: await locateKustomize() });
    expect(plan.finishes).toBe(true);
    const planned = plan.root.steps.flatMap((s) => s.children.map((c) => ({ name: c.app, wave: s.wave })));
    const { apps } = expectedApplications(copy);
    const ordered = orderByPlan(apps, planned);
    expect(ordered.map((a) => a.name)).toEqual(planned.map((p) => p.name).filter((n) => apps.some((a) => a.name === n)));
    expect(ordered.findIndex((a) => a.name === 'mongodb-operator')).toBeLessThan(ordered.findIndex((a) => a.name === 'dev-users-api'));
    // An Application the plan does not name goes last, in wave order.
    expect(orderByPlan([{ name: 'z', wave: -5, manual: false }, ...apps], planned).at(-1)!.name).toBe('z');
  }, 240_000);

  it('the e2e clone reads the in-cluster git server, runs the local build by tag, and generates without the image policy and previews', () => {
    const c = createRepoCopy();
    try {
      const lines = prepareE2eClone(c.root);
      expect(lines[0]).toContain(`repoURL ${E2E_REPO_URL}`);
      c.generate();
      const settings = c.read('gitops.yaml');
      expect(settings).toMatch(/^imagePolicy: false$/m);
      expect(settings).not.toMatch(/^previews:/m);
      expect(c.read('argocd/root.yaml')).toContain(`repoURL: ${E2E_REPO_URL}`);
      expect(existsSync(join(c.root, 'argocd/previews.yaml'))).toBe(false);
      expect(expectedApplications(c.root).apps.map((a) => a.name)).not.toContain('image-policy');
      for (const env of ['dev', 'staging', 'prod']) {
        const spec = c.read(`overlays/${env}/env.yaml`);
        expect(spec).toMatch(/^tag: e2e-1$/m);
        expect(spec).not.toMatch(/^digest:/m);
      }
      const rendered = execFileSync('kubectl', ['kustomize', 'overlays/prod'], { cwd: c.root, encoding: 'utf8' });
      expect(rendered).toMatch(/image: ghcr\.io\/example-org\/users-api:e2e-1$/m);
    } finally {
      c.cleanup();
    }
  }, 240_000);

  it('the git server reuses the API image\'s pinned base and serves the URL gitops.yaml accepts', () => {
    const base = pinnedBaseImage(copy);
    expect(base).toMatch(/^node:[^@]+@sha256:[0-9a-f]{64}$/);
    expect(gitServerDockerfile(base)).toMatch(new RegExp(`^FROM ${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    expect(gitUrlProblem(E2E_REPO_URL)).toBeUndefined();
    expect(gitUrlProblem('git://github.com/example-org/gitops-users.git')).toMatch(/outside the cluster/);
    const deployment = gitServerObjects().find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { securityContext: { runAsNonRoot: boolean } } } } };
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });
});

describeMongo('e2e curl session and load against the API', () => {
  let mongo: TestMongo;
  let api: TestApi;
  beforeAll(async () => {
    mongo = await acquireTestMongo();
    api = await startTestApi(mongo);
    await api.server.databaseReady;
  });
  afterAll(async () => {
    await api?.server.stop();
    await mongo?.release();
  });

  it('the original session passes against the real API: 200 [], 201 hex _id, 409, 400, listed', async () => {
    const lines = await curlSession(api.url(''), fetch as unknown as Fetch, 's1');
    expect(lines).toEqual([
      'GET /users answers a JSON array: HTTP 200',
      'POST /users (curl -d, form-encoded JSON) creates the user with a hex _id: HTTP 201',
      'the same POST again is a 409 problem+json: HTTP 409',
      'a malformed body is a 400 problem+json: HTTP 400',
      'GET /users/<_id> returns the stored user: HTTP 200',
    ]);
  });

  it('the session fails on the first surprise, naming it', async () => {
    const broken: Fetch = async (url, init) => (init?.method === 'POST' ? { status: 500, headers: { get: () => 'application/json' }, text: async () => '{"oops":1}' } : (fetch as unknown as Fetch)(url, init));
    await expect(curlSession(api.url(''), broken, 's2')).rejects.toThrow(/POST \/users \(curl -d, form-encoded JSON\) creates the user with a hex _id: got HTTP 500/);
  });

  it('a load during a change counts requests, failures and acknowledged writes, and finds none lost', async () => {
    let release!: () => void;
    const during = new Promise<string>((r) => { release = () => r('done'); });
    const stop = setTimeout(() => release(), 300);
    const { result, load } = await loadDuring(api.url(''), fetch as unknown as Fetch, during, { workers: 2, maxRequests: 400, tag: 'l1' });
    clearTimeout(stop);
    expect(result).toBe('done');
    expect(load.requests).toBeGreaterThan(0);
    expect(load.failed).toBe(0);
    expect(load.written.length).toBeGreaterThan(0);
    expect(load.lost).toEqual([]);
  });

  it('a load sees failed requests and lost writes when the API fails them', async () => {
    let n = 0;
    const flaky: Fetch = async (url, init) => {
      n++;
      if (init?.method === 'POST' && n % 2 === 0) return { status: 503, headers: { get: () => 'application/problem+json' }, text: async () => '{"status":503}' };
      if (init?.method === undefined || init.method === 'GET') {
        if (/\/users\/[0-9a-f]{24}$/.test(url)) return { status: 404, headers: { get: () => 'application/problem+json' }, text: async () => '{}' };
      }
      return (fetch as unknown as Fetch)(url, init);
    };
    const { load } = await loadDuring(api.url(''), flaky, new Promise((r) => setTimeout(r, 200)), { workers: 2, maxRequests: 200, tag: 'l2' });
    expect(load.failed).toBeGreaterThan(0);
    expect(load.failures[0]).toMatch(/POST \/users: HTTP 503/);
    expect(load.lost.length).toBe(load.written.length);
  });
});
