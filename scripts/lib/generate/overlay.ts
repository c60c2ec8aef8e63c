// overlays/<env>/: the kustomization that joins the two bases, the namespace, the ConfigMap from .env
// (hash-suffixed, so a settings change rolls the pods), the image tag, replicas, resources, ingress and
// the MongoDB patches of that environment.
import { APP_NAME, CONTAINER_NAME, HTTP_PORT_NAME, PUBLIC_PATHS } from '../../../apps/users-api/src/contract.ts';
import { API_BASE_DIR, MONGODB_BASE_DIR } from '../core/layout.ts';
import type { EnvSpec, RepoSettings } from '../inputs/spec.ts';
import { CONFIG_MAP_NAME, INGRESS_CONTROLLER, SERVICE_PORT } from './api-base.ts';
import type { OverlayPatch } from './mongodb/index.ts';

export const ENV_LABEL = 'environment';
export const RESOURCES_PATCH_FILE = 'users-api-resources.yaml';
export const INGRESS_FILE = 'ingress.yaml';
/** The Ingress's sync wave inside an environment's Application: after everything else (see ingressObject). */
export const INGRESS_SYNC_WAVE = '2';

/** One Ingress path per public path of the API, in contract order. */
export function ingressPaths(): object[] {
  const backend = { service: { name: APP_NAME, port: { name: HTTP_PORT_NAME } } };
  return PUBLIC_PATHS.map((p) => ({ path: p.path, pathType: p.match, backend }));
}

export function ingressObject(env: EnvSpec): object | undefined {
  if (!env.ingress) return undefined;
  const { host, tlsSecret } = env.ingress;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: APP_NAME,
      labels: { 'app.kubernetes.io/name': APP_NAME },
      // Last wave, after the API (1): Argo CD's Ingress health stays Progressing until
      // status.loadBalancer.ingress is set (argoproj/argo-cd@v3.5.1:gitops-engine/pkg/health/health_ingress.go),
      // which never happens without a load balancer (k3s --disable servicelb), so nothing may wait on it.
      annotations: { 'argocd.argoproj.io/sync-wave': INGRESS_SYNC_WAVE },
    },
    spec: {
      ingressClassName: INGRESS_CONTROLLER.className,
      // Only the API's public paths (contract.ts PUBLIC_PATHS): probes and /metrics stay in-cluster.
      rules: [{ host, http: { paths: ingressPaths() } }],
      tls: tlsSecret ? [{ hosts: [host], secretName: tlsSecret }] : undefined,
    },
  };
}

/** JSON patch replacing the whole resources block, so a limit absent here is absent in the pod too. */
export function resourcesPatch(env: EnvSpec): object[] {
  return [{ op: 'replace', path: '/spec/template/spec/containers/0/resources', value: env.resources }];
}

export const deploymentTarget = { group: 'apps', version: 'v1', kind: 'Deployment', name: APP_NAME } as const;

/**
 * The overlay's `images:` entry. With a digest, both newTag and digest: Kustomize then writes
 * `<image>:<tag>@<digest>` (kubernetes-sigs/kustomize@kustomize/v5.5.0:api/filters/imagetag/updater.go,
 * SetImageValue: when NewTag and Digest are both set, both are kept), so the tag stays readable in the
 * rendered Deployment while the container runtime pulls by digest, which no later push to the tag changes.
 */
export function overlayImage(settings: RepoSettings, env: EnvSpec): { name: string; newTag: string; digest?: string } {
  return env.digest ? { name: settings.image, newTag: env.tag, digest: env.digest } : { name: settings.image, newTag: env.tag };
}

export function overlayKustomization(settings: RepoSettings, env: EnvSpec, mongo: OverlayPatch[]): object {
  const resources = [`../../${API_BASE_DIR}`, `../../${MONGODB_BASE_DIR}`];
  if (env.ingress) resources.push(INGRESS_FILE);
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: env.namespace,
    resources,
    labels: [{ pairs: { [ENV_LABEL]: env.name }, includeSelectors: false, includeTemplates: true }],
    configMapGenerator: [{ name: CONFIG_MAP_NAME, envs: ['.env'] }],
    images: [overlayImage(settings, env)],
    replicas: [{ name: APP_NAME, count: env.replicas }],
    patches: [
      { path: RESOURCES_PATCH_FILE, target: deploymentTarget },
      ...mongo.map((p) => ({ path: p.file, target: p.target })),
    ],
  };
}

export { CONTAINER_NAME, SERVICE_PORT };
