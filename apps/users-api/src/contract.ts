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

/** Numeric non-root identity shared by the Dockerfile (USER) and the pod securityContext. */
export const RUN_AS_USER = 10001;
export const RUN_AS_GROUP = 10001;

/** The API writes nothing but temporary files; /tmp is an emptyDir under a read-only root fs. */
export const WRITABLE_PATHS = ['/tmp'] as const;

/** The environment variable that carries the MongoDB connection string (from a Secret, never .env). */
export const MONGODB_URI_ENV = 'MONGODB_URI';
