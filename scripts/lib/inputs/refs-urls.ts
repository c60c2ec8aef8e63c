// What Argo CD is told to clone and check out: git revisions and repository / chart URLs, checked
// strictly before they reach a generated file. Each function returns why a value is refused, or undefined.
import { UsageError } from '../core/errors.ts';

/**
 * Why `ref` is not a revision Argo CD may track, or undefined. Accepted: `HEAD`, a commit SHA (which is
 * also a valid ref name), or a ref name by the rules of git/git@v2.39.5
 * Documentation/git-check-ref-format.txt (as `git check-ref-format --allow-onelevel`):
 *   1. no slash-separated component begins with "." or ends with ".lock";
 *   3. no ".." anywhere;  4. no ASCII control character, space, "~", "^" or ":";
 *   5. no "?", "*" or "[";  6. does not begin or end with "/" and has no "//";
 *   7. does not end with ".";  8. no "@{";  9. is not "@";  10. no "\".
 * Plus the rule of `git check-ref-format --branch` (git/git@v2.39.5 refs.c, check_branch_ref: a name
 * beginning with "-"): a leading "-" would be read as an option (`--upload-pack=…`) by git commands.
 * Stricter than git on purpose: printable ASCII only (no invisible or look-alike characters), ≤ 255.
 */
export function gitRevisionProblem(ref: string): string | undefined {
  if (typeof ref !== 'string' || ref === '') return 'is empty';
  if (ref.length > 255) return `is ${ref.length} characters long; the limit is 255`;
  if (ref.startsWith('-')) return 'begins with "-", which git reads as an option (e.g. --upload-pack=…)';
  const bad = [...ref].find((c) => c < '!' || c > '~');
  if (bad !== undefined) return `contains ${describeChar(bad)}; a revision is printable ASCII without spaces`;
  if (ref === 'HEAD') return undefined;
  if (ref === '@') return 'is "@", which git reserves for HEAD';
  const forbidden = ['~', '^', ':', '?', '*', '[', '\\'].find((c) => ref.includes(c));
  if (forbidden) return `contains "${forbidden}", which git does not allow in a ref name`;
  if (ref.includes('..')) return 'contains "..", which git does not allow in a ref name';
  if (ref.includes('@{')) return 'contains "@{", which git does not allow in a ref name';
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) return 'begins or ends with "/" or contains "//"';
  if (ref.endsWith('.')) return 'ends with "."';
  for (const part of ref.split('/')) {
    if (part.startsWith('.')) return `has a part "${part}" beginning with "."`;
    if (part.endsWith('.lock')) return `has a part "${part}" ending with ".lock"`;
  }
  return undefined;
}

function describeChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (c === ' ') return 'a space';
  return `the character U+${code.toString(16).toUpperCase().padStart(4, '0')}${code > 0x20 && code !== 0x7f && code < 0x80 ? ` "${c}"` : ''}`;
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i;
const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** Why `host` is not a host a repository can live on: a DNS name with a top-level domain, or an IPv4 address. */
export function hostProblem(host: string): string | undefined {
  if (IPV4.test(host)) return undefined;
  if (host.length > 253) return `host "${host.slice(0, 40)}…" is longer than 253 characters`;
  const labels = host.split('.');
  if (labels.length < 2) return `host "${host}" is not a fully qualified name (no domain, e.g. github.com)`;
  const badLabel = labels.find((l) => l.length === 0 || l.length > 63 || !LABEL.test(l));
  if (badLabel !== undefined) return `host "${host}" has an invalid part "${badLabel}"`;
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return `host "${host}" is neither a DNS name nor an IPv4 address`;
  return undefined;
}

const PRINTABLE = /^[\x21-\x7e]+$/;
const PORT = /^[1-9][0-9]{0,4}$/;

function portProblem(port: string | undefined): string | undefined {
  if (port === undefined) return undefined;
  if (!PORT.test(port) || Number(port) > 65535) return `port "${port}" is not a number from 1 to 65535`;
  return undefined;
}

/**
 * Why `url` is not a plain https URL with a real host and no credentials, or undefined.
 * `needsPath`: a git repository URL names a repository (https://host/owner/repo.git).
 */
export function httpsUrlProblem(url: string, needsPath: boolean): string | undefined {
  if (typeof url !== 'string' || url === '') return 'is empty';
  if (!PRINTABLE.test(url)) return 'contains spaces, line breaks or non-ASCII characters';
  const m = /^https:\/\/([^/?#]*)([^?#]*)(.*)$/.exec(url);
  if (!m) return 'is not an https:// URL';
  const [, authority = '', path = '', rest = ''] = m;
  if (authority.includes('@')) return 'contains credentials (user-info before "@"); Argo CD takes them from a repository Secret, never from the URL';
  if (rest !== '') return 'has a query or fragment ("?" or "#")';
  const hp = /^([^:]*)(?::(.*))?$/.exec(authority)!;
  const host = hp[1]!.toLowerCase();
  const p = hostProblem(host) ?? portProblem(hp[2]);
  if (p) return p;
  if (needsPath && (path === '' || path === '/')) return 'has no repository path (e.g. https://github.com/owner/repo.git)';
  if (path.includes('//') || path.split('/').some((s) => s === '.' || s === '..')) return 'has an empty, "." or ".." path segment';
  return undefined;
}

/**
 * git:// (git's own unauthenticated protocol, git-scm.com/docs/git-daemon) is accepted only for a Service
 * inside the cluster (`<service>.<namespace>.svc[.cluster.local]`): the end-to-end run's git server
 * (scripts/lib/cluster/e2e/git-server.ts) that serves a checkout to Argo CD. Anywhere else it would be an
 * unauthenticated clone over the network.
 */
function inClusterGitUrlProblem(url: string): string | undefined {
  const m = /^git:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\.svc(\.cluster\.local)?)(?::([^/]*))?(\/[^?#]*)$/.exec(url);
  if (!m) return 'is a git:// URL outside the cluster: git:// is accepted only for an in-cluster Service (git://<service>.<namespace>.svc.cluster.local/<repo>), e.g. the e2e git server; use https:// or ssh://';
  const path = m[6]!;
  if (path === '/' || path.split('/').some((s) => s === '.' || s === '..')) return 'has no repository path, or a "." or ".." path segment';
  return portProblem(m[5]);
}

/**
 * Why `url` is not a git URL Argo CD may clone, or undefined: https (see httpsUrlProblem),
 * `ssh://[user@]host[:port]/path` or scp-like `[user@]host:path`. An ssh user name (such as `git`) is
 * the account, not a secret, but a password (`user:password@`) is refused: Argo CD takes the key or
 * password from a repository Secret (argo-cd docs/user-guide/private-repositories.md).
 */
export function gitUrlProblem(url: string): string | undefined {
  if (typeof url !== 'string' || url === '') return 'is empty';
  if (!PRINTABLE.test(url)) return 'contains spaces, line breaks or non-ASCII characters';
  if (url.startsWith('https://')) return httpsUrlProblem(url, true);
  if (url.startsWith('git://')) return inClusterGitUrlProblem(url);
  let user: string | undefined;
  let host: string;
  let port: string | undefined;
  let path: string;
  const ssh = /^ssh:\/\/(?:([^@/]*)@)?([^/:@]+)(?::([^/]*))?(\/.*)?$/.exec(url);
  const scp = /^(?:([^@/:]*)@)?([^/:@]+):(.*)$/.exec(url);
  if (url.startsWith('ssh://')) {
    if (!ssh) return 'is not a valid ssh:// URL (ssh://git@host/owner/repo.git)';
    [, user, host = '', port, path = ''] = ssh;
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    return 'uses a scheme other than https://, ssh:// or (inside the cluster) git://';
  } else if (/^[^/@]*:[^/]*@/.test(url)) {
    return 'contains a password (user:password@); use an ssh key in an Argo CD repository Secret';
  } else if (scp) {
    [, user, host = '', path = ''] = scp;
  } else {
    return 'is neither an https:// URL, an ssh:// URL nor an scp-like git@host:owner/repo.git address';
  }
  if (user !== undefined && user.includes(':')) return 'contains a password (user:password@); use an ssh key in an Argo CD repository Secret';
  if (user !== undefined && !/^[a-z_][a-z0-9_.-]*$/i.test(user)) return `has an invalid ssh user "${user}"`;
  const p = hostProblem(host.toLowerCase()) ?? portProblem(port);
  if (p) return p;
  if (path === '' || path === '/') return 'has no repository path (e.g. git@github.com:owner/repo.git)';
  if (path.startsWith('-')) return 'has a path beginning with "-", which git would read as an option';
  return undefined;
}

/** A github.com repository, as named by gitops.yaml `repoURL` (previews, signatures, promotion pull requests). */
export interface GithubRepo {
  owner: string;
  repo: string;
}

const NAME = '[A-Za-z0-9_.-]+';
const FORMS = [
  new RegExp(`^https://github\\.com/(${NAME})/(${NAME}?)(?:\\.git)?/?$`),
  new RegExp(`^git@github\\.com:(${NAME})/(${NAME}?)(?:\\.git)?$`),
  new RegExp(`^ssh://git@github\\.com/(${NAME})/(${NAME}?)(?:\\.git)?$`),
];

/** owner/repo of a github.com repository URL (https, scp-like or ssh form); anything else is a usage error. */
export function githubRepoOf(repoURL: string): GithubRepo {
  for (const form of FORMS) {
    const m = form.exec(repoURL);
    if (m) return { owner: m[1]!, repo: m[2]!.replace(/\.git$/, '') };
  }
  throw new UsageError(`gitops.yaml repoURL ${JSON.stringify(repoURL)} is not a github.com repository: pull requests can only be opened on GitHub (promote with --commit and push instead)`);
}
