import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { toYaml } from '../../scripts/lib/core/yaml.ts';
import { normalizeRender } from '../../scripts/lib/render/normalize.ts';
import { MASK, diffEnvironment } from '../../scripts/lib/review/diff/diffRenders.ts';
import type { EnvironmentDiff } from '../../scripts/lib/review/diff/diffRenders.ts';
import { COMMENT_MARKER, COMMENT_SEPARATOR, GITHUB_COMMENT_LIMIT, formatMarkdown, formatReport } from '../../scripts/lib/review/diff/format.ts';
import type { DiffReport } from '../../scripts/lib/review/diff/format.ts';

function configMaps(env: string, count: number, lines: number, value: string): string {
  return Array.from({ length: count }, (_, i) =>
    toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: env }, data: Object.fromEntries(Array.from({ length: lines }, (_, j) => [`key${j}`, `${value}-${j}`])) }),
  ).join('---\n');
}

function envDiff(env: string, count: number, lines: number): EnvironmentDiff {
  return diffEnvironment(env, normalizeRender(configMaps(env, count, lines, 'old')), normalizeRender(configMaps(env, count, lines, 'new')), { context: 0 })!;
}

function report(envs: EnvironmentDiff[]): DiffReport {
  return { base: 'origin/main', head: 'HEAD', reached: envs.map((e) => e.env), envs };
}

describe('markdown for pull-request comments', () => {
  it('fits a small diff in one comment with a summary table and a collapsible section per environment', () => {
    const comments = formatMarkdown(report([envDiff('dev', 1, 2), envDiff('prod', 2, 2)]));
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain('| prod | 0 | 2 | 0 |');
    expect(comments[0]!.match(/<details>/g)).toHaveLength(2);
    expect(comments[0]!.startsWith(COMMENT_MARKER)).toBe(true);
  });

  it('splits by environment past the comment limit, losing nothing', () => {
    const envs = ['a', 'b', 'c', 'd'].map((e) => envDiff(e, 20, 60)); // ~25 kB each
    const comments = formatMarkdown(report(envs));
    expect(comments.length).toBeGreaterThan(1);
    for (const c of comments) expect(c.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    const all = comments.join('\n');
    for (const e of ['a', 'b', 'c', 'd']) {
      // Each environment stays whole: one section, in one comment.
      expect(comments.filter((c) => c.includes(`<summary><b>${e}</b>`))).toHaveLength(1);
      for (let i = 0; i < 20; i++) expect(all).toContain(`ConfigMap ${e}/cm-${i}`);
    }
    expect(all.match(/^\+ {2}key59: new-59$/gm)).toHaveLength(80);
    expect(formatReport(report(envs), 'markdown').split(COMMENT_SEPARATOR)).toHaveLength(comments.length);
  });

  it('splits one environment too large for a comment by resource, saying so', () => {
    const big = envDiff('prod', 60, 60); // ~75 kB
    const comments = formatMarkdown(report([big]));
    expect(comments.length).toBeGreaterThan(1);
    for (const c of comments) expect(c.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(comments.join('\n')).toContain('prod is too large for one comment: it is split by resource');
    const all = comments.join('\n');
    for (let i = 0; i < 60; i++) expect(all).toContain(`ConfigMap prod/cm-${i}**`);
  });

  it('cuts a single resource larger than a comment at line boundaries', () => {
    const huge = envDiff('prod', 1, 800);
    const comments = formatMarkdown(report([huge]), 8_000);
    expect(comments.length).toBeGreaterThan(3);
    for (const c of comments) expect(c.length).toBeLessThanOrEqual(8_000);
    const all = comments.join('\n');
    for (const j of [0, 400, 799]) expect(all).toContain(`+  key${j}: new-${j}\n`);
    expect(all).toContain("this resource's diff continues in the next comment");
  });
});

describe('resource diff', () => {
  it('masks Secret values in added resources too', () => {
    const head = normalizeRender(toYaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: 'c2VjcmV0' } }));
    const d = diffEnvironment('dev', [], head)!;
    expect(d.changes[0]!.patch).toContain(`+  k: ${MASK}`);
    expect(d.changes[0]!.patch).not.toContain('c2VjcmV0');
  });

  it('does not pair two ConfigMaps sharing a stem ambiguously', () => {
    const cm = (name: string) => toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: name } });
    const base = normalizeRender(cm('x-aaaaaaaaaa'));
    const head = normalizeRender([cm('x-bbbbbbbbbb'), cm('x-cccccccccc')].join('---\n'));
    const d = diffEnvironment('dev', base, head)!;
    expect(d.counts).toEqual({ added: 2, changed: 0, removed: 1 });
  });
});

describe('the pull-request workflow', () => {
  it('renders the page, uploads it as one unzipped file and links it from the comment, with source links to the head commit', () => {
    type Step = { id?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
    const wf = parse(readFileSync('.github/workflows/pr-diff.yml', 'utf8')) as { jobs: { diff: { steps: Step[] } } };
    const steps = wf.jobs.diff.steps;
    const html = steps.findIndex((s) => /scripts\/diff\.ts .*--format html/.test(s.run ?? '') && /--out "\$RUNNER_TEMP\/review\.html"/.test(s.run ?? ''));
    const upload = steps.findIndex((s) => s.uses?.startsWith('actions/upload-artifact@') === true);
    const markdown = steps.findIndex((s) => /--format markdown/.test(s.run ?? '') && /--page-url "\$PAGE_URL"/.test(s.run ?? ''));
    expect(html).toBeGreaterThan(-1);
    expect(upload).toBeGreaterThan(html);
    expect(markdown).toBeGreaterThan(upload);
    expect(steps[upload]).toMatchObject({ id: 'page', with: { archive: false, path: '${{ runner.temp }}/review.html' } });
    expect(steps[markdown]!.env!.PAGE_URL).toBe('${{ steps.page.outputs.artifact-url }}');
    for (const i of [html, markdown]) expect(steps[i]!.env!.SOURCE_URL).toContain('${{ github.event.pull_request.head.sha }}');
  });
});
