// The generator: repository inputs → every generated file (repo-relative path → content). Pure and
// deterministic; the shell (scripts/generate.ts, new-env, delete-env) compares and writes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { envSpecSchema, settingsSchema, ENV_SCHEMA_FILE, SETTINGS_SCHEMA_FILE } from '../inputs/schema.ts';
import type { FileChanges } from '../core/atomic.ts';
import {
  API_BASE_DIR, ARGOCD_APPS_DIR, ARGOCD_DIR, envDir, envDotenvFile, envSpecFile, MONGODB_BASE_DIR, OVERLAYS_DIR, SCHEMAS_DIR, SETTINGS_FILE,
} from '../core/layout.ts';
import type { RepoInputs } from '../inputs/index.ts';
import { generatedHeader, isGenerated, toYaml } from '../core/yaml.ts';
import type { EnvSpec } from '../inputs/spec.ts';
import { PREVIEW_TEMPLATE_DIR, PREVIEW_TEMPLATE_RESOURCES, previewFiles } from './previews.ts';
import { imagePolicyFiles } from './image-policy.ts';
import { apiBaseObjects } from './api-base.ts';
import {
  envApplication, envProject, envProjectName, environmentNamespace, NAMESPACES_DIR, PLATFORM_PROJECT_NAME, platformProject, PROJECTS_DIR,
  namespacesApplication, ROOT_PROJECT_NAME, rootApplication, rootProject, WAVES,
} from './argocd.ts';
import { MONGODB_OPERATOR_APP_NAME, operatorChartKinds } from './mongodb/operator.ts';
import {
  clusterNamespacesDir, envCluster, envsByCluster, IN_CLUSTER_NAME, namesClusters, namespacesAppName, onCluster, operatorAppName, platformProjectName,
} from '../inputs/clusters.ts';
import { mongoDBCommunitySchemaFile } from './mongodb/schema.ts';
import { mongoBackupParts, mongoBaseFiles, mongoBaseGenerators, mongoBaseObjects, mongoOperatorApp, mongoPatches } from './mongodb/index.ts';
import { monitoringObjects } from './monitoring.ts';
import { ingressObject, INGRESS_FILE, overlayKustomization, resourcesPatch, RESOURCES_PATCH_FILE } from './overlay.ts';

const CONTRACT = 'apps/users-api/src/contract.ts';
const MONGODB_LIB = 'scripts/lib/generate/mongodb';

function yamlFile(sources: string[], value: unknown): string {
  return generatedHeader(sources) + toYaml(value);
}

function kustomization(resources: string[]): object {
  return { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources };
}

function objectFileName(o: object): string {
  const { kind, metadata } = o as { kind: string; metadata: { name: string } };
  return `${kind.toLowerCase()}-${metadata.name}.yaml`;
}

function withWave(o: object, wave: string): object {
  const obj = o as { metadata?: { annotations?: Record<string, string> } };
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, 'argocd.argoproj.io/sync-wave': wave } } };
}

/** Every generated file for `inputs`, keys sorted. Same inputs, same bytes. */
export function generateRepo(inputs: RepoInputs): Record<string, string> {
  const { settings } = inputs;
  const files: Record<string, string> = {};
  const names = Object.keys(inputs.envs).sort();
  const envs = names.map((n) => inputs.envs[n]!.spec);

  // The users API base.
  const apiObjects = apiBaseObjects(settings);
  for (const [file, obj] of Object.entries(apiObjects)) files[`${API_BASE_DIR}/${file}`] = yamlFile([CONTRACT, SETTINGS_FILE], obj);
  files[`${API_BASE_DIR}/kustomization.yaml`] = yamlFile([CONTRACT, SETTINGS_FILE], kustomization(Object.keys(apiObjects).sort()));

  // The MongoDB replica-set base: one file per object.
  const mongoObjects = mongoBaseObjects(settings);
  const mongoFiles = mongoObjects.map((o) => [objectFileName(o), o] as const);
  for (const [file, obj] of mongoFiles) files[`${MONGODB_BASE_DIR}/${file}`] = yamlFile([MONGODB_LIB], obj);
  files[`${MONGODB_BASE_DIR}/kustomization.yaml`] = yamlFile([MONGODB_LIB], { ...kustomization(mongoFiles.map(([f]) => f).sort()), configMapGenerator: mongoBaseGenerators() });
  for (const [file, text] of Object.entries(mongoBaseFiles())) files[`${MONGODB_BASE_DIR}/${file}`] = text;

  // Overlays, their Applications and their projects. `argocdFiles` collects the objects the root syncs.
  const argocdObjects = new Map<string, object>();
  const argocdFile = (path: string, sources: string[], obj: object): void => {
    files[path] = yamlFile(sources, obj);
    argocdObjects.set(path, obj);
  };
  // Every environment renders a ConfigMap from its .env (configMapGenerator).
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generated' } };
  const remoteNamespaces: object[] = [];
  // One environment's overlay in `dir`: its files, and the objects it renders (for its project).
  const overlayParts = (env: EnvSpec, dir: string, sources: string[]): { files: Record<string, string>; objects: object[] } => {
    const out: Record<string, string> = {};
    const overlayObjects: object[] = [];
    const backup = mongoBackupParts(settings, env);
    const patches = [...mongoPatches(env), ...backup.patches];
    const kustomization = overlayKustomization(settings, env, patches) as { resources: string[] };
    kustomization.resources.push(...Object.keys(backup.files).sort());
    for (const [file, obj] of Object.entries(backup.files)) {
      out[`${dir}/${file}`] = yamlFile(sources, obj);
      overlayObjects.push(obj);
    }
    if (dir === PREVIEW_TEMPLATE_DIR) kustomization.resources.push(...PREVIEW_TEMPLATE_RESOURCES);
    // Monitoring (monitoring.ts) on clusters with the Prometheus operator; previews report through Argo CD Notifications instead.
    const monitoring = dir === PREVIEW_TEMPLATE_DIR ? {} : monitoringObjects(settings, env);
    for (const [file, obj] of Object.entries(monitoring)) {
      kustomization.resources.push(file);
      out[`${dir}/${file}`] = yamlFile(sources, obj);
      overlayObjects.push(obj);
    }
    out[`${dir}/kustomization.yaml`] = yamlFile(sources, kustomization);
    out[`${dir}/${RESOURCES_PATCH_FILE}`] = yamlFile(sources, resourcesPatch(env));
    for (const p of patches) out[`${dir}/${p.file}`] = yamlFile([...sources.filter((f) => f !== SETTINGS_FILE), MONGODB_LIB], p.patch);
    const ingress = ingressObject(env);
    if (ingress) {
      out[`${dir}/${INGRESS_FILE}`] = yamlFile(sources, ingress);
      overlayObjects.push(ingress);
    }
    return { files: out, objects: [...Object.values(apiObjects), ...mongoObjects, ...overlayObjects, configMap] };
  };
  for (const env of envs) {
    const sources = [envSpecFile(env.name), SETTINGS_FILE];
    const parts = overlayParts(env, envDir(env.name), sources);
    Object.assign(files, parts.files);
    argocdFile(`${ARGOCD_APPS_DIR}/${env.name}.yaml`, sources, envApplication(settings, env));
    // The root creates the Namespaces on in-cluster; on another cluster, that cluster's namespaces Application does.
    const cluster = envCluster(env);
    if (cluster === IN_CLUSTER_NAME) argocdFile(`${NAMESPACES_DIR}/${env.name}.yaml`, sources, environmentNamespace(env));
    else {
      files[`${clusterNamespacesDir(ARGOCD_DIR, cluster)}/${env.name}.yaml`] = yamlFile(sources, environmentNamespace(env));
      remoteNamespaces.push(environmentNamespace(env));
    }
    argocdFile(`${PROJECTS_DIR}/${envProjectName(env.name)}.yaml`, sources, envProject(settings, env, parts.objects));
  }

  // Preview environments (previews.ts): the template overlay, a sample, the ApplicationSet and its project.
  const { previews } = settings;
  // (A template that is not an environment is an input error: inputs/previews.ts reports it before generating.)
  if (previews && inputs.envs[previews.template]) {
    const template = inputs.envs[previews.template]!;
    const p = previewFiles(settings, previews, { spec: template.spec, dotenv: template.dotenv, sources: [envSpecFile(previews.template), envDotenvFile(previews.template)] }, overlayParts, generatedHeader, toYaml);
    Object.assign(files, p.files);
    for (const a of p.argocd) argocdFile(a.path, a.sources, a.object);
  }

  // The MongoDB operator once per cluster that hosts an environment (in-cluster also when there is none
  // and gitops.yaml names no clusters), watching only that cluster's environment namespaces, in the
  // platform project of that cluster.
  const byCluster = envsByCluster(envs);
  if (byCluster.size === 0 && !namesClusters(settings)) byCluster.set(IN_CLUSTER_NAME, []);
  const platformSources = [SETTINGS_FILE, MONGODB_LIB, 'overlays/*/env.yaml'];
  // Image signatures enforced in the cluster (image-policy.ts): Kyverno and one ClusterPolicy, in-cluster;
  // off only when gitops.yaml says `imagePolicy: false` (a reviewed change).
  if (settings.imagePolicy !== false) {
    const ip = imagePolicyFiles(settings, (byCluster.get(IN_CLUSTER_NAME) ?? []).map((e) => e.namespace), [...Object.values(apiObjects), ...mongoObjects], yamlFile);
    Object.assign(files, ip.files);
    for (const a of ip.argocd) argocdFile(a.path, a.sources, a.object);
  }
  for (const [cluster, there] of byCluster) {
    // Previews (in-cluster) live in namespaces that do not exist yet (pr-<number>): that operator then
    // watches every namespace, and its chart binds its ClusterRole cluster-wide (docs/release.md).
    const watched = previews && inputs.envs[previews.template] && cluster === IN_CLUSTER_NAME ? ['*'] : there.map((e) => e.namespace).sort();
    const project = platformProjectName(PLATFORM_PROJECT_NAME, cluster);
    const operator = onCluster(settings, mongoOperatorApp(settings, watched, project), cluster);
    argocdFile(`${ARGOCD_APPS_DIR}/${operatorAppName(MONGODB_OPERATOR_APP_NAME, cluster)}.yaml`, platformSources, withWave(operator, WAVES.operator));
    const chartKinds = operatorChartKinds(watched, settings.operator.namespace);
    argocdFile(`${PROJECTS_DIR}/${project}.yaml`, platformSources, platformProject(settings, watched.includes('*') ? [] : there, chartKinds, cluster));
    if (cluster !== IN_CLUSTER_NAME) argocdFile(`${ARGOCD_APPS_DIR}/${namespacesAppName(cluster)}.yaml`, [SETTINGS_FILE, 'overlays/*/env.yaml'], namespacesApplication(settings, cluster));
  }

  // The root's project allows exactly the kinds of what the root syncs, itself included, and the
  // Namespaces the other clusters' namespaces Applications create.
  const rootProjectFile = `${PROJECTS_DIR}/${ROOT_PROJECT_NAME}.yaml`;
  const remoteClusters = [...byCluster.keys()].filter((c) => c !== IN_CLUSTER_NAME);
  const rootProj = rootProject(settings, [...argocdObjects.values(), ...remoteNamespaces, { apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject' }], remoteClusters);
  argocdFile(rootProjectFile, [SETTINGS_FILE, 'overlays/*/env.yaml'], rootProj);
  files[`${ARGOCD_DIR}/root.yaml`] = yamlFile([SETTINGS_FILE, 'overlays/*/env.yaml'], rootApplication(settings, [...argocdObjects.keys()]));

  files[ENV_SCHEMA_FILE] = `${JSON.stringify(envSpecSchema, null, 2)}\n`;
  files[SETTINGS_SCHEMA_FILE] = `${JSON.stringify(settingsSchema, null, 2)}\n`;
  const mongoSchema = mongoDBCommunitySchemaFile();
  files[mongoSchema.path] = mongoSchema.content;

  const sorted: Record<string, string> = {};
  for (const k of Object.keys(files).sort()) sorted[k] = files[k]!;
  return sorted;
}

/** Directories whose every file is generated: anything else found there is stale. */
const FULLY_GENERATED_DIRS = [API_BASE_DIR, MONGODB_BASE_DIR, PREVIEW_TEMPLATE_DIR];
const SCHEMA_MARKER = 'Generated by scripts/generate.ts';

/** Appends every file under `dir` (repo-relative) to `out`; a missing directory adds nothing. */
export function walkFiles(root: string, dir: string, out: string[]): void {
  const abs = join(root, dir);
  if (!existsSync(abs)) return;
  for (const d of readdirSync(abs, { withFileTypes: true })) {
    const rel = `${dir}/${d.name}`;
    if (d.isDirectory()) walkFiles(root, rel, out);
    else if (d.isFile()) out.push(rel);
  }
}

/** Files on disk the generator owns: everything in the base dirs, and generated-marked files elsewhere. */
export function generatedFilesOnDisk(root: string): string[] {
  const out: string[] = [];
  for (const dir of FULLY_GENERATED_DIRS) walkFiles(root, dir, out);
  const marked: string[] = [];
  for (const dir of [ARGOCD_DIR, OVERLAYS_DIR]) walkFiles(root, dir, marked);
  for (const rel of marked) {
    if (FULLY_GENERATED_DIRS.some((d) => rel.startsWith(`${d}/`))) continue;
    if (isGenerated(readFileSync(join(root, rel), 'utf8'))) out.push(rel);
  }
  const schemas: string[] = [];
  walkFiles(root, SCHEMAS_DIR, schemas);
  for (const rel of schemas) if (rel.endsWith('.json') && readFileSync(join(root, rel), 'utf8').includes(SCHEMA_MARKER)) out.push(rel);
  return [...new Set(out)].sort();
}

/** The writes and deletions that make the tree match `files` (nothing for files already identical). */
export function plannedChanges(root: string, files: Record<string, string>): FileChanges {
  const changes: FileChanges = {};
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(root, rel);
    if (!existsSync(abs) || readFileSync(abs, 'utf8') !== content) changes[rel] = content;
  }
  for (const rel of generatedFilesOnDisk(root)) if (!(rel in files)) changes[rel] = null;
  return changes;
}

export interface Drift {
  path: string;
  kind: 'changed' | 'missing' | 'stale';
  diff: string;
}

/** Every difference between the tree and `files`, each with a unified diff (committed → generated). */
export function checkGenerated(root: string, files: Record<string, string>): Drift[] {
  const drift: Drift[] = [];
  const changes = plannedChanges(root, files);
  for (const rel of Object.keys(changes).sort()) {
    const abs = join(root, rel);
    const onDisk = existsSync(abs) ? readFileSync(abs, 'utf8') : '';
    const wanted = changes[rel] ?? '';
    const kind: Drift['kind'] = changes[rel] === null ? 'stale' : existsSync(abs) ? 'changed' : 'missing';
    const diff = createTwoFilesPatch(
      kind === 'missing' ? '/dev/null' : `a/${rel}`,
      kind === 'stale' ? '/dev/null' : `b/${rel}`,
      onDisk,
      wanted,
      'committed',
      'generated',
    );
    drift.push({ path: rel, kind, diff });
  }
  return drift;
}

export function describeDrift(d: Drift): string {
  switch (d.kind) {
    case 'changed':
      return `${d.path}: differs from what the specs generate (hand edit, or specs changed without running generate)`;
    case 'missing':
      return `${d.path}: missing (generate has not been run since its spec was added)`;
    case 'stale':
      return `${d.path}: generated file that no spec produces any more (should be deleted)`;
  }
}

