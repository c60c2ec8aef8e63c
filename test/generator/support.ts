// Fixtures for the generator suites: valid inputs built from the committed gitops.yaml defaults.
import { readFileSync } from 'node:fs';
import { loadSettings, type RepoInputs } from '../../scripts/lib/repo-inputs.ts';
import type { EnvSpec, RepoSettings } from '../../scripts/lib/spec.ts';

export const REPO = new URL('../../', import.meta.url).pathname;

export function committedSettings(): RepoSettings {
  const s = loadSettings('gitops.yaml', readFileSync(`${REPO}gitops.yaml`, 'utf8'));
  if (!s.settings) throw new Error(JSON.stringify(s.problems));
  return s.settings;
}

export function envSpec(settings: RepoSettings, name: string, overrides: Partial<EnvSpec> = {}): EnvSpec {
  return { name, namespace: name, ...structuredClone(settings.defaults), ...overrides };
}

export function inputsWith(names: string[], tweak: (e: EnvSpec) => EnvSpec = (e) => e): RepoInputs {
  const settings = committedSettings();
  const envs: RepoInputs['envs'] = {};
  for (const n of names) envs[n] = { spec: tweak(envSpec(settings, n)), dotenv: 'LOG_LEVEL=info\n' };
  return { settings, envs };
}
