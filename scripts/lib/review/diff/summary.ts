// What a change does, in a reviewer's words: computed from the two renders of an environment (never
// from the source files), then pointed back at the source line the generator made it from when the
// generator knows it. Pure: objects and file texts in, data out.
import { parseDocument, isNode } from 'yaml';
import { CONFIG_MAP_NAME } from '../../generate/api-base.ts';
import { envDotenvFile, envSpecFile } from '../../core/layout.ts';
import { MONGODB_COMMUNITY_KIND, MONGODB_POD } from '../../generate/mongodb/replicaset.ts';
import { idKey, idLabel } from '../../render/normalize.ts';
import type { RenderedObject } from '../../render/normalize.ts';
import { podSpecOf } from '../validate/policies.ts';
import { MASK, MASK_CHANGED } from './diffRenders.ts';
import { ALERT_THRESHOLDS, GRAFANA_DASHBOARD_LABEL } from '../../generate/monitoring-facts.ts';
import { SETTINGS_FILE } from '../../core/layout.ts';

export type SummaryKind = 'image' | 'config' | 'secret' | 'replicas' | 'resources' | 'mongodb' | 'sync' | 'added' | 'removed' | 'monitoring';

/** Where a value comes from: a repository file, the line when known, and the field or key in it. */
export interface SourceRef {
  file: string;
  line?: number;
  field: string;
}

export interface SummaryItem {
  kind: SummaryKind;
  /** The resource it concerns ("Deployment prod/users-api"). */
  resource: string;
  /** What changed in it: a container, a key, a field ("users-api", "LOG_LEVEL", "requests.cpu"). */
  what: string;
  /** Absent on the side where the thing does not exist. Secret values are MASK / MASK_CHANGED. */
  from?: string;
  to?: string;
  source?: SourceRef;
}

export interface EnvironmentSummary {
  /** One line: "image 0.3.0 → 0.4.0; rolls users-api". */
  verdict: string;
  items: SummaryItem[];
  /** Workloads whose pods restart ("Deployment prod/users-api"). */
  rolls: string[];
}

/** The hand-edited sources of an environment, as text (head side, else base side). */
export interface EnvironmentSources {
  envYaml?: string;
  dotenv?: string;
}

type Obj = Record<string, unknown>;

const HASH_SUFFIX = /-[a-z0-9]{10}$/;
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);
/** Kinds whose running pods are replaced when their template changes (a Job's pods are not: it runs once). */
const ROLLING_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const MONGODB_KIND = MONGODB_COMMUNITY_KIND;
const APPLICATION_KIND = 'Application';

function get(o: unknown, ...path: Array<string | number>): unknown {
  let cur: unknown = o;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * "ghcr.io/org/users-api:0.4.0" → "0.4.0"; a tag pinned by digest ("…:0.4.0@sha256:<64 hex>", as the
 * overlay renders an env.yaml digest) → "0.4.0@sha256:<first 12 hex>…", so a re-pinned tag shows; a digest
 * alone stays whole; no tag → the whole reference.
 */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const name = at === -1 ? image : image.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const tag = colon > slash ? name.slice(colon + 1) : undefined;
  if (at === -1) return tag ?? image;
  const digest = image.slice(at + 1);
  return tag === undefined ? digest : `${tag}@${/^sha256:[0-9a-f]{64}$/.test(digest) ? `${digest.slice(0, 19)}…` : digest}`;
}

function imageRepo(reference: string): string {
  const image = reference.includes('@') ? reference.slice(0, reference.indexOf('@')) : reference;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(0, colon) : image;
}

/** A generated ConfigMap/Secret's name without Kustomize's hash suffix, so both sides pair up. */
function stemKey(o: RenderedObject): string {
  if ((o.id.kind === 'ConfigMap' || o.id.kind === 'Secret') && o.id.group === '') return idKey({ ...o.id, name: o.id.name.replace(HASH_SUFFIX, '') });
  return idKey(o.id);
}

function containersOf(podSpec: unknown): Map<string, Obj> {
  const out = new Map<string, Obj>();
  for (const field of ['initContainers', 'containers']) {
    const list = get(podSpec, field);
    if (!Array.isArray(list)) continue;
    for (const c of list) if (c && typeof c === 'object' && typeof (c as Obj).name === 'string') out.set(String((c as Obj).name), c as Obj);
  }
  return out;
}

/** The pod template spec of a workload, or of a MongoDBCommunity's statefulSet override. */
function podTemplateOf(o: RenderedObject): unknown {
  if (o.id.kind === MONGODB_KIND) return get(o.object, 'spec', 'statefulSet', 'spec', 'template');
  if (!WORKLOAD_KINDS.has(o.id.kind)) return undefined;
  const found = podSpecOf(o);
  if (!found) return undefined;
  return o.id.kind === 'CronJob' ? get(o.object, 'spec', 'jobTemplate', 'spec', 'template') : get(o.object, 'spec', 'template');
}

function podSpecFor(o: RenderedObject): unknown {
  if (o.id.kind === MONGODB_KIND) return get(o.object, 'spec', 'statefulSet', 'spec', 'template', 'spec');
  return WORKLOAD_KINDS.has(o.id.kind) ? podSpecOf(o)?.spec : undefined;
}

// ---- where the generator takes each value from (scripts/lib/generate/overlay.ts, argocd.ts, generate/mongodb/index.ts)

function envYamlField(o: RenderedObject, item: Pick<SummaryItem, 'kind' | 'what'>): string[] | undefined {
  switch (item.kind) {
    case 'image':
      return ['tag']; // images: [{ name: settings.image, newTag: env.tag }] applies to every container of that image
    case 'replicas':
      return o.id.kind === 'Deployment' ? ['replicas'] : undefined; // replicas: count: env.replicas
    case 'sync':
      return ['sync'];
    case 'mongodb': {
      if (item.what === 'version') return ['mongodb', 'version'];
      if (item.what === 'members') return ['mongodb', 'members'];
      if (item.what === 'storage') return ['mongodb', 'storage', 'size'];
      if (item.what === 'storageClassName') return ['mongodb', 'storage', 'className'];
      return undefined;
    }
    case 'resources': {
      // "users-api requests.cpu" (Deployment) or "mongod requests.cpu" / "mongodb-agent limits.memory"
      const [container, path] = item.what.split(' ');
      const [section, resource] = (path ?? '').split('.');
      if (!section || !resource) return undefined;
      if (o.id.kind === 'Deployment') return ['resources', section, resource];
      if (o.id.kind === MONGODB_KIND && container === MONGODB_POD.mongodContainer) return ['mongodb', 'resources', 'mongod', section, resource];
      if (o.id.kind === MONGODB_KIND && container === MONGODB_POD.agentContainer) return ['mongodb', 'resources', 'agent', section, resource];
      return undefined;
    }
    default:
      return undefined;
  }
}

/** 1-based line of `path` in a YAML text (deepest existing ancestor), or undefined. */
export function yamlLine(text: string, path: readonly string[]): { line: number; field: string } | undefined {
  let doc;
  try {
    doc = parseDocument(text);
  } catch {
    return undefined;
  }
  if (doc.errors.length > 0) return undefined;
  for (let n = path.length; n > 0; n--) {
    const sub = path.slice(0, n);
    const parent = n === 1 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
    // The key node carries the line a reader looks for; fall back to the value node.
    const pair = isNode(parent) && 'items' in parent ? (parent.items as Array<{ key?: { value?: unknown; range?: [number, number, number] } }>).find((p) => p?.key?.value === sub[sub.length - 1]) : undefined;
    const range = pair?.key?.range;
    if (range) return { line: text.slice(0, range[0]).split('\n').length, field: sub.join('.') };
  }
  return undefined;
}

/** 1-based line of KEY in a .env text. */
export function dotenvLine(text: string, key: string): number | undefined {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^\\s*(?:export\\s+)?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`).test(l));
  return i === -1 ? undefined : i + 1;
}

function sourceFor(env: string, o: RenderedObject, item: SummaryItem, sources: EnvironmentSources): SourceRef | undefined {
  // An alert threshold: env.yaml monitoring.<key> when the environment sets it, else gitops.yaml's default.
  if (item.kind === 'monitoring' && item.what.endsWith(' threshold')) {
    const key = ALERT_THRESHOLDS[item.what.replace(/^alert (\S+) threshold$/, '$1') as keyof typeof ALERT_THRESHOLDS];
    if (!key) return undefined;
    const at = sources.envYaml !== undefined ? yamlLine(sources.envYaml, ['monitoring', key]) : undefined;
    return at ? { file: envSpecFile(env), line: at.line, field: `monitoring.${key}` } : { file: SETTINGS_FILE, field: `monitoring.thresholds.${key}` };
  }
  // The generator makes this ConfigMap from the environment's .env (configMapGenerator, overlay.ts).
  if (item.kind === 'config' && sources.dotenv !== undefined && o.id.name.replace(HASH_SUFFIX, '') === CONFIG_MAP_NAME) {
    const line = dotenvLine(sources.dotenv, item.what);
    return { file: envDotenvFile(env), field: item.what, ...(line ? { line } : {}) };
  }
  const path = envYamlField(o, item);
  if (!path || sources.envYaml === undefined) return undefined;
  const at = yamlLine(sources.envYaml, path);
  return at ? { file: envSpecFile(env), line: at.line, field: path.join('.') } : { file: envSpecFile(env), field: path.join('.') };
}

// ---- comparisons

const MONITORING_GROUP = 'monitoring.coreos.com';
/** The objects that make an environment monitored (scripts/lib/generate/monitoring.ts). */
function isMonitoring(o: RenderedObject): boolean {
  if (o.id.group === MONITORING_GROUP) return true;
  const labels = get(o.object, 'metadata', 'labels') as Record<string, string> | undefined;
  return o.id.kind === 'ConfigMap' && Object.entries(GRAFANA_DASHBOARD_LABEL).every(([k, v]) => labels?.[k] === v);
}

type AlertRuleLike = { alert?: string; expr?: unknown; for?: string };
function alertRulesOf(o: RenderedObject): Map<string, AlertRuleLike> {
  const groups = (get(o.object, 'spec', 'groups') ?? []) as Array<{ rules?: AlertRuleLike[] }>;
  return new Map(groups.flatMap((g) => g.rules ?? []).filter((r) => typeof r.alert === 'string').map((r) => [r.alert!, r]));
}

/** The value an alert's first comparison tests against ("… > 0.05" → "0.05"), or the whole expression. */
function thresholdOf(r: AlertRuleLike): string {
  const expr = String(r.expr ?? '');
  const m = /(?:>|<|==|!=|>=|<=) ([0-9][0-9.e+-]*)(?:\s|$|\))/.exec(expr);
  return `${m ? m[1]! : expr}${r.for ? ` for ${r.for}` : ''}`;
}

/** Alerts whose threshold or duration changed, and alerts removed or added, between two PrometheusRules. */
function ruleItems(b: RenderedObject, h: RenderedObject): Array<Omit<SummaryItem, 'resource'>> {
  const out: Array<Omit<SummaryItem, 'resource'>> = [];
  const before = alertRulesOf(b);
  const after = alertRulesOf(h);
  for (const [name, r] of before) {
    const n = after.get(name);
    if (!n) out.push({ kind: 'monitoring', what: `alert ${name} removed`, from: thresholdOf(r) });
    else if (!same(r.expr, n.expr) || r.for !== n.for) out.push({ kind: 'monitoring', what: `alert ${name} threshold`, from: thresholdOf(r), to: thresholdOf(n) });
  }
  for (const [name, n] of after) if (!before.has(name)) out.push({ kind: 'monitoring', what: `alert ${name} added`, to: thresholdOf(n) });
  return out;
}

function imageItems(b: RenderedObject, h: RenderedObject): Array<Omit<SummaryItem, 'resource'>> {
  const bc = containersOf(podSpecFor(b));
  const hc = containersOf(podSpecFor(h));
  const out: Array<Omit<SummaryItem, 'resource'>> = [];
  for (const [name, c] of hc) {
    const before = str(bc.get(name)?.image);
    const after = str(c.image);
    if (before === undefined || after === undefined || before === after) continue;
    const whole = imageRepo(before) !== imageRepo(after);
    out.push({ kind: 'image', what: name, from: whole ? before : imageTag(before), to: whole ? after : imageTag(after) });
  }
  return out;
}

function resourceItems(b: RenderedObject, h: RenderedObject): Array<Omit<SummaryItem, 'resource'>> {
  const bc = containersOf(podSpecFor(b));
  const hc = containersOf(podSpecFor(h));
  const out: Array<Omit<SummaryItem, 'resource'>> = [];
  for (const name of [...new Set([...bc.keys(), ...hc.keys()])].sort()) {
    if (!bc.has(name) || !hc.has(name)) continue;
    for (const section of ['requests', 'limits']) {
      const before = (get(bc.get(name), 'resources', section) ?? {}) as Obj;
      const after = (get(hc.get(name), 'resources', section) ?? {}) as Obj;
      for (const r of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
        if (same(before[r], after[r])) continue;
        out.push({ kind: 'resources', what: `${name} ${section}.${r}`, from: str(before[r]), to: str(after[r]) });
      }
    }
  }
  return out;
}

function dataItems(b: RenderedObject, h: RenderedObject): Array<Omit<SummaryItem, 'resource'>> {
  const secret = h.id.kind === 'Secret';
  const values = (o: RenderedObject): Obj => ({ ...((o.object.data ?? {}) as Obj), ...((o.object.stringData ?? {}) as Obj), ...((o.object.binaryData ?? {}) as Obj) });
  const bv = values(b);
  const hv = values(h);
  const out: Array<Omit<SummaryItem, 'resource'>> = [];
  for (const key of [...new Set([...Object.keys(bv), ...Object.keys(hv)])].sort()) {
    if (same(bv[key], hv[key])) continue;
    const kind: SummaryKind = secret ? 'secret' : 'config';
    if (secret) {
      out.push({ kind, what: key, ...(key in bv ? { from: MASK } : {}), ...(key in hv ? { to: key in bv ? MASK_CHANGED : MASK } : {}) });
    } else {
      out.push({ kind, what: key, ...(key in bv ? { from: str(bv[key]) } : {}), ...(key in hv ? { to: str(hv[key]) } : {}) });
    }
  }
  return out;
}

function mongoItems(b: RenderedObject, h: RenderedObject): Array<Omit<SummaryItem, 'resource'>> {
  const out: Array<Omit<SummaryItem, 'resource'>> = [];
  for (const field of ['version', 'members']) {
    const before = get(b.object, 'spec', field);
    const after = get(h.object, 'spec', field);
    if (!same(before, after)) out.push({ kind: 'mongodb', what: field, from: str(before), to: str(after) });
  }
  const claims = (o: RenderedObject): Map<string, Obj> => {
    const list = get(o.object, 'spec', 'statefulSet', 'spec', 'volumeClaimTemplates');
    return new Map((Array.isArray(list) ? list : []).map((c) => [String(get(c, 'metadata', 'name') ?? ''), c as Obj]));
  };
  const bc = claims(b);
  const hc = claims(h);
  for (const name of [...new Set([...bc.keys(), ...hc.keys()])].sort()) {
    const size = (c: Obj | undefined) => str(get(c, 'spec', 'resources', 'requests', 'storage'));
    const cls = (c: Obj | undefined) => str(get(c, 'spec', 'storageClassName'));
    // The data volume is the one env.yaml's mongodb.storage sizes (scripts/lib/generate/mongodb/index.ts).
    const label = name === MONGODB_POD.dataVolume ? '' : ` (${name})`;
    if (size(bc.get(name)) !== size(hc.get(name))) out.push({ kind: 'mongodb', what: `storage${label}`, from: size(bc.get(name)), to: size(hc.get(name)) });
    if (cls(bc.get(name)) !== cls(hc.get(name))) out.push({ kind: 'mongodb', what: `storageClassName${label}`, from: cls(bc.get(name)), to: cls(hc.get(name)) });
  }
  return out;
}

/**
 * "automated (prune, selfHeal)" or "manual", as Argo CD reads spec.syncPolicy.automated: its fields
 * allowEmpty, enabled, prune, selfHeal (the Application CRD in argoproj/argo-cd@v3.5.1:manifests/install.yaml).
 */
export function syncPolicyText(app: Obj): string {
  const automated = get(app, 'spec', 'syncPolicy', 'automated');
  if (automated === undefined || automated === null) return 'manual';
  const flags = ['prune', 'selfHeal', 'allowEmpty'].filter((f) => get(automated, f) === true);
  const enabled = get(automated, 'enabled');
  if (enabled === false) return 'manual (automated disabled)';
  return flags.length > 0 ? `automated (${flags.join(', ')})` : 'automated';
}

function shortName(label: string): string {
  return label.slice(label.lastIndexOf('/') + 1).replace(/^\S+ /, '');
}

function arrow(from: string | undefined, to: string | undefined): string {
  return `${from ?? '(none)'} → ${to ?? '(none)'}`;
}

/** One line per environment, most telling first. */
function verdictOf(status: 'added' | 'changed' | 'removed', items: readonly SummaryItem[], rolls: readonly string[], changedResources: number): string {
  const parts: string[] = [];
  if (status === 'added') parts.push(`new environment (${items.filter((i) => i.kind === 'added').length} objects)`);
  if (status === 'removed') parts.push(`environment removed (${items.filter((i) => i.kind === 'removed').length} objects)`);
  const of = (k: SummaryKind) => items.filter((i) => i.kind === k);
  const distinct = (list: string[]) => [...new Set(list)];
  if (status === 'changed') {
    const images = distinct(of('image').map((i) => arrow(i.from, i.to)));
    if (images.length > 0) parts.push(`image ${images.join(', ')}`);
    const config = of('config');
    if (config.length > 0 && config.length <= 3) parts.push(`config ${config.map((i) => (i.from === undefined ? `+${i.what}` : i.to === undefined ? `-${i.what}` : `${i.what} ${arrow(i.from, i.to)}`)).join(', ')}`);
    else if (config.length > 3) parts.push(`config: ${config.length} keys`);
    const secret = of('secret');
    if (secret.length > 0) parts.push(`secret ${secret.length === 1 ? `key ${secret[0]!.what}` : `${secret.length} keys`} changed`);
    const replicas = of('replicas');
    if (replicas.length > 0) parts.push(replicas.map((i) => `replicas ${arrow(i.from, i.to)}`).join(', '));
    const resources = of('resources');
    if (resources.length > 0 && resources.length <= 2) parts.push(`resources ${resources.map((i) => `${i.what} ${arrow(i.from, i.to)}`).join(', ')}`);
    else if (resources.length > 2) parts.push(`resources: ${resources.length} changes`);
    for (const i of of('mongodb')) parts.push(`MongoDB ${i.what} ${arrow(i.from, i.to)}`);
    for (const i of of('sync')) parts.push(`sync ${arrow(i.from, i.to)}`);
    for (const i of of('monitoring')) parts.push(i.what === 'monitoring removed' ? `MONITORING REMOVED (${i.from})` : i.what.endsWith(' threshold') ? `${i.what} ${arrow(i.from, i.to)}` : i.what);
    const added = of('added').length;
    const removed = of('removed').length;
    if (added > 0) parts.push(`+${added} object${added === 1 ? '' : 's'}`);
    if (removed > 0) parts.push(`-${removed} object${removed === 1 ? '' : 's'}`);
    const explained = new Set(items.filter((i) => i.kind !== 'added' && i.kind !== 'removed').map((i) => i.resource));
    const other = changedResources - [...explained].length;
    if (parts.length === 0 && changedResources > 0) parts.push(`${changedResources} resource${changedResources === 1 ? '' : 's'} changed`);
    else if (other > 0) parts.push(`${other} other resource${other === 1 ? '' : 's'} changed`);
  }
  if (rolls.length > 0) parts.push(`rolls ${rolls.map(shortName).join(', ')}`);
  else if (status === 'changed') parts.push('no pod restarts');
  return parts.join('; ');
}

/**
 * The summary of one environment from its two renders (either undefined when the environment does not
 * exist on that side). `sources` are the environment's env.yaml and .env texts, used only to point at
 * the line a value comes from.
 */
export function summarizeEnvironment(
  env: string,
  base: readonly RenderedObject[] | undefined,
  head: readonly RenderedObject[] | undefined,
  sources: EnvironmentSources = {},
): EnvironmentSummary {
  const status = !base ? 'added' : !head ? 'removed' : 'changed';
  const baseBy = new Map((base ?? []).map((o) => [stemKey(o), o]));
  const headBy = new Map((head ?? []).map((o) => [stemKey(o), o]));
  const items: SummaryItem[] = [];
  const rolls: string[] = [];
  let changedResources = 0;
  // Generated ConfigMaps/Secrets renamed by their content hash: a workload whose only change is the new
  // name is explained by the data change (it still rolls).
  const renames: Array<[string, string]> = [];
  for (const [key, h] of headBy) {
    const b = baseBy.get(key);
    if (b && b.id.name !== h.id.name) renames.push([h.id.name, b.id.name]);
  }
  const sameButRenames = (b: RenderedObject, h: RenderedObject): boolean => {
    let text = JSON.stringify(h.object);
    for (const [to, from] of renames) text = text.split(JSON.stringify(to)).join(JSON.stringify(from));
    return text === JSON.stringify(b.object);
  };
  const explainedByRename = new Set<string>();
  const push = (o: RenderedObject, found: Array<Omit<SummaryItem, 'resource'>>): void => {
    for (const f of found) {
      const item: SummaryItem = { ...f, resource: idLabel(o.id) };
      const source = sourceFor(env, o, item, sources);
      items.push(source ? { ...item, source } : item);
    }
  };
  for (const [key, h] of headBy) {
    const b = baseBy.get(key);
    if (!b) {
      push(h, [{ kind: 'added', what: idLabel(h.id) }]);
      continue;
    }
    if (same(b.object, h.object)) continue;
    changedResources++;
    if (renames.length > 0 && sameButRenames(b, h)) explainedByRename.add(idLabel(h.id));
    const kind = h.id.kind;
    if (WORKLOAD_KINDS.has(kind) || kind === MONGODB_KIND) {
      push(h, imageItems(b, h));
      if (kind !== MONGODB_KIND && !same(get(b.object, 'spec', 'replicas'), get(h.object, 'spec', 'replicas'))) {
        push(h, [{ kind: 'replicas', what: 'replicas', from: str(get(b.object, 'spec', 'replicas')), to: str(get(h.object, 'spec', 'replicas')) }]);
      }
      push(h, resourceItems(b, h));
    }
    if (kind === MONGODB_KIND) push(h, mongoItems(b, h));
    if (kind === 'PrometheusRule' && h.id.group === MONITORING_GROUP) push(h, ruleItems(b, h));
    if ((kind === 'ConfigMap' || kind === 'Secret') && h.id.group === '') push(h, dataItems(b, h));
    if (kind === APPLICATION_KIND && h.id.group === 'argoproj.io') {
      const from = syncPolicyText(b.object);
      const to = syncPolicyText(h.object);
      if (from !== to) push(h, [{ kind: 'sync', what: 'syncPolicy', from, to }]);
    }
    // Pods restart when their template changes (a renamed ConfigMap reference included). A replica set's
    // members restart when its StatefulSet's template changes: MCK builds the mongod image from
    // spec.version and merges spec.statefulSet.spec into the StatefulSet it owns
    // (mongodb/mongodb-kubernetes@1.10.0:mongodb-community-operator/controllers/replica_set_controller.go,
    // getMongoDBImage(…, mdb.GetMongoDBVersion()) and statefulset.WithCustomSpecs(…StatefulSetConfiguration…)).
    const template = (o: RenderedObject) => podTemplateOf(o);
    const mongoRolls = kind === MONGODB_KIND && !same(get(b.object, 'spec', 'version'), get(h.object, 'spec', 'version'));
    const templateChanged = (ROLLING_KINDS.has(kind) || kind === MONGODB_KIND) && template(h) !== undefined && !same(template(b), template(h));
    if (templateChanged || mongoRolls) rolls.push(idLabel(h.id));
  }
  for (const [key, b] of baseBy) if (!headBy.has(key)) push(b, [{ kind: 'removed', what: idLabel(b.id) }]);
  // Monitoring taken away from an environment that stays: said in so many words, not only as removed objects.
  if (status === 'changed') {
    const gone = [...baseBy].filter(([key, b]) => !headBy.has(key) && isMonitoring(b)).map(([, b]) => b);
    if (gone.length > 0) push(gone[0]!, [{ kind: 'monitoring', what: 'monitoring removed', from: gone.map((o) => o.id.kind).sort().join(', ') }]);
  }
  rolls.sort();
  return { verdict: verdictOf(status, items, rolls, changedResources - explainedByRename.size), items, rolls };
}
