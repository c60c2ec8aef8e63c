// Fixtures for the generator suites: valid inputs built from the committed gitops.yaml defaults.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings, type RepoInputs } from '../../scripts/lib/inputs/index.ts';
import type { EnvSpec, RepoSettings } from '../../scripts/lib/inputs/spec.ts';

export const REPO = new URL('../../', import.meta.url).pathname;

export function committedSettings(): RepoSettings {
  // As committed: a user's uncommitted edit of gitops.yaml never changes a test's result.
  const s = loadSettings('gitops.yaml', execFileSync('git', ['show', 'HEAD:gitops.yaml'], { cwd: REPO, encoding: 'utf8' }));
  if (!s.settings) throw new Error(JSON.stringify(s.problems));
  // The generator suites build their own environments (a, b, …), so the committed previews section,
  // whose template names the example "dev", is left out here; test/release/previews.test.ts covers it.
  const { previews: _previews, ...settings } = s.settings;
  return settings;
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

/**
 * Every file of the tree but node_modules, .git and the toolkit's own caches (.cache: remembered checks,
 * compiled schemas, detector answers; gitignored, as test/hardening/support.ts snapshotTree skips them):
 * path → content (to assert "nothing was written").
 */
export function readTree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    if (p === 'node_modules' || p === '.git' || p === '.cache') continue;
    if (d.isDirectory()) Object.assign(out, readTree(dir, p));
    else out[p] = readFileSync(join(dir, p), 'utf8');
  }
  return out;
}
