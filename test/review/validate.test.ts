import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toYaml } from '../../scripts/lib/core/yaml.ts';
import { normalizeRender } from '../../scripts/lib/render/normalize.ts';
import { createSchemaRegistry } from '../../scripts/lib/review/validate/schema.ts';
import type { SchemaRegistry } from '../../scripts/lib/review/validate/schema.ts';
import { checkObjects } from '../../scripts/lib/review/validate/validate.ts';
import { looksLikeCredential } from '../../scripts/lib/review/validate/policies.ts';
import { capacityFindings } from '../../scripts/lib/review/validate/validate.ts';
import { effectivePodRequests, formatAmount, workloadRequests } from '../../scripts/lib/review/validate/capacity.ts';
import type { RepoSettings } from '../../scripts/lib/inputs/spec.ts';
import { runScript } from './cli.ts';
import { DUMMY_SECRET_VALUE, deployment } from './fixture.ts';
import { createRepoCopy, type RepoCopy } from './repo-copy.ts';

let repo: RepoCopy;
let registry: SchemaRegistry;
beforeAll(async () => {
  repo = createRepoCopy();
  registry = await createSchemaRegistry();
}, 120_000);
afterAll(() => repo?.cleanup());

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

  it('does not ask a Job\'s run-to-completion container for probes', async () => {
    const d = withContainer((c) => { delete c.livenessProbe; delete c.readinessProbe; }) as { spec: { template: unknown } };
    const job = ns({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once' }, spec: { template: d.spec.template } });
    expect(await findings('prod', [job, netpol])).toEqual([]);
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
    ['MONGODB_URI', 'mongodb://app:hunter2@db:27017/users', true], // secretlint-disable-line -- a planted fake credential
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

describe('validate CLI (on a copy of this repository)', () => {
  it('passes the committed environments, the Argo CD objects and the repository checks with exit 0', async () => {
    const r = await runScript('validate', [], repo.root);
    expect(r.stdout).toContain('validated dev, pr-123, prod, staging, argocd, repository: no findings');
    expect(r.code).toBe(0);
  }, 120_000);

  it('fails with exit 1, the policy id and the file when the API runs as root, in every format, without printing a secret', async () => {
    const file = 'apps/users-api/deploy/deployment.yaml';
    repo.edit(file, 'runAsUser: 10001', 'runAsUser: 0');
    repo.edit(file, /          env:\n/, `          env:\n            - name: DB_PASSWORD\n              value: ${DUMMY_SECRET_VALUE}\n`);
    try {
      const text = await runScript('validate', [], repo.root);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^staging: apps\/users-api\/deploy\/deployment\.yaml: \[non-root\] Deployment staging\/users-api/m);
      const gh = await runScript('validate', ['staging', '--format', 'github'], repo.root);
      expect(gh.code).toBe(1);
      expect(gh.stdout).toMatch(/^::error file=apps\/users-api\/deploy\/deployment\.yaml,title=non-root \(staging\)::Deployment staging\/users-api/m);
      const json = await runScript('validate', ['staging', '--format', 'json'], repo.root);
      const parsed = JSON.parse(json.stdout) as { findings: Array<{ env: string; policy: string }> };
      expect(parsed.findings.map((f) => `${f.env} ${f.policy}`).sort()).toEqual(['staging no-secrets-in-git', 'staging non-root']);
      for (const out of [text, gh, json]) expect(out.stdout + out.stderr).not.toContain(DUMMY_SECRET_VALUE);
    } finally {
      repo.git('checkout', '--', 'apps/users-api/deploy');
    }
  }, 120_000);

  it('fails with exit 1 and policy capacity when gitops.yaml gives the cluster less than prod alone asks for', async () => {
    repo.edit('gitops.yaml', /capacity:\n  cpu: [^\n]+\n/, 'capacity:\n  cpu: 2000m\n');
    try {
      const r = await runScript('validate', ['--format', 'json'], repo.root);
      expect(r.code).toBe(1);
      const found = (JSON.parse(r.stdout) as { findings: Array<{ env: string; policy: string; file: string; message: string }> }).findings.filter((f) => f.policy === 'capacity');
      expect(found.map((f) => `${f.env} ${f.file}`)).toEqual(['prod overlays/prod/env.yaml', 'repository gitops.yaml']);
      expect(found[0]!.message).toMatch(/^environment prod alone asks for more than the cluster has: \d+m CPU requested, capacity 2000m CPU/);
    } finally {
      repo.git('checkout', '--', 'gitops.yaml');
    }
  }, 120_000);

  it('rejects an unknown format with exit 2', async () => {
    const r = await runScript('validate', ['--format', 'xml'], repo.root);
    expect(r.code).toBe(2);
  });
});

describe('validate: the Ingress exposes only the API\'s public paths', () => {
  const ingress = (paths: Array<{ path: string; pathType: string }>) =>
    ns({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'users-api' },
      spec: {
        tls: [{ hosts: ['api.example.com'], secretName: 't' }],
        rules: [{ host: 'api.example.com', http: { paths: paths.map((p) => ({ ...p, backend: { service: { name: 'users-api', port: { name: 'http' } } } })) } }],
      },
    });

  it('accepts /users (Prefix) and /openapi.json (Exact)', async () => {
    expect(await findings('prod', [ingress([{ path: '/users', pathType: 'Prefix' }, { path: '/openapi.json', pathType: 'Exact' }]), netpol])).toEqual([]);
  });

  it.each([
    ['/', 'Prefix'],
    ['/metrics', 'Exact'],
    ['/healthz', 'Prefix'],
    ['/openapi.json', 'Prefix'],
  ])('refuses %s (%s), which would publish probes or metrics', async (path, pathType) => {
    expect(await findings('prod', [ingress([{ path, pathType }]), netpol])).toEqual(['ingress-public-paths /spec/rules/0/http/paths/0']);
  });
});

describe('validate: MongoDB members', () => {
  const mdbc = (members: number, agentLimit = '256Mi') =>
    ns({
      // Backups are policy mongodb-backup's concern (test/mongodb/backup.test.ts): waived here as generate does without them.
      apiVersion: 'mongodbcommunity.mongodb.com/v1', kind: 'MongoDBCommunity', metadata: { name: 'users-db', annotations: { 'policy.gitops.dev/waive-mongodb-backup': 'not what this test is about' } },
      spec: {
        type: 'ReplicaSet', members, version: '8.0.32', security: { authentication: { modes: ['SCRAM-SHA-256'] } },
        users: [{ name: 'users-api', db: 'admin', passwordSecretRef: { name: 'p' }, roles: [{ name: 'readWrite', db: 'users' }], scramCredentialsSecretName: 's' }],
        statefulSet: { spec: { template: { spec: { containers: [
          { name: 'mongod', resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } } },
          { name: 'mongodb-agent', resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: agentLimit } } },
        ] } } } },
      },
    });
  const dbPdb = ns({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'users-db' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'users-db-svc' } } } });

  it('need a PodDisruptionBudget selecting app: <name>-svc when there are several', async () => {
    expect(await findings('prod', [mdbc(3), netpol])).toEqual(['pod-disruption-budget /spec/members']);
    expect(await findings('prod', [mdbc(3), netpol, dbPdb])).toEqual([]);
    expect(await findings('dev', [mdbc(1), netpol])).toEqual([]);
  });

  it('refuse an agent memory limit below the upstream sample\'s 250M (the old 128Mi)', async () => {
    expect(await findings('dev', [mdbc(1, '128Mi'), netpol])).toEqual(['mongodb-agent-memory /spec/statefulSet/spec/template/spec/containers/1/resources/limits/memory']);
    expect(await findings('dev', [mdbc(1, '250M'), netpol])).toEqual([]);
  });
});

describe('validate: capacity (effective pod requests against gitops.yaml capacity)', () => {
  const settings = (cpu: string, memory: string) => ({ capacity: { cpu, memory } }) as unknown as RepoSettings;
  const objects = (list: unknown[]) => normalizeRender(list.map((o) => toYaml(o)).join('---\n'));
  const member = (init: boolean) => {
    const podSpec: Record<string, unknown> = {
      containers: [
        { name: 'mongod', resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } } },
        { name: 'mongodb-agent', resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '256Mi' } } },
      ],
    };
    if (init) {
      podSpec.initContainers = [
        { name: 'mongod-posthook', resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } } },
        { name: 'mongodb-agent-readinessprobe', resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } } },
      ];
    }
    return {
      apiVersion: 'mongodbcommunity.mongodb.com/v1',
      kind: 'MongoDBCommunity',
      metadata: { name: 'users-db', namespace: 'x' },
      spec: { members: 7, statefulSet: { spec: { template: { spec: podSpec } } } },
    };
  };

  it('counts a pod as max(largest init container, sum of containers)', () => {
    const pod = effectivePodRequests(
      [{ requests: { cpu: '100m', memory: '100Mi' } }, { requests: { cpu: '50m' }, limits: { memory: '50Mi' } }],
      [{ requests: { cpu: '400m', memory: '10Mi' } }, { requests: { cpu: '10m', memory: '20Mi' } }],
    );
    expect(formatAmount('cpu', pod.cpu)).toBe('400m CPU'); // the init container dominates the CPU
    expect(formatAmount('memory', pod.memory)).toBe('150Mi memory'); // a limit stands in for a missing request
  });

  it('reproduces the issue: without init-container resources 7 members ask for 3.5 CPUs (the operator\'s 0.5 CPU default each)', () => {
    const [w] = workloadRequests(objects([member(false)]));
    expect(w!.pods).toBe(7);
    expect(formatAmount('cpu', w!.total.cpu)).toBe('3500m CPU');
    const [sized] = workloadRequests(objects([member(true)]));
    expect(formatAmount('cpu', sized!.total.cpu)).toBe('840m CPU');
  });

  it('reports an environment that alone exceeds the capacity, and all of them together, naming env.yaml and gitops.yaml', () => {
    const rendered = new Map([['a', objects([member(false)])], ['b', objects([member(true)])]]);
    const found = capacityFindings(rendered, settings('3', '16Gi'), true).map((f) => `${f.env} ${f.policy} ${f.file}${f.path}`);
    expect(found).toEqual(['a capacity overlays/a/env.yaml/', 'repository capacity gitops.yaml/capacity']);
    expect(capacityFindings(rendered, settings('8', '16Gi'), true)).toEqual([]);
    expect(capacityFindings(rendered, {} as RepoSettings, true)).toEqual([]); // no capacity given, no check
  });
});
