#!/usr/bin/env zx
// Thin shell over scripts/lib/bootstrap: parse, load the kubeconfig, run, print, exit code.
import { runCli } from './lib/cli.ts';
import { UsageError } from './lib/errors.ts';
import { createKube, loadKubeConfig } from './lib/kube/client.ts';
import { runBootstrap } from './lib/bootstrap/index.ts';
import { readBootstrapInputs } from './lib/bootstrap/inputs.ts';
import { describeCredentials, readRepoCredentials } from './lib/bootstrap/repository.ts';
import { fetchText } from './lib/bootstrap/fetch.ts';
import { randomPassword } from './lib/secrets/password.ts';

await runCli(
  {
    name: 'bootstrap',
    synopsis: '[--context <ctx>] [--dry-run] [--repo-password-file <file> | --repo-ssh-key-file <file>]',
    description:
      'Installs the pinned Argo CD (server-side apply of its upstream manifest), its health checks, each environment\'s MongoDB password Secret (random, only if absent), the repository, the AppProject and the root Application. Safe to re-run: only differences are applied.',
    optionHelp: [
      '--context <ctx>              kubeconfig context (default: the current one)',
      '--dry-run                    read the cluster and print the plan; change nothing',
      '--repo-username <name>       username for a private https repo (default $GITOPS_REPO_USERNAME or "git")',
      '--repo-password-file <file>  password/token for a private https repo (or set $GITOPS_REPO_PASSWORD)',
      '--repo-ssh-key-file <file>   SSH private key for a private ssh repo',
      '--timeout <seconds>          per-request timeout (default 15)',
      '--wait <seconds>             how long to wait for Argo CD to become ready (default 300)',
    ],
    options: {
      context: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'repo-username': { type: 'string' },
      'repo-password-file': { type: 'string' },
      'repo-ssh-key-file': { type: 'string' },
      timeout: { type: 'string' },
      wait: { type: 'string' },
    },
    positionals: [0, 0],
    examples: ['zx scripts/bootstrap.ts --dry-run', 'GITOPS_REPO_PASSWORD=$(cat ~/.github-token) zx scripts/bootstrap.ts --context k3s'],
  },
  import.meta.url,
  async ({ values }, io) => {
    const seconds = (v: string | undefined, flag: string, dflt: number): number => {
      if (v === undefined) return dflt;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number of seconds`);
      return n;
    };
    const timeoutMs = seconds(values.timeout, '--timeout', 15) * 1000;
    const waitMs = seconds(values.wait, '--wait', 300) * 1000;
    const inputs = await readBootstrapInputs(process.cwd());
    const repoCredentials = readRepoCredentials(
      { passwordFile: values['repo-password-file'], sshKeyFile: values['repo-ssh-key-file'], username: values['repo-username'] },
      process.env,
    );
    io.out(`repository ${inputs.repoURL}: ${describeCredentials(repoCredentials)}`);
    const kube = createKube(loadKubeConfig(values.context), { timeoutMs });
    await runBootstrap(
      { ...inputs, repoCredentials },
      {
        kube,
        fetchManifest: (url) => fetchText(url, 60_000),
        newPassword: randomPassword,
        log: io.out,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        readiness: { timeoutMs: waitMs, intervalMs: 3_000 },
      },
      { dryRun: values['dry-run'] === true },
    );
    return 0;
  },
);
