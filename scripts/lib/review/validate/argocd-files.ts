// The argocd/ tree as validate reads it: every YAML file's documents, an ApplicationSet's Application as
// a pattern, and the literal file list of a directory source's `include`. Shared by the project checks
// (validate.ts) and the Applications' sources (applications.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ARGOCD_DIR } from '../../core/layout.ts';
import { parseYamlStream } from '../../core/yaml.ts';
import { asObj } from '../../core/objects.ts';
import type { Obj } from '../../core/objects.ts';


export function yamlFilesUnder(root: string, dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = posix.join(dir, e.name);
    if (e.isDirectory()) return yamlFilesUnder(root, rel);
    return /\.ya?ml$/.test(e.name) ? [rel] : [];
  });
}

export interface ArgoFile {
  file: string;
  objects: Obj[];
}

/** The YAML documents of every .yaml/.yml file under argocd/. */
export function argocdFiles(root: string): ArgoFile[] {
  return yamlFilesUnder(root, ARGOCD_DIR)
    .sort()
    .map((file) => {
      let docs: unknown[] = [];
      try {
        docs = parseYamlStream(readFileSync(join(root, file), 'utf8'));
      } catch {
        docs = []; // validateArgoCdObjects reports the syntax error
      }
      return { file, objects: docs.filter((d) => d && typeof d === 'object' && !Array.isArray(d)) as Obj[] };
    });
}

/**
 * The Application an ApplicationSet stamps out, as a pattern: its template with every `{{…}}` parameter
 * read as `*` (so `pr-{{.number}}` is the namespace pattern pr-*, as its AppProject writes it).
 */
export function applicationOfSet(set: Obj): Obj {
  const generalize = (v: unknown): unknown =>
    typeof v === 'string' ? v.replace(/\{\{[^}]*\}\}/g, '*') : Array.isArray(v) ? v.map(generalize) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, generalize(x)])) : v;
  const template = asObj(asObj(set.spec).template);
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: generalize(template.metadata) as Obj, spec: generalize(template.spec) as Obj };
}

/** The files a literal `{a,b,c}` (or single-name) include selects; undefined for any other glob. */
export function literalInclude(include: string): string[] | undefined {
  const body = include.startsWith('{') && include.endsWith('}') ? include.slice(1, -1) : include;
  const names = body.split(',');
  return names.every((n) => n !== '' && !/[{}*?[\]\\]/.test(n)) ? names : undefined;
}
