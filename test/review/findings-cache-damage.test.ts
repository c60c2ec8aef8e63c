// validate's remembered findings are sealed cache entries (scripts/lib/core/cache-entry.ts), like the
// render cache: a truncated or hand-edited entry is never served; the environment is validated again.
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateEnvironmentsCached } from '../../scripts/lib/review/validate/findings-cache.ts';
import type { Finding } from '../../scripts/lib/review/validate/finding.ts';
import type { RenderedEnvironment } from '../../scripts/lib/render/render.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const env = (name: string): RenderedEnvironment => ({ env: name, cacheKey: `key-${name}` }) as unknown as RenderedEnvironment;
const finding = (e: string): Finding => ({ env: e, policy: 'p', object: { group: '', kind: 'ConfigMap', namespace: e, name: 'c' }, file: `overlays/${e}/env.yaml`, path: '/', message: `m ${e}`, fix: 'f' });

describe("validate's findings cache", () => {
  it('serves an intact entry, and validates again when an entry is truncated or edited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'findings-cache-'));
    dirs.push(dir);
    const calls: string[][] = [];
    const validate = async (subset: readonly RenderedEnvironment[]): Promise<Finding[]> => {
      calls.push(subset.map((r) => r.env));
      return subset.map((r) => finding(r.env));
    };
    const rendered = [env('dev'), env('prod')];
    const first = await validateEnvironmentsCached(rendered, validate, dir);
    expect(first.map((f) => f.env)).toEqual(['dev', 'prod']);
    expect(await validateEnvironmentsCached(rendered, validate, dir)).toEqual(first);
    expect(calls).toEqual([['dev', 'prod']]);

    const [a, b] = readdirSync(dir).sort().map((f) => join(dir, f));
    truncateSync(a!, 20);
    // Header kept, a value changed: the length and digest no longer match.
    writeFileSync(b!, readFileSync(b!, 'utf8').replace('"m ', '"M '));
    const again = await validateEnvironmentsCached(rendered, validate, dir);
    expect(again).toEqual(first);
    expect(calls.length).toBe(2);
    expect(calls[1]!.sort()).toEqual(['dev', 'prod']);
  });
});
