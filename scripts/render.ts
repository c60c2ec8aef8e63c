#!/usr/bin/env zx
// zx scripts/render.ts [env…] [--out <dir>]: the manifests each environment renders to.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findRepoRoot, runCli } from './lib/core/cli.ts';
import { progressLine } from './lib/core/term.ts';
import { ConflictError, FindingsError } from './lib/core/errors.ts';
import type { CliSpec } from './lib/core/cli.ts';
import { locateKustomize } from './lib/render/kustomize.ts';

const options = { out: { type: 'string' }, force: { type: 'boolean' } } as const;

const spec: CliSpec<typeof options> = {
  name: 'render',
  synopsis: '[env…] [--out <dir> [--force]]',
  description:
    'Runs `kustomize build overlays/<env>` (or `kubectl kustomize`) for each environment, in parallel, and prints ' +
    'the canonical documents per environment. Unchanged environments are read from .cache/render/.',
  optionHelp: [
    '--out <dir>  write <dir>/<env>.yaml per environment (each atomically) instead of printing',
    '--force      with --out, replace existing files whose content differs',
  ],
  options,
  positionals: [0, Number.POSITIVE_INFINITY],
  examples: ['zx scripts/render.ts', 'zx scripts/render.ts staging prod --out /tmp/rendered'],
};

await runCli(spec, import.meta.url, async ({ values, positionals }, io) => {
  // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
  const [{ canonicalText, renderEnvironments }, { checkRepositoryCached, rememberedCheck }] = await Promise.all([import('./lib/render/render.ts'), import('./lib/render/check-cache.ts')]);
  const root = findRepoRoot(process.cwd(), { plainKustomize: true });
  if (positionals.length > 0) (await import('./lib/inputs/index.ts')).envArguments(root, positionals, { mustExist: true });
  // A tree exactly as a passing check left it (scripts/lib/render/check-cache.ts) needs neither settling
  // nor the check again: generate's modules are then not even loaded.
  if (!rememberedCheck(root)) {
    const { checkRepository, holdsGeneratorInputs, settleRepository, staleMessage } = await import('./lib/generate/commands.ts');
    await settleRepository(root, 'render', io.err);
    // The same input checks as generate; stale generated files would render what the inputs no longer say.
    if (holdsGeneratorInputs(root)) {
      const { drift } = await checkRepositoryCached(root, checkRepository);
      if (drift.length > 0) throw new FindingsError(staleMessage('render', drift));
    }
  }
  const kustomize = await locateKustomize();
  // "rendering 3/8 environments…" on stderr, only on a TTY and only past a second (scripts/lib/core/term.ts).
  const progress = progressLine(process.stderr, (done, total) => `rendering ${done}/${total} environments…`);
  const rendered = await renderEnvironments({ root, envs: positionals, kustomize, onProgress: progress.update }).finally(progress.end);
  if (rendered.length === 0) throw new ConflictError(`no environment to render: ${root} has no overlays/<env>/env.yaml`);
  const texts = rendered.map((r) => ({ env: r.env, text: canonicalText(r) }));
  if (values.out) {
    const out = resolve(values.out);
    const differing = texts.filter(({ env, text }) => {
      const file = join(out, `${env}.yaml`);
      return existsSync(file) && readFileSync(file, 'utf8') !== text;
    });
    if (differing.length > 0 && !values.force) {
      throw new ConflictError(`${differing.map(({ env }) => join(values.out!, `${env}.yaml`)).join(', ')} already exist with other content; nothing was written. Re-run with --force to replace them`);
    }
    mkdirSync(out, { recursive: true });
    for (const { env, text } of texts) {
      const tmp = join(out, `.${env}.yaml.${process.pid}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(out, `${env}.yaml`));
    }
    io.err(`rendered ${texts.length} environment(s) to ${values.out} (${rendered.filter((r) => r.cached).length} from cache)`);
    return 0;
  }
  io.out(texts.map(({ env, text }) => `# environment: ${env}\n---\n${text}`).join('---\n'));
  return 0;
});
