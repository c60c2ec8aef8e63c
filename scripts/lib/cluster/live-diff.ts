// The working tree's rendered manifests against what is live: "what has drifted". Each rendered
// object is sent as a server-side apply with dryRun=All — the server merges, defaults and
// normalises it exactly as a real sync would, and stores nothing — and the result is compared with
// the live object. The comparison and the Secret masking are the review diff's own (scripts/lib/review/diff).
import { diffEnvironment } from '../review/diff/diffRenders.ts';
import type { EnvironmentDiff } from '../review/diff/diffRenders.ts';
import { idOf } from '../render/normalize.ts';
import type { RenderedObject } from '../render/normalize.ts';
import { comparable } from './kube/compare.ts';
import type { Kube, KubeObject } from './kube/client.ts';
import type { DiffReport } from '../review/diff/format.ts';
import type { KustomizeTool } from '../render/kustomize.ts';
import { UsageError } from '../core/errors.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARGOCD_APPS_DIR, envDir } from '../core/layout.ts';
import { readRepoInputs } from '../inputs/index.ts';
import { parseYamlStream } from '../core/yaml.ts';

/**
 * Argo CD's own server-side apply: the environment Applications sync with `ServerSideApply=true`, so
 * Argo CD applies as field manager "argocd-controller" (argoproj/argo-cd@v3.5.1:common/common.go
 * ArgoCDSSAManager, passed in controller/sync.go WithServerSideApplyManager) with forced conflicts
 * (argoproj/argo-cd@v3.5.1:gitops-engine/pkg/utils/kube/resource_ops.go `o.ForceConflicts =
 * serverSideApply`) and strict field validation unless `Validate=false`. Dry-running the same apply
 * shows what a sync would change: a field removed from git is removed (argocd-controller owned it),
 * a hand-scaled replica count is set back, and fields only other managers own (an HPA's) stay.
 */
export const LIVE_DIFF_FIELD_MANAGER = 'argocd-controller';
export const ARGOCD_SSA_SYNC_OPTION = 'ServerSideApply=true';
export const ARGOCD_HOOK_ANNOTATION = 'argocd.argoproj.io/hook';

/**
 * Argo CD hooks (annotation argocd.argoproj.io/hook, other than "Skip" alone) are not synced as
 * resources but created afresh for each sync (argoproj/argo-cd@v3.5.1:gitops-engine/pkg/sync/
 * sync_context.go "Skipping hook", gitops-engine/pkg/sync/hook/hook.go IsHook), so they are no drift.
 */
export function isArgoHook(obj: KubeObject): boolean {
  const value = obj.metadata.annotations?.['argocd.argoproj.io/hook'];
  if (value === undefined) return false;
  const types = value.split(',').map((t) => t.trim()).filter(Boolean);
  return !(types.length === 1 && types[0] === 'Skip');
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
    // Hooks (the PreSync password hook) exist only while a sync runs and never count as drift: Argo CD
    // leaves them out of the sync status (argoproj/argo-cd@v3.5.1:controller/state.go, "For resource hooks
    // ... do not affect overall sync status").
    if (original.metadata.annotations?.[ARGOCD_HOOK_ANNOTATION]) continue;
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
    const wouldBe = await kube.apply(obj, { dryRun: true, force: true, strict: true, fieldManager: LIVE_DIFF_FIELD_MANAGER });
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
  /** Told when the environment's Application does not sync with server-side apply (then this diff is not its semantics). */
  warn?: (line: string) => void;
}

/** Whether argocd/apps/<env>.yaml syncs with server-side apply, as this diff assumes. */
export function applicationUsesServerSideApply(root: string, env: string): boolean | undefined {
  const file = join(root, ARGOCD_APPS_DIR, `${env}.yaml`);
  if (!existsSync(file)) return undefined;
  const app = parseYamlStream(readFileSync(file, 'utf8')).find((d) => (d as KubeObject)?.kind === 'Application') as { spec?: { syncPolicy?: { syncOptions?: string[] } } } | undefined;
  return (app?.spec?.syncPolicy?.syncOptions ?? []).includes(ARGOCD_SSA_SYNC_OPTION);
}

/**
 * `diff.ts --live <env>`: renders overlays/<env> from the working tree and compares it with the
 * cluster, as the same DiffReport the review diff prints (text, markdown, json; exit code on drift).
 */
export async function liveDiffReport(opts: LiveReportOptions): Promise<DiffReport> {
  const { envs } = await readRepoInputs(opts.root);
  const env = envs[opts.env];
  if (!env) throw new UsageError(`unknown environment ${JSON.stringify(opts.env)}; known: ${Object.keys(envs).sort().join(', ')}`);
  if (applicationUsesServerSideApply(opts.root, opts.env) === false) {
    opts.warn?.(`warning: ${ARGOCD_APPS_DIR}/${opts.env}.yaml does not sync with ${ARGOCD_SSA_SYNC_OPTION}; this diff shows server-side apply semantics, so a field removed from git may not be removed by its client-side sync`);
  }
  const yaml = await opts.kustomize.build(opts.root, envDir(opts.env));
  const objects = parseYamlStream(yaml).filter((d): d is KubeObject => typeof (d as KubeObject)?.metadata?.name === 'string');
  const diff = await liveDiff({ env: opts.env, objects, namespace: env.spec.namespace, kube: opts.kube });
  return { base: `live (${opts.kube.context})`, head: 'working tree', reached: [opts.env], envs: diff ? [diff] : [] };
}
