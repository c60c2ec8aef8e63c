// Validators kept as code (scripts/lib/core/compiled-schema.ts): the kept code gives ajv's own verdicts
// and errors, a later process runs the kept code instead of compiling, and a damaged entry is compiled
// and written again, never run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledSchema } from '../../scripts/lib/core/compiled-schema.ts';
import { openEntry, sealEntry } from '../../scripts/lib/core/cache-entry.ts';
import { envSpecSchema } from '../../scripts/lib/inputs/schema.ts';

const dirs: string[] = [];
const freshDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'compiled-schema-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true } as const;
const MODULE = join(import.meta.dirname, '../../scripts/lib/core/compiled-schema.ts');
const INPUTS_SCHEMA = join(import.meta.dirname, '../../scripts/lib/inputs/schema.ts');
const SCHEMA = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', maxLength: 3, pattern: '^[a-z]+$' }, n: { type: 'integer', minimum: 1 } } };

/**
 * Runs compiledSchema in a new process (nothing remembered in memory) and returns its verdicts on
 * `documents`; `schema` 'env-yaml' is env.yaml's schema, else SCHEMA.
 */
function inNewProcess(dir: string, documents: unknown[], schema: 't' | 'env-yaml' = 't'): Array<{ valid: boolean; errors: unknown }> {
  const code = `import { compiledSchema } from ${JSON.stringify(MODULE)};
import { envSpecSchema } from ${JSON.stringify(INPUTS_SCHEMA)};
const schema = ${schema === 't' ? JSON.stringify(SCHEMA) : 'envSpecSchema'};
const v = compiledSchema(${JSON.stringify(schema)}, schema, ${JSON.stringify(OPTIONS)}, ${JSON.stringify(dir)});
console.log(JSON.stringify(${JSON.stringify(documents)}.map((d) => ({ valid: v(d), errors: v.errors ?? null }))));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Array<{ valid: boolean; errors: unknown }>;
}
const verdict = (dir: string, data: unknown) => inNewProcess(dir, [data])[0];

describe('validators kept as code (core/compiled-schema.ts)', () => {
  it('the kept code answers exactly as ajv compiling the schema does: verdicts and errors, env.yaml\'s schema included', () => {
    const dir = freshDir();
    const documents = [
      { name: 'dev' }, { name: 'Dev9' }, { name: 'toolong' }, {}, { name: 'ok', n: 0, extra: true }, [], 'text',
      { image: { tag: 'latest' } }, { replicas: 'two', image: { repository: 'ghcr.io/x/y', tag: '1.0.0' } },
    ];
    for (const [name, schema] of [['t', SCHEMA], ['env-yaml', envSpecSchema]] as const) {
      const reference = new Ajv(OPTIONS).compile(schema);
      const expected = documents.map((doc) => ({ valid: reference(doc), errors: reference.errors ?? null }));
      expect(expected.some((e) => !e.valid)).toBe(true);
      // The first process compiles and keeps the code; the second runs the kept code.
      expect(inNewProcess(dir, documents, name)).toEqual(expected);
      expect(readdirSync(dir).filter((f) => f.startsWith(`${name}-`))).toHaveLength(1);
      expect(inNewProcess(dir, documents, name)).toEqual(expected);
    }
    expect(readdirSync(dir).sort()).toEqual([expect.stringMatching(/^env-yaml-[0-9a-f]{32}\.js$/), expect.stringMatching(/^t-[0-9a-f]{32}\.js$/)]);
  });

  it('a later process runs the kept code, not a new compile: a kept validator that refuses everything is what it uses', () => {
    const dir = freshDir();
    expect(verdict(dir, { name: 'abc' })!.valid).toBe(true);
    const [file] = readdirSync(dir);
    const kept = openEntry(readFileSync(join(dir, file!)))!;
    expect(kept).toContain('module.exports');
    // The same entry, resealed with a validator that refuses everything: the next process obeys it.
    writeFileSync(join(dir, file!), sealEntry(`${kept}\nmodule.exports = function refuse() { refuse.errors = [{ keyword: 'kept' }]; return false; };`));
    expect(verdict(dir, { name: 'abc' })).toEqual({ valid: false, errors: [{ keyword: 'kept' }] });
  });

  it('a damaged entry is never run: compiled again and written again', () => {
    const dir = freshDir();
    verdict(dir, { name: 'abc' });
    const [file] = readdirSync(dir);
    const path = join(dir, file!);
    const good = readFileSync(path);
    writeFileSync(path, Buffer.concat([good.subarray(0, good.length - 40), Buffer.from('module.exports = () => false;//')]));
    expect(verdict(dir, { name: 'abc' })).toEqual({ valid: true, errors: null });
    expect(readFileSync(path)).toEqual(good);
  });

  it('another schema or other options are another entry, so a changed schema is never answered by old code', () => {
    const dir = freshDir();
    compiledSchema('t', SCHEMA, OPTIONS, dir);
    const wider = { ...SCHEMA, properties: { ...SCHEMA.properties, name: { type: 'string' } } };
    expect(compiledSchema('t', wider, OPTIONS, dir)({ name: 'toolong' })).toBe(true);
    compiledSchema('t', SCHEMA, { ...OPTIONS, allErrors: false }, dir);
    expect(readdirSync(dir)).toHaveLength(3);
  });
});
