// The connection string exactly as the MongoDB operator writes it into `connectionString.standard`, so
// tests meet the format production meets. Source, mongodb/mongodb-kubernetes@1.10.0:
//   mongodb-community-operator/api/v1/mongodbcommunity_types.go  MongoAuthUserURI:
//     fmt.Sprintf("mongodb://%s%s/%s?replicaSet=%s&ssl=%t%s",
//       user.GetLoginString(password), strings.Join(m.Hosts(), ","), user.Database, m.Name, TLS.Enabled, options)
//   Hosts(): "%s-%d.%s.%s.svc.%s:%d" (name, i, serviceName = name + "-svc", namespace, clusterDomain, port)
//   pkg/authentication/authtypes/authtypes.go  GetLoginString:
//     EncodeUserinfoComponent(username) + ":" + EncodeUserinfoComponent(password) + "@"
//   pkg/util/stringutil/stringutil.go  EncodeUserinfoComponent:
//     strings.ReplaceAll(url.QueryEscape(s), "+", "%20")

/**
 * Go's url.QueryEscape (net/url, mode encodeQueryComponent): every byte except A–Z a–z 0–9 - _ . ~ is
 * percent-encoded with upper-case hex, and a space becomes "+"; the operator then turns "+" into %20.
 */
export function encodeUserinfoComponent(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(char)) out += char;
    else if (char === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out.replaceAll('+', '%20');
}

export interface OperatorUriOptions {
  username: string;
  password: string;
  /** The MongoDBCommunity resource's name: the replica set name and the pods' prefix. */
  resourceName: string;
  /** The user's authentication database (the URI path). */
  database: string;
  /** Either host:port strings (tests) or, with namespace and members, the operator's in-cluster names. */
  hosts?: string[];
  namespace?: string;
  members?: number;
  clusterDomain?: string;
  port?: number;
  tls?: boolean;
}

/** MongoAuthUserURI with no additional connection-string options (our resources set none). */
export function operatorConnectionString(options: OperatorUriOptions): string {
  const hosts =
    options.hosts ??
    Array.from(
      { length: options.members ?? 3 },
      (_, i) => `${options.resourceName}-${i}.${options.resourceName}-svc.${options.namespace ?? 'default'}.svc.${options.clusterDomain ?? 'cluster.local'}:${options.port ?? 27017}`,
    );
  const login = `${encodeUserinfoComponent(options.username)}:${encodeUserinfoComponent(options.password)}@`;
  return `mongodb://${login}${hosts.join(',')}/${options.database}?replicaSet=${options.resourceName}&ssl=${options.tls === true}`;
}
