#!/usr/bin/env zx
// Thin shell over scripts/lib/secrets/rotate.ts.
import { runCli } from './lib/core/cli.ts';
import { locateKustomize } from './lib/render/kustomize.ts';
import type { KustomizeTool } from './lib/render/kustomize.ts';

await runCli(
  {
    name: 'rotate-db-password',
    synopsis: '<env> [--commit]',
    description:
      'Rotates the environment\'s MongoDB user password by a commit: raises mongodb.passwordRotation in overlays/<env>/env.yaml (comments kept), regenerates, and prints the rendered diff of the environment. Once Argo CD syncs it, the PreSync Job gives the idle one of the two database users a fresh password and waits for the operator to apply it, the API rolls onto that user, and a PostSync Job retires the old user\'s password once no pod uses it (no failed request). Nothing runs against the cluster; the password is never in git and never printed. With --commit, commits exactly those files with the diff in the message.',
    optionHelp: ['--commit     git commit the rotation (message carries the diff)'],
    options: { commit: { type: 'boolean' } },
    positionals: [1, 1],
    examples: ['zx scripts/rotate-db-password.ts staging', 'zx scripts/rotate-db-password.ts prod --commit'],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ findRepoRoot, settleRepository }, { envArgument }, { rotateDbPassword }] = await Promise.all([import('./lib/generate/commands.ts'), import('./lib/inputs/index.ts'), import('./lib/release/rotate.ts')]);
    const root = findRepoRoot();
    const env = envArgument(root, positionals[0]!, { mustExist: true });
    await settleRepository(root, 'rotate-db-password', io.err);
    let kustomize: KustomizeTool | undefined;
    try {
      kustomize = await locateKustomize();
    } catch {
      io.err('note: kustomize/kubectl not found; showing the diff of the changed files instead of the rendered diff');
    }
    const r = await rotateDbPassword({ root, env, commit: values.commit === true, kustomize });
    io.out(`${env}: password rotation ${r.previous} → ${r.rotation}`);
    for (const f of r.files) io.out(`  wrote ${f}`);
    io.out(r.diffSource === 'rendered' ? `rendered diff of overlays/${env} (kustomize build):` : 'diff of the changed files:');
    io.out(r.diff);
    if (r.commit) io.out(`committed ${r.commit.slice(0, 12)}; push it: Argo CD's sync generates the new password in the cluster and rolls the API`);
    else io.out('not committed: review, then `git commit` and push (or run again with --commit)');
    return 0;
  },
);
