// Project admission as Argo CD v3.5.1 decides it: for an Application and every object it would apply, would
// its AppProject let the sync run? Pure functions of data, each rule written from (and cited to) the source:
//
// - argo-cd@v3.5.1:controller/sync.go validateSyncPermissions: every object must pass
//   IsGroupKindNamePermitted(group/kind, name, namespaced) ("resource G:K is not permitted in project P"), and a
//   namespaced one IsDestinationPermitted(cluster, its namespace) ("namespace N is not permitted in project 'P'").
// - argo-cd@v3.5.1:pkg/apis/application/v1alpha1/app_project_types.go IsGroupKindNamePermitted: namespaced
//   kinds are allowed when namespaceResourceWhitelist is absent (nil) or lists them (an empty list allows none),
//   and namespaceResourceBlacklist does not; cluster-scoped ones only when clusterResourceWhitelist lists them
//   (empty or absent allows none), by optional name, and clusterResourceBlacklist does not.
//   types.go isResourceInList / isNamedResourceInList: kind, group and name are Go path/filepath.Match patterns.
// - same file isDestinationMatched / globMatch: destinations by server or name, and namespace, with
//   github.com/gobwas/glob patterns (util/glob/glob.go, no separators) and "!" deny patterns.
// - same file IsSourcePermitted: sourceRepos against git.NormalizeGitURL(repoURL) (util/git/git.go), globs with
//   "/" as separator, "!" deny patterns.
// - util/argo/argo.go ValidatePermissions: the Application's own source and destination
//   ("application repo R is not permitted in project 'P'", "application destination ... do not match").
import { groupOf, isClusterScoped } from '../../generate/argocd.ts';
import { asObj, asArr } from '../../core/objects.ts';
import type { Obj } from '../../core/objects.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A cluster Argo CD knows: its name and server (argo-cd@v3.5.1 v1alpha1.Cluster). */
export interface KnownCluster {
  name: string;
  server: string;
}

export type AdmissionRule = 'project' | 'source' | 'destination' | 'kind' | 'namespace';

export interface Refusal {
  app: string;
  project: string;
  rule: AdmissionRule;
  /** The object refused ("" for the Application itself), as group/Kind/namespace/name. */
  object: string;
  /** Argo CD's own message for it. */
  message: string;
  fix: string;
}

// ---- patterns ----------------------------------------------------------------------------------------------

const reEscape = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/**
 * Go's path/filepath.Match on Linux (go1.x path/filepath/match.go): `*` any run of non-'/' characters, `?` one
 * non-'/' character, `[...]` a class (`^` negates, `a-z` ranges), `\` escapes. A malformed pattern matches
 * nothing (Match returns ErrBadPattern, which the callers treat as no match).
 */
export function filepathMatch(pattern: string, name: string): boolean {
  const re = filepathRegExp(pattern);
  return re !== undefined && re.test(name);
}

// Compiled patterns, remembered (as util/glob caches gobwas globs): a repository checks thousands of objects
// against a few dozen patterns.
const filepathCache = new Map<string, RegExp | undefined>();
function filepathRegExp(pattern: string): RegExp | undefined {
  if (filepathCache.has(pattern)) return filepathCache.get(pattern);
  const re = compileFilepath(pattern);
  filepathCache.set(pattern, re === undefined ? undefined : new RegExp(`^${re}$`, 's'));
  return filepathCache.get(pattern);
}

function compileFilepath(pattern: string): string | undefined {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) return undefined;
      re += reEscape(pattern[++i]!);
    } else if (c === '[') {
      // match.go matchChunk / getEsc: "-" and "]" are not class characters unless escaped, "]" right after
      // "[" or "[^" is an error, ranges need lo <= hi.
      let j = i + 1;
      const neg = pattern[j] === '^';
      if (neg) j++;
      let cls = '';
      const esc = (): string | undefined => {
        let ch = pattern[j];
        if (ch === undefined || ch === '-' || ch === ']') return undefined;
        if (ch === '\\') {
          ch = pattern[++j];
          if (ch === undefined) return undefined;
        }
        j++;
        return ch;
      };
      for (let n = 0; ; n++) {
        if (pattern[j] === ']' && n > 0) break;
        const lo = esc();
        if (lo === undefined) return undefined;
        let hi = lo;
        if (pattern[j] === '-') {
          j++;
          const h = esc();
          if (h === undefined || h < lo) return undefined;
          hi = h;
        }
        cls += lo === hi ? reEscape(lo) : `${reEscape(lo)}-${reEscape(hi)}`;
      }
      re += `[${neg ? '^' : ''}${cls}]`;
      i = j;
    } else re += reEscape(c);
  }
  return re;
}

/**
 * github.com/gobwas/glob as util/glob.Match compiles it: `*` any run of characters other than the separators,
 * `**` any run, `?` one non-separator character, `[...]`/`[!...]` classes, `{a,b}` alternatives, `\` escapes.
 * A pattern that does not compile matches nothing.
 */
export function globMatch(pattern: string, text: string, separators = ''): boolean {
  const key = `${separators}\0${pattern}`;
  if (!globCache.has(key)) globCache.set(key, compileGlob(pattern, separators));
  const re = globCache.get(key);
  return re !== undefined && re.test(text);
}

const globCache = new Map<string, RegExp | undefined>();

function compileGlob(pattern: string, separators: string): RegExp | undefined {
  const notSep = separators === '' ? '[\\s\\S]' : `[^${reEscape(separators)}]`;
  let re = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        re += '[\\s\\S]*';
        i++;
      } else re += `${notSep}*`;
    } else if (c === '?') re += notSep;
    else if (c === '\\') {
      if (i + 1 >= pattern.length) return undefined;
      re += reEscape(pattern[++i]!);
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return undefined;
      let body = pattern.slice(i + 1, end);
      const neg = body.startsWith('!');
      if (neg) body = body.slice(1);
      if (body === '') return undefined;
      const m = /^(.)-(.)$/s.exec(body);
      re += m ? `[${neg ? '^' : ''}${reEscape(m[1]!)}-${reEscape(m[2]!)}]` : `[${neg ? '^' : ''}${[...body].map(reEscape).join('')}]`;
      i = end;
    } else if (c === '{') {
      depth++;
      re += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      re += ')';
    } else if (c === ',' && depth > 0) re += '|';
    else re += reEscape(c);
  }
  if (depth !== 0) return undefined;
  return new RegExp(`^${re}$`);
}

const isDenyPattern = (p: string): boolean => p.startsWith('!');

/** app_project_types.go globMatch: a deny pattern "!x" matches what x does not; "*" matches everything. */
function argoGlob(pattern: string, val: string, allowNegation: boolean, separators = ''): boolean {
  if (allowNegation && isDenyPattern(pattern)) return !globMatch(pattern.slice(1), val, separators);
  if (pattern === '*') return true;
  return globMatch(pattern, val, separators);
}

/** util/git/git.go sshURLRegex. */
const SSH_URL = /^(ssh:\/\/)?([^/:]*?)@[^@]+$/;

/**
 * util/git/git.go NormalizeGitURL: lower case; an SSH URL without ssh:// gets its first ":" made a "/" and the
 * prefix added; ".git" dropped; the prefix removed again (url.Parse/String leave these URLs as they are).
 */
export function normalizeGitURL(repo: string): string {
  let r = repo.trim().toLowerCase();
  if (SSH_URL.test(r) && !r.startsWith('ssh://')) r = `ssh://${r.replace(':', '/')}`;
  if (r.endsWith('.git')) r = r.slice(0, -4);
  return r.replace(/^ssh:\/\//, '');
}

// ---- the AppProject rules ----------------------------------------------------------------------------------

interface GroupKindItem {
  group: string;
  kind: string;
  name?: string;
}

function items(list: unknown): GroupKindItem[] | undefined {
  if (list === undefined || list === null) return undefined;
  return asArr(list).map((e) => {
    const o = asObj(e);
    return { group: str(o.group), kind: str(o.kind), ...(typeof o.name === 'string' ? { name: o.name } : {}) };
  });
}

/** types.go isResourceInList / isNamedResourceInList. */
function inList(group: string, kind: string, name: string | undefined, list: readonly GroupKindItem[]): boolean {
  return list.some((it) => filepathMatch(it.kind, kind) && filepathMatch(it.group, group) && (name === undefined || !it.name || filepathMatch(it.name, name)));
}

/** app_project_types.go IsGroupKindNamePermitted. */
export function isGroupKindNamePermitted(project: Obj, group: string, kind: string, name: string, namespaced: boolean): boolean {
  const spec = asObj(project.spec);
  if (namespaced) {
    const white = items(spec.namespaceResourceWhitelist);
    const black = items(spec.namespaceResourceBlacklist) ?? [];
    const whiteListed = white === undefined || (white.length !== 0 && inList(group, kind, undefined, white));
    const blackListed = black.length !== 0 && inList(group, kind, undefined, black);
    return whiteListed && !blackListed;
  }
  const white = items(spec.clusterResourceWhitelist) ?? [];
  const black = items(spec.clusterResourceBlacklist) ?? [];
  return white.length !== 0 && inList(group, kind, name, white) && !(black.length !== 0 && inList(group, kind, name, black));
}

/** app_project_types.go isDestinationMatched (permitOnlyProjectScopedClusters is not used here). */
export function isDestinationPermitted(project: Obj, cluster: KnownCluster | undefined, namespace: string): boolean {
  if (!cluster) return false;
  let any = false;
  for (const d of asArr(asObj(project.spec).destinations)) {
    const item = asObj(d);
    const nameOk = cluster.name !== '' && argoGlob(str(item.name), cluster.name, true);
    const serverOk = cluster.server !== '' && argoGlob(str(item.server), cluster.server, true);
    const nsOk = argoGlob(str(item.namespace), namespace, true);
    if ((serverOk || nameOk) && nsOk) any = true;
    else if ((!nameOk && isDenyPattern(str(item.name))) || ((!serverOk && isDenyPattern(str(item.server))) && nsOk)) return false;
    else if (!nsOk && isDenyPattern(str(item.namespace)) && serverOk) return false;
  }
  return any;
}

/** app_project_types.go IsSourcePermitted. */
export function isSourcePermitted(project: Obj, repoURL: string): boolean {
  const src = normalizeGitURL(repoURL);
  let any = false;
  for (const r of asArr(asObj(project.spec).sourceRepos).map(str)) {
    const normalized = isDenyPattern(r) ? `!${normalizeGitURL(r.slice(1))}` : normalizeGitURL(r);
    const matched = argoGlob(normalized, src, true, '/');
    if (matched) any = true;
    else if (isDenyPattern(normalized)) return false;
  }
  return any;
}

// ---- an Application ----------------------------------------------------------------------------------------

export interface AdmissionInput {
  app: Obj;
  /** Every object the Application's source renders (its manifests, a chart's output). */
  objects: readonly Obj[];
  /** The repository's AppProjects by name. */
  projects: ReadonlyMap<string, Obj>;
  /** The clusters Argo CD knows (in-cluster and gitops.yaml `clusters`). */
  clusters: readonly KnownCluster[];
}

/** Resolves spec.destination like argo-cd@v3.5.1:util/argo/argo.go GetDestinationCluster: by name, else server. */
export function destinationCluster(dest: Obj, clusters: readonly KnownCluster[]): KnownCluster | undefined {
  const name = str(dest.name);
  const server = str(dest.server);
  if (name !== '') return clusters.find((c) => c.name === name);
  return clusters.find((c) => c.server === server);
}

/** Whether a group/kind is namespaced: the API's built-in scopes, then CRDs among `crds` (spec.scope). */
export function namespacedOf(crds: readonly Obj[]): (group: string, kind: string) => boolean {
  const scopes = new Map<string, boolean>();
  for (const c of crds) {
    if (c.kind !== 'CustomResourceDefinition') continue;
    const spec = asObj(c.spec);
    scopes.set(`${str(spec.group)}/${str(asObj(spec.names).kind)}`, str(spec.scope) !== 'Cluster');
  }
  return (group, kind) => scopes.get(`${group}/${kind}`) ?? !isClusterScoped({ group, kind });
}

const objectLabel = (group: string, kind: string, ns: string, name: string): string => `${group === '' ? '' : `${group}/`}${kind}${ns ? ` ${ns}/` : ' '}${name}`;

/**
 * Every refusal Argo CD v3.5.1 would give when syncing `app`: its project missing, its source or destination
 * not permitted, then each object (and the Namespace CreateNamespace=true adds) by group/kind/name and, when
 * namespaced, by destination namespace. `namespaced` decides an object's scope (namespacedOf).
 */
export function admissionRefusals(input: AdmissionInput, namespaced = namespacedOf(input.objects)): Refusal[] {
  const { app, objects, projects, clusters } = input;
  const appName = str(asObj(app.metadata).name);
  const spec = asObj(app.spec);
  const projectName = str(spec.project) || 'default';
  const out: Refusal[] = [];
  const project = projects.get(projectName);
  if (!project) {
    return [{ app: appName, project: projectName, rule: 'project', object: '', message: `application references project ${projectName} which does not exist`, fix: `create AppProject ${projectName} (zx scripts/generate.ts) or name an existing project` }];
  }
  // One source, or each of `sources` (argo-cd@v3.5.1 util/argo/argo.go ValidatePermissions: HasMultipleSources
  // checks every source's repoURL with IsSourcePermitted, the same message).
  const sources = Array.isArray(spec.sources) && spec.sources.length > 0 ? spec.sources.map(asObj) : [asObj(spec.source)];
  for (const repo of sources.map((x) => str(x.repoURL))) {
    if (!isSourcePermitted(project, repo)) {
      out.push({ app: appName, project: projectName, rule: 'source', object: '', message: `application repo ${repo} is not permitted in project '${projectName}'`, fix: `add ${repo} to spec.sourceRepos of AppProject ${projectName}` });
    }
  }
  const dest = asObj(spec.destination);
  const cluster = destinationCluster(dest, clusters);
  const destNs = str(dest.namespace);
  if (!cluster) {
    out.push({ app: appName, project: projectName, rule: 'destination', object: '', message: `there are no clusters with this ${dest.name ? `name: ${str(dest.name)}` : `URL: ${str(dest.server)}`}`, fix: 'point spec.destination at a cluster of gitops.yaml `clusters` (or in-cluster)' });
    return out;
  }
  if (!isDestinationPermitted(project, cluster, destNs)) {
    out.push({ app: appName, project: projectName, rule: 'destination', object: '', message: `application destination server '${cluster.server}' and namespace '${destNs}' do not match any of the allowed destinations in project '${projectName}'`, fix: `add {server or name of ${cluster.name}, namespace: ${destNs}} to spec.destinations of AppProject ${projectName}` });
  }
  const all: Obj[] = [...objects];
  // CreateNamespace=true: the sync creates the destination namespace as one more task (gitops-engine
  // pkg/sync/sync_context.go, the namespace task), checked like every other object.
  if (asArr(asObj(spec.syncPolicy).syncOptions).includes('CreateNamespace=true') && destNs !== '') {
    all.unshift({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: destNs } });
  }
  for (const o of all) {
    const group = groupOf(str(o.apiVersion));
    const kind = str(o.kind);
    const meta = asObj(o.metadata);
    const name = str(meta.name);
    const isNs = namespaced(group, kind);
    const ns = isNs ? str(meta.namespace) || destNs : '';
    const label = objectLabel(group, kind, ns, name);
    if (!isGroupKindNamePermitted(project, group, kind, name, isNs)) {
      out.push({
        app: appName, project: projectName, rule: 'kind', object: label,
        message: `resource ${group}:${kind} is not permitted in project ${projectName}`,
        fix: isNs
          ? `allow {group: "${group}", kind: ${kind}} in spec.namespaceResourceWhitelist of AppProject ${projectName} (and not in its blacklist), or stop rendering it`
          : `allow {group: "${group}", kind: ${kind}, name: ${name}} in spec.clusterResourceWhitelist of AppProject ${projectName} (and not in its blacklist), or stop rendering it`,
      });
      continue;
    }
    if (isNs && !isDestinationPermitted(project, cluster, ns)) {
      out.push({ app: appName, project: projectName, rule: 'namespace', object: label, message: `namespace ${ns} is not permitted in project '${projectName}'`, fix: `add namespace ${ns} on ${cluster.name} to spec.destinations of AppProject ${projectName}, or keep the object in ${destNs}` });
    }
  }
  return out;
}

export function formatRefusal(r: Refusal): string {
  const what = r.object === '' ? `Application ${r.app}` : `${r.object} (Application ${r.app})`;
  return `${what}: ${r.message}\n    fix: ${r.fix}`;
}
