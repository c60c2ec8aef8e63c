// Property-based tests of the toolkit's inputs: environment names, env.yaml, .env and the generator.
// For any input: either problems that name the file and the place (and the CLI exits 2 writing
// nothing), or output that real `kubectl kustomize` renders, byte-identical on every run.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDotenv, checkDotenv } from '../../scripts/lib/inputs/dotenv.ts';
import { applicationName, envNameProblems, parseYamlFile, validateEnvSpec } from '../../scripts/lib/inputs/schema.ts';
import { InputError } from '../../scripts/lib/core/errors.ts';
import { generateRepo } from '../../scripts/lib/generate/index.ts';
import { runNewEnv } from '../../scripts/lib/generate/commands.ts';
import { dns1123LabelProblem, DNS1123_LABEL_MAX } from '../../scripts/lib/core/names.ts';
import { loadEnv, RESERVED_ENV_NAMES } from '../../scripts/lib/inputs/index.ts';
import type { RepoInputs } from '../../scripts/lib/inputs/index.ts';
import type { EnvSpec } from '../../scripts/lib/inputs/spec.ts';
import { normalizeRender } from '../../scripts/lib/render/normalize.ts';
import { createSchemaRegistry, customResourceValidators } from '../../scripts/lib/review/validate/schema.ts';
import { checkObjects } from '../../scripts/lib/review/validate/validate.ts';
import { toYaml } from '../../scripts/lib/core/yaml.ts';
import { mongoBaseObjects } from '../../scripts/lib/generate/mongodb/index.ts';
import { validateMongoDBCommunity } from '../../scripts/lib/generate/mongodb/schema.ts';
import { committedSettings, readTree, REPO } from '../generator/support.ts';
import { copyToolkitTree } from '../support/repo-copy.ts';
import { recordFigures } from './support.ts';

// A quarter of each full count by default, all of it with FUZZ_RUNS=full (test/support/property-runs.ts).
import { FUZZ_SEED, propertyRuns } from '../support/property-runs.ts';
const SEED = FUZZ_SEED;
const runs = propertyRuns;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const temps: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});
let inputsTried = 0;
afterAll(() => recordFigures({ toolkitInputsTried: inputsTried }));

function kustomize(dir: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

function expectProblemsNamePlace(problems: Array<{ file?: string; path?: string; message: string; fix?: string }>, file: string): void {
  for (const p of problems) {
    expect(p.file).toBe(file);
    expect(p.message.length).toBeGreaterThan(0);
    expect((p.fix ?? '').length).toBeGreaterThan(0);
  }
}

const nameChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'.split(''));
const labelLike = fc.string({ unit: nameChars, minLength: 1, maxLength: 70 });
const anyName = fc.oneof(
  labelLike,
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', '-', 'a-', '-a', 'Dev', 'dev_1', 'dev.1', 'dév', 'a'.repeat(53), 'a'.repeat(54), 'a'.repeat(63), 'a'.repeat(64), '../etc', 'dev/x', ' dev', 'root', 'project', 'mongodb-operator'),
);

describe('environment names', () => {
  it('any string is either refused with a clear message and fix, or a DNS-1123 label whose derived names fit Kubernetes limits', () => {
    fc.assert(
      fc.property(anyName, (name) => {
        inputsTried += 1;
        const problems = envNameProblems(name, 'overlays/x/env.yaml');
        const validLabel = LABEL.test(name) && name.length <= DNS1123_LABEL_MAX;
        expect(dns1123LabelProblem(name) === null).toBe(validLabel);
        if (problems.length === 0) {
          expect(validLabel).toBe(true);
          // The Application name (also an Argo CD label value), the namespace default and the
          // environment label value are all DNS-1123 labels of at most 63 characters.
          expect(applicationName(name).length).toBeLessThanOrEqual(DNS1123_LABEL_MAX);
          expect(LABEL.test(applicationName(name))).toBe(true);
        } else {
          expectProblemsNamePlace(problems, 'overlays/x/env.yaml');
          expect(problems[0]!.message).toContain('environment name');
        }
        // Exactly the valid labels short enough for "<env>-users-api" are accepted.
        expect(problems.length === 0).toBe(validLabel && applicationName(name).length <= DNS1123_LABEL_MAX);
      }),
      runs(2000),
    );
  });

  it('new-env refuses any invalid name with an input error (exit 2) before touching the disk', async () => {
    const root = tempDir('hardening-names-');
    await fc.assert(
      fc.asyncProperty(anyName.filter((n) => envNameProblems(n).length > 0 || RESERVED_ENV_NAMES.includes(n)), async (name) => {
        inputsTried += 1;
        const error = await runNewEnv(root, { name }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).exitCode).toBe(2);
        expect(readdirSync(root)).toEqual([]);
      }),
      runs(300),
    );
  });
});

/** A valid env.yaml body (namespace + the committed defaults). */
function validSpecData(): Record<string, unknown> {
  return { namespace: 'dev', ...structuredClone(committedSettings().defaults) } as Record<string, unknown>;
}

function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const out: string[][] = prefix.length > 0 ? [prefix] : [];
  for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

function withChange(data: Record<string, unknown>, path: string[], change: { remove: true } | { value: unknown }): Record<string, unknown> {
  const copy = structuredClone(data);
  let node = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path.at(-1)!;
  if ('remove' in change) delete node[last];
  else node[last] = change.value;
  return copy;
}

function pointerResolves(data: unknown, pointer: string): boolean {
  if (pointer === '/' || pointer === '') return true;
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

describe('env.yaml validation', () => {
  const file = 'overlays/dev/env.yaml';
  const paths = pathsOf(validSpecData());
  const change = fc.oneof(
    fc.constant({ remove: true } as const),
    fc.anything({ maxDepth: 2, withNullPrototype: true, withObjectString: true }).map((value) => ({ value })),
    fc.constantFrom(-1, 0, 1.5, 1e9, 'latest', '', ' ', 'Dev', '100', '1Gi', '0.5', true, null, [], {}).map((value) => ({ value })),
  );

  it('any change to a valid spec yields either a valid spec or problems with the file, a JSON pointer into it and a fix', () => {
    const base = validSpecData();
    fc.assert(
      fc.property(fc.constantFrom(...paths), change, (path, c) => {
        inputsTried += 1;
        const data = withChange(base, path, c);
        const result = validateEnvSpec('dev', file, data);
        if (result.spec) {
          expect(result.problems).toEqual([]);
        } else {
          expect(result.problems.length).toBeGreaterThan(0);
          expectProblemsNamePlace(result.problems, file);
          for (const p of result.problems) {
            expect(p.path).toMatch(/^\//);
            expect(pointerResolves(data, p.path!), `${p.path} in ${JSON.stringify(data).slice(0, 200)}`).toBe(true);
          }
        }
      }),
      runs(600),
    );
  });

  it('refuses replicas < 1 and tag "latest" naming the field', () => {
    for (const [path, value, pointer] of [[['replicas'], -1, '/replicas'], [['tag'], 'latest', '/tag']] as const) {
      const { problems } = validateEnvSpec('dev', file, withChange(validSpecData(), [...path], { value }));
      expect(problems.map((p) => p.path)).toContain(pointer);
    }
  });

  const yamlText = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.anything({ maxDepth: 3 }).map((v) => toYamlOrEmpty(v)),
    fc.constantFrom(
      'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
      '<<: *missing\n', 'namespace: &n [*n]\n', '!!binary x', '? [a]\n: 1\n', '%YAML 9.9\n---\na: 1\n', 'a: 1\na: 2\n', '---\na: 1\n---\nb: 2\n', '\t- x', '{', 'namespace: !!int abc\n',
    ),
  );
  it('any env.yaml text yields problems naming the file, never an unexpected exception', () => {
    fc.assert(
      fc.property(yamlText, (text) => {
        inputsTried += 1;
        let result: ReturnType<typeof loadEnv>;
        try {
          result = loadEnv('dev', text, 'LOG_LEVEL=info\n');
        } catch (error) {
          throw new Error(`loadEnv threw ${(error as Error).name}: ${(error as Error).message.split('\n')[0]} for ${JSON.stringify(text).slice(0, 200)}`);
        }
        if (!result.spec) {
          expect(result.problems.length).toBeGreaterThan(0);
          expectProblemsNamePlace(result.problems.filter((p) => p.file !== 'overlays/dev/.env'), file);
        }
      }),
      runs(500),
    );
  });
});

/** The MongoDBCommunity object of the generated replica-set base (version as the defaults pin it). */
function mongoResource(): { spec: Record<string, unknown> } & Record<string, unknown> {
  const found = mongoBaseObjects(committedSettings()).find((o) => (o as { kind?: string }).kind === 'MongoDBCommunity');
  if (!found) throw new Error('the replica-set base has no MongoDBCommunity');
  return structuredClone(found) as { spec: Record<string, unknown> } & Record<string, unknown>;
}

function toYamlOrEmpty(value: unknown): string {
  try {
    // toYaml(undefined) has no text to return.
    return (toYaml(value) as string | undefined) ?? '';
  } catch {
    return '';
  }
}

// Characters that make dotenv and Kustomize disagree, and plain ones, so both refused and accepted
// lines are frequent.
const valueChar = fc.constantFrom(...'abcXYZ019 _-./:,;=+@%!?&*(){}[]<>~^|'.split(''), '#', '"', "'", '`', '$', '\\', '\t', '\r', 'é', '日', '\u00a0', '\u0085', '\u2028', '\u0000', '\v', '\f', '\u001b', '\u007f', '\u0090');
const keyText = fc.oneof(fc.constantFrom('LOG_LEVEL', 'TRUST_PROXY', 'REQUEST_TIMEOUT_MS', 'A', 'B_2', '_X', 'FEATURE_FLAG'), fc.string({ unit: fc.constantFrom(...'ABCZ_09az -.'.split('')), minLength: 1, maxLength: 8 }));
const dotenvLine = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(keyText, fc.string({ unit: valueChar, maxLength: 16 })).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '# comment', '  # indented', 'export A=1', 'NOEQUALS', ' A=1', 'A =1', 'A= 1', 'A=1 ', 'A="1"', "A='1'", 'A=1 # c', 'A=$HOME', 'A=a\\nb', '\uFEFFA=1') },
);
const dotenvFile = fc.tuple(fc.array(dotenvLine, { maxLength: 6 }), fc.constantFrom('\n', '\r\n'), fc.boolean()).map(([lines, eol, finalEol]) => lines.join(eol) + (finalEol && lines.length > 0 ? eol : ''));

describe('.env parsing', () => {
  it('any .env text is either refused line by line (file + line + fix) or parsed into KEY → value', () => {
    fc.assert(
      fc.property(dotenvFile, (text) => {
        inputsTried += 1;
        const lineCount = text.split('\n').length;
        const parsed = parseDotenv('overlays/dev/.env', text);
        for (const p of parsed.problems) {
          expect(p.file).toBe('overlays/dev/.env');
          const line = Number(/^line (\d+)$/.exec(p.path ?? '')?.[1]);
          expect(line).toBeGreaterThanOrEqual(1);
          expect(line).toBeLessThanOrEqual(lineCount);
          expect(p.fix?.length).toBeGreaterThan(0);
        }
        for (const [key, value] of Object.entries(parsed.values)) {
          expect(key).toMatch(/^[A-Z_][A-Z0-9_]*$/);
          expect(value).not.toMatch(/^["'`]|#|\s$|\$|\\|\r/);
        }
        // The full check never throws and reports at least the parser's problems.
        expect(checkDotenv('overlays/dev/.env', text).problems.length).toBeGreaterThanOrEqual(parsed.problems.length);
      }),
      runs(1500),
    );
  });

  it('what the parser accepts is exactly what real kubectl kustomize puts in the ConfigMap (sample)', () => {
    const accepted = fc
      .sample(dotenvFile, { numRuns: 1000, seed: SEED })
      .filter((text) => {
        const parsed = parseDotenv('x/.env', text);
        return parsed.problems.length === 0 && parsed.entries.length > 0;
      })
      .slice(0, 40);
    expect(accepted.length).toBeGreaterThan(20);
    // One kustomize run for the whole sample: one ConfigMap per file.
    const dir = tempDir('hardening-dotenv-');
    const generators = accepted.map((text, i) => {
      writeFileSync(join(dir, `f${i}.env`), text);
      return { name: `f${i}`, envs: [`f${i}.env`] };
    });
    writeFileSync(join(dir, 'kustomization.yaml'), toYaml({ configMapGenerator: generators, generatorOptions: { disableNameSuffixHash: true } }));
    const rendered = kustomize(dir);
    expect(rendered.err, 'kubectl kustomize refused a .env file that the parser accepted').toBe('');
    const configMaps = new Map(parseAllDocuments(rendered.out).map((d) => {
      const cm = d.toJS() as { metadata: { name: string }; data?: Record<string, string> };
      return [cm.metadata.name, cm.data ?? {}] as const;
    }));
    accepted.forEach((text, i) => {
      expect(configMaps.get(`f${i}`), JSON.stringify(text)).toEqual(parseDotenv('x/.env', text).values);
    });
    inputsTried += accepted.length;
    recordFigures({ dotenvFilesCheckedAgainstKustomize: accepted.length });
  });
});

// Valid environment specs, anywhere in the schema's range.
// Requests never exceed limits (the API server refuses such a pod, and so does generate), so a pair is
// drawn as the limit first, then a request up to it; each written in one of the units users write.
const cpuText = (milli: number) => (milli % 1000 === 0 ? `${milli / 1000}` : milli % 250 === 0 ? `${milli / 1000}` : `${milli}m`);
const memText = (mi: number) => (mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`);
const cpuPair = fc.integer({ min: 1, max: 4000 }).chain((limit) => fc.record({ limit: fc.option(fc.constant(limit), { nil: undefined }), request: fc.integer({ min: 1, max: limit }) }));
const memPair = fc.integer({ min: 1, max: 4096 * 1024 }).chain((limit) => fc.record({ limit: fc.constant(limit), request: fc.integer({ min: 1, max: limit }) }));
const containerResources = fc.tuple(cpuPair, memPair).map(([cpu, mem]) => ({
  requests: { cpu: cpuText(cpu.request), memory: memText(mem.request) },
  limits: { ...(cpu.limit !== undefined ? { cpu: cpuText(cpu.limit) } : {}), memory: memText(mem.limit) },
}));
const envName = fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/).filter((n) => !RESERVED_ENV_NAMES.includes(n) && !['kube-system', 'default', 'argocd', 'mongodb-operator'].includes(n));
const specBody = fc.record(
  {
    replicas: fc.integer({ min: 1, max: 50 }),
    tag: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}$/).filter((t) => t !== 'latest'),
    resources: containerResources,
    ingress: fc.record({ host: fc.stringMatching(/^[a-z]{1,10}\.[a-z]{2,6}$/), tlsSecret: fc.stringMatching(/^[a-z]([-a-z0-9]{0,15}[a-z0-9])?$/) }, { requiredKeys: ['host'] }),
    mongodb: fc.record({
      members: fc.constantFrom(1, 3, 5, 7),
      // The operator's supported range (the rendered MongoDBCommunity schema); see the property below for
      // what env.yaml itself accepts.
      version: fc.oneof(fc.nat(30).map((p) => `7.0.${p}`), fc.tuple(fc.nat(9), fc.nat(30)).map(([m, p]) => `8.${m}.${p}`)),
      storage: fc.record({ size: fc.tuple(fc.integer({ min: 1, max: 500 }), fc.constantFrom('Mi', 'Gi', 'Ti')).map(([n, u]) => `${n}${u}`), className: fc.constantFrom('standard', 'local-path', 'gp3') }),
      resources: fc.record({ mongod: containerResources, agent: containerResources }),
    }),
    sync: fc.record({ automated: fc.boolean(), prune: fc.boolean(), selfHeal: fc.boolean() }),
    targetRevision: fc.constantFrom('main', 'release-1.2', 'v1.0.0', 'a1b2c3d'),
  },
  { requiredKeys: ['replicas', 'tag', 'resources', 'mongodb', 'sync', 'targetRevision'] },
);
const validInputs = fc
  .uniqueArray(fc.tuple(envName, specBody, fc.constantFrom('LOG_LEVEL=info\n', 'LOG_LEVEL=debug\nTRUST_PROXY=true\n', '')), { minLength: 1, maxLength: 3, selector: ([n]) => n })
  .map((envs): RepoInputs => {
    const settings = committedSettings();
    const out: RepoInputs['envs'] = {};
    envs.forEach(([name, body, dotenv], i) => {
      const ingress = body.ingress ? { ingress: { ...body.ingress, host: `${i}${body.ingress.host}` } } : {};
      out[name] = { spec: { name, namespace: `${name}-ns`, ...body, ...ingress } as EnvSpec, dotenv };
    });
    return { settings, envs: out };
  });

describe('the generator over arbitrary valid specs', () => {
  it('accepts every generated spec and produces byte-identical output on every run and in any input order', () => {
    fc.assert(
      fc.property(validInputs, (inputs) => {
        inputsTried += 1;
        for (const { spec } of Object.values(inputs.envs)) {
          const { name, ...data } = spec;
          expect(validateEnvSpec(name, `overlays/${name}/env.yaml`, structuredClone(data)).problems).toEqual([]);
        }
        const first = generateRepo(inputs);
        const reversed: RepoInputs = { settings: inputs.settings, envs: Object.fromEntries(Object.entries(inputs.envs).reverse()) };
        expect(generateRepo(structuredClone(inputs))).toEqual(first);
        expect(generateRepo(reversed)).toEqual(first);
        for (const [path, content] of Object.entries(first)) {
          expect(content.endsWith('\n'), path).toBe(true);
          if (path.endsWith('.yaml')) expect(() => parseAllDocuments(content), path).not.toThrow();
        }
      }),
      runs(40),
    );
  });

  it('renders with real kubectl kustomize and passes schema validation for a sample of generated repositories', async () => {
    const registry = await createSchemaRegistry(await customResourceValidators());
    const samples = fc.sample(validInputs, { numRuns: 3, seed: SEED });
    let rendered = 0;
    for (const inputs of samples) {
      const root = tempDir('hardening-gen-');
      for (const [path, content] of Object.entries(generateRepo(inputs))) {
        mkdirSync(join(root, path, '..'), { recursive: true });
        writeFileSync(join(root, path), content);
      }
      for (const [name, { spec, dotenv }] of Object.entries(inputs.envs)) {
        writeFileSync(join(root, 'overlays', name, '.env'), dotenv);
        const r = kustomize(join(root, 'overlays', name));
        expect(r.err, name).toBe('');
        expect(r.ok).toBe(true);
        const objects = parseAllDocuments(r.out).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> });
        const deployment = objects.find((o) => o.kind === 'Deployment');
        expect(deployment?.metadata.namespace).toBe(spec.namespace);
        expect((deployment?.spec as { replicas?: number }).replicas).toBe(spec.replicas);
        expect(JSON.stringify(deployment)).toContain(`:${spec.tag}"`);
        expect(objects.find((o) => o.kind === 'ConfigMap')?.metadata.name).toMatch(/^users-api-config-[a-z0-9]{10}$/);
        expect(objects.some((o) => o.kind === 'MongoDBCommunity')).toBe(true);
        expect(objects.every((o) => o.kind === 'Namespace' || o.metadata.namespace === spec.namespace)).toBe(true);
        // Schemas only (the pinned Kubernetes and CRD models): policies depend on the environment's role.
        const findings = await checkObjects(name, normalizeRender(r.out), registry, () => `overlays/${name}`, []);
        expect(findings.map((f) => `${f.object.kind} ${f.path}: ${f.message}`)).toEqual([]);
        rendered += 1;
      }
    }
    inputsTried += rendered;
    recordFigures({ generatedOverlaysRenderedWithKustomize: rendered });
  });
});

describe('env.yaml and the rendered MongoDBCommunity agree', () => {
  it('every mongodb.version env.yaml accepts is one the rendered MongoDBCommunity schema accepts', () => {
    fc.assert(
      fc.property(fc.tuple(fc.nat(12), fc.nat(12), fc.nat(40)).map((v) => v.join('.')), (version) => {
        inputsTried += 1;
        const data = withChange(validSpecData(), ['mongodb', 'version'], { value: version });
        const accepted = validateEnvSpec('dev', 'overlays/dev/env.yaml', data).problems.length === 0;
        const rendered = { ...mongoResource(), spec: { ...mongoResource().spec, version } };
        const renderable = validateMongoDBCommunity(rendered).length === 0;
        // A version env.yaml accepts but the operator's schema refuses passes `generate` and then fails
        // `validate` (and the operator) with an error far from the file the user wrote.
        if (accepted) expect(renderable, `env.yaml accepts mongodb.version ${version}, the MongoDBCommunity schema refuses it`).toBe(true);
      }),
      runs(200),
    );
  });
});

describe('new-env and generate end to end', () => {
  const COPY = ['gitops.yaml', 'overlays', 'apps/users-api/src', 'apps/users-api/deploy', 'platform/mongodb/replicaset', 'platform/image-policy', 'argocd', 'previews', 'schemas', 'scripts', 'package.json', 'tsconfig.json'];

  function copyRepo(): string {
    const root = tempDir('hardening-cli-');
    copyToolkitTree(root, COPY);
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
    execFileSync('git', ['init', '-q', root]);
    return root;
  }

  it('new-env with the longest accepted name and a random one renders and validates with real kubectl kustomize', async () => {
    const root = copyRepo();
    const registry = await createSchemaRegistry(await customResourceValidators());
    const longest = `q${'-x'.repeat(26)}`;
    expect(longest.length).toBe(DNS1123_LABEL_MAX - 'users-api'.length - 1);
    const [random] = fc.sample(envName.filter((n) => !['dev', 'staging', 'prod'].includes(n)), { numRuns: 1, seed: SEED });
    for (const name of [longest, random!]) {
      await runNewEnv(root, { name });
      const r = kustomize(join(root, 'overlays', name));
      expect(r.err, name).toBe('');
      const findings = await checkObjects(name, normalizeRender(r.out), registry, () => `overlays/${name}`, []);
      expect(findings.map((f) => `${f.object.kind} ${f.path}: ${f.message}`)).toEqual([]);
      const app = parseYaml(readFileSync(join(root, 'argocd/apps', `${name}.yaml`), 'utf8')) as { metadata: { name: string } };
      expect(app.metadata.name).toBe(applicationName(name));
      inputsTried += 1;
    }
  });

  it('generate exits 2 and writes nothing for a sample of broken env.yaml and .env files', () => {
    const root = copyRepo();
    const good = { spec: readFileSync(join(root, 'overlays/dev/env.yaml'), 'utf8'), dotenv: readFileSync(join(root, 'overlays/dev/.env'), 'utf8') };
    const spec = parseYaml(good.spec) as Record<string, unknown>;
    const broken: Array<{ spec?: string; dotenv?: string }> = [
      { spec: toYaml({ ...spec, replicas: -1 }) },
      { spec: toYaml({ ...spec, tag: 'latest' }) },
      { spec: toYaml({ ...spec, mongodb: { $gt: '' } }) },
      { dotenv: 'MONGODB_PASSWORD=hunter2-dummy\n' },
      { dotenv: 'LOG_LEVEL="info"\n' },
      { dotenv: 'LOG_LEVEL=info # comment\n' },
      // YAML the parser accepts but cannot turn into data: an unknown alias, an alias bomb.
      { spec: '<<: *missing\n' },
      { spec: `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n` },
    ];
    for (const change of broken) {
      if (change.spec !== undefined) writeFileSync(join(root, 'overlays/dev/env.yaml'), change.spec);
      if (change.dotenv !== undefined) writeFileSync(join(root, 'overlays/dev/.env'), change.dotenv);
      const before = readTree(root);
      const r = spawnSync(process.execPath, ['scripts/generate.ts'], { cwd: root, encoding: 'utf8' });
      expect(r.status, `${JSON.stringify(change)}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/overlays\/dev\/(env\.yaml|\.env)/);
      expect(readTree(root)).toEqual(before);
      writeFileSync(join(root, 'overlays/dev/env.yaml'), good.spec);
      writeFileSync(join(root, 'overlays/dev/.env'), good.dotenv);
      inputsTried += 1;
    }
  });
});
