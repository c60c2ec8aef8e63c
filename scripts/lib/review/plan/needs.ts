// What one object needs before it can become healthy, and what it provides to the objects after it, as
// the sync plan (plan.ts) reads them: a pod's ConfigMaps, Secrets, ServiceAccount and claims; the Secrets a
// MongoDBCommunity needs and the ones the operator writes for it; the Secrets the password Job creates.
import { PASSWORD_JOB_SECRET_ENVS } from '../../generate/mongodb/password-hook.ts';
import { asObj, asArr } from '../../core/objects.ts';
import type { Obj } from '../../core/objects.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export interface Need {
  kind: 'Secret' | 'ConfigMap' | 'ServiceAccount' | 'PersistentVolumeClaim';
  name: string;
  why: string;
}

/** The pod template of a workload (or a Pod itself). */
export function podSpecOf(o: Obj): Obj | undefined {
  const spec = asObj(o.spec);
  switch (str(o.kind)) {
    case 'Pod': return spec;
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job': return asObj(asObj(spec.template).spec);
    case 'CronJob': return asObj(asObj(asObj(asObj(spec.jobTemplate).spec).template).spec);
    default: return undefined;
  }
}

/** Objects a pod cannot start without: non-optional Secret/ConfigMap references, its ServiceAccount, its claims. */
export function podNeeds(o: Obj): Need[] {
  const pod = podSpecOf(o);
  if (!pod) return [];
  const needs: Need[] = [];
  const sa = str(pod.serviceAccountName);
  if (sa !== '' && sa !== 'default') needs.push({ kind: 'ServiceAccount', name: sa, why: 'serviceAccountName' });
  for (const c of [...asArr(pod.initContainers), ...asArr(pod.containers)].map(asObj)) {
    for (const e of asArr(c.env).map(asObj)) {
      const from = asObj(e.valueFrom);
      const s = asObj(from.secretKeyRef);
      if (s.name && s.optional !== true) needs.push({ kind: 'Secret', name: str(s.name), why: `env ${str(e.name)} secretKeyRef` });
      const m = asObj(from.configMapKeyRef);
      if (m.name && m.optional !== true) needs.push({ kind: 'ConfigMap', name: str(m.name), why: `env ${str(e.name)} configMapKeyRef` });
    }
    for (const e of asArr(c.envFrom).map(asObj)) {
      const s = asObj(e.secretRef);
      if (s.name && s.optional !== true) needs.push({ kind: 'Secret', name: str(s.name), why: 'envFrom secretRef' });
      const m = asObj(e.configMapRef);
      if (m.name && m.optional !== true) needs.push({ kind: 'ConfigMap', name: str(m.name), why: 'envFrom configMapRef' });
    }
  }
  for (const v of asArr(pod.volumes).map(asObj)) {
    const s = asObj(v.secret);
    if (s.secretName && s.optional !== true) needs.push({ kind: 'Secret', name: str(s.secretName), why: `volume ${str(v.name)}` });
    const m = asObj(v.configMap);
    if (m.name && m.optional !== true) needs.push({ kind: 'ConfigMap', name: str(m.name), why: `volume ${str(v.name)}` });
    const p = asObj(v.persistentVolumeClaim);
    if (p.claimName) needs.push({ kind: 'PersistentVolumeClaim', name: str(p.claimName), why: `volume ${str(v.name)}` });
  }
  return needs;
}

/** Secrets a MongoDBCommunity's operator writes once it reconciles it (mongodb/mongodb-kubernetes@1.10.0:
 * mongodb-community-operator/api/v1/mongodbcommunity_types.go GetConnectionStringSecretName: the user's
 * connectionStringSecretName, else `<resource>-<db>-<user>` with non-DNS characters replaced). */
export function mongoDBCommunitySecrets(o: Obj): string[] {
  const name = str(asObj(o.metadata).name);
  return asArr(asObj(o.spec).users).map(asObj).map((u) => str(u.connectionStringSecretName) || `${name}-${str(u.db)}-${str(u.name)}`.toLowerCase().replace(/[^a-z0-9-.]/g, '-'));
}

/** The Secrets a MongoDBCommunity needs before it can become Running: each user's passwordSecretRef. */
export function mongoDBCommunityNeeds(o: Obj): Need[] {
  return asArr(asObj(o.spec).users).map(asObj).flatMap((u) => {
    const ref = asObj(u.passwordSecretRef);
    return ref.name ? [{ kind: 'Secret' as const, name: str(ref.name), why: `user ${str(u.name)} passwordSecretRef` }] : [];
  });
}

/**
 * Secrets a hook Job of this repository writes: the password hook (scripts/lib/generate/mongodb/password-hook.ts) creates the
 * Secret its PASSWORD_SECRET_NAME names.
 */
export function jobWrites(o: Obj): string[] {
  if (str(o.kind) !== 'Job') return [];
  const pod = podSpecOf(o) ?? {};
  // The password Job's env names the Secrets it creates, comma-separated (scripts/lib/generate/mongodb/password-hook.ts).
  const names: readonly string[] = PASSWORD_JOB_SECRET_ENVS;
  return asArr(pod.containers).map(asObj).flatMap((c) => asArr(c.env).map(asObj)
    .filter((e) => names.includes(str(e.name)) && typeof e.value === 'string')
    .flatMap((e) => str(e.value).split(',').map((n) => n.trim()).filter((n) => n !== '')));
}
