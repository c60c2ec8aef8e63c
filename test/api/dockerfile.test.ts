// No Docker engine runs where the tests run, so the image's properties are checked by reading the
// Dockerfile and .dockerignore: pinned base, production deps only, non-root, no secrets, the port and
// UID from contract.ts, and a runtime stage that contains every module the entry point imports.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HTTP_PORT, RUN_AS_USER, RUN_AS_GROUP } from '../../apps/users-api/src/contract.ts';
import { SECRET_CONFIG_KEYS } from '../../apps/users-api/src/config.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (pending === undefined && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (pending !== undefined && trimmed.startsWith('#')) return;
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending ? { text: `${pending.text} ${part}`, line: pending.line } : { text: part, line: index + 1 };
    if (!continued) {
      const [keyword = '', ...rest] = pending.text.split(/\s+/);
      out.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: pending.line });
      pending = undefined;
    }
  });
  return out;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

function stagesOf(instructions: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      const from = image.replace(/^\$\{?(\w+)\}?$/, (_m, arg: string) => args.get(arg) ?? image);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [key = '', value = ''] = instruction.args.split('=');
        args.set(key, value);
      }
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const { stages } = stagesOf(parseDockerfile(dockerfile));
const runtime = stages.at(-1) as Stage;
const runtimeOf = (keyword: string): Instruction[] => runtime.instructions.filter((i) => i.keyword === keyword);
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  type?: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** COPY sources into the runtime stage, as [source, destination] (from the build context only). */
function contextCopies(): Array<[string, string]> {
  return runtimeOf('COPY')
    .filter((i) => !i.args.includes('--from='))
    .map((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return [parts.slice(0, -1).join(' '), parts.at(-1) ?? ''];
    });
}

describe('Dockerfile', () => {
  it('is multi-stage and every stage starts from Node 24 pinned by exact version and digest', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(stage.from).toMatch(/^node:24\.\d+\.\d+-[a-z0-9.-]+@sha256:[0-9a-f]{64}$/);
      expect(stage.from).not.toMatch(/:latest|:lts|:current/);
    }
  });

  it('installs production dependencies only, from the lockfile, without install scripts', () => {
    // RUN lines that invoke npm (not ones that merely name it, like the runtime stage removing it).
    const install = stages.flatMap((s) => s.instructions).filter((i) => i.keyword === 'RUN' && /(^|&&|;|\|\|)\s*npm\s/.test(i.args));
    expect(install.length).toBeGreaterThan(0);
    for (const run of install) {
      expect(run.args).toMatch(/\bnpm ci\b/);
      expect(run.args).toContain('--omit=dev');
      expect(run.args).toContain('--ignore-scripts');
    }
    expect(runtime.instructions.some((i) => i.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(i.args))).toBe(false);
    expect(runtimeOf('COPY').some((i) => /--from=deps\b.*node_modules/.test(i.args))).toBe(true);
  });

  it('runs as the numeric non-root UID:GID from contract.ts', () => {
    const users = runtimeOf('USER');
    expect(users).toHaveLength(1);
    expect(users[0]?.args).toBe(`${RUN_AS_USER}:${RUN_AS_GROUP}`);
    expect(RUN_AS_USER).toBeGreaterThan(0);
    // USER must come after every COPY/RUN, so nothing the process runs as can write the app files.
    const last = runtime.instructions.map((i) => i.keyword);
    expect(last.lastIndexOf('USER')).toBeGreaterThan(Math.max(last.lastIndexOf('COPY'), last.lastIndexOf('RUN')));
  });

  it('exposes the port from contract.ts', () => {
    expect(runtimeOf('EXPOSE').map((i) => i.args)).toEqual([String(HTTP_PORT)]);
  });

  it('starts with an exec-form CMD running main.ts with node (PID 1 gets SIGTERM)', () => {
    const cmd = runtimeOf('CMD');
    expect(cmd).toHaveLength(1);
    const argv = JSON.parse(cmd[0]?.args ?? '') as string[];
    expect(argv).toEqual(['node', 'apps/users-api/src/main.ts']);
    expect(runtimeOf('ENTRYPOINT')).toHaveLength(0);
    expect(existsSync(join(ROOT, argv[1] ?? ''))).toBe(true);
  });

  it('bakes in no configuration or secrets', () => {
    const envAndArgs = stages.flatMap((s) => s.instructions).filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG');
    for (const instruction of envAndArgs) {
      for (const key of SECRET_CONFIG_KEYS) expect(instruction.args).not.toContain(key);
      expect(instruction.args).not.toMatch(/PASSWORD|SECRET|TOKEN|MONGODB|mongodb:\/\//i);
    }
    // HOST=0.0.0.0 is no configuration of an environment: the API binds 127.0.0.1 unless told otherwise (issue 32,
    // apps/users-api/src/config.ts), which in a container nobody could reach; every address is the only value allowed.
    expect(runtimeOf('ENV').map((i) => i.args)).toEqual(['NODE_ENV=production', 'HOST=0.0.0.0']);
    for (const [source] of contextCopies()) expect(source).not.toMatch(/(^|\s)(\.|\.env\S*|overlays\S*)(\s|$)/);
  });

  it('needs nothing writable but /tmp: no VOLUME, no writes after USER, files owned by root', () => {
    expect(runtimeOf('VOLUME')).toHaveLength(0);
    expect(runtime.instructions.some((i) => i.keyword === 'COPY' && /--chown|--chmod/.test(i.args))).toBe(false);
    const afterUser = runtime.instructions.slice(runtime.instructions.findIndex((i) => i.keyword === 'USER'));
    expect(afterUser.some((i) => i.keyword === 'RUN')).toBe(false);
  });

  it('copies package.json, whose "type": "module" makes node load the .ts sources as ES modules', () => {
    expect(packageJson.type).toBe('module');
    expect(contextCopies().some(([source]) => source.split(/\s+/).includes('package.json'))).toBe(true);
  });

  it('the runtime stage contains every module main.ts loads, and each package is a production dependency', () => {
    const copied = contextCopies().flatMap(([source]) => source.split(/\s+/));
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const rel = relative(ROOT, file);
      expect(copied.some((c) => rel === c || rel.startsWith(`${c.replace(/\/$/, '')}/`)), `${rel} is not copied into the image`).toBe(true);
      const text = readFileSync(file, 'utf8');
      // Value imports and re-exports only: `import type` is erased by type stripping.
      for (const match of text.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
        const specifier = match[1] ?? '';
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
        else if (!specifier.startsWith('node:')) packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? ''));
      }
    };
    visit(join(ROOT, 'apps/users-api/src/main.ts'));
    expect(seen.size).toBeGreaterThan(5);
    expect([...packages].sort()).toEqual(expect.arrayContaining(['express', 'mongodb']));
    for (const name of packages) expect(packageJson.dependencies, `${name} must be a production dependency`).toHaveProperty(name);
  });

  it('every .ts file under apps/users-api/src is loadable without a build step (no TS-only runtime syntax)', () => {
    const dir = join(ROOT, 'apps/users-api/src');
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(dir, name), 'utf8');
      expect(text, name).not.toMatch(/^\s*(export\s+)?(const\s+)?enum\s|^\s*(export\s+)?namespace\s/m);
    }
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  /** Docker's rule: the last matching pattern wins; `!` re-includes. Enough for the patterns we use. */
  function isExcluded(path: string): boolean {
    let excluded = false;
    for (const pattern of patterns) {
      const negated = pattern.startsWith('!');
      const body = (negated ? pattern.slice(1) : pattern).replace(/\/$/, '');
      const regex = new RegExp(`^${body.replaceAll('.', '\\.').replaceAll('**', '\u0000').replaceAll('*', '[^/]*').replaceAll('\u0000', '.*')}(/.*)?$`);
      if (regex.test(path)) excluded = !negated;
    }
    return excluded;
  }

  it.each(['.env', 'overlays/dev/.env', '.git/config', 'node_modules/express/package.json', 'test/api/harness.ts', 'gitops.yaml', 'Dockerfile'])(
    'keeps %s out of the build context',
    (path) => {
      expect(isExcluded(path)).toBe(true);
    },
  );

  it('lets in exactly what the Dockerfile copies', () => {
    for (const path of ['package.json', 'package-lock.json', 'apps/users-api/src/main.ts', 'apps/users-api/src/contract.ts']) expect(isExcluded(path), path).toBe(false);
    for (const [source] of contextCopies()) for (const path of source.split(/\s+/)) expect(isExcluded(path), path).toBe(false);
  });
});
