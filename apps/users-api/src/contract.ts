// The facts about the users API that its deployment manifests depend on. The Kustomize base is
// generated from these values (scripts/lib), so the manifests cannot drift from the code.

export const APP_NAME = 'users-api';
export const CONTAINER_NAME = 'api';

/** The port the server listens on inside the container, and the Service's named port. */
export const HTTP_PORT = 8080;
export const HTTP_PORT_NAME = 'http';

export const PATHS = {
  users: '/users',
  liveness: '/healthz',
  readiness: '/readyz',
  metrics: '/metrics',
  openapi: '/openapi.json',
} as const;

/** How an Ingress path matches (networking.k8s.io/v1 HTTPIngressPath.pathType). */
export type PublicPathMatch = 'Prefix' | 'Exact';

/**
 * The only paths an Ingress may route to the API: the users resource (`/users` and `/users/<id>`, hence
 * Prefix: Kubernetes' Prefix matches whole path elements, so `/users` covers `/users/x` but not
 * `/usersx`) and the OpenAPI document. Probes (/healthz, /readyz) and /metrics stay in-cluster: the
 * kubelet and Prometheus reach them on the pod's port, never through the Ingress.
 */
export const PUBLIC_PATHS: ReadonlyArray<{ readonly path: string; readonly match: PublicPathMatch }> = [
  { path: PATHS.users, match: 'Prefix' },
  { path: PATHS.openapi, match: 'Exact' },
];

/** Paths served on the pod's port for the cluster only (probes, Prometheus scrape). */
export const IN_CLUSTER_PATHS = [PATHS.liveness, PATHS.readiness, PATHS.metrics] as const;

/**
 * The pod's terminationGracePeriodSeconds (the Deployment uses this value). The API must be gone before
 * the kubelet's SIGKILL: config.ts refuses a SHUTDOWN_TIMEOUT_MS that, with SHUTDOWN_HARD_EXIT_MARGIN_MS
 * added, does not fit in it.
 */
export const TERMINATION_GRACE_PERIOD_SECONDS = 30;

/** After SHUTDOWN_TIMEOUT_MS the process gives closing this long before it exits non-zero (main.ts). */
export const SHUTDOWN_HARD_EXIT_MARGIN_MS = 5000;

/**
 * Settings a per-environment .env may not change: the manifests' containerPort, probes and Service are
 * bound to HTTP_PORT on every pod address, so another PORT or a loopback HOST leaves pods never ready.
 * `allowed` are the only values a .env may repeat; `reason` says why.
 */
export const DEPLOYMENT_BOUND_SETTINGS = {
  PORT: {
    allowed: [String(HTTP_PORT)],
    reason: `the container port, the probes and the Service are generated for ${HTTP_PORT} (apps/users-api/src/contract.ts HTTP_PORT)`,
  },
  HOST: {
    allowed: ['0.0.0.0', '::'],
    reason: 'the kubelet probes and the Service reach the pod on its own IP, so the API must listen on every address (0.0.0.0 or ::)',
  },
} as const;

/** Numeric non-root identity shared by the Dockerfile (USER) and the pod securityContext. */
export const RUN_AS_USER = 10001;
export const RUN_AS_GROUP = 10001;

/** The API writes nothing but temporary files; /tmp is an emptyDir under a read-only root fs. */
export const WRITABLE_PATHS = ['/tmp'] as const;

/** The environment variable that carries the MongoDB connection string (from a Secret, never .env). */
export const MONGODB_URI_ENV = 'MONGODB_URI';

/** Names of the MongoDB driver pool series /metrics exports (metrics.ts); the Grafana dashboard reads them. */
export const POOL_METRICS = {
  open: 'mongodb_driver_pool_connections',
  checkedOut: 'mongodb_driver_pool_checked_out_connections',
  checkoutFailed: 'mongodb_driver_pool_checkout_failures_total',
  cleared: 'mongodb_driver_pool_cleared_total',
} as const;
