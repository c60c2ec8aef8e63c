import { canonicalize } from '../../core/yaml.ts';

// "Does the live object already say everything we would apply?" — compared before every apply, so
// a run against an up-to-date cluster only reads. Fields the server adds (status, defaults,
// managedFields) are ignored; a field we set with another value, or a missing one, is a change.

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEmpty(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0);
}

export function containsDesired(live: unknown, desired: unknown): boolean {
  if (desired === undefined || desired === null) return true;
  // The server drops empty maps and lists it defaults away (e.g. `resources: {}`).
  if ((live === undefined || live === null) && isEmpty(desired)) return true;
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => containsDesired(live[i], d));
  }
  if (isRecord(desired)) {
    return isRecord(live) && Object.entries(desired).every(([k, d]) => containsDesired(live[k], d));
  }
  // Quantities and int-or-string fields come back as written for the objects we apply.
  return live === desired || (typeof live !== 'object' && String(live) === String(desired) && typeof live !== typeof desired);
}

/** Bookkeeping the server writes on every object; never a difference. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink'];

/** An object without status and server bookkeeping, keys sorted: what "the same object" compares. */
export function comparable(obj: { metadata?: object } & Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(obj) as Record<string, unknown> & { metadata: Record<string, unknown> };
  delete copy.status;
  copy.metadata ??= {};
  for (const k of SERVER_METADATA) delete copy.metadata[k];
  const annotations = copy.metadata.annotations as Record<string, string> | undefined;
  if (annotations) {
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
    if (Object.keys(annotations).length === 0) delete copy.metadata.annotations;
  }
  return canonicalize(copy) as Record<string, unknown>;
}

/** Whether a server-side dry-run apply would leave the live object as it is. */
export function sameObject(live: Record<string, unknown>, wouldBe: Record<string, unknown>): boolean {
  return JSON.stringify(comparable(live)) === JSON.stringify(comparable(wouldBe));
}
