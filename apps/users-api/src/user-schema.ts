// The single source of the user document's shape: the ajv validators and /openapi.json are both built
// from these objects, so the documented contract is the enforced one.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ProblemFieldError } from './problem.ts';

export const USER_FIELD_LIMITS = {
  name: { minLength: 1, maxLength: 200 },
  username: { minLength: 1, maxLength: 64 },
  email: { minLength: 3, maxLength: 254 },
} as const;

const userProperties = {
  name: { type: 'string', ...USER_FIELD_LIMITS.name, description: 'Display name' },
  username: { type: 'string', ...USER_FIELD_LIMITS.username, description: 'Unique login name' },
  email: { type: 'string', format: 'email', ...USER_FIELD_LIMITS.email, description: 'Unique e-mail address' },
} as const;

/**
 * POST /users body. additionalProperties: false is also the injection guard: keys such as `$where`,
 * `a.b` or `__proto__` are rejected before anything reaches MongoDB, and every value must be a string.
 */
export const userCreateSchema = {
  type: 'object',
  properties: userProperties,
  required: ['name', 'username', 'email'],
  additionalProperties: false,
} as const;

/** PATCH /users/:id body: the same fields, each optional, at least one. */
export const userPatchSchema = {
  type: 'object',
  properties: userProperties,
  minProperties: 1,
  additionalProperties: false,
} as const;

/** A stored user as the API returns it. */
export const userSchema = {
  type: 'object',
  properties: {
    _id: { type: 'string', pattern: '^[0-9a-f]{24}$', description: 'MongoDB ObjectId as 24 lower-case hex digits' },
    ...userProperties,
  },
  required: ['_id', 'name', 'username', 'email'],
  additionalProperties: false,
} as const;

export const OBJECT_ID_PATTERN = /^[0-9a-fA-F]{24}$/;

export interface UserInput {
  name: string;
  username: string;
  email: string;
}
export type UserPatch = Partial<UserInput>;
export interface User extends UserInput {
  _id: string;
}

export interface UserValidators {
  create: ValidateFunction<UserInput>;
  patch: ValidateFunction<UserPatch>;
}

// ajv-formats is CommonJS; under Node's ESM loader its default export is the plugin function itself.
const addFormats = addFormatsModule as unknown as (ajv: Ajv, formats: string[]) => Ajv;

export function createUserValidators(): UserValidators {
  const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: false, useDefaults: false, removeAdditional: false });
  addFormats(ajv, ['email']);
  return {
    create: ajv.compile<UserInput>(userCreateSchema),
    patch: ajv.compile<UserPatch>(userPatchSchema),
  };
}

/** ajv errors as RFC 9457 extension members: where (JSON Pointer) and what, never the offending value. */
export function fieldErrors(errors: ErrorObject[] | null | undefined): ProblemFieldError[] {
  const out: ProblemFieldError[] = [];
  for (const error of errors ?? []) {
    if (error.keyword === 'additionalProperty' || error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty?: unknown }).additionalProperty);
      out.push({ pointer: `${error.instancePath}/${escapePointer(key)}`, detail: 'is not an accepted field' });
    } else if (error.keyword === 'required') {
      const key = String((error.params as { missingProperty?: unknown }).missingProperty);
      out.push({ pointer: `${error.instancePath}/${escapePointer(key)}`, detail: 'is required' });
    } else {
      out.push({ pointer: error.instancePath, detail: error.message ?? 'is invalid' });
    }
  }
  return out;
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
