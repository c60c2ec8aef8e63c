// The one secret detector (scripts/lib/secrets/scan.ts over secretlint) and scan-secrets end to end.
// Every fixture value is built at run time (random or concatenated), so this file itself passes the scan
// and no secret-shaped string is ever committed.
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ALLOW_DIRECTIVE,
  decodeForScan,
  detectInFiles,
  detectInText,
  detectInTexts,
  findingToProblem,
  looksLikeSecret,
  secretProblemsInText,
  secretsIn,
} from '../../scripts/lib/secrets/scan.ts';
import { checkDotenv } from '../../scripts/lib/inputs/dotenv.ts';
import { namesSecret } from '../../scripts/lib/secrets/rules.ts';
import { looksLikeCredential } from '../../scripts/lib/review/validate/policies.ts';

const root = join(import.meta.dirname, '..', '..');
const cat = (...parts: string[]) => parts.join('');
/** A value no one could mistake for a placeholder or a name, fresh on every run. */
const randomSecret = () => `Q${randomBytes(9).toString('base64url')}7z`;
const pem = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = () => cat(b64url({ alg: 'RS256', kid: 'k' }), '.', b64url({ sub: 'system:serviceaccount:dev:ci' }), '.', randomBytes(32).toString('base64url'));
const awsKeyId = () => cat('AK', 'IA', 'QZ7X', 'W2K4', 'PL6M', 'R3TB');
const githubToken = () => cat('gh', 'p_', randomBytes(27).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 36));
const printed = (x: unknown) => JSON.stringify(x);

describe('the secret detector (secretlint recommended preset + repository rules)', () => {
  it.each([
    ['privatekey', () => pem()],
    ['aws', awsKeyId],
    ['github', githubToken],
    ['npm', () => cat('np', 'm_', 'Z9'.repeat(18))],
    ['jwt', jwt],
  ])('finds a %s token, names the line and never the value', async (rule, make) => {
    const value = make();
    const findings = await detectInText('docs/notes.md', `# notes\n\nsee ${value} here\n`);
    expect(findings).toEqual([expect.objectContaining({ file: 'docs/notes.md', line: 3, rule })]);
    const out = printed(findings.map(findingToProblem));
    for (const part of value.split('\n').filter((l) => l.length > 12 && !l.startsWith('-----'))) expect(out).not.toContain(part.slice(4, 16));
  });

  it.each([
    ['kind: "Secret" (quoted)', 'overlays/dev/s.yaml', (v: string) => `apiVersion: v1\nkind: "Secret"\nmetadata: {name: s}\ndata:\n  conn: ${v}\n`, 2],
    ['a Secret inside a kind: List', 'platform/all.yaml', (v: string) => `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n  data:\n    conn: ${v}\n`, 5],
    ['a Secret as .json', 'argocd/apps/x.json', (v: string) => `{\n  "apiVersion": "v1",\n  "kind": "Secret",\n  "metadata": {"name": "s"},\n  "data": {"conn": "${v}"}\n}\n`, 3],
    ['a Secret in flow style', 'platform/f.yaml', (v: string) => `{apiVersion: v1, kind: Secret, metadata: {name: s}, data: {conn: ${v}}}\n`, 1],
    ['a Secret after a ConfigMap', 'platform/m.yaml', (v: string) => `kind: ConfigMap\ndata: {a: b}\n---\nkind: Secret\ndata:\n  conn: ${v}\n`, 4],
  ])('finds %s with data', async (_name, file, content, line) => {
    const findings = await detectInText(file, content(Buffer.from(randomSecret()).toString('base64')));
    expect(findings).toContainEqual(expect.objectContaining({ file, line, rule: 'kubernetes-secret' }));
  });

  it('finds a Kustomize secretGenerator with literals, not one without', async () => {
    const with_ = await detectInText('overlays/dev/kustomization.yaml', `kind: Kustomization\nsecretGenerator:\n- name: db\n  literals:\n  - conn=${randomSecret()}\n`);
    expect(with_).toEqual([expect.objectContaining({ line: 5, rule: 'kubernetes-secret' })]);
    expect(await detectInText('overlays/dev/kustomization.yaml', 'kind: Kustomization\nsecretGenerator:\n- name: db\n  options: {disableNameSuffixHash: true}\n')).toEqual([]);
  });

  it('finds a block-scalar password, in a Secret and in any YAML settings file', async () => {
    const secret = randomSecret();
    const inSecret = await detectInText('s.yaml', `kind: Secret\nstringData:\n  password: |\n    ${secret}\n`);
    expect(inSecret.map((f) => f.rule)).toEqual(['kubernetes-secret', 'secret-setting']);
    const inValues = await detectInText('values.yaml', `auth:\n  password: |\n    ${secret}\n`);
    expect(inValues).toEqual([expect.objectContaining({ line: 2, rule: 'secret-setting' })]);
    expect(printed(inValues.map(findingToProblem))).not.toContain(secret);
  });

  it('finds a base64-encoded PEM private key in a Secret, a ConfigMap or a .env value', async () => {
    const encoded = Buffer.from(pem()).toString('base64');
    expect((await detectInText('cm.yaml', `kind: ConfigMap\nbinaryData:\n  k: ${encoded}\n`)).map((f) => f.rule)).toEqual(['base64-private-key']);
    expect((await detectInText('overlays/dev/.env', `SIGNING=${encoded}\n`)).map((f) => f.rule)).toEqual(['base64-private-key']);
  });

  it.each([
    ['a token as the URL user', (s: string) => `repoURL: https://${s}@github.com/o/r.git`],
    ['a password under 8 characters', () => `chartRepo: https://ci:${cat('Q7', 'x')}@charts.example.com`],
    ['a password in an ssh URL', (s: string) => `repoURL: ssh://git:${s}@github.com/o/r.git`],
    ['a password in a git+https URL', (s: string) => `src: git+https://bot:${s}@example.com/r.git`],
    ['?password= in a query string', (s: string) => `HEALTH=https://h.example.com/c?user=x&password=${s}`],
  ])('finds %s', async (_name, line) => {
    const secret = randomSecret();
    const findings = await detectInText('gitops.yaml', `${line(secret)}\n`);
    expect(findings.map((f) => f.rule)).toContain('url-credentials');
    expect(printed(findings.map(findingToProblem))).not.toContain(secret);
  });

  it('in settings files (.env, YAML, JSON) any user-info is a finding, placeholders included; in prose they are not', async () => {
    const line = 'repoURL: https://user:password@github.com/o/r.git and mongodb://u:p@db-0:27017/admin\n';
    expect((await detectInText('gitops.yaml', line)).map((f) => f.rule)).toEqual(['url-credentials']);
    expect(secretsIn(['https://user:password@example.com', 'https://token@example.com', 'https://$USER:$PASS@example.com'])).toEqual([expect.stringMatching(/^url-credentials/), expect.stringMatching(/^url-credentials/), undefined]);
    expect(await detectInText('docs/a.md', line)).toEqual([]);
  });

  it.each([
    ['a Secret referenced by name', 'platform/x.yaml', 'passwordSecretRef:\n  name: users-db-users-api-password\n  key: password\n'],
    ['a password generated by a command', 'docs/mongodb.md', 'kubectl create secret generic s --from-literal=password="$(openssl rand -base64 32)"\n'],
    ['a variable', 'deploy.sh', 'export DB_PASSWORD=${DB_PASSWORD}\n'],
    ['placeholders in URLs', 'docs/a.md', 'mongodb://<user>:<password>@host:27017/admin and mongodb://users-api:…@db-0:27017/admin\n'],
    ['one-character documentation shorthand in a URL', 'docs/u.md', 'the multi-host `mongodb://u:p@db-0:27017,db-1:27017/admin` form\n'],
    ['an ssh login name', 'gitops.yaml', 'repoURL: ssh://git@github.com/o/r.git\nmirror: git@github.com:o/r.git\n'],
    ['an "@" in a URL path or an image digest', 'docs/d.md', `https://www.npmjs.com/package/@secretlint/core and mongo@sha256:${'ab'.repeat(32)}\n`],
    ['a Secret without data', 'b.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: filled-on-the-cluster\n'],
    ['a TLS Secret named in env.yaml', 'overlays/prod/env.yaml', 'ingress:\n  tlsSecret: users-api-tls\n'],
    ['a GitHub Actions secret reference', '.github/workflows/ci.yml', 'env:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n'],
    ['a template-literal password', 'test/x.test.ts', 'const uri = `mongodb://users-api:${encodeUserinfoComponent(STAND_IN_APP_USER.password)}@${hosts}/admin`;\n'],
  ])('does not flag %s', async (_name, file, content) => {
    expect(await detectInText(file, content)).toEqual([]);
  });

  it('a secret-named key is a whole word at the end of the key', () => {
    for (const key of ['password', 'DB_PASSWORD', 'dbPassword', 'apiKey', 'api_key', 'githubToken', 'id-token', 'clientSecret', 'credentials']) expect(namesSecret(key), key).toBe(true);
    for (const key of ['bypass', 'compass', 'passwordSecretRef', 'secretName', 'tokenFile', 'DBPASSWORD', 'keys']) expect(namesSecret(key), key).toBe(false);
  });

  it(`skips a line marked "${ALLOW_DIRECTIVE}" (secretlint's own directive)`, async () => {
    const content = `x: ${githubToken()}  # ${ALLOW_DIRECTIVE} -- documented fake\n`;
    expect(await detectInText('docs/x.yaml', content)).toEqual([]);
  });

  it('reports in a stable order: by file, then line', async () => {
    const a = awsKeyId();
    const findings = await detectInTexts([{ path: 'b.md', text: `x\n${a}\n` }, { path: 'a.md', text: `${a}\n\n${a}\n` }]);
    expect(findings.map((f) => `${f.file}:${f.line}`)).toEqual(['a.md:1', 'a.md:3', 'b.md:2']);
  });
});

describe('decoding what can be decoded, reporting what cannot', () => {
  const token = githubToken();
  it.each([
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`a\n${token}\n`, 'utf16le')]), 'UTF-16LE'],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(`a\n${token}\n`, 'utf16le').swap16()]), 'UTF-16BE'],
    ['UTF-16LE without BOM', Buffer.from(`abc\n${token}\n`, 'utf16le'), 'UTF-16LE (no BOM)'],
    ['one NUL byte', Buffer.from(`a\u0000\n${token}\n`), 'UTF-8 text runs'],
    ['invalid UTF-8 bytes', Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.from(`${token}\n`)]), 'UTF-8'],
  ])('scans a file in %s and keeps line numbers', async (_name, bytes, encoding) => {
    const decoded = decodeForScan(bytes);
    expect(decoded).toEqual(expect.objectContaining({ encoding }));
    expect(await detectInFiles([{ path: 'f.txt', bytes }])).toEqual([expect.objectContaining({ line: 2, rule: 'github' })]);
  });

  it.each([
    ['gzip-compressed data', gzipSync(Buffer.from(token))],
    ['UTF-32 text', Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0])],
  ])('reports %s as unscannable', async (reason, bytes) => {
    expect(await detectInFiles([{ path: 'x.bin', bytes }])).toEqual([{ file: 'x.bin', line: 1, rule: 'unscannable', message: `cannot be scanned: ${reason}` }]);
  });

  it('an alias bomb and a YAML syntax error are findings for their files; the other files are still scanned', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefg'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`)].join('\n');
    const findings = await detectInFiles([
      { path: 'a-bomb.yaml', bytes: Buffer.from(bomb) },
      { path: 'b-broken.yaml', bytes: Buffer.from('a: [\n') },
      { path: 'c.md', bytes: Buffer.from(awsKeyId()) },
    ]);
    expect(findings.map((f) => `${f.file} ${f.rule}`)).toEqual(['a-bomb.yaml unscannable', 'b-broken.yaml unscannable', 'c.md aws']);
    expect(findings[0]!.message).toMatch(/alias bomb/);
  });
});

describe('the synchronous entry points (.env check, validate policy)', () => {
  it.each([
    ['a PEM private key (one line)', () => pem().replace(/\n/g, '')],
    ['an AWS key id', awsKeyId],
    ['a GitHub token', githubToken],
    ['a JWT', jwt],
    ['?password= in a value', () => `https://status.example.com/c?password=${randomSecret()}`],
    ['a base64-encoded PEM', () => Buffer.from(pem()).toString('base64')],
  ])('.env: %s is a problem on its line, value not shown', (_name, make) => {
    const value = make();
    const problems = secretProblemsInText('overlays/dev/.env', `LOG_LEVEL=info\nUPSTREAM=${value}\n`);
    expect(problems).toEqual([expect.objectContaining({ file: 'overlays/dev/.env', path: 'line 2' })]);
    expect(printed(problems)).not.toContain(value.slice(10, 30));
    expect(looksLikeSecret(value)).toBe(true);
  });

  it.each([
    ['a PEM private key (one line)', () => pem().replace(/\n/g, '')],
    ['an AWS key id', awsKeyId],
    ['a GitHub token', githubToken],
    ['a JWT', jwt],
    ['?password= in a value', () => `https://status.example.com/c?password=${randomSecret()}`],
    ['a base64-encoded PEM', () => Buffer.from(pem()).toString('base64')],
    ['a token as the URL user', () => `https://${randomSecret()}@example.com/x`],
  ])('generate refuses a .env value holding %s (checkDotenv, value not shown)', (_name, make) => {
    const value = make();
    const { problems } = checkDotenv('overlays/dev/.env', `LOG_LEVEL=info\nCORS_ORIGIN=${value}\n`);
    expect(problems).toContainEqual(expect.objectContaining({ path: 'line 2', message: expect.stringMatching(/^CORS_ORIGIN holds what looks like a secret/) }));
    expect(printed(problems)).not.toContain(value.slice(10, 30));
  });

  it('validate: the no-secrets-in-git policy finds the same values in rendered ConfigMaps and env literals', () => {
    for (const value of [jwt(), githubToken(), awsKeyId(), `https://${randomSecret()}@example.com/`, Buffer.from(pem()).toString('base64')]) {
      expect(looksLikeCredential('CORS_ORIGIN', value)).toBe(true);
    }
    expect(looksLikeCredential('CORS_ORIGIN', 'https://users.example.com')).toBe(false);
  });

  it('secretsIn: many values in one run, each finding on its own value', () => {
    const found = secretsIn(['debug', jwt(), 'users', awsKeyId(), '']);
    expect(found.map((f) => f?.split(':')[0])).toEqual([undefined, 'jwt', undefined, 'aws', undefined]);
  });

  it('ordinary settings are not secrets', () => {
    expect(secretProblemsInText('overlays/dev/.env', 'LOG_LEVEL=info\nTRUST_PROXY=true\nMONGODB_DB=users\n')).toEqual([]);
    expect(looksLikeSecret('https://users.example.com/healthz')).toBe(false);
  });
});

describe('scan-secrets (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scan-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, encoding: 'utf8' });
  git('init', '-q');
  // A user's repository: its settings file marks the root every command looks for (scripts/lib/core/cli.ts findRepoRoot).
  const SETTINGS = 'repoURL: https://github.com/example-org/gitops-users.git\nimage: ghcr.io/example-org/users-api\n';
  writeFileSync(join(dir, 'gitops.yaml'), SETTINGS);
  git('add', 'gitops.yaml');
  const run = (...args: string[]) => spawnSync(process.execPath, [join(root, 'scripts', 'scan-secrets.ts'), ...args], { cwd: dir, encoding: 'utf8' });

  it('exits 2 for a path that does not exist, in a tree without git and outside a repository, scanning nothing', () => {
    const r = run('no-such-dir');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no such file or directory: no-such-dir');
    const outside = mkdtempSync(join(tmpdir(), 'scan-secrets-nogit-'));
    const scanIn = (cwd: string) => spawnSync(process.execPath, [join(root, 'scripts', 'scan-secrets.ts')], { cwd, encoding: 'utf8', env: { ...process.env, GIT_CEILING_DIRECTORIES: tmpdir() } });
    try {
      // No gitops.yaml from here up: not a repository at all.
      const none = scanIn(outside);
      expect(none.status).toBe(2);
      expect(none.stdout).toBe('');
      expect(none.stderr).toContain(`run inside the repository (no gitops.yaml found from ${realpathSync(outside)} up)`);
      // A repository's files without git (an exported tree): git cannot list what is tracked, so nothing is scanned.
      writeFileSync(join(outside, 'gitops.yaml'), SETTINGS);
      const nogit = scanIn(outside);
      expect(nogit.status).toBe(2);
      expect(nogit.stdout).toBe('');
      expect(nogit.stderr).toMatch(/cannot list files with git/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('exits 0 on a clean tree and 1 with file, line and rule of a finding, without the value', () => {
    writeFileSync(join(dir, 'README.md'), '# nothing to see\n');
    git('add', 'README.md');
    expect(run().status).toBe(0);
    const token = githubToken();
    writeFileSync(join(dir, 'notes.md'), `hello\nbot ${token}\n`);
    const dirty = run();
    expect(dirty.status).toBe(1);
    expect(dirty.stdout).toContain('notes.md:2: github');
    expect(dirty.stdout + dirty.stderr).not.toContain(token.slice(4));
    rmSync(join(dir, 'notes.md'));
  });

  it('scans force-added node_modules paths and package-lock.json, and ignores what git ignores', () => {
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\nlocal.env\n');
    mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'x', 'index.js'), `module.exports = '${awsKeyId()}';\n`);
    writeFileSync(join(dir, 'local.env'), `K=${awsKeyId()}\n`);
    expect(run().status).toBe(0); // ignored, not tracked
    git('add', '-f', 'node_modules/x/index.js');
    writeFileSync(join(dir, 'package-lock.json'), `{\n  "resolved": "https://ci:${randomSecret()}@registry.example.com/x.tgz"\n}\n`);
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('node_modules/x/index.js:1: aws');
    expect(r.stdout).toContain('package-lock.json:2: url-credentials');
    expect(r.stdout).not.toContain('local.env');
    git('rm', '-q', '--cached', 'node_modules/x/index.js');
    rmSync(join(dir, 'package-lock.json'));
  });

  // As root every file is readable, so there is nothing to provoke.
  it.skipIf(process.getuid?.() === 0)('an untracked file it cannot read is a finding, not a silent skip', () => {
    writeFileSync(join(dir, 'locked.txt'), 'x\n', { mode: 0o000 });
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('locked.txt:1: unscannable: cannot be read');
    rmSync(join(dir, 'locked.txt'));
  });

  it('a tracked symlink is scanned as what git stores (its target path), never followed', () => {
    const outside = mkdtempSync(join(tmpdir(), 'scan-secrets-outside-'));
    try {
      writeFileSync(join(outside, 'creds.txt'), `${awsKeyId()}\n`);
      symlinkSync(join(outside, 'creds.txt'), join(dir, 'link.txt'));
      git('add', 'link.txt');
      expect(run().status).toBe(0);
      git('rm', '-q', '--cached', 'link.txt');
      rmSync(join(dir, 'link.txt'));
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('scans the staged version when the work tree no longer has the secret', () => {
    writeFileSync(join(dir, 'app.yaml'), `token: ${githubToken()}\n`);
    git('add', 'app.yaml');
    writeFileSync(join(dir, 'app.yaml'), 'token: ${TOKEN}\n');
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('app.yaml (staged):1: github');
    git('rm', '-q', '--cached', '-f', 'app.yaml');
    rmSync(join(dir, 'app.yaml'));
  });

  it('a submodule is reported as unscannable, not skipped', () => {
    const sub = mkdtempSync(join(tmpdir(), 'scan-secrets-sub-'));
    try {
      execFileSync('git', ['init', '-q'], { cwd: sub });
      writeFileSync(join(sub, 'x.txt'), 'x\n');
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'add', 'x.txt'], { cwd: sub });
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'x'], { cwd: sub });
      git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', sub, 'vendor/sub');
      const r = run();
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('vendor/sub:1: unscannable: a submodule');
      git('rm', '-q', '-f', 'vendor/sub');
      git('rm', '-q', '-f', '.gitmodules');
      rmSync(join(dir, '.git', 'modules'), { recursive: true, force: true });
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  });

  it('a UTF-16 file, a file with a NUL byte, an alias bomb and a gzip file: all reported, none aborts the scan', () => {
    writeFileSync(join(dir, 'u16.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`x\n${githubToken()}\n`, 'utf16le')]));
    writeFileSync(join(dir, 'nul.txt'), `a\u0000b\n${awsKeyId()}\n`);
    writeFileSync(join(dir, 'bomb.yaml'), ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefg'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`)].join('\n'));
    writeFileSync(join(dir, 'env.gz'), gzipSync(Buffer.from('x')));
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('u16.txt:2: github');
    expect(r.stdout).toContain('nul.txt:2: aws');
    expect(r.stdout).toMatch(/bomb\.yaml:1: unscannable: .*alias bomb/);
    expect(r.stdout).toContain('env.gz:1: unscannable: cannot be scanned: gzip-compressed data');
    for (const f of ['u16.txt', 'nul.txt', 'bomb.yaml', 'env.gz']) rmSync(join(dir, f));
  });
});
