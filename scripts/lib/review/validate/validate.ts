// review/validate/ owns what `validate` checks in rendered output: schemas (schema.ts), policies
// (policies.ts), Argo CD project admission (admission.ts, applications.ts) and capacity.
//
// Validation of rendered environments: every object against its schema, then every policy, with
// waivers applied; each finding names the environment, the object, the source file and the fix.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { API_BASE_DIR, ARGOCD_DIR, envDotenvFile, envKustomizationFile, envSpecFile, IMAGE_POLICY_DIR, OVERLAYS_DIR, SETTINGS_FILE } from '../../core/layout.ts';
import { kindsOf, type GroupKind } from '../../generate/argocd.ts';
import { PREVIEW_SAMPLE_NUMBER, PREVIEW_TEMPLATE_DIR, previewName } from '../../generate/previews.ts';
import { imagePolicyNeeds } from '../../generate/image-policy.ts';
import { destinationKey, IN_CLUSTER_NAME, knownClusters } from '../../inputs/clusters.ts';
import { MONGODB_OPERATOR_RESOURCES, operatorChartKinds } from '../../generate/mongodb/operator.ts';
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
import { admissionRefusals } from './admission.ts';
import { repositoryApplications } from './applications.ts';
import { applicationOfSet, argocdFiles, literalInclude, yamlFilesUnder, type ArgoFile } from './argocd-files.ts';
import type { Policy } from './policies.ts';

export interface Finding {
  env: string;
  /** A policy id, or "schema" / "waiver". */
  policy: string;
  object: ResourceId;
  /** Repo-relative file to edit. */
  file: string;
  /** JSON pointer into the rendered object. */
  path: string;
  message: string;
  fix: string;
}

export const SCHEMA_CHECK = 'schema';
export const WAIVER_CHECK = 'waiver';

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
export const ARGOCD_SCOPE = 'argocd';


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
export const REPOSITORY_SCOPE = 'repository';
export const UNOWNED_FILE = 'unowned-file';
export const ARGOCD_PROJECT = 'argocd-project';
export const CAPACITY = 'capacity';

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

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const key = (k: GroupKind): string => `${k.group}/${k.kind}${k.name === undefined ? '' : `/${k.name}`}`;
const label = (k: GroupKind): string => `${k.group === '' ? 'core' : k.group}/${k.kind}${k.name === undefined ? '' : ` "${k.name}"`}`;

interface Needs {
  apps: string[];
  repos: Set<string>;
  namespaces: Set<string>;
  cluster: Map<string, GroupKind>;
  namespaced: Map<string, GroupKind>;
}

/**
 * Every Application under argocd/ against its AppProject: the project must be one of the repository's
 * (never `default`), and allow exactly what its Applications render: the same namespaced kinds, the
 * same cluster-scoped kinds and names, the same destination namespaces and source repositories.
 * `rendered` are the environments' renders; the operator chart's kinds come from operatorChartKinds.
 */
export function projectFindings(root: string, rendered: ReadonlyMap<string, readonly RenderedObject[]>, settings: RepoSettings, files: readonly ArgoFile[] = argocdFiles(root)): Finding[] {
  const findings: Finding[] = [];
  const add = (file: string, id: ResourceId, path: string, message: string, fix: string): void => {
    findings.push({ env: ARGOCD_SCOPE, policy: ARGOCD_PROJECT, object: id, file, path, message, fix });
  };
  const projects = new Map<string, { file: string; spec: Obj; id: ResourceId }>();
  for (const f of files) {
    for (const o of f.objects) if (o.kind === 'AppProject') {
      const id = idOf(o);
      projects.set(id.name, { file: f.file, spec: asObj(o.spec), id });
    }
  }
  const needs = new Map<string, Needs>();
  const need = (project: string): Needs => {
    let n = needs.get(project);
    if (!n) needs.set(project, (n = { apps: [], repos: new Set(), namespaces: new Set(), cluster: new Map(), namespaced: new Map() }));
    return n;
  };
  const filesByPath = new Map(files.map((f) => [f.file, f]));

  for (const f of files) {
    for (const app of f.objects.flatMap((o) => (o.kind === 'Application' ? [o] : o.kind === 'ApplicationSet' ? [applicationOfSet(o)] : []))) {
      const id = idOf(app);
      const spec = asObj(app.spec);
      const source = asObj(spec.source);
      const project = String(spec.project ?? 'default');
      if (!projects.has(project)) {
        add(f.file, id, '/spec/project', `Application ${id.name} uses project "${project}", which is not one of this repository's AppProjects (${[...projects.keys()].sort().join(', ')})`,
          'use the project the generator assigns; never `default`, which allows every repository, destination and kind');
        continue;
      }
      const n = need(project);
      n.apps.push(id.name);
      // Kyverno and the image signature policy (generate/image-policy.ts), the one multi-source Application.
      const policyDir = join(root, IMAGE_POLICY_DIR);
      const multi = imagePolicyNeeds(spec, existsSync(policyDir) ? readdirSync(policyDir).sort().flatMap((x) => parseYamlStream(readFileSync(join(policyDir, x), 'utf8')) as object[]) : []);
      if (multi) {
        const destCluster = destinationKey({ ...asObj(spec.destination), namespace: '' }).trimEnd();
        for (const r of multi.repos) n.repos.add(r);
        for (const ns of multi.namespaces) n.namespaces.add(`${destCluster} ${ns}`);
        for (const k of multi.cluster) n.cluster.set(key(k), k);
        for (const k of multi.namespaced) n.namespaced.set(key(k), k);
        continue;
      }
      n.repos.add(String(source.repoURL ?? ''));
      const destNs = String(asObj(spec.destination).namespace ?? '');
      // Destinations compare by cluster (name, or server when no name is written) and namespace.
      const destCluster = destinationKey({ ...asObj(spec.destination), namespace: '' }).trimEnd();
      const addNs = (ns: string): void => void n.namespaces.add(`${destCluster} ${ns}`);
      let objects: Obj[] = [];
      const path = String(source.path ?? '');
      const createsNamespace = asArr(asObj(spec.syncPolicy).syncOptions).includes('CreateNamespace=true');
      if (createsNamespace) objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: destNs } });
      if (typeof source.chart === 'string') {
        if (source.chart !== settings.operator.chart || source.repoURL !== settings.operator.chartRepo) {
          add(f.file, id, '/spec/source/chart', `cannot tell what chart ${source.chart} from ${String(source.repoURL)} renders`, 'only the operator chart pinned in gitops.yaml is known');
          continue;
        }
        const watch = String(asObj(asObj(asObj(source.helm).valuesObject).operator).watchNamespace ?? '');
        const watched = watch === '' ? [] : watch.split(',');
        const chart = operatorChartKinds(watched, destNs);
        for (const k of chart.cluster) n.cluster.set(key(k), k);
        for (const k of chart.namespaced) n.namespaced.set(key(k), k);
        for (const ns of [destNs, ...watched.filter((w) => w !== '*')]) addNs(ns);
      } else if (path === ARGOCD_DIR) {
        const include = asObj(source.directory).include;
        const listed = typeof include === 'string' ? literalInclude(include) : undefined;
        if (!listed) {
          add(f.file, id, '/spec/source/directory/include', 'the root Application does not list the files it syncs, so any file added under argocd/ would be synced',
            'set directory.include to the brace list of generated files (zx scripts/generate.ts does)');
          continue;
        }
        for (const rel of listed) {
          const included = filesByPath.get(`${ARGOCD_DIR}/${rel}`);
          if (!included) {
            add(f.file, id, '/spec/source/directory/include', `includes argocd/${rel}, which does not exist`, 'run `zx scripts/generate.ts`');
            continue;
          }
          objects = objects.concat(included.objects);
        }
        addNs(destNs);
      } else if (path.startsWith(`${ARGOCD_DIR}/clusters/`)) {
        // A cluster's namespaces Application: the generated files of its directory (cluster-scoped only).
        for (const f2 of files) if (f2.file.startsWith(`${path}/`)) objects = objects.concat(f2.objects);
        addNs(destNs);
      } else if (path === PREVIEW_TEMPLATE_DIR) {
        // A preview renders like the committed sample pr-123, in whichever namespace pr-<number> it gets.
        const sample = previewName(PREVIEW_SAMPLE_NUMBER);
        const objs = rendered.get(sample);
        if (!objs) continue;
        const general = (v: unknown): unknown => (v === sample ? destNs : v);
        objects = objects.concat(objs.map((o) => ({ ...o.object, metadata: { ...asObj(o.object.metadata), name: general(asObj(o.object.metadata).name), namespace: general(asObj(o.object.metadata).namespace) } })));
      } else if (path.startsWith(`${OVERLAYS_DIR}/`)) {
        const env = path.slice(OVERLAYS_DIR.length + 1);
        const objs = rendered.get(env);
        if (!objs) continue; // not rendered in this run
        objects = objects.concat(objs.map((o) => o.object));
      } else {
        add(f.file, id, '/spec/source', `cannot tell what ${path || 'this source'} renders`, 'point Applications at overlays/<env>, argocd/ or the pinned operator chart only');
        continue;
      }
      for (const o of objects) {
        const { cluster, namespaced } = kindsOf([o]);
        for (const k of cluster) n.cluster.set(key(k), k);
        for (const k of namespaced) n.namespaced.set(key(k), k);
        const ns = asObj(o.metadata).namespace;
        if (namespaced.length > 0) addNs(typeof ns === 'string' && ns !== '' ? ns : destNs);
      }
    }
  }

  for (const [name, p] of [...projects].sort(([a], [b]) => a.localeCompare(b))) {
    const n = needs.get(name);
    if (!n) {
      add(p.file, p.id, '', `AppProject ${name} is used by no Application`, 'remove it (zx scripts/generate.ts)');
      continue;
    }
    const apps = `its Applications (${n.apps.sort().join(', ')})`;
    const compare = (path: string, what: string, allowed: Map<string, string>, needed: Map<string, string>): void => {
      for (const [k, l] of allowed) if (!needed.has(k)) add(p.file, p.id, path, `allows ${what} ${l}, which ${apps} do not render`, 'allow only what the Applications render (zx scripts/generate.ts)');
      for (const [k, l] of needed) if (!allowed.has(k)) add(p.file, p.id, path, `does not allow ${what} ${l}, which ${apps} render`, 'regenerate the project (zx scripts/generate.ts); a sync would fail');
    };
    const kinds = (list: unknown): Map<string, string> => new Map(asArr(list).map((e) => {
      const k = asObj(e);
      const gk: GroupKind = { group: String(k.group ?? ''), kind: String(k.kind ?? ''), ...(k.name === undefined ? {} : { name: String(k.name) }) };
      return [key(gk), label(gk)];
    }));
    if (p.spec.namespaceResourceWhitelist === undefined) {
      add(p.file, p.id, '/spec/namespaceResourceWhitelist', 'has no namespaceResourceWhitelist, which allows every namespaced kind', 'list the kinds (zx scripts/generate.ts)');
    }
    compare('/spec/namespaceResourceWhitelist', 'namespaced kind', kinds(p.spec.namespaceResourceWhitelist), new Map([...n.namespaced].map(([k, v]) => [k, label(v)])));
    compare('/spec/clusterResourceWhitelist', 'cluster-scoped', kinds(p.spec.clusterResourceWhitelist), new Map([...n.cluster].map(([k, v]) => [k, label(v)])));
    const where = (k: string): string => `namespace ${k.slice(k.indexOf(' ') + 1)} on ${k.slice(0, k.indexOf(' '))}`;
    const dests = new Map(asArr(p.spec.destinations).map((d) => {
      const k = destinationKey(asObj(d));
      return [k, where(k)];
    }));
    compare('/spec/destinations', 'destination', dests, new Map([...n.namespaces].map((k) => [k, where(k)])));
    compare('/spec/sourceRepos', 'source repository', new Map(asArr(p.spec.sourceRepos).map((r) => [String(r), String(r)])), new Map([...n.repos].map((r) => [r, r])));
  }
  return findings;
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

export const ARGOCD_ADMISSION = 'argocd-admission';

/**
 * Project admission as Argo CD v3.5.1 decides it (scripts/lib/review/validate/admission.ts): every Application of
 * the repository and every object it applies (the operator's chart rendered from its upstream source)
 * against its AppProject. One finding per refusal, on the Application's file.
 */
export function admissionFindings(root: string, rendered: ReadonlyMap<string, readonly RenderedObject[]>, settings: RepoSettings, files: readonly ArgoFile[] = argocdFiles(root)): Finding[] {
  const { apps, projects, clusters } = repositoryApplications(root, rendered, settings, undefined, files);
  const findings: Finding[] = [];
  for (const a of apps) {
    if (!a.objects) continue;
    const id = idOf(a.app);
    for (const r of admissionRefusals({ app: a.app, objects: a.objects, projects, clusters })) {
      findings.push({
        env: ARGOCD_SCOPE, policy: ARGOCD_ADMISSION, object: id, file: a.file, path: r.rule === 'source' ? '/spec/source/repoURL' : r.rule === 'destination' ? '/spec/destination' : r.rule === 'project' ? '/spec/project' : '',
        message: `Argo CD would refuse the sync${r.object ? ` of ${r.object}` : ''}: ${r.message}`,
        fix: r.fix,
      });
    }
  }
  return findings;
}
