// The checkout served to Argo CD from inside the cluster, so that unpushed commits are what gets tested:
// `git daemon` (git's own server, git-scm.com/docs/git-daemon) in a pod, its image built from the same
// pinned Node/Alpine base as the API (Dockerfile ARG NODE_IMAGE, so one pin) plus Alpine's git and
// git-daemon packages. Argo CD reads git:// URLs: argo-cd@v3.5.1 util/git/client.go lists refs through a
// go-git remote of the URL as given (go-git has a git:// transport), `newAuth` returns no auth for a URL
// that is neither SSH nor given credentials, and fetches run the git CLI (argoproj/argo-cd issue #10587
// serves tests from git daemon the same way). gitops.yaml accepts git:// only for a host inside the
// cluster (scripts/lib/inputs/refs-urls.ts). Pushes come through `kubectl port-forward`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../kube/client.ts';

export const GIT_NAMESPACE = 'gitops-e2e';
export const GIT_SERVICE = 'git-server';
export const GIT_PORT = 9418;
export const GIT_IMAGE = 'gitops-e2e/git-server:local';
export const REPO_PATH = 'repo.git';
export const E2E_REPO_URL = `git://${GIT_SERVICE}.${GIT_NAMESPACE}.svc.cluster.local/${REPO_PATH}`;

/** The API image's pinned base (tag@digest), read from the Dockerfile: the git server uses the same one. */
export function pinnedBaseImage(root: string): string {
  const m = /^ARG NODE_IMAGE=(\S+@sha256:[0-9a-f]{64})$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  if (!m) throw new Error('Dockerfile has no ARG NODE_IMAGE=<tag>@sha256:<digest> line: the e2e git server reuses that pin');
  return m[1]!;
}

/** The git server's Dockerfile (built from stdin, no context). */
export function gitServerDockerfile(baseImage: string): string {
  return [
    `FROM ${baseImage}`,
    // git-daemon is its own Alpine package (aports main/git: subpackage git-daemon).
    'RUN apk add --no-cache git git-daemon',
    'USER 10002:10002',
    '',
  ].join('\n');
}

const labels = { 'app.kubernetes.io/name': GIT_SERVICE, 'app.kubernetes.io/part-of': 'gitops-e2e' };

/** Namespace, Deployment (an emptyDir holds the bare repository), Service. */
export function gitServerObjects(): KubeObject[] {
  const securityContext = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: GIT_NAMESPACE, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: GIT_SERVICE, namespace: GIT_NAMESPACE, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 10002, runAsGroup: 10002, fsGroup: 10002, seccompProfile: { type: 'RuntimeDefault' } },
            initContainers: [{
              name: 'init',
              image: GIT_IMAGE,
              imagePullPolicy: 'Never',
              command: ['git', 'init', '--bare', '--initial-branch=main', `/srv/git/${REPO_PATH}`],
              env: [{ name: 'HOME', value: '/tmp' }],
              securityContext,
              volumeMounts: [{ name: 'git', mountPath: '/srv/git' }, { name: 'tmp', mountPath: '/tmp' }],
            }],
            containers: [{
              name: 'git-daemon',
              image: GIT_IMAGE,
              imagePullPolicy: 'Never',
              // receive-pack enabled: e2e pushes its commits here (nothing else reaches this Service).
              command: ['git', 'daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', '--base-path=/srv/git', `--port=${GIT_PORT}`, '/srv/git'],
              env: [{ name: 'HOME', value: '/tmp' }],
              ports: [{ name: 'git', containerPort: GIT_PORT }],
              readinessProbe: { tcpSocket: { port: GIT_PORT }, periodSeconds: 2 },
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '256Mi' } },
              securityContext,
              volumeMounts: [{ name: 'git', mountPath: '/srv/git' }, { name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'git', emptyDir: {} }, { name: 'tmp', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: GIT_SERVICE, namespace: GIT_NAMESPACE, labels },
      spec: { selector: labels, ports: [{ name: 'git', port: GIT_PORT, targetPort: GIT_PORT }] },
    },
  ];
}
