// JSON Schema validators (ajv), compiled once per toolkit and kept as code. Compiling the env.yaml and
// gitops.yaml schemas cost about a third of a second of CPU on every `generate`, `new-env` or `promote`
// (a CPU profile of `generate --check`: 339 of 1 085 ms); ajv's standalone mode turns a compiled validator
// into the source of a CommonJS module that needs only ajv's small runtime helpers (ajv-validator/ajv@v8.20.0:
// lib/standalone/index.ts, docs/standalone.md: "the same validation code ... without Ajv"), so later runs
// evaluate that source instead of compiling, and do not load ajv's compiler at all.
//
// The source is kept in the toolkit's own `.cache/ajv/` (the scripts' checkout, not the repository being
// worked on: the schemas belong to the toolkit), as a sealed entry (./cache-entry.ts) named by the SHA-256
// of ajv's version, the options and the schema: a changed schema or ajv is another name, a damaged entry
// reads as absent and is compiled and written again. A toolkit that cannot write there compiles in memory.
// The entries are code the toolkit runs: `.cache/` beside `scripts/` is exactly as trusted as `scripts/`
// itself (whoever can write one can write the other); the seal catches damage, not a hostile writer.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Options, ValidateFunction } from 'ajv';
import { readEntry, writeEntry } from './cache-entry.ts';

const TOOLKIT = resolve(import.meta.dirname, '../../..');
/** Where the validators' code is kept. */
export const SCHEMA_CACHE_DIR = join(TOOLKIT, '.cache/ajv');
/** The layout of an entry: bump when the wrapping below changes. */
const FORMAT = 'ajv-standalone-cjs v1';

const require = createRequire(join(TOOLKIT, 'package.json'));

const memo = new Map<string, ValidateFunction>();

function entryName(name: string, schema: object, options: Options): string {
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  const digest = createHash('sha256').update(JSON.stringify([FORMAT, ajvVersion, options, schema])).digest('hex');
  return `${name}-${digest.slice(0, 32)}.js`;
}

/** Evaluates standalone CommonJS source; its `require` resolves from the toolkit (ajv's runtime helpers). */
function load(source: string): ValidateFunction {
  const module = { exports: {} as { default?: ValidateFunction } };
  new Function('module', 'exports', 'require', source)(module, module.exports, require);
  const validate = module.exports.default ?? (module.exports as unknown as ValidateFunction);
  if (typeof validate !== 'function') throw new Error('not a validator');
  return validate;
}

/**
 * The validator of `schema` under `options` (ajv 8), from the toolkit's cache when it holds it, else
 * compiled (and its code kept for the next run). `name` only names the file.
 */
export function compiledSchema<T = unknown>(name: string, schema: object, options: Options, cacheDir: string = SCHEMA_CACHE_DIR): ValidateFunction<T> {
  const file = join(cacheDir, entryName(name, schema, options));
  const known = memo.get(file);
  if (known) return known as ValidateFunction<T>;
  const source = readEntry(file);
  if (source !== undefined) {
    try {
      const validate = load(source);
      memo.set(file, validate);
      return validate as ValidateFunction<T>;
    } catch {
      // an entry that does not evaluate to a validator: compiled again below, and replaced
    }
  }
  const { Ajv } = require('ajv') as typeof import('ajv');
  const standalone = (require('ajv/dist/standalone') as { default: (ajv: unknown, validate: unknown) => string }).default;
  const ajv = new Ajv({ ...options, code: { ...options.code, source: true, esm: false } });
  const validate = ajv.compile<T>(schema);
  try {
    writeEntry(file, standalone(ajv, validate));
  } catch {
    // a read-only toolkit: compiled again next time
  }
  memo.set(file, validate as ValidateFunction);
  return validate;
}
