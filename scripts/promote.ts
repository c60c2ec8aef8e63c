#!/usr/bin/env zx
// Thin shell over scripts/lib/release/promote.ts (the edit) and scripts/lib/release/promotion.ts (--pr, --publish).
import { runCli } from './lib/core/cli.ts';
import { UsageError } from './lib/core/errors.ts';
import { locateKustomize } from './lib/render/kustomize.ts';
import type { KustomizeTool } from './lib/render/kustomize.ts';

await runCli(
  {
    name: 'promote',
    synopsis: '<from-env> <to-env> | <to-env> --tag <tag>  [--digest <sha256:…> | --no-digest] [--commit | --pr | --publish] [--no-verify] [--remote <name>] [--context <ctx>]',
    description:
      'Copies the image tag of <from-env> (or --tag; with one environment named, --tag is the build to deploy) into overlays/<to-env>/env.yaml ' +
      '(comments kept) with the digest the tag names (the source environment\'s pin of that tag, --digest, or the registry\'s answer), regenerates, and prints the rendered diff of the target environment. ' +
      'Nothing changes when the target already runs the tag; a tag that names another digest than an environment pins for it (pushed again) is refused. ' +
      '--commit commits exactly those files with the diff in the message. --pr resolves the tag to its digest in the registry, verifies the image by that digest (cosign: signature and scan attestation of the ' +
      'release workflow), resolves the tag again (pushed again meanwhile: refused), builds the promotion on branch promote/<to-env>/<tag> from HEAD without touching the working tree, pushes it and opens ' +
      'or updates a pull request whose body is the rendered diff and <from-env>\'s health. --publish (the release workflow\'s "dev follows main") ' +
      'builds the promotion on the remote branch\'s head and pushes it (again on the new head when the branch moved; it lands or leaves no local trace), or opens a pull request when gitops.yaml protects it. ' +
      'The registry is reached over https (plain http for a loopback registry); REGISTRY_USERNAME and REGISTRY_PASSWORD authenticate to a private one.',
    optionHelp: [
      '--tag <tag>        promote this tag instead of the one <from-env> runs (required with one environment)',
      '--digest <d>       the digest of the tag (sha256:<64 hex>) instead of asking the registry; with --pr/--publish the registry must answer the same',
      '--no-digest        pin the tag alone, asking no registry: an unprotected environment running an image no registry has (e.g. e2e\'s local build, docs/e2e.md); not with --digest, --pr or --publish',
      '--commit           git commit the promotion (message carries the diff)',
      '--pr               verify, then propose the promotion as a GitHub pull request (needs GITHUB_TOKEN)',
      '--publish          verify, then push the promotion to the tracked branch (a pull request for a protected environment)',
      '--no-verify        with --pr/--publish: skip the cosign verification (the pull request says so)',
      '--remote <name>    git remote to push to (default origin)',
      '--context <ctx>    kubeconfig context for <from-env>\'s health in the pull request (default: the current one)',
    ],
    options: {
      tag: { type: 'string' },
      digest: { type: 'string' },
      'no-digest': { type: 'boolean' },
      commit: { type: 'boolean' },
      pr: { type: 'boolean' },
      publish: { type: 'boolean' },
      'no-verify': { type: 'boolean' },
      remote: { type: 'string', default: 'origin' },
      context: { type: 'string' },
    },
    positionals: [1, 2],
    examples: [
      'zx scripts/promote.ts staging prod',
      'zx scripts/promote.ts staging prod --tag 1.4.2 --commit',
      'zx scripts/promote.ts staging prod --pr',
      'zx scripts/promote.ts dev --tag sha-0123abc --publish',
    ],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    const [from, to] = positionals.length === 2 ? [positionals[0], positionals[1]!] : [undefined, positionals[0]!];
    const modes = (['commit', 'pr', 'publish'] as const).filter((m) => values[m] === true);
    if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} exclude each other: choose one`);
    if (from === undefined && values.tag === undefined) throw new UsageError(`with one environment, name the build to deploy: zx scripts/promote.ts ${to} --tag <tag>`);
    if (values['no-verify'] && !values.pr && !values.publish) throw new UsageError('--no-verify goes with --pr or --publish');
    if (values['no-digest'] && (values.digest !== undefined || values.pr || values.publish)) throw new UsageError('--no-digest pins the tag alone: it excludes --digest, and --pr/--publish (they verify the image by its digest)');
    if (values.digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(values.digest)) throw new UsageError(`--digest must be sha256:<64 lowercase hex>, not ${JSON.stringify(values.digest.slice(0, 80))}`);
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ findRepoRoot, settleRepository }, { envArguments }, { promote }, { resolveDigest, registryCredentialsFromEnv }] = await Promise.all([import('./lib/generate/commands.ts'), import('./lib/inputs/index.ts'), import('./lib/release/promote.ts'), import('./lib/release/registry.ts')]);
    const credentials = registryCredentialsFromEnv();
    const resolveImageDigest = (image: string, tag: string) => resolveDigest(image, tag, { credentials });
    const root = findRepoRoot();
    envArguments(root, positionals, { mustExist: true });
    await settleRepository(root, 'promote', io.err);
    let kustomize: KustomizeTool | undefined;
    try {
      kustomize = await locateKustomize();
    } catch {
      if (values.pr || values.publish) throw new UsageError('--pr and --publish render the target environment: install kubectl (or kustomize)');
      io.err('note: kustomize/kubectl not found; showing the diff of the changed files instead of the rendered diff');
    }

    if (values.pr || values.publish) {
      const [{ deliverPromotion, describePullRequest }, { githubApiFromEnv }, { verifyReleaseImage }, { readSettingsFile }, { isProtectedEnv }] = await Promise.all([
        import('./lib/release/promotion.ts'), import('./lib/release/github.ts'), import('./lib/release/verify.ts'), import('./lib/inputs/index.ts'), import('./lib/inputs/rules.ts'),
      ]);
      const { execFile } = await import('node:child_process');
      const settings = readSettingsFile(root).settings;
      const exec = (file: string, args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((done, fail) => {
          execFile(file, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return fail(error);
            done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
          });
        });
      const health = async (): Promise<string> => {
        const [{ createKube, loadKubeConfig }, { collectStatus }, { applicationName }, { readRepoInputs }] = await Promise.all([import('./lib/cluster/kube/client.ts'), import('./lib/cluster/status/index.ts'), import('./lib/inputs/schema.ts'), import('./lib/inputs/index.ts')]);
        const inputs = await readRepoInputs(root);
        const [s] = await collectStatus(createKube(loadKubeConfig(values.context), { timeoutMs: 15_000 }), [{ name: from!, namespace: inputs.envs[from!]!.spec.namespace, application: applicationName(from!) }], inputs.settings.argocd.namespace);
        if (!s) return 'unknown';
        const app = s.application ? `${s.application.sync}, ${s.application.health}` : 'no Application';
        const api = s.deployment ? `${s.deployment.ready}/${s.deployment.desired} API pods ready` : 'no API Deployment';
        return `${s.degraded ? 'DEGRADED' : s.ok ? 'ok' : 'progressing'} — ${app}; MongoDB ${s.mongodb?.phase ?? 'missing'}; ${api}`;
      };
      const r = await deliverPromotion(
        {
          root, from, to, tag: values.tag, kustomize: kustomize!,
          verify: values['no-verify'] ? null : (image, repo) => verifyReleaseImage(exec, image, repo),
          resolveDigest: resolveImageDigest,
          digest: values.digest,
          health: from ? health : undefined,
          github: githubApiFromEnv(),
          remote: values.remote!,
          isProtected: (env) => (settings ? isProtectedEnv(settings, env) : false),
          log: io.out,
        },
        values.pr ? 'pr' : 'publish',
      );
      if (values['no-verify']) io.err('warning: the image was not verified (--no-verify)');
      if (r.mode === 'unchanged') return 0;
      if (r.mode === 'push') io.out(`promoted ${from ?? 'release'} → ${to}: ${r.previousTag} → ${r.tag}@${r.digest}; pushed ${r.commit!.slice(0, 12)} to ${values.remote}/${r.branch}`);
      else io.out(`${r.pr?.created === false ? 'updated' : 'opened'} ${describePullRequest(r.pr)} (branch ${r.branch})`);
      return 0;
    }

    const { readRepoInputs } = await import('./lib/inputs/index.ts');
    const image = (await readRepoInputs(root)).settings.image;
    const result = await promote({ root, from, to, tag: values.tag, digest: values.digest, ...(values['no-digest'] ? {} : { resolveDigest: (tag: string) => resolveImageDigest(image, tag) }), commit: values.commit === true, kustomize, log: io.out });
    if (!result.changed) return 0;
    io.out(`promoted ${from ?? 'release'} → ${to}: ${result.previousTag} → ${result.tag}${result.digest ? ` (${result.digest})` : ''}`);
    for (const f of result.files) io.out(`  wrote ${f}`);
    io.out(result.diffSource === 'rendered' ? `rendered diff of overlays/${to} (kustomize build):` : 'diff of the changed files:');
    io.out(result.diff);
    if (result.commit) io.out(`committed ${result.commit.slice(0, 12)}`);
    else io.out('not committed: review, then `git commit` (or run again with --commit)');
    return 0;
  },
);
