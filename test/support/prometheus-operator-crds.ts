// ServiceMonitor and PrometheusRule CRDs for the test API server, built from the structural schemas of
// the fields this repository writes (scripts/lib/review/validate/monitoring-schema.ts, each field cited from
// prometheus-operator@v0.93.0's Go types). NOT the upstream CRDs: those are neither in ../shared nor
// allowed in the repository; these carry the same group, version, kinds, plural names and scope
// (servicemonitor_types.go / prometheusrule_types.go kubebuilder markers) and the schema of our fields.
//
// The upstream CRDs instead, when PROMETHEUS_OPERATOR_CRDS names a directory holding upstream's own files
// (prometheus-operator/prometheus-operator@v0.93.0:example/prometheus-operator-crd/
// monitoring.coreos.com_servicemonitors.yaml and monitoring.coreos.com_prometheusrules.yaml, taken from a
// checkout of that tag outside this repository): they may not be committed, and no npm package ships them
// (docs/monitoring.md "CRDs and the real API server"). Their version annotation must match the pinned tag.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROMETHEUS_OPERATOR_TAG, prometheusRuleSpecSchema, serviceMonitorSpecSchema } from '../../scripts/lib/review/validate/monitoring-schema.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';

/** The directory of upstream CRD files, when the environment names one. */
export const UPSTREAM_CRDS_DIR = process.env.PROMETHEUS_OPERATOR_CRDS;
const UPSTREAM_FILES = ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'];

export function upstreamCrds(dir: string): object[] {
  return UPSTREAM_FILES.map((file) => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new Error(`PROMETHEUS_OPERATOR_CRDS=${dir}: ${file} is missing; copy it from prometheus-operator ${PROMETHEUS_OPERATOR_TAG} example/prometheus-operator-crd/`);
    const [crd] = parseYamlStream(readFileSync(path, 'utf8')) as Array<{ metadata?: { annotations?: Record<string, string> } }>;
    const version = crd?.metadata?.annotations?.['operator.prometheus.io/version'];
    if (`v${version}` !== PROMETHEUS_OPERATOR_TAG) throw new Error(`${path}: operator.prometheus.io/version is ${String(version)}, the generated objects are written against ${PROMETHEUS_OPERATOR_TAG}`);
    return crd!;
  });
}

/** Structural schema: `additionalProperties: false` is not allowed beside `properties` in a CRD; pruning and strict field validation refuse unknown fields instead. */
function structural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(structural);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'additionalProperties' && v === false) continue;
    out[k] = structural(v);
  }
  return out;
}

function crd(kind: string, plural: string, spec: object): object {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com`, annotations: { 'gitops-users.test/source': `structural subset of prometheus-operator ${PROMETHEUS_OPERATOR_TAG} ${kind}` } },
    spec: {
      group: 'monitoring.coreos.com',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [{
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', required: ['spec'], properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec: structural(spec) } } },
      }],
    },
  };
}

export function prometheusOperatorCrds(): object[] {
  if (UPSTREAM_CRDS_DIR) return upstreamCrds(UPSTREAM_CRDS_DIR);
  return [crd('ServiceMonitor', 'servicemonitors', serviceMonitorSpecSchema), crd('PrometheusRule', 'prometheusrules', prometheusRuleSpecSchema)];
}
