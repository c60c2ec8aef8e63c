// Where the pinned upstream files are (never copied into the repository): ../shared/envtest/upstream
// next to the project locally and in .ci/run; the GitHub workflow downloads them from their tags into
// a directory it names with ENVTEST_UPSTREAM_DIR.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UPSTREAM_FILES = {
  /** argoproj/argo-cd@v3.5.1:manifests/install.yaml */
  argocd: 'argo-cd-v3.5.1-install.yaml',
  /** mongodb/mongodb-kubernetes@1.10.0:helm_chart/crds/*.yaml, concatenated */
  mck: 'mongodb-kubernetes-1.10.0-crds.yaml',
} as const;

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

export function upstreamDir(): string {
  return process.env.ENVTEST_UPSTREAM_DIR || resolve(REPO_ROOT, '../shared/envtest/upstream');
}

/** What globalSetup hands to test files (plain data: it crosses the worker boundary). */
export interface ProvidedEnvtest {
  server: string;
  caPem: string;
  adminToken: string;
  noRightsToken: string;
  kubeconfigPath: string;
  kubeconfigYaml: string;
  upstreamDir: string;
  kubectl: string;
  /** Where test files write the kubeconfigs they make for tokens; globalTeardown removes it with the run. */
  clientDir: string;
  /** Written by globalSetup once the server serves with the CRDs installed. */
  readyFile: string;
  /** Written instead, with the reason, when it could not start. */
  failedFile: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    envtest: ProvidedEnvtest | undefined;
  }
}
