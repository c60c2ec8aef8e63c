// Repositories with many environments, for the batch/equivalence tests and bench/review/cli.ts: a copy of
// this repository (repo-copy.ts) plus environments scaffolded the way `new-env` scaffolds them — its own
// env.yaml and .env writers (defaultEnvYaml, defaultDotenv) — then one `generate` for all of them
// (`new-env` regenerates the whole repository per call, which would make 300 environments quadratic).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { defaultDotenv, defaultEnvYaml } from '../../scripts/lib/generate/commands.ts';
import { loadSettings } from '../../scripts/lib/inputs/index.ts';
import { toYaml } from '../../scripts/lib/core/yaml.ts';
import type { RepoCopy } from './repo-copy.ts';

/** Deterministic pseudo-random numbers (mulberry32), so a failing seed can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface EnvVariation {
  namespace?: string;
  replicas?: number;
  tag?: string;
  members?: 1 | 3 | 5;
  logLevel?: string;
}

/** A random variation of an environment's settings (all values the schemas accept). */
export function randomVariation(random: () => number, name: string): EnvVariation {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  return {
    namespace: random() < 0.5 ? name : `users-${name}`,
    replicas: 1 + Math.floor(random() * 4),
    tag: pick(['0.1.0', '1.2.3', '2.0.0-rc.1', 'sha-4f2a9c1']),
    members: pick([1, 3, 5] as const),
    logLevel: pick(['debug', 'info', 'warn']),
  };
}

/** Writes env.yaml and .env of each environment as new-env would, with `vary`'s changes, then generates once. */
export function addEnvironments(copy: RepoCopy, names: readonly string[], vary: (name: string, i: number) => EnvVariation = () => ({})): void {
  const { settings } = loadSettings('gitops.yaml', copy.read('gitops.yaml'));
  if (!settings) throw new Error('gitops.yaml of the copy does not load');
  names.forEach((name, i) => {
    const v = vary(name, i);
    const spec = parse(defaultEnvYaml(name, v.namespace ?? name, settings)) as Record<string, unknown>;
    if (v.replicas !== undefined) spec.replicas = v.replicas;
    if (v.tag !== undefined) spec.tag = v.tag;
    if (v.members !== undefined) (spec.mongodb as Record<string, unknown>).members = v.members;
    let dotenv = defaultDotenv(name);
    if (v.logLevel !== undefined) dotenv = dotenv.replace(/^LOG_LEVEL=.*$/m, `LOG_LEVEL=${v.logLevel}`);
    const dir = join(copy.root, 'overlays', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'env.yaml'), toYaml(spec));
    writeFileSync(join(dir, '.env'), dotenv);
  });
  copy.generate();
}
