// The JSON Schemas of overlays/<env>/env.yaml and gitops.yaml, their validation (ajv, every error at
// once, each with file, JSON pointer and fix), the Kubernetes name limits an environment name implies,
// and the one comment-preserving way to change a field of env.yaml (used by new-env and promote).
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compiledSchema } from '../core/compiled-schema.ts';
import { parseDocument, isMap, isScalar } from 'yaml';
import { APP_NAME } from '../../../apps/users-api/src/contract.ts';
import type { Problem } from '../core/errors.ts';
import { dns1123LabelProblem, DNS1123_LABEL_MAX } from '../core/names.ts';
import type { EnvSpec, RepoSettings } from './spec.ts';
import { MONGODB_VERSION_PATTERN } from './mongodb.ts';
import { backupSchema } from './backup.ts';
import { restoreSchema } from './restore.ts';
import { envSpecRuleProblems, settingsRuleProblems } from './rules.ts';

export const ENV_SCHEMA_FILE = 'schemas/env.schema.json';
export const SETTINGS_SCHEMA_FILE = 'schemas/gitops.schema.json';

const cpu = { type: 'string', pattern: '^([0-9]+m|[0-9]+(\\.[0-9]{1,3})?)$', description: 'CPU quantity, e.g. 100m or 0.5' };
const memory = { type: 'string', pattern: '^[0-9]+(Ki|Mi|Gi|Ti)$', description: 'Memory quantity in binary units, e.g. 128Mi' };
const resources = {
  type: 'object',
  additionalProperties: false,
  required: ['requests', 'limits'],
  properties: {
    requests: { type: 'object', additionalProperties: false, required: ['cpu', 'memory'], properties: { cpu, memory } },
    limits: { type: 'object', additionalProperties: false, required: ['memory'], properties: { cpu, memory } },
  },
};
const dnsLabel = { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };
const hostName = { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$' };

const envBody = {
  replicas: { type: 'integer', minimum: 1, maximum: 50, description: 'API pods' },
  tag: {
    type: 'string',
    pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$',
    not: { enum: ['latest'] },
    description: 'Image tag of the users API (a release such as 1.4.2 or a commit SHA); never "latest"',
  },
  digest: {
    type: 'string',
    pattern: '^sha256:[0-9a-f]{64}$',
    description: 'The image digest the tag pointed to when it was promoted and verified (sha256:<64 hex>); Kustomize then pins the image as <image>:<tag>@<digest>. Written by `zx scripts/promote.ts`; required for a protected environment (docs/release.md)',
  },
  resources,
  ingress: {
    type: 'object',
    additionalProperties: false,
    required: ['host'],
    properties: {
      host: hostName,
      tlsSecret: { ...dnsLabel, maxLength: 253, description: 'kubernetes.io/tls Secret in the namespace (e.g. from cert-manager)' },
    },
  },
  mongodb: {
    type: 'object',
    additionalProperties: false,
    required: ['members', 'version', 'storage', 'resources'],
    properties: {
      members: { type: 'integer', enum: [1, 3, 5, 7], description: 'Replica-set members: an odd number so a majority can elect a primary' },
      version: { type: 'string', pattern: MONGODB_VERSION_PATTERN, description: 'Pinned MongoDB server version, e.g. 8.0.12' },
      storage: {
        type: 'object',
        additionalProperties: false,
        required: ['size', 'className'],
        properties: { size: { type: 'string', pattern: '^[0-9]+(Mi|Gi|Ti)$' }, className: dnsLabel },
      },
      resources: {
        type: 'object',
        additionalProperties: false,
        required: ['mongod', 'agent'],
        properties: { mongod: resources, agent: resources },
      },
      passwordRotation: {
        type: 'integer',
        minimum: 0,
        description: 'Rotation counter of the database password: `zx scripts/rotate-db-password.ts <env>` raises it; the cluster then generates a new password (absent = 0)',
      },
      backup: backupSchema,
      restore: restoreSchema,
    },
  },
  sync: {
    type: 'object',
    additionalProperties: false,
    required: ['automated', 'prune', 'selfHeal'],
    properties: { automated: { type: 'boolean' }, prune: { type: 'boolean' }, selfHeal: { type: 'boolean' } },
  },
  targetRevision: { type: 'string', minLength: 1, pattern: '^[^\\s]+$', description: 'Branch, tag or commit Argo CD tracks' },
};
// Alert thresholds (docs/monitoring.md): every one optional in env.yaml, every one required in gitops.yaml.
const thresholdProperties = {
  errorRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: '5xx share of answers over 5 minutes that fires UsersApiErrorRatioHigh, e.g. 0.05' },
  latencyP99Seconds: { type: 'number', exclusiveMinimum: 0, maximum: 60, description: 'p99 request duration (seconds) over 5 minutes that fires UsersApiLatencyP99High' },
  podsNotReadyMinutes: { type: 'integer', minimum: 1, maximum: 1440, description: 'Minutes API pods may be wanted but not available before UsersApiPodsNotReady' },
  backupMaxAgeHours: { type: 'integer', minimum: 1, maximum: 2160, description: 'Hours since the last successful backup that fire UsersDbBackupTooOld (the schedule\'s interval plus slack)' },
  rotationMaxMinutes: { type: 'integer', minimum: 1, maximum: 1440, description: 'Minutes a password rotation Job may run before UsersDbPasswordRotationStuck' },
};
const envMonitoring = { type: 'object', additionalProperties: false, properties: thresholdProperties, description: 'Alert thresholds of this environment; absent ones are gitops.yaml monitoring.thresholds (docs/monitoring.md)' };
const envRequired = ['replicas', 'tag', 'resources', 'mongodb', 'sync', 'targetRevision'];

export const envSpecSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'env.schema.json',
  title: 'overlays/<env>/env.yaml',
  $comment: 'Generated by scripts/generate.ts from scripts/lib/inputs/schema.ts. Do not edit.',
  type: 'object',
  additionalProperties: false,
  required: ['namespace', ...envRequired],
  properties: {
    namespace: { ...dnsLabel, description: 'Kubernetes namespace of the environment' },
    cluster: { ...dnsLabel, maxLength: 40, description: 'The cluster it runs on: a name of gitops.yaml clusters (absent: in-cluster, where Argo CD runs); docs/clusters.md' },
    ...envBody,
    monitoring: envMonitoring,
  },
} as const;

export const settingsSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'gitops.schema.json',
  title: 'gitops.yaml (repository settings)',
  $comment: 'Generated by scripts/generate.ts from scripts/lib/inputs/schema.ts. Do not edit.',
  type: 'object',
  additionalProperties: false,
  required: ['repoURL', 'image', 'argocd', 'operator', 'defaults'],
  properties: {
    // The shape only; scripts/lib/inputs/rules.ts checks host, path and credentials with precise messages.
    repoURL: { type: 'string', pattern: '^(https://|ssh://|[^\\s/:@]+@)?[^\\s]+$', description: 'Git URL Argo CD pulls: https://host/owner/repo.git, ssh://git@host/owner/repo.git or git@host:owner/repo.git; a real host, no credentials (git:// only for an in-cluster Service: the e2e git server)' },
    image: { type: 'string', pattern: '^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$', description: 'Image repository of the users API, without tag' },
    argocd: {
      type: 'object', additionalProperties: false, required: ['version', 'namespace'],
      properties: { version: { type: 'string', pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+$' }, namespace: dnsLabel },
    },
    operator: {
      type: 'object', additionalProperties: false, required: ['chartRepo', 'chart', 'version', 'namespace'],
      properties: { chartRepo: { type: 'string', pattern: '^https://[^\\s@/?#]+(/[^\\s?#@]*)?$', description: 'Helm repository URL: https, a real host, no credentials' }, chart: dnsLabel, version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' }, namespace: dnsLabel },
    },
    defaults: { type: 'object', additionalProperties: false, required: envRequired, properties: envBody },
    protected: {
      type: 'array',
      uniqueItems: true,
      items: dnsLabel,
      description: 'Protected environments: manual sync only (sync: { automated: false, prune: false, selfHeal: false }), their Argo CD Application is never pruned or cascade-deleted, and delete-env needs --delete-protected',
    },
    capacity: {
      type: 'object',
      additionalProperties: false,
      required: ['cpu', 'memory'],
      description: 'CPU and memory the cluster can give the pods of this repository; validate sums the effective pod requests against it',
      properties: { cpu, memory },
    },
    clusters: {
      type: 'object',
      description: 'The clusters environments run on, by name (env.yaml cluster); in-cluster is the one Argo CD runs in. docs/clusters.md',
      // 40: a cluster's name is part of generated names (mongodb-operator-<name>, namespaces-<name>) that must stay DNS labels.
      propertyNames: { ...dnsLabel, maxLength: 40 },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          server: { type: 'string', description: 'API server URL Argo CD reaches the cluster at (https); in-cluster: https://kubernetes.default.svc' },
          context: { type: 'string', minLength: 1, pattern: '^[^\\s]+$', description: 'kubeconfig context the toolkit uses for this cluster (bootstrap --cluster, status, diff --live)' },
          capacity: {
            type: 'object',
            additionalProperties: false,
            required: ['cpu', 'memory'],
            description: 'CPU and memory this cluster can give the pods of this repository (in-cluster: the top-level capacity when absent)',
            properties: { cpu, memory },
          },
          prometheusOperator: { type: 'boolean', description: 'This cluster runs the Prometheus operator (absent: monitoring.prometheusOperator); docs/monitoring.md' },
        },
      },
    },
    monitoring: {
      type: 'object',
      additionalProperties: false,
      required: ['prometheusOperator', 'prometheus', 'thresholds'],
      description: 'ServiceMonitor, PrometheusRule and Grafana dashboard per environment on clusters with the Prometheus operator; docs/monitoring.md',
      properties: {
        prometheusOperator: { type: 'boolean', description: 'In-cluster (and every cluster without clusters.<name>.prometheusOperator) runs the Prometheus operator' },
        prometheus: {
          type: 'object',
          additionalProperties: false,
          required: ['namespace', 'service', 'port'],
          description: 'Where Prometheus runs: its namespace may scrape the API; status.ts reads /api/v1/alerts from this service',
          properties: {
            namespace: dnsLabel, service: dnsLabel, port: { type: 'integer', minimum: 1, maximum: 65535 },
            url: { type: 'string', pattern: '^https?://[^\\s@/?#]+(/[^\\s?#@]*)?$', description: 'Prometheus\'s URL as the toolkit reaches it (status.ts); absent: through the API server\'s service proxy' },
          },
        },
        selectorLabels: {
          type: 'object',
          description: 'Labels on the ServiceMonitor and PrometheusRule that the Prometheus selects them by (kube-prometheus-stack: release: <release name>)',
          propertyNames: { type: 'string', pattern: '^([a-z0-9.-]+/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$' },
          additionalProperties: { type: 'string', pattern: '^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$' },
        },
        thresholds: { type: 'object', additionalProperties: false, required: Object.keys(thresholdProperties), properties: thresholdProperties },
      },
    },
    notifications: {
      type: 'object',
      additionalProperties: false,
      description: 'Argo CD Notifications that bootstrap configures (argocd-notifications-cm); secrets live in argocd-notifications-secret, never here. docs/monitoring.md',
      properties: {
        github: {
          type: 'object',
          additionalProperties: false,
          required: ['appID', 'installationID'],
          description: 'GitHub App the notifications controller comments on preview pull requests as (its private key: argocd-notifications-secret key github-privateKey)',
          properties: { appID: { type: 'integer', minimum: 1 }, installationID: { type: 'integer', minimum: 1 } },
        },
        webhook: { type: 'boolean', description: 'Protected environments notify the webhook whose URL is argocd-notifications-secret key webhook-url' },
      },
    },
    imagePolicy: { type: 'boolean', description: 'Image signatures enforced in the cluster by Kyverno (default true); false only where images cannot carry the release workflow\'s signature, e.g. the end-to-end run (docs/e2e.md)' },
    previews: {
      type: 'object',
      additionalProperties: false,
      required: ['template', 'label', 'maxConcurrent', 'ttlHours', 'tokenSecret', 'requeueAfterSeconds'],
      description: 'A preview environment pr-<number> per labelled pull request (Argo CD ApplicationSet, pull request generator); see docs/release.md',
      properties: {
        template: { ...dnsLabel, description: 'The environment whose settings previews take (one API pod, one MongoDB member)' },
        label: { type: 'string', minLength: 1, maxLength: 50, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._:-]*$', description: 'GitHub label that gives a pull request its preview' },
        maxConcurrent: { type: 'integer', minimum: 1, maximum: 20, description: 'Previews at most at once' },
        ttlHours: { type: 'integer', minimum: 1, maximum: 720, description: 'A preview without a push for this long is taken down' },
        tokenSecret: { ...dnsLabel, description: 'Secret (key token) in Argo CD\'s namespace with a GitHub token that can read pull requests' },
        requeueAfterSeconds: { type: 'integer', minimum: 30, maximum: 86400, description: 'How often Argo CD polls GitHub for pull requests' },
        ingress: {
          type: 'object',
          additionalProperties: false,
          required: ['host'],
          properties: {
            host: { type: 'string', maxLength: 253, pattern: '^[a-z0-9.{}-]+$', description: 'Host of each preview; {number} is the pull request number, e.g. pr-{number}.preview.example.com' },
            tlsSecret: { ...dnsLabel, description: 'kubernetes.io/tls Secret (e.g. a wildcard certificate) present in every preview namespace' },
          },
        },
        image: { type: 'string', pattern: '^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$', description: 'Image repository of pull request builds, without tag: a repository of its own, never the release one (image); absent: <image>-previews' },
        quota: {
          type: 'object',
          additionalProperties: false,
          required: ['requests', 'limits', 'pods', 'storage', 'persistentVolumeClaims'],
          description: 'ResourceQuota of every preview namespace (docs/release.md, "Previews: the sandbox"); absent: the defaults of scripts/lib/generate/admission.ts',
          properties: {
            requests: { type: 'object', additionalProperties: false, required: ['cpu', 'memory'], properties: { cpu, memory } },
            limits: { type: 'object', additionalProperties: false, required: ['memory'], properties: { memory } },
            pods: { type: 'integer', minimum: 1, maximum: 100, description: 'Pods at most in one preview' },
            storage: { ...memory, description: 'Total storage requested by the claims of one preview, e.g. 4Gi' },
            persistentVolumeClaims: { type: 'integer', minimum: 0, maximum: 50, description: 'Claims at most in one preview' },
          },
        },
        limits: {
          type: 'object',
          additionalProperties: false,
          required: ['defaultRequest', 'default', 'max', 'maxStorage'],
          description: 'LimitRange of every preview namespace: defaults of a container that names no resources, ceilings per container and per claim',
          properties: {
            defaultRequest: { type: 'object', additionalProperties: false, required: ['cpu', 'memory'], properties: { cpu, memory } },
            default: { type: 'object', additionalProperties: false, required: ['memory'], properties: { memory } },
            max: { type: 'object', additionalProperties: false, required: ['memory'], properties: { memory }, description: 'Largest memory limit of one container (no CPU ceiling: a CPU max would make LimitRanger refuse every container without a CPU limit)' },
            maxStorage: { ...memory, description: 'Largest claim, e.g. 2Gi' },
          },
        },
      },
    },
  },
} as const;

// Compiled on first use, not at import: every CLI imports this module, and `--help` should not pay
// for schema compilation (about half a second of CPU).
// (Kept as code after the first compile: scripts/lib/core/compiled-schema.ts.)
const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true } as const;
let compiled: { env: ValidateFunction; settings: ValidateFunction } | undefined;
function schemaValidators(): NonNullable<typeof compiled> {
  compiled ??= { env: compiledSchema('env-yaml', envSpecSchema, AJV_OPTIONS), settings: compiledSchema('gitops-yaml', settingsSchema, AJV_OPTIONS) };
  return compiled;
}

function fixFor(e: ErrorObject): string {
  const field = e.instancePath.split('/').pop() ?? '';
  switch (e.keyword) {
    case 'required':
      return `add the field "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'additionalProperties':
      return `remove "${(e.params as { additionalProperty: string }).additionalProperty}" (known fields are in ${ENV_SCHEMA_FILE} / ${SETTINGS_SCHEMA_FILE})`;
    case 'not':
      return field === 'tag' ? 'pin a release tag or commit SHA (e.g. 1.4.2), never "latest"' : 'change the value';
    case 'minimum':
    case 'maximum':
      return `use a number ${e.keyword === 'minimum' ? '≥' : '≤'} ${(e.params as { limit: number }).limit}`;
    case 'enum':
      return `use one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `write ${/^[aeiou]/.test((e.params as { type: string }).type) ? 'an' : 'a'} ${(e.params as { type: string }).type}${(e.params as { type: string }).type === 'string' ? ' (quote it)' : ''}`;
    case 'pattern':
      return `match ${(e.params as { pattern: string }).pattern}`;
    default:
      return 'see the schema';
  }
}

function ajvProblems(file: string, errors: ErrorObject[] | null | undefined): Problem[] {
  return (errors ?? [])
    .filter((e) => e.keyword !== 'if')
    .map((e) => ({
      file,
      path: e.instancePath === '' ? '/' : e.instancePath,
      message: e.keyword === 'not' ? 'must not be "latest" (a moving tag: pods would run different code)' : (e.message ?? 'is invalid'),
      fix: fixFor(e),
    }));
}

/**
 * Why an environment name cannot be used, or []: it is a directory, a label value and part of
 * `<env>-users-api` (the Argo CD Application, whose name Argo CD also writes into a label: ≤ 63).
 */
/** `<env>-users-api` names the env's Argo CD Application and fills a 63-character label, so an env name has 53. */
export const ENV_NAME_MAX = DNS1123_LABEL_MAX - APP_NAME.length - 1;

export function envNameProblems(name: string, file?: string): Problem[] {
  // The name is also the default namespace, and Kubernetes reserves "kube-" (inputs/rules.ts reservedNamespaceProblem).
  if (name.startsWith('kube-')) return [{ ...(file ? { file } : {}), message: `environment name "${name}" starts with "kube-", which Kubernetes reserves for its system namespaces`, fix: 'choose a name without the "kube-" prefix, e.g. qa-7' }];
  const p = dns1123LabelProblem(name, ENV_NAME_MAX);
  if (!p) return [];
  const why = name.length > ENV_NAME_MAX ? ` (its Argo CD Application "${applicationName(name)}" must fit in ${DNS1123_LABEL_MAX})` : '';
  return [{ ...(file ? { file } : {}), message: `environment name "${name}" ${p}${why}`, fix: `use lower-case letters, digits and "-", at most ${ENV_NAME_MAX} characters, e.g. qa-7` }];
}

export const applicationName = (env: string): string => `${env}-${APP_NAME}`;

export interface LoadedYaml {
  data: unknown;
  problems: Problem[];
}

export function parseYamlFile(file: string, text: string): LoadedYaml {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return { data: undefined, problems: doc.errors.map((e) => ({ file, path: e.linePos ? `line ${e.linePos[0].line}` : undefined, message: e.message.split('\n')[0] ?? 'YAML syntax error', fix: 'fix the YAML syntax' })) };
  }
  try {
    // toJS() resolves aliases: an unknown anchor or an alias bomb throws here, not in parseDocument.
    return { data: doc.toJS({ maxAliasCount: 100 }), problems: [] };
  } catch (error) {
    return { data: undefined, problems: [{ file, message: `cannot be read: ${(error as Error).message}`, fix: 'write the values out instead of using YAML anchors and aliases (&name / *name)' }] };
  }
}

/** Validates the contents of overlays/<name>/env.yaml; returns the typed spec when there are no problems. */
export function validateEnvSpec(name: string, file: string, data: unknown): { spec?: EnvSpec; problems: Problem[] } {
  const problems = envNameProblems(name, file);
  const validateEnvSchema = schemaValidators().env;
  if (!validateEnvSchema(data)) problems.push(...ajvProblems(file, validateEnvSchema.errors));
  if (problems.length > 0) return { problems };
  const spec = { name, ...(data as Omit<EnvSpec, 'name'>) };
  const rules = envSpecRuleProblems(file, spec);
  if (rules.length > 0) return { problems: rules };
  return { spec, problems: [] };
}

export function validateSettings(file: string, data: unknown): { settings?: RepoSettings; problems: Problem[] } {
  const validateSettingsSchema = schemaValidators().settings;
  if (!validateSettingsSchema(data)) return { problems: ajvProblems(file, validateSettingsSchema.errors) };
  const rules = settingsRuleProblems(file, data as RepoSettings);
  if (rules.length > 0) return { problems: rules };
  return { settings: data as RepoSettings, problems: [] };
}

/**
 * Sets one field of an env.yaml text, keeping the user's comments and layout (yaml Document API).
 * `path` is a list of keys, e.g. ['tag'] or ['mongodb', 'members'].
 */
export function setEnvSpecField(yamlText: string, path: string[], value: unknown, after?: string): string {
  const doc = parseDocument(yamlText);
  if (doc.errors.length > 0) throw doc.errors[0];
  if (!isMap(doc.contents)) throw new Error('env.yaml must be a mapping');
  // A new top-level field goes right after `after` (e.g. digest after tag) rather than at the end.
  const at = after !== undefined && path.length === 1 && !doc.has(path[0]) ? doc.contents.items.findIndex((p) => isScalar(p.key) && p.key.value === after) : -1;
  if (at !== -1) doc.contents.items.splice(at + 1, 0, doc.createPair(path[0], value));
  else doc.setIn(path, value);
  return doc.toString({ lineWidth: 0 });
}

/** Removes one field of an env.yaml text (comments elsewhere kept); a no-op when it is absent. */
export function deleteEnvSpecField(yamlText: string, path: string[]): string {
  const doc = parseDocument(yamlText);
  if (doc.errors.length > 0) throw doc.errors[0];
  if (!doc.hasIn(path)) return yamlText;
  doc.deleteIn(path);
  return doc.toString({ lineWidth: 0 });
}

export const ENV_SCHEMA_COMMENT = `# yaml-language-server: $schema=../../${ENV_SCHEMA_FILE}`;
export const SETTINGS_SCHEMA_COMMENT = `# yaml-language-server: $schema=./${SETTINGS_SCHEMA_FILE}`;
