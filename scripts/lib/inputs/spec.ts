// The typed inputs of the generator: the repo settings file (gitops.yaml) and each environment's
// overlays/<env>/env.yaml. JSON Schemas and validation live with the generator; these are the shapes.

export interface ContainerResources {
  requests: { cpu: string; memory: string };
  limits: { cpu?: string; memory: string };
}

export interface SyncPolicy {
  /** Argo CD syncs on every new commit by itself; false means a person presses Sync (e.g. prod). */
  automated: boolean;
  /** Delete cluster objects that were removed from git (only with automated). */
  prune: boolean;
  /** Revert changes made in the cluster by hand (only with automated). */
  selfHeal: boolean;
}

export interface MongoSpec {
  /** Replica-set members (1, 3, 5 or 7). */
  members: number;
  /** MongoDB server version, pinned, e.g. "8.0.12". */
  version: string;
  storage: { size: string; className: string };
  resources: { mongod: ContainerResources; agent: ContainerResources };
  /** Rotation counter of the application user's password: raising it (rotate-db-password) makes the
   *  cluster generate a new one (scripts/lib/generate/mongodb/password-hook.ts). Absent means 0. */
  passwordRotation?: number;
  /** Backups (scripts/lib/inputs/backup.ts); absent: on for a protected environment, off otherwise. */
  backup?: BackupSpec;
  /** A restore request (scripts/restore.ts; scripts/lib/inputs/restore.ts). */
  restore?: RestoreSpec;
}

export interface IngressSpec {
  host: string;
  /** Name of a kubernetes.io/tls Secret created on the cluster (e.g. by cert-manager); required outside dev. */
  tlsSecret?: string;
}

export interface EnvSpec {
  /** The environment's name: its overlay directory, its Argo CD Application. */
  name: string;
  namespace: string;
  /** The cluster it runs on: a name of gitops.yaml `clusters` (absent: `in-cluster`, where Argo CD runs). */
  cluster?: string;
  replicas: number;
  /** Image tag of the users API; never "latest". */
  tag: string;
  /** The image digest (sha256:<64 hex>) the tag resolved to when promoted and verified; pins the image. */
  digest?: string;
  resources: ContainerResources;
  ingress?: IngressSpec;
  mongodb: MongoSpec;
  sync: SyncPolicy;
  /** Git revision Argo CD tracks for this environment (branch, tag or commit). */
  targetRevision: string;
  /** This environment's alert thresholds; each absent one is gitops.yaml monitoring.thresholds'. */
  monitoring?: Partial<MonitoringThresholds>;
}

/** One entry of gitops.yaml `clusters` (docs/clusters.md). */
export interface ClusterSpec {
  /** The API server URL Argo CD reaches it at (in-cluster: https://kubernetes.default.svc, the default). */
  server?: string;
  /** The kubeconfig context the toolkit uses for it (bootstrap --cluster, status, diff --live). */
  context?: string;
  /** What this cluster can give the repository's pods (in-cluster falls back to the top-level capacity). */
  capacity?: { cpu: string; memory: string };
  /** The cluster runs the Prometheus operator (absent: gitops.yaml monitoring.prometheusOperator). */
  prometheusOperator?: boolean;
}

/** Alert thresholds (scripts/lib/generate/monitoring.ts): defaults in gitops.yaml, per environment in env.yaml. */
export interface MonitoringThresholds {
  /** 5xx answers / all answers over 5 minutes above this (0..1) for 5 minutes fires UsersApiErrorRatioHigh. */
  errorRatio: number;
  /** p99 request duration over 5 minutes above this many seconds for 10 minutes fires UsersApiLatencyP99High. */
  latencyP99Seconds: number;
  /** API pods wanted but not available for this many minutes fires UsersApiPodsNotReady. */
  podsNotReadyMinutes: number;
  /** The last successful backup older than this many hours fires UsersDbBackupTooOld. */
  backupMaxAgeHours: number;
  /** A password rotation Job running longer than this many minutes fires UsersDbPasswordRotationStuck. */
  rotationMaxMinutes: number;
}

/** gitops.yaml `monitoring` (docs/monitoring.md). */
export interface MonitoringSettings {
  /** In-cluster (and every cluster without its own clusters.<name>.prometheusOperator) runs the Prometheus operator. */
  prometheusOperator: boolean;
  /** Where Prometheus runs: its namespace may scrape the API (NetworkPolicy), status.ts reads alerts from its service. */
  prometheus: { namespace: string; service: string; port: number; url?: string };
  /** Labels the Prometheus's serviceMonitorSelector / ruleSelector match (kube-prometheus-stack: release: <its release>). */
  selectorLabels?: Record<string, string>;
  thresholds: MonitoringThresholds;
}

export interface RepoSettings {
  /** The git URL Argo CD pulls (https or ssh). */
  repoURL: string;
  /** Image repository of the users API, without tag. */
  image: string;
  argocd: { version: string; namespace: string };
  operator: { chartRepo: string; chart: string; version: string; namespace: string };
  /** What the cluster can give this repository's pods (sum of requests); `validate` checks against it. */
  capacity?: { cpu: string; memory: string };
  /** Protected environments (e.g. ["prod"]): manual sync, no prune or cascade deletion of their
   *  Application, delete-env only with --delete-protected (scripts/lib/inputs/rules.ts). */
  protected?: string[];
  /** Preview environments, one per labelled pull request (scripts/lib/generate/previews.ts); absent: none. */
  previews?: PreviewSettings;
  /**
   * Image signatures enforced in the cluster (Kyverno, scripts/lib/generate/image-policy.ts); absent or
   * true: on. false turns it off, as a reviewed change: only for a cluster whose images cannot carry the
   * release workflow's signature (the end-to-end run's local builds, docs/e2e.md).
   */
  imagePolicy?: boolean;
  /** The clusters environments may run on (scripts/lib/inputs/clusters.ts); absent: only `in-cluster`. */
  clusters?: Record<string, ClusterSpec>;
  /** Monitoring with the Prometheus operator (docs/monitoring.md); absent: none. */
  monitoring?: MonitoringSettings;
  /** Argo CD Notifications (docs/monitoring.md "Notifications"); absent: not configured by bootstrap. */
  notifications?: NotificationSettings;
  /** What a new environment gets when new-env is run without --from. */
  defaults: Omit<EnvSpec, 'name' | 'namespace' | 'cluster' | 'monitoring'>;
}

/** Facts of the MongoDB deployment that both the API's base and the replica-set base refer to. */
export const MONGODB = {
  /** metadata.name of the MongoDBCommunity resource in every environment namespace. */
  resourceName: 'users-db',
  /** Base name of the application's two SCRAM users (`<appUser>-a`, `<appUser>-b`: scripts/lib/inputs/mongodb.ts) and the database that authenticates them. */
  appUser: 'users-api',
  authDb: 'admin',
  /** The application's database: the only one its user may read and write. */
  appDb: 'users',
  /** Secret with key `password`, created in the cluster by the environment's PreSync hook (scripts/lib/generate/mongodb/password-hook.ts), never in git. */
  passwordSecret: 'users-db-users-api-a-password',
  passwordKey: 'password',
  /** Created and owned by the operator: <resource>-<auth db>-<user>. Never render it from git. The first user's (rotation 0); each overlay points the API at the active user's. */
  connectionSecret: 'users-db-admin-users-api-a',
  connectionKey: 'connectionString.standard',
  port: 27017,
} as const;

/** gitops.yaml `previews`: an environment per open pull request, through an Argo CD ApplicationSet. */
export interface PreviewSettings {
  /** The environment whose env.yaml and .env a preview takes (with one API pod and one MongoDB member). */
  template: string;
  /** Pull requests carrying this label get a preview (the ApplicationSet's pull request generator filter). */
  label: string;
  /** At most this many previews at once (scripts/previews.ts gives and takes the label). */
  maxConcurrent: number;
  /** A preview whose pull request saw no push for this long is taken down (the label is removed). */
  ttlHours: number;
  /** Secret in Argo CD's namespace with key `token`: the GitHub token the generator reads pull requests with. */
  tokenSecret: string;
  /** How often the ApplicationSet controller polls GitHub (seconds). */
  requeueAfterSeconds: number;
  /** Ingress of each preview: `{number}` is replaced by the pull request number. Absent: no ingress. */
  ingress?: { host: string; tlsSecret?: string };
  /** Image repository of pull request builds (signed by the PR build identity); absent: `<image>-previews`. */
  image?: string;
  /** ResourceQuota of every preview namespace (scripts/lib/generate/admission.ts); absent: its defaults. */
  quota?: PreviewQuota;
  /** LimitRange of every preview namespace; absent: its defaults. */
  limits?: PreviewLimits;
}

/** gitops.yaml `previews.quota`: what one preview namespace may request in total. */
export interface PreviewQuota {
  requests: { cpu: string; memory: string };
  limits: { memory: string };
  pods: number;
  storage: string;
  persistentVolumeClaims: number;
}

/** gitops.yaml `previews.limits`: per-container defaults and ceilings in a preview namespace. */
export interface PreviewLimits {
  defaultRequest: { cpu: string; memory: string };
  default: { memory: string };
  max: { memory: string };
  maxStorage: string;
}

/** gitops.yaml `notifications`: what bootstrap writes into argocd-notifications-cm (scripts/lib/cluster/bootstrap/notifications.ts). */
export interface NotificationSettings {
  /** Previews: the GitHub App the notifications controller posts PR comments and commit statuses as (ids only; its private key is in argocd-notifications-secret). */
  github?: { appID: number; installationID: number };
  /** Protected environments: a webhook (its URL is in argocd-notifications-secret, key webhook-url) told of failed syncs and degraded health. */
  webhook?: boolean;
}

/** env.yaml `mongodb.backup` (rules and defaults: backup.ts). */
export interface PvcTarget { pvc: { size: string; className?: string } }
export interface S3Target { s3: { endpoint: string; bucket: string; prefix?: string; region?: string; credentialsSecret: string } }
export interface BackupSpec {
  /** Default: on for protected environments (gitops.yaml `protected`), off otherwise. */
  enabled?: boolean;
  /** Cron schedule (Kubernetes CronJob syntax). Default 0 3 * * *. */
  schedule?: string;
  /** Archives older than this many days are deleted after each run. Default 7. */
  retentionDays?: number;
  /** Default: a PVC of 5Gi in the replica set's storage class. */
  target?: PvcTarget | S3Target;
  /** Why a protected environment has no backups (the waiver of policy mongodb-backup). */
  waiver?: string;
}

/** env.yaml `mongodb.restore` (rules: restore.ts). */
export interface RestoreSpec {
  /** Archive file name on the backup volume, as the backup CronJob names it. */
  from: string;
  /** Restore over a non-empty database (mongorestore --drop). Default false: the Job refuses. */
  overwrite?: boolean;
  /** Raised by each `restore.ts` run: the Job's name, so each request runs once. */
  request: number;
}
