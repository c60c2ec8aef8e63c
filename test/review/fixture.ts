// A small GitOps repository built at run time: one API base, one database-side base, and overlays per
// environment with a configMapGenerator (.env, hash suffix) and an images transformer, like the real
// repository. Tests commit to it to produce the histories diff.ts reviews.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { toYaml, toYamlStream } from '../../scripts/lib/core/yaml.ts';

export const DUMMY_SECRET_VALUE = 'dummy-not-a-real-password-7f3a';

const labels = { 'app.kubernetes.io/name': 'users-api' };

export function deployment(replicas = 1): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'users-api', labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 },
          containers: [
            {
              name: 'api',
              image: 'ghcr.io/example/users-api',
              ports: [{ name: 'http', containerPort: 8080 }],
              envFrom: [{ configMapRef: { name: 'users-api-config' } }],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              livenessProbe: { httpGet: { path: '/livez', port: 'http' } },
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
              securityContext: {
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      },
    },
  };
}

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'users-api', labels },
  spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};
const pdb = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'users-api' },
  spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
};
const apiNetpol = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'users-api' },
  spec: { podSelector: { matchLabels: labels }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 8080 }] }] },
};
const dbNetpol = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'mongodb' },
  spec: {
    podSelector: { matchLabels: { app: 'mongodb-svc' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: labels } }], ports: [{ port: 27017 }] }],
  },
};
const dbServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mongodb-database' } };

export interface EnvOptions {
  tag?: string;
  replicas?: number;
  dotenv?: string;
}

export function overlayFiles(env: string, o: EnvOptions = {}): Record<string, string> {
  const dir = `overlays/${env}`;
  const files: Record<string, string> = {
    [`${dir}/kustomization.yaml`]: toYaml({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: `users-${env}`,
      resources: ['../../apps/users-api/deploy', '../../platform/mongodb/replicaset'],
      configMapGenerator: [{ name: 'users-api-config', envs: ['.env'] }],
      images: [{ name: 'ghcr.io/example/users-api', newTag: o.tag ?? '1.0.0' }],
      patches: [{ path: 'replicas.yaml' }],
    }),
    [`${dir}/replicas.yaml`]: toYaml({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users-api' }, spec: { replicas: o.replicas ?? 2 } }),
    [`${dir}/.env`]: o.dotenv ?? 'LOG_LEVEL=info\nPORT=8080\n',
  };
  return files;
}

export function baseFiles(): Record<string, string> {
  return {
    'apps/users-api/deploy/kustomization.yaml': toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['deployment.yaml', 'service.yaml', 'pdb.yaml', 'networkpolicy.yaml'] }),
    'apps/users-api/deploy/deployment.yaml': toYaml(deployment()),
    'apps/users-api/deploy/service.yaml': toYaml(service),
    'apps/users-api/deploy/pdb.yaml': toYaml(pdb),
    'apps/users-api/deploy/networkpolicy.yaml': toYaml(apiNetpol),
    'platform/mongodb/replicaset/kustomization.yaml': toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['resources.yaml'] }),
    'platform/mongodb/replicaset/resources.yaml': toYamlStream([dbServiceAccount, dbNetpol]),
    'README.md': '# fixture\n',
    '.gitignore': '.cache/\n',
  };
}

export interface FixtureRepo {
  root: string;
  write(files: Record<string, string | null>): void;
  read(file: string): string;
  commit(message: string): string;
  git(...args: string[]): string;
  cleanup(): void;
}

export function createFixtureRepo(envs: readonly string[] = ['dev', 'staging', 'prod']): FixtureRepo {
  const root = mkdtempSync(join(tmpdir(), 'review-fixture-'));
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' },
    });
  const repo: FixtureRepo = {
    root,
    git,
    write(files) {
      for (const [rel, content] of Object.entries(files)) {
        const abs = join(root, rel);
        if (content === null) rmSync(abs, { force: true });
        else {
          mkdirSync(dirname(abs), { recursive: true });
          writeFileSync(abs, content);
        }
      }
    },
    read: (file) => readFileSync(join(root, file), 'utf8'),
    commit(message) {
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD').trim();
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
  git('init', '-q', '-b', 'main');
  repo.write(baseFiles());
  for (const env of envs) repo.write(overlayFiles(env));
  repo.commit('initial environments');
  return repo;
}
