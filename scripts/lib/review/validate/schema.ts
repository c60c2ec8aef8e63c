// Schema validation of rendered objects, without a cluster.
// Built-in kinds: the OpenAPI schema of the Kubernetes version bundled by kubernetes-models@5.1.0.
// Argo CD kinds: @kubernetes-models/argo-cd@4.0.0. Our custom resources (MongoDBCommunity): the
// validators in CUSTOM_RESOURCE_VALIDATORS, keyed by "apiVersion/kind".
//
// kubernetes-models' compiled validators accept unknown properties (the upstream OpenAPI has no
// additionalProperties: false). A strictness pass finds them: the object is validated through a
// Proxy that records which keys the validator looks up in each nested object. The validator looks
// up every property its schema declares, so an own key it never looked up is unknown to the schema.
// Objects the validator enumerates (maps such as labels) or never looks into (free-form fields such
// as Helm values) are left alone.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Problem } from '../../core/errors.ts';

export const KUBERNETES_MODELS_VERSION = 'kubernetes-models@5.1.0';
export const ARGO_CD_MODELS_VERSION = '@kubernetes-models/argo-cd@4.0.0';

/** Problems with `path` a JSON pointer into the object; `file` is filled in by the caller. */
export type ObjectValidator = (object: Record<string, unknown>) => Problem[];

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}

type ModelClass = { prototype: { validate(this: unknown): void } };

interface Access {
  value: object;
  probed: Set<string>;
  enumerated: boolean;
}

function recording(value: unknown, path: string, log: Map<string, Access>): unknown {
  if (!value || typeof value !== 'object') return value;
  const access: Access = { value, probed: new Set(), enumerated: false };
  log.set(path, access);
  return new Proxy(value, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return v;
      access.probed.add(key);
      return Object.hasOwn(target, key) ? recording(v, `${path}/${escapePointer(key)}`, log) : v;
    },
    has(target, key) {
      if (typeof key === 'string') access.probed.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      access.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function describe(e: AjvError): string {
  const p = e.params ?? {};
  switch (e.keyword) {
    case 'type':
      return `must be ${String(p.type)}`;
    case 'required':
      return `required field ${String(p.missingProperty)} is missing`;
    case 'enum':
      return `must be one of ${JSON.stringify(p.allowedValues)}`;
    case 'format':
      return `must match format ${String(p.format)}`;
    default:
      return e.message ?? `fails schema rule ${e.keyword}`;
  }
}

/** Runs a kubernetes-models model's validator on a plain object, strictly. */
export function validateWithModel(model: ModelClass, object: Record<string, unknown>, schemaName: string, tolerated: ReadonlySet<string> = new Set()): Problem[] {
  const log = new Map<string, Access>();
  const problems: Problem[] = [];
  try {
    model.prototype.validate.call(recording(object, '', log));
  } catch (error) {
    const errors = (error as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw error;
    for (const e of errors) {
      const path = e.keyword === 'required' ? `${e.instancePath}/${String(e.params?.missingProperty)}` : e.instancePath;
      problems.push({ path, message: `${describe(e)} (${schemaName})`, fix: 'correct the field to match the Kubernetes API schema' });
    }
  }
  for (const [path, access] of log) {
    if (Array.isArray(access.value) || access.enumerated || access.probed.size === 0) continue;
    for (const key of Object.keys(access.value)) {
      if (access.probed.has(key) || tolerated.has(key)) continue;
      problems.push({
        path: `${path}/${escapePointer(key)}`,
        message: `unknown field "${key}" (${schemaName})`,
        fix: 'remove the field or fix its spelling or indentation: the API server would drop or reject it',
      });
    }
  }
  return dedupe(problems);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\0${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Properties the Argo CD models declare in their types but drop from their compiled schemas (the
 * generator strips "description" keys from the CRD as documentation, taking real properties named
 * "description" — AppProject spec.description, role descriptions — with them). Never reported as unknown.
 */
const ARGO_CD_UNCHECKED_PROPERTIES: ReadonlySet<string> = new Set(['description']);

function modelModulePath(apiVersion: string, kind: string): string | undefined {
  if (!/^[A-Za-z0-9]+$/.test(kind)) return undefined;
  if (apiVersion === 'argoproj.io/v1alpha1') return `@kubernetes-models/argo-cd/argoproj.io/v1alpha1/${kind}`;
  const m = /^(?:([a-z0-9.-]+)\/)?(v[0-9a-z]+)$/.exec(apiVersion);
  if (!m) return undefined;
  return `kubernetes-models/${m[1] ? `${m[1]}/` : ''}${m[2]}/${kind}`;
}

/**
 * Custom resources we own, keyed "apiVersion/kind". The MongoDB replica set's validator is the
 * MongoDB module's own `validateMongoDBCommunity` (one schema, authored once, for the fields we use).
 */
export async function customResourceValidators(): Promise<Map<string, ObjectValidator>> {
  const table = new Map<string, ObjectValidator>();
  const mongodbSchema = new URL('../../generate/mongodb/schema.ts', import.meta.url);
  if (existsSync(fileURLToPath(mongodbSchema))) {
    const mod = (await import(mongodbSchema.href)) as { validateMongoDBCommunity?: ObjectValidator };
    if (typeof mod.validateMongoDBCommunity === 'function') {
      table.set('mongodbcommunity.mongodb.com/v1/MongoDBCommunity', mod.validateMongoDBCommunity);
    }
  }
  // ServiceMonitor and PrometheusRule (docs/monitoring.md): the fields the generator writes.
  const { monitoringValidators } = await import('./monitoring-schema.ts');
  for (const [key, validator] of monitoringValidators()) table.set(key, validator);
  return table;
}

export interface SchemaRegistry {
  /** The validator for an apiVersion/kind, or undefined when no schema is known (itself a finding). */
  validatorFor(apiVersion: string, kind: string): Promise<ObjectValidator | undefined>;
}

export async function createSchemaRegistry(extra: Map<string, ObjectValidator> = new Map()): Promise<SchemaRegistry> {
  const custom = new Map([...(await customResourceValidators()), ...extra]);
  const cache = new Map<string, ObjectValidator | undefined>();
  return {
    async validatorFor(apiVersion, kind) {
      const key = `${apiVersion}/${kind}`;
      if (cache.has(key)) return cache.get(key);
      let validator = custom.get(key);
      const modulePath = validator ? undefined : modelModulePath(apiVersion, kind);
      if (modulePath) {
        try {
          const mod = (await import(modulePath)) as Record<string, unknown>;
          const model = mod[kind] as (ModelClass & { apiVersion?: string; kind?: string }) | undefined;
          if (model && model.apiVersion === apiVersion && model.kind === kind) {
            const argo = modulePath.startsWith('@');
            const schemaName = argo ? ARGO_CD_MODELS_VERSION : KUBERNETES_MODELS_VERSION;
            const tolerated = argo ? ARGO_CD_UNCHECKED_PROPERTIES : new Set<string>();
            validator = (object) => validateWithModel(model, object, `${apiVersion} ${kind}, ${schemaName}`, tolerated);
          }
        } catch {
          validator = undefined; // no such kind in the pinned schema
        }
      }
      cache.set(key, validator);
      return validator;
    },
  };
}
