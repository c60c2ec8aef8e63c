// The application's two database users (alternating rotation, docs/mongodb.md "Rotation without a
// failed request") and the names of their Secrets, from MONGODB in spec.ts so the MongoDBCommunity,
// the password Jobs and the API's Deployment cannot disagree.
//
// Names the operator derives (mongodb/mongodb-kubernetes@1.10.0:mongodb-community-operator/api/v1/
// mongodbcommunity_types.go): the connection-string Secret defaults to `<resource>-<db>-<user>`
// (GetConnectionStringSecretName, normalised to RFC 1123); the SCRAM credentials Secret is
// `<scramCredentialsSecretName>-scram-credentials`. We state both names in the resource anyway.
import { MONGODB } from './spec.ts';

/** Both least privilege (readWrite on the application database only); the rotation counter picks the active one. */
export const APP_USERS = [`${MONGODB.appUser}-a`, `${MONGODB.appUser}-b`] as const;

/** Secret (key `password`) the password Jobs create in the cluster; never in git. */
export const appUserPasswordSecret = (user: string): string => `${MONGODB.resourceName}-${user}-password`;
/** Written and owned by the operator: <resource>-<auth db>-<user>. Never render it from git. */
export const appUserConnectionSecret = (user: string): string => `${MONGODB.resourceName}-${MONGODB.authDb}-${user}`;
/** Prefix the operator appends "-scram-credentials" to. */
export const appUserScramSecret = (user: string): string => `${MONGODB.resourceName}-${user}`;

/** The backup user: built-in role `backup` only (scripts/lib/inputs/backup.ts); the CronJob connects as it. */
export const BACKUP_USER = 'users-backup';
/**
 * The monitoring user: the built-in `clusterMonitor` role on admin and `read` on local, what
 * percona/mongodb_exporter@v0.53.0:README.md "Permissions" asks for; the exporter Deployment of
 * scripts/lib/generate/monitoring.ts connects as it (docs/monitoring.md "MongoDB series").
 */
export const MONITOR_USER = 'users-monitor';
/** Every user the MongoDBCommunity declares, each with a password Secret the password Job creates. */
export const ALL_USERS = [...APP_USERS, BACKUP_USER, MONITOR_USER] as const;

/** Name of the operator's Application in argocd/apps (reserved as an environment name). */
export const MONGODB_OPERATOR_APP_NAME = 'mongodb-operator';
/** MongoDB server versions the operator may run (6.0 and older are end of life): env.yaml's schema and the MongoDBCommunity schema. */
export const MONGODB_VERSION_PATTERN = '^(7\\.0|8\\.[0-9]+)\\.[0-9]+$';
