// /openapi.json, assembled from the very schema objects the validators compile (user-schema.ts).
import { PATHS } from './contract.ts';
import { PROBLEM_MEDIA_TYPE, PROBLEM_TYPES } from './problem.ts';
import { userCreateSchema, userPatchSchema, userSchema } from './user-schema.ts';

export interface OpenApiOptions {
  pageLimitDefault: number;
  pageLimitMax: number;
  bodyLimitBytes: number;
}

const problemSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', format: 'uri-reference' },
    title: { type: 'string' },
    status: { type: 'integer', enum: [...new Set(Object.values(PROBLEM_TYPES).map((p) => p.status))].sort() },
    detail: { type: 'string' },
    instance: { type: 'string', format: 'uri-reference' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { pointer: { type: 'string' }, detail: { type: 'string' } },
        required: ['pointer', 'detail'],
      },
    },
  },
  required: ['type', 'title', 'status', 'detail', 'instance'],
} as const;

function problem(description: string) {
  return { description, content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } };
}

const jsonBody = (ref: string) => ({
  required: true,
  content: {
    'application/json': { schema: { $ref: ref } },
    // The original API's documented `curl -d` sends this media type with a JSON document as the body.
    'application/x-www-form-urlencoded': { schema: { $ref: ref } },
  },
});

export function buildOpenApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const user = { $ref: '#/components/schemas/User' };
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-fA-F]{24}$' } };
  const common = {
    '400': problem('Malformed id, parameter or body; a field with forbidden characters is named in errors[].pointer'),
    '503': problem('MongoDB is unavailable, or its unique indexes are being ensured (writes)'),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'users API',
      version: '1.0.0',
      description: `Users stored in MongoDB. Request bodies are JSON (at most ${options.bodyLimitBytes} bytes); errors are RFC 9457 problem details.`,
    },
    paths: {
      [PATHS.users]: {
        get: {
          operationId: 'listUsers',
          summary: 'List users sorted by _id; follow the Link rel="next" header for the next page',
          parameters: [
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: options.pageLimitMax, default: options.pageLimitDefault },
            },
            { name: 'after', in: 'query', description: 'Cursor: return users whose _id is greater', schema: { type: 'string', pattern: '^[0-9a-fA-F]{24}$' } },
          ],
          responses: {
            '200': {
              description: 'A page of users ([] when there are none)',
              headers: { Link: { description: 'RFC 8288 link to the next page (rel="next"); absent on the last page', schema: { type: 'string' } } },
              content: { 'application/json': { schema: { type: 'array', items: user } } },
            },
            ...common,
          },
        },
        post: {
          operationId: 'createUser',
          requestBody: jsonBody('#/components/schemas/UserCreate'),
          responses: {
            '201': {
              description: 'Created',
              headers: { Location: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: user } },
            },
            ...common,
            '408': problem('The body did not arrive in time (connection closed)'),
            '409': problem('The same username or email by the identity rules (Unicode-normalized, case-insensitive) already exists'),
            '413': problem('Body too large (reading stops at the limit; connection closed)'),
            '415': problem('Body is not JSON'),
          },
        },
      },
      [`${PATHS.users}/{id}`]: {
        parameters: [idParam],
        get: {
          operationId: 'getUser',
          responses: { '200': { description: 'The user', content: { 'application/json': { schema: user } } }, ...common, '404': problem('No such user') },
        },
        patch: {
          operationId: 'updateUser',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/UserPatch' } },
              'application/merge-patch+json': { schema: { $ref: '#/components/schemas/UserPatch' } },
            },
          },
          responses: {
            '200': { description: 'The updated user', content: { 'application/json': { schema: user } } },
            ...common,
            '404': problem('No such user'),
            '408': problem('The body did not arrive in time (connection closed)'),
            '409': problem('The same username or email by the identity rules (Unicode-normalized, case-insensitive) already exists'),
            '413': problem('Body too large (reading stops at the limit; connection closed)'),
            '415': problem('Body is not JSON'),
          },
        },
        delete: {
          operationId: 'deleteUser',
          responses: { '204': { description: 'Deleted' }, ...common, '404': problem('No such user') },
        },
      },
      [PATHS.liveness]: { get: { operationId: 'liveness', responses: { '200': { description: 'The process is alive' } } } },
      [PATHS.readiness]: {
        get: {
          operationId: 'readiness',
          responses: { '200': { description: 'Ready for traffic' }, '503': { description: 'MongoDB unreachable, not yet initialised, unique indexes missing or being ensured, or shutting down' } },
        },
      },
      [PATHS.metrics]: { get: { operationId: 'metrics', responses: { '200': { description: 'Prometheus text exposition' } } } },
    },
    components: {
      schemas: {
        User: userSchema,
        UserCreate: userCreateSchema,
        UserPatch: userPatchSchema,
        Problem: problemSchema,
      },
    },
  };
}
