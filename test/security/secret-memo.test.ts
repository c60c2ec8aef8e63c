// The detector's remembered answers (scripts/lib/secrets/sync.ts): the same findings as the detector,
// nothing of a scanned text in the memo's files, a damaged entry never believed, and the memo is really
// what answers a repeated question (a forged entry is obeyed, which is why the scan-secrets gate never
// reads it). Secret-shaped values are built at run time, as in secret-scan.test.ts.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectInTextsSync } from '../../scripts/lib/secrets/sync.ts';
import { sealEntry } from '../../scripts/lib/core/cache-entry.ts';

const dirs: string[] = [];
const freshDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'secret-memo-'));
  dirs.push(d);
  return join(d, 'memo');
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const cat = (...parts: string[]) => parts.join('');
const githubToken = () => cat('gh', 'p_', randomBytes(27).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 36));
const entries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('the secret detector\'s memo (secrets/sync.ts)', () => {
  it('answers as the detector does, and keeps nothing of the texts it was asked about', () => {
    const dir = freshDir();
    const token = githubToken();
    const questions = [
      [{ path: '.env', text: `LOG_LEVEL=info\nAPI_URL_PART=${token}\n` }],
      [{ path: '.env', text: 'LOG_LEVEL=info\nPORT=3000\n' }],
    ];
    for (const sources of questions) {
      const detector = detectInTextsSync(sources, undefined);
      expect(detectInTextsSync(sources, dir)).toEqual(detector);
      expect(detectInTextsSync(sources, dir)).toEqual(detector);
    }
    expect(detectInTextsSync(questions[0]!, undefined)).toEqual([expect.objectContaining({ file: '.env', line: 2, rule: 'github' })]);
    expect(entries(dir)).toHaveLength(2);
    const digest = createHash('sha256').update(questions[0]![0]!.text).digest('hex');
    for (const name of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, name)).toString('latin1');
      expect(bytes).not.toContain(token);
      expect(bytes).not.toContain(token.slice(4, 20));
      expect(name).not.toContain(digest.slice(0, 16));
    }
    expect(statSync(join(dir, 'key')).mode & 0o077).toBe(0);
  });

  it('a repeated question is answered from the memo (a forged entry is obeyed), another path or text is not', () => {
    const dir = freshDir();
    const sources = [{ path: '.env', text: 'A=1\n' }];
    expect(detectInTextsSync(sources, dir)).toEqual([]);
    const [entry] = entries(dir);
    const forged = [{ file: '.env', line: 1, rule: 'forged', message: 'from the memo' }];
    writeFileSync(join(dir, entry!), sealEntry(JSON.stringify(forged)));
    expect(detectInTextsSync(sources, dir)).toEqual(forged);
    expect(detectInTextsSync([{ path: 'other/.env', text: 'A=1\n' }], dir)).toEqual([]);
    expect(detectInTextsSync([{ path: '.env', text: 'A=2\n' }], dir)).toEqual([]);
    expect(entries(dir)).toHaveLength(3);
  });

  it('a damaged entry is not believed: the detector runs and the entry is written again', () => {
    const dir = freshDir();
    const token = githubToken();
    const sources = [{ path: 'overlays/dev/.env', text: `API_URL_PART=${token}\n` }];
    const found = detectInTextsSync(sources, dir);
    expect(found).toEqual([expect.objectContaining({ rule: 'github', line: 1 })]);
    const [entry] = entries(dir);
    const path = join(dir, entry!);
    const good = readFileSync(path);
    writeFileSync(path, good.toString('utf8').replace('"github"', '"nothing"'));
    expect(detectInTextsSync(sources, dir)).toEqual(found);
    expect(readFileSync(path)).toEqual(good);
  });

  it('without a memo directory nothing is written', () => {
    const dir = freshDir();
    detectInTextsSync([{ path: '.env', text: 'B=1\n' }], undefined);
    expect(existsSync(dir)).toBe(false);
  });
});
