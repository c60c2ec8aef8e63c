// Structural schemas of ServiceMonitor and PrometheusRule (monitoring.coreos.com/v1), for the fields the
// generator writes (scripts/lib/generate/monitoring.ts), written from prometheus-operator's Go types at
// the pinned tag. The full upstream CRDs are NOT in ../shared nor in this repository (copying them is
// not allowed): validate checks these fields, and the envtest suite installs CRDs built from these
// schemas (test/support/prometheus-operator-crds.ts). Each field's source:
//   prometheus-operator/prometheus-operator@v0.93.0:pkg/apis/monitoring/v1/
//     servicemonitor_types.go  ServiceMonitorSpec: selector (metav1.LabelSelector, required),
//                              endpoints ([]Endpoint, required), namespaceSelector, jobLabel
//     types.go                 Endpoint: port, path, interval (Duration), scrapeTimeout (Duration);
//                              Duration: string, pattern below; NamespaceSelector: any, matchNames
//     prometheusrule_types.go  PrometheusRuleSpec: groups; RuleGroup: name (required, minLength 1),
//                              interval, rules; Rule: record | alert, expr (IntOrString, required),
//                              for (Duration), labels, annotations (map[string]string)
// Unknown fields are refused here (additionalProperties: false) like the API server's strict field
// validation does with the full CRD.
import type { ValidateFunction } from 'ajv';
import { compiledSchema } from '../../core/compiled-schema.ts';
import type { Problem } from '../../core/errors.ts';

export const PROMETHEUS_OPERATOR_TAG = 'v0.93.0';

/** types.go `Duration` kubebuilder pattern. */
const DURATION_PATTERN = '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$';
const duration = { type: 'string', pattern: DURATION_PATTERN };
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: stringMap,
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['key', 'operator'],
        properties: { key: { type: 'string' }, operator: { type: 'string' }, values: { type: 'array', items: { type: 'string' } } },
      },
    },
  },
};

export const serviceMonitorSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['endpoints', 'selector'],
  properties: {
    jobLabel: { type: 'string' },
    selector: labelSelector,
    namespaceSelector: { type: 'object', additionalProperties: false, properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } } },
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { port: { type: 'string' }, path: { type: 'string' }, interval: duration, scrapeTimeout: duration },
      },
    },
  },
} as const;

export const prometheusRuleSpecSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    groups: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1 },
          interval: duration,
          rules: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['expr'],
              properties: {
                record: { type: 'string' },
                alert: { type: 'string' },
                // IntOrString upstream; the generator writes strings.
                expr: { 'x-kubernetes-int-or-string': true },
                for: duration,
                labels: stringMap,
                annotations: stringMap,
              },
            },
          },
        },
      },
    },
  },
} as const;

const metadataSchema = { type: 'object' };

function objectSchema(kind: string, spec: object): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: { apiVersion: { const: 'monitoring.coreos.com/v1' }, kind: { const: kind }, metadata: metadataSchema, spec },
  };
}

/** The schemas without the Kubernetes-only keyword (x-kubernetes-int-or-string: any JSON type is accepted by ajv there). */
function forAjv(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'x-kubernetes-int-or-string') out.anyOf = [{ type: 'string' }, { type: 'integer' }];
    else out[k] = forAjv(v);
  }
  return out;
}

let compiled: Map<string, ValidateFunction> | undefined;

/** validate's validators, keyed "apiVersion/kind" (scripts/lib/review/validate/schema.ts customResourceValidators). */
export function monitoringValidators(): Map<string, (o: Record<string, unknown>) => Problem[]> {
  if (!compiled) {
    // Kept as code after the first compile (scripts/lib/core/compiled-schema.ts).
    const options = { allErrors: true, strict: false } as const;
    compiled = new Map([
      ['ServiceMonitor', compiledSchema('servicemonitor', forAjv(objectSchema('ServiceMonitor', serviceMonitorSpecSchema)) as object, options)],
      ['PrometheusRule', compiledSchema('prometheusrule', forAjv(objectSchema('PrometheusRule', prometheusRuleSpecSchema)) as object, options)],
    ]);
  }
  const out = new Map<string, (o: Record<string, unknown>) => Problem[]>();
  for (const [kind, validate] of compiled) {
    out.set(`monitoring.coreos.com/v1/${kind}`, (o) => {
      if (validate(o)) return [];
      return (validate.errors ?? []).map((e) => ({
        path: e.instancePath || '/',
        message: `${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''} (${kind}, prometheus-operator ${PROMETHEUS_OPERATOR_TAG} fields)`,
        fix: 'write only the fields prometheus-operator defines (scripts/lib/review/validate/monitoring-schema.ts cites them)',
      }));
    });
  }
  return out;
}
