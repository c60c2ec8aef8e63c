#!/usr/bin/env zx
// Thin shell over scripts/lib/secrets/rotate.ts.
import { runCli } from './lib/cli.ts';
import { UsageError } from './lib/errors.ts';
import { createKube, loadKubeConfig } from './lib/kube/client.ts';
import { envArgument, readRepoInputs } from './lib/repo-inputs.ts';
import { settleRepository } from './lib/generate/commands.ts';
import { randomPassword } from './lib/secrets/password.ts';
import { rotateDbPassword } from './lib/secrets/rotate.ts';

await runCli(
  {
    name: 'rotate-db-password',
    synopsis: '<env> [--context <ctx>]',
    description:
      'Replaces the environment\'s MongoDB user password with a new random one, waits for the operator to update the user and the connection-string Secret, then restarts the API with a rolling update (no downtime: maxUnavailable 0 and a PodDisruptionBudget). The password is never printed.',
    optionHelp: ['--context <ctx>  kubeconfig context (default: the current one)', '--wait <s>       how long to wait for the operator (default 300)'],
    options: { context: { type: 'string' }, wait: { type: 'string' } },
    positionals: [1, 1],
    examples: ['zx scripts/rotate-db-password.ts staging'],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    const name = envArgument(process.cwd(), positionals[0]!, { mustExist: true });
    await settleRepository(process.cwd(), 'rotate-db-password', io.err);
    const { envs } = await readRepoInputs(process.cwd());
    const env = envs[name];
    if (!env) throw new UsageError(`unknown environment ${JSON.stringify(name)}; known: ${Object.keys(envs).sort().join(', ')}`);
    const kube = createKube(loadKubeConfig(values.context));
    await rotateDbPassword(
      { name, namespace: env.spec.namespace },
      {
        kube,
        newPassword: randomPassword,
        log: io.out,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        now: () => new Date(),
        wait: { timeoutMs: Number(values.wait ?? 300) * 1000, intervalMs: 3_000 },
      },
    );
    return 0;
  },
);
