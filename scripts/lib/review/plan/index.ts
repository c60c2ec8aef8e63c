// review/plan/ owns the offline first-sync plan: what Argo CD applies, in which order, and where it would
// stall (plan.ts), printed alone (scripts/plan.ts) or inside a review (review.ts).
//
// The sync plan of a repository on disk: its settings, its environments rendered (render's cache), every
// Application with what it applies (validate/applications.ts), then planFirstSync. Used by scripts/plan.ts
// and by diff's markdown/html review (the head's plan, collapsed).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import type { KustomizeTool } from '../../render/kustomize.ts';
import { SETTINGS_FILE } from '../../core/layout.ts';
import { canonicalObjects, renderEnvironments } from '../../render/render.ts';
import type { RenderedEnvironment } from '../../render/render.ts';
import { loadSettings } from '../../inputs/index.ts';
import { monitoringCrds } from '../../generate/monitoring.ts';
import { repositoryApplications } from '../validate/applications.ts';
import { planFirstSync, type SyncPlan } from './plan.ts';

export { planFirstSync } from './plan.ts';
export type { SyncPlan } from './plan.ts';

/**
 * The plan of the repository at `root`: every environment when `envs` is absent, else the platform and only
 * those (rendered already, or rendered now with `kustomize`).
 */
export async function planRepository(root: string, opts: { envs?: readonly string[]; kustomize?: KustomizeTool; rendered?: readonly RenderedEnvironment[] }): Promise<SyncPlan> {
  const { settings, problems } = loadSettings(SETTINGS_FILE, readFileSync(join(root, SETTINGS_FILE), 'utf8'));
  if (!settings) throw new InputError(problems);
  const some = opts.envs !== undefined;
  const rendered = opts.rendered ?? (opts.kustomize && (!some || opts.envs!.length > 0) ? await renderEnvironments({ root, kustomize: opts.kustomize, ...(some ? { envs: opts.envs } : {}) }) : []);
  const objects = new Map(rendered.map((r) => [r.env, canonicalObjects(r)]));
  const repo = repositoryApplications(root, objects, settings);
  return planFirstSync(repo, { ...(some ? { envs: opts.envs } : {}), image: settings.image, presentCrds: monitoringCrds(settings) });
}
