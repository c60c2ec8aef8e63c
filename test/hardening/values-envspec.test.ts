// Issue 11, "Values that pass the gates and break the cluster or the API" and "Junk accepted into
// generated files": each attack of the issue on env.yaml, gitops.yaml and .env, which the old gates let
// through, is now refused by the same checks generate, new-env and validate run — with the file, the
// JSON pointer of the field and a fix.
import { describe, expect, it } from 'vitest';
import { envNameProblems, validateEnvSpec, validateSettings } from '../../scripts/lib/inputs/schema.ts';
import type { Problem } from '../../scripts/lib/core/errors.ts';
import { crossEnvProblems, loadEnv } from '../../scripts/lib/inputs/index.ts';
import type { RepoSettings } from '../../scripts/lib/inputs/spec.ts';
import { committedSettings } from '../generator/support.ts';

const FILE = 'overlays/qa/env.yaml';
const valid = (): any => ({ namespace: 'qa', ...structuredClone(committedSettings().defaults) });

function envProblems(mutate: (d: any) => void): Problem[] {
  const d = valid();
  mutate(d);
  return validateEnvSpec('qa', FILE, d).problems;
}
function settingsProblems(mutate: (s: any) => void): Problem[] {
  const s: any = structuredClone(committedSettings());
  mutate(s);
  return validateSettings('gitops.yaml', s).problems;
}
function expectProblem(problems: Problem[], file: string, path: string, message: RegExp): void {
  const p = problems.find((x) => x.path === path);
  expect(p, JSON.stringify(problems, null, 1)).toBeDefined();
  expect(p!.file).toBe(file);
  expect(p!.message).toMatch(message);
  expect(p!.fix).toBeTruthy();
}

describe('quantities in env.yaml', () => {
  it.each([
    ['storage 0Gi', (d: any) => { d.mongodb.storage.size = '0Gi'; }, '/mongodb/storage/size', /storage size "0Gi" is zero/],
    ['storage 99999999999999999999999Ti', (d: any) => { d.mongodb.storage.size = '99999999999999999999999Ti'; }, '/mongodb/storage/size', /larger than 9223372036854775 units/],
    ['a memory limit of 0Mi', (d: any) => { d.resources.limits.memory = '0Mi'; }, '/resources/limits/memory', /users-api limits.memory "0Mi" is zero/],
    ['a memory request of 0Mi', (d: any) => { d.resources.requests.memory = '0Mi'; }, '/resources/requests/memory', /is zero/],
    ['a CPU request of 0', (d: any) => { d.resources.requests.cpu = '0'; }, '/resources/requests/cpu', /is zero/],
    ['a memory request above its limit', (d: any) => { d.resources.requests.memory = '193Mi'; }, '/resources/requests/memory', /requests.memory 193Mi is more than limits.memory 192Mi; the API server refuses/],
    ['a CPU request above its limit', (d: any) => { d.resources.requests.cpu = '1.5'; d.resources.limits.cpu = '1'; }, '/resources/requests/cpu', /requests.cpu 1.5 is more than limits.cpu 1/],
    ['mongod requests above limits', (d: any) => { d.mongodb.resources.mongod.requests.memory = '1Gi'; d.mongodb.resources.mongod.limits.memory = '1023Mi'; }, '/mongodb/resources/mongod/requests/memory', /mongod requests.memory 1Gi is more than limits.memory 1023Mi/],
    ['an agent memory limit of 99999999999999999999999Ti', (d: any) => { d.mongodb.resources.agent.limits.memory = '99999999999999999999999Ti'; }, '/mongodb/resources/agent/limits/memory', /larger than/],
  ])('refuses %s', (_label, mutate, path, message) => {
    expectProblem(envProblems(mutate), FILE, path, message);
  });

  it('compares across units exactly: 1Gi request under a 1024Mi limit is fine, 1025Mi over 1Gi is not', () => {
    expect(envProblems((d) => { d.mongodb.resources.mongod.requests.memory = '1Gi'; d.mongodb.resources.mongod.limits.memory = '1024Mi'; })).toEqual([]);
    expectProblem(envProblems((d) => { d.mongodb.resources.mongod.requests.memory = '1025Mi'; d.mongodb.resources.mongod.limits.memory = '1Gi'; }), FILE, '/mongodb/resources/mongod/requests/memory', /more than/);
  });

  it('refuses the same values in gitops.yaml defaults (what new-env would write)', () => {
    const problems = settingsProblems((s) => { s.defaults.mongodb.storage.size = '0Gi'; s.defaults.resources.limits.memory = '0Mi'; });
    expectProblem(problems, 'gitops.yaml', '/defaults/mongodb/storage/size', /is zero/);
    expectProblem(problems, 'gitops.yaml', '/defaults/resources/limits/memory', /is zero/);
  });

  it('accepts the committed defaults', () => {
    expect(envProblems(() => {})).toEqual([]);
  });
});

describe('a .env that makes a ConfigMap over 1 MiB', () => {
  it('is refused before anything is written, naming the file, the total and the largest key', () => {
    const big = `LOG_LEVEL=info\nHOST=${'a'.repeat(1024 * 1024)}\n`;
    const { problems } = loadEnv('qa', 'namespace: qa\n', Buffer.from(big));
    const p = problems.find((x) => /1048576 bytes/.test(x.message));
    expect(p, JSON.stringify(problems.map((x) => x.message))).toBeDefined();
    expect(p!.file).toBe('overlays/qa/.env');
    expect(p!.message).toMatch(/add up to 1048580 bytes.*largest is HOST/);
    expect(p!.fix).toMatch(/shorten HOST/);
  });

  it('is accepted at exactly 1 MiB of values (the limit is "more than")', async () => {
    const { configMapSizeProblem } = await import('../../scripts/lib/inputs/rules.ts');
    expect(configMapSizeProblem('f', { A: 'x'.repeat(1024 * 1024 - 4), B: 'yyyy' })).toBeUndefined();
    expect(configMapSizeProblem('f', { A: 'x'.repeat(1024 * 1024 - 4), B: 'é'.repeat(3) })).toBeDefined();
  });
});

describe('targetRevision', () => {
  it.each([
    ['--upload-pack=touch', /begins with "-"/],
    ['main\u0000', /U\+0000/],
    ['a..b', /"\.\."/],
  ])('refuses %j in env.yaml and in gitops.yaml defaults', (rev, message) => {
    expectProblem(envProblems((d) => { d.targetRevision = rev; }), FILE, '/targetRevision', message);
    expectProblem(settingsProblems((s) => { s.defaults.targetRevision = rev; }), 'gitops.yaml', '/defaults/targetRevision', message);
  });
});

describe('URLs in gitops.yaml', () => {
  it.each([
    ['repoURL https://x', '/repoURL', (s: any) => { s.repoURL = 'https://x'; }, /not a fully qualified name/],
    ['a token as the URL user', '/repoURL', (s: any) => { s.repoURL = 'https://gh' + 'p_0123456789abcdefghijklmnopqrstuvwxyz@github.com/o/r.git'; }, /credentials/],
    ['a short password', '/repoURL', (s: any) => { s.repoURL = 'https://me:abc@github.com/o/r.git'; }, /credentials/], // secretlint-disable-line -- a planted fake credential
    ['a password in an ssh URL', '/repoURL', (s: any) => { s.repoURL = 'ssh://git:hunter2@github.com/o/r.git'; }, /password/], // secretlint-disable-line -- a planted fake credential
    ['a chartRepo with a space', '/operator/chartRepo', (s: any) => { s.operator.chartRepo = 'https://mongodb.github.io/helm charts'; }, /./],
    ['a chartRepo with a newline', '/operator/chartRepo', (s: any) => { s.operator.chartRepo = 'https://mongodb.github.io/helm-charts\nx'; }, /./],
    ['a credential in chartRepo', '/operator/chartRepo', (s: any) => { s.operator.chartRepo = 'https://user:pw@charts.example.com/x'; }, /./], // secretlint-disable-line -- a planted fake credential
    ['a chartRepo with text after the URL', '/operator/chartRepo', (s: any) => { s.operator.chartRepo = 'https://charts.example.com/x evil'; }, /./],
  ])('refuses %s', (_label, path, mutate, message) => {
    expectProblem(settingsProblems(mutate), 'gitops.yaml', path, message);
  });
});

describe('reserved namespaces', () => {
  it.each(['kube-system', 'kube-public', 'kube-node-lease', 'kube-anything'])('refuses the environment name %s', (name) => {
    expect(envNameProblems(name)[0]!.message).toMatch(/starts with "kube-", which Kubernetes reserves/);
  });

  it.each(['kube-system', 'kube-public', 'kube-x', 'default'])('refuses the environment namespace %s', (ns) => {
    expectProblem(envProblems((d) => { d.namespace = ns; }), FILE, '/namespace', ns === 'default' ? /"default"/ : /reserves/);
  });

  it.each([
    ['Argo CD in kube-system', (s: any) => { s.argocd.namespace = 'kube-system'; }, '/argocd/namespace', /Argo CD: namespace "kube-system" starts with "kube-"/],
    ['the operator in kube-public', (s: any) => { s.operator.namespace = 'kube-public'; }, '/operator/namespace', /operator: namespace "kube-public"/],
    ['the operator in default', (s: any) => { s.operator.namespace = 'default'; }, '/operator/namespace', /"default"/],
    ['Argo CD and the operator in one namespace', (s: any) => { s.operator.namespace = s.argocd.namespace; }, '/operator/namespace', /shares namespace "argocd" with Argo CD/],
  ])('refuses %s', (_label, mutate, path, message) => {
    expectProblem(settingsProblems(mutate), 'gitops.yaml', path, message);
  });

  it('refuses an environment in the operator\'s namespace (across files)', () => {
    const settings = committedSettings();
    const problems = crossEnvProblems(settings, { qa: { spec: { name: 'qa', ...valid(), namespace: settings.operator.namespace } } });
    expect(problems.map((p) => p.message)).toEqual([`namespace "${settings.operator.namespace}" belongs to the MongoDB operator`]);
  });

  it('accepts the committed gitops.yaml', () => {
    expect(settingsProblems(() => {})).toEqual([]);
    expect((committedSettings() satisfies RepoSettings).repoURL).toMatch(/^https:/);
  });
});
