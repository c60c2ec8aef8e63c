// The MongoDB user's password Secret, created from this machine only when absent. Superseded by the
// environment's PreSync hook (scripts/lib/generate/mongodb/password-hook.ts), which makes it in the cluster from git alone;
// kept until bootstrap stops calling ensurePasswordSecret (issue 13), then to be deleted.
import { randomBytes } from 'node:crypto';
import { MONGODB } from '../inputs/spec.ts';
import type { Kube, KubeObject } from './kube/client.ts';
import { FIELD_MANAGER } from './kube/client.ts';

/** 32 random bytes, base64url: 43 characters, no characters that need quoting in a connection string. */
export function randomPassword(): string {
  return randomBytes(32).toString('base64url');
}

export const passwordSecretRef = (namespace: string) => ({ apiVersion: 'v1', kind: 'Secret', name: MONGODB.passwordSecret, namespace });

export function passwordSecret(namespace: string, password: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: MONGODB.passwordSecret,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER, 'app.kubernetes.io/part-of': 'users-api' },
    },
    type: 'Opaque',
    stringData: { [MONGODB.passwordKey]: password },
  };
}

export type EnsureResult = 'exists' | 'created' | 'would create';

/**
 * Creates the Secret if absent. A create that races another run (409) counts as "exists": the
 * first value wins and is never replaced.
 */
export async function ensurePasswordSecret(kube: Kube, namespace: string, opts: { dryRun: boolean; newPassword: () => string }): Promise<EnsureResult> {
  const live = await kube.get(passwordSecretRef(namespace));
  if (live) return 'exists';
  if (opts.dryRun) return 'would create';
  try {
    await kube.create(passwordSecret(namespace, opts.newPassword()));
  } catch (error) {
    if ((error as { status?: number }).status === 409) return 'exists';
    throw error;
  }
  return 'created';
}
