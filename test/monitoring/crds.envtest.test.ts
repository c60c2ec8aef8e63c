// The monitored environments on the real API server: the ServiceMonitor and PrometheusRule CRDs built
// from the cited prometheus-operator v0.93.0 fields (test/support/prometheus-operator-crds.ts; the full
// upstream CRDs may not be committed and no npm package ships them), or upstream's own CRD files when
// PROMETHEUS_OPERATOR_CRDS names a directory holding them (docs/monitoring.md), installed, then every rendered object of dev, staging and prod
// server-side applied the way Argo CD applies (fieldValidation=Strict) as a dry run: no error, no warning.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEnvtest, uniqueName, useEnvtest, type Envtest } from '../support/envtest/index.ts';
import { prometheusOperatorCrds, UPSTREAM_CRDS_DIR } from '../support/prometheus-operator-crds.ts';
import { asStream, intoNamespace, must, renderEnv } from '../cluster/real.ts';
import { monitoredCopy } from './fixture.ts';
import type { RepoCopy } from '../support/repo-copy.ts';

const ARGO_APPLY = ['apply', '--server-side', '--field-manager=argocd-controller', '--force-conflicts', '--validate=strict'];

describeEnvtest(`monitoring objects on the real API server (${UPSTREAM_CRDS_DIR ? `upstream CRDs from ${UPSTREAM_CRDS_DIR}` : 'structural CRDs of the cited fields'})`, () => {
  let env: Envtest;
  let copy: RepoCopy;
  const suffix = uniqueName('mon').slice(2);
  beforeAll(async () => {
    env = await useEnvtest();
    copy = monitoredCopy();
    await must(env, ['apply', '--server-side', '--field-manager=test-crds', '-f', '-'], asStream(prometheusOperatorCrds()));
    await must(env, ['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com', '--timeout=60s']);
  }, 180_000);
  afterAll(() => copy?.cleanup());

  for (const name of ['dev', 'staging', 'prod']) {
    it(`overlays/${name} with monitoring: server-side dry run with fieldValidation=Strict, no warning (kube-apiserver v1.28)`, async () => {
      const ns = `${name}-${suffix}`.slice(0, 63);
      await must(env, ['create', 'namespace', ns]);
      const objects = intoNamespace(renderEnv(name, copy.root), name, ns);
      expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']));
      const dry = await env.kubectl([...ARGO_APPLY, '--dry-run=server', '-f', '-'], { input: asStream(objects) });
      expect(dry.stderr).toBe('');
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/servicemonitor\.monitoring\.coreos\.com\/users-api serverside-applied \(server dry run\)/);
      expect(dry.stdout).toMatch(/prometheusrule\.monitoring\.coreos\.com\/users-api serverside-applied \(server dry run\)/);
      expect(dry.stdout).toMatch(/servicemonitor\.monitoring\.coreos\.com\/users-db-exporter serverside-applied \(server dry run\)/);
      expect(dry.stdout).toMatch(/deployment\.apps\/users-db-exporter serverside-applied \(server dry run\)/);
      expect(dry.stdout).toMatch(/networkpolicy\.networking\.k8s\.io\/users-db-from-exporter serverside-applied \(server dry run\)/);
    }, 180_000);
  }

  it('a misspelt field or a bad duration is refused by the same apply: the check can fail (kube-apiserver v1.28)', async () => {
    const ns = `bad-${suffix}`.slice(0, 63);
    await must(env, ['create', 'namespace', ns]);
    const objects = intoNamespace(renderEnv('dev', copy.root), 'dev', ns);
    const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
    const spec = structuredClone(rule.spec) as { groups: Array<{ rules: Array<Record<string, unknown>> }> };
    spec.groups[0]!.rules[0]!.for = '5 minutes';
    const sm = objects.find((o) => o.kind === 'ServiceMonitor' && o.metadata.name === 'users-db-exporter')!;
    const r1 = await env.kubectl([...ARGO_APPLY, '--dry-run=server', '-f', '-'], { input: asStream([{ ...rule, spec }]) });
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toMatch(/spec\.groups\[0\]\.rules\[0\]\.for/);
    const r2 = await env.kubectl([...ARGO_APPLY, '--dry-run=server', '-f', '-'], { input: asStream([{ ...sm, spec: { ...(sm.spec as object), endpoint: [] } }]) });
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/unknown field "spec\.endpoint"|unknown field "endpoint" in com\.coreos\.monitoring\.v1\.ServiceMonitor\.spec/);
  }, 180_000);
});
