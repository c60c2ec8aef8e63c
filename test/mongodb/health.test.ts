import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MONGODB_HEALTH_CHECK_CM_KEY, MONGODB_HEALTH_CHECK_PATH, mongoHealthCheckEntry } from '../../scripts/lib/generate/mongodb/health.ts';
import { LUA51, runHealthCheck, runHealthCheckLua51 } from './lua-runner.ts';

const root = join(import.meta.dirname, '..', '..');
const script = readFileSync(join(root, MONGODB_HEALTH_CHECK_PATH), 'utf8');

function mdbc(spec: Record<string, unknown>, status?: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: 'mongodbcommunity.mongodb.com/v1',
    kind: 'MongoDBCommunity',
    metadata: { name: 'users-db', namespace: 'users-dev', generation: 2, ...metadata },
    spec: { type: 'ReplicaSet', version: '8.0.21', ...spec },
    ...(status ? { status } : {}),
  };
}

describe('the MongoDBCommunity health check', () => {
  const cases: [string, object, string, RegExp][] = [
    ['a freshly created resource without status', mdbc({ members: 3 }), 'Progressing', /Waiting for the operator/],
    ['an empty phase', mdbc({ members: 1 }, { phase: '' }), 'Progressing', /Waiting for the operator/],
    [
      'Pending, with the operator message',
      mdbc({ members: 3 }, { phase: 'Pending', message: 'ReplicaSet is not yet ready, retrying in 10 seconds', currentMongoDBMembers: 1 }),
      'Progressing',
      /not yet ready/,
    ],
    [
      'Failed, with the operator message',
      mdbc({ members: 3 }, { phase: 'Failed', message: 'error creating automation config: secret "users-db-users-api-password" not found' }),
      'Degraded',
      /secret "users-db-users-api-password" not found/,
    ],
    ['Failed without a message', mdbc({ members: 1 }, { phase: 'Failed' }), 'Degraded', /Failed/],
    [
      'Running with all members and the wanted version',
      mdbc({ members: 3 }, { phase: 'Running', currentMongoDBMembers: 3, currentStatefulSetReplicas: 3, version: '8.0.21', mongoUri: 'mongodb://users-db-0' }),
      'Healthy',
      /3 members/,
    ],
    [
      'Running but the spec asks for more members than it reports (spec not yet reconciled)',
      mdbc({ members: 5 }, { phase: 'Running', currentMongoDBMembers: 3, version: '8.0.21' }),
      'Progressing',
      /3 of 5 members/,
    ],
    [
      'Running on an older version than the spec asks for',
      mdbc({ members: 1 }, { phase: 'Running', currentMongoDBMembers: 1, version: '8.0.12' }),
      'Progressing',
      /Upgrading MongoDB from 8\.0\.12 to 8\.0\.21/,
    ],
    [
      'Running while arbiters are still being added',
      mdbc({ members: 3, arbiters: 1 }, { phase: 'Running', currentMongoDBMembers: 3, currentMongoDBArbiters: 0 }),
      'Progressing',
      /arbiters: 0 of 1/,
    ],
    [
      'being deleted',
      mdbc({ members: 1 }, { phase: 'Running', currentMongoDBMembers: 1 }, { deletionTimestamp: '2026-11-25T10:00:00Z' }),
      'Progressing',
      /deleted/,
    ],
    ['an unknown phase', mdbc({ members: 1 }, { phase: 'Reconciling' }), 'Progressing', /Unknown phase Reconciling/],
  ];

  it.each(cases)('reports %s as %s', (_name, obj, status, message) => {
    const result = runHealthCheck(script, obj);
    expect(result.status).toBe(status);
    expect(result.message).toMatch(message);
  });

  // Same cases in the real Lua 5.1 interpreter when the lua5.1 package is installed (CI installs it).
  it.skipIf(!LUA51).each(cases)('reports %s as %s under Lua 5.1 too', (_name, obj, status, message) => {
    const result = runHealthCheckLua51(script, obj);
    expect(result.status).toBe(status);
    expect(result.message).toMatch(message);
  });

  it('treats a missing spec.members as one member, as the operator does', () => {
    const result = runHealthCheck(script, mdbc({}, { phase: 'Running', currentMongoDBMembers: 1 }));
    expect(result.status).toBe('Healthy');
  });

  it('stays within Lua 5.1, the dialect of Argo CD\'s gopher-lua', () => {
    const code = script.replace(/--.*$/gm, '').replace(/"(?:[^"\\]|\\.)*"/g, '""');
    // 5.2+ only: goto/labels, integer division, bitwise operators, the utf8 library.
    expect(code).not.toMatch(/\bgoto\b|::\w+::|\/\/|[&|]|~(?!=)|<<|>>|\butf8\./);
  });

  it('is installed under the argocd-cm key Argo CD reads for group mongodbcommunity.mongodb.com, kind MongoDBCommunity', () => {
    expect(MONGODB_HEALTH_CHECK_CM_KEY).toBe('resource.customizations.health.mongodbcommunity.mongodb.com_MongoDBCommunity');
    expect(mongoHealthCheckEntry(script)).toEqual({ [MONGODB_HEALTH_CHECK_CM_KEY]: script });
  });
});
