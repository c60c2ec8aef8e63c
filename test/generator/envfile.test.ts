// .env files are read the way Kustomize's configMapGenerator `envs:` reads them; every line a dotenv
// user would read differently is refused. Table rows come from kubectl kustomize runs (docs/environments.md).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDotenv, keysMissingAcrossEnvs, parseDotenv } from '../../scripts/lib/inputs/dotenv.ts';

const FILE = 'overlays/x/.env';

describe('parseDotenv refuses lines whose meaning differs between Kustomize and dotenv', () => {
  it.each([
    ['double quotes (kept literally by kustomize)', 'LOG_LEVEL="info"\n', /quotes are kept literally/],
    ['single quotes', "LOG_LEVEL='info'\n", /quotes are kept literally/],
    ['export prefix (kustomize key "export X")', 'export LOG_LEVEL=info\n', /"export" prefix/],
    ['inline comment (kept in the value)', 'LOG_LEVEL=info # chatty\n', /"#" is part of the value|spaces/],
    ['hash without space', 'LOG_LEVEL=info#x\n', /"#" is part of the value/],
    ['spaces around =', 'LOG_LEVEL = info\n', /spaces around "="/],
    ['space after =', 'LOG_LEVEL= info\n', /spaces around "="/],
    ['key-only line (kustomize "", kubectl the shell value)', 'LOG_LEVEL\n', /has no "="/],
    ['trailing whitespace', 'LOG_LEVEL=info \n', /trailing whitespace/],
    ['leading whitespace', '  LOG_LEVEL=info\n', /starts with whitespace/],
    ['duplicate key (kustomize refuses, dotenv keeps the last)', 'LOG_LEVEL=info\nLOG_LEVEL=debug\n', /set again/],
    ['byte-order mark', '\uFEFFLOG_LEVEL=info\n', /byte-order mark/],
    ['lone carriage return', 'LOG_LEVEL=info\rTRUST_PROXY=true\n', /carriage return/],
    ['multi-line quoted value', 'LOG_LEVEL="in\nfo"\n', /quotes are kept literally/],
    ['variable reference', 'HOST=$HOSTNAME\n', /"\$"/],
    ['empty key', '=info\n', /not an environment variable name/],
  ])('%s', (_label, text, message) => {
    const { problems } = parseDotenv(FILE, text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.file).toBe(FILE);
    expect(problems[0]!.path).toMatch(/^line \d+$/);
    expect(problems[0]!.message).toMatch(message);
    expect(problems[0]!.fix).toBeTruthy();
  });

  it('refuses a byte-order mark given as bytes too (the default UTF-8 decoder used to drop it silently)', () => {
    const { problems } = parseDotenv(FILE, new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from('LOG_LEVEL=info\n')]));
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/byte-order mark/)]);
  });

  it('refuses a file that is not UTF-8 as a whole', () => {
    const { problems } = parseDotenv(FILE, new Uint8Array([0x41, 0x3d, 0xff, 0x0a]));
    expect(problems[0]!.message).toMatch(/not valid UTF-8/);
  });

  it.each([
    ['plain', 'LOG_LEVEL=info\n', { LOG_LEVEL: 'info' }],
    ['empty value', 'HOST=\n', { HOST: '' }],
    ['CRLF line endings', 'LOG_LEVEL=info\r\nTRUST_PROXY=true\r\n', { LOG_LEVEL: 'info', TRUST_PROXY: 'true' }],
    ['comments and blank lines', '# a comment\n\nLOG_LEVEL=warn\n', { LOG_LEVEL: 'warn' }],
    ['"=" inside the value', 'HOST=a=b\n', { HOST: 'a=b' }],
    ['no final newline', 'LOG_LEVEL=info', { LOG_LEVEL: 'info' }],
  ])('accepts %s with the value kustomize produces', (_label, text, values) => {
    const parsed = parseDotenv(FILE, text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.values).toEqual(values);
  });
});

describe('checkDotenv validates values against the API config spec', () => {
  it.each([
    ['MONGODB_PASSWORD=hunter2\n', /looks like a secret/],
    ['API_TOKEN=abc\n', /looks like a secret/],
    ['MONGODB_URI=mongodb://db:27017/admin\n', /is a secret/],
    ['LOG_LEVEL=https://deploy:s3cr3t-pw@git.internal.example.org/x\n', /looks like a secret/], // secretlint-disable-line -- a planted fake credential
    ['FAVOURITE_COLOUR=blue\n', /not a setting of the users API/],
    ['LOG_LEVEL=loud\n', /LOG_LEVEL/],
    ['PORT=eighty\n', /PORT/],
    ['MONGODB_DB=other\n', /may only use "users"/],
  ])('refuses %j', (text, message) => {
    const { problems } = checkDotenv(FILE, text);
    expect(problems.map((p) => p.message).join('\n')).toMatch(message);
  });

  it('accepts every non-secret key the API knows, at valid values', () => {
    const { problems } = checkDotenv(FILE, 'LOG_LEVEL=debug\nTRUST_PROXY=true\nMONGODB_DB=users\nPAGE_LIMIT_MAX=100\n');
    expect(problems).toEqual([]);
  });

  it('lists every problem of a file at once, in line order', () => {
    const { problems } = checkDotenv(FILE, 'LOG_LEVEL="x"\nMONGODB_PASSWORD=a\nNOPE=1\n');
    expect(problems.map((p) => p.path)).toEqual(['line 1', 'line 2', 'line 3']);
  });
});

it('warns about keys one environment sets and another lacks', () => {
  const w = keysMissingAcrossEnvs({ dev: { LOG_LEVEL: 'debug' }, prod: {} }, (e) => `overlays/${e}/.env`);
  expect(w).toHaveLength(1);
  expect(w[0]!.file).toBe('overlays/prod/.env');
  expect(w[0]!.message).toMatch(/LOG_LEVEL is set in dev but not here/);
});

it('agrees with kubectl kustomize on every line it accepts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'envfile-'));
  try {
    const text = '# c\n\nLOG_LEVEL=info\r\nHOST=a=b\nTRUST_PROXY=\nPAGE_LIMIT_MAX=100';
    writeFileSync(join(dir, '.env'), text);
    writeFileSync(join(dir, 'kustomization.yaml'), 'configMapGenerator:\n- name: c\n  envs: [.env]\n');
    const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    const data: Record<string, string> = {};
    for (const m of out.matchAll(/^ {2}([A-Z_]+): (.*)$/gm)) data[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
    expect(parseDotenv(FILE, text).values).toEqual(data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
