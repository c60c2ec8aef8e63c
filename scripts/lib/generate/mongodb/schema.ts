// Our JSON Schema for exactly the MongoDBCommunity fields this repo uses, written from the operator's
// documented API (MCK, mongodbcommunity.mongodb.com/v1), not copied from its CRD. Everything else is an
// error: a field we do not set is a field nobody reviewed.
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compiledSchema } from '../../core/compiled-schema.ts';
import type { Problem } from '../../core/errors.ts';
import { SCHEMAS_DIR } from '../../core/layout.ts';
import { MONGODB_COMMUNITY_API_VERSION, MONGODB_COMMUNITY_KIND, MONGODB_POD } from './replicaset.ts';
import { MONGODB_VERSION_PATTERN } from '../../inputs/mongodb.ts';

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const CPU = '^([0-9]+m|[0-9]+(\\.[0-9]+)?)$';
const MEMORY = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$';

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

const objectMeta = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: DNS_LABEL, maxLength: 63 },
    namespace: { type: 'string', pattern: DNS_LABEL, maxLength: 63 },
    labels: stringMap,
    annotations: stringMap,
  },
} as const;

const resources = {
  type: 'object',
  additionalProperties: false,
  required: ['requests', 'limits'],
  properties: {
    requests: {
      type: 'object',
      additionalProperties: false,
      required: ['cpu', 'memory'],
      properties: { cpu: { type: 'string', pattern: CPU }, memory: { type: 'string', pattern: MEMORY } },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['memory'],
      properties: { cpu: { type: 'string', pattern: CPU }, memory: { type: 'string', pattern: MEMORY } },
    },
  },
} as const;

const labelSelector = {
  type: 'object',
  additionalProperties: false,
  required: ['matchLabels'],
  properties: { matchLabels: stringMap },
} as const;

const secretKeyRef = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: DNS_SUBDOMAIN, maxLength: 253 },
    key: { type: 'string', minLength: 1 },
  },
} as const;

const user = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'db', 'passwordSecretRef', 'roles', 'scramCredentialsSecretName'],
  properties: {
    name: { type: 'string', minLength: 1 },
    db: { type: 'string', minLength: 1, description: 'database that authenticates the user' },
    passwordSecretRef: secretKeyRef,
    roles: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'db'],
        properties: { name: { type: 'string', minLength: 1 }, db: { type: 'string', minLength: 1 } },
      },
    },
    scramCredentialsSecretName: { type: 'string', pattern: DNS_SUBDOMAIN },
    connectionStringSecretName: { type: 'string', pattern: DNS_SUBDOMAIN, maxLength: 253 },
  },
} as const;

const volumeClaimTemplate = {
  type: 'object',
  additionalProperties: false,
  required: ['metadata', 'spec'],
  properties: {
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { enum: [MONGODB_POD.dataVolume, MONGODB_POD.logsVolume] } },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['accessModes', 'resources'],
      properties: {
        accessModes: { type: 'array', minItems: 1, items: { enum: ['ReadWriteOnce', 'ReadWriteOncePod'] } },
        storageClassName: { type: 'string', pattern: DNS_SUBDOMAIN },
        resources: {
          type: 'object',
          additionalProperties: false,
          required: ['requests'],
          properties: {
            requests: {
              type: 'object',
              additionalProperties: false,
              required: ['storage'],
              properties: { storage: { type: 'string', pattern: MEMORY } },
            },
          },
        },
      },
    },
  },
} as const;

const podSpec = {
  type: 'object',
  additionalProperties: false,
  properties: {
    serviceAccountName: { type: 'string', pattern: DNS_SUBDOMAIN },
    containers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'resources'],
        // Only the operator's own containers can be overridden; another name would add a sidecar.
        properties: { name: { enum: [MONGODB_POD.mongodContainer, MONGODB_POD.agentContainer] }, resources },
      },
    },
    initContainers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'resources'],
        // The operator's two init containers (mongodbstatefulset.go); another name would add one.
        properties: { name: { enum: [MONGODB_POD.versionUpgradeHookInit, MONGODB_POD.readinessProbeInit] }, resources },
      },
    },
    affinity: {
      type: 'object',
      additionalProperties: false,
      properties: {
        podAntiAffinity: {
          type: 'object',
          additionalProperties: false,
          properties: {
            preferredDuringSchedulingIgnoredDuringExecution: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['weight', 'podAffinityTerm'],
                properties: {
                  weight: { type: 'integer', minimum: 1, maximum: 100 },
                  podAffinityTerm: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['labelSelector', 'topologyKey'],
                    properties: { labelSelector, topologyKey: { type: 'string', minLength: 1 } },
                  },
                },
              },
            },
          },
        },
      },
    },
    topologySpreadConstraints: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['maxSkew', 'topologyKey', 'whenUnsatisfiable', 'labelSelector'],
        properties: {
          maxSkew: { type: 'integer', minimum: 1 },
          topologyKey: { type: 'string', minLength: 1 },
          whenUnsatisfiable: { enum: ['DoNotSchedule', 'ScheduleAnyway'] },
          labelSelector,
        },
      },
    },
  },
} as const;

export { MONGODB_VERSION_PATTERN };

/** JSON Schema (draft-07) of the MongoDBCommunity objects this repository renders. */
export const mongoDBCommunitySchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://gitops-users.invalid/schemas/mongodbcommunity.schema.json',
  title: 'MongoDBCommunity (the fields this repository uses)',
  description:
    'Authored from the MongoDB Controllers for Kubernetes documentation of mongodbcommunity.mongodb.com/v1. ' +
    'Unknown fields are errors.',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: MONGODB_COMMUNITY_API_VERSION },
    kind: { const: MONGODB_COMMUNITY_KIND },
    metadata: objectMeta,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'members', 'version', 'security', 'users'],
      properties: {
        type: { const: 'ReplicaSet' },
        // Odd sizes only: an even replica set buys no extra fault tolerance, and 7 is MongoDB's voting limit.
        members: { enum: [1, 3, 5, 7] },
        version: {
          type: 'string',
          pattern: MONGODB_VERSION_PATTERN,
          description: 'MongoDB server version, pinned to a patch release (6.0 and older are end of life)',
        },
        security: {
          type: 'object',
          additionalProperties: false,
          required: ['authentication'],
          properties: {
            authentication: {
              type: 'object',
              additionalProperties: false,
              required: ['modes'],
              properties: {
                modes: {
                  type: 'array',
                  minItems: 1,
                  uniqueItems: true,
                  items: { enum: ['SCRAM', 'SCRAM-SHA-256', 'SCRAM-SHA-1'] },
                },
              },
            },
          },
        },
        users: { type: 'array', minItems: 1, items: user },
        additionalMongodConfig: {
          type: 'object',
          // mongod's configuration-file options in dotted form, e.g. storage.wiredTiger.engineConfig.cacheSizeGB.
          propertyNames: { pattern: '^[a-zA-Z][a-zA-Z0-9]*(\\.[a-zA-Z][a-zA-Z0-9]*)+$' },
          additionalProperties: { type: ['string', 'number', 'boolean'] },
        },
        statefulSet: {
          type: 'object',
          additionalProperties: false,
          required: ['spec'],
          properties: {
            spec: {
              type: 'object',
              additionalProperties: false,
              properties: {
                template: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    metadata: {
                      type: 'object',
                      additionalProperties: false,
                      properties: { labels: stringMap, annotations: stringMap },
                    },
                    spec: podSpec,
                  },
                },
                volumeClaimTemplates: { type: 'array', items: volumeClaimTemplate },
              },
            },
          },
        },
      },
    },
  },
} as const;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // Kept as code after the first compile (scripts/lib/core/compiled-schema.ts).
  compiled ??= compiledSchema('mongodbcommunity', mongoDBCommunitySchema, { allErrors: true, strict: true, allowUnionTypes: true });
  return compiled;
}

function problemOf(e: ErrorObject, file: string | undefined): Problem {
  const at = e.instancePath;
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String((e.params as { additionalProperty: string }).additionalProperty);
      return { file, path: `${at}/${field}`, message: `unknown field "${field}"`, fix: 'remove it, or add it to scripts/lib/generate/mongodb/schema.ts after checking the operator docs' };
    }
    case 'required': {
      const field = String((e.params as { missingProperty: string }).missingProperty);
      return { file, path: `${at}/${field}`, message: `missing required field "${field}"`, fix: `set ${field}` };
    }
    case 'enum':
    case 'const': {
      const allowed = e.keyword === 'enum'
        ? (e.params as { allowedValues: unknown[] }).allowedValues
        : [(e.params as { allowedValue: unknown }).allowedValue];
      return { file, path: at, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, fix: 'use one of the allowed values' };
    }
    default:
      return { file, path: at, message: e.message ?? `fails ${e.keyword}`, fix: 'correct the value' };
  }
}

/** Every schema violation of a MongoDBCommunity object, with JSON-pointer paths. */
export function validateMongoDBCommunity(obj: unknown, file?: string): Problem[] {
  const validate = validator();
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => problemOf(e, file));
}

export const MONGODB_COMMUNITY_SCHEMA_FILE = `${SCHEMAS_DIR}/mongodbcommunity.schema.json`;

/** The schema as the committed JSON file (for editors and `validate`), byte-stable. */
export function mongoDBCommunitySchemaFile(): { path: string; content: string } {
  return { path: MONGODB_COMMUNITY_SCHEMA_FILE, content: `${JSON.stringify(mongoDBCommunitySchema, null, 2)}\n` };
}
