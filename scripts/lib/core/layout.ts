// The repository layout is a contract: every path the toolkit reads or writes is named here once.

export const SETTINGS_FILE = 'gitops.yaml';
export const OVERLAYS_DIR = 'overlays';
export const API_BASE_DIR = 'apps/users-api/deploy';
export const MONGODB_BASE_DIR = 'platform/mongodb/replicaset';
export const MONGODB_OPERATOR_DIR = 'platform/mongodb/operator';
export const ARGOCD_DIR = 'argocd';
export const ARGOCD_APPS_DIR = 'argocd/apps';
export const SCHEMAS_DIR = 'schemas';
/** Preview environments' template overlay (scripts/lib/generate/previews.ts). */
export const PREVIEWS_DIR = 'previews';
/** pr-<number>: the names and namespaces of preview environments; no environment may take one. */
export const PREVIEW_NAME_PATTERN = /^pr-[0-9]+$/;

/** The names Kustomize looks for in a directory, in its order. */
export const KUSTOMIZATION_NAMES: readonly string[] = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** Whether a repo-relative path names a kustomization file (by its last segment). */
export const isKustomizationFile = (path: string): boolean => KUSTOMIZATION_NAMES.includes(path.slice(path.lastIndexOf('/') + 1));

/** The overlay directory a repo-relative path lies inside (overlays/<name>/…), or undefined. */
export function overlayOf(path: string): string | undefined {
  const s = path.split('/');
  return s.length > 2 && s[0] === OVERLAYS_DIR && s[1] !== '' ? s[1] : undefined;
}

export const envDir = (env: string): string => `${OVERLAYS_DIR}/${env}`;
export const envSpecFile = (env: string): string => `${OVERLAYS_DIR}/${env}/env.yaml`;
export const envDotenvFile = (env: string): string => `${OVERLAYS_DIR}/${env}/.env`;
export const envKustomizationFile = (env: string): string => `${OVERLAYS_DIR}/${env}/kustomization.yaml`;

/**
 * What the generator writes and deletes (the ownership list of scripts/lib/core/atomic.ts `confine`):
 * directory entries never cover the hand-edited inputs (gitops.yaml, env.yaml, .env).
 */
/** The image signature policy Kyverno's Application syncs (scripts/lib/generate/image-policy.ts). */
export const IMAGE_POLICY_DIR = 'platform/image-policy';
export const GENERATED_PATHS: readonly string[] = [`${API_BASE_DIR}/`, `${MONGODB_BASE_DIR}/`, `${ARGOCD_DIR}/`, `${SCHEMAS_DIR}/`, `${OVERLAYS_DIR}/`, `${PREVIEWS_DIR}/`, `${IMAGE_POLICY_DIR}/`];

/** What a command acting on environment `env` owns besides the generated files: its overlay, inputs included. */
export const envOwnedPaths = (env: string): string[] => [`${envDir(env)}/`, envSpecFile(env), envDotenvFile(env)];
