// The service-proxy path status reads alerts through, on the real API server: the server understands it
// as Prometheus's Service proxy (a Service without ready endpoints answers 503 "no endpoints available";
// without an Endpoints object, 404), and status reports the alerts as unknown with that reason instead of failing.
import { beforeAll, expect, it } from 'vitest';
import { withAlerts } from '../../scripts/lib/cluster/status/alerts.ts';
import type { Kube } from '../../scripts/lib/cluster/kube/client.ts';
import { describeEnvtest, uniqueName, useEnvtest, type Envtest } from '../support/envtest/index.ts';
import { asStream, kubeOf, must } from '../cluster/real.ts';

describeEnvtest('status alerts through the service proxy', () => {
  let env: Envtest;
  let kube: Kube;
  let ns: string;
  beforeAll(async () => {
    env = await useEnvtest();
    kube = kubeOf(env);
    ns = uniqueName('monitoring');
    await must(env, ['create', 'namespace', ns]);
    await must(env, ['apply', '-f', '-'], asStream([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'prometheus-operated', namespace: ns }, spec: { ports: [{ name: 'web', port: 9090 }], selector: { app: 'prometheus' } } },
      // What the endpoints controller (absent from envtest) writes for a Service whose pods are not ready.
      { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'prometheus-operated', namespace: ns }, subsets: [] }]));
  });

  const status = { env: 'prod', namespace: 'prod' };
  const fetchUrl = () => Promise.reject(new Error('not used'));

  it('a Prometheus Service without ready pods: alerts unknown, with the API server\'s reason (kube-apiserver v1.28)', async () => {
    const [s] = await withAlerts([status], { namespace: ns, service: 'prometheus-operated', port: 9090 }, { getPath: kube.getPath!.bind(kube), fetchUrl });
    expect(s!.alerts).toBeUndefined();
     expect(s!.alertsUnavailable).toMatch(/503|no endpoints available|ServiceUnavailable/i);
  });

  it('no such Service: alerts unknown, saying it was not found (kube-apiserver v1.28)', async () => {
    const [s] = await withAlerts([status], { namespace: ns, service: 'no-such-prometheus', port: 9090 }, { getPath: kube.getPath!.bind(kube), fetchUrl });
    expect(s!.alertsUnavailable).toMatch(/404|not found/i);
  });
});
