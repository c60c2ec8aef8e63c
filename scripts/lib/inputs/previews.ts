// gitops.yaml `previews`, checked against the environments: a template that exists, a GitHub repository
// for the pull request generator, an ingress host that becomes a DNS name for every pull request number,
// a preview image repository apart from the release one.
import type { Problem } from '../core/errors.ts';
import { SETTINGS_FILE } from '../core/layout.ts';
import { githubRepoOf } from './refs-urls.ts';
import type { EnvSpec, RepoSettings } from './spec.ts';

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

export function previewProblems(settings: RepoSettings | undefined, envs: Record<string, { spec: EnvSpec }>): Problem[] {
  const p = settings?.previews;
  if (!settings || !p) return [];
  const problems: Problem[] = [];
  const at = (path: string, message: string, fix: string): void => {
    problems.push({ file: SETTINGS_FILE, path: `/previews${path}`, message, fix });
  };
  if (!envs[p.template]) {
    at('/template', `names environment "${p.template}", which does not exist`, `name one of ${Object.keys(envs).sort().join(', ') || '(no environments yet)'}, or create it with zx scripts/new-env.ts ${p.template}`);
  }
  try {
    githubRepoOf(settings.repoURL);
  } catch {
    at('', `needs a GitHub repository: the pull request generator reads pull requests from GitHub, and repoURL is ${settings.repoURL}`, 'point repoURL at a github.com repository, or remove previews');
  }
  // Pull request builds are signed by another identity and admitted only in previews: they must never share
  // the release repository (scripts/lib/generate/image-policy.ts).
  if (p.image !== undefined && (p.image === settings.image || p.image.startsWith(`${settings.image}/`))) {
    at('/image', `is the release image repository (${settings.image}) or inside it: pull request builds would sit beside release images`, `use a separate repository, e.g. ${settings.image}-previews`);
  }
  if (p.ingress) {
    const n = p.ingress.host.split('{number}').length - 1;
    if (n !== 1) at('/ingress/host', `must contain {number} exactly once (it has ${n})`, 'write it like pr-{number}.preview.example.com');
    else for (const sample of ['1', '123456']) {
      const host = p.ingress.host.replace('{number}', sample);
      if (!DNS_NAME.test(host)) {
        at('/ingress/host', `is not a DNS name for pull request ${sample} (${host})`, 'use lowercase letters, digits, "-" and "." around {number}, like pr-{number}.preview.example.com');
        break;
      }
    }
    for (const [name, e] of Object.entries(envs)) {
      if (e.spec.ingress && new RegExp(`^${p.ingress.host.replace(/[.]/g, '\\.').replace('{number}', '[0-9]+')}$`).test(e.spec.ingress.host)) {
        at('/ingress/host', `can produce ${e.spec.ingress.host}, the host of environment ${name}`, 'give previews a host pattern no environment matches');
      }
    }
  }
  return problems;
}
