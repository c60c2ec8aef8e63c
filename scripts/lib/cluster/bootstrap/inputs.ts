// Reads what bootstrap needs from the working tree: settings, the committed root Application and
// AppProjects (what Argo CD will read too), and the health-check Lua files.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { ARGOCD_DIR } from '../../core/layout.ts';
import { readRepoInputs } from '../../inputs/index.ts';
import { parseYamlStream } from '../../core/yaml.ts';
import type { KubeObject } from '../kube/client.ts';
import type { BootstrapInputs } from './index.ts';
import { readHealthChecks } from './health-checks.ts';
import { notificationsConfig } from './notifications.ts';

export const ROOT_FILE = `${ARGOCD_DIR}/root.yaml`;

function objectsIn(root: string, rel: string): KubeObject[] {
  const docs = parseYamlStream(readFileSync(join(root, rel), 'utf8'));
  return docs.filter((d): d is KubeObject => typeof (d as KubeObject)?.kind === 'string' && typeof (d as KubeObject)?.metadata?.name === 'string');
}

function yamlFilesUnder(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

export async function readBootstrapInputs(root: string): Promise<Omit<BootstrapInputs, 'repoCredentials'>> {
  const { settings } = await readRepoInputs(root);
  if (!existsSync(join(root, ROOT_FILE))) throw new InputError({ file: ROOT_FILE, message: 'missing', fix: 'run `zx scripts/generate.ts` and commit the result' });
  const rootApp = objectsIn(root, ROOT_FILE).find((o) => o.kind === 'Application');
  if (!rootApp) throw new InputError({ file: ROOT_FILE, message: 'no Application in it', fix: 'run `zx scripts/generate.ts`' });
  // Every AppProject the root will sync (however the generator splits them into files).
  const projects = yamlFilesUnder(root, ARGOCD_DIR)
    .filter((f) => f !== ROOT_FILE)
    .flatMap((f) => objectsIn(root, f))
    .filter((o) => o.kind === 'AppProject' && o.apiVersion.startsWith('argoproj.io/'))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return {
    repoURL: settings.repoURL,
    argocd: settings.argocd,
    projects,
    root: rootApp,
    rootFile: ROOT_FILE,
    healthChecks: readHealthChecks(root),
    notifications: notificationsConfig(settings),
  };
}
