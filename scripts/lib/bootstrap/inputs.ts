// Reads what bootstrap needs from the working tree: settings, environments, the committed project
// and root Application (what Argo CD will read too), and the health-check Lua files.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { ARGOCD_DIR } from '../layout.ts';
import { readRepoInputs } from '../repo-inputs.ts';
import { parseYamlStream } from '../yaml.ts';
import type { KubeObject } from '../kube/client.ts';
import type { BootstrapInputs } from './index.ts';
import { readHealthChecks } from './health-checks.ts';

export const PROJECT_FILE = `${ARGOCD_DIR}/project.yaml`;
export const ROOT_FILE = `${ARGOCD_DIR}/root.yaml`;

function readObject(root: string, rel: string): KubeObject {
  const file = join(root, rel);
  if (!existsSync(file)) throw new InputError({ file: rel, message: 'missing', fix: 'run `zx scripts/generate.ts` and commit the result' });
  const [doc] = parseYamlStream(readFileSync(file, 'utf8'));
  const obj = doc as KubeObject | undefined;
  if (!obj?.metadata?.name || !obj.kind) throw new InputError({ file: rel, message: 'not a Kubernetes object', fix: 'run `zx scripts/generate.ts`' });
  return obj;
}

export async function readBootstrapInputs(root: string): Promise<Omit<BootstrapInputs, 'repoCredentials'>> {
  const { settings, envs } = await readRepoInputs(root);
  return {
    repoURL: settings.repoURL,
    argocd: settings.argocd,
    environments: Object.entries(envs).map(([name, e]) => ({ name, namespace: e.spec.namespace })),
    project: readObject(root, PROJECT_FILE),
    root: readObject(root, ROOT_FILE),
    healthChecks: readHealthChecks(root),
  };
}
