// What validate reports: one finding (environment or scope, the check that found it, the object, the file
// and JSON pointer to edit, the message and the fix), and the ids of the repository-wide checks.
import type { ResourceId } from '../../render/normalize.ts';

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
export const ARGOCD_SCOPE = 'argocd';
export const REPOSITORY_SCOPE = 'repository';
export const UNOWNED_FILE = 'unowned-file';
export const ARGOCD_PROJECT = 'argocd-project';
export const CAPACITY = 'capacity';
export const ARGOCD_ADMISSION = 'argocd-admission';
