import { describe, expect, it } from 'vitest';
import { mongoDBCommunity } from '../../scripts/lib/generate/mongodb/replicaset.ts';
import { mongoDBCommunitySchema, mongoDBCommunitySchemaFile, validateMongoDBCommunity } from '../../scripts/lib/generate/mongodb/schema.ts';

type Json = Record<string, unknown>;
const at = (obj: Json, path: string[]): Json => path.reduce((o, k) => (o as Record<string, Json>)[k] as Json, obj);
function edited(edit: (cr: Json) => void): Json {
  const cr = structuredClone(mongoDBCommunity()) as Json;
  edit(cr);
  return cr;
}

describe('our MongoDBCommunity schema', () => {
  it('accepts the resource the base renders', () => {
    expect(validateMongoDBCommunity(mongoDBCommunity())).toEqual([]);
  });

  it.each([
    ['an unknown top-level spec field', (cr: Json) => { at(cr, ['spec']).arbiters = 1; }, '/spec/arbiters', /unknown field "arbiters"/],
    ['an unknown user field', (cr: Json) => { (at(cr, ['spec', 'users']) as unknown as Json[])[0]!.password = 'x'; }, '/spec/users/0/password', /unknown field "password"/],
    ['a sidecar container', (cr: Json) => {
      (at(cr, ['spec', 'statefulSet', 'spec', 'template', 'spec', 'containers']) as unknown as Json[]).push({ name: 'debug', resources: { requests: { cpu: '1m', memory: '1Mi' }, limits: { memory: '1Mi' } } });
    }, '/spec/statefulSet/spec/template/spec/containers/2/name', /must be one of "mongod", "mongodb-agent"/],
    ['an init container the operator does not make', (cr: Json) => {
      (at(cr, ['spec', 'statefulSet', 'spec', 'template', 'spec', 'initContainers']) as unknown as Json[]).push({ name: 'fetch', resources: { requests: { cpu: '1m', memory: '1Mi' }, limits: { memory: '1Mi' } } });
    }, '/spec/statefulSet/spec/template/spec/initContainers/2/name', /must be one of "mongod-posthook", "mongodb-agent-readinessprobe"/],
    ['an init container without resources', (cr: Json) => {
      delete (at(cr, ['spec', 'statefulSet', 'spec', 'template', 'spec', 'initContainers']) as unknown as Json[])[0]!.resources;
    }, '/spec/statefulSet/spec/template/spec/initContainers/0/resources', /missing required field/],
    ['an even number of members', (cr: Json) => { at(cr, ['spec']).members = 2; }, '/spec/members', /must be one of 1, 3, 5, 7/],
    ['an end-of-life server version', (cr: Json) => { at(cr, ['spec']).version = '6.0.20'; }, '/spec/version', /pattern/],
    ['a floating version', (cr: Json) => { at(cr, ['spec']).version = '8.0'; }, '/spec/version', /pattern/],
    ['an unknown authentication mode', (cr: Json) => { at(cr, ['spec', 'security', 'authentication']).modes = ['PLAIN']; }, '/spec/security/authentication/modes/0', /must be one of/],
    ['a type other than ReplicaSet', (cr: Json) => { at(cr, ['spec']).type = 'Sharded'; }, '/spec/type', /must be one of "ReplicaSet"/],
    ['a memory limit that is not a quantity', (cr: Json) => {
      const c = (at(cr, ['spec', 'statefulSet', 'spec', 'template', 'spec', 'containers']) as unknown as Json[])[0]!;
      (c.resources as Json).limits = { memory: 'lots' };
    }, '/spec/statefulSet/spec/template/spec/containers/0/resources/limits/memory', /pattern/],
    ['a user without a password Secret', (cr: Json) => { delete (at(cr, ['spec', 'users']) as unknown as Json[])[0]!.passwordSecretRef; }, '/spec/users/0/passwordSecretRef', /missing required field/],
    ['a mongod option given as a nested object', (cr: Json) => { at(cr, ['spec', 'additionalMongodConfig']).net = { port: 1 }; }, '/spec/additionalMongodConfig/net', /.+/],
    ['a wrong kind', (cr: Json) => { cr.kind = 'MongoDB'; }, '/kind', /must be one of "MongoDBCommunity"/],
  ])('rejects %s, naming the JSON pointer', (_name, edit, path, message) => {
    const problems = validateMongoDBCommunity(edited(edit), 'overlays/dev/kustomization.yaml');
    expect(problems.map((p) => p.path)).toContain(path);
    const problem = problems.find((p) => p.path === path);
    expect(problem?.message).toMatch(message);
    expect(problem?.file).toBe('overlays/dev/kustomization.yaml');
    expect(problem?.fix).toBeTruthy();
  });

  it('reports every problem at once', () => {
    const problems = validateMongoDBCommunity(edited((cr) => {
      at(cr, ['spec']).members = 4;
      at(cr, ['spec']).shardCount = 2;
    }));
    expect(problems.map((p) => p.path).sort()).toEqual(['/spec/members', '/spec/shardCount']);
  });

  it('is written as stable JSON for the schemas/ directory', () => {
    const file = mongoDBCommunitySchemaFile();
    expect(file.path).toBe('schemas/mongodbcommunity.schema.json');
    expect(JSON.parse(file.content)).toEqual(mongoDBCommunitySchema);
    expect(file.content.endsWith('}\n')).toBe(true);
    expect(mongoDBCommunitySchemaFile().content).toBe(file.content);
  });
});
