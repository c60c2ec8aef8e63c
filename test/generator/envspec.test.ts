import { describe, expect, it } from 'vitest';
import { envNameProblems, setEnvSpecField, validateEnvSpec, validateSettings } from '../../scripts/lib/inputs/schema.ts';
import { committedSettings } from './support.ts';

const FILE = 'overlays/qa/env.yaml';
const valid = () => ({ namespace: 'qa', ...structuredClone(committedSettings().defaults) });

describe('env.yaml validation', () => {
  it('accepts the defaults of gitops.yaml with a namespace', () => {
    expect(validateEnvSpec('qa', FILE, valid()).problems).toEqual([]);
  });

  it.each([
    ['replicas -1', (d: any) => { d.replicas = -1; }, '/replicas', /must be >= 1/],
    ['tag latest', (d: any) => { d.tag = 'latest'; }, '/tag', /must not be "latest"/],
    ['tag as a number', (d: any) => { d.tag = 1.2; }, '/tag', /must be string/],
    ['two MongoDB members', (d: any) => { d.mongodb.members = 2; }, '/mongodb/members', /allowed values/],
    ['namespace with capitals', (d: any) => { d.namespace = 'QA'; }, '/namespace', /must match pattern/],
    ['unknown field', (d: any) => { d.replica = 2; }, '/', /additional properties/],
    ['memory without unit', (d: any) => { d.resources.limits.memory = '512'; }, '/resources/limits/memory', /must match pattern/],
    ['missing sync', (d: any) => { delete d.sync; }, '/', /required property 'sync'/],
  ])('refuses %s, naming the file, the JSON pointer and a fix', (_label, mutate, path, message) => {
    const data = valid();
    mutate(data);
    const { problems } = validateEnvSpec('qa', FILE, data);
    const p = problems.find((x) => x.path === path);
    expect(p, JSON.stringify(problems)).toBeDefined();
    expect(p!.file).toBe(FILE);
    expect(p!.message).toMatch(message);
    expect(p!.fix).toBeTruthy();
  });

  it('reports every problem at once', () => {
    const data: any = valid();
    data.replicas = 0;
    data.tag = 'latest';
    expect(validateEnvSpec('qa', FILE, data).problems.map((p) => p.path)).toEqual(['/replicas', '/tag']);
  });
});

describe('environment names', () => {
  it.each([
    ['Bad_Name', /lower case/],
    ['a'.repeat(70), /70 characters long; the limit is 53 \(its Argo CD Application/],
    ['a'.repeat(54), /54 characters long; the limit is 53 \(its Argo CD Application "a+-users-api" must fit in 63\)/],
    ['-qa', /start and end/],
  ])('refuses %s', (name, message) => {
    expect(envNameProblems(name).map((p) => p.message).join()).toMatch(message);
  });

  it('accepts the longest name whose Application name fits in a label', () => {
    expect(envNameProblems('a'.repeat(53))).toEqual([]);
  });
});

it('gitops.yaml refuses a repoURL with credentials', () => {
  const s: any = structuredClone(committedSettings());
  s.repoURL = 'https://user:token@github.com/x/y.git'; // secretlint-disable-line -- a planted fake credential
  expect(validateSettings('gitops.yaml', s).problems[0]!.path).toBe('/repoURL');
});

it('setEnvSpecField changes one field and keeps the comments', () => {
  const text = '# keep me\nnamespace: qa # inline\ntag: 1.0.0 # the release\nmongodb:\n  members: 1\n';
  const out = setEnvSpecField(text, ['tag'], '1.1.0');
  expect(out).toBe('# keep me\nnamespace: qa # inline\ntag: 1.1.0 # the release\nmongodb:\n  members: 1\n');
  expect(setEnvSpecField(text, ['mongodb', 'members'], 3)).toContain('  members: 3\n');
});

describe('rules across environments', () => {
  it('refuses two environments in one namespace, a reserved namespace, and a shared ingress host', async () => {
    const { crossEnvProblems } = await import('../../scripts/lib/inputs/index.ts');
    const settings = committedSettings();
    const spec = (name: string, namespace: string, host?: string) => ({ spec: { name, namespace, ...structuredClone(settings.defaults), ...(host ? { ingress: { host } } : {}) } });
    const problems = crossEnvProblems(settings, {
      a: spec('a', 'shared', 'users.example.com'),
      b: spec('b', 'shared', 'users.example.com'),
      c: spec('c', settings.argocd.namespace),
    });
    expect(problems.map((p) => `${p.file} ${p.path}: ${p.message}`)).toEqual([
      'overlays/b/env.yaml /namespace: namespace "shared" is already used by environment a',
      'overlays/b/env.yaml /ingress/host: host "users.example.com" is already served by environment a',
      'overlays/c/env.yaml /namespace: namespace "argocd" belongs to Argo CD',
    ]);
  });
});

describe('value rules after the schema (scripts/lib/inputs/rules.ts)', () => {
  it('run only once the schema passes, so one value is reported once', () => {
    const data: any = valid();
    data.replicas = 0; // a schema error
    data.mongodb.storage.size = '0Gi'; // a rule error, reported once the schema passes
    expect(validateEnvSpec('qa', FILE, data).problems.map((p) => p.path)).toEqual(['/replicas']);
    data.replicas = 1;
    expect(validateEnvSpec('qa', FILE, data).problems.map((p) => p.path)).toEqual(['/mongodb/storage/size']);
  });

  it('report every rule problem at once, each with file, pointer and fix', () => {
    const data: any = valid();
    data.namespace = 'kube-qa';
    data.targetRevision = '-x';
    data.resources.requests.memory = '1Gi';
    const problems = validateEnvSpec('qa', FILE, data).problems;
    expect(problems.map((p) => p.path).sort()).toEqual(['/namespace', '/resources/requests/memory', '/targetRevision']);
    for (const p of problems) expect([p.file, Boolean(p.fix)]).toEqual([FILE, true]);
  });
});
