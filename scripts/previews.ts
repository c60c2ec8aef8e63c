#!/usr/bin/env zx
// zx scripts/previews.ts: which open pull requests get a preview environment (scripts/lib/release/previews.ts),
// and with --apply, gives and takes gitops.yaml's previews.label accordingly. Run by .github/workflows/previews.yml.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './lib/cli.ts';
import { InputError, UsageError } from './lib/errors.ts';
import { SETTINGS_FILE } from './lib/layout.ts';
import type { OpenPull } from './lib/release/previews.ts';

await runCli(
  {
    name: 'previews',
    synopsis: '[--apply] [--pr <number>] [--format text|json|markdown]',
    description:
      'Plans which open pull requests get a preview environment pr-<number>: those that change the API or the manifests, are not drafts or forks, ' +
      'saw a push within previews.ttlHours, at most previews.maxConcurrent at once (oldest first). With --apply, adds or removes the previews.label ' +
      'label on GitHub; the ApplicationSet creates or deletes the previews from it. Needs GITHUB_TOKEN (GITHUB_API_URL for GitHub Enterprise).',
    optionHelp: [
      '--apply            add and remove the label as planned (default: only print the plan)',
      '--pr <number>      print only this pull request\'s preview line (for its review comment)',
      '--format <f>       text (default), json, or markdown (with --pr)',
    ],
    options: { apply: { type: 'boolean' }, pr: { type: 'string' }, format: { type: 'string', default: 'text' } },
    positionals: [0, 0],
    examples: ['GITHUB_TOKEN=… zx scripts/previews.ts', 'zx scripts/previews.ts --apply', 'zx scripts/previews.ts --pr 42 --format markdown'],
  },
  import.meta.url,
  async ({ values }, io) => {
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ findRepoRoot }, { commitDate, githubApiFromEnv, githubRepoOf, openPulls, pullFiles, setLabel }, { planPreviews, previewLine }, { loadSettings }] = await Promise.all([import('./lib/generate/commands.ts'), import('./lib/release/github.ts'), import('./lib/release/previews.ts'), import('./lib/repo-inputs.ts')]);
    const format = values.format ?? 'text';
    if (!['text', 'json', 'markdown'].includes(format)) throw new UsageError(`--format must be text, json or markdown, not ${JSON.stringify(format)}`);
    const only = values.pr === undefined ? undefined : Number(values.pr);
    if (only !== undefined && !(Number.isInteger(only) && only > 0)) throw new UsageError(`--pr must be a pull request number, not ${JSON.stringify(values.pr)}`);
    if (format === 'markdown' && only === undefined) throw new UsageError('--format markdown prints one pull request\'s line: add --pr <number>');
    const root = findRepoRoot();
    const loaded = loadSettings(SETTINGS_FILE, readFileSync(join(root, SETTINGS_FILE), 'utf8'));
    if (!loaded.settings) throw new InputError(loaded.problems);
    const cfg = loaded.settings.previews;
    if (!cfg) throw new UsageError(`${SETTINGS_FILE} has no previews section: nothing to plan (see docs/release.md)`);
    const api = githubApiFromEnv();
    if (!api) throw new UsageError('no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token that can read pull requests (and, with --apply, write labels)');
    const repo = githubRepoOf(loaded.settings.repoURL);

    // The cap counts every open pull request, so the plan is made over all of them, even with --pr.
    const pulls: OpenPull[] = [];
    for (const p of await openPulls(api, repo)) {
      const skipDetails = p.draft || p.fromFork;
      pulls.push({
        number: p.number, labels: p.labels, draft: p.draft, fromFork: p.fromFork,
        files: skipDetails ? [] : await pullFiles(api, repo, p.number),
        lastPushAt: skipDetails ? new Date(0).toISOString() : await commitDate(api, repo, p.headSha),
      });
    }
    const whole = planPreviews(pulls, cfg, new Date());
    const plan = only === undefined ? whole : whole.filter((d) => d.number === only);

    if (format === 'markdown') {
      const host = cfg.ingress?.host.replace('{number}', String(only));
      io.out(previewLine(plan[0], host, `pr-${only}-users-api`) || `**Preview:** none — pull request #${only} is not open.`);
    } else if (format === 'json') io.out(JSON.stringify(plan, null, 2));
    else for (const d of plan) io.out(`#${d.number}  ${d.action.padEnd(6)}  ${d.reason}`);

    if (values.apply) {
      for (const d of whole) {
        if (d.action === 'add') await setLabel(api, repo, d.number, cfg.label, true);
        if (d.action === 'remove') await setLabel(api, repo, d.number, cfg.label, false);
      }
      const n = whole.filter((d) => d.action === 'add' || d.action === 'remove').length;
      io.err(`applied: ${n} label change(s) on ${repo.owner}/${repo.repo}`);
    }
    return 0;
  },
);
