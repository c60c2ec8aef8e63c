// The committed tree, not a fixture: every environment under overlays/ as Argo CD will render it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appUserRoleProblems, MONGODB_COMMUNITY_KIND } from '../../scripts/lib/generate/mongodb/replicaset.ts';
import { validateMongoDBCommunity } from '../../scripts/lib/generate/mongodb/schema.ts';
import { MONGODB } from '../../scripts/lib/inputs/spec.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import type { K8sObject } from './fixtures.ts';

const root = join(import.meta.dirname, '..', '..');
const overlays = join(root, 'overlays');
const envs = existsSync(overlays)
  ? readdirSync(overlays).filter((e) => existsSync(join(overlays, e, 'kustomization.yaml'))).sort()
  : [];

function render(dir: string): K8sObject[] {
  return parseYamlStream(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as K8sObject[];
}

describe('the committed environments', () => {
  it('exist', () => {
    expect(envs.length).toBeGreaterThan(0);
  });

  it.each(envs)('%s: one MongoDBCommunity that passes our schema, its user with readWrite on the app database only', (env) => {
    const objects = render(join(overlays, env));
    const crs = objects.filter((o) => o.kind === MONGODB_COMMUNITY_KIND);
    expect(crs).toHaveLength(1);
    expect(validateMongoDBCommunity(crs[0], `overlays/${env}`)).toEqual([]);
    expect(appUserRoleProblems(crs[0], `overlays/${env}`)).toEqual([]);
    // The operator owns the connection-string Secret: rendering one from git breaks its reconciliation.
    expect(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).not.toContain(MONGODB.connectionSecret);
    expect(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).not.toContain(MONGODB.passwordSecret);
  });

  it('the replica-set base renders on its own', () => {
    const base = join(root, 'platform', 'mongodb', 'replicaset');
    expect(render(base).map((o) => o.kind)).toContain(MONGODB_COMMUNITY_KIND);
  });

  it('the committed schema file is the one the code defines', async () => {
    const { mongoDBCommunitySchemaFile } = await import('../../scripts/lib/generate/mongodb/schema.ts');
    const file = mongoDBCommunitySchemaFile();
    const path = join(root, file.path);
    expect(existsSync(path), `${file.path} is missing: run zx scripts/generate.ts`).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(file.content);
  });
});
