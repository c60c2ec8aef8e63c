// apps/users-api/deploy: the users API's Kustomize base as typed objects. Port, probe paths, user id,
// names and the Secret it reads come from the API's own modules, so the manifests cannot drift from the code.
import {
  APP_NAME, CONTAINER_NAME, HTTP_PORT, HTTP_PORT_NAME, MONGODB_URI_ENV, PATHS, RUN_AS_GROUP, RUN_AS_USER, TERMINATION_GRACE_PERIOD_SECONDS, WRITABLE_PATHS,
} from '../../../apps/users-api/src/contract.ts';
import { MONGODB, type RepoSettings } from '../inputs/spec.ts';

/** ConfigMap generated in every overlay from its .env; Kustomize rewrites this reference to the hashed name. */
export const CONFIG_MAP_NAME = `${APP_NAME}-config`;
export const SERVICE_PORT = 80;

/** k3s ships Traefik in kube-system; these are the only pods outside the namespace allowed to reach the API. */
export const INGRESS_CONTROLLER = {
  namespace: 'kube-system',
  podLabels: { 'app.kubernetes.io/name': 'traefik' },
  className: 'traefik',
} as const;

export const selectorLabels = { 'app.kubernetes.io/name': APP_NAME } as const;
const labels = { ...selectorLabels, 'app.kubernetes.io/component': 'api', 'app.kubernetes.io/part-of': APP_NAME } as const;

/** Sync wave of the API inside an environment's Application: after the database (wave 0) is healthy. */
export const API_SYNC_WAVE = '1';

export function apiDeployment(settings: RepoSettings): object {
  const probe = (path: string, extra: object) => ({ httpGet: { path, port: HTTP_PORT_NAME }, timeoutSeconds: 2, ...extra });
  const volumeName = (p: string) => `writable${p.replace(/[^a-z0-9]+/g, '-')}`.replace(/-$/, '');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: APP_NAME, labels, annotations: { 'argocd.argoproj.io/sync-wave': API_SYNC_WAVE } },
    spec: {
      replicas: settings.defaults.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: APP_NAME,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SECONDS,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS_USER,
            runAsGroup: RUN_AS_GROUP,
            fsGroup: RUN_AS_GROUP,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selectorLabels },
              matchLabelKeys: ['pod-template-hash'],
            },
          ],
          containers: [
            {
              name: CONTAINER_NAME,
              image: `${settings.image}:${settings.defaults.tag}`,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: 'TCP' }],
              env: [
                { name: MONGODB_URI_ENV, valueFrom: { secretKeyRef: { name: MONGODB.connectionSecret, key: MONGODB.connectionKey } } },
                // In a pod the Service and the kubelet's probes reach the pod IP: every address (the API's own default is 127.0.0.1).
                { name: 'HOST', value: '0.0.0.0' },
              ],
              envFrom: [{ configMapRef: { name: CONFIG_MAP_NAME } }],
              resources: settings.defaults.resources,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                privileged: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              startupProbe: probe(PATHS.liveness, { periodSeconds: 2, failureThreshold: 30 }),
              livenessProbe: probe(PATHS.liveness, { periodSeconds: 10, failureThreshold: 3 }),
              readinessProbe: probe(PATHS.readiness, { periodSeconds: 5, failureThreshold: 2 }),
              volumeMounts: WRITABLE_PATHS.map((p) => ({ name: volumeName(p), mountPath: p })),
            },
          ],
          volumes: WRITABLE_PATHS.map((p) => ({ name: volumeName(p), emptyDir: { sizeLimit: '64Mi' } })),
        },
      },
    },
  };
}

export function apiService(): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: APP_NAME, labels },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels,
      ports: [{ name: HTTP_PORT_NAME, port: SERVICE_PORT, targetPort: HTTP_PORT_NAME, protocol: 'TCP' }],
    },
  };
}

export function apiServiceAccount(): object {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: APP_NAME, labels }, automountServiceAccountToken: false };
}

export function apiPodDisruptionBudget(): object {
  // maxUnavailable (not minAvailable) so a single-replica dev environment never blocks a node drain.
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: APP_NAME, labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels } },
  };
}

export function apiNetworkPolicy(): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: APP_NAME, labels },
    spec: {
      podSelector: { matchLabels: selectorLabels },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': INGRESS_CONTROLLER.namespace } },
              podSelector: { matchLabels: INGRESS_CONTROLLER.podLabels },
            },
            { podSelector: {} },
          ],
          ports: [{ port: HTTP_PORT_NAME, protocol: 'TCP' }],
        },
      ],
    },
  };
}

/** Every object of the base, by file name. */
export function apiBaseObjects(settings: RepoSettings): Record<string, object> {
  return {
    'deployment.yaml': apiDeployment(settings),
    'networkpolicy.yaml': apiNetworkPolicy(),
    'poddisruptionbudget.yaml': apiPodDisruptionBudget(),
    'service.yaml': apiService(),
    'serviceaccount.yaml': apiServiceAccount(),
  };
}
