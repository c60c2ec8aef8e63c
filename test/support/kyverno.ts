// Kyverno for tests, without Kyverno: no Kyverno package or binary exists here, and its CRD may not be
// copied into the repository. So:
//  1. clusterPolicyCrd(): a STRUCTURAL CustomResourceDefinition for kyverno.io/v1 ClusterPolicy holding only
//     the fields our policy uses, each typed as upstream types it (kyverno/kyverno@v1.19.0:
//     config/crds/kyverno/kyverno.io_clusterpolicies.yaml, version v1, openAPIV3Schema.properties.spec…,
//     path cited on each field). With fieldValidation=Strict the real API server then refuses any field
//     the policy uses that this schema (and so upstream, for the fields listed) does not have.
//  2. evaluate(): the policy's MATCH semantics, written from Kyverno's source at that tag, to check which
//     pods it admits: rule selection by kind, namespace list and namespaceSelector; verifyImages (an image
//     matching imageReferences needs a signature whose certificate matches an attestor entry; other images
//     skip the rule); validate patterns on container images. Signatures are given as data (what cosign
//     would find: the certificate's SAN and OIDC issuer); no cryptography is checked here — that is the
//     engine's job in the cluster.
import type { KubeObject } from '../../scripts/lib/cluster/kube/client.ts';

const UPSTREAM = 'kyverno/kyverno@v1.19.0:config/crds/kyverno/kyverno.io_clusterpolicies.yaml';
const str = { type: 'string' };
const strings = { type: 'array', items: str };
const bool = { type: 'boolean' };
const failureAction = { type: 'string', enum: ['Audit', 'Enforce'] };

/** The structural CRD (group kyverno.io, kind ClusterPolicy, plural clusterpolicies, Cluster scope, v1). */
export function clusterPolicyCrd(): object {
  const keyless = {
    type: 'object',
    properties: {
      issuer: str, // …verifyImages.items.attestors.items.entries.items.keyless.issuer: string
      subjectRegExp: str, // …keyless.subjectRegExp: string
      rekor: { type: 'object', properties: { url: str } }, // …keyless.rekor.url: string
    },
  };
  const verifyImage = {
    type: 'object',
    properties: {
      imageReferences: strings, // rules.items.verifyImages.items.imageReferences: array of string
      failureAction, // verifyImages.items.failureAction: enum Audit, Enforce
      type: { type: 'string', enum: ['Cosign', 'SigstoreBundle', 'Notary'] }, // verifyImages.items.type
      mutateDigest: { ...bool, default: true }, // verifyImages.items.mutateDigest: boolean, default true
      verifyDigest: { ...bool, default: true }, // verifyImages.items.verifyDigest: boolean, default true
      required: { ...bool, default: true }, // verifyImages.items.required: boolean, default true
      attestors: { // verifyImages.items.attestors: array of {count (integer, minimum 1), entries}
        type: 'array',
        items: { type: 'object', properties: { count: { type: 'integer', minimum: 1 }, entries: { type: 'array', items: { type: 'object', properties: { keyless } } } } },
      },
    },
  };
  const resources = {
    type: 'object',
    properties: {
      kinds: strings, // rules.items.match.any.items.resources.kinds: array of string
      namespaces: strings, // …resources.namespaces: array of string
      namespaceSelector: { type: 'object', properties: { matchLabels: { type: 'object', additionalProperties: str } } }, // …namespaceSelector.matchLabels
    },
  };
  const rule = {
    type: 'object',
    required: ['match', 'name'], // rules.items.required: [match, name]
    properties: {
      name: { type: 'string', maxLength: 63 }, // rules.items.name: string, maxLength 63
      match: { type: 'object', properties: { any: { type: 'array', items: { type: 'object', properties: { resources } } } } },
      verifyImages: { type: 'array', items: verifyImage },
      validate: { // rules.items.validate: {failureAction, message: string, pattern: x-kubernetes-preserve-unknown-fields}
        type: 'object',
        properties: { failureAction, message: str, pattern: { 'x-kubernetes-preserve-unknown-fields': true } },
      },
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'clusterpolicies.kyverno.io', annotations: { 'gitops-users.example.com/structural-subset-of': UPSTREAM } },
    spec: {
      group: 'kyverno.io',
      names: { kind: 'ClusterPolicy', listKind: 'ClusterPolicyList', plural: 'clusterpolicies', singular: 'clusterpolicy', shortNames: ['cpol'] },
      scope: 'Cluster',
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              apiVersion: str, kind: str, metadata: { type: 'object' },
              spec: {
                type: 'object',
                properties: {
                  background: { ...bool, default: true }, // spec.background: boolean, default true
                  failurePolicy: { type: 'string', enum: ['Ignore', 'Fail'] }, // spec.failurePolicy: enum Ignore, Fail
                  webhookTimeoutSeconds: { type: 'integer', format: 'int32' }, // spec.webhookTimeoutSeconds: int32
                  rules: { type: 'array', items: rule }, // spec.rules: array
                },
              },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      }],
    },
  };
}

/** ext/wildcard.Match → github.com/IGLOU-EU/go-wildcard@v1.0.3 Match (kyverno go.mod): `*` any run of
 *  characters ('/' included), `?` exactly one; everything else literal; an empty pattern matches only "". */
export function wildcardMatch(pattern: string, name: string): boolean {
  if (pattern === '') return name === '';
  if (pattern === '*') return true;
  const re = pattern.replace(/[.+^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${re}$`).test(name);
}

export interface Signature { subject: string; issuer: string }
export interface Namespace { name: string; labels: Record<string, string> }
export interface Verdict { allowed: boolean; reasons: string[] }

type Rule = {
  name: string;
  match: { any: Array<{ resources: { kinds?: string[]; namespaces?: string[]; namespaceSelector?: { matchLabels?: Record<string, string> } } }> };
  verifyImages?: Array<{ imageReferences: string[]; attestors: Array<{ count?: number; entries: Array<{ keyless: { issuer?: string; subjectRegExp?: string; subject?: string } }> }> }>;
  validate?: { message: string; pattern: { spec: Record<string, Array<{ image: string }>> } };
};

/** match.any: one resource filter matching kind and namespace (names by wildcard; selector by labels).
 *  kyverno/kyverno@v1.19.0:pkg/engine/utils/match.go (doesResourceMatchConditionBlock: CheckKind,
 *  checkNameSpace with wildcard.Match, CheckSelector on the namespace's labels). */
function ruleMatches(rule: Rule, kind: string, ns: Namespace): boolean {
  return rule.match.any.some(({ resources: r }) =>
    (!r.kinds || r.kinds.includes(kind)) &&
    (!r.namespaces || r.namespaces.some((p) => wildcardMatch(p, ns.name))) &&
    (!r.namespaceSelector?.matchLabels || Object.entries(r.namespaceSelector.matchLabels).every(([k, v]) => ns.labels[k] === v)));
}

/** Keyless attestor entry vs a signature: subject by wildcard, subjectRegExp by Go regexp.MatchString
 *  (unanchored), issuer by wildcard (kyverno/kyverno@v1.19.0:pkg/image/verifiers/cpol/cosign/cosign.go
 *  matchCertificateData / matchExtensions). */
function entryMatches(k: { issuer?: string; subjectRegExp?: string; subject?: string }, sig: Signature): boolean {
  if (k.subject && !wildcardMatch(k.subject, sig.subject)) return false;
  if (k.subjectRegExp && !new RegExp(k.subjectRegExp).test(sig.subject)) return false;
  if (k.issuer && !wildcardMatch(k.issuer, sig.issuer)) return false;
  return true;
}

/** A validate pattern's string: `a | b` is any of the alternatives, each a wildcard
 *  (kyverno/kyverno@v1.19.0:pkg/engine/pattern/pattern.go validateStringPatterns / validateString). */
function stringPatternMatches(pattern: string, value: string): boolean {
  return pattern.split('|').some((alt) => wildcardMatch(alt.trim(), value));
}

/** What the ClusterPolicy decides for a Pod in `ns`, given each image's signatures. */
export function evaluate(policy: KubeObject, ns: Namespace, pod: { spec: { containers: Array<{ image: string }>; initContainers?: Array<{ image: string }> } }, signatures: Record<string, Signature[]>): Verdict {
  const rules = (policy as unknown as { spec: { rules: Rule[] } }).spec.rules;
  const reasons: string[] = [];
  const images = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.image);
  for (const rule of rules) {
    if (!ruleMatches(rule, 'Pod', ns)) continue;
    for (const iv of rule.verifyImages ?? []) {
      for (const image of images) {
        if (!iv.imageReferences.some((r) => wildcardMatch(r, image))) continue; // imageverifier.go: "image does not match, skipping"
        const sigs = signatures[image] ?? [];
        // Every attestor set must be satisfied by `count` of its entries (AttestorSet.Count; null = all).
        const ok = iv.attestors.every((set) => set.entries.filter((e) => sigs.some((s) => entryMatches(e.keyless, s))).length >= (set.count ?? set.entries.length));
        if (!ok) reasons.push(`${rule.name}: failed to verify image ${image}: no signature matches the attestors`);
      }
    }
    if (rule.validate) {
      const spec = rule.validate.pattern.spec;
      const check = (key: string, list: Array<{ image: string }> | undefined) => {
        const p = spec[key] ?? spec[`=(${key})`];
        if (!p || !list) return;
        for (const c of list) if (!stringPatternMatches(p[0]!.image, c.image)) reasons.push(`${rule.name}: ${rule.validate!.message} (image ${c.image})`);
      };
      check('containers', pod.spec.containers);
      check('initContainers', pod.spec.initContainers);
    }
  }
  return { allowed: reasons.length === 0, reasons };
}
