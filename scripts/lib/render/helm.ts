// `helm template` as Argo CD v3.5.1 runs it for a Helm-chart Application, without a Helm binary: our own Go
// program (scripts/lib/render/helm/main.go, text/template + sprig + Helm's functions and value rules, each
// cited there) built once with Debian's Go and packages, cached under .cache/helm-render/<source hash>/.
//
// The options are the ones Argo CD passes (argo-cd@v3.5.1:reposerver/repository/repository.go helmTemplate,
// util/helm/cmd.go template): --name-template = spec.source.helm.releaseName (else the Application's name),
// --namespace = spec.source.helm.namespace (else spec.destination.namespace), --kube-version = the cluster's,
// --values = the valuesObject written to a file, --api-versions = the cluster's, --include-crds unless
// helm.skipCrds.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SOURCE_DIR = resolve(import.meta.dirname, 'helm');
const TOOLKIT = resolve(import.meta.dirname, '../../..');
/** Where Debian's golang-*-dev packages put their sources (GOPATH mode, no module download). */
export const DEBIAN_GOPATH = '/usr/share/gocode';
/** The apt packages the renderer is built from (.ci/run installs them). */
export const HELM_RENDER_APT_PACKAGES = ['golang-go', 'golang-github-masterminds-sprig-dev', 'golang-github-ghodss-yaml-dev'] as const;

export class HelmRenderUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HelmRenderUnavailable';
  }
}

export interface HelmTemplateOptions {
  /** An unpacked chart directory (Chart.yaml, values.yaml, templates/). */
  chartDir: string;
  releaseName: string;
  namespace: string;
  /** The Application's spec.source.helm.valuesObject. */
  valuesObject?: Record<string, unknown>;
  kubeVersion?: string;
  apiVersions?: readonly string[];
  /** Argo CD passes --include-crds unless spec.source.helm.skipCrds. */
  includeCrds?: boolean;
  /** CRD files printed as the chart's crds/ when the unpacked source keeps them elsewhere. */
  crdFiles?: readonly string[];
  /** Cache root (default: the toolkit's .cache). */
  cacheDir?: string;
}

export interface HelmObject {
  /** The template the object came from (`# Source:`), e.g. mongodb-kubernetes/templates/operator.yaml. */
  source: string;
  object: Record<string, unknown>;
}

function sourceHash(): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(SOURCE_DIR, 'main.go')));
  return h.digest('hex').slice(0, 16);
}

/** The built renderer's path, building it (once per source hash) with Debian's Go in GOPATH mode. */
export function helmRenderBinary(cacheDir = join(TOOLKIT, '.cache'), env: NodeJS.ProcessEnv = process.env): string {
  const dir = join(cacheDir, 'helm-render', sourceHash());
  const bin = join(dir, 'helm-render');
  if (existsSync(bin)) return bin;
  const go = spawnSync('go', ['version'], { encoding: 'utf8', env });
  if (go.error || go.status !== 0) {
    throw new HelmRenderUnavailable(`rendering a Helm chart needs Go to build scripts/lib/render/helm/main.go, and \`go\` was not found: install ${HELM_RENDER_APT_PACKAGES.join(' ')} (apt-get install)`);
  }
  if (!existsSync(join(DEBIAN_GOPATH, 'src/github.com/Masterminds/sprig')) || !existsSync(join(DEBIAN_GOPATH, 'src/github.com/ghodss/yaml'))) {
    throw new HelmRenderUnavailable(`rendering a Helm chart needs sprig and ghodss/yaml under ${DEBIAN_GOPATH}: install ${HELM_RENDER_APT_PACKAGES.join(' ')} (apt-get install)`);
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('go', ['build', '-o', tmp, 'main.go'], {
    cwd: SOURCE_DIR,
    encoding: 'utf8',
    env: { ...env, GO111MODULE: 'off', GOPATH: DEBIAN_GOPATH, GOCACHE: join(cacheDir, 'helm-render', 'gocache'), GOFLAGS: '' },
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new HelmRenderUnavailable(`building scripts/lib/render/helm/main.go failed: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  renameSync(tmp, bin);
  return bin;
}

function hashTree(h: ReturnType<typeof createHash>, dir: string, rel = ''): void {
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) hashTree(h, dir, r);
    else h.update(`${r}\0`).update(readFileSync(join(dir, r))).update('\0');
  }
}

/**
 * `helm template` of a chart directory with Argo CD's options; throws HelmRenderUnavailable without Go.
 * The objects are remembered under .cache/helm-render/out/, keyed by the renderer's source, every chart
 * file, the CRD files and the options, so a repeated render reads one JSON file.
 */
export function helmTemplate(opts: HelmTemplateOptions): HelmObject[] {
  const cacheDir = opts.cacheDir ?? join(TOOLKIT, '.cache');
  const args = ['--chart', opts.chartDir, '--name', opts.releaseName, '--namespace', opts.namespace, '--kube-version', opts.kubeVersion ?? 'v1.28.0', '--json'];
  for (const v of opts.apiVersions ?? []) args.push('--api-versions', v);
  if (opts.includeCrds !== false) {
    args.push('--include-crds');
    for (const f of opts.crdFiles ?? []) args.push('--crds-file', f);
  }
  const values = opts.valuesObject && Object.keys(opts.valuesObject).length > 0 ? JSON.stringify(opts.valuesObject) : undefined;
  const h = createHash('sha256').update(sourceHash()).update('\0').update(JSON.stringify(args)).update('\0').update(values ?? '');
  hashTree(h, opts.chartDir);
  if (opts.includeCrds !== false) for (const f of opts.crdFiles ?? []) h.update(readFileSync(f));
  const cached = join(cacheDir, 'helm-render', 'out', `${h.digest('hex')}.json`);
  if (existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as HelmObject[];

  const bin = helmRenderBinary(cacheDir);
  const tmp = mkdtempSync(join(tmpdir(), 'helm-values-'));
  try {
    if (values) {
      // JSON is YAML: the file Argo CD writes (ApplicationSourceHelm.ValuesYAML) parses to the same values.
      const file = join(tmp, 'values.yaml');
      writeFileSync(file, values);
      args.push('--values', file);
    }
    let text: string;
    try {
      text = execFileSync(bin, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`helm template of ${opts.chartDir} failed: ${(e.stderr || e.message).trim()}`);
    }
    const objects = JSON.parse(text) as HelmObject[];
    mkdirSync(join(cacheDir, 'helm-render', 'out'), { recursive: true });
    const part = `${cached}.${process.pid}.tmp`;
    writeFileSync(part, text);
    renameSync(part, cached);
    return objects;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
