/**
 * How the reconciler sees a service's tasks: which are the service's at all, which occupy room under
 * the maximumPercent ceiling, which count as healthy for the minimumHealthyPercent floor, which must
 * be replaced, and which to stop first when scaling in.
 *
 *   lastStatus / desired / health               condition     counts toward
 *   PROVISIONING..ACTIVATING, desired RUNNING    'starting'    ceiling
 *   RUNNING, no health check                     'available'   ceiling, floor
 *   RUNNING, HEALTHY                             'available'   ceiling, floor
 *   RUNNING, UNKNOWN (or UNHEALTHY in grace)     'starting'    ceiling
 *   RUNNING, UNHEALTHY after the grace period    'unhealthy'   ceiling (to be replaced)
 *   any active status, desired STOPPED           'stopping'    ceiling (it still holds its resources)
 *   STOPPED / DELETED                            'gone'        nothing
 */
import type { TaskRecord } from './records';
import { serviceGroup, type DeploymentRecord, type ServiceRecord } from './service';
import { isActive } from './task-lifecycle';

export type Condition = 'starting' | 'available' | 'unhealthy' | 'stopping' | 'gone';

export interface ServiceTask {
  readonly task: TaskRecord;
  readonly deployment: DeploymentRecord;
  readonly condition: Condition;
}

export function conditionOf(task: TaskRecord, deployment: Pick<DeploymentRecord, 'hasHealthCheck'>, graceSeconds: number, now: number): Condition {
  if (!isActive(task.lastStatus)) return 'gone';
  if (task.desiredStatus === 'STOPPED') return 'stopping';
  if (task.lastStatus !== 'RUNNING') return 'starting';
  if (!deployment.hasHealthCheck || task.healthStatus === 'HEALTHY') return 'available';
  const graceOver = now >= (task.startedAt ?? task.createdAt) + graceSeconds * 1000;
  return task.healthStatus === 'UNHEALTHY' && graceOver ? 'unhealthy' : 'starting';
}

/**
 * The service's tasks: same cluster, group `service:<name>`, started by one of its deployments. Any
 * other task (a RunTask in the same group, another service's) is invisible, so never stopped.
 */
export function serviceTasks(
  service: ServiceRecord,
  deployments: readonly DeploymentRecord[],
  tasks: readonly TaskRecord[],
  now: number,
): ServiceTask[] {
  const byId = new Map(deployments.map((d) => [d.id, d]));
  const group = serviceGroup(service.serviceName);
  const out: ServiceTask[] = [];
  for (const task of tasks) {
    const deployment = task.startedBy === undefined ? undefined : byId.get(task.startedBy);
    if (!deployment || task.group !== group || task.clusterArn !== service.clusterArn) continue;
    out.push({ task, deployment, condition: conditionOf(task, deployment, service.healthCheckGracePeriodSeconds, now) });
  }
  return out;
}

/** 0 not yet placed on a host, 1 placed but not serving, 2 serving: the cheapest to lose first. */
const loss = (t: ServiceTask) => {
  if (t.condition === 'available') return 2;
  const unplaced = t.task.containerInstanceArn === undefined && (t.task.lastStatus === 'PROVISIONING' || t.task.lastStatus === 'PENDING');
  return unplaced ? 0 : 1;
};
const newestFirst = (a: ServiceTask, b: ServiceTask) =>
  b.task.createdAt - a.task.createdAt || a.task.taskArn.localeCompare(b.task.taskArn);

/**
 * The `count` tasks to stop when scaling in, in order. Rule, and why:
 * 1. Tasks that serve nothing go first: not yet placed, then placed but not RUNNING/healthy (losing
 *    them costs no capacity that serves traffic).
 * 2. Among equals, from the Availability Zone that holds the most of the service's tasks, so the
 *    service stays spread across zones (ECS keeps its default AZ spread when it scales in).
 * 3. Then the newest first: it has served least and is least likely to hold warm state.
 *
 *   zones a:[t1,t2,t3] b:[t4] all RUNNING, stop 2 -> the newest two of zone a (a 3>1, then a 2>1)
 */
export function scaleInOrder(candidates: readonly ServiceTask[], live: readonly ServiceTask[], count: number): ServiceTask[] {
  const perZone = new Map<string, number>();
  const zone = (t: ServiceTask) => t.task.availabilityZone ?? '';
  for (const t of live) perZone.set(zone(t), (perZone.get(zone(t)) ?? 0) + 1);
  const picked: ServiceTask[] = [];
  for (const cls of [0, 1, 2]) {
    const buckets = new Map<string, ServiceTask[]>();
    for (const t of candidates) {
      if (loss(t) !== cls) continue;
      const list = buckets.get(zone(t));
      if (list) list.push(t);
      else buckets.set(zone(t), [t]);
    }
    for (const list of buckets.values()) list.sort((a, b) => newestFirst(b, a));
    while (picked.length < count && buckets.size > 0) {
      let best: string | undefined;
      for (const z of buckets.keys()) {
        if (best === undefined || (perZone.get(z) ?? 0) > (perZone.get(best) ?? 0) || ((perZone.get(z) ?? 0) === (perZone.get(best) ?? 0) && z < best)) best = z;
      }
      const list = buckets.get(best!)!;
      picked.push(list.pop()!); // lists are sorted oldest first, so pop() takes the newest in O(1)
      perZone.set(best!, (perZone.get(best!) ?? 0) - 1);
      if (list.length === 0) buckets.delete(best!);
    }
  }
  return picked;
}

/** Old-deployment tasks in the order a rolling update replaces them: non-serving first, oldest deployment first. */
export function replacementOrder(tasks: readonly ServiceTask[]): ServiceTask[] {
  return [...tasks].sort(
    (a, b) =>
      loss(a) - loss(b) || a.deployment.createdAt - b.deployment.createdAt || newestFirst(a, b),
  );
}

/**
 * A deployment's counts after a pass, the same for REPLICA and DAEMON services: its tasks still held
 * (not gone), running and pending among the live ones; the PRIMARY's desired count is the service's,
 * an older one's what it keeps after this pass's stops. Also whether it has no task left.
 */
export function deploymentCounts(
  deployment: Pick<DeploymentRecord, 'id'>,
  holding: readonly ServiceTask[],
  primaryId: string,
  desired: number,
  stopped: ReadonlySet<string>,
): { runningCount: number; pendingCount: number; desiredCount: number; empty: boolean } {
  const own = holding.filter((t) => t.deployment.id === deployment.id);
  const ownLive = own.filter((t) => t.condition !== 'stopping');
  return {
    runningCount: ownLive.filter((t) => t.task.lastStatus === 'RUNNING').length,
    pendingCount: ownLive.filter((t) => t.task.lastStatus !== 'RUNNING').length,
    desiredCount: deployment.id === primaryId ? desired : ownLive.filter((t) => !stopped.has(t.task.taskArn)).length,
    empty: own.length === 0,
  };
}
