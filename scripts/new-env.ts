#!/usr/bin/env zx
// zx scripts/new-env.ts <name> [--from <env>] [--namespace <ns>] [--force]: create an environment.
import { runCli } from './lib/cli.ts';
import { formatProblem } from './lib/errors.ts';
import { findRepoRoot, newEnvNextSteps, runNewEnv } from './lib/generate/commands.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlFile } from './lib/envspec.ts';
import { envSpecFile } from './lib/layout.ts';

await runCli(
  {
    name: 'new-env',
    synopsis: '<name> [--from <env>] [--namespace <ns>] [--force]',
    description:
      'Creates overlays/<name>/env.yaml and .env (copied from --from, or from the defaults in gitops.yaml), then regenerates ' +
      'the overlay, its Argo CD Application and the AppProject. The name must be a DNS-1123 label short enough for every ' +
      'derived resource name. Validates everything first and writes atomically; an existing environment is refused unless --force.',
    optionHelp: [
      '--from <env>       copy env.yaml (with the new namespace) and .env from an existing environment',
      '--namespace <ns>   Kubernetes namespace (default: the environment name)',
      '--force            overwrite an existing environment\'s env.yaml and .env',
    ],
    options: { from: { type: 'string' }, namespace: { type: 'string' }, force: { type: 'boolean' } },
    positionals: [1, 1],
    examples: ['zx scripts/new-env.ts qa-7', 'zx scripts/new-env.ts staging-2 --from staging --namespace users-staging-2'],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    const root = findRepoRoot();
    const name = positionals[0]!;
    const result = await runNewEnv(root, { name, from: values.from, namespace: values.namespace, force: values.force === true });
    for (const w of result.warnings) io.err(`warning: ${formatProblem(w)}`);
    const spec = parseYamlFile(envSpecFile(name), readFileSync(join(root, envSpecFile(name)), 'utf8')).data as { sync?: { automated?: boolean } };
    io.out(newEnvNextSteps(name, result, { sync: spec.sync?.automated }));
    return 0;
  },
);
