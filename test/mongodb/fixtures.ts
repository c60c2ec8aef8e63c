// Environments and a throw-away Kustomize tree built from the mongodb module's objects, so the tests
// render exactly what the generator will write, with the real `kubectl kustomize`.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { MONGODB_ENV_DEFAULTS } from '../../scripts/lib/generate/mongodb/operator.ts';
import { mongoOverlayPatches, mongoReplicaSetBase } from '../../scripts/lib/generate/mongodb/replicaset.ts';
import type { EnvSpec, MongoSpec } from '../../scripts/lib/inputs/spec.ts';
import { parseYamlStream, toYaml, toYamlStream } from '../../scripts/lib/core/yaml.ts';

export function envWith(name: string, mongodb: Partial<MongoSpec>): EnvSpec {
  return {
    name,
    namespace: `users-${name}`,
    replicas: 1,
    tag: '0.1.0',
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    mongodb: { ...MONGODB_ENV_DEFAULTS, ...mongodb },
    sync: { automated: true, prune: true, selfHeal: true },
    targetRevision: 'main',
  };
}

export const DEV = envWith('dev', {});
export const PROD = envWith('prod', {
  members: 3,
  storage: { size: '20Gi', className: 'fast-ssd' },
  resources: {
    mongod: { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: '2', memory: '4Gi' } },
    agent: { requests: { cpu: '100m', memory: '200Mi' }, limits: { memory: '400Mi' } },
  },
});

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; [k: string]: unknown };

const KUSTOMIZATION = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' };

/** The Kustomize built into kubectl, as Argo CD's own `kustomize build` would render the directory. */
function kustomizeBuild(dir: string): string {
  return execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Writes base + one overlay per env into a temp dir and renders each with Kustomize. */
export function renderOverlays(envs: EnvSpec[]): { base: K8sObject[]; byEnv: Map<string, K8sObject[]> } {
  const dir = mkdtempSync(join(tmpdir(), 'mongodb-overlay-'));
  try {
    const baseDir = join(dir, 'platform', 'mongodb', 'replicaset');
    mkdirSync(baseDir, { recursive: true });
    writeFileSync(join(baseDir, 'replicaset.yaml'), toYamlStream(mongoReplicaSetBase()));
    writeFileSync(join(baseDir, 'kustomization.yaml'), toYaml({ ...KUSTOMIZATION, resources: ['replicaset.yaml'] }));
    for (const env of envs) {
      const envDir = join(dir, 'overlays', env.name);
      mkdirSync(envDir, { recursive: true });
      const patches = mongoOverlayPatches(env);
      for (const p of patches) writeFileSync(join(envDir, p.file), toYaml(p.patch));
      writeFileSync(join(envDir, 'kustomization.yaml'), toYaml({
        ...KUSTOMIZATION,
        namespace: env.namespace,
        resources: ['../../platform/mongodb/replicaset'],
        patches: patches.map((p) => ({ path: p.file, target: p.target })),
      }));
    }
    const base = parseYamlStream(kustomizeBuild(join(dir, 'platform/mongodb/replicaset'))) as K8sObject[];
    const byEnv = new Map<string, K8sObject[]>();
    for (const env of envs) byEnv.set(env.name, parseYamlStream(kustomizeBuild(join(dir, 'overlays', env.name))) as K8sObject[]);
    return { base, byEnv };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function only<T extends K8sObject>(objects: K8sObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as T;
}
