// Issue 23: scripts/lib is a house of layers that follow the data (scripts/lib/README.md). The order is read
// from the README's "Layers, bottom to top:" line, so the written rule and the enforced one are the same
// text. Every relative import of every module under scripts/lib (static, type-only, re-export, dynamic
// import(), new URL('...ts')) is resolved and must point to the same layer or one below; the module graph
// has no cycle; the root holds at most 3 files; every folder names its entry file in the README and that
// file opens with a comment saying what the folder owns.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const LIB = join(import.meta.dirname, '../../scripts/lib');
const README = readFileSync(join(LIB, 'README.md'), 'utf8');

/** "Layers, bottom to top: `core` → `secrets` → …" in scripts/lib/README.md. */
export function layerOrder(readme: string): string[] {
  const line = readme.split('\n').find((l) => l.startsWith('Layers, bottom to top:'));
  if (!line) throw new Error('scripts/lib/README.md has no "Layers, bottom to top:" line');
  return line.replace('Layers, bottom to top:', '').split('→').map((s) => s.replace(/[`.\s]/g, '')).filter(Boolean);
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+|new URL\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/gm;

/** Relative module specifiers of a source text (comments removed first, so a path in prose is not an import). */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...code.matchAll(IMPORT)].map((m) => m[2]!);
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts')) out.push(relative(LIB, p));
  }
  return out;
}

export interface Edge { from: string; to: string }

/** Imports that run up: from a module to a module of a higher layer (or outside any layer). */
export function upwardEdges(edges: readonly Edge[], order: readonly string[]): Edge[] {
  const rank = (file: string): number => order.indexOf(file.split('/')[0]!);
  return edges.filter((e) => e.to.startsWith('..') ? false : rank(e.from) < 0 || rank(e.to) < 0 || rank(e.to) > rank(e.from));
}

/** Every cycle's members (strongly connected components of more than one module, or a self-import). */
export function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
  const out: string[][] = [];
  let i = 0;
  const visit = (v: string): void => {
    index.set(v, i); low.set(v, i); i++; stack.push(v); on.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

const FILES = walk(LIB);
const EDGES: Edge[] = FILES.flatMap((from) =>
  importsOf(readFileSync(join(LIB, from), 'utf8'))
    .filter((s) => s.endsWith('.ts'))
    .map((s) => ({ from, to: normalize(join(dirname(from), s)) })),
);

describe('scripts/lib layers (scripts/lib/README.md)', () => {
  const order = layerOrder(README);

  it('names eight layers, each a folder of scripts/lib, and no folder outside them', () => {
    expect(order).toEqual(['core', 'secrets', 'inputs', 'generate', 'render', 'review', 'cluster', 'release']);
    const folders = readdirSync(LIB).filter((n) => statSync(join(LIB, n)).isDirectory()).sort();
    expect(folders).toEqual([...order].sort());
  });

  it('has no import that runs up the layers', () => {
    expect(EDGES.length).toBeGreaterThan(300);
    const up = upwardEdges(EDGES, order).map((e) => `${e.from} → ${e.to}`);
    expect(up).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(EDGES)).toEqual([]);
  });

  it('keeps at most 3 files at the root of scripts/lib', () => {
    const files = readdirSync(LIB).filter((n) => !statSync(join(LIB, n)).isDirectory());
    expect(files.length).toBeLessThanOrEqual(3);
  });

  it('names every folder\'s entry file, which opens with a comment of what the folder owns', () => {
    const dirs = FILES.map((f) => dirname(f)).filter((d, k, all) => d !== '.' && all.indexOf(d) === k);
    for (const dir of dirs) {
      const entry = README.match(new RegExp('`' + dir.replace(/[/.-]/g, '\\$&') + '/([\\w.-]+\\.ts)`'))?.[1];
      expect(entry, `scripts/lib/README.md names no entry file for ${dir}/`).toBeDefined();
      const text = readFileSync(join(LIB, dir, entry!), 'utf8');
      const opening = text.split('\n').slice(0, 2);
      expect(opening.every((l) => l.startsWith('//')), `${dir}/${entry} opens with a comment of what ${dir}/ owns`).toBe(true);
    }
  });

  it('the README map stays within 60 lines', () => {
    expect(README.trimEnd().split('\n').length).toBeLessThanOrEqual(60);
  });
});

describe('the layer check itself', () => {
  const order = ['core', 'inputs', 'generate'];
  it('finds an import that runs up, and accepts one that runs down or sideways', () => {
    const edges = [{ from: 'core/a.ts', to: 'inputs/b.ts' }, { from: 'generate/c.ts', to: 'inputs/b.ts' }, { from: 'inputs/b.ts', to: 'inputs/d.ts' }];
    expect(upwardEdges(edges, order)).toEqual([{ from: 'core/a.ts', to: 'inputs/b.ts' }]);
  });
  it('finds a cycle through three modules and a module importing itself', () => {
    const edges = [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'a' }, { from: 'd', to: 'd' }, { from: 'e', to: 'a' }];
    expect(cycles(edges)).toEqual([['a', 'b', 'c'], ['d']]);
  });
  it('reads imports of every form, and not a path named in a comment', () => {
    const text = "import type { A } from './a.ts';\nexport { B } from \"../b.ts\";\nconst c = await import('./c.ts');\n" +
      "new URL('./w.ts', import.meta.url);\n// see './not.ts'\nimport './side.ts';\n";
    expect(importsOf(text)).toEqual(['./a.ts', '../b.ts', './c.ts', './w.ts', './side.ts']);
  });
});
