#!/usr/bin/env zx
// zx scripts/new-env.ts <name> [--from <env>] [--namespace <ns>] [--force [--allow-shrink]]: create (or reset) an environment.
import { runCli } from './lib/core/cli.ts';
import { formatProblem } from './lib/core/errors.ts';

await runCli(
  {
    name: 'new-env',
    synopsis: '<name> [--from <env>] [--namespace <ns>] [--force [--allow-shrink]]',
    description:
      'Creates overlays/<name>/env.yaml and .env (copied from --from, or from the defaults in gitops.yaml), then regenerates ' +
      'the overlay, its Argo CD Application and the AppProject. The name must be a DNS-1123 label short enough for every ' +
      'derived resource name. Validates everything first and writes atomically under the repository lock; an existing ' +
      'environment is refused unless --force, which resets it and prints what changed. A reset that would lower ' +
      'replica-set members or the storage size is refused unless --allow-shrink.',
    optionHelp: [
      '--from <env>       copy env.yaml (with the new namespace) and .env from an existing environment',
      '--namespace <ns>   Kubernetes namespace (default: the environment name)',
      '--force            reset an existing environment\'s env.yaml and .env (the diff is printed)',
      '--allow-shrink     with --force: allow the reset to lower mongodb.members or mongodb.storage.size',
    ],
    options: { from: { type: 'string' }, namespace: { type: 'string' }, force: { type: 'boolean' }, 'allow-shrink': { type: 'boolean' } },
    positionals: [1, 1],
    examples: ['zx scripts/new-env.ts qa-7', 'zx scripts/new-env.ts staging-2 --from staging --namespace users-staging-2', 'zx scripts/new-env.ts qa-7 --force'],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ findRepoRoot, newEnvNextSteps, runNewEnv }, { envArgument }] = await Promise.all([import('./lib/generate/commands.ts'), import('./lib/inputs/index.ts')]);
    const root = findRepoRoot();
    const name = envArgument(root, positionals[0]!, { mustExist: false });
    if (values.from !== undefined) envArgument(root, values.from, { mustExist: true, option: '--from' });
    const result = await runNewEnv(root, {
      name, from: values.from, namespace: values.namespace, force: values.force === true, allowShrink: values['allow-shrink'] === true, err: io.err,
    });
    for (const w of result.warnings) io.err(`warning: ${formatProblem(w)}`);
    io.out(newEnvNextSteps(name, result));
    return 0;
  },
);
