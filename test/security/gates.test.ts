// One detector, three gates: a secret-looking .env value is refused by `generate` and `validate`
// (exit 2, nothing written) and reported by `scan-secrets` (exit 1), each naming the file and line and
// none printing the value. Values are built at run time.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeToolkitRepo, runScript, snapshotTree } from '../hardening/support.ts';

const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = [b64url({ alg: 'RS256', kid: 'k' }), b64url({ sub: 'system:serviceaccount:dev:ci' }), randomBytes(32).toString('base64url')].join('.');
const awsKeyId = ['AK', 'IA', randomBytes(10).toString('hex').toUpperCase().replace(/[01]/g, 'Q').slice(0, 16)].join('');

describe('a secret in overlays/dev/.env is stopped by generate, validate and scan-secrets alike', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await makeToolkitRepo('secret-gates-');
    writeFileSync(join(dir, 'overlays', 'dev', '.env'), `LOG_LEVEL=debug\nTRUST_PROXY=false\nREQUEST_TIMEOUT_MS=${awsKeyId}\nLOG_LEVEL_HINT=${jwt}\n`);
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generate: exit 2, both lines named, nothing written, no value printed', async () => {
    const before = snapshotTree(dir);
    const r = await runScript(dir, 'generate', []);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/overlays\/dev\/\.env line 3: REQUEST_TIMEOUT_MS holds what looks like a secret \(aws/);
    expect(r.err).toMatch(/overlays\/dev\/\.env line 4: LOG_LEVEL_HINT holds what looks like a secret \(jwt/);
    expect(r.out + r.err).not.toContain(awsKeyId);
    expect(r.out + r.err).not.toContain(jwt.split('.')[2]);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('validate: exit 2 with the same problems', async () => {
    const r = await runScript(dir, 'validate', []);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/overlays\/dev\/\.env line 3: REQUEST_TIMEOUT_MS holds what looks like a secret \(aws/);
    expect(r.err).toMatch(/overlays\/dev\/\.env line 4: LOG_LEVEL_HINT holds what looks like a secret \(jwt/);
    expect(r.out + r.err).not.toContain(awsKeyId);
  });

  it('scan-secrets: exit 1 with the same lines', async () => {
    const r = await runScript(dir, 'scan-secrets', []);
    expect(r.code).toBe(1);
    expect(r.out).toContain('overlays/dev/.env:3: aws');
    expect(r.out).toContain('overlays/dev/.env:4: jwt');
    expect(r.out + r.err).not.toContain(awsKeyId);
  });
});
