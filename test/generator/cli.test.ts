// new-env, generate and delete-env end to end, as a user runs them, in a temporary git repository
// holding a copy of the repo's inputs, toolkit and committed generated files.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTree, REPO } from './support.ts';
import { copyToolkitTree } from '../support/repo-copy.ts';

const COPY = ['gitops.yaml', 'overlays', 'apps/users-api/src', 'apps/users-api/deploy', 'platform/mongodb/replicaset', 'platform/image-policy', 'argocd', 'previews', 'schemas', 'scripts', 'package.json', 'tsconfig.json'];

function makeRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gitops-cli-'));
  copyToolkitTree(dir, COPY);
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

/** Every AppProject under argocd/ (wherever the generator puts them), as one text. */
function appProjects(root: string, rel = 'argocd'): string {
  return readdirSync(join(root, rel), { withFileTypes: true })
    .map((d) => (d.isDirectory() ? appProjects(root, `${rel}/${d.name}`) : readFileSync(join(root, rel, d.name), 'utf8')))
    .filter((t) => /^kind: AppProject$/m.test(t))
    .join('\n');
}

function run(dir: string, script: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [`scripts/${script}.ts`, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let dir: string;
beforeAll(() => {
  dir = makeRepo();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the committed repository', () => {
  it('generate --check passes on the committed files', () => {
    const r = run(dir, 'generate', '--check');
    expect(r.err + r.out).toContain('up to date');
    expect(r.code).toBe(0);
  });
});

describe('new-env qa-7 (acceptance)', () => {
  let created: ReturnType<typeof run>;
  beforeAll(() => {
    created = run(dir, 'new-env', 'qa-7');
  });

  it('creates the environment and prints the next steps', () => {
    expect(created.err).toBe('');
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/next steps:[\s\S]*git push[\s\S]*qa-7-users-api/);
    expect(existsSync(join(dir, 'overlays/qa-7/env.yaml'))).toBe(true);
    expect(readFileSync(join(dir, 'overlays/qa-7/env.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\.\/\.\.\/schemas\/env\.schema\.json\n/);
    expect(readFileSync(join(dir, 'argocd/apps/qa-7.yaml'), 'utf8')).toContain('path: overlays/qa-7');
    expect(appProjects(dir)).toContain('namespace: qa-7');
  });

  it('renders with kubectl kustomize: Deployment, Service, hashed ConfigMap and MongoDBCommunity in namespace qa-7', () => {
    const out = execFileSync('kubectl', ['kustomize', join(dir, 'overlays/qa-7')], { encoding: 'utf8' });
    for (const kind of ['Deployment', 'Service', 'ConfigMap', 'MongoDBCommunity', 'NetworkPolicy', 'PodDisruptionBudget', 'ServiceAccount']) {
      expect(out).toMatch(new RegExp(`^kind: ${kind}$`, 'm'));
    }
    expect(out).toMatch(/name: users-api-config-[a-z0-9]{10}$/m);
    const namespaces = [...out.matchAll(/^ {2}namespace: (.*)$/gm)].map((m) => m[1]);
    expect(new Set(namespaces)).toEqual(new Set(['qa-7']));
  });

  it('leaves generate --check at exit 0, and a second generate changes no byte', () => {
    expect(run(dir, 'generate', '--check').code).toBe(0);
    const before = readTree(dir);
    const again = run(dir, 'generate');
    expect(again.code).toBe(0);
    expect(again.out).toContain('up to date');
    expect(readTree(dir)).toEqual(before);
  });

  it('refuses qa-7 a second time (exit 2) and writes nothing', () => {
    const before = readTree(dir);
    const r = run(dir, 'new-env', 'qa-7');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already exists[\s\S]*--force/);
    expect(readTree(dir)).toEqual(before);
  });

  it('overwrites an existing environment with --force', () => {
    const r = run(dir, 'new-env', 'qa-7', '--force', '--from', 'staging', '--namespace', 'qa-7');
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'overlays/qa-7/env.yaml'), 'utf8')).toContain('replicas: 2');
    expect(run(dir, 'generate', '--check').code).toBe(0);
  });

  it('copies settings with --from and a --namespace', () => {
    const r = run(dir, 'new-env', 'qa-8', '--from', 'prod', '--namespace', 'qa-eight');
    expect(r.code).toBe(0);
    const spec = readFileSync(join(dir, 'overlays/qa-8/env.yaml'), 'utf8');
    expect(spec).toContain('namespace: qa-eight');
    expect(spec).toContain('replicas: 3');
    expect(spec).toContain('# Environment qa-8.');
    expect(readFileSync(join(dir, 'overlays/qa-8/.env'), 'utf8')).toBe(readFileSync(join(dir, 'overlays/prod/.env'), 'utf8'));
    // prod's host is prod's: the copy has no ingress, and says so.
    expect(spec).not.toContain('ingress:');
    expect(r.out).toContain('note: the ingress of prod was not copied');
    expect(run(dir, 'generate', '--check').code).toBe(0);
  });
});

describe('bad input exits 2 with a clear message and writes nothing', () => {
  it.each([
    ['an invalid name', ['Bad_Name'], /must be lower case/],
    ['a 70-character name', ['a'.repeat(70)], /70 characters long/],
    ['an existing name', ['dev'], /already exists/],
    ['a missing --from', ['qa-9', '--from', 'nope'], /unknown environment "nope" \(--from\); known: dev, prod, qa-7, qa-8, staging[\s\S]*fix: /],
  ])('new-env with %s', (_label, args, message) => {
    const before = readTree(dir);
    const r = run(dir, 'new-env', ...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(readTree(dir)).toEqual(before);
  });

  it.each([
    ['a .env with MONGODB_PASSWORD', 'overlays/dev/.env', (t: string) => `${t}MONGODB_PASSWORD=dummy-not-a-secret\n`, /overlays\/dev\/\.env line \d+: MONGODB_PASSWORD looks like a secret/],
    ['an env.yaml with replicas: -1', 'overlays/dev/env.yaml', (t: string) => t.replace(/^replicas: 1$/m, 'replicas: -1'), /overlays\/dev\/env\.yaml \/replicas: must be >= 1/],
    ['an env.yaml with tag: latest', 'overlays/dev/env.yaml', (t: string) => t.replace(/^tag: .*$/m, 'tag: latest'), /overlays\/dev\/env\.yaml \/tag: must not be "latest"/],
  ])('generate and new-env with %s', (_label, file, edit, message) => {
    const original = readFileSync(join(dir, file), 'utf8');
    writeFileSync(join(dir, file), edit(original));
    try {
      const before = readTree(dir);
      for (const r of [run(dir, 'generate'), run(dir, 'new-env', 'qa-10')]) {
        expect(r.code).toBe(2);
        expect(r.err).toMatch(message);
        expect(r.err).toMatch(/fix: /);
      }
      expect(readTree(dir)).toEqual(before);
    } finally {
      writeFileSync(join(dir, file), original);
    }
  });
});

describe('generate --check finds drift', () => {
  it('exits 1 naming a hand-edited file, with its diff', () => {
    const file = 'apps/users-api/deploy/service.yaml';
    const original = readFileSync(join(dir, file), 'utf8');
    writeFileSync(join(dir, file), original.replace('port: 80', 'port: 81'));
    try {
      const r = run(dir, 'generate', '--check');
      expect(r.code).toBe(1);
      expect(r.err).toContain(`${file}: differs`);
      expect(r.out).toMatch(/^-\s+port: 81$/m);
      expect(r.out).toMatch(/^\+\s+port: 80$/m);
    } finally {
      writeFileSync(join(dir, file), original);
    }
  });

  it('exits 1 naming a generated file no spec produces', () => {
    const file = 'argocd/apps/ghost.yaml';
    writeFileSync(join(dir, file), readFileSync(join(dir, 'argocd/apps/dev.yaml'), 'utf8'));
    try {
      const r = run(dir, 'generate', '--check');
      expect(r.code).toBe(1);
      expect(r.err).toContain(`${file}: generated file that no spec produces`);
    } finally {
      rmSync(join(dir, file));
    }
  });
});

describe('delete-env', () => {
  it('needs --yes (exit 2, nothing written)', () => {
    const before = readTree(dir);
    const r = run(dir, 'delete-env', 'qa-8');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--yes');
    expect(readTree(dir)).toEqual(before);
  });

  it('removes the overlay and its Application, and the rest still checks clean', () => {
    const r = run(dir, 'delete-env', 'qa-8', '--yes');
    expect(r.code).toBe(0);
    expect(r.out).toContain('qa-8-users-api');
    expect(existsSync(join(dir, 'overlays/qa-8'))).toBe(false);
    expect(existsSync(join(dir, 'argocd/apps/qa-8.yaml'))).toBe(false);
    expect(appProjects(dir)).not.toContain('qa-eight');
    expect(run(dir, 'generate', '--check').code).toBe(0);
  });

  it('refuses an unknown environment', () => {
    const r = run(dir, 'delete-env', 'nope', '--yes');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown environment "nope"; known: dev, prod, qa-7, staging[\s\S]*fix: /);
  });
});

it.each(['new-env', 'generate', 'delete-env'])('%s --help prints usage and exits 0', (script) => {
  const r = run(dir, script, '--help');
  expect(r.code).toBe(0);
  expect(r.out).toContain(`usage: zx scripts/${script}.ts`);
});
