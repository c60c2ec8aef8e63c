#!/usr/bin/env zx
// zx scripts/validate.ts [env…] [--format text|json|github]: schema and policy checks of rendered manifests.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot, runCli } from './lib/core/cli.ts';
import { progressLine } from './lib/core/term.ts';
import { ARGOCD_DIR } from './lib/core/layout.ts';
import type { CliSpec } from './lib/core/cli.ts';
import { UsageError } from './lib/core/errors.ts';
import { locateKustomize } from './lib/render/kustomize.ts';
import type { ValidateFormat } from './lib/review/validate/validate.ts';
import { POLICIES, WAIVER_ANNOTATION_PREFIX } from './lib/review/validate/policies.ts';

const FORMATS: readonly ValidateFormat[] = ['text', 'json', 'github'];

const options = { format: { type: 'string', default: 'text' } } as const;

const spec: CliSpec<typeof options> = {
  name: 'validate',
  synopsis: '[env…] [--format text|json|github]',
  description:
    'Renders each environment and checks every object against the pinned Kubernetes, Argo CD and MongoDB schemas ' +
    '(unknown fields are errors) and the policies below; with no environment named, also the Argo CD objects under argocd/, files nobody generated (unowned-file), ' +
    'AppProjects against their Applications\' renders (argocd-project) and the pods\' requests against gitops.yaml capacity (capacity). Exit 1 when there are findings. Waive a policy for one ' +
    `object with the annotation ${WAIVER_ANNOTATION_PREFIX}<policy>: "<reason>". Policies: ${POLICIES.map((p) => p.id).join(', ')}.`,
  optionHelp: ['--format <f>  text (default), json, or github (workflow annotations on the source files)'],
  options,
  positionals: [0, Number.POSITIVE_INFINITY],
  examples: ['zx scripts/validate.ts', 'zx scripts/validate.ts prod --format github'],
};

await runCli(spec, import.meta.url, async ({ values, positionals }, io) => {
  // Loaded here, not at start-up: --help and usage errors stay instant (bench/README.md, Start-up).
  const [{ envArguments }, { renderEnvironments }, { createSchemaRegistry }, { ARGOCD_SCOPE, formatFindings, REPOSITORY_SCOPE, validateArgoCdObjects, validateEnvironments, validateRepository }, { checkRepositoryCached, rememberedCheck }, { FINDINGS_CACHE_DIR, validateEnvironmentsCached }] = await Promise.all([import('./lib/inputs/index.ts'), import('./lib/render/render.ts'), import('./lib/review/validate/schema.ts'), import('./lib/review/validate/validate.ts'), import('./lib/render/check-cache.ts'), import('./lib/review/validate/findings-cache.ts')]);
  // generate's modules only when the check must run: a tree exactly as a passing check left it needs
  // neither settling nor the check again (scripts/lib/render/check-cache.ts), as in render and diff.
  const generator = () => import('./lib/generate/commands.ts');
  const format = (values.format ?? 'text') as ValidateFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  const root = findRepoRoot(process.cwd(), { plainKustomize: true });
  envArguments(root, positionals, { mustExist: true });
  // The same input checks as generate (exit 2), and generated files that no longer match them (exit 1).
  // (Remembered while no file it reads changes: scripts/lib/render/check-cache.ts.)
  let checked = rememberedCheck(root);
  if (!checked) {
    const { checkRepository, holdsGeneratorInputs, settleRepository, staleMessage } = await generator();
    await settleRepository(root, 'validate', io.err);
    checked = holdsGeneratorInputs(root) ? await checkRepositoryCached(root, checkRepository) : undefined;
    if (checked && checked.drift.length > 0) io.err(staleMessage('validate', checked.drift));
  }
  const drift = checked?.drift ?? [];
  const kustomize = await locateKustomize();
  // "rendering 3/8 environments…" on stderr, only on a TTY and only past a second (scripts/lib/core/term.ts).
  const progress = progressLine(process.stderr, (done, total) => `rendering ${done}/${total} environments…`);
  const rendered = await renderEnvironments({ root, envs: positionals, kustomize, onProgress: progress.update }).finally(progress.end);
  // Schemas are compiled only when something is validated: an environment's findings are remembered
  // by its render's cache key and the toolkit (scripts/lib/review/validate/findings-cache.ts).
  let registry: Awaited<ReturnType<typeof createSchemaRegistry>> | undefined;
  const schemas = async () => (registry ??= await createSchemaRegistry());
  const findings = await validateEnvironmentsCached(rendered, async (subset) => validateEnvironments(root, subset, await schemas()), join(root, FINDINGS_CACHE_DIR));
  // A protected environment runs its image by digest (docs/release.md, "Digests"): checked against gitops.yaml on every run.
  const [{ protectedDigestFindings }, { readSettingsFile }, { canonicalObjects }, { envSpecFile }] = await Promise.all([import('./lib/review/validate/policies.ts'), import('./lib/inputs/index.ts'), import('./lib/render/render.ts'), import('./lib/core/layout.ts')]);
  const settingsNow = checked?.inputs.settings ?? readSettingsFile(root).settings;
  if (settingsNow) findings.push(...protectedDigestFindings(settingsNow, rendered.map((r) => ({ env: r.env, objects: canonicalObjects(r) })), envSpecFile));
  const scopes = rendered.map((r) => r.env);
  // With no environment named, the Argo CD objects under argocd/ are checked too.
  if (rendered.length === 0) io.err(`validate: no environment to check: ${root} has no overlays/<env>/env.yaml`);
  if (positionals.length === 0 && existsSync(join(root, ARGOCD_DIR))) {
    findings.push(...(await validateArgoCdObjects(root, await schemas())));
    scopes.push(ARGOCD_SCOPE);
    // Files nobody generated, AppProjects against their Applications' renders, the cluster's capacity
    // (from the inputs and generated files checkRepository already read and produced).
    const { inputs, files } = checked ?? (await (await generator()).checkRepository(root));
    const envNames = Object.keys(inputs.envs).sort();
    findings.push(...validateRepository(root, rendered, inputs.settings, files, envNames));
    scopes.push(REPOSITORY_SCOPE);
  }
  const text = formatFindings(findings, format, scopes);
  if (text !== '') io.out(text);
  if (format === 'github' && findings.length > 0) io.err(`validate: ${findings.length} finding(s)`);
  return findings.length > 0 || drift.length > 0 ? 1 : 0;
});
