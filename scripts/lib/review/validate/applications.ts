// What each Application of the repository applies, as Argo CD would render it: the root (the generated files
// under argocd/ its directory.include lists), a cluster's namespaces Application, each environment's overlay,
// the preview ApplicationSet (as the committed sample pr-123) and the operator's Helm chart (rendered from the
// upstream chart source by scripts/lib/render/helm.ts). Shared by validate's admission pass and the sync plan.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { imagePolicyChartObjects, KYVERNO } from '../../generate/image-policy.ts';
import { parseYamlStream } from '../../core/yaml.ts';
import { ARGOCD_DIR, IMAGE_POLICY_DIR, OVERLAYS_DIR } from '../../core/layout.ts';
import { PREVIEW_SAMPLE_NUMBER, PREVIEW_TEMPLATE_DIR, previewName } from '../../generate/previews.ts';
import { knownClusters } from '../../inputs/clusters.ts';
import { MONGODB_OPERATOR_POD_NAME, operatorChartKinds } from '../../generate/mongodb/operator.ts';
import { operatorChartSource, renderOperatorApplication } from '../../render/operator-chart.ts';
import { HelmRenderUnavailable } from '../../render/helm.ts';
import type { RenderedObject } from '../../render/normalize.ts';
import type { RepoSettings } from '../../inputs/spec.ts';
import type { KnownCluster } from './admission.ts';
import { argocdFiles, literalInclude, type ArgoFile } from './argocd-files.ts';
import { asObj, asArr } from '../../core/objects.ts';
import type { Obj } from '../../core/objects.ts';

const TOOLKIT = resolve(import.meta.dirname, '../../../..');


export type AppSourceKind = 'root' | 'namespaces' | 'environment' | 'preview' | 'operator' | 'image-policy' | 'unknown';

export interface RepoApplication {
  /** The file under argocd/ that holds it (argocd/root.yaml for the root). */
  file: string;
  app: Obj;
  source: AppSourceKind;
  /** The environment it deploys (environment and preview Applications). */
  env?: string;
  /** What its source renders; undefined when not rendered in this run (an environment not asked for). */
  objects?: Obj[];
  /** How the objects were obtained when not by rendering the source itself. */
  note?: string;
}

export interface RepoApplications {
  apps: RepoApplication[];
  projects: Map<string, Obj>;
  clusters: KnownCluster[];
  notes: string[];
}

/** The Application an ApplicationSet's template makes for the committed sample preview (pr-123). */
export function sampleApplicationOfSet(set: Obj): Obj {
  const params: Record<string, string> = { number: String(PREVIEW_SAMPLE_NUMBER), head_sha: '0'.repeat(40), head_short_sha: '0'.repeat(8), head_short_sha_7: '0'.repeat(7), branch: 'sample', branch_slug: 'sample' };
  const fill = (v: unknown): unknown =>
    typeof v === 'string' ? v.replace(/\{\{\s*\.?([A-Za-z_0-9]+)\s*\}\}/g, (_m, k: string) => params[k] ?? 'sample')
      : Array.isArray(v) ? v.map(fill) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)])) : v;
  const template = asObj(asObj(set.spec).template);
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: fill(template.metadata) as Obj, spec: fill(template.spec) as Obj };
}

/** The operator chart's objects from its typed list (used only when the chart source or Go is missing). */
function typedOperatorObjects(app: Obj): Obj[] {
  const spec = asObj(app.spec);
  const ns = String(asObj(spec.destination).namespace ?? '');
  const watch = String(asObj(asObj(asObj(asObj(spec.source).helm).valuesObject).operator).watchNamespace ?? '');
  const watched = watch === '' ? [] : watch.split(',');
  const kinds = operatorChartKinds(watched, ns);
  const api = (g: string): string => (g === '' ? 'v1' : `${g}/v1`);
  const out: Obj[] = kinds.cluster.map((k) => ({ apiVersion: api(k.group), kind: k.kind, metadata: { name: k.name } }));
  for (const k of kinds.namespaced) {
    const where = k.kind === 'RoleBinding' ? [...new Set([...watched.filter((w) => w !== '*'), ns])] : [ns];
    for (const n of where) out.push({ apiVersion: api(k.group), kind: k.kind, metadata: { name: MONGODB_OPERATOR_POD_NAME, namespace: n } });
  }
  return out;
}

/**
 * Every Application the repository makes (the root first), with what it applies. `rendered` are the
 * environments' renders (by environment name, the sample preview as pr-123).
 */
export function repositoryApplications(root: string, rendered: ReadonlyMap<string, readonly RenderedObject[]>, settings: RepoSettings, rootApp?: Obj, files: readonly ArgoFile[] = argocdFiles(root)): RepoApplications {
  const byPath = new Map(files.map((f) => [f.file, f]));
  const projects = new Map<string, Obj>();
  for (const f of files) for (const o of f.objects) if (o.kind === 'AppProject') projects.set(String(asObj(o.metadata).name ?? ''), o);
  const clusters = [...knownClusters(settings)].map(([name, c]) => ({ name, server: c.server }));
  const notes: string[] = [];
  const apps: RepoApplication[] = [];
  // The upstream files sit beside the toolkit's checkout (../shared/envtest/upstream), whatever repository it runs in.
  const chart = operatorChartSource(TOOLKIT, settings.operator.version);
  const all: Array<{ file: string; app: Obj }> = [];
  const rootFile = files.find((f) => f.file === `${ARGOCD_DIR}/root.yaml`);
  const theRoot = rootApp ?? rootFile?.objects.find((o) => o.kind === 'Application');
  if (theRoot) all.push({ file: `${ARGOCD_DIR}/root.yaml`, app: theRoot });
  for (const f of files) {
    if (f.file === `${ARGOCD_DIR}/root.yaml`) continue;
    for (const o of f.objects) {
      if (o.kind === 'Application') all.push({ file: f.file, app: o });
      else if (o.kind === 'ApplicationSet') all.push({ file: f.file, app: sampleApplicationOfSet(o) });
    }
  }
  for (const { file, app } of all) {
    // Kyverno and the image signature policy (generate/image-policy.ts), the one multi-source Application:
    // the policy files as committed, and what the unrendered chart gives them (its CRDs, its Deployment).
    const sources = asArr(asObj(app.spec).sources).map(asObj);
    if (sources.some((x) => x.chart === KYVERNO.chart && x.repoURL === KYVERNO.chartRepo)) {
      const dir = join(root, IMAGE_POLICY_DIR);
      const policy = existsSync(dir) ? readdirSync(dir).sort().flatMap((x) => parseYamlStream(readFileSync(join(dir, x), 'utf8')) as Obj[]) : [];
      apps.push({ file, app, source: 'image-policy', objects: [...imagePolicyChartObjects(policy), ...policy], note: `chart ${KYVERNO.chart} ${KYVERNO.version} not rendered here: its CRDs and Deployment read from the chart's templates (scripts/lib/generate/image-policy.ts)` });
      continue;
    }
    const source = asObj(asObj(app.spec).source);
    const path = String(source.path ?? '');
    if (typeof source.chart === 'string') {
      if (source.chart !== settings.operator.chart || source.repoURL !== settings.operator.chartRepo) {
        apps.push({ file, app, source: 'unknown', note: `cannot render chart ${source.chart} from ${String(source.repoURL)}` });
        continue;
      }
      let objects: Obj[] | undefined;
      let note: string | undefined;
      if (chart) {
        try {
          objects = renderOperatorApplication(app, chart).map((o) => o.object);
        } catch (err) {
          if (!(err instanceof HelmRenderUnavailable)) throw err;
          note = err.message;
        }
      } else note = `the ${settings.operator.chart} ${settings.operator.version} chart source was not found (set GITOPS_UPSTREAM_DIR to the directory holding mongodb-kubernetes-${settings.operator.version}-helm-chart/)`;
      if (!objects) {
        objects = typedOperatorObjects(app);
        note = `${note}; checked the chart's typed list instead (scripts/lib/generate/mongodb/operator.ts, proven equal to the rendering by test/mongodb/operator.test.ts)`;
        notes.push(`${file}: ${note}`);
      }
      apps.push({ file, app, source: 'operator', objects, ...(note ? { note } : {}) });
    } else if (path === ARGOCD_DIR) {
      const include = asObj(source.directory).include;
      const listed = typeof include === 'string' ? literalInclude(include) ?? [] : [];
      apps.push({ file, app, source: 'root', objects: listed.flatMap((rel) => byPath.get(`${ARGOCD_DIR}/${rel}`)?.objects ?? []) });
    } else if (path.startsWith(`${ARGOCD_DIR}/clusters/`)) {
      apps.push({ file, app, source: 'namespaces', objects: files.filter((f) => f.file.startsWith(`${path}/`)).flatMap((f) => f.objects) });
    } else if (path === PREVIEW_TEMPLATE_DIR) {
      const env = previewName(PREVIEW_SAMPLE_NUMBER);
      apps.push({ file, app, source: 'preview', env, objects: rendered.get(env)?.map((o) => o.object as Obj) });
    } else if (path.startsWith(`${OVERLAYS_DIR}/`)) {
      const env = path.slice(OVERLAYS_DIR.length + 1);
      apps.push({ file, app, source: 'environment', env, objects: rendered.get(env)?.map((o) => o.object as Obj) });
    } else apps.push({ file, app, source: 'unknown', note: `cannot tell what ${path || 'this source'} renders` });
  }
  return { apps, projects, clusters, notes };
}

/** Sync options of an Application as a set (spec.syncPolicy.syncOptions). */
export function syncOptionsOf(app: Obj): Set<string> {
  return new Set(asArr(asObj(asObj(app.spec).syncPolicy).syncOptions).map(String));
}
