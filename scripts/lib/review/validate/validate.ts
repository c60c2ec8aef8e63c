// review/validate/ owns what `validate` checks in rendered output: schemas (schema.ts), policies
// (policies.ts), Argo CD project admission (admission.ts, applications.ts) and capacity.
//
// Validation of rendered environments: every object against its schema, then every policy, with
// waivers applied; each finding names the environment, the object, the source file and the fix.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { API_BASE_DIR, ARGOCD_DIR, envDotenvFile, envKustomizationFile, envSpecFile, OVERLAYS_DIR, SETTINGS_FILE } from '../../core/layout.ts';
import { PREVIEW_SAMPLE_NUMBER, previewName } from '../../generate/previews.ts';
import { IN_CLUSTER_NAME, knownClusters } from '../../inputs/clusters.ts';
import { MONGODB_OPERATOR_RESOURCES } from '../../generate/mongodb/operator.ts';
import type { RepoSettings } from '../../inputs/spec.ts';
import { addRequests, amountOf, containerRequests, exceeded, formatAmount, scaleRequests, totalRequests, workloadRequests, type Requests } from './capacity.ts';
import { InputError } from '../../core/errors.ts';
import { parseYamlStream, canonicalize } from '../../core/yaml.ts';
import { canonicalObjects } from '../../render/render.ts';
import type { RenderedEnvironment } from '../../render/render.ts';
import { compareIds, idKey, idLabel, idOf } from '../../render/normalize.ts';
import type { RenderedObject, ResourceId } from '../../render/normalize.ts';
import { buildSourceIndex, fileForField, sourceOf } from '../../render/sources.ts';
import type { SchemaRegistry } from './schema.ts';
import { POLICIES, WAIVER_ANNOTATION_PREFIX } from './policies.ts';
import { argocdFiles, yamlFilesUnder } from './argocd-files.ts';
import type { Policy } from './policies.ts';
import { ARGOCD_SCOPE, CAPACITY, REPOSITORY_SCOPE, SCHEMA_CHECK, UNOWNED_FILE, WAIVER_CHECK, type Finding } from './finding.ts';
import { admissionFindings, projectFindings } from './projects.ts';

export { ARGOCD_ADMISSION, ARGOCD_PROJECT, ARGOCD_SCOPE, CAPACITY, REPOSITORY_SCOPE, SCHEMA_CHECK, UNOWNED_FILE, WAIVER_CHECK, type Finding } from './finding.ts';
export { admissionFindings, projectFindings } from './projects.ts';

function annotationsOf(o: RenderedObject): Record<string, unknown> {
  const meta = (o.object.metadata ?? {}) as Record<string, unknown>;
  return (meta.annotations ?? {}) as Record<string, unknown>;
}

/** Checks one environment's objects (already parsed); `fileOf` maps an object and path to a source file. */
export async function checkObjects(
  env: string,
  objects: readonly RenderedObject[],
  registry: SchemaRegistry,
  fileOf: (id: ResourceId, path: string) => string,
  policies: readonly Policy[] = POLICIES,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (policy: string, id: ResourceId, path: string, message: string, fix: string): void => {
    findings.push({ env, policy, object: id, file: fileOf(id, path), path, message, fix });
  };

  for (const o of objects) {
    const apiVersion = String(o.object.apiVersion ?? '');
    const validator = await registry.validatorFor(apiVersion, o.id.kind);
    if (!validator) {
      add(SCHEMA_CHECK, o.id, '/kind', `no schema is known for ${apiVersion} ${o.id.kind}`, 'use a kind of the pinned Kubernetes version, Argo CD, or add a validator to scripts/lib/review/validate/schema.ts');
      continue;
    }
    for (const p of validator(o.object)) add(SCHEMA_CHECK, o.id, p.path ?? '', p.message, p.fix ?? 'correct the field');
  }

  // Waivers: valid ones (known policy, non-empty reason) silence that policy on that object.
  const waived = new Set<string>();
  // A waiver is unknown when no policy of the toolkit has its id, whichever subset this run checks.
  const policyIds = new Set(POLICIES.map((p) => p.id));
  for (const o of objects) {
    for (const [key, value] of Object.entries(annotationsOf(o))) {
      if (!key.startsWith(WAIVER_ANNOTATION_PREFIX)) continue;
      const policy = key.slice(WAIVER_ANNOTATION_PREFIX.length);
      const path = `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!policyIds.has(policy)) {
        add(WAIVER_CHECK, o.id, path, `waiver names unknown policy "${policy}"`, `use one of: ${[...policyIds].join(', ')}`);
      } else if (typeof value !== 'string' || value.trim() === '') {
        add(WAIVER_CHECK, o.id, path, `waiver of ${policy} gives no reason, so it is not applied`, `set the annotation's value to why this object is an exception`);
      } else {
        waived.add(`${policy}\0${JSON.stringify(o.id)}`);
      }
    }
  }

  for (const policy of policies) {
    for (const v of policy.check(objects, env)) {
      if (waived.has(`${v.policy}\0${JSON.stringify(v.id)}`)) continue;
      add(v.policy, v.id, v.path, `${v.message} (${policy.reason})`, policy.fix);
    }
  }
  return findings;
}

/** Validates rendered environments; findings are sorted by environment, file, object, policy. */
export async function validateEnvironments(root: string, rendered: readonly RenderedEnvironment[], registry: SchemaRegistry): Promise<Finding[]> {
  const all: Finding[] = [];
  for (const r of rendered) {
    const index = buildSourceIndex(root, r.inputs, envKustomizationFile(r.env));
    const fileOf = (id: ResourceId, path: string): string => fileForField(sourceOf(index, id), path);
    all.push(...(await checkObjects(r.env, canonicalObjects(r), registry, fileOf)));
  }
  return all.sort((a, b) =>
    a.env.localeCompare(b.env) || a.file.localeCompare(b.file) || idLabel(a.object).localeCompare(idLabel(b.object)) ||
    a.policy.localeCompare(b.policy) || a.path.localeCompare(b.path));
}

/** The findings label for the Argo CD objects, which belong to no environment. */


/**
 * The Argo CD objects committed under argocd/ (Argo CD reads them as plain manifests), each with its
 * file. They are checked like an environment, except for the NetworkPolicy rule: the argocd namespace
 * belongs to the Argo CD installation, not to an environment.
 */
export async function validateArgoCdObjects(root: string, registry: SchemaRegistry): Promise<Finding[]> {
  const files = new Map<string, string>();
  const objects: RenderedObject[] = [];
  const problems = [];
  for (const file of yamlFilesUnder(root, ARGOCD_DIR).sort()) {
    let docs: unknown[];
    try {
      docs = parseYamlStream(readFileSync(join(root, file), 'utf8'));
    } catch (error) {
      problems.push({ file, message: `not valid YAML: ${(error as Error).message}`, fix: 'fix the syntax (or regenerate with zx scripts/generate.ts)' });
      continue;
    }
    for (const doc of docs) {
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) continue;
      const object = canonicalize(doc) as Record<string, unknown>;
      const id = idOf(object);
      files.set(idKey(id), file);
      objects.push({ id, object });
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  objects.sort((a, b) => compareIds(a.id, b.id));
  const policies = POLICIES.filter((p) => p.id !== 'network-policy');
  return checkObjects(ARGOCD_SCOPE, objects, registry, (id) => files.get(idKey(id)) ?? ARGOCD_DIR, policies);
}

export type ValidateFormat = 'text' | 'json' | 'github';

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function formatFindings(findings: readonly Finding[], format: ValidateFormat, envs: readonly string[]): string {
  if (format === 'json') {
    return `${JSON.stringify({ environments: envs, findings: findings.map((f) => ({ ...f, object: { ...f.object } })) }, null, 2)}\n`;
  }
  if (format === 'github') {
    return findings
      .map((f) => `::error file=${escapeProperty(f.file)},title=${escapeProperty(`${f.policy} (${f.env})`)}::${escapeData(`${idLabel(f.object)} ${f.path}: ${f.message}. Fix: ${f.fix}`)}\n`)
      .join('');
  }
  if (findings.length === 0) return `validated ${envs.join(', ')}: no findings\n`;
  const lines = findings.map((f) => `${f.env}: ${f.file}: [${f.policy}] ${idLabel(f.object)} ${f.path}: ${f.message}\n    fix: ${f.fix}`);
  return `${lines.join('\n')}\n${findings.length} finding(s) in ${[...new Set(findings.map((f) => f.env))].join(', ')}\n`;
}

// ---- Whole-repository checks (run when validate is given no environment): files nobody generated,
// AppProjects that allow more or less than their Applications render, and the cluster's capacity.

/** Findings about files rather than objects carry this scope and a File "object". */

/** Hand-written files that live in generated directories (health checks bootstrap installs). */
export const HAND_WRITTEN_FILES: readonly string[] = ['argocd/health/application.lua', 'platform/mongodb/health/mongodbcommunity.lua'];
/** Directories whose every file is either generated, hand-written above, or an environment's input. */
export const OWNED_DIRS: readonly string[] = [ARGOCD_DIR, 'platform', API_BASE_DIR, OVERLAYS_DIR];

function fileId(path: string): ResourceId {
  return { group: '', kind: 'File', namespace: '', name: path };
}

/** Every entry under `dir` that is not a directory (files, symlinks, FIFOs…), repo-relative, any name. */
function entriesUnder(root: string, dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = posix.join(dir, e.name);
    return e.isDirectory() ? entriesUnder(root, rel) : [rel];
  });
}

/**
 * Files under argocd/, platform/ and the generated directories that the generator does not own: `generated`
 * is generateRepo's output for the current inputs, `envs` the environments (their env.yaml and .env are
 * inputs). Such a file is never synced (the root includes only generated files) but it is a foreign
 * object waiting for the next careless include, so it fails validation whatever its extension.
 */
export function unownedFileFindings(root: string, generated: Readonly<Record<string, string>>, envs: readonly string[]): Finding[] {
  const owned = new Set([...Object.keys(generated), ...HAND_WRITTEN_FILES, ...envs.flatMap((e) => [envSpecFile(e), envDotenvFile(e)])]);
  const seen = new Set<string>();
  return OWNED_DIRS.flatMap((d) => entriesUnder(root, d))
    .filter((f) => !owned.has(f) && !seen.has(f) && seen.add(f))
    .sort()
    .map((file) => ({
      env: REPOSITORY_SCOPE,
      policy: UNOWNED_FILE,
      object: fileId(file),
      file,
      path: '',
      message: `${file} was not written by the generator (and is not an environment's env.yaml or .env); nothing under ${OWNED_DIRS.join('/, ')}/ may be added by hand`,
      fix: 'delete it; to deploy something, change gitops.yaml or an env.yaml and run `zx scripts/generate.ts`',
    }));
}


/**
 * The capacity check: every environment's effective pod requests, and all of them plus the operator,
 * against gitops.yaml `capacity`. Returns no finding when no capacity is set.
 */
export function capacityFindings(rendered: ReadonlyMap<string, readonly RenderedObject[]>, settings: RepoSettings, allEnvironments: boolean, clusterOf: (env: string) => string = () => IN_CLUSTER_NAME): Finding[] {
  // Per cluster (scripts/lib/inputs/clusters.ts): its environments and its operator against its capacity.
  const findings: Finding[] = [];
  for (const [cluster, spec] of knownClusters(settings)) {
    if (!spec.capacity) continue;
    const there = new Map([...rendered].filter(([env]) => clusterOf(env) === cluster));
    if (there.size === 0 && cluster !== IN_CLUSTER_NAME) continue;
    findings.push(...clusterCapacityFindings(there, settings, spec.capacity, allEnvironments, cluster === IN_CLUSTER_NAME && !settings.clusters ? undefined : cluster));
  }
  return findings;
}

function clusterCapacityFindings(rendered: ReadonlyMap<string, readonly RenderedObject[]>, settings: RepoSettings, cap: { cpu: string; memory: string }, allEnvironments: boolean, cluster: string | undefined): Finding[] {
  const capacity: Requests = { cpu: amountOf(cap.cpu), memory: amountOf(cap.memory) };
  const capPath = cluster === undefined || (cluster === IN_CLUSTER_NAME && !settings.clusters?.[IN_CLUSTER_NAME]?.capacity) ? '/capacity' : `/clusters/${cluster}/capacity`;
  const theCluster = cluster === undefined ? 'the cluster' : `cluster ${cluster}`;
  const findings: Finding[] = [];
  let total = containerRequests(MONGODB_OPERATOR_RESOURCES);
  for (const [env, objects] of [...rendered].sort(([a], [b]) => a.localeCompare(b))) {
    const workloads = workloadRequests(objects);
    const sum = totalRequests(workloads);
    // The sample preview stands for every preview that may run at once (gitops.yaml previews.maxConcurrent).
    const copies = env === previewName(PREVIEW_SAMPLE_NUMBER) && settings.previews ? settings.previews.maxConcurrent : 1;
    total = addRequests(total, scaleRequests(sum, copies));
    const over = exceeded(sum, capacity);
    if (over.length > 0) {
      const detail = workloads.map((w) => `${idLabel(w.id)} ${w.pods}×(${formatAmount('cpu', w.perPod.cpu)}, ${formatAmount('memory', w.perPod.memory)})`).join('; ');
      findings.push({
        env, policy: CAPACITY, object: { group: '', kind: 'Namespace', namespace: '', name: env }, file: envSpecFile(env), path: '/',
        message: `environment ${env} alone asks for more than ${theCluster} has: ${over.join(', ')} (${detail})`,
        fix: `lower replicas, members or requests in ${envSpecFile(env)}, or raise ${capPath.slice(1).replace(/\//g, '.')} in ${SETTINGS_FILE} if the cluster is bigger`,
      });
    }
  }
  const over = exceeded(total, capacity);
  if (allEnvironments && over.length > 0) {
    findings.push({
      env: REPOSITORY_SCOPE, policy: CAPACITY, object: fileId(SETTINGS_FILE), file: SETTINGS_FILE, path: capPath,
      message: `all environments ${cluster === undefined ? '' : `on ${theCluster} `}and the MongoDB operator${settings.previews ? ` (with previews.maxConcurrent = ${settings.previews.maxConcurrent} previews)` : ''} together ask for more than ${theCluster} has: ${over.join(', ')}`,
      fix: `lower replicas, members or requests in overlays/*/env.yaml, or raise ${capPath.slice(1).replace(/\//g, '.')} in ${SETTINGS_FILE} if the cluster is bigger`,
    });
  }
  return findings;
}

/** An environment's cluster, read off its generated Application (destination.name; in-cluster without one). */
function clusterOfGenerated(generated: Readonly<Record<string, string>>): (env: string) => string {
  return (env) => {
    const text = generated[`${ARGOCD_DIR}/apps/${env}.yaml`];
    const app = text ? (parseYamlStream(text)[0] as { spec?: { destination?: { name?: string } } } | undefined) : undefined;
    return app?.spec?.destination?.name ?? IN_CLUSTER_NAME;
  };
}

/**
 * The whole-repository checks for the rendered environments. `generated` is generateRepo's output for
 * the current inputs (scripts/validate.ts computes it once for the stale-file check as well).
 */
export function validateRepository(
  root: string,
  rendered: readonly RenderedEnvironment[],
  settings: RepoSettings,
  generated: Readonly<Record<string, string>>,
  envs: readonly string[],
): Finding[] {
  const objects = new Map(rendered.map((r) => [r.env, canonicalObjects(r)]));
  const files = argocdFiles(root);
  return [
    ...unownedFileFindings(root, generated, envs),
    ...projectFindings(root, objects, settings, files),
    ...admissionFindings(root, objects, settings, files),
    ...capacityFindings(objects, settings, envs.every((e) => objects.has(e)), clusterOfGenerated(generated)),
  ];
}


