// The Argo CD side of validate: every Application under argocd/ against its AppProject (projectFindings:
// the project allows exactly what its Applications render) and project admission as Argo CD v3.5.1 decides
// it (admissionFindings: every object each Application applies, the operator's chart rendered from source).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARGOCD_DIR, IMAGE_POLICY_DIR, OVERLAYS_DIR } from '../../core/layout.ts';
import { kindsOf, type GroupKind } from '../../generate/argocd.ts';
import { PREVIEW_SAMPLE_NUMBER, PREVIEW_TEMPLATE_DIR, previewName } from '../../generate/previews.ts';
import { imagePolicyNeeds } from '../../generate/image-policy.ts';
import { destinationKey } from '../../inputs/clusters.ts';
import { operatorChartKinds } from '../../generate/mongodb/operator.ts';
import type { RepoSettings } from '../../inputs/spec.ts';
import { parseYamlStream } from '../../core/yaml.ts';
import { idOf } from '../../render/normalize.ts';
import type { RenderedObject, ResourceId } from '../../render/normalize.ts';
import { admissionRefusals } from './admission.ts';
import { repositoryApplications } from './applications.ts';
import { applicationOfSet, argocdFiles, literalInclude, type ArgoFile } from './argocd-files.ts';
import { ARGOCD_ADMISSION, ARGOCD_PROJECT, ARGOCD_SCOPE, type Finding } from './finding.ts';
import { asObj, asArr } from '../../core/objects.ts';
import type { Obj } from '../../core/objects.ts';


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
