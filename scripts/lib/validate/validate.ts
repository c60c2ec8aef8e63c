// Validation of rendered environments: every object against its schema, then every policy, with
// waivers applied; each finding names the environment, the object, the source file and the fix.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ARGOCD_DIR, envKustomizationFile } from '../layout.ts';
import { InputError } from '../errors.ts';
import { parseYamlStream, canonicalize } from '../yaml.ts';
import type { RenderedEnvironment } from '../render/render.ts';
import { compareIds, idKey, idLabel, idOf, normalizeRender } from '../render/normalize.ts';
import type { RenderedObject, ResourceId } from '../render/normalize.ts';
import { buildSourceIndex, fileForField, sourceOf } from '../render/sources.ts';
import type { SchemaRegistry } from './schema.ts';
import { POLICIES, WAIVER_ANNOTATION_PREFIX } from './policies.ts';
import type { Policy } from './policies.ts';

export interface Finding {
  env: string;
  /** A policy id, or "schema" / "waiver". */
  policy: string;
  object: ResourceId;
  /** Repo-relative file to edit. */
  file: string;
  /** JSON pointer into the rendered object. */
  path: string;
  message: string;
  fix: string;
}

export const SCHEMA_CHECK = 'schema';
export const WAIVER_CHECK = 'waiver';

function annotationsOf(o: RenderedObject): Record<string, unknown> {
  const meta = (o.object.metadata ?? {}) as Record<string, unknown>;
  return (meta.annotations ?? {}) as Record<string, unknown>;
}

/** Checks one environment's objects (already parsed); `fileOf` maps an object and path to a source file. */
export async function checkObjects(
  env: string,
  objects: readonly RenderedObject[],
  registry: SchemaRegistry,
  fileOf: (id: ResourceId, path: string) => string,
  policies: readonly Policy[] = POLICIES,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (policy: string, id: ResourceId, path: string, message: string, fix: string): void => {
    findings.push({ env, policy, object: id, file: fileOf(id, path), path, message, fix });
  };

  for (const o of objects) {
    const apiVersion = String(o.object.apiVersion ?? '');
    const validator = await registry.validatorFor(apiVersion, o.id.kind);
    if (!validator) {
      add(SCHEMA_CHECK, o.id, '/kind', `no schema is known for ${apiVersion} ${o.id.kind}`, 'use a kind of the pinned Kubernetes version, Argo CD, or add a validator to scripts/lib/validate/schema.ts');
      continue;
    }
    for (const p of validator(o.object)) add(SCHEMA_CHECK, o.id, p.path ?? '', p.message, p.fix ?? 'correct the field');
  }

  // Waivers: valid ones (known policy, non-empty reason) silence that policy on that object.
  const waived = new Set<string>();
  const policyIds = new Set(policies.map((p) => p.id));
  for (const o of objects) {
    for (const [key, value] of Object.entries(annotationsOf(o))) {
      if (!key.startsWith(WAIVER_ANNOTATION_PREFIX)) continue;
      const policy = key.slice(WAIVER_ANNOTATION_PREFIX.length);
      const path = `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!policyIds.has(policy)) {
        add(WAIVER_CHECK, o.id, path, `waiver names unknown policy "${policy}"`, `use one of: ${[...policyIds].join(', ')}`);
      } else if (typeof value !== 'string' || value.trim() === '') {
        add(WAIVER_CHECK, o.id, path, `waiver of ${policy} gives no reason, so it is not applied`, `set the annotation's value to why this object is an exception`);
      } else {
        waived.add(`${policy}\0${JSON.stringify(o.id)}`);
      }
    }
  }

  for (const policy of policies) {
    for (const v of policy.check(objects, env)) {
      if (waived.has(`${v.policy}\0${JSON.stringify(v.id)}`)) continue;
      add(v.policy, v.id, v.path, `${v.message} (${policy.reason})`, policy.fix);
    }
  }
  return findings;
}

/** Validates rendered environments; findings are sorted by environment, file, object, policy. */
export async function validateEnvironments(root: string, rendered: readonly RenderedEnvironment[], registry: SchemaRegistry): Promise<Finding[]> {
  const all: Finding[] = [];
  for (const r of rendered) {
    const index = buildSourceIndex(root, r.inputs, envKustomizationFile(r.env));
    const fileOf = (id: ResourceId, path: string): string => fileForField(sourceOf(index, id), path);
    all.push(...(await checkObjects(r.env, normalizeRender(r.yaml), registry, fileOf)));
  }
  return all.sort((a, b) =>
    a.env.localeCompare(b.env) || a.file.localeCompare(b.file) || idLabel(a.object).localeCompare(idLabel(b.object)) ||
    a.policy.localeCompare(b.policy) || a.path.localeCompare(b.path));
}

/** The findings label for the Argo CD objects, which belong to no environment. */
export const ARGOCD_SCOPE = 'argocd';

function yamlFilesUnder(root: string, dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = posix.join(dir, e.name);
    if (e.isDirectory()) return yamlFilesUnder(root, rel);
    return /\.ya?ml$/.test(e.name) ? [rel] : [];
  });
}

/**
 * The Argo CD objects committed under argocd/ (Argo CD reads them as plain manifests), each with its
 * file. They are checked like an environment, except for the NetworkPolicy rule: the argocd namespace
 * belongs to the Argo CD installation, not to an environment.
 */
export async function validateArgoCdObjects(root: string, registry: SchemaRegistry): Promise<Finding[]> {
  const files = new Map<string, string>();
  const objects: RenderedObject[] = [];
  const problems = [];
  for (const file of yamlFilesUnder(root, ARGOCD_DIR).sort()) {
    let docs: unknown[];
    try {
      docs = parseYamlStream(readFileSync(join(root, file), 'utf8'));
    } catch (error) {
      problems.push({ file, message: `not valid YAML: ${(error as Error).message}`, fix: 'fix the syntax (or regenerate with zx scripts/generate.ts)' });
      continue;
    }
    for (const doc of docs) {
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) continue;
      const object = canonicalize(doc) as Record<string, unknown>;
      const id = idOf(object);
      files.set(idKey(id), file);
      objects.push({ id, object });
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  objects.sort((a, b) => compareIds(a.id, b.id));
  const policies = POLICIES.filter((p) => p.id !== 'network-policy');
  return checkObjects(ARGOCD_SCOPE, objects, registry, (id) => files.get(idKey(id)) ?? ARGOCD_DIR, policies);
}

export type ValidateFormat = 'text' | 'json' | 'github';

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function formatFindings(findings: readonly Finding[], format: ValidateFormat, envs: readonly string[]): string {
  if (format === 'json') {
    return `${JSON.stringify({ environments: envs, findings: findings.map((f) => ({ ...f, object: { ...f.object } })) }, null, 2)}\n`;
  }
  if (format === 'github') {
    return findings
      .map((f) => `::error file=${escapeProperty(f.file)},title=${escapeProperty(`${f.policy} (${f.env})`)}::${escapeData(`${idLabel(f.object)} ${f.path}: ${f.message}. Fix: ${f.fix}`)}\n`)
      .join('');
  }
  if (findings.length === 0) return `validated ${envs.join(', ')}: no findings\n`;
  const lines = findings.map((f) => `${f.env}: ${f.file}: [${f.policy}] ${idLabel(f.object)} ${f.path}: ${f.message}\n    fix: ${f.fix}`);
  return `${lines.join('\n')}\n${findings.length} finding(s) in ${[...new Set(findings.map((f) => f.env))].join(', ')}\n`;
}
