#!/usr/bin/env zx
// Thin shell over scripts/lib/generate/mongodb/restore-request.ts.
import { runCli } from './lib/core/cli.ts';
import { locateKustomize } from './lib/render/kustomize.ts';
import type { KustomizeTool } from './lib/render/kustomize.ts';

await runCli(
  {
    name: 'restore',
    synopsis: '<env> --from <archive> [--overwrite] [--commit]',
    description:
      'Requests a restore of the environment\'s database from a backup archive, as a reviewed change: writes mongodb.restore into overlays/<env>/env.yaml (comments kept), regenerates the restore Job and prints the rendered diff (what is restored where). Once merged and synced, the Job restores the archive from the backup volume; it refuses a non-empty database unless --overwrite was given. Nothing runs against the cluster.',
    optionHelp: [
      '--from <archive>  archive on the backup volume, e.g. users-20261204T030000Z.archive.gz',
      '--overwrite       restore over existing data (its collections are dropped first)',
      '--commit          git commit the request (message carries the diff)',
    ],
    options: { from: { type: 'string' }, overwrite: { type: 'boolean' }, commit: { type: 'boolean' } },
    positionals: [1, 1],
    examples: ['zx scripts/restore.ts staging --from users-20261204T030000Z.archive.gz', 'zx scripts/restore.ts prod --from users-20261204T030000Z.archive.gz --overwrite --commit'],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    const [{ findRepoRoot, settleRepository }, { envArgument }, { requestRestore }, { UsageError }] = await Promise.all([
      import('./lib/generate/commands.ts'), import('./lib/inputs/index.ts'), import('./lib/release/restore-request.ts'), import('./lib/core/errors.ts'),
    ]);
    if (typeof values.from !== 'string' || values.from === '') throw new UsageError('--from <archive> is required');
    const root = findRepoRoot();
    const env = envArgument(root, positionals[0]!, { mustExist: true });
    await settleRepository(root, 'restore', io.err);
    let kustomize: KustomizeTool | undefined;
    try {
      kustomize = await locateKustomize();
    } catch {
      io.err('note: kustomize/kubectl not found; showing the diff of the changed files instead of the rendered diff');
    }
    const r = await requestRestore({ root, env, from: values.from, overwrite: values.overwrite === true, commit: values.commit === true, kustomize });
    io.out(`${env}: restore request ${r.request.request}: ${r.request.from}${r.request.overwrite ? ' (overwrite)' : ''} by Job ${r.job}`);
    for (const f of r.files) io.out(`  wrote ${f}`);
    io.out(r.diffSource === 'rendered' ? `rendered diff of overlays/${env} (kustomize build):` : 'diff of the changed files:');
    io.out(r.diff);
    if (r.commit) io.out(`committed ${r.commit.slice(0, 12)}; push it: the sync runs the restore Job`);
    else io.out('not committed: review, then `git commit` and push (or run again with --commit)');
    return 0;
  },
);
