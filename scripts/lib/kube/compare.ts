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
