// The repository Argo CD pulls, declared as an Argo CD repository Secret (label
// argocd.argoproj.io/secret-type=repository). Credentials for a private repo come from a file or an
// environment variable at the edge; they go into the Secret's data and nowhere else.
import { readFileSync } from 'node:fs';
import type { KubeObject } from '../kube/client.ts';
import { FIELD_MANAGER } from '../kube/client.ts';
import { InputError } from '../../core/errors.ts';

export const REPO_SECRET_NAME = 'gitops-repo';
export const REPO_PASSWORD_ENV = 'GITOPS_REPO_PASSWORD';
export const REPO_USERNAME_ENV = 'GITOPS_REPO_USERNAME';

export type RepoCredentials = { username: string; password: string } | { sshPrivateKey: string };

/** What the user sees about credentials: where they came from, never what they are. */
export function describeCredentials(c: RepoCredentials | undefined): string {
  if (!c) return 'no credentials (public repository)';
  return 'sshPrivateKey' in c ? 'SSH private key' : `username ${c.username} with a password/token`;
}

/**
 * --repo-password-file, --repo-ssh-key-file or $GITOPS_REPO_PASSWORD (username from --repo-username,
 * $GITOPS_REPO_USERNAME, or "git" which GitHub accepts with a token).
 */
export function readRepoCredentials(opts: { passwordFile?: string; sshKeyFile?: string; username?: string }, env: NodeJS.ProcessEnv): RepoCredentials | undefined {
  const read = (file: string, flag: string): string => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new InputError({ file, message: `cannot read ${flag}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, fix: `check the path given to ${flag}` });
    }
  };
  if (opts.passwordFile && opts.sshKeyFile) throw new InputError({ message: 'give either --repo-password-file or --repo-ssh-key-file, not both' });
  const username = opts.username ?? env[REPO_USERNAME_ENV] ?? 'git';
  if (opts.sshKeyFile) return { sshPrivateKey: `${read(opts.sshKeyFile, '--repo-ssh-key-file')}\n` };
  if (opts.passwordFile) return { username, password: read(opts.passwordFile, '--repo-password-file') };
  const fromEnv = env[REPO_PASSWORD_ENV];
  if (fromEnv) return { username, password: fromEnv };
  return undefined;
}

/** The repository Secret's credential keys (Argo CD's repository Secret format). */
export const CREDENTIAL_KEYS = ['username', 'password', 'sshPrivateKey'] as const;

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export function repositorySecret(namespace: string, repoURL: string, credentials: RepoCredentials | undefined): KubeObject {
  const data: Record<string, string> = { type: b64('git'), url: b64(repoURL) };
  if (credentials && 'sshPrivateKey' in credentials) data.sshPrivateKey = b64(credentials.sshPrivateKey);
  else if (credentials) {
    data.username = b64(credentials.username);
    data.password = b64(credentials.password);
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: REPO_SECRET_NAME,
      namespace,
      labels: { 'argocd.argoproj.io/secret-type': 'repository', 'app.kubernetes.io/managed-by': FIELD_MANAGER },
    },
    type: 'Opaque',
    data,
  };
}
