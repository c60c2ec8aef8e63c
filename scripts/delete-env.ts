#!/usr/bin/env zx
// zx scripts/delete-env.ts <name> --yes: remove an environment's overlay and its Argo CD Application.
import { runCli } from './lib/core/cli.ts';
import { UsageError } from './lib/core/errors.ts';

await runCli(
  {
    name: 'delete-env',
    synopsis: '<name> --yes',
    description:
      'Deletes overlays/<name>/ and argocd/apps/<name>.yaml and regenerates the AppProject and the operator Application ' +
      '(which no longer list its namespace). After the push, Argo CD\'s root application prunes the environment\'s Application, ' +
      'whose finalizer deletes what it deployed. The namespace and the MongoDB volumes (PVCs) stay until you delete them. ' +
      '<name> must be an existing environment; nothing outside overlays/<name>/ and the generated files is ever deleted.',
    optionHelp: [
      '--yes               confirm: the environment and, after the push, its workloads are deleted',
      '--delete-protected  also confirm deleting an environment gitops.yaml marks protected (its Application and workloads then stay in the cluster until removed by hand)',
    ],
    options: { yes: { type: 'boolean' }, 'delete-protected': { type: 'boolean' } },
    positionals: [1, 1],
    examples: ['zx scripts/delete-env.ts qa-7 --yes'],
  },
  import.meta.url,
  async ({ values, positionals }, io) => {
    // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
    const [{ applicationName }, { findRepoRoot, runDeleteEnv }, { envArgument }] = await Promise.all([import('./lib/inputs/schema.ts'), import('./lib/generate/commands.ts'), import('./lib/inputs/index.ts')]);
    const root = findRepoRoot();
    const name = envArgument(root, positionals[0]!, { mustExist: true });
    if (values.yes !== true) throw new UsageError(`deleting environment ${name} needs --yes (nothing was written)`);
    const result = await runDeleteEnv(root, name, { err: io.err }, { deleteProtected: values['delete-protected'] === true });
    for (const [p, c] of Object.entries(result.changes)) io.out(`${c === null ? 'deleted' : 'wrote  '} ${p}`);
    const ns = result.namespace ?? name;
    io.out(
      [
        '',
        `deleted environment ${name}. Next: git commit -am "Delete environment ${name}" && git push.`,
        result.protected
          ? `${name} is protected: Argo CD's root application will NOT prune the Application ${applicationName(name)} (Prune=false) and it has no finalizer, so its workloads keep running. Remove ${name} from protected in gitops.yaml, then delete it deliberately: \`argocd app delete ${applicationName(name)} --cascade\`.`
          : `Argo CD's root application then prunes the Application ${applicationName(name)}; its finalizer deletes the workloads.`,
        `Namespace ${ns} and its MongoDB PersistentVolumeClaims are kept: \`kubectl delete namespace ${ns}\` once the data is no longer needed.`,
      ].join('\n'),
    );
    return 0;
  },
);
