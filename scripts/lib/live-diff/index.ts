// The working tree's rendered manifests against what is live: "what has drifted". Each rendered
// object is sent as a server-side apply with dryRun=All — the server merges, defaults and
// normalises it exactly as a real sync would, and stores nothing — and the result is compared with
// the live object. The comparison and the Secret masking are the review diff's own (scripts/lib/diff).
import { diffEnvironment } from '../diff/diffRenders.ts';
import type { EnvironmentDiff } from '../diff/diffRenders.ts';
import { idOf } from '../render/normalize.ts';
import type { RenderedObject } from '../render/normalize.ts';
import { canonicalize } from '../yaml.ts';
import type { Kube, KubeObject } from '../kube/client.ts';
import type { DiffReport } from '../diff/format.ts';
import type { KustomizeTool } from '../kustomize.ts';
import { UsageError } from '../errors.ts';
import { envDir } from '../layout.ts';
import { readRepoInputs } from '../repo-inputs.ts';
import { parseYamlStream } from '../yaml.ts';

/**
 * Argo CD's field manager: dry-running as Argo CD makes a field removed from git show as removed
 * (fields owned by other managers, e.g. an HPA's replicas, stay and are not drift).
 */
export const LIVE_DIFF_FIELD_MANAGER = 'argocd-controller';

/** Bookkeeping the server writes on every object; never drift. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink'];

function comparable(obj: KubeObject): Record<string, unknown> {
  const copy = structuredClone(obj) as Record<string, unknown> & { metadata: Record<string, unknown> };
  delete copy.status;
  for (const k of SERVER_METADATA) delete copy.metadata[k];
  const annotations = copy.metadata.annotations as Record<string, string> | undefined;
  if (annotations) {
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
    if (Object.keys(annotations).length === 0) delete copy.metadata.annotations;
  }
  return canonicalize(copy) as Record<string, unknown>;
}

const rendered = (object: Record<string, unknown>): RenderedObject => ({ id: idOf(object), object });

export interface LiveDiffInput {
  env: string;
  /** `kustomize build overlays/<env>` parsed; namespaced objects without a namespace get `namespace`. */
  objects: readonly KubeObject[];
  namespace: string;
  kube: Kube;
  context?: number;
}

/** Per-resource differences live → rendered (undefined when nothing drifted). Reads and dry-runs only. */
export async function liveDiff(input: LiveDiffInput): Promise<EnvironmentDiff | undefined> {
  const { kube } = input;
  const liveSide: RenderedObject[] = [];
  const wantSide: RenderedObject[] = [];
  for (const original of input.objects) {
    const namespaced = await kube.isNamespaced(original.apiVersion, original.kind);
    const obj: KubeObject =
      namespaced && !original.metadata.namespace ? { ...original, metadata: { ...original.metadata, namespace: input.namespace } } : original;
    const ref = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: namespaced ? obj.metadata.namespace : undefined };
    const live = namespaced === undefined ? undefined : await kube.get(ref);
    if (!live) {
      // Not on the cluster (or its kind is not installed yet): the sync would create it as rendered.
      wantSide.push(rendered(comparable(obj)));
      continue;
    }
    const wouldBe = await kube.apply(obj, { dryRun: true, force: true, fieldManager: LIVE_DIFF_FIELD_MANAGER });
    liveSide.push(rendered(comparable(live)));
    wantSide.push(rendered(comparable(wouldBe)));
  }
  return diffEnvironment(input.env, liveSide, wantSide, { context: input.context ?? 3 });
}

export interface LiveReportOptions {
  root: string;
  env: string;
  kube: Kube;
  kustomize: KustomizeTool;
}

/**
 * `diff.ts --live <env>`: renders overlays/<env> from the working tree and compares it with the
 * cluster, as the same DiffReport the review diff prints (text, markdown, json; exit code on drift).
 */
export async function liveDiffReport(opts: LiveReportOptions): Promise<DiffReport> {
  const { envs } = await readRepoInputs(opts.root);
  const env = envs[opts.env];
  if (!env) throw new UsageError(`unknown environment ${JSON.stringify(opts.env)}; known: ${Object.keys(envs).sort().join(', ')}`);
  const yaml = await opts.kustomize.build(opts.root, envDir(opts.env));
  const objects = parseYamlStream(yaml).filter((d): d is KubeObject => typeof (d as KubeObject)?.metadata?.name === 'string');
  const diff = await liveDiff({ env: opts.env, objects, namespace: env.spec.namespace, kube: opts.kube });
  return { base: `live (${opts.kube.context})`, head: 'working tree', reached: [opts.env], envs: diff ? [diff] : [] };
}
