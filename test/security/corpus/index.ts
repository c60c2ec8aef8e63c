// The corpus of planted secrets both detectors are measured on (test/security/corpus.test.ts).
// Nothing secret-shaped is committed: every token is assembled at run time from pieces and a seeded
// generator, and every private key is generated on the spot (node:crypto), so the corpus is the same
// on every run except for the key bytes, which no rule depends on.
import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { prng } from '../../review/scaled-repo.ts';

export interface CorpusCase {
  id: string;
  /** what is planted, as the results table shows it */
  what: string;
  path: string;
  bytes: Uint8Array;
  /** true: a planted secret (or a file that could hide one) that must be reported; false: must not be */
  planted: boolean;
}

/** mulberry32 (test/review/scaled-repo.ts prng): a small seeded generator, so the corpus is reproducible. */
const generator = prng;

const cat = (...parts: string[]): string => parts.join('');
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

export function buildCorpus(seed = 20261201): CorpusCase[] {
  const next = generator(seed);
  const pick = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const UPPER32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  /** a password with upper, lower and digits and no repeated character: nothing a rule could take for a name */
  const password = (n: number): string => {
    const chars = [pick('ABCDEFGHJKLMNPQRSTUVWXYZ', 1), pick('abcdefghijkmnopqrstuvwxyz', 1), pick('23456789', 1)];
    while (chars.length < n) {
      const c = pick(ALNUM, 1);
      if (!chars.includes(c)) chars.push(c);
    }
    return chars.join('');
  };

  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const ecPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ec = ecPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = ecPair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const openssh = cat('-----BEGIN OPENSSH ', 'PRIVATE KEY-----\n', 'b3BlbnNzaC1rZXktdjE', pick(ALNUM, 45), '\n', pick(ALNUM, 70), '\n', pick(ALNUM, 70), '\n-----END OPENSSH ', 'PRIVATE KEY-----\n');
  const awsId = cat('AK', 'IA', pick(UPPER32, 16));
  const awsSecret = pick(`${ALNUM}/+`, 40);
  const ghClassic = cat('gh', 'p_', pick(ALNUM, 36));
  const ghFine = cat('github', '_pat_', pick(ALNUM, 22), '_', pick(ALNUM, 59));
  const gitlab = cat('gl', 'pat-', pick(ALNUM, 20));
  const slack = cat('xo', 'xb-', pick('0123456789', 12), '-', pick('0123456789', 13), '-', pick(ALNUM, 24));
  const npm = cat('np', 'm_', pick(ALNUM, 36));
  const stripe = cat('sk', '_live_', pick(ALNUM, 24));
  const google = cat('AI', 'za', pick(`${ALNUM}_-`, 35));
  const b64url = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = cat(b64url({ alg: 'RS256', kid: pick(ALNUM, 16) }), '.', b64url({ iss: 'kubernetes/serviceaccount', sub: 'system:serviceaccount:dev:users-api' }), '.', pick(`${ALNUM}_-`, 86));
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const hex = (n: number): string => pick('0123456789abcdef', n);
  const pw = password(16);

  const secret = (extra: string): string => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: users-db-password\n${extra}`;
  const utf16 = (bom: number[], text: string, bigEndian: boolean): Uint8Array => {
    const le = Buffer.from(text, 'utf16le');
    return Buffer.concat([Buffer.from(bom), bigEndian ? Buffer.from(le).swap16() : le]);
  };
  // A Secret-shaped document made of a billion-laughs alias tree (the issue's reproduction: the old scanner
  // expanded it and the whole scan aborted).
  const aliasBomb = ['kind: Secret', 'a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)].join('\n');

  const planted: [string, string, string, string | Uint8Array][] = [
    ['pem-rsa-markdown', 'RSA private key (PKCS#1 PEM) in a runbook', 'docs/runbook.md', `# Access\n\n\`\`\`\n${rsa}\`\`\`\n`],
    ['pem-ec-yaml-block', 'EC private key (PKCS#8) in a YAML block scalar', 'platform/tls-values.yaml', `tls:\n  key: |\n${ec.trimEnd().split('\n').map((l) => `    ${l}`).join('\n')}\n`],
    ['pem-openssh', 'OpenSSH private key, file without extension', 'deploy/id_ed25519', openssh],
    ['aws-key-id-env', 'AWS access key id as a .env value', 'overlays/dev/.env', `LOG_LEVEL=info\nS3_UPLOADS=${awsId}\n`],
    ['aws-secret-key-sh', 'AWS secret access key in a shell script', 'scripts/upload.sh', `#!/bin/sh\nexport AWS_SECRET_ACCESS_KEY=${awsSecret}\n`],
    ['github-classic-ts', 'GitHub token (classic) in TypeScript', 'scripts/lib/notify.ts', `const auth = '${ghClassic}';\nexport default auth;\n`],
    ['github-fine-grained-md', 'GitHub fine-grained token in Markdown', 'docs/ci.md', `Use \`${ghFine}\` for the bot.\n`],
    ['gitlab-json', 'GitLab token in JSON', 'config/ci.json', `{\n  "mirror": { "auth": "${gitlab}" }\n}\n`],
    ['slack-yaml', 'Slack bot token in YAML', 'platform/alerts.yaml', `receivers:\n  - name: ops\n    slack: { bot: ${slack} }\n`],
    ['npm-npmrc', 'npm token in .npmrc', '.npmrc', `//registry.npmjs.org/:_authToken=${npm}\n`],
    ['stripe-ts', 'Stripe live secret key in code', 'apps/users-api/src/billing.ts', `export const key = "${stripe}";\n`],
    ['google-api-key', 'Google API key in YAML', 'platform/maps.yaml', `maps:\n  browser: ${google}\n`],
    ['jwt-env', 'JWT as a .env value', 'overlays/staging/.env', `LOG_LEVEL=info\nUPSTREAM_AUTH=${jwt}\n`],
    ['jwt-kubeconfig', 'ServiceAccount token (JWT) in a kubeconfig', 'deploy/kubeconfig.yaml', `users:\n- name: ci\n  user:\n    token: ${jwt}\n`],
    ['url-password-https', 'https URL with user:password@', 'README.md', `Clone: https://deploy:${pw}@git.example.com/o/r.git\n`],
    ['url-token-as-user', 'https URL with a token as the user', 'gitops.yaml', `repoURL: https://${hex(40)}@github.com/o/r.git\n`],
    ['url-short-password', 'URL password under 8 characters', 'gitops.yaml', `operator:\n  chartRepo: https://ci:${password(6)}@charts.example.com\n`],
    ['url-placeholder-in-settings', 'placeholder user-info in a URL setting (any user-info is refused there)', 'gitops.yaml', 'repoURL: https://user:password@github.com/o/r.git\n'],
    ['url-ssh-password', 'ssh URL with a password', 'overlays/dev/env.yaml', `targetRevision: main\nrepoURL: ssh://git:${password(10)}@github.com/o/r.git\n`],
    ['url-mongodb-password', 'MongoDB connection string with a password', 'docs/db.md', `Connect with mongodb://app:${pw}@db-0.db:27017/users\n`],
    ['url-password-query', '`?password=` in a .env value', 'overlays/dev/.env', `HEALTH_URL=https://status.example.com/check?user=ci&password=${pw}\n`],
    ['k8s-secret-yaml', 'Secret with data (YAML)', 'overlays/dev/secret.yaml', secret(`data:\n  conn: ${b64(pw)}\n`)],
    ['k8s-secret-quoted-kind', 'Secret written as kind: "Secret"', 'overlays/dev/db.yaml', `apiVersion: "v1"\nkind: "Secret"\nmetadata: {name: db}\ndata:\n  conn: ${b64(pw)}\n`],
    ['k8s-secret-in-list', 'Secret inside a kind: List', 'platform/all.yaml', `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n  data:\n    conn: ${b64(pw)}\n`],
    ['k8s-secret-json', 'Secret as .json', 'argocd/apps/extra.json', JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { conn: b64(pw) } }, null, 2)],
    ['k8s-secret-block-scalar', 'Secret stringData `password: |`', 'overlays/prod/secret.yaml', secret(`stringData:\n  password: |\n    ${pw}\n`)],
    ['k8s-secret-b64-pem', 'Secret data: base64-encoded PEM key', 'overlays/prod/tls.yaml', `apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: tls}\ndata:\n  tls.key: ${b64(ec)}\n`],
    ['b64-pem-configmap', 'base64-encoded PEM key in a ConfigMap', 'platform/keys.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keys}\nbinaryData:\n  signing: ${b64(rsa)}\n`],
    ['b64-pem-env', 'base64-encoded PEM key as a .env value', 'overlays/dev/.env', `SIGNING=${b64(ec)}\n`],
    ['kustomize-secret-generator', 'Kustomize secretGenerator with a literal', 'overlays/dev/kustomization.yaml', `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n- name: db\n  literals:\n  - password=${pw}\n`],
    ['k8s-secret-flow', 'Secret in YAML flow style', 'platform/flow.yaml', `{apiVersion: v1, kind: Secret, metadata: {name: s}, stringData: {apiKey: ${pw}}}\n`],
    ['k8s-secret-multidoc', 'Secret after a ConfigMap in one stream', 'platform/stream.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n---\n${secret(`data:\n  p: ${b64(pw)}\n`)}`],
    ['utf16le-bom', 'GitHub token in a UTF-16LE file with BOM', 'docs/notes.txt', utf16([0xff, 0xfe], `notes\r\ntoken ${ghClassic}\r\n`, false)],
    ['utf16be-bom', 'AWS key id in a UTF-16BE file with BOM', 'docs/notes-be.txt', utf16([0xfe, 0xff], `key ${awsId}\n`, true)],
    ['nul-byte', 'AWS key id in a file with one NUL byte', 'scripts/data.txt', `header\u0000\nid=${awsId}\n`],
    ['node-modules', 'npm token in a force-added node_modules file', 'node_modules/left-pad/index.js', `module.exports = '${npm}';\n`],
    ['package-lock', 'URL credentials in package-lock.json', 'package-lock.json', `{\n  "packages": {\n    "node_modules/x": {\n      "resolved": "https://ci:${pw}@registry.example.com/x/-/x-1.0.0.tgz"\n    }\n  }\n}\n`],
    ['yaml-alias-bomb', 'YAML alias bomb in a Secret-shaped file (cannot be checked safely)', 'platform/bomb.yaml', aliasBomb],
    ['yaml-syntax-error', 'YAML syntax error around a Secret', 'overlays/dev/broken.yaml', `apiVersion: v1\nkind: Secret\ndata:\n  password: ${b64(pw)}\n   bad: [\n`],
    ['gzip', 'gzip-compressed file with a token inside', 'backup/env.gz', gzipSync(Buffer.from(`TOKEN=${ghClassic}\n`))],
    ['yaml-password', 'literal password under `password:` in YAML values', 'platform/values.yaml', `db:\n  user: app\n  password: ${pw}\n`],
    ['yaml-block-password', 'YAML block-scalar `password: |` outside a Secret', 'platform/db-values.yaml', `auth:\n  password: |\n    ${pw}\n`],
    ['env-password', 'literal `DB_PASSWORD=` in a .env file', 'deploy/.env', `DB_PASSWORD=${pw}\n`],
  ];

  const clean: [string, string, string, string | Uint8Array][] = [
    ['secret-reference', 'passwordSecretRef by name', 'platform/mongodb/replicaset/users.yaml', 'users:\n- name: users-api\n  passwordSecretRef:\n    name: users-db-users-api-password\n    key: password\n'],
    ['secret-without-data', 'Secret without data (filled on the cluster)', 'platform/empty-secret.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: filled-on-the-cluster\n'],
    ['secret-empty-data', 'Secret with `data: {}`', 'platform/empty-data.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {}\n'],
    ['generated-password', 'password generated by a command', 'docs/mongodb.md', 'kubectl create secret generic s --from-literal=password="$(openssl rand -base64 32)"\n'],
    ['variable', 'environment variable reference', 'deploy/run.sh', 'export DB_PASSWORD=${DB_PASSWORD}\ncurl "https://$USER:$PASSWORD@host.example.com/"\n'],
    ['url-placeholders', 'placeholders in a connection string', 'docs/connect.md', 'mongodb://<user>:<password>@host:27017/admin and mongodb://users-api:…@users-db-0.users-db-svc:27017/admin\n'],
    ['ssh-login', 'ssh and scp-like git URLs with a login name', 'gitops.yaml', 'repoURL: ssh://git@github.com/o/r.git\nmirror: git@github.com:o/r.git\n'],
    ['at-in-path', '"@" in a URL path and an image digest', 'docs/deps.md', `https://www.npmjs.com/package/@secretlint/core and docker.io/library/mongo@sha256:${hex(64)}\n`],
    ['aws-example', "AWS's documented example key id", 'docs/aws.md', `e.g. ${cat('AKIA', 'IOSFODNN7', 'EXAMPLE')}\n`],
    ['public-key', 'PEM public key', 'platform/verify.pem', publicPem],
    ['lock-integrity', 'package-lock integrity hashes', 'package-lock.json', `{\n  "packages": {\n    "node_modules/x": {\n      "resolved": "https://registry.npmjs.org/x/-/x-1.0.0.tgz",\n      "integrity": "sha512-${Buffer.from(hex(64), 'hex').toString('base64')}"\n    }\n  }\n}\n`],
    ['secret-generator-empty', 'Kustomize secretGenerator filled by the cluster (no literals or files)', 'overlays/dev/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n- name: users-api-config\n  envs: [.env]\nsecretGenerator: []\n'],
    ['configmap', 'ConfigMap with settings', 'overlays/dev/cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: users-api-config}\ndata:\n  LOG_LEVEL: info\n  PAGE_LIMIT_MAX: "100"\n'],
    ['secret-key-ref', 'secretKeyRef in a Deployment', 'apps/users-api/deploy/deployment.yaml', 'env:\n- name: MONGODB_URI\n  valueFrom:\n    secretKeyRef:\n      name: users-db-admin-users-api\n      key: connectionString.standard\n'],
    ['email-and-port', 'an e-mail address and a URL with a port', 'README.md', 'Mail username@email.com or open http://127.0.0.1:8080/users\n'],
    ['revision', 'git commit id as a revision', 'overlays/prod/env.yaml', `targetRevision: ${hex(40)}\n`],
    ['query-options', 'connection-string options without credentials', 'docs/uri.md', 'mongodb://db-0.db:27017/?replicaSet=users-db&authSource=admin&tls=false\n'],
    ['application', 'Argo CD Application', 'argocd/apps/dev.yaml', 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: dev-users-api, namespace: argocd}\nspec:\n  source: {repoURL: "https://github.com/o/r.git", targetRevision: main, path: overlays/dev}\n'],
    ['tls-secret-name', 'a Secret referenced by name in env.yaml', 'overlays/prod/env.yaml', 'ingress:\n  host: users.example.com\n  tlsSecret: users-api-tls\n'],
    ['dotenv-settings', 'ordinary .env settings', 'overlays/dev/.env', 'LOG_LEVEL=debug\nTRUST_PROXY=true\nMONGODB_DB=users\n'],
    ['utf16-clean', 'UTF-16LE text without secrets', 'docs/utf16.txt', utf16([0xff, 0xfe], 'plain notes\r\n', false)],
    ['binary-clean', 'binary file (PNG header, no secrets)', 'docs/logo.png', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Buffer.from(pick('\u0000\u0001\u0002abc', 200), 'latin1')])],
    ['label-in-code-span', 'label value in a Markdown code span', 'docs/c.md', 'label `argocd.argoproj.io/secret-type=repository`).\n'],
    ['base64-not-pem', 'base64 data that is not a key', 'platform/data.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\nbinaryData:\n  blob: ${Buffer.from(hex(120), 'hex').toString('base64')}\n`],
    ['workflow-secret-ref', 'GitHub Actions secret reference', '.github/workflows/ci.yml', 'env:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n'],
    ['code-expressions', 'secret-named variables assigned expressions', 'scripts/lib/y.ts', 'const password = readPassword(file);\nconst token = opts.token;\n'],
  ];
  const toCase = (planted: boolean) => ([id, what, path, content]: [string, string, string, string | Uint8Array]): CorpusCase => ({
    id,
    what,
    path,
    bytes: typeof content === 'string' ? utf8(content) : content,
    planted,
  });
  return [...planted.map(toCase(true)), ...clean.map(toCase(false))];
}
