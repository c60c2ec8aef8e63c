// The findings of one environment's render, remembered. They are a function of the render (its cache
// key names Kustomize and every input file's bytes, scripts/lib/render/render.ts), of the files the
// source index reads to blame a file (the same input files), and of the validator: its code, the
// schemas of the installed packages (the toolkit fingerprint, scripts/lib/render/check-cache.ts). A warm
// `validate` of 300 environments then neither compiles a schema nor walks a policy (issue 18).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { RenderedEnvironment } from '../../render/render.ts';
import { toolkitFingerprint } from '../../render/check-cache.ts';
import { readEntry, writeEntry } from '../../core/cache-entry.ts';
import type { Finding } from './finding.ts';

export const FINDINGS_CACHE_DIR = '.cache/validate';

function read(file: string): Finding[] | undefined {
  try {
    // Sealed like every cache entry (core/cache-entry.ts): a truncated or edited file reads as absent.
    const text = readEntry(file);
    const v = text === undefined ? undefined : (JSON.parse(text) as unknown);
    return Array.isArray(v) ? (v as Finding[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * validateEnvironments for `rendered`, calling `validate` only for the environments whose findings are
 * not remembered. The result is ordered as validateEnvironments orders it: by environment first, then
 * within one environment as `validate` returned them.
 */
export async function validateEnvironmentsCached(
  rendered: readonly RenderedEnvironment[],
  validate: (subset: readonly RenderedEnvironment[]) => Promise<Finding[]>,
  cacheDir: string | null,
): Promise<Finding[]> {
  const tool = cacheDir ? toolkitFingerprint() : '';
  const keyOf = (r: RenderedEnvironment): string => createHash('sha256').update(`${tool}\0${r.env}\0${r.cacheKey}`).digest('hex');
  const known = new Map<string, Finding[]>();
  const misses: RenderedEnvironment[] = [];
  for (const r of rendered) {
    const hit = cacheDir ? read(join(cacheDir, `${keyOf(r)}.json`)) : undefined;
    if (hit) known.set(r.env, hit);
    else misses.push(r);
  }
  if (misses.length > 0) {
    const found = await validate(misses);
    for (const r of misses) known.set(r.env, found.filter((f) => f.env === r.env));
    if (cacheDir) {
      for (const r of misses) writeEntry(join(cacheDir, `${keyOf(r)}.json`), JSON.stringify(known.get(r.env)));
    }
  }
  const envs = [...new Set(rendered.map((r) => r.env))].sort((a, b) => a.localeCompare(b));
  return envs.flatMap((env) => known.get(env) ?? []);
}
