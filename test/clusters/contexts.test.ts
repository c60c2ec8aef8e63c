// Which kubeconfig context each command uses for a cluster: a flag wins, then gitops.yaml
// clusters.<name>.context; an environment on another cluster without one is a usage error (exit 2),
// never a command silently run against the current context's cluster.
import { describe, expect, it } from 'vitest';
import { contextForEnv } from '../../scripts/lib/cluster/context.ts';
import { parseClusterContexts } from '../../scripts/lib/cluster/status/clusters-cli.ts';
import { UsageError } from '../../scripts/lib/core/errors.ts';

const settings = { clusters: { 'in-cluster': {}, 'prod-eu': { server: 'https://prod-eu.example.com:6443', context: 'prod-eu-admin' }, 'prod-us': { server: 'https://prod-us.example.com:6443' } } };

describe('diff --live <env> goes to the environment\'s cluster', () => {
  it('uses --context, else the cluster\'s context from gitops.yaml, else (in-cluster only) the current one', () => {
    expect(contextForEnv(settings, 'prod-eu', 'prod', undefined)).toBe('prod-eu-admin');
    expect(contextForEnv(settings, 'prod-eu', 'prod', 'other')).toBe('other');
    expect(contextForEnv(settings, 'in-cluster', 'dev', undefined)).toBeUndefined();
    expect(contextForEnv({}, 'in-cluster', 'dev', undefined)).toBeUndefined();
  });

  it('refuses an environment on another cluster with no context to reach it', () => {
    expect(() => contextForEnv(settings, 'prod-us', 'staging', undefined)).toThrow(UsageError);
    expect(() => contextForEnv(settings, 'prod-us', 'staging', undefined)).toThrow('environment staging runs on cluster prod-us: pass --context <its kubeconfig context> or set clusters.prod-us.context in gitops.yaml');
  });
});

describe('status --cluster-context <cluster>=<ctx>', () => {
  const known = new Set(Object.keys(settings.clusters));
  it('parses one per cluster', () => {
    expect([...parseClusterContexts(['prod-us=us-admin', 'prod-eu=eu'], known)]).toEqual([['prod-us', 'us-admin'], ['prod-eu', 'eu']]);
  });
  it('refuses a malformed flag and an unknown cluster', () => {
    expect(() => parseClusterContexts(['prod-us'], known)).toThrow('write <cluster>=<kubeconfig context>');
    expect(() => parseClusterContexts(['prod-ap=x'], known)).toThrow('cluster prod-ap is not in gitops.yaml clusters (in-cluster, prod-eu, prod-us)');
  });
});
