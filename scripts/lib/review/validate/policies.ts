// The security and reliability policies every rendered environment must meet. Each has an id (used in
// findings and waivers), a one-line reason and a fix. A policy is a function of one environment's
// objects, so cross-object rules (a NetworkPolicy per namespace, a PDB per replicated workload) fit.
import { APP_NAME, PUBLIC_PATHS } from '../../../../apps/users-api/src/contract.ts';
import { MONGODB_AGENT_MIN_MEMORY_LIMIT_BYTES } from '../../generate/mongodb/operator.ts';
import { MONGODB_COMMUNITY_KIND, MONGODB_POD } from '../../generate/mongodb/replicaset.ts';
import { isQuantity, parseQuantity } from '../../core/quantity.ts';
import { PROTECTED_POLICY, protectedApplicationViolations } from '../../inputs/rules.ts';
import { PREVIEW_NAME_PATTERN } from '../../core/layout.ts';
import type { RenderedObject, ResourceId } from '../../render/normalize.ts';
import { looksLikeSecret } from '../../secrets/scan.ts';
import { asArr as arr, asObj as obj } from '../../core/objects.ts';
import type { Obj } from '../../core/objects.ts';

export interface PolicyViolation {
  policy: string;
  id: ResourceId;
  /** JSON pointer into the object. */
  path: string;
  message: string;
}

export interface Policy {
  id: string;
  reason: string;
  fix: string;
  check(objects: readonly RenderedObject[], env: string): PolicyViolation[];
}

export { WAIVER_ANNOTATION_PREFIX } from '../../inputs/rules.ts';

const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

interface ContainerRef {
  object: RenderedObject;
  podSpec: Obj;
  container: Obj;
  /** JSON pointer of the container. */
  path: string;
  /** JSON pointer of the pod spec. */
  podPath: string;
  init: boolean;
}

export function podSpecOf(o: RenderedObject): { spec: Obj; path: string } | undefined {
  const segments = POD_SPEC_PATHS[o.id.kind];
  if (!segments) return undefined;
  let cur: unknown = o.object;
  for (const s of segments) cur = obj(cur)[s];
  return { spec: obj(cur), path: `/${segments.join('/')}` };
}

function containersOf(objects: readonly RenderedObject[]): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const object of objects) {
    const pod = podSpecOf(object);
    if (!pod) continue;
    for (const [field, init] of [['initContainers', true], ['containers', false]] as const) {
      arr(pod.spec[field]).forEach((c, i) => {
        out.push({ object, podSpec: pod.spec, container: obj(c), path: `${pod.path}/${field}/${i}`, podPath: pod.path, init });
      });
    }
  }
  return out;
}

function perContainer(
  policy: string,
  test: (c: ContainerRef) => { path: string; message: string } | undefined,
): (objects: readonly RenderedObject[]) => PolicyViolation[] {
  return (objects) =>
    containersOf(objects).flatMap((c) => {
      const r = test(c);
      return r ? [{ policy, id: c.object.id, path: r.path, message: `container ${String(c.container.name)}: ${r.message}` }] : [];
    });
}

const CREDENTIAL_KEY = /(pass(word|wd)?|secret|token|api[-_]?key|private[-_]?key|credential)/i;
/** Keys that name or configure a credential rather than hold one. */
const CREDENTIAL_METADATA_KEY = /[-_](name|ref|file|path|ttl|id|enabled|source|length|url)$/i;

/** Whether a literal key/value pair looks like a credential. The value itself is never reported. */
export function looksLikeCredential(key: string, value: string): boolean {
  // Values: the repository's one secret detector (scripts/lib/secrets/scan.ts).
  if (looksLikeSecret(value)) return true;
  // A credential-named key with a literal value; references like "$(VAR)" or empty values are fine.
  return CREDENTIAL_KEY.test(key) && !CREDENTIAL_METADATA_KEY.test(key) && value.trim() !== '' && !/^\$\(.+\)$/.test(value) && !/^(true|false)$/i.test(value);
}

function imageProblem(image: string): string | undefined {
  if (image.includes('@sha256:')) return undefined;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon === -1) return `image "${image}" has no tag`;
  if (lastSegment.slice(colon + 1) === 'latest') return `image "${image}" uses the "latest" tag`;
  return undefined;
}

function labelsMatch(selector: Obj, labels: Obj): boolean {
  const match = obj(selector.matchLabels);
  const keys = Object.keys(match);
  if (keys.length === 0 && arr(selector.matchExpressions).length === 0) return false;
  return keys.every((k) => labels[k] === match[k]);
}

const REQUIRED_RESOURCES = [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'memory']] as const;

export function isDevEnvironment(env: string): boolean {
  return /^dev(-|$)/.test(env);
}

/** A preview (pr-<number>): a throwaway copy of its template environment with a database of its own. */
export function isPreviewEnvironment(env: string): boolean {
  return PREVIEW_NAME_PATTERN.test(env);
}

export const POLICIES: readonly Policy[] = [
  {
    id: 'non-root',
    reason: 'a container running as root turns any escape or exploit into root on the node',
    fix: 'set securityContext.runAsNonRoot: true and a non-zero runAsUser (pod or container level)',
    check: perContainer('non-root', ({ podSpec, container, path, podPath }) => {
      const pod = obj(podSpec.securityContext);
      const sc = obj(container.securityContext);
      // The container's setting wins over the pod's; report the field that actually decides.
      const where = (field: string): string => `${sc[field] === undefined && pod[field] !== undefined ? podPath : path}/securityContext/${field}`;
      if ((sc.runAsUser ?? pod.runAsUser) === 0) return { path: where('runAsUser'), message: 'runs as user 0 (root)' };
      if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) return { path: where('runAsNonRoot'), message: 'runAsNonRoot is not true' };
      return undefined;
    }),
  },
  {
    id: 'read-only-root-filesystem',
    reason: 'a writable root filesystem lets an attacker persist tools and modify the application',
    fix: 'set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app must write',
    check: perContainer('read-only-root-filesystem', ({ container, path }) =>
      obj(container.securityContext).readOnlyRootFilesystem === true
        ? undefined
        : { path: `${path}/securityContext/readOnlyRootFilesystem`, message: 'readOnlyRootFilesystem is not true' }),
  },
  {
    id: 'no-privilege-escalation',
    reason: 'setuid binaries could give the process more privileges than it started with',
    fix: 'set securityContext.allowPrivilegeEscalation: false',
    check: perContainer('no-privilege-escalation', ({ container, path }) =>
      obj(container.securityContext).allowPrivilegeEscalation === false
        ? undefined
        : { path: `${path}/securityContext/allowPrivilegeEscalation`, message: 'allowPrivilegeEscalation is not false' }),
  },
  {
    id: 'drop-all-capabilities',
    reason: 'default Linux capabilities (NET_RAW, CHOWN…) are not needed by the app and widen an attack',
    fix: 'set securityContext.capabilities.drop: [ALL] (add back only what is needed)',
    check: perContainer('drop-all-capabilities', ({ container, path }) =>
      arr(obj(obj(container.securityContext).capabilities).drop).includes('ALL')
        ? undefined
        : { path: `${path}/securityContext/capabilities/drop`, message: 'capabilities.drop does not include ALL' }),
  },
  {
    id: 'resources',
    reason: 'without requests the scheduler overcommits nodes; without a memory limit one pod can starve the others',
    fix: 'set resources.requests.cpu, resources.requests.memory and resources.limits.memory',
    // A CPU limit stays optional (as in spec.ts ContainerResources): CPU is compressible, so a missing
    // limit only lets a pod use idle CPU, while a low one throttles it. Memory is not compressible.
    check: perContainer('resources', ({ container, path }) => {
      const res = obj(container.resources);
      const missing = REQUIRED_RESOURCES.filter(([k, r]) => obj(res[k])[r] === undefined).map(([k, r]) => `${k}.${r}`);
      return missing.length > 0 ? { path: `${path}/resources`, message: `missing ${missing.join(', ')}` } : undefined;
    }),
  },
  {
    id: 'probes',
    reason: 'without probes Kubernetes sends traffic to pods that are not ready and never restarts hung ones',
    fix: 'set livenessProbe and readinessProbe on every container',
    check: perContainer('probes', ({ object, container, path, init }) => {
      // Init containers and run-to-completion pods (Job, CronJob) serve no traffic and end by themselves.
      if (init || object.id.kind === 'Job' || object.id.kind === 'CronJob') return undefined;
      const missing = ['livenessProbe', 'readinessProbe'].filter((p) => container[p] === undefined);
      return missing.length > 0 ? { path: `${path}/${missing[0]}`, message: `missing ${missing.join(' and ')}` } : undefined;
    }),
  },
  {
    id: 'image-tag',
    reason: '"latest" or untagged images make a deployment unreproducible and roll back to an unknown version',
    fix: 'pin the image to an explicit version tag or a digest (images: in the overlay kustomization)',
    check: perContainer('image-tag', ({ container, path }) => {
      const problem = imageProblem(String(container.image ?? ''));
      return problem ? { path: `${path}/image`, message: problem } : undefined;
    }),
  },
  {
    id: 'no-secrets-in-git',
    reason: 'anything committed to git is readable by everyone with repository access, forever',
    fix: 'create the Secret on the cluster (scripts/bootstrap.ts) and reference it; never commit credential values',
    check: (objects) => {
      const out: PolicyViolation[] = [];
      for (const o of objects) {
        if (o.id.kind === 'Secret' && o.id.group === '') {
          out.push({ policy: 'no-secrets-in-git', id: o.id, path: '', message: 'a Secret object is rendered from git' });
          continue;
        }
        if (o.id.kind === 'ConfigMap' && o.id.group === '') {
          for (const [k, v] of Object.entries(obj(o.object.data))) {
            if (typeof v === 'string' && looksLikeCredential(k, v)) {
              out.push({ policy: 'no-secrets-in-git', id: o.id, path: `/data/${k}`, message: `ConfigMap key ${k} holds a credential-looking value` });
            }
          }
        }
      }
      for (const c of containersOf(objects)) {
        arr(c.container.env).forEach((e, i) => {
          const { name, value } = obj(e);
          if (typeof name === 'string' && typeof value === 'string' && looksLikeCredential(name, value)) {
            out.push({ policy: 'no-secrets-in-git', id: c.object.id, path: `${c.path}/env/${i}/value`, message: `env ${name} holds a credential-looking literal value` });
          }
        });
      }
      return out;
    },
  },
  {
    id: 'network-policy',
    reason: 'without a NetworkPolicy every pod in the cluster can reach every pod in the namespace',
    fix: 'add a NetworkPolicy to the namespace (default deny plus the flows the app needs)',
    check: (objects) => {
      const namespaces = new Map<string, RenderedObject>();
      for (const o of objects) {
        if (o.id.kind === 'Namespace' && o.id.group === '') namespaces.set(o.id.name, o);
        else if (o.id.namespace && !namespaces.has(o.id.namespace)) namespaces.set(o.id.namespace, o);
      }
      const covered = new Set(objects.filter((o) => o.id.kind === 'NetworkPolicy').map((o) => o.id.namespace));
      return [...namespaces]
        .filter(([ns]) => !covered.has(ns))
        .map(([ns, o]) => ({ policy: 'network-policy', id: o.id, path: '', message: `namespace ${ns} has no NetworkPolicy` }));
    },
  },
  {
    id: 'pod-disruption-budget',
    reason: 'with several replicas and no PDB, a node drain can evict all of them at once',
    fix: 'add a PodDisruptionBudget (e.g. maxUnavailable: 1) selecting the workload\'s pods',
    check: (objects) => {
      const pdbs = objects.filter((o) => o.id.kind === 'PodDisruptionBudget');
      const covered = (o: RenderedObject, labels: Obj): boolean =>
        pdbs.some((p) => p.id.namespace === o.id.namespace && labelsMatch(obj(obj(p.object.spec).selector), labels));
      const workloads = objects
        .filter((o) => ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.id.kind))
        .filter((o) => typeof obj(o.object.spec).replicas === 'number' && (obj(o.object.spec).replicas as number) > 1)
        .filter((o) => !covered(o, obj(obj(obj(obj(o.object.spec).template).metadata).labels)))
        .map((o) => ({ policy: 'pod-disruption-budget', id: o.id, path: '/spec/replicas', message: `${String(obj(o.object.spec).replicas)} replicas and no PodDisruptionBudget selects its pods` }));
      // The operator makes no PDB for a replica set; its members carry `app: <name>-svc` (MONGODB_POD.selector).
      const replicaSets = objects
        .filter((o) => o.id.kind === MONGODB_COMMUNITY_KIND && typeof obj(o.object.spec).members === 'number' && (obj(o.object.spec).members as number) > 1)
        .filter((o) => !covered(o, { app: `${o.id.name}-svc` }))
        .map((o) => ({ policy: 'pod-disruption-budget', id: o.id, path: '/spec/members', message: `${String(obj(o.object.spec).members)} members and no PodDisruptionBudget selects their pods (app: ${o.id.name}-svc)` }));
      return [...workloads, ...replicaSets];
    },
  },
  {
    id: 'mongodb-backup',
    reason: 'a replica set protects against a lost member, not against a bad migration, a wrong delete or a deleted volume',
    fix: 'turn backups on in env.yaml (mongodb.backup; docs/mongodb.md "Backups"), or for a protected environment state why not in mongodb.backup.waiver',
    check: (objects) => {
      // The CronJob generated from env.yaml mongodb.backup (scripts/lib/inputs/backup.ts) carries this component label.
      const hasBackup = objects.some((o) => o.id.kind === 'CronJob' && obj(obj(o.object.metadata).labels)['app.kubernetes.io/component'] === 'database-backup');
      if (hasBackup) return [];
      return objects
        .filter((o) => o.id.kind === MONGODB_COMMUNITY_KIND)
        .map((o) => ({ policy: 'mongodb-backup', id: o.id, path: '/metadata', message: `no backup CronJob backs up ${o.id.name}` }));
    },
  },
  {
    id: 'ingress-public-paths',
    reason: 'probes and /metrics tell an outsider about the pods; only the API\'s public paths belong on the Ingress',
    fix: `route only ${PUBLIC_PATHS.map((p) => `${p.path} (${p.match})`).join(' and ')} to ${APP_NAME} (apps/users-api/src/contract.ts PUBLIC_PATHS)`,
    check: (objects) =>
      objects
        .filter((o) => o.id.kind === 'Ingress')
        .flatMap((o) => {
          const spec = obj(o.object.spec);
          const out: PolicyViolation[] = [];
          if (spec.defaultBackend !== undefined) out.push({ policy: 'ingress-public-paths', id: o.id, path: '/spec/defaultBackend', message: 'a default backend routes every path' });
          arr(spec.rules).forEach((rule, i) => {
            arr(obj(obj(rule).http).paths).forEach((p, j) => {
              const { path, pathType } = obj(p);
              if (!PUBLIC_PATHS.some((pub) => pub.path === path && pub.match === pathType)) {
                out.push({ policy: 'ingress-public-paths', id: o.id, path: `/spec/rules/${i}/http/paths/${j}`, message: `path ${String(path)} (${String(pathType)}) is not a public path of the API` });
              }
            });
          });
          return out;
        }),
  },
  {
    id: 'mongodb-agent-memory',
    reason: 'an agent killed for memory stops automating its member; upstream\'s smallest published limit is 250M (docs/mongodb.md "Resources")',
    fix: 'set mongodb.resources.agent.limits.memory in env.yaml to at least 256Mi',
    check: (objects) =>
      objects
        .filter((o) => o.id.kind === MONGODB_COMMUNITY_KIND)
        .flatMap((o) => {
          const containers = arr(obj(obj(obj(obj(obj(o.object.spec).statefulSet).spec).template).spec).containers);
          const i = containers.findIndex((c) => obj(c).name === MONGODB_POD.agentContainer);
          if (i === -1) return [];
          const limit = obj(obj(obj(containers[i]).resources).limits).memory;
          const q = parseQuantity(String(limit ?? ''));
          // No limit, or no limits map, leaves the operator's 500M default in place; an unparsable one is the schema's finding.
          if (limit === undefined || !isQuantity(q) || q.num >= BigInt(MONGODB_AGENT_MIN_MEMORY_LIMIT_BYTES) * q.den) return [];
          return [{ policy: 'mongodb-agent-memory', id: o.id, path: `/spec/statefulSet/spec/template/spec/containers/${i}/resources/limits/memory`, message: `the agent's memory limit ${String(limit)} is below 250M` }];
        }),
  },
  {
    id: PROTECTED_POLICY,
    reason: 'a protected environment (gitops.yaml protected) changes only when a person syncs it, and its Application is never pruned or cascade-deleted',
    fix: 'regenerate (zx scripts/generate.ts) instead of editing argocd/apps/; keep sync: { automated: false, prune: false, selfHeal: false } in its env.yaml; lifting a protection is a reviewed change to gitops.yaml',
    check: (objects) =>
      objects.flatMap((o) => protectedApplicationViolations(o.object).map((v) => ({ policy: PROTECTED_POLICY, id: o.id, path: v.path, message: v.message }))),
  },
  {
    id: 'ingress-tls',
    reason: 'outside dev and previews (whose fresh databases hold only test data), traffic to the API carries user data and must be encrypted',
    fix: 'add spec.tls with the hosts and a certificate Secret name (e.g. issued by cert-manager)',
    check: (objects, env) =>
      isDevEnvironment(env) || isPreviewEnvironment(env)
        ? []
        : objects
            .filter((o) => o.id.kind === 'Ingress' && arr(obj(o.object.spec).tls).length === 0)
            .map((o) => ({ policy: 'ingress-tls', id: o.id, path: '/spec/tls', message: `Ingress has no TLS in environment ${env}` })),
  },
];

export const POLICY_IDS = POLICIES.map((p) => p.id);

/** The id under which a protected environment without an image digest is reported (docs/release.md, "Digests"). */
export const IMAGE_DIGEST_POLICY = 'image-digest';

/**
 * A protected environment (gitops.yaml protected) runs the users API by digest (`<image>:<tag>@sha256:…`, from
 * env.yaml `digest`): a tag can be pushed again, so an image pinned by tag alone need not be the one that was
 * verified. Read from gitops.yaml on every run (never from the findings cache, which knows renders, not which
 * environments are protected); reported against overlays/<env>/env.yaml /digest.
 */
export function protectedDigestFindings(
  settings: { image: string; protected?: readonly string[] },
  rendered: ReadonlyArray<{ env: string; objects: readonly RenderedObject[] }>,
  envFileOf: (env: string) => string,
): Array<{ env: string; policy: string; object: ResourceId; file: string; path: string; message: string; fix: string }> {
  const out: ReturnType<typeof protectedDigestFindings> = [];
  for (const { env, objects } of rendered) {
    if (!settings.protected?.includes(env)) continue;
    for (const c of containersOf(objects)) {
      const image = String(c.container.image ?? '');
      if (!(image.startsWith(`${settings.image}:`) || image.startsWith(`${settings.image}@`)) || /@sha256:[0-9a-f]{64}$/.test(image)) continue;
      out.push({
        env, policy: IMAGE_DIGEST_POLICY, object: c.object.id, file: envFileOf(env), path: '/digest',
        message: `environment ${env} is protected (gitops.yaml protected) but runs ${image} by tag only: a tag can be pushed again, so what runs need not be what was verified`,
        fix: `promote a verified build into it (zx scripts/promote.ts <from> ${env} --pr), which writes the tag's digest beside the tag in env.yaml (digest: sha256:<64 hex>); docs/release.md "Digests"`,
      });
    }
  }
  return out;
}
