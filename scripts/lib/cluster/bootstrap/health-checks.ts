// The Argo CD health checks bootstrap installs into argocd-cm: one key per kind,
// `resource.customizations.health.<group>_<kind>`, whose value is a Lua script kept in the repo.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { MONGODB_HEALTH_CHECK_CM_KEY, MONGODB_HEALTH_CHECK_PATH } from '../../generate/mongodb/health.ts';

export const ARGOCD_CM = 'argocd-cm';
export const healthCheckKey = (group: string, kind: string): string => `resource.customizations.health.${group}_${kind}`;

/** Restores Application health (dropped in Argo CD 1.8) so the app of apps' sync waves wait for children. */
export const APPLICATION_HEALTH = {
  key: healthCheckKey('argoproj.io', 'Application'),
  luaPath: 'argocd/health/application.lua',
} as const;

export const HEALTH_CHECKS: ReadonlyArray<{ key: string; luaPath: string }> = [
  APPLICATION_HEALTH,
  { key: MONGODB_HEALTH_CHECK_CM_KEY, luaPath: MONGODB_HEALTH_CHECK_PATH },
];

/** argocd-cm key → Lua text. */
export function readHealthChecks(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of HEALTH_CHECKS) {
    try {
      out[c.key] = readFileSync(join(root, c.luaPath), 'utf8');
    } catch {
      throw new InputError({ file: c.luaPath, message: 'health check script missing', fix: 'restore it from git (it is hand-written, not generated)' });
    }
  }
  return out;
}
