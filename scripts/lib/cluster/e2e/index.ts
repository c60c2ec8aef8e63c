// scripts/lib/cluster/e2e owns the end-to-end run on a real, disposable cluster (`zx scripts/e2e.ts`): create the
// cluster, build and load the image, serve this checkout to Argo CD from inside the cluster, bootstrap,
// then follow the whole loop a user relies on (first sync in wave order, the original curl session, a new
// environment from a commit alone, a promotion, a password rotation under load, an environment deleted),
// timing each step and collecting Argo CD's and the pods' view of the first one that fails. The step logic
// (waiting, timeouts, diagnostics, report) is tested against the real kube-apiserver with statuses the
// tests write; the commands that need a container engine run on GitHub (.github/workflows/e2e.yml).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteEnvSpecField, setEnvSpecField } from '../../inputs/schema.ts';
import { locateKustomize } from '../../render/kustomize.ts';
import { planRepository } from '../../review/plan/index.ts';
import type { Kube } from '../kube/client.ts';
import { curlSession, loadDuring } from './api-session.ts';
import type { Fetch } from './api-session.ts';
import { collectDiagnostics } from './diagnostics.ts';
import { E2E_REPO_URL, GIT_IMAGE, GIT_NAMESPACE, GIT_PORT, GIT_SERVICE, REPO_PATH, gitServerDockerfile, gitServerObjects, pinnedBaseImage } from './git-server.ts';
import type { ClusterTool, Host, Preflight } from './host.ts';
import { preflight } from './host.ts';
import type { E2eReport } from './report.ts';
import { runSteps } from './runner.ts';
import type { Step } from './runner.ts';
import { E2E_FIELD_MANAGER, expectedApplications, orderByPlan, refreshApp, syncApp, waitForAppGone, waitForApplications, waitForRollout } from './wait.ts';
import type { Clock, ExpectedApp } from './wait.ts';

export { formatReportJson, formatReportMarkdown, formatReportText } from './report.ts';
export type { E2eReport } from './report.ts';

export const CLUSTER_NAME = 'gitops-e2e';
/** The two tags the one locally built image is loaded under: every environment starts on the first, promotion moves to the second. */
export const E2E_TAGS = ['e2e-1', 'e2e-2'] as const;
export const NEW_ENV = 'e2e-new';
export const API_PORT = 80;

export interface E2eOptions {
  /** The checkout under test (its committed HEAD). */
  root: string;
  context?: string;
  create?: ClusterTool;
  keep: boolean;
  syncTimeoutMs: number;
  rolloutTimeoutMs: number;
  pollMs: number;
}

export interface E2eDeps {
  host: Host;
  /** A client for the context (loaded after the cluster exists). */
  kubeFor(context: string): Kube;
  fetch: Fetch;
  clock: Clock;
  progress(line: string): void;
}

interface Settings { image: string; argocdNamespace: string; envs: Array<{ name: string; namespace: string }> }

function readSettings(clone: string): Settings {
  const text = readFileSync(join(clone, 'gitops.yaml'), 'utf8');
  const image = /^image:\s*(\S+)/m.exec(text)?.[1];
  const argocdNamespace = /^argocd:\n(?:[ \t]+.*\n)*?[ \t]+namespace:\s*(\S+)/m.exec(text)?.[1] ?? 'argocd';
  if (!image) throw new Error('gitops.yaml has no image');
  const apps = expectedApplications(clone).apps.filter((a) => a.name.endsWith('-users-api'));
  const envs = apps.map((a) => {
    const name = a.name.replace(/-users-api$/, '');
    const ns = /^namespace:\s*(\S+)/m.exec(readFileSync(join(clone, 'overlays', name, 'env.yaml'), 'utf8'))?.[1] ?? name;
    return { name, namespace: ns };
  });
  return { image, argocdNamespace, envs };
}

/**
 * What the e2e clone changes before Argo CD sees it, each a line for the report: Argo CD reads the
 * in-cluster git server; every environment runs the locally built image by tag (no digest: no registry
 * has it); the image policy is off (local builds carry no release signature: docs/e2e.md says what that
 * leaves unproven); previews are off (their generator reads pull requests from GitHub).
 */
export function prepareE2eClone(clone: string): string[] {
  const settingsFile = join(clone, 'gitops.yaml');
  let settings = readFileSync(settingsFile, 'utf8');
  settings = setEnvSpecField(settings, ['repoURL'], E2E_REPO_URL);
  settings = setEnvSpecField(settings, ['imagePolicy'], false);
  settings = deleteEnvSpecField(settings, ['previews']);
  writeFileSync(settingsFile, settings);
  const envs = readdirSync(join(clone, 'overlays'), { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(clone, 'overlays', d.name, 'env.yaml'))).map((d) => d.name).sort();
  for (const env of envs) {
    const f = join(clone, 'overlays', env, 'env.yaml');
    writeFileSync(f, deleteEnvSpecField(setEnvSpecField(readFileSync(f, 'utf8'), ['tag'], E2E_TAGS[0]), ['digest']));
  }
  return [
    `gitops.yaml: repoURL ${E2E_REPO_URL}; imagePolicy false (local builds are unsigned); previews removed (they need GitHub)`,
    `${envs.join(', ')}: tag ${E2E_TAGS[0]}, no digest (the image was loaded into the cluster, not pushed)`,
  ];
}

/** The e2e steps, in order. Each throws on failure; the runner times them and reports the first failure. */
export function e2eSteps(opts: E2eOptions, deps: E2eDeps, state: { pre?: Preflight; context?: string; clone?: string; commit?: string; settings?: Settings }): Step[] {
  const { host } = deps;
  const must = async (cmd: string, args: string[], cwd?: string, input?: string): Promise<string> => {
    const r = await host.run(cmd, args, { ...(cwd ? { cwd } : {}), ...(input !== undefined ? { input } : {}) });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`);
    return r.stdout;
  };
  const clone = () => state.clone!;
  const ctx = () => state.context!;
  const kube = () => deps.kubeFor(ctx());
  const zx = (args: string[]) => must(process.execPath, [join(opts.root, 'node_modules/zx/build/cli.js'), ...args], clone());
  const git = (args: string[]) => must('git', ['-c', 'user.name=gitops-e2e', '-c', 'user.email=e2e@localhost', ...args], clone());
  const wait = { timeoutMs: opts.syncTimeoutMs, pollMs: opts.pollMs, clock: deps.clock };
  const engine = () => state.pre!.engine;

  /** Pushes the clone's HEAD to the in-cluster git server's main and returns the commit. */
  async function push(): Promise<string> {
    const fwd = await host.portForward(ctx(), GIT_NAMESPACE, `svc/${GIT_SERVICE}`, GIT_PORT);
    try {
      await git(['push', '--force', `git://127.0.0.1:${fwd.port}/${REPO_PATH}`, 'HEAD:refs/heads/main']);
    } finally {
      fwd.stop();
    }
    return (await git(['rev-parse', 'HEAD'])).trim();
  }

  /** Commit, push, and have Argo CD look now; then every Application settled with the root at that commit. */
  async function shipAndSettle(note: (l: string) => void, message: string): Promise<string> {
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', message]);
    const commit = await push();
    note(`pushed ${commit.slice(0, 7)}: ${message}`);
    const { root, apps } = expectedApplications(clone());
    await refreshApp(kube(), state.settings!.argocdNamespace, root);
    await settle(note, root, apps, commit);
    return commit;
  }

  async function settle(note: (l: string) => void, root: string, apps: ExpectedApp[], revision?: string): Promise<void> {
    const k = kube();
    await waitForApplications(k, root, apps, {
      ...wait,
      namespace: state.settings!.argocdNamespace,
      ...(revision ? { revision } : {}),
      onSettled: (app, ms) => note(`${app} Synced/Healthy after ${(ms / 1000).toFixed(1)} s`),
      syncManual: async (app) => {
        note(`${app.name} is manual-sync (protected): syncing it as \`argocd app sync\` would`);
        await syncApp(k, state.settings!.argocdNamespace, app.name);
      },
    });
  }

  async function withApi<T>(env: string, fn: (baseUrl: string) => Promise<T>): Promise<T> {
    const ns = state.settings!.envs.find((e) => e.name === env)?.namespace ?? env;
    const fwd = await host.portForward(ctx(), ns, 'svc/users-api', API_PORT);
    try {
      return await fn(`http://127.0.0.1:${fwd.port}`);
    } finally {
      fwd.stop();
    }
  }

  const first = () => state.settings!.envs.find((e) => e.name === 'dev') ?? state.settings!.envs[0]!;

  return [
    {
      name: 'preflight',
      proves: 'a container engine, kubectl, git and a cluster (or kind/k3d to make one) are here, before anything is created',
      run: async ({ note }) => {
        state.pre ??= await preflight(host, { ...(opts.context !== undefined ? { context: opts.context } : {}), ...(opts.create ? { create: opts.create } : {}) });
        note(`engine ${state.pre.engine}; cluster ${opts.context ? `context ${opts.context}` : `new ${state.pre.create} cluster ${CLUSTER_NAME}`}`);
        const dirty = (await host.run('git', ['status', '--porcelain'], { cwd: opts.root })).stdout.trim();
        if (dirty) note('the working tree has uncommitted changes: they are not tested (e2e serves the committed HEAD)');
      },
    },
    {
      name: 'cluster',
      proves: 'a disposable cluster is up and reachable',
      run: async ({ note }) => {
        if (opts.context !== undefined) {
          state.context = opts.context;
        } else if (state.pre!.create === 'kind') {
          await must('kind', ['create', 'cluster', '--name', CLUSTER_NAME, '--wait', '180s']);
          state.context = `kind-${CLUSTER_NAME}`;
        } else {
          await must('k3d', ['cluster', 'create', CLUSTER_NAME, '--wait']);
          state.context = `k3d-${CLUSTER_NAME}`;
        }
        const v = await kube().version();
        note(`context ${ctx()}: Kubernetes ${v.gitVersion}`);
      },
    },
    {
      name: 'images',
      proves: 'the users-api image builds from this checkout and the cluster runs it without a registry',
      run: async ({ note }) => {
        const settings = readSettings(opts.root);
        const tags = E2E_TAGS.map((t) => `${settings.image}:${t}`);
        await must(engine(), ['build', ...tags.flatMap((t) => ['-t', t]), opts.root]);
        await must(engine(), ['build', '-t', GIT_IMAGE, '-'], undefined, gitServerDockerfile(pinnedBaseImage(opts.root)));
        for (const image of [...tags, GIT_IMAGE]) {
          if (state.pre!.create === 'k3d') await must('k3d', ['image', 'import', '-c', CLUSTER_NAME, image]);
          else await must('kind', ['load', 'docker-image', '--name', opts.context ? opts.context.replace(/^kind-/, '') : CLUSTER_NAME, image]);
        }
        note(`built and loaded ${tags.join(', ')} and ${GIT_IMAGE}`);
      },
    },
    {
      name: 'git server',
      proves: 'Argo CD can clone this checkout from inside the cluster (unpushed commits included)',
      run: async ({ note }) => {
        const k = kube();
        for (const o of gitServerObjects()) await k.apply(o, { fieldManager: E2E_FIELD_MANAGER, force: true });
        await waitForRollout(k, GIT_NAMESPACE, GIT_SERVICE, GIT_IMAGE, { ...wait, timeoutMs: opts.rolloutTimeoutMs });
        const dir = mkdtempSync(join(tmpdir(), 'gitops-e2e-'));
        state.clone = join(dir, 'repo');
        await must('git', ['clone', '--quiet', '--no-local', opts.root, state.clone]);
        if (existsSync(join(opts.root, 'node_modules'))) symlinkSync(join(opts.root, 'node_modules'), join(state.clone, 'node_modules'));
        for (const line of prepareE2eClone(clone())) note(line);
        state.settings = readSettings(clone());
        await zx(['scripts/generate.ts']);
        await git(['add', '-A']);
        await git(['commit', '-q', '-m', `e2e: Argo CD reads ${E2E_REPO_URL}; environments run ${E2E_TAGS[0]}`]);
        state.commit = await push();
        note(`served ${state.commit.slice(0, 7)} at ${E2E_REPO_URL}`);
      },
    },
    {
      name: 'bootstrap',
      proves: 'bootstrap.ts installs the pinned Argo CD and the root Application on an empty cluster',
      run: async ({ note }) => {
        const out = await zx(['scripts/bootstrap.ts', '--context', ctx(), '--wait', String(Math.round(opts.rolloutTimeoutMs / 1000))]);
        note(out.trim().split('\n').slice(-1)[0] ?? 'bootstrapped');
      },
    },
    {
      name: 'first sync',
      proves: 'from an empty cluster every Application (operator, namespaces, environments) becomes Synced and Healthy in wave order',
      run: async ({ note }) => {
        // The offline plan first (scripts/plan.ts): a plan that cannot finish fails here, before any waiting.
        const plan = await planRepository(clone(), { kustomize: await locateKustomize() });
        if (!plan.finishes) throw new Error(`the sync plan cannot finish: ${plan.stalls.map((s) => `${s.app} ${s.object}: ${s.message}`).join('; ')}`);
        const planned = plan.root.steps.flatMap((s) => s.children.map((c) => ({ name: c.app, wave: s.wave })));
        const { root, apps: inWaves } = expectedApplications(clone());
        const apps = orderByPlan(inWaves, planned);
        note(`expected order (the sync plan): ${apps.map((a) => `${a.name} (wave ${a.wave}${a.manual ? ', manual' : ''})`).join(', ')}, then ${root}`);
        await settle(note, root, apps, state.commit);
      },
    },
    {
      name: 'curl session',
      proves: "the original exercise's session works against the deployed API: GET [], POST 201 with hex _id, 409, 400",
      run: async ({ note }) => {
        for (const line of await withApi(first().name, (url) => curlSession(url, deps.fetch, String(deps.clock.now())))) note(line);
      },
    },
    {
      name: 'new environment',
      proves: 'new-env.ts plus a commit alone brings an environment up (namespace, database, API)',
      run: async ({ note }) => {
        await zx(['scripts/new-env.ts', NEW_ENV, '--from', first().name]);
        state.settings = readSettings(clone());
        await shipAndSettle(note, `e2e: new environment ${NEW_ENV}`);
        for (const line of await withApi(NEW_ENV, (url) => curlSession(url, deps.fetch, `new-${deps.clock.now()}`))) note(line);
      },
    },
    {
      name: 'promotion',
      proves: 'promote.ts moves a tag between environments and the target rolls out to it',
      run: async ({ note }) => {
        const [from] = [first().name];
        const to = state.settings!.envs.find((e) => e.name !== from && e.name !== NEW_ENV);
        await zx(['scripts/promote.ts', from, '--tag', E2E_TAGS[1], '--no-digest']);
        await shipAndSettle(note, `e2e: ${from} runs ${E2E_TAGS[1]}`);
        const image = `${state.settings!.image}:${E2E_TAGS[1]}`;
        note(`${from} rolled out ${image} in ${((await waitForRollout(kube(), first().namespace, 'users-api', image, { ...wait, timeoutMs: opts.rolloutTimeoutMs })) / 1000).toFixed(1)} s`);
        if (to) {
          await zx(['scripts/promote.ts', from, to.name, '--no-digest']);
          await shipAndSettle(note, `e2e: promote ${from} to ${to.name}`);
          note(`${to.name} rolled out ${image} in ${((await waitForRollout(kube(), to.namespace, 'users-api', image, { ...wait, timeoutMs: opts.rolloutTimeoutMs })) / 1000).toFixed(1)} s`);
        }
      },
    },
    {
      name: 'rotation under load',
      proves: 'a password rotation is a commit and serves every request meanwhile: 0 failed, 0 acknowledged writes lost',
      run: async ({ note }) => {
        const env = first();
        const { load } = await withApi(env.name, (url) =>
          loadDuring(url, deps.fetch, (async () => {
            await zx(['scripts/rotate-db-password.ts', env.name]);
            await shipAndSettle(note, `e2e: rotate the ${env.name} database password`);
          })(), { workers: 4, maxRequests: 200_000, tag: `rot-${deps.clock.now()}`, pauseMs: 20, sleep: deps.clock.sleep }));
        note(`${load.requests} requests during the rotation, ${load.failed} failed, ${load.written.length} writes acknowledged, ${load.lost.length} lost`);
        if (load.failed > 0 || load.lost.length > 0) throw new Error(`rotation was not invisible: ${load.failed} failed request(s), ${load.lost.length} lost write(s); first: ${load.failures.slice(0, 3).join(' | ')}`);
      },
    },
    {
      name: 'delete environment',
      proves: 'delete-env.ts plus a commit removes the environment\'s Application from the cluster',
      run: async ({ note }) => {
        await zx(['scripts/delete-env.ts', NEW_ENV, '--yes']);
        state.settings = readSettings(clone());
        await git(['add', '-A']);
        await git(['commit', '-q', '-m', `e2e: delete environment ${NEW_ENV}`]);
        const commit = await push();
        const { root } = expectedApplications(clone());
        await refreshApp(kube(), state.settings.argocdNamespace, root);
        await waitForAppGone(kube(), state.settings.argocdNamespace, `${NEW_ENV}-users-api`, wait);
        note(`${NEW_ENV}-users-api deleted after pushing ${commit.slice(0, 7)}`);
      },
    },
  ];
}

/**
 * `e2e.ts --list`: the steps in order with what each proves, and the Applications the first sync waits
 * for (the root's, in wave order; the run itself follows the offline sync plan's order). Runs nothing.
 */
export function describeE2e(root: string): string {
  const steps = e2eSteps({ root, keep: false, syncTimeoutMs: 0, rolloutTimeoutMs: 0, pollMs: 0 }, {} as E2eDeps, {});
  const { root: rootApp, apps } = expectedApplications(root);
  return [
    ...steps.map((s, i) => `${String(i + 1).padStart(2)}. ${s.name}: ${s.proves}`),
    '',
    `first sync waits for: ${apps.map((a) => `${a.name} (wave ${a.wave}${a.manual ? ', manual: e2e syncs it' : ''})`).join(', ')}, then ${rootApp}`,
    '',
  ].join('\n');
}

/** Runs every step, then deletes the cluster it created (unless --keep) and the working clone. */
export async function runE2e(opts: E2eOptions, deps: E2eDeps): Promise<E2eReport> {
  const state: Parameters<typeof e2eSteps>[2] = {};
  // Before any step: what is missing is a usage fact (exit 2), not a failed step.
  state.pre = await preflight(deps.host, { ...(opts.context !== undefined ? { context: opts.context } : {}), ...(opts.create ? { create: opts.create } : {}) });
  const steps = e2eSteps(opts, deps, state);
  const commit = (await deps.host.run('git', ['rev-parse', 'HEAD'], { cwd: opts.root })).stdout.trim() || 'unknown';
  try {
    return await runSteps(steps, { commit, context: opts.context ?? `(new ${opts.create ?? 'kind'} cluster ${CLUSTER_NAME})` }, {
      now: deps.clock.now,
      progress: deps.progress,
      diagnose: async () => {
        if (!state.context || !state.settings) return '(no cluster yet)';
        const apps = expectedApplications(state.clone ?? opts.root);
        return collectDiagnostics(deps.kubeFor(state.context), {
          argocdNamespace: state.settings.argocdNamespace,
          applications: [apps.root, ...apps.apps.map((a) => a.name)],
          namespaces: [state.settings.argocdNamespace, GIT_NAMESPACE, ...state.settings.envs.map((e) => e.namespace)],
        });
      },
    });
  } finally {
    if (state.clone) rmSync(join(state.clone, '..'), { recursive: true, force: true });
    if (!opts.keep && state.pre?.create && state.context) {
      const del = state.pre.create === 'kind' ? ['delete', 'cluster', '--name', CLUSTER_NAME] : ['cluster', 'delete', CLUSTER_NAME];
      await deps.host.run(state.pre.create, del);
    }
  }
}
