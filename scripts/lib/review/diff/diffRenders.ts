// Two renders of an environment → what will change in the cluster, per resource. Pure: data in, data out.
import { isDeepStrictEqual } from 'node:util';
import { structuredPatch } from 'diff';
import { toYaml } from '../../core/yaml.ts';
import { compareIds, idKey, idLabel } from '../../render/normalize.ts';
import type { RenderedObject, ResourceId } from '../../render/normalize.ts';
import { podSpecOf } from '../validate/policies.ts';

export type ChangeStatus = 'added' | 'changed' | 'removed';

export interface ResourceChange {
  id: ResourceId;
  status: ChangeStatus;
  /** Set when a generated ConfigMap/Secret only changed its hash suffix: the base name. */
  renamedFrom?: string;
  /** Workloads whose pods restart because they reference the renamed ConfigMap/Secret. */
  rolls?: string[];
  /** Unified diff hunks (no file headers); for added/removed, the whole object as +/- lines. */
  patch: string;
}

export interface EnvironmentDiff {
  env: string;
  /** The environment itself appeared or disappeared. */
  status: ChangeStatus;
  counts: Record<ChangeStatus, number>;
  changes: ResourceChange[];
}

export const MASK = '<masked>';
export const MASK_CHANGED = '<masked, changed>';

/** Kustomize appends "-" and a 10-character hash to generated ConfigMap/Secret names. */
const HASH_SUFFIX = /-[a-z0-9]{10}$/;
const GENERATED_KINDS = new Set(['ConfigMap', 'Secret']);

function isSecret(o: RenderedObject | undefined): boolean {
  return !!o && o.id.kind === 'Secret' && o.id.group === '';
}

function valuesOf(o: RenderedObject | undefined, field: string): Record<string, unknown> {
  const v = o?.object[field];
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

/**
 * Secret values never leave this function: every data/stringData value becomes MASK, and on the head
 * side MASK_CHANGED where the value differs from the base, so a reviewer sees which keys changed.
 */
export function maskSecrets(base: RenderedObject | undefined, head: RenderedObject | undefined): [Record<string, unknown> | undefined, Record<string, unknown> | undefined] {
  const mask = (o: RenderedObject | undefined, other: RenderedObject | undefined, markChanges: boolean): Record<string, unknown> | undefined => {
    if (!o) return undefined;
    if (!isSecret(o)) return o.object;
    const copy: Record<string, unknown> = { ...o.object };
    for (const field of ['data', 'stringData']) {
      const values = valuesOf(o, field);
      if (Object.keys(values).length === 0 && !(field in o.object)) continue;
      const others = valuesOf(other, field);
      copy[field] = Object.fromEntries(
        Object.keys(values).map((k) => [k, markChanges && isSecret(other) && others[k] !== values[k] ? MASK_CHANGED : MASK]),
      );
    }
    return copy;
  };
  return [mask(base, head, false), mask(head, base, true)];
}

function hunks(oldText: string, newText: string, context: number): string {
  const patch = structuredPatch('base', 'head', oldText, newText, undefined, undefined, { context });
  if (!patch) return '';
  return patch.hunks
    .map((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines].join('\n'))
    .join('\n');
}

function workloadsReferencing(objects: readonly RenderedObject[], namespace: string, name: string): string[] {
  const needle = JSON.stringify(name);
  return objects
    .filter((o) => o.id.namespace === namespace)
    .filter((o) => {
      const pod = podSpecOf(o);
      return pod !== undefined && JSON.stringify(pod.spec).includes(needle);
    })
    .map((o) => idLabel(o.id))
    .sort();
}

/** Pairs a removed and an added generated object that differ only by hash suffix. */
function pairHashRenames(removed: RenderedObject[], added: RenderedObject[]): Array<[RenderedObject, RenderedObject]> {
  const stemKey = (o: RenderedObject): string | undefined =>
    GENERATED_KINDS.has(o.id.kind) && HASH_SUFFIX.test(o.id.name) ? idKey({ ...o.id, name: o.id.name.replace(HASH_SUFFIX, '') }) : undefined;
  const pairs: Array<[RenderedObject, RenderedObject]> = [];
  const byStem = new Map<string, RenderedObject[]>();
  for (const r of removed) {
    const k = stemKey(r);
    if (k) byStem.set(k, [...(byStem.get(k) ?? []), r]);
  }
  for (const a of added) {
    const k = stemKey(a);
    const candidates = k ? byStem.get(k) : undefined;
    // Only an unambiguous one-to-one rename is a rename.
    if (!k || !candidates || candidates.length !== 1 || added.filter((x) => stemKey(x) === k).length !== 1) continue;
    pairs.push([candidates[0]!, a]);
  }
  return pairs;
}

export interface DiffOptions {
  context?: number;
}

/**
 * The changes from `base` to `head` for one environment; either side undefined when the environment
 * does not exist there. Returns undefined when nothing differs (key order and document order never do).
 */
export function diffEnvironment(
  env: string,
  base: readonly RenderedObject[] | undefined,
  head: readonly RenderedObject[] | undefined,
  options: DiffOptions = {},
): EnvironmentDiff | undefined {
  const context = options.context ?? 3;
  const baseMap = new Map((base ?? []).map((o) => [idKey(o.id), o]));
  const headMap = new Map((head ?? []).map((o) => [idKey(o.id), o]));
  const removed = [...baseMap].filter(([k]) => !headMap.has(k)).map(([, o]) => o);
  const added = [...headMap].filter(([k]) => !baseMap.has(k)).map(([, o]) => o);
  const changes: ResourceChange[] = [];

  const textOf = (o: Record<string, unknown> | undefined): string => (o ? toYaml(o) : '');
  const pairs = pairHashRenames(removed, added);
  const paired = new Set(pairs.flatMap(([b, h]) => [idKey(b.id), idKey(h.id)]));

  for (const [k, h] of headMap) {
    const b = baseMap.get(k);
    // Equal objects print the same text: no patch, and no YAML printing (most objects of a review).
    if (!b || isDeepStrictEqual(b.object, h.object)) continue;
    const [bm, hm] = maskSecrets(b, h);
    const patch = hunks(textOf(bm), textOf(hm), context);
    if (patch !== '') changes.push({ id: h.id, status: 'changed', patch });
  }
  for (const [b, h] of pairs) {
    const [bm, hm] = maskSecrets(b, h);
    changes.push({
      id: h.id,
      status: 'changed',
      renamedFrom: b.id.name,
      rolls: workloadsReferencing(head ?? [], h.id.namespace, h.id.name),
      patch: hunks(textOf(bm), textOf(hm), context),
    });
  }
  for (const o of added.filter((o) => !paired.has(idKey(o.id)))) {
    changes.push({ id: o.id, status: 'added', patch: hunks('', textOf(maskSecrets(undefined, o)[1]), context) });
  }
  for (const o of removed.filter((o) => !paired.has(idKey(o.id)))) {
    changes.push({ id: o.id, status: 'removed', patch: hunks(textOf(maskSecrets(o, undefined)[0]), '', context) });
  }
  if (changes.length === 0 && base && head) return undefined;
  changes.sort((a, b) => compareIds(a.id, b.id));
  const counts: Record<ChangeStatus, number> = { added: 0, changed: 0, removed: 0 };
  for (const c of changes) counts[c.status]++;
  return { env, status: !base ? 'added' : !head ? 'removed' : 'changed', counts, changes };
}
