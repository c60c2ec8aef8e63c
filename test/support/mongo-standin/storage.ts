// In-memory databases, collections and unique indexes for the stand-in.
// Every method is synchronous: one command runs to completion on the event loop before the next starts,
// which is what makes two concurrent inserts of the same unique key yield exactly one E11000.
import { EJSON, ObjectId, deserialize, serialize } from 'bson';
import type { Document } from 'bson';
import { Query } from 'mingo';

export const DUPLICATE_KEY = 11000;

/** A failed command: becomes { ok: 0, code, codeName, errmsg, ...extra } on the wire. */
export class CommandError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly extra: Document;
  constructor(code: number, codeName: string, message: string, extra: Document = {}) {
    super(message);
    this.code = code;
    this.codeName = codeName;
    this.extra = extra;
  }
}

export class DuplicateKeyError extends CommandError {
  constructor(ns: string, index: IndexSpec, keyValue: Document) {
    const shown = Object.entries(keyValue).map(([field, value]) => `${field}: ${showValue(value)}`).join(', ');
    super(
      DUPLICATE_KEY,
      'DuplicateKey',
      `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: { ${shown} }`,
      { keyPattern: { ...index.key }, keyValue },
    );
  }
}

function showValue(value: unknown): string {
  if (value instanceof ObjectId) return `ObjectId('${value.toHexString()}')`;
  return EJSON.stringify(value, { relaxed: true });
}

export interface IndexSpec {
  name: string;
  key: Document;
  unique: boolean;
  sparse: boolean;
  partialFilterExpression?: Document;
}

export function valueAtPath(doc: Document, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Document)[part];
  }
  return current;
}

/** Deep copy that keeps BSON types (ObjectId, Date, Binary…), unlike structuredClone. */
export function cloneDocument(doc: Document): Document {
  return deserialize(serialize(doc), { promoteValues: true, promoteLongs: true, promoteBuffers: false });
}

class UniqueIndex {
  readonly spec: IndexSpec;
  readonly #fields: string[];
  readonly #filter: Query | undefined;
  /** key string → document holding it */
  readonly entries = new Map<string, Document>();

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.#fields = Object.keys(spec.key);
    this.#filter = spec.partialFilterExpression ? new Query(spec.partialFilterExpression, {}) : undefined;
  }

  /** The index key of a document, or undefined when the index does not cover it (sparse / partial). */
  keyOf(doc: Document): { text: string; value: Document } | undefined {
    if (this.#filter && !this.#filter.test(doc)) return undefined;
    const value: Document = {};
    let present = false;
    for (const field of this.#fields) {
      const fieldValue = valueAtPath(doc, field);
      if (fieldValue !== undefined) present = true;
      // A missing field is indexed as null, as the server does for non-sparse indexes.
      value[field] = fieldValue === undefined ? null : fieldValue;
    }
    if (this.spec.sparse && !present) return undefined;
    return { text: EJSON.stringify(Object.values(value), { relaxed: false }), value };
  }
}

export class Collection {
  readonly db: string;
  readonly name: string;
  readonly #idIndex: UniqueIndex;
  readonly #unique: UniqueIndex[] = [];
  /** All index specs in creation order, unique or not (non-unique ones are only listed, never used). */
  readonly indexes: IndexSpec[] = [];

  constructor(db: string, name: string) {
    this.db = db;
    this.name = name;
    const idSpec: IndexSpec = { name: '_id_', key: { _id: 1 }, unique: true, sparse: false };
    this.#idIndex = new UniqueIndex(idSpec);
    this.#unique.push(this.#idIndex);
    this.indexes.push(idSpec);
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  /** Documents in insertion order (the _id index map keeps it). Callers must not mutate them. */
  get documents(): Document[] {
    return [...this.#idIndex.entries.values()];
  }

  /** Exact _id lookup through the _id index (GET /users/:id must not scan every document). */
  findById(id: unknown): Document | undefined {
    const key = this.#idIndex.keyOf({ _id: id });
    return key === undefined ? undefined : this.#idIndex.entries.get(key.text);
  }

  get count(): number {
    return this.#idIndex.entries.size;
  }

  insert(doc: Document): void {
    const keys = this.#checkUnique(doc, undefined);
    keys.forEach((key, i) => key && this.#unique[i]!.entries.set(key, doc));
  }

  /** Swaps a stored document for its updated copy; the old object stays untouched for open cursors. */
  replace(oldDoc: Document, newDoc: Document): void {
    const keys = this.#checkUnique(newDoc, oldDoc);
    this.#unique.forEach((index, i) => {
      const oldKey = index.keyOf(oldDoc)?.text;
      const newKey = keys[i];
      if (oldKey !== undefined && oldKey !== newKey) index.entries.delete(oldKey);
      if (newKey !== undefined) index.entries.set(newKey, newDoc);
    });
  }

  remove(doc: Document): void {
    for (const index of this.#unique) {
      const key = index.keyOf(doc)?.text;
      if (key !== undefined && index.entries.get(key) === doc) index.entries.delete(key);
    }
  }

  /** Adds an index; a unique one is refused (E11000) when existing documents already collide. */
  addIndex(spec: IndexSpec): 'created' | 'exists' {
    const sameName = this.indexes.find((index) => index.name === spec.name);
    const sameKey = this.indexes.find((index) => EJSON.stringify(index.key) === EJSON.stringify(spec.key));
    if (sameName && EJSON.stringify(sameName.key) !== EJSON.stringify(spec.key)) {
      throw new CommandError(86, 'IndexKeySpecsConflict', `An existing index has the same name (${spec.name}) with a different key`);
    }
    if (sameKey) {
      if (sameKey.name === spec.name && sameKey.unique === spec.unique && sameKey.sparse === spec.sparse) return 'exists';
      throw new CommandError(85, 'IndexOptionsConflict', `An index with the same key pattern already exists: ${sameKey.name}`);
    }
    if (spec.unique) {
      const index = new UniqueIndex(spec);
      for (const doc of this.#idIndex.entries.values()) {
        const key = index.keyOf(doc);
        if (!key) continue;
        if (index.entries.has(key.text)) throw new DuplicateKeyError(this.ns, spec, key.value);
        index.entries.set(key.text, doc);
      }
      this.#unique.push(index);
    }
    this.indexes.push(spec);
    return 'created';
  }

  dropIndex(name: string): void {
    if (name === '_id_') throw new CommandError(72, 'InvalidOptions', 'cannot drop _id index');
    const at = this.indexes.findIndex((index) => index.name === name);
    if (at < 0) throw new CommandError(27, 'IndexNotFound', `index not found with name [${name}]`);
    this.indexes.splice(at, 1);
    const uniqueAt = this.#unique.findIndex((index) => index.spec.name === name);
    if (uniqueAt >= 0) this.#unique.splice(uniqueAt, 1);
  }

  /** Returns each unique index's key text for doc, or throws E11000 naming the first colliding index. */
  #checkUnique(doc: Document, replacing: Document | undefined): Array<string | undefined> {
    return this.#unique.map((index) => {
      const key = index.keyOf(doc);
      if (!key) return undefined;
      const holder = index.entries.get(key.text);
      if (holder !== undefined && holder !== replacing) throw new DuplicateKeyError(this.ns, index.spec, key.value);
      return key.text;
    });
  }
}

export class Storage {
  readonly #databases = new Map<string, Map<string, Collection>>();

  collection(db: string, name: string): Collection | undefined {
    return this.#databases.get(db)?.get(name);
  }

  /** Like the server, writing to a collection creates it (and its database) implicitly. */
  ensureCollection(db: string, name: string): Collection {
    let collections = this.#databases.get(db);
    if (!collections) this.#databases.set(db, (collections = new Map()));
    let collection = collections.get(name);
    if (!collection) collections.set(name, (collection = new Collection(db, name)));
    return collection;
  }

  collections(db: string): Collection[] {
    return [...(this.#databases.get(db)?.values() ?? [])];
  }

  databaseNames(): string[] {
    return [...this.#databases.keys()].sort();
  }

  dropCollection(db: string, name: string): boolean {
    return this.#databases.get(db)?.delete(name) ?? false;
  }

  dropDatabase(db: string): void {
    this.#databases.delete(db);
  }
}
