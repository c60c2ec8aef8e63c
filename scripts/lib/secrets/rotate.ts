// rotate-db-password: new random password → the operator updates the database user and the
// connection-string Secret it owns → a rolling restart lets new pods read the new string.
// Order matters: restarting before the operator has updated the connection string would start
// pods with the old one.
import type { Kube } from '../kube/client.ts';
import { KubeRequestError } from '../kube/client.ts';
import { MONGODB } from '../spec.ts';
import { APP_NAME } from '../../../apps/users-api/src/contract.ts';
import { passwordSecretRef, rotatePassword } from './password.ts';

/** The annotation `kubectl rollout restart` sets; changing it changes the pod template, hence a rollout. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export interface RotateDeps {
  kube: Kube;
  newPassword: () => string;
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
  wait?: { timeoutMs: number; intervalMs: number };
}

export async function rotateDbPassword(env: { name: string; namespace: string }, deps: RotateDeps): Promise<void> {
  const { kube, log } = deps;
  const ns = env.namespace;
  if (!(await kube.get(passwordSecretRef(ns)))) {
    throw new KubeRequestError(`Secret ${ns}/${MONGODB.passwordSecret} does not exist, so there is nothing to rotate\n    fix: run \`zx scripts/bootstrap.ts\` first`, 404);
  }
  const connectionRef = { apiVersion: 'v1', kind: 'Secret', name: MONGODB.connectionSecret, namespace: ns };
  const before = await kube.get(connectionRef);
  const beforeVersion = before?.metadata.resourceVersion;
  await rotatePassword(kube, ns, deps.newPassword);
  log(`replaced ${ns}/${MONGODB.passwordSecret} with a new random password (not shown)`);

  // The operator reconciles the user and rewrites the connection-string Secret it owns.
  const { timeoutMs, intervalMs } = deps.wait ?? { timeoutMs: 300_000, intervalMs: 3_000 };
  for (let waited = 0; ; waited += intervalMs) {
    const now = await kube.get(connectionRef);
    if (now && now.metadata.resourceVersion !== beforeVersion) break;
    if (waited >= timeoutMs) {
      throw new KubeRequestError(
        `the operator has not updated ${ns}/${MONGODB.connectionSecret} after ${Math.round(timeoutMs / 1000)} s; the API was not restarted\n` +
          `    fix: check the operator (kubectl describe mongodbcommunity ${MONGODB.resourceName} -n ${ns}; its pod logs), then run rotate-db-password again`,
        undefined,
      );
    }
    log(`  waiting for the operator to update ${MONGODB.connectionSecret}…`);
    await deps.sleep(intervalMs);
  }
  log(`operator updated ${ns}/${MONGODB.connectionSecret}`);

  // Env vars from secretKeyRef are read at container start: a rolling restart picks the new string up.
  await kube.patch(
    { apiVersion: 'apps/v1', kind: 'Deployment', name: APP_NAME, namespace: ns },
    { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: deps.now().toISOString() } } } } },
  );
  log(`rolling restart of ${ns}/${APP_NAME} started (follow it with: zx scripts/status.ts ${env.name} --watch)`);
}
