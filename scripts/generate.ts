#!/usr/bin/env zx
// zx scripts/generate.ts [--check]: regenerate every generated file from gitops.yaml and overlays/*.
import { runCli } from './lib/core/cli.ts';
import { formatProblem } from './lib/core/errors.ts';

await runCli(
  {
    name: 'generate',
    synopsis: '[--check]',
    description:
      'Regenerates the users-api and MongoDB bases, every overlays/<env>/ kustomization and patch, argocd/ and schemas/ ' +
      'from gitops.yaml and overlays/<env>/{env.yaml,.env}, after validating all of them. With --check, writes nothing, ' +
      'prints a unified diff of every file that differs (or should not exist) and exits 1 if any does. Every run first ' +
      'finishes (or discards) a transaction that a killed run left, and says so.',
    optionHelp: ['--check  write nothing; exit 1 and show the diff when the committed files are not what the specs generate'],
    options: { check: { type: 'boolean' } },
    positionals: [0, 0],
    examples: ['zx scripts/generate.ts', 'zx scripts/generate.ts --check   # in CI and pre-commit'],
  },
  import.meta.url,
  async ({ values }, io) => {
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ describeDrift }, { findRepoRoot, runGenerate }] = await Promise.all([import('./lib/generate/index.ts'), import('./lib/generate/commands.ts')]);
    const root = findRepoRoot();
    const result = await runGenerate(root, { check: values.check === true, err: io.err });
    for (const w of result.warnings) io.err(`warning: ${formatProblem(w)}`);
    if (values.check) {
      if (result.drift.length === 0) {
        io.out('generate --check: every generated file is up to date');
        return 0;
      }
      for (const d of result.drift) io.out(d.diff);
      io.err(`generate --check: ${result.drift.length} generated file(s) out of date:`);
      for (const d of result.drift) io.err(`  ${describeDrift(d)}`);
      io.err('fix: run `zx scripts/generate.ts` and commit the result (edit env.yaml, .env or gitops.yaml, never generated files)');
      return 1;
    }
    const paths = Object.keys(result.changes);
    if (paths.length === 0) io.out('generate: every generated file is up to date');
    else {
      for (const p of paths) io.out(`${result.changes[p] === null ? 'deleted' : 'wrote  '} ${p}`);
      io.out(`generate: ${paths.length} file(s) changed`);
    }
    return 0;
  },
);
