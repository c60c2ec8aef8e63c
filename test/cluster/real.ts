// Helpers for the cluster tests against the real API server (test/support/envtest): the toolkit's own
// client pointed at it, a Kube that records every write, the rendered manifests moved into a test's
// own namespace, and statuses written the way the controllers would write them.
import { execFileSync } from 'node:child_process';
import { KubeConfig } from '@kubernetes/client-node';
import { createKube } from '../../scripts/lib/cluster/kube/client.ts';
import type { Kube, KubeObject } from '../../scripts/lib/cluster/kube/client.ts';
import { parseYamlStream } from '../../scripts/lib/core/yaml.ts';
import type { Envtest } from '../support/envtest/index.ts';

import { committedBaseline, REPO as CHECKOUT } from '../support/repo-copy.ts';

/** The repository as committed (never the working tree's uncommitted state): what these tests render and read. */
export const REPO = committedBaseline();
/** This checkout: where the scripts under test are. */
export { CHECKOUT };

export function kubeOf(env: Envtest, opts: { kubeconfigPath?: string; timeoutMs?: number } = {}): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath ?? env.kubeconfigPath);
  return createKube(kc, { timeoutMs: opts.timeoutMs ?? 20_000 });
}

export interface Write {
  verb: 'apply' | 'create' | 'patch';
  object: string;
  dryRun: boolean;
}

/** The same client, with every write it sends recorded (reads pass through untouched). */
export function recording(kube: Kube): { kube: Kube; writes: Write[] } {
  const writes: Write[] = [];
  const name = (o: { kind: string; metadata?: { name?: string; namespace?: string }; name?: string; namespace?: string }) =>
    `${o.kind} ${o.metadata?.namespace ?? o.namespace ?? ''}/${o.metadata?.name ?? o.name ?? ''}`.replace(' /', ' ');
  return {
    writes,
    kube: {
      ...kube,
      server: kube.server,
      context: kube.context,
      apply: (obj, opts) => {
        writes.push({ verb: 'apply', object: name(obj), dryRun: opts?.dryRun === true });
        return kube.apply(obj, opts);
      },
      create: (obj, opts) => {
        writes.push({ verb: 'create', object: name(obj), dryRun: opts?.dryRun === true });
        return kube.create(obj, opts);
      },
      patch: (ref, body) => {
        writes.push({ verb: 'patch', object: name(ref), dryRun: false });
        return kube.patch(ref, body);
      },
    },
  };
}

/** `kubectl kustomize overlays/<env>` of the working tree, as objects. */
export function renderEnv(env: string, root = REPO): KubeObject[] {
  const yaml = execFileSync('kubectl', ['kustomize', `overlays/${env}`], { cwd: root, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return parseYamlStream(yaml).filter((d): d is KubeObject => typeof (d as KubeObject)?.metadata?.name === 'string');
}

/** Moves namespaced objects (and RoleBinding subjects) from namespace `from` into `to`. */
export function intoNamespace(objects: readonly KubeObject[], from: string, to: string): KubeObject[] {
  return objects.map((o) => {
    const c = structuredClone(o) as KubeObject & { subjects?: Array<{ namespace?: string }> };
    if (c.metadata.namespace === from) c.metadata.namespace = to;
    for (const s of c.subjects ?? []) if (s.namespace === from) s.namespace = to;
    return c;
  });
}

/** What an Argo CD sync applies as resources: everything but hooks (those it creates afresh per sync). */
export const withoutHooks = (objects: readonly KubeObject[]): KubeObject[] => objects.filter((o) => !o.metadata.annotations?.['argocd.argoproj.io/hook']);

/** Objects as one kubectl input (a v1 List). */
export const asStream = (objects: readonly unknown[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });

/** Writes `.status` as the object's controller would: through the status subresource when the kind has one. */
export async function writeStatus(env: Envtest, kind: string, namespace: string, name: string, status: unknown, subresource = true): Promise<void> {
  const args = ['-n', namespace, 'patch', kind, name, '--type=merge', '-p', JSON.stringify({ status })];
  if (subresource) args.push('--subresource=status');
  const r = await env.kubectl(args);
  if (r.code !== 0) throw new Error(`writing the status of ${kind} ${namespace}/${name} failed: ${r.stderr}`);
}

/** kubectl that must succeed; returns stdout. */
export async function must(env: Envtest, args: string[], input?: string): Promise<string> {
  const r = await env.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
