#!/usr/bin/env zx
// Thin shell over scripts/lib/promote.
import { runCli } from './lib/cli.ts';
import { locateKustomize } from './lib/kustomize.ts';
import type { KustomizeTool } from './lib/kustomize.ts';

await runCli(
  {
    name: 'promote',
    synopsis: '<from-env> <to-env> [--tag <tag>] [--commit]',
    description:
      'Copies the image tag of <from-env> (or --tag) into overlays/<to-env>/env.yaml (comments kept), regenerates, and prints the rendered diff of the target environment. With --commit, commits exactly those files with the diff in the message. Nothing changes when the target already runs the tag.',
    optionHelp: ['--tag <tag>  promote this tag instead of the one <from-env> runs', '--commit     git commit the promotion (message carries the diff)'],
    options: { tag: { type: 'string' }, commit: { type: 'boolean' } },
    positionals: [2, 2],
    examples: ['zx scripts/promote.ts staging prod', 'zx scripts/promote.ts staging prod --tag 1.4.2 --commit'],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ findRepoRoot, settleRepository }, { envArguments }, { promote }] = await Promise.all([import('./lib/generate/commands.ts'), import('./lib/repo-inputs.ts'), import('./lib/promote/index.ts')]);
    const root = findRepoRoot();
    envArguments(root, positionals, { mustExist: true });
    await settleRepository(root, 'promote', io.err);
    let kustomize: KustomizeTool | undefined;
    try {
      kustomize = await locateKustomize();
    } catch {
      io.err('note: kustomize/kubectl not found; showing the diff of the changed files instead of the rendered diff');
    }
    const result = await promote({
      root,
      from: positionals[0]!,
      to: positionals[1]!,
      tag: values.tag,
      commit: values.commit === true,
      kustomize,
      log: io.out,
    });
    if (!result.changed) return 0;
    io.out(`promoted ${positionals[0]} → ${positionals[1]}: ${result.previousTag} → ${result.tag}`);
    for (const f of result.files) io.out(`  wrote ${f}`);
    io.out(result.diffSource === 'rendered' ? `rendered diff of overlays/${positionals[1]} (kustomize build):` : 'diff of the changed files:');
    io.out(result.diff);
    if (result.commit) io.out(`committed ${result.commit.slice(0, 12)}`);
    else io.out('not committed: review, then `git commit` (or run again with --commit)');
    return 0;
  },
);
