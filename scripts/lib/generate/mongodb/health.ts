// Where the MongoDBCommunity health check lives and the argocd-cm key bootstrap installs it under.
// Key format from Argo CD's docs (operator-manual/health): resource.customizations.health.<group>_<kind>.
import { MONGODB_COMMUNITY_GROUP, MONGODB_COMMUNITY_KIND } from './replicaset.ts';

/** Repo-relative path of the Lua script (hand-written, not generated). */
export const MONGODB_HEALTH_CHECK_PATH = 'platform/mongodb/health/mongodbcommunity.lua';

export const MONGODB_HEALTH_CHECK_CM_KEY =
  `resource.customizations.health.${MONGODB_COMMUNITY_GROUP}_${MONGODB_COMMUNITY_KIND}`;

/** The argocd-cm data entry: key → script text (the caller reads the file at MONGODB_HEALTH_CHECK_PATH). */
export function mongoHealthCheckEntry(script: string): Record<string, string> {
  return { [MONGODB_HEALTH_CHECK_CM_KEY]: script };
}
