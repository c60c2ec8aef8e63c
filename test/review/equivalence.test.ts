// No loss of correctness from the performance work of issue 18: what `render` and `diff` print — cold
// (batched builds, empty caches) and warm (renders, canonical forms and generate's checks from the
// caches) — is byte-identical to the per-environment path: one `kubectl kustomize` per environment and
// the review core with batching and every cache off. On the examples and on a scaled repository
// (the examples plus 30 random environments scaffolded as new-env does).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport } from '../../scripts/lib/review/diff/format.ts';
import { reviewChanges } from '../../scripts/lib/review/diff/review.ts';
import { locateKustomize } from '../../scripts/lib/render/kustomize.ts';
import { PREVIEW_NAME_PATTERN } from '../../scripts/lib/core/layout.ts';
import type { KustomizeTool } from '../../scripts/lib/render/kustomize.ts';
import { normalizeRender, renderedText } from '../../scripts/lib/render/normalize.ts';
import { listEnvironments } from '../../scripts/lib/render/inputs.ts';
import { runScript } from './cli.ts';
import { createRepoCopy } from './repo-copy.ts';
import type { RepoCopy } from './repo-copy.ts';
import { addEnvironments, prng, randomVariation } from './scaled-repo.ts';

let copy: RepoCopy;
let kustomize: KustomizeTool;

beforeAll(async () => {
  copy = createRepoCopy();
  const random = prng(1800);
  addEnvironments(copy, Array.from({ length: 30 }, (_, i) => `scaled-${i}`), (name) => randomVariation(random, name));
  copy.commit('scaled: 30 random environments');
  kustomize = await locateKustomize();
}, 300_000);
afterAll(() => copy?.cleanup());

/** What `render` prints, computed the slow way: one kubectl kustomize per environment, no cache. */
function referenceRender(root: string): string {
  return listEnvironments(root)
    .map((env) => {
      const yaml = execFileSync('kubectl', ['kustomize', `overlays/${env}`], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
      return `# environment: ${env}\n---\n${renderedText(normalizeRender(yaml))}`;
    })
    .join('---\n');
}

/** The review of base..head (or the working tree) by the review core with batching and every cache off. */
function referenceReport(base: string, head: string | undefined): ReturnType<typeof reviewChanges> {
  return reviewChanges({ root: copy.root, source: { kind: 'refs', base, head }, kustomize, cacheDir: null, batch: false });
}

/** What `diff --format <f>` prints, from that reference review (rendered once, printed in each format). */
function referenceText(report: Awaited<ReturnType<typeof reviewChanges>>, format: 'json' | 'text'): string {
  return formatReport(report, format, undefined, { color: false });
}

/** Every cache of the copy (renders, canonical forms, generate's checks, findings) removed. */
const emptyCaches = (): void => rmSync(join(copy.root, '.cache'), { recursive: true, force: true });

const withNewline = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);

describe('render and diff outputs are byte-identical to the per-environment path', () => {
  it('render, cold (batched) and warm (from the caches), on the examples and 30 random environments', async () => {
    expect(listEnvironments(copy.root).length).toBeGreaterThanOrEqual(33);
    emptyCaches();
    const reference = referenceRender(copy.root);
    const cold = await runScript('render', [], copy.root);
    expect(cold.stderr).toBe('');
    expect(cold.code).toBe(0);
    expect(cold.stdout).toBe(withNewline(reference));
    const warm = await runScript('render', [], copy.root);
    expect(warm.code).toBe(0);
    expect(warm.stdout).toBe(cold.stdout);
  }, 300_000);

  it('diff of a change that reaches every environment (the image), cold and warm, json and text', async () => {
    copy.edit('gitops.yaml', /^image: .*$/m, 'image: ghcr.io/example-org/users-api-next');
    copy.generate();
    copy.commit('image: users-api-next');
    try {
      // The slow path renders every environment at both revisions: once, printed in both formats.
      const report = await referenceReport('HEAD~1', 'HEAD');
      for (const format of ['json', 'text'] as const) {
        const reference = referenceText(report, format);
        expect(reference).toContain('users-api-next');
        emptyCaches();
        const cold = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', format], copy.root);
        expect(cold.code).toBe(0);
        expect(cold.stdout).toBe(withNewline(reference));
        const warm = await runScript('diff', ['--base', 'HEAD~1', '--head', 'HEAD', '--format', format], copy.root);
        expect(warm.stdout).toBe(cold.stdout);
      }
      // Every environment is reached and rendered; each one changes except a preview, which runs the pull
      // request's image from gitops.yaml previews.image (docs/release.md) and so renders the same.
      const envs = listEnvironments(copy.root);
      const previews = envs.filter((env) => PREVIEW_NAME_PATTERN.test(env));
      expect(previews.length).toBeGreaterThan(0);
      expect(report.reached).toEqual(envs);
      expect(report.envs.map((d) => d.env)).toEqual(envs.filter((env) => !previews.includes(env)));
    } finally {
      copy.git('revert', '--no-edit', 'HEAD');
    }
  }, 600_000);

  it('diff of a one-environment .env change against the working tree, cold and warm', async () => {
    copy.edit('overlays/scaled-7/.env', /^LOG_LEVEL=.*$/m, 'LOG_LEVEL=error');
    copy.commit('scaled-7: LOG_LEVEL=error');
    const committed = copy.read('overlays/scaled-8/.env');
    copy.edit('overlays/scaled-8/.env', /^LOG_LEVEL=.*$/m, 'LOG_LEVEL=error');
    try {
      const reference = referenceText(await referenceReport('HEAD~1', undefined), 'text');
      expect(reference).toContain('scaled-7');
      expect(reference).toContain('scaled-8');
      emptyCaches();
      const cold = await runScript('diff', ['--base', 'HEAD~1'], copy.root);
      expect(cold.code).toBe(0);
      expect(cold.stdout).toBe(withNewline(reference));
      const warm = await runScript('diff', ['--base', 'HEAD~1'], copy.root);
      expect(warm.stdout).toBe(cold.stdout);
    } finally {
      copy.write('overlays/scaled-8/.env', committed);
    }
  }, 300_000);
});
