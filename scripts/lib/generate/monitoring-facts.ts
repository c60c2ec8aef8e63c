// The names other stages need from the monitoring generator (monitoring.ts), without its imports: the
// review summary reads them on every diff run, and must not load the generator to do so.
import type { MonitoringThresholds } from '../inputs/spec.ts';

/** Every alert monitoring.ts writes, by name: what it watches and why (docs/monitoring.md repeats it). */
export const ALERTS = [
  'UsersApiErrorRatioHigh',
  'UsersApiLatencyP99High',
  'UsersApiPodsNotReady',
  'UsersDbMemberNotReady',
  'UsersDbMemberDown',
  'UsersDbPrimaryLost',
  'UsersDbBackupTooOld',
  'UsersDbPasswordRotationStuck',
] as const;

/** The Grafana chart sidecar's default label for dashboard ConfigMaps, and the conventional value. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: '1' } as const;

/** The threshold each alert compares against (env.yaml / gitops.yaml monitoring key); the review summary points at it. */
export const ALERT_THRESHOLDS: Partial<Record<(typeof ALERTS)[number], keyof MonitoringThresholds>> = {
  UsersApiErrorRatioHigh: 'errorRatio',
  UsersApiLatencyP99High: 'latencyP99Seconds',
  UsersApiPodsNotReady: 'podsNotReadyMinutes',
  UsersDbBackupTooOld: 'backupMaxAgeHours',
  UsersDbPasswordRotationStuck: 'rotationMaxMinutes',
};
