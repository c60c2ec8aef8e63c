// ServiceMonitor and PrometheusRule CRDs for the test API server, built from the structural schemas of
// the fields this repository writes (scripts/lib/review/validate/monitoring-schema.ts, each field cited from
// prometheus-operator@v0.93.0's Go types). NOT the upstream CRDs: those are neither in ../shared nor
// allowed in the repository; these carry the same group, version, kinds, plural names and scope
// (servicemonitor_types.go / prometheusrule_types.go kubebuilder markers) and the schema of our fields.
import { PROMETHEUS_OPERATOR_TAG, prometheusRuleSpecSchema, serviceMonitorSpecSchema } from '../../scripts/lib/review/validate/monitoring-schema.ts';

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
  return [crd('ServiceMonitor', 'servicemonitors', serviceMonitorSpecSchema), crd('PrometheusRule', 'prometheusrules', prometheusRuleSpecSchema)];
}
