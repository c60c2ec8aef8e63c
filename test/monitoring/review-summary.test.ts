// The review summary marks a change that alters an alert threshold (pointing at env.yaml or gitops.yaml)
// or removes monitoring from an environment that stays.
import { describe, expect, it } from 'vitest';
import { normalizeRender } from '../../scripts/lib/render/normalize.ts';
import { summarizeEnvironment } from '../../scripts/lib/review/diff/summary.ts';
import { itemText } from '../../scripts/lib/review/diff/format.ts';
import { dashboardConfigMap, prometheusRule, serviceMonitor } from '../../scripts/lib/generate/monitoring.ts';
import { toYamlStream } from '../../scripts/lib/core/yaml.ts';
import { committedSettings, envSpec } from '../generator/support.ts';
import type { EnvSpec } from '../../scripts/lib/inputs/spec.ts';

const settings = (() => {
  const s = committedSettings();
  return { ...s, monitoring: { ...s.monitoring!, prometheusOperator: true } };
})();
const prod = (monitoring?: EnvSpec['monitoring']): EnvSpec => envSpec(settings, 'prod', monitoring ? { monitoring } : {});
const inNs = (o: object) => ({ ...o, metadata: { ...(o as { metadata: object }).metadata, namespace: 'prod' } });
const monitored = (env: EnvSpec) => [serviceMonitor(settings), prometheusRule(settings, env), dashboardConfigMap(env)].map(inNs);
const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users-api', namespace: 'prod' }, spec: { replicas: 3 } };
const render = (objects: object[]) => normalizeRender(toYamlStream(objects));

describe('review summary: monitoring', () => {
  it('a threshold lowered in env.yaml: the alert, old → new, and the env.yaml line', () => {
    const envYaml = 'namespace: prod\nreplicas: 3\nmonitoring:\n  errorRatio: 0.01\n';
    const s = summarizeEnvironment('prod', render([deployment, ...monitored(prod())]), render([deployment, ...monitored(prod({ errorRatio: 0.01 }))]), { envYaml });
    const item = s.items.find((i) => i.kind === 'monitoring')!;
    expect(item).toMatchObject({ what: 'alert UsersApiErrorRatioHigh threshold', from: '0.05 for 5m', to: '0.01 for 5m', resource: 'PrometheusRule prod/users-api', source: { file: 'overlays/prod/env.yaml', line: 4, field: 'monitoring.errorRatio' } });
    expect(s.verdict).toContain('alert UsersApiErrorRatioHigh threshold 0.05 for 5m → 0.01 for 5m');
    expect(itemText(item)).toMatch(/^monitoring/);
  });

  it('a default changed in gitops.yaml: the source is gitops.yaml\'s monitoring.thresholds', () => {
    const base = monitored(prod());
    const head = [serviceMonitor(settings), prometheusRule({ ...settings, monitoring: { ...settings.monitoring, thresholds: { ...settings.monitoring.thresholds, backupMaxAgeHours: 50 } } }, prod()), dashboardConfigMap(prod())].map(inNs);
    const s = summarizeEnvironment('prod', render([deployment, ...base]), render([deployment, ...head]), { envYaml: 'namespace: prod\n' });
    expect(s.items.filter((i) => i.kind === 'monitoring')).toEqual([expect.objectContaining({ what: 'alert UsersDbBackupTooOld threshold', from: '93600 for 15m', to: '180000 for 15m', source: { file: 'gitops.yaml', field: 'monitoring.thresholds.backupMaxAgeHours' } })]);
  });

  it('monitoring removed from an environment that stays is called out in the verdict', () => {
    const s = summarizeEnvironment('prod', render([deployment, ...monitored(prod())]), render([deployment]));
    expect(s.items.find((i) => i.kind === 'monitoring')).toMatchObject({ what: 'monitoring removed', from: 'ConfigMap, PrometheusRule, ServiceMonitor' });
    expect(s.verdict).toMatch(/^MONITORING REMOVED \(ConfigMap, PrometheusRule, ServiceMonitor\); -3 objects/);
  });

  it('nothing about monitoring when it did not change', () => {
    const s = summarizeEnvironment('prod', render([deployment, ...monitored(prod())]), render([{ ...deployment, spec: { replicas: 4 } }, ...monitored(prod())]));
    expect(s.items.some((i) => i.kind === 'monitoring')).toBe(false);
  });
});
