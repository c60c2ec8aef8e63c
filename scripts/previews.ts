#!/usr/bin/env zx
// zx scripts/previews.ts: which open pull requests get a preview environment (scripts/lib/release/previews.ts),
// and with --apply, gives and takes gitops.yaml's previews.label accordingly. Run by .github/workflows/previews.yml.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './lib/core/cli.ts';
import { InputError, UsageError } from './lib/core/errors.ts';
import { SETTINGS_FILE } from './lib/core/layout.ts';
import type { OpenPull } from './lib/release/previews.ts';

await runCli(
  {
    name: 'previews',
    synopsis: '[--apply] [--pr <number>] [--pushed <number>] [--format text|json|markdown]',
    description:
      'Plans which open pull requests get a preview environment pr-<number>: those that change the API or the manifests, are not drafts, ' +
      'are not forks unless a maintainer added the <label>-approved label, were opened, pushed or labelled within previews.ttlHours by GitHub\'s timeline ' +
      '(never a commit date), at most previews.maxConcurrent at once (oldest first). With --apply, adds or removes the previews.label ' +
      'label on GitHub; the ApplicationSet creates or deletes the previews from it. Needs GITHUB_TOKEN (GITHUB_API_URL for GitHub Enterprise).',
    optionHelp: [
      '--apply            add and remove the label as planned (default: only print the plan)',
      '--pr <number>      print only this pull request\'s preview line (for its review comment)',
      '--pushed <number>  this run is GitHub\'s answer to a push to that pull request (the workflow\'s synchronize event): its TTL restarts now, a fork\'s approval is taken back',
      '--format <f>       text (default), json, or markdown (with --pr)',
    ],
    options: { apply: { type: 'boolean' }, pr: { type: 'string' }, pushed: { type: 'string' }, format: { type: 'string', default: 'text' } },
    positionals: [0, 0],
    examples: ['GITHUB_TOKEN=… zx scripts/previews.ts', 'zx scripts/previews.ts --apply', 'zx scripts/previews.ts --pr 42 --format markdown'],
  },
  import.meta.url,
  async ({ values }, io) => {
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ findRepoRoot }, { githubApiFromEnv, githubRepoOf, openPulls, parsePullNumber, pullFiles, pullTimeline, setLabel }, { approvalLabelOf, planPreviews, previewClock, previewLine }, { loadSettings }, { termSafe }] = await Promise.all([import('./lib/generate/commands.ts'), import('./lib/release/github.ts'), import('./lib/release/previews.ts'), import('./lib/inputs/index.ts'), import('./lib/core/term.ts')]);
    const format = values.format ?? 'text';
    if (!['text', 'json', 'markdown'].includes(format)) throw new UsageError(`--format must be text, json or markdown, not ${JSON.stringify(format)}`);
    const only = parsePullNumber('--pr', values.pr);
    const pushed = parsePullNumber('--pushed', values.pushed);
    if (format === 'markdown' && only === undefined) throw new UsageError('--format markdown prints one pull request\'s line: add --pr <number>');
    const root = findRepoRoot();
    const loaded = loadSettings(SETTINGS_FILE, readFileSync(join(root, SETTINGS_FILE), 'utf8'));
    if (!loaded.settings) throw new InputError(loaded.problems);
    const cfg = loaded.settings.previews;
    if (!cfg) throw new UsageError(`${SETTINGS_FILE} has no previews section: nothing to plan (see docs/release.md)`);
    const api = githubApiFromEnv();
    if (!api) throw new UsageError('no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token that can read pull requests (and, with --apply, write labels)');
    const repo = githubRepoOf(loaded.settings.repoURL);

    // Everything is read and checked before anything is changed: a bad answer exits 2 with nothing applied.
    // The cap counts every open pull request, so the plan is made over all of them, even with --pr.
    const now = new Date();
    const pulls: OpenPull[] = [];
    const revoke: number[] = [];
    for (const p of await openPulls(api, repo)) {
      if (p.draft) {
        pulls.push({ number: p.number, labels: p.labels, draft: true, fromFork: p.fromFork, activeSince: p.createdAt, files: [] });
        continue;
      }
      const clock = previewClock(p, await pullTimeline(api, repo, p.number), { label: cfg.label, now, pushedNow: pushed === p.number });
      if (clock.revokeApproval) revoke.push(p.number);
      const blocked = p.fromFork && !clock.approved;
      pulls.push({
        number: p.number, labels: p.labels, draft: false, fromFork: p.fromFork, approved: clock.approved, activeSince: clock.activeSince,
        files: blocked ? [] : await pullFiles(api, repo, p.number),
      });
    }
    const whole = planPreviews(pulls, cfg, now);
    const plan = only === undefined ? whole : whole.filter((d) => d.number === only);

    if (format === 'markdown') {
      const host = cfg.ingress?.host.replace('{number}', String(only));
      io.out(termSafe(previewLine(plan[0], host, `pr-${only}-users-api`) || `**Preview:** none — pull request #${only} is not open.`));
    } else if (format === 'json') io.out(JSON.stringify(plan, null, 2));
    else for (const d of plan) io.out(termSafe(`#${d.number}  ${d.action.padEnd(6)}  ${d.reason}`));

    if (values.apply) {
      for (const n of revoke) await setLabel(api, repo, n, approvalLabelOf(cfg), false);
      for (const d of whole) {
        if (d.action === 'add') await setLabel(api, repo, d.number, cfg.label, true);
        if (d.action === 'remove') await setLabel(api, repo, d.number, cfg.label, false);
      }
      const n = whole.filter((d) => d.action === 'add' || d.action === 'remove').length;
      io.err(`applied: ${n} label change(s) on ${repo.owner}/${repo.repo}${revoke.length > 0 ? `; approval taken back after a push: ${revoke.map((r) => `#${r}`).join(', ')}` : ''}`);
    }
    return 0;
  },
);
