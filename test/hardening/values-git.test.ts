// Revisions and URLs that reach Argo CD's generated files (scripts/lib/inputs/refs-urls.ts): the attacks of
// issue 11 ("Junk accepted into generated files", "Credentials in repository URLs"), and the revision
// rule checked against the real `git check-ref-format`.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gitRevisionProblem, gitUrlProblem, httpsUrlProblem } from '../../scripts/lib/inputs/refs-urls.ts';

describe('targetRevision', () => {
  it.each([
    ['--upload-pack=touch /tmp/pwned', /begins with "-"/],
    ['-b', /begins with "-"/],
    ['main\u0000', /U\+0000/],
    ['ma in', /a space/],
    ['main\n', /U\+000A/],
    ['a..b', /"\.\."/],
    ['HEAD@{1}', /"@\{"/],
    ['@', /reserves/],
    ['v1~1', /"~"/],
    ['v1^', /"\^"/],
    ['refs/heads/a:b', /":"/],
    ['feat*', /"\*"/],
    ['a\\b', /"\\"/],
    ['release/', /"\/"/],
    ['/main', /"\/"/],
    ['a//b', /"\/\/"/],
    ['main.', /ends with "\."/],
    ['.hidden', /beginning with "\."/],
    ['refs/heads/x.lock', /\.lock/],
    ['ma\u202ein', /U\+202E/],
    ['mai\u200bn', /U\+200B/],
    ['', /empty/],
    ['a'.repeat(256), /limit is 255/],
  ])('refuses %j', (ref, message) => {
    expect(gitRevisionProblem(ref)).toMatch(message);
  });

  it.each(['main', 'HEAD', 'v1.4.2', 'release/2026-11', 'refs/heads/main', 'refs/tags/v1.0.0', 'a/-b', 'feature@x', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '4b825dc'])(
    'accepts %j',
    (ref) => {
      expect(gitRevisionProblem(ref)).toBeUndefined();
    },
  );

  it('accepts nothing that the real `git check-ref-format --allow-onelevel` refuses (git CLI)', () => {
    const samples = [
      'main', 'v1.0', 'a/b', 'a/.b', 'a.lock', 'a/b.lock/c', 'x..y', 'x~', 'x^', 'x:y', 'x?', 'x*', 'x[', 'x\\y', '/x', 'x/', 'x//y',
      'x.', '@', 'x@{y', 'x@y', 'refs/heads/@', '.x', 'x\u007f', 'x y', 'x\ty', 'a/-b', 'x.y.z', 'ref/s.lockx', '_', 'a-', '1', 'HEAD',
    ];
    for (const ref of samples) {
      const git = spawnSync('git', ['check-ref-format', '--allow-onelevel', ref], { encoding: 'utf8' });
      if (gitRevisionProblem(ref) === undefined) expect([ref, git.status]).toEqual([ref, 0]);
    }
    // And the refusals that are ours alone are the ones git itself treats as options.
    const dash = spawnSync('git', ['check-ref-format', '--allow-onelevel', '--upload-pack=x'], { encoding: 'utf8' });
    expect(dash.status).not.toBe(0);
  });
});

describe('repoURL (git URL)', () => {
  it.each([
    ['https://x', /not a fully qualified name/],
    ['https://x/owner/repo.git', /not a fully qualified name/],
    ['https://github.com', /no repository path/],
    ['https://gh' + 'p_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r.git', /credentials/],
    ['https://oauth2:glpat-secret@gitlab.com/o/r.git', /credentials/], // secretlint-disable-line -- a planted fake credential
    ['https://u:p@github.com/o/r.git', /credentials/], // secretlint-disable-line -- a planted fake credential
    ['https://:p@github.com/o/r.git', /credentials/], // secretlint-disable-line -- a planted fake credential
    ['ssh://git:hunter2@github.com/o/r.git', /password/], // secretlint-disable-line -- a planted fake credential
    ['git:hunter2@github.com:o/r.git', /password/],
    ['http://github.com/o/r.git', /scheme other than/],
    ['file:///etc/passwd', /scheme other than/],
    ['ext::sh -c touch% /tmp/pwned', /spaces/],
    ['https://github.com/o/r.git\n', /line breaks/],
    ['https://github.com/o/r .git', /spaces/],
    ['https://github.com/o/r.git?ref=x', /query/],
    ['https://github.com:0/o/r.git', /port/],
    ['https://999.1.1.1/o/r.git', /neither a DNS name/],
    ['https://github.com/o/../r.git', /"\.\."/],
    ['git@github.com:-oProxyCommand=x', /"-"/],
    ['github', /neither/],
  ])('refuses %j', (url, message) => {
    expect(gitUrlProblem(url)).toMatch(message);
  });

  it.each([
    'https://github.com/example-org/gitops-users.git',
    'https://git.example.com:8443/team/repo',
    'https://10.0.0.5/team/repo.git',
    'ssh://git@github.com/example-org/gitops-users.git',
    'ssh://git@git.example.com:2222/team/repo.git',
    'git@github.com:example-org/gitops-users.git',
  ])('accepts %j', (url) => {
    expect(gitUrlProblem(url)).toBeUndefined();
  });
});

describe('operator.chartRepo (Helm repository URL)', () => {
  it.each([
    ['https://mongodb.github.io/helm-charts\nhttps://evil.example.com', /line breaks/],
    ['https://mongodb.github.io/helm charts', /spaces/],
    ['https://user:pw@charts.example.com', /credentials/], // secretlint-disable-line -- a planted fake credential
    ['https://token@charts.example.com', /credentials/],
    ['https://charts', /not a fully qualified name/],
    ['http://charts.example.com', /not an https/],
    ['oci://registry.example.com/charts', /not an https/],
  ])('refuses %j', (url, message) => {
    expect(httpsUrlProblem(url, false)).toMatch(message);
  });

  it.each(['https://mongodb.github.io/helm-charts', 'https://charts.example.com'])('accepts %j', (url) => {
    expect(httpsUrlProblem(url, false)).toBeUndefined();
  });
});
