// A copy of the committed repository with monitoring switched on in gitops.yaml (the committed one has it
// off: a plain k3s has no Prometheus operator) and prod's error-ratio threshold lowered in its env.yaml.
import { createRepoCopy, type RepoCopy } from '../support/repo-copy.ts';

export const PROD_ERROR_RATIO = 0.01;

export function monitoredCopy(): RepoCopy {
  const copy = createRepoCopy();
  copy.edit('gitops.yaml', '  prometheusOperator: false\n', '  prometheusOperator: true\n  selectorLabels: { release: kube-prometheus-stack }\n');
  copy.write('overlays/prod/env.yaml', `${copy.read('overlays/prod/env.yaml')}monitoring: { errorRatio: ${PROD_ERROR_RATIO}, latencyP99Seconds: 0.5 }\n`);
  copy.generate();
  return copy;
}
