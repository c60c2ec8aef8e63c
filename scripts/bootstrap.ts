#!/usr/bin/env zx
// Thin shell over scripts/lib/cluster/bootstrap: parse, load the kubeconfig, run, print, exit code.
import { findRepoRoot, runCli } from './lib/core/cli.ts';
import { UsageError } from './lib/core/errors.ts';

await runCli(
  {
    name: 'bootstrap',
    synopsis: '[--context <ctx>] [--dry-run] [--argocd-manifest <file>] [--repo-password-file <file> | --repo-ssh-key-file <file> | --remove-repo-credentials] | --cluster <name> [--context <ctx>] [--argocd-context <ctx>] [--dry-run]',
    description:
      'What only a human does once: installs the pinned Argo CD (server-side apply of its upstream manifest), its health checks, registers the repository and applies the root Application; AppProjects are created only when absent (Argo CD owns them from git). Everything else comes from git through Argo CD. Safe to re-run: only differences are written; --dry-run sends every write with dryRun=All.',
    optionHelp: [
      '--context <ctx>              kubeconfig context (default: the current one; with --cluster: gitops.yaml clusters.<name>.context)',
      '--cluster <name>             register cluster <name> of gitops.yaml with Argo CD instead (docs/clusters.md): ServiceAccount, least-rights ClusterRole, token, cluster Secret',
      '--argocd-context <ctx>       with --cluster: the context of the cluster Argo CD runs in (default: clusters.in-cluster.context, else the current one)',
      '--dry-run                    read the cluster, have the server dry-run every write (dryRun=All), print the plan; change nothing',
      '--argocd-manifest <file>     the Argo CD install.yaml of the pinned version from a file (air-gapped); default: download it',
      '--repo-username <name>       username for a private https repo (default $GITOPS_REPO_USERNAME or "git")',
      '--repo-password-file <file>  password/token for a private https repo (or set $GITOPS_REPO_PASSWORD)',
      '--repo-ssh-key-file <file>   SSH private key for a private ssh repo',
      '--remove-repo-credentials    remove the stored repository credentials (public repository, revoked key)',
      '--allow-untested-kubernetes  proceed on a Kubernetes version outside Argo CD\'s tested range',
      '--timeout <seconds>          per-request timeout, 1–600 (default 15)',
      '--wait <seconds>             how long to wait for Argo CD to become ready, 1–3600 (default 300)',
    ],
    options: {
      context: { type: 'string' },
      cluster: { type: 'string' },
      'argocd-context': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'argocd-manifest': { type: 'string' },
      'repo-username': { type: 'string' },
      'repo-password-file': { type: 'string' },
      'repo-ssh-key-file': { type: 'string' },
      'remove-repo-credentials': { type: 'boolean' },
      'allow-untested-kubernetes': { type: 'boolean' },
      timeout: { type: 'number', min: 1, max: 600, unit: 'seconds', default: 15 },
      wait: { type: 'number', min: 1, max: 3600, unit: 'seconds', default: 300 },
    },
    positionals: [0, 0],
    examples: [
      'zx scripts/bootstrap.ts --dry-run',
      'GITOPS_REPO_PASSWORD=$(cat ~/.github-token) zx scripts/bootstrap.ts --context k3s',
      'zx scripts/bootstrap.ts --argocd-manifest ./install.yaml',
      'zx scripts/bootstrap.ts --cluster prod-eu --context prod-eu-admin --dry-run',
    ],
  },
  import.meta.url,
  async ({ values }, io) => {
    if (values.cluster !== undefined) {
      const { registerClusterCli } = await import('./lib/cluster/bootstrap/cluster-cli.ts');
      return await registerClusterCli(findRepoRoot(), values, io);
    }
    if (values['argocd-context'] !== undefined) throw new UsageError('--argocd-context goes with --cluster <name>');
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ runBootstrap }, { readBootstrapInputs }, { settleRepository }, { describeCredentials, readRepoCredentials }, { fetchText, readManifestFile }] = await Promise.all([import('./lib/cluster/bootstrap/index.ts'), import('./lib/cluster/bootstrap/inputs.ts'), import('./lib/generate/commands.ts'), import('./lib/cluster/bootstrap/repository.ts'), import('./lib/cluster/bootstrap/fetch.ts')]);
    const remove = values['remove-repo-credentials'] === true;
    if (remove && (values['repo-password-file'] || values['repo-ssh-key-file'])) {
      throw new UsageError('--remove-repo-credentials cannot be combined with --repo-password-file or --repo-ssh-key-file');
    }
    const manifestFile = values['argocd-manifest'];
    // Read every local input before the first request, so a bad file changes nothing.
    const manifestText = manifestFile !== undefined ? readManifestFile(manifestFile) : undefined;
    const root = findRepoRoot();
    await settleRepository(root, 'bootstrap', io.err);
    const inputs = await readBootstrapInputs(root);
    const repoCredentials = remove
      ? undefined
      : readRepoCredentials({ passwordFile: values['repo-password-file'], sshKeyFile: values['repo-ssh-key-file'], username: values['repo-username'] }, process.env);
    io.out(`repository ${inputs.repoURL}: ${remove ? 'removing stored credentials' : repoCredentials ? describeCredentials(repoCredentials) : 'no credentials given (stored ones are kept)'}`);
    // The Kubernetes client (~900 modules) is loaded here, not at start-up: --help and usage errors stay instant.
    const { createKube, loadKubeConfig } = await import('./lib/cluster/kube/client.ts');
    const kube = createKube(loadKubeConfig(values.context), { timeoutMs: values.timeout! * 1000 });
    await runBootstrap(
      { ...inputs, repoCredentials, removeRepoCredentials: remove, ...(manifestFile !== undefined ? { manifestFile } : {}) },
      {
        kube,
        fetchManifest: manifestText !== undefined ? async () => manifestText : (url) => fetchText(url, 60_000),
        log: io.out,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        readiness: { timeoutMs: values.wait! * 1000, intervalMs: 3_000 },
      },
      { dryRun: values['dry-run'] === true, allowUntestedKubernetes: values['allow-untested-kubernetes'] === true },
    );
    return 0;
  },
);
