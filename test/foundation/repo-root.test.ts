// Issue 32: every command finds the repository from wherever it is run (scripts/lib/core/cli.ts findRepoRoot),
// gives the same answer from the root and from a subdirectory, and refuses to run outside a repository
// (exit 2, "run inside the repository (no gitops.yaml found from <dir> up)") instead of checking nothing.
// Every scripts/*.ts is run, with arguments that write nothing, in a copy of the committed tree.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepoCopy, REPO, type RepoCopy } from '../support/repo-copy.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';
/** Per script: read-only arguments, and what a run inside the repository must print (proof it read the repository). */
const RUNS: Record<string, { args: string[]; inside: RegExp }> = {
  'bootstrap.ts': { args: ['--dry-run'], inside: /repository https:\/\/github\.com\/[\s\S]*KUBECONFIG names/ },
  'delete-env.ts': { args: ['qa-none', '--yes'], inside: /unknown environment "qa-none"; known: dev, prod, staging/ },
  'e2e.ts': { args: ['--list'], inside: /first sync waits for: .*mongodb-operator \(wave -1\)/ },
  'diff.ts': { args: ['--base', 'HEAD', '--format', 'json'], inside: /"environments"|\[\]|\{/ },
  'generate.ts': { args: ['--check'], inside: /up to date/ },
  'new-env.ts': { args: ['dev'], inside: /environment dev already exists/ },
  'plan.ts': { args: ['dev', '--format', 'json'], inside: /"finishes": true/ },
  'previews.ts': { args: ['--format', 'json'], inside: /no GitHub token/ },
  'promote.ts': { args: ['qa-none', 'staging'], inside: /unknown environment "qa-none"; known: dev, prod, staging/ },
  'release-tags.ts': { args: ['--ref', 'refs/tags/v1.4.2', '--sha', SHA, '--source', 'https://github.com/example-org/gitops-users', '--format', 'text'], inside: /:v1\.4\.2/ },
  'render.ts': { args: ['dev'], inside: /# environment: dev[\s\S]*kind: Deployment/ },
  'restore.ts': { args: ['qa-none', '--from', 'users-20261204T030000Z.archive.gz'], inside: /unknown environment "qa-none"; known: dev, prod, staging/ },
  'rotate-db-password.ts': { args: ['qa-none'], inside: /unknown environment "qa-none"; known: dev, prod, staging/ },
  'scan-secrets.ts': { args: [], inside: /./ },
  'status.ts': { args: ['--history', 'dev'], inside: /dev/ },
  'validate.ts': { args: ['dev'], inside: /validated dev: no findings/ },
};

interface Run { code: number | null; out: string; err: string }

function runIn(cwd: string, script: string, args: string[]): Promise<Run> {
  return new Promise((done) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', KUBECONFIG: '/nonexistent/kubeconfig' };
    delete env.GITHUB_TOKEN;
    delete env.GH_TOKEN;
    const child = spawn(process.execPath, [join(REPO, 'scripts', script), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('close', (code) => done({ code, out, err }));
  });
}

let copy: RepoCopy;
let outside: string;
beforeAll(() => {
  copy = createRepoCopy();
  outside = realpathSync(mkdtempSync(join(tmpdir(), 'outside-repo-')));
  mkdirSync(join(copy.root, 'docs/deep'), { recursive: true });
}, 120_000);
afterAll(() => {
  copy?.cleanup();
  if (outside) rmSync(outside, { recursive: true, force: true });
});

describe('every script runs from any directory of the repository, and only there', () => {
  it('covers every scripts/*.ts', () => {
    const scripts = readdirSync(join(REPO, 'scripts')).filter((f) => f.endsWith('.ts')).sort();
    expect(Object.keys(RUNS).sort()).toEqual(scripts);
  });

  it.each(Object.keys(RUNS))('%s: the same result from the root and from docs/deep; exit 2 outside', async (script) => {
    const { args, inside } = RUNS[script]!;
    // One after the other: two runs at once in one repository would wait for each other's lock anyway.
    const fromRoot = await runIn(copy.root, script, args);
    const fromDeep = await runIn(join(copy.root, 'docs/deep'), script, args);
    const fromOutside = await runIn(outside, script, args);
    expect(fromRoot.out + fromRoot.err, `${script} from the root`).toMatch(inside);
    expect(fromRoot.code).not.toBeNull();
    expect(fromDeep, `${script} from docs/deep`).toEqual(fromRoot);
    expect(fromRoot.out + fromRoot.err).not.toMatch(/validated\s*:|rendered 0 environment|known: none|gitops\.yaml is missing/);
    expect(fromOutside.code, `${script} outside: ${fromOutside.err}`).toBe(2);
    expect(fromOutside.out).toBe('');
    expect(fromOutside.err).toContain(`run inside the repository (no gitops.yaml found from ${outside} up)`);
  }, 240_000);
});
