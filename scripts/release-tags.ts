#!/usr/bin/env zx
// zx scripts/release-tags.ts: the image tags and OCI labels of this build (scripts/lib/release/tags.ts),
// printed in $GITHUB_OUTPUT format for the release workflow. The image repository comes from gitops.yaml.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './lib/core/cli.ts';
import { InputError, UsageError } from './lib/core/errors.ts';
import { SETTINGS_FILE } from './lib/core/layout.ts';

await runCli(
  {
    name: 'release-tags',
    synopsis: '[--ref <git ref>] [--sha <commit>] [--source <url>] [--format github|text]',
    description:
      'Prints the tags (sha-<7 hex>, plus vX.Y.Z for a release tag) and OCI labels of one image build of the users API. ' +
      'Defaults come from GitHub Actions (GITHUB_REF, GITHUB_SHA, GITHUB_SERVER_URL/GITHUB_REPOSITORY); the image repository from gitops.yaml.',
    optionHelp: [
      '--ref <ref>        refs/heads/<branch>, refs/tags/vX.Y.Z or refs/pull/<n>/merge (default $GITHUB_REF; a pull request\'s image goes to gitops.yaml previews.image)',
      '--sha <commit>     the full commit id (default $GITHUB_SHA)',
      '--source <url>     repository web URL for org.opencontainers.image.source, https only (default from $GITHUB_SERVER_URL/$GITHUB_REPOSITORY)',
      '--format <f>       github ($GITHUB_OUTPUT lines, default) or text (one reference per line)',
    ],
    options: { ref: { type: 'string' }, sha: { type: 'string' }, source: { type: 'string' }, format: { type: 'string', default: 'github' } },
    positionals: [0, 0],
    examples: ['zx scripts/release-tags.ts >> "$GITHUB_OUTPUT"', 'zx scripts/release-tags.ts --ref refs/tags/v1.4.2 --sha "$(git rev-parse HEAD)" --format text'],
  },
  import.meta.url,
  async ({ values }, io) => {
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ findRepoRoot }, { buildTags, githubOutput }, { loadSettings }] = await Promise.all([import('./lib/generate/commands.ts'), import('./lib/release/tags.ts'), import('./lib/inputs/index.ts')]);
    const env = process.env;
    const ref = values.ref ?? env.GITHUB_REF;
    const sha = values.sha ?? env.GITHUB_SHA;
    const source = values.source ?? (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}` : undefined);
    if (!ref) throw new UsageError('no git ref: pass --ref refs/heads/main (or run in GitHub Actions, which sets GITHUB_REF)');
    if (!sha) throw new UsageError('no commit: pass --sha <40-hex commit id> (or run in GitHub Actions, which sets GITHUB_SHA)');
    if (!source) throw new UsageError('no source URL: pass --source https://github.com/<owner>/<repo>');
    // One line each in $GITHUB_OUTPUT: the source is a plain https URL (the toolkit's URL check), never a way to add lines.
    const { httpsUrlProblem } = await import('./lib/inputs/refs-urls.ts');
    const sourceProblem = httpsUrlProblem(source, false);
    if (sourceProblem) throw new UsageError(`--source ${JSON.stringify(source.slice(0, 120))} ${sourceProblem}: pass the repository's https URL, e.g. https://github.com/<owner>/<repo>`);
    if (values.format !== 'github' && values.format !== 'text') throw new UsageError(`--format must be github or text, not ${JSON.stringify(values.format)}`);
    const root = findRepoRoot();
    const loaded = loadSettings(SETTINGS_FILE, readFileSync(join(root, SETTINGS_FILE), 'utf8'));
    if (!loaded.settings) throw new InputError(loaded.problems);
    // One rule for where pull request images live (generate/previews.ts: previews.image, else <image>-previews).
    const { previewImageRepo } = await import('./lib/generate/previews.ts');
    const previewImage = loaded.settings.previews ? previewImageRepo(loaded.settings, loaded.settings.previews) : undefined;
    const tags = buildTags({ ref, sha, image: loaded.settings.image, previewImage, sourceUrl: source });
    io.out(values.format === 'github' ? githubOutput(tags).trimEnd() : tags.references.join('\n'));
    return 0;
  },
);
