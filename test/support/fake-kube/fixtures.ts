// Cluster fixtures: what a fresh k3s answers (local-path default StorageClass, Traefik), a tiny
// stand-in for the Argo CD install manifest, and bootstrap inputs. Dummy values only.
import type { KubeObject } from '../../../scripts/lib/kube/client.ts';
import type { BootstrapInputs } from '../../../scripts/lib/bootstrap/index.ts';
import type { FakeKube } from './server.ts';

export function seedK3s(fake: FakeKube, opts: { defaultStorageClass?: boolean; ingressClass?: boolean } = {}): void {
  fake.put({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'local-path', annotations: opts.defaultStorageClass === false ? {} : { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'rancher.io/local-path',
  });
  if (opts.ingressClass !== false) {
    fake.put({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'traefik' }, spec: { controller: 'traefik.io/ingress-controller' } });
  }
}

/** Five objects in the shape of Argo CD's install.yaml: cluster-scoped and namespaced, two workloads. */
export const FAKE_INSTALL_MANIFEST = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: applications.argoproj.io
spec:
  group: argoproj.io
  names: { kind: Application, plural: applications }
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, x-kubernetes-preserve-unknown-fields: true }
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: argocd-server
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: argocd-server
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: argocd-server }
subjects:
  - { kind: ServiceAccount, name: argocd-server, namespace: argocd }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-server
spec:
  selector: { matchLabels: { app.kubernetes.io/name: argocd-server } }
  template:
    metadata: { labels: { app.kubernetes.io/name: argocd-server } }
    spec: { containers: [{ name: argocd-server, image: quay.io/argoproj/argocd:v3.1.0 }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: argocd-application-controller
spec:
  selector: { matchLabels: { app.kubernetes.io/name: argocd-application-controller } }
  template:
    metadata: { labels: { app.kubernetes.io/name: argocd-application-controller } }
    spec: { containers: [{ name: controller, image: quay.io/argoproj/argocd:v3.1.0 }] }
`;

export const project: KubeObject = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'AppProject',
  metadata: { name: 'users-api', namespace: 'argocd' },
  spec: { sourceRepos: ['https://example.invalid/gitops.git'], destinations: [{ namespace: 'staging', server: 'https://kubernetes.default.svc' }] },
};

export const rootApp: KubeObject = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'root', namespace: 'argocd' },
  spec: { project: 'users-api', source: { repoURL: 'https://example.invalid/gitops.git', path: 'argocd/apps', targetRevision: 'main' }, destination: { server: 'https://kubernetes.default.svc', namespace: 'argocd' } },
};

export function bootstrapInputs(overrides: Partial<BootstrapInputs> = {}): BootstrapInputs {
  return {
    repoURL: 'https://example.invalid/gitops.git',
    argocd: { version: '3.1.0', namespace: 'argocd' },
    projects: [project],
    root: rootApp,
    healthChecks: { 'resource.customizations.health.argoproj.io_Application': 'return { status = "Healthy" }\n' },
    ...overrides,
  };
}
