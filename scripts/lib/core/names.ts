// Kubernetes name rules, with messages that say which rule a name breaks and how to fix it.

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` is not a valid DNS-1123 label (namespaces, Service names, container names), or null. */
export function dns1123LabelProblem(name: string, max: number = DNS1123_LABEL_MAX): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > max) return `is ${name.length} characters long; the limit is ${max}`;
  if (/[A-Z]/.test(name)) return 'must be lower case (a-z, 0-9 and "-")';
  if (/[^a-z0-9-]/.test(name)) {
    const bad = [...new Set(name.replace(/[a-z0-9-]/g, ''))].map((c) => JSON.stringify(c)).join(', ');
    return `contains ${bad}; only a-z, 0-9 and "-" are allowed`;
  }
  if (!LABEL.test(name)) return 'must start and end with a letter or digit';
  return null;
}

/** Why `name` is not a valid DNS-1123 subdomain (most object names), or null. */
export function dns1123SubdomainProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > DNS1123_SUBDOMAIN_MAX) return `is ${name.length} characters long; the limit is ${DNS1123_SUBDOMAIN_MAX}`;
  for (const part of name.split('.')) {
    const p = dns1123LabelProblem(part, DNS1123_SUBDOMAIN_MAX);
    if (p) return p;
  }
  return null;
}

export function isDns1123Label(name: string): boolean {
  return dns1123LabelProblem(name) === null;
}
