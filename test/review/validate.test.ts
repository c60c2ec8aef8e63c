import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toYaml } from '../../scripts/lib/yaml.ts';
import { normalizeRender } from '../../scripts/lib/render/normalize.ts';
import { createSchemaRegistry } from '../../scripts/lib/validate/schema.ts';
import type { SchemaRegistry } from '../../scripts/lib/validate/schema.ts';
import { checkObjects } from '../../scripts/lib/validate/validate.ts';
import { looksLikeCredential } from '../../scripts/lib/validate/policies.ts';
import { runScript } from './cli.ts';
import { DUMMY_SECRET_VALUE, createFixtureRepo, deployment } from './fixture.ts';
import type { FixtureRepo } from './fixture.ts';

let repo: FixtureRepo;
let registry: SchemaRegistry;
beforeAll(async () => {
  repo = createFixtureRepo();
  registry = await createSchemaRegistry();
});
afterAll(() => repo.cleanup());

/** Findings for a set of objects in an environment, as "policy path". */
async function findings(env: string, objects: unknown[]): Promise<string[]> {
  const parsed = normalizeRender(objects.map((o) => toYaml(o)).join('---\n'));
  const found = await checkObjects(env, parsed, registry, () => 'file.yaml');
  return found.map((f) => `${f.policy} ${f.path}`);
}

const ns = (o: Record<string, unknown>): Record<string, unknown> => ({ ...o, metadata: { ...(o.metadata as object), namespace: 'users-x' } });
const netpol = ns({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np' }, spec: { podSelector: {} } });
const pdb = ns({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' }, spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'users-api' } } } });

function withContainer(patch: (c: Record<string, unknown>) => void, replicas = 1): Record<string, unknown> {
  const d = ns(deployment(replicas)) as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
  const container = d.spec.template.spec.containers[0]!;
  container.image = 'ghcr.io/example/users-api:1.0.0'; // the base leaves the tag to the overlay's images transformer
  patch(container);
  return d as unknown as Record<string, unknown>;
}

describe('validate policies', () => {
  it('a compliant workload with its NetworkPolicy has no findings', async () => {
    expect(await findings('prod', [withContainer(() => {}), netpol])).toEqual([]);
  });

  it.each([
    ['non-root', (c: Record<string, unknown>) => { c.securityContext = { ...(c.securityContext as object), runAsUser: 0 }; }, '/spec/template/spec/containers/0/securityContext/runAsUser'],
    ['read-only-root-filesystem', (c: Record<string, unknown>) => { c.securityContext = { ...(c.securityContext as object), readOnlyRootFilesystem: false }; }, '/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem'],
    ['no-privilege-escalation', (c: Record<string, unknown>) => { c.securityContext = { ...(c.securityContext as object), allowPrivilegeEscalation: true }; }, '/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation'],
    ['drop-all-capabilities', (c: Record<string, unknown>) => { c.securityContext = { ...(c.securityContext as object), capabilities: { drop: ['NET_RAW'] } }; }, '/spec/template/spec/containers/0/securityContext/capabilities/drop'],
    ['resources', (c: Record<string, unknown>) => { c.resources = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1' } }; }, '/spec/template/spec/containers/0/resources'],
    ['probes', (c: Record<string, unknown>) => { delete c.readinessProbe; }, '/spec/template/spec/containers/0/readinessProbe'],
    ['image-tag', (c: Record<string, unknown>) => { c.image = 'ghcr.io/example/users-api:latest'; }, '/spec/template/spec/containers/0/image'],
    ['image-tag', (c: Record<string, unknown>) => { c.image = 'ghcr.io/example/users-api'; }, '/spec/template/spec/containers/0/image'],
    ['no-secrets-in-git', (c: Record<string, unknown>) => { c.env = [{ name: 'DB_PASSWORD', value: DUMMY_SECRET_VALUE }]; }, '/spec/template/spec/containers/0/env/0/value'],
  ])('%s is reported at its field', async (policy, patch, path) => {
    expect(await findings('prod', [withContainer(patch), netpol])).toEqual([`${policy} ${path}`]);
  });

  it('a replicated workload needs a PodDisruptionBudget selecting its pods', async () => {
    expect(await findings('prod', [withContainer(() => {}, 3), netpol])).toEqual(['pod-disruption-budget /spec/replicas']);
    expect(await findings('prod', [withContainer(() => {}, 3), netpol, pdb])).toEqual([]);
  });

  it('every namespace needs a NetworkPolicy', async () => {
    expect(await findings('prod', [withContainer(() => {})])).toEqual(['network-policy ']);
  });

  it('an Ingress needs TLS outside dev only', async () => {
    const ingress = ns({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'api' }, spec: { rules: [{ host: 'api.example.com' }] } });
    expect(await findings('dev', [ingress, netpol])).toEqual([]);
    expect(await findings('prod', [ingress, netpol])).toEqual(['ingress-tls /spec/tls']);
  });

  it('a Secret object is a finding', async () => {
    const secret = ns({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: DUMMY_SECRET_VALUE } });
    expect(await findings('prod', [secret, netpol])).toEqual(['no-secrets-in-git ']);
  });

  it('a waiver with a reason silences its policy; without a reason it is itself a finding', async () => {
    const waived = (reason: string) => {
      const d = withContainer((c) => { c.image = 'ghcr.io/example/users-api'; }) as { metadata: Record<string, unknown> };
      d.metadata.annotations = { 'policy.gitops.dev/waive-image-tag': reason };
      return d;
    };
    expect(await findings('prod', [waived('pinned by digest in the cluster admission policy'), netpol])).toEqual([]);
    expect((await findings('prod', [waived(''), netpol])).sort()).toEqual([
      'image-tag /spec/template/spec/containers/0/image',
      'waiver /metadata/annotations/policy.gitops.dev~1waive-image-tag',
    ]);
  });

  it.each([
    ['MONGODB_URI', 'mongodb://app:hunter2@db:27017/users', true],
    ['API_TOKEN', 'abc123', true],
    ['PASSWORD_SECRET_NAME', 'users-db-password', false],
    ['LOG_LEVEL', 'info', false],
    ['MONGODB_URI_FROM', '$(MONGODB_URI)', false],
  ])('%s=%s looks like a credential: %s', (key, value, expected) => {
    expect(looksLikeCredential(key, value)).toBe(expected);
  });
});

describe('validate schemas', () => {
  it('rejects unknown fields, wrong types and missing required fields', async () => {
    const d = withContainer((c) => { c.imagePullPolicyy = 'Always'; }) as { spec: Record<string, unknown> };
    d.spec.replicas = 'two';
    const bad = [d, netpol, ns({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ name: 'x' }] } })];
    expect((await findings('prod', bad)).sort()).toEqual([
      'schema /spec/ports/0/port',
      'schema /spec/replicas',
      'schema /spec/template/spec/containers/0/imagePullPolicyy',
    ]);
  });

  it('checks Argo CD objects strictly and leaves free-form Helm values alone', async () => {
    const app = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'users-prod', namespace: 'argocd' },
      spec: {
        project: 'users',
        destination: { server: 'https://kubernetes.default.svc', namespace: 'users-prod' },
        source: { repoURL: 'https://example.invalid/repo.git', path: 'overlays/prod', targetRevision: 'main', helm: { valuesObject: { any: { shape: 1 } } } },
        syncPolicy: { automated: { prune: true, selfHeal: true }, syncOption: ['CreateNamespace=true'] },
      },
    };
    const argocdNetpol = { ...netpol, metadata: { name: 'np', namespace: 'argocd' } };
    expect(await findings('prod', [app, argocdNetpol])).toEqual(['schema /spec/syncPolicy/syncOption']);
  });

  it('reports a kind without a known schema', async () => {
    expect(await findings('prod', [{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])).toEqual(['schema /kind']);
  });
});

describe('validate CLI', () => {
  it('passes the fixture environments with exit 0', async () => {
    const r = await runScript('validate', [], repo.root);
    expect(r.stdout).toContain('validated dev, prod, staging: no findings');
    expect(r.code).toBe(0);
  });

  it('fails with exit 1, the policy id and the overlay patch when staging runs as root, in every format, without printing a secret', async () => {
    const patch = repo.read('overlays/staging/replicas.yaml');
    repo.write({
      'overlays/staging/replicas.yaml': `${patch}---\n${toYaml({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users-api' }, spec: { template: { spec: { securityContext: { runAsUser: 0 }, containers: [{ name: 'api', env: [{ name: 'DB_PASSWORD', value: DUMMY_SECRET_VALUE }] }] } } } })}`,
    });
    try {
      const text = await runScript('validate', [], repo.root);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^staging: overlays\/staging\/replicas\.yaml: \[non-root\] Deployment users-staging\/users-api/m);
      const gh = await runScript('validate', ['staging', '--format', 'github'], repo.root);
      expect(gh.code).toBe(1);
      expect(gh.stdout).toMatch(/^::error file=overlays\/staging\/replicas\.yaml,title=non-root \(staging\)::Deployment users-staging\/users-api/m);
      const json = await runScript('validate', ['--format', 'json'], repo.root);
      const parsed = JSON.parse(json.stdout) as { findings: Array<{ env: string; policy: string }> };
      expect(parsed.findings.map((f) => `${f.env} ${f.policy}`).sort()).toEqual(['staging no-secrets-in-git', 'staging non-root']);
      for (const out of [text, gh, json]) expect(out.stdout + out.stderr).not.toContain(DUMMY_SECRET_VALUE);
    } finally {
      repo.git('checkout', '--', 'overlays/staging/replicas.yaml');
    }
  });

  it('points a finding in an unpatched field at the base file that defines the object', async () => {
    const base = repo.read('apps/users-api/deploy/deployment.yaml');
    repo.write({ 'apps/users-api/deploy/deployment.yaml': base.replace('readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false') });
    try {
      const r = await runScript('validate', ['dev', '--format', 'github'], repo.root);
      expect(r.stdout).toMatch(/^::error file=apps\/users-api\/deploy\/deployment\.yaml,title=read-only-root-filesystem \(dev\)::/m);
    } finally {
      repo.git('checkout', '--', 'apps/users-api/deploy/deployment.yaml');
    }
  });

  it('rejects an unknown format with exit 2', async () => {
    const r = await runScript('validate', ['--format', 'xml'], repo.root);
    expect(r.code).toBe(2);
  });
});
