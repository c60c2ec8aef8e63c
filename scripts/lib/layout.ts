// The repository layout is a contract: every path the toolkit reads or writes is named here once.

export const SETTINGS_FILE = 'gitops.yaml';
export const OVERLAYS_DIR = 'overlays';
export const API_BASE_DIR = 'apps/users-api/deploy';
export const MONGODB_BASE_DIR = 'platform/mongodb/replicaset';
export const MONGODB_OPERATOR_DIR = 'platform/mongodb/operator';
export const ARGOCD_DIR = 'argocd';
export const ARGOCD_APPS_DIR = 'argocd/apps';
export const SCHEMAS_DIR = 'schemas';

export const envDir = (env: string): string => `${OVERLAYS_DIR}/${env}`;
export const envSpecFile = (env: string): string => `${OVERLAYS_DIR}/${env}/env.yaml`;
export const envDotenvFile = (env: string): string => `${OVERLAYS_DIR}/${env}/.env`;
export const envKustomizationFile = (env: string): string => `${OVERLAYS_DIR}/${env}/kustomization.yaml`;
