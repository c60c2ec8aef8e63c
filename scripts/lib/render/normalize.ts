// Rendered output as comparable data: each document parsed, keys in canonical order, and identified by
// (API group, kind, namespace, name) — so moving a document or reordering keys is never a change.
import { canonicalize, parseYamlStream, toYaml } from '../core/yaml.ts';

export interface ResourceId {
  /** API group without version; "" for the core group. */
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface RenderedObject {
  id: ResourceId;
  /** The canonical object. */
  object: Record<string, unknown>;
}

export function groupOf(apiVersion: unknown): string {
  if (typeof apiVersion !== 'string' || !apiVersion.includes('/')) return '';
  return apiVersion.slice(0, apiVersion.indexOf('/'));
}

export function idOf(object: Record<string, unknown>): ResourceId {
  const meta = (object.metadata ?? {}) as Record<string, unknown>;
  return {
    group: groupOf(object.apiVersion),
    kind: String(object.kind ?? ''),
    namespace: typeof meta.namespace === 'string' ? meta.namespace : '',
    name: typeof meta.name === 'string' ? meta.name : '',
  };
}

export function idKey(id: ResourceId): string {
  return `${id.group}|${id.kind}|${id.namespace}|${id.name}`;
}

/** "Deployment users/users-api" or "Ingress (networking.k8s.io) users/api". */
export function idLabel(id: ResourceId): string {
  const where = id.namespace ? `${id.namespace}/${id.name}` : id.name;
  return `${id.kind} ${where}`;
}

export function compareIds(a: ResourceId, b: ResourceId): number {
  return idKey(a) < idKey(b) ? -1 : idKey(a) > idKey(b) ? 1 : 0;
}

/** Parses a rendered stream into canonical objects sorted by id. */
export function normalizeRender(yaml: string): RenderedObject[] {
  return parseYamlStream(yaml)
    .filter((doc): doc is Record<string, unknown> => !!doc && typeof doc === 'object' && !Array.isArray(doc))
    .map((doc) => {
      const object = canonicalize(doc) as Record<string, unknown>;
      return { id: idOf(object), object };
    })
    .sort((a, b) => compareIds(a.id, b.id));
}

/** The canonical YAML text of a rendered set: the form `render` prints and diffs compare. */
export function renderedText(objects: readonly RenderedObject[]): string {
  return objects.map((o) => toYaml(o.object)).join('---\n');
}
