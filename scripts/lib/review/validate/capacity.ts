// The capacity check of `validate`: what the rendered pods ask the scheduler for, per environment and in
// total, against `capacity` in gitops.yaml. A pod's effective request for a resource is the larger of
// its largest init container's request and the sum of its containers' requests (kubernetes/website:
// content/en/docs/concepts/workloads/pods/init-containers.md "Resource sharing within containers", and
// content/en/docs/concepts/resource-management/effective-pod-requests-limits.md); the scheduler keeps
// that much reserved for the pod's whole life. A container's request for a resource it only limits is
// its limit (kubernetes/kubernetes@v1.28.0:pkg/apis/core/v1/defaults.go SetDefaults_Pod).
//
// A MongoDBCommunity is counted as the StatefulSet the operator makes of it: `members` pods of mongod,
// mongodb-agent and the two init containers, each with the overrides under spec.statefulSet merged over
// the operator's defaults the way the operator merges them (operator.ts MCK_CONTAINER_DEFAULT_RESOURCES).
import { MCK_CONTAINER_DEFAULT_RESOURCES } from '../../generate/mongodb/operator.ts';
import { MONGODB_COMMUNITY_KIND, MONGODB_POD } from '../../generate/mongodb/replicaset.ts';
import { isQuantity, parseQuantity } from '../../core/quantity.ts';
import type { RenderedObject, ResourceId } from '../../render/normalize.ts';
import { podSpecOf } from './policies.ts';
import { asArr as arr, asObj as obj } from '../../core/objects.ts';
import type { Obj } from '../../core/objects.ts';

/** An exact non-negative amount (numerator / denominator), in cores or bytes. */
export interface Amount {
  num: bigint;
  den: bigint;
}
export interface Requests {
  cpu: Amount;
  memory: Amount;
}

const ZERO: Amount = { num: 0n, den: 1n };
export const NO_REQUESTS: Requests = { cpu: ZERO, memory: ZERO };
const RESOURCES = ['cpu', 'memory'] as const;

function add(a: Amount, b: Amount): Amount {
  return { num: a.num * b.den + b.num * a.den, den: a.den * b.den };
}
function times(a: Amount, n: number): Amount {
  return { num: a.num * BigInt(n), den: a.den };
}
function greater(a: Amount, b: Amount): boolean {
  return a.num * b.den > b.num * a.den;
}
function max(a: Amount, b: Amount): Amount {
  return greater(a, b) ? a : b;
}

/** The amount of a quantity text; an unparsable or missing one counts as nothing (schemas report it). */
export function amountOf(text: unknown): Amount {
  if (typeof text !== 'string' && typeof text !== 'number') return ZERO;
  const q = parseQuantity(String(text));
  return isQuantity(q) && q.num > 0n ? { num: q.num, den: q.den } : ZERO;
}

export function addRequests(a: Requests, b: Requests): Requests {
  return { cpu: add(a.cpu, b.cpu), memory: add(a.memory, b.memory) };
}
export function scaleRequests(r: Requests, n: number): Requests {
  return { cpu: times(r.cpu, n), memory: times(r.memory, n) };
}


/** A container's requests from its `resources` (a limit stands in for a missing request). */
export function containerRequests(resources: unknown): Requests {
  const requests = obj(obj(resources).requests);
  const limits = obj(obj(resources).limits);
  const pick = (r: (typeof RESOURCES)[number]): Amount => amountOf(requests[r] ?? limits[r]);
  return { cpu: pick('cpu'), memory: pick('memory') };
}

/** max(largest init container, sum of containers), per resource. */
export function effectivePodRequests(containers: readonly unknown[], initContainers: readonly unknown[]): Requests {
  const sum = containers.reduce<Requests>((acc, r) => addRequests(acc, containerRequests(r)), NO_REQUESTS);
  const init = initContainers.reduce<Requests>((acc, r) => {
    const c = containerRequests(r);
    return { cpu: max(acc.cpu, c.cpu), memory: max(acc.memory, c.memory) };
  }, NO_REQUESTS);
  return { cpu: max(sum.cpu, init.cpu), memory: max(sum.memory, init.memory) };
}

/** The resources the operator gives a container: its default, with `requests`/`limits` replaced whole by an override. */
function operatorMerged(override: unknown): unknown {
  const o = obj(obj(override).resources);
  return {
    requests: o.requests !== undefined ? o.requests : MCK_CONTAINER_DEFAULT_RESOURCES.requests,
    limits: o.limits !== undefined ? o.limits : MCK_CONTAINER_DEFAULT_RESOURCES.limits,
  };
}

function mongoPod(o: RenderedObject): { pods: number; perPod: Requests } {
  const spec = obj(o.object.spec);
  const podSpec = obj(obj(obj(obj(spec.statefulSet).spec).template).spec);
  const byName = (list: unknown, name: string): unknown => arr(list).find((c) => obj(c).name === name);
  const containers = [MONGODB_POD.mongodContainer, MONGODB_POD.agentContainer].map((n) => operatorMerged(byName(podSpec.containers, n)));
  const init = [MONGODB_POD.versionUpgradeHookInit, MONGODB_POD.readinessProbeInit].map((n) => operatorMerged(byName(podSpec.initContainers, n)));
  const members = typeof spec.members === 'number' ? spec.members : 1;
  return { pods: members, perPod: effectivePodRequests(containers, init) };
}

export interface WorkloadRequests {
  id: ResourceId;
  pods: number;
  perPod: Requests;
  total: Requests;
}

/** Every rendered object that makes pods, with how many and what each asks for. */
export function workloadRequests(objects: readonly RenderedObject[]): WorkloadRequests[] {
  const out: WorkloadRequests[] = [];
  for (const o of objects) {
    let pods: number;
    let perPod: Requests;
    if (o.id.kind === MONGODB_COMMUNITY_KIND) {
      ({ pods, perPod } = mongoPod(o));
    } else {
      const pod = podSpecOf(o);
      if (!pod) continue;
      const resourcesOf = (list: unknown): unknown[] => arr(list).map((c) => obj(c).resources);
      perPod = effectivePodRequests(resourcesOf(pod.spec.containers), resourcesOf(pod.spec.initContainers));
      const replicas = obj(o.object.spec).replicas;
      // A Deployment or StatefulSet without replicas runs one pod; a DaemonSet one per node (counted once).
      pods = ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.id.kind) && typeof replicas === 'number' ? replicas : 1;
    }
    out.push({ id: o.id, pods, perPod, total: scaleRequests(perPod, pods) });
  }
  return out;
}

export function totalRequests(workloads: readonly WorkloadRequests[]): Requests {
  return workloads.reduce<Requests>((acc, w) => addRequests(acc, w.total), NO_REQUESTS);
}

/** "1.25 CPU" / "3.5Gi" style figure for messages (rounded up, so a sum is never understated). */
export function formatAmount(resource: 'cpu' | 'memory', a: Amount): string {
  if (resource === 'cpu') {
    const milli = (a.num * 1000n + a.den - 1n) / a.den;
    return `${milli}m CPU`;
  }
  const mi = (a.num + (1n << 20n) * a.den - 1n) / ((1n << 20n) * a.den);
  return `${mi}Mi memory`;
}

/** Resources whose requests exceed the capacity, each as "<requested> of <capacity>". */
export function exceeded(requested: Requests, capacity: Requests): string[] {
  return RESOURCES.filter((r) => greater(requested[r], capacity[r])).map(
    (r) => `${formatAmount(r, requested[r])} requested, capacity ${formatAmount(r, capacity[r])}`,
  );
}
