// The MongoDB operator's chart as Argo CD renders it: where the pinned chart source is on this machine, and
// `helm template` of it with an operator Application's release name, namespace and valuesObject (helm.ts,
// our own renderer). validate's project admission and the sync plan read what this returns.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { helmTemplate, type HelmObject } from './helm.ts';

/**
 * Where the pinned chart's unpacked source is on this machine: $GITOPS_UPSTREAM_DIR, else $ENVTEST_UPSTREAM_DIR
 * (the GitHub workflow downloads the upstream files there), else ../shared/envtest/upstream beside the repository.
 * mongodb/mongodb-kubernetes@1.10.0:helm_chart/ unpacked as mongodb-kubernetes-<version>-helm-chart/, and its
 * crds/ concatenated as mongodb-kubernetes-<version>-crds.yaml. Nothing of it is committed.
 */
export function operatorChartSource(root: string, version: string, env: NodeJS.ProcessEnv = process.env): { chartDir: string; crdFiles: string[] } | undefined {
  const dir = env.GITOPS_UPSTREAM_DIR || env.ENVTEST_UPSTREAM_DIR || resolve(root, '../shared/envtest/upstream');
  const chartDir = join(dir, `mongodb-kubernetes-${version}-helm-chart`);
  const crds = join(dir, `mongodb-kubernetes-${version}-crds.yaml`);
  if (!existsSync(join(chartDir, 'Chart.yaml')) || !existsSync(crds)) return undefined;
  return { chartDir, crdFiles: [crds] };
}

/**
 * What Argo CD applies for an operator Application (a Helm-chart source): `helm template` of the chart source
 * with the Application's release name, destination namespace and valuesObject (scripts/lib/render/helm.ts).
 */
export function renderOperatorApplication(app: Record<string, unknown>, source: { chartDir: string; crdFiles: string[] }): HelmObject[] {
  const spec = (app.spec ?? {}) as Record<string, unknown>;
  const src = (spec.source ?? {}) as Record<string, unknown>;
  const helm = (src.helm ?? {}) as Record<string, unknown>;
  const dest = (spec.destination ?? {}) as Record<string, unknown>;
  const name = String(((app.metadata ?? {}) as Record<string, unknown>).name ?? '');
  return helmTemplate({
    chartDir: source.chartDir,
    crdFiles: source.crdFiles,
    // argo-cd@v3.5.1:reposerver/repository/repository.go helmTemplate: releaseName else the Application's name,
    // helm.namespace else the destination namespace; --include-crds unless skipCrds.
    releaseName: typeof helm.releaseName === 'string' && helm.releaseName !== '' ? helm.releaseName : name,
    namespace: typeof helm.namespace === 'string' && helm.namespace !== '' ? helm.namespace : String(dest.namespace ?? ''),
    valuesObject: (helm.valuesObject ?? undefined) as Record<string, unknown> | undefined,
    includeCrds: helm.skipCrds !== true,
  });
}
