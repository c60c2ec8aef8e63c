// Mapping a rendered object back to the repository files that produce it: the resource file that
// defines it (base), the patch files that touch it, or the kustomization whose generator makes it.
// Findings and CI annotations point there, because that is the file a reviewer edits.
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { InputSet } from './inputs.ts';
import type { ResourceId } from './normalize.ts';

export interface ObjectSource {
  /** The file that defines the object (a base resource file, or the kustomization that generates it). */
  definedIn: string;
  /** Patch files whose documents or targets name the object, with their text (to blame a field). */
  patches: Array<{ file: string; text: string }>;
}

interface Entry {
  kind: string;
  name: string;
  file: string;
}

export interface SourceIndex {
  resources: Entry[];
  patches: Array<Entry & { text: string }>;
  fallback: string;
}

/**
 * Parsed source files by content: the environments of a repository share their bases, so each distinct
 * file is parsed once per run (the results are only read).
 */
const docsByText = new Map<string, Array<Record<string, unknown>>>();
const DOCS_MEMO_LIMIT = 5_000;

function docsOf(text: string): Array<Record<string, unknown>> {
  let docs = docsByText.get(text);
  if (!docs) {
    docs = parseDocs(text);
    if (docsByText.size >= DOCS_MEMO_LIMIT) docsByText.clear();
    docsByText.set(text, docs);
  }
  return docs;
}

const kustomizationByText = new Map<string, Record<string, unknown>>();

/** A kustomization file parsed once per distinct content (throws on a syntax error, each time). */
function kustomizationOf(text: string): Record<string, unknown> {
  let k = kustomizationByText.get(text);
  if (!k) {
    k = parse(text) as Record<string, unknown>;
    if (kustomizationByText.size >= DOCS_MEMO_LIMIT) kustomizationByText.clear();
    kustomizationByText.set(text, k);
  }
  return k;
}

function parseDocs(text: string): Array<Record<string, unknown>> {
  try {
    return parseAllDocuments(text)
      .map((d) => d.toJS() as unknown)
      .filter((d): d is Record<string, unknown> => !!d && typeof d === 'object' && !Array.isArray(d));
  } catch {
    return [];
  }
}

function nameOf(doc: Record<string, unknown>): string | undefined {
  const meta = doc.metadata as Record<string, unknown> | undefined;
  return typeof meta?.name === 'string' ? meta.name : undefined;
}

export function buildSourceIndex(root: string, inputs: InputSet, overlayKustomization: string): SourceIndex {
  const index: SourceIndex = { resources: [], patches: [], fallback: overlayKustomization };
  for (const file of inputs.files) {
    const role = inputs.roles[file];
    if (!/\.ya?ml$|Kustomization$/.test(file) || role === 'generator' || role === 'other') continue;
    let text: string;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      continue;
    }
    if (role === 'kustomization') {
      let k: Record<string, unknown> | undefined;
      try {
        k = kustomizationOf(text);
      } catch {
        continue;
      }
      for (const [key, kind] of [['configMapGenerator', 'ConfigMap'], ['secretGenerator', 'Secret']] as const) {
        const gens = Array.isArray(k?.[key]) ? (k[key] as Array<Record<string, unknown>>) : [];
        for (const g of gens) {
          if (typeof g?.name !== 'string') continue;
          const envs = [g.envs, g.env, g.files].flat().filter((f): f is string => typeof f === 'string');
          const first = envs[0] ? posix.join(posix.dirname(file), envs[0].slice(envs[0].indexOf('=') + 1)) : file;
          index.resources.push({ kind, name: g.name, file: first });
        }
      }
      // Inline patches with targets: the kustomization itself is the patch.
      const patches = Array.isArray(k?.patches) ? (k.patches as Array<Record<string, unknown>>) : [];
      for (const p of patches) {
        const target = p?.target as Record<string, unknown> | undefined;
        if (typeof target?.kind !== 'string' && typeof target?.name !== 'string') continue;
        const patchFile = typeof p.path === 'string' ? posix.join(posix.dirname(file), p.path) : file;
        const patchText = typeof p.patch === 'string' ? p.patch : safeRead(root, patchFile);
        index.patches.push({ kind: String(target?.kind ?? '*'), name: String(target?.name ?? '*'), file: patchFile, text: patchText });
      }
      continue;
    }
    for (const doc of docsOf(text)) {
      const name = nameOf(doc);
      if (typeof doc.kind !== 'string' || !name) continue;
      if (role === 'patch') index.patches.push({ kind: doc.kind, name, file, text });
      else index.resources.push({ kind: doc.kind, name, file });
    }
  }
  return index;
}

function safeRead(root: string, file: string): string {
  try {
    return readFileSync(join(root, file), 'utf8');
  } catch {
    return '';
  }
}

/** Kustomize may add a prefix, a suffix or a hash to a name; the source name is then a part of it. */
function nameMatches(rendered: string, source: string): 0 | 1 | 2 {
  if (rendered === source) return 2;
  if (source !== '*' && rendered.includes(source)) return 1;
  return source === '*' ? 1 : 0;
}

export function sourceOf(index: SourceIndex, id: ResourceId): ObjectSource {
  let best: Entry | undefined;
  let bestScore = 0;
  for (const e of index.resources) {
    if (e.kind !== id.kind) continue;
    const score = nameMatches(id.name, e.name);
    if (score > bestScore || (score === bestScore && score > 0 && best && e.name.length > best.name.length)) {
      best = e;
      bestScore = score;
    }
  }
  const patches = index.patches
    .filter((p) => (p.kind === id.kind || p.kind === '*') && nameMatches(id.name, p.name) > 0)
    .map((p) => ({ file: p.file, text: p.text }));
  return { definedIn: best?.file ?? index.fallback, patches };
}

/**
 * The file to blame for a field: a patch that mentions the field's key (the last segment of `path`
 * that is not an index) when there is one, else the defining file.
 */
export function fileForField(source: ObjectSource, path: string): string {
  const key = path.split('/').filter((s) => s !== '' && !/^\d+$/.test(s)).at(-1)?.replace(/~1/g, '/').replace(/~0/g, '~');
  if (key) {
    const patch = source.patches.find((p) => new RegExp(`(^|[\\s{,"'/])${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*:`, 'm').test(p.text) || p.text.includes(`/${key}`));
    if (patch) return patch.file;
  }
  return source.definedIn;
}
