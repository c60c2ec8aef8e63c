// The order and the policies that let an environment come up from git alone, read from what the
// generator writes for the committed inputs (and a new environment): no cluster needed.
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import { readRepoInputs } from '../../scripts/lib/inputs/index.ts';
import type { RepoInputs } from '../../scripts/lib/inputs/index.ts';
import { PASSWORD_HOOK_NAME, ROTATION_ANNOTATION } from '../../scripts/lib/generate/mongodb/password-hook.ts';
import { MONGODB } from '../../scripts/lib/inputs/spec.ts';
import { committedBaseline } from '../support/repo-copy.ts';

const WAVE = 'argocd.argoproj.io/sync-wave';
type Obj = { kind: string; metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> }; spec?: any };
const wave = (o: Obj) => Number(o.metadata.annotations?.[WAVE] ?? '0');

let inputs: RepoInputs;
let files: Record<string, string>;
const obj = (path: string): Obj => parse(files[path]!) as Obj;

beforeAll(async () => {
  inputs = await readRepoInputs(committedBaseline());
  // A new environment with an ingress and a raised rotation counter, next to the committed ones.
  const staging = inputs.envs.staging!;
  const spec = { ...staging.spec, name: 'qa-9', namespace: 'qa-9', ingress: { host: 'users.qa-9.example.com' }, mongodb: { ...staging.spec.mongodb, passwordRotation: 4 } };
  inputs = { ...inputs, envs: { ...inputs.envs, 'qa-9': { spec, dotenv: staging.dotenv } } };
  files = generateRepo(inputs);
});

describe('waves and policies of the generated tree', () => {
  it('the root creates every environment namespace before the operator that watches it, and never prunes it', () => {
    const operator = obj('argocd/apps/mongodb-operator.yaml');
    const watched = String(operator.spec.source.helm.valuesObject.operator.watchNamespace).split(',');
    // By name, every environment's namespace; or all namespaces ("*") when preview environments are on.
    if (!watched.includes('*')) expect(watched).toEqual(Object.values(inputs.envs).map((e) => e.spec.namespace).sort());
    for (const { spec: env } of Object.values(inputs.envs)) {
      const n = obj(`argocd/namespaces/${env.name}.yaml`);
      expect(n.metadata.name).toBe(env.namespace);
      expect(wave(n)).toBeLessThan(wave(operator));
      expect(n.metadata.annotations!['argocd.argoproj.io/sync-options']).toBe('Prune=false');
      expect(n.metadata.annotations!['argocd.argoproj.io/compare-options']).toBe('IgnoreExtraneous');
      expect(n.metadata.labels!['pod-security.kubernetes.io/enforce']).toBe('baseline');
    }
  });

  it('every Application retries forever with backoff and picks up new commits; environments apply server-side without creating their namespace', () => {
    const apps = Object.keys(files).filter((f) => f.startsWith('argocd/apps/') || f === 'argocd/root.yaml').map(obj);
    // the environments', the root, the operator and the image signature policy (Kyverno)
    expect(apps.length).toBe(Object.keys(inputs.envs).length + 3);
    for (const app of apps) {
      expect(app.spec.syncPolicy.retry, app.metadata.name).toEqual({ limit: -1, refresh: true, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } });
    }
    for (const env of Object.keys(inputs.envs)) {
      const options = obj(`argocd/apps/${env}.yaml`).spec.syncPolicy.syncOptions;
      expect(options).toContain('ServerSideApply=true');
      expect(options).not.toContain('CreateNamespace=true');
    }
  });

  it('inside an environment: password hook (PreSync), database (0), API (1), Ingress last (2)', () => {
    const base = (f: string) => parseAllDocuments(files[f]!).map((d) => d.toJS() as Obj);
    const job = base(`platform/mongodb/replicaset/job-${PASSWORD_HOOK_NAME}.yaml`)[0]!;
    expect(job.metadata.annotations!['argocd.argoproj.io/hook']).toBe('PreSync');
    for (const kind of ['serviceaccount', 'role', 'rolebinding']) {
      const o = base(`platform/mongodb/replicaset/${kind}-${PASSWORD_HOOK_NAME}.yaml`)[0]!;
      expect(o.metadata.annotations!['argocd.argoproj.io/hook']).toBe('PreSync');
      expect(wave(o)).toBeLessThan(wave(job));
    }
    const mdb = base(`platform/mongodb/replicaset/mongodbcommunity-${MONGODB.resourceName}.yaml`)[0]!;
    const api = base('apps/users-api/deploy/deployment.yaml')[0]!;
    const ingress = obj('overlays/qa-9/ingress.yaml');
    expect(wave(mdb)).toBeLessThan(wave(api));
    expect(wave(api)).toBeLessThan(wave(ingress));
    expect(Math.max(...Object.keys(files).filter((f) => /^(apps\/users-api\/deploy|platform\/mongodb\/replicaset)\/.*\.yaml$/.test(f) && !f.endsWith('kustomization.yaml')).flatMap(base).map(wave))).toBeLessThan(wave(ingress));
  });

  it('the rotation counter reaches the hook and the API\'s pod template of that environment only', () => {
    expect(files['overlays/qa-9/password-rotation-job.yaml']).toMatch(/name: ROTATION\n\s+value: "4"/);
    expect(files['overlays/qa-9/password-rotation-api.yaml']).toContain(`${ROTATION_ANNOTATION}: "4"`);
    expect(files['overlays/staging/password-rotation-job.yaml']).not.toContain('"4"');
  });
});
