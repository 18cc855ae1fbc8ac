/**
 * The task set reconciler, beside the REPLICA one (service-reconciler.ts) for services using the
 * EXTERNAL deployment controller: from a service, its task sets, its tasks and `now`, the Plan that
 * keeps every task set at its computedDesiredCount. Pure. The external controller moves traffic and
 * decides each set's scale; the scheduler only keeps the counts, so there is no rolling floor or
 * ceiling here: each set is scaled on its own, at once.
 *
 *   per set, target = ceil(desiredCount x scale / 100); 0 while the set or the service is DRAINING
 *   stop   tasks failing their health checks (after the grace period), then the excess over target
 *          (scale-in order: not yet serving first, fullest zone, newest)
 *   start  target minus the tasks it keeps (one start per capacity provider: base, then weight)
 *   steady no start or stop, every kept task available, none stopping, exactly target of them:
 *          stabilityStatus STEADY_STATE and "(service web, taskSet ecs-svc/...) has reached a steady
 *          state." (the TASKSET_STEADY_STATE service action); otherwise STABILIZING
 *   gone   a DRAINING set with no task left is dropped; a DRAINING service with none becomes INACTIVE
 *
 * Example: desiredCount 4, blue PRIMARY scale 100 (4 RUNNING), green ACTIVE scale 50 (none):
 *   start 2 of green; blue steady; green STABILIZING. Next passes, green's 2 RUNNING: green steady.
 */
import { distributeTasks } from './capacity-strategy';
import type { TaskRecord } from './records';
import { serviceGroup, type ServiceRecord } from './service';
import { FAILED_HEALTH_CHECKS_REASON, scalingActivityReason, serviceMessages } from './service-messages';
import { WAKE, type Plan, type StopRule, type TaskStart, type TaskStop } from './service-plan';
import { conditionOf, scaleInOrder, type Condition, type ServiceTask } from './service-tasks';
import { computedDesiredCount, type TaskSetRecord } from './task-set';

/** The service event ECS writes when a task set settles (its prefix as in ECS's task set messages). */
export const taskSetSteadyState = (serviceName: string, taskSetId: string) =>
  `(service ${serviceName}, taskSet ${taskSetId}) has reached a steady state.`;

interface SetTask {
  readonly task: TaskRecord;
  readonly condition: Condition;
}

export function reconcileTaskSets(
  service: ServiceRecord,
  taskSets: readonly TaskSetRecord[],
  tasks: readonly TaskRecord[],
  now: number,
): Plan {
  const plan = { start: [] as TaskStart[], stop: [] as TaskStop[], deployments: [], events: [] as string[], holds: [] as string[] };
  if (service.status === 'INACTIVE') return { ...plan, nextWakeSeconds: undefined };
  const name = service.serviceName;
  const group = serviceGroup(name);
  const serviceDraining = service.status === 'DRAINING';
  const bySet = new Map<string, SetTask[]>(taskSets.map((s) => [s.id, []]));
  for (const task of tasks) {
    const own = task.startedBy === undefined ? undefined : bySet.get(task.startedBy);
    if (!own || task.group !== group || task.clusterArn !== service.clusterArn) continue;
    const set = taskSets.find((s) => s.id === task.startedBy)!;
    own.push({ task, condition: conditionOf(task, set, service.healthCheckGracePeriodSeconds, now) });
  }

  let occupiedTotal = 0;
  let allSteady = true;
  const next: TaskSetRecord[] = [];
  for (const set of taskSets) {
    const own = bySet.get(set.id)!;
    const occupied = own.filter((t) => t.condition !== 'gone');
    const live = occupied.filter((t) => t.condition !== 'stopping');
    const draining = serviceDraining || set.status === 'DRAINING';
    const target = draining ? 0 : computedDesiredCount(service.desiredCount, set.scale);
    const stopsBefore = plan.stop.length;
    const stop = (t: SetTask, rule: StopRule, why: string) => {
      if (rule === 'unhealthy') plan.events.push(serviceMessages.failedHealthChecks(name, t.task.taskArn));
      const reason = rule === 'unhealthy' ? FAILED_HEALTH_CHECKS_REASON : scalingActivityReason(set.id);
      plan.stop.push({ taskArn: t.task.taskArn, deploymentId: set.id, stopCode: 'ServiceSchedulerInitiated', reason, rule, why });
    };

    if (draining) {
      for (const t of live) stop(t, 'draining', serviceDraining ? 'the service is being deleted (DRAINING)' : `task set ${set.id} is being deleted (DRAINING)`);
    } else {
      for (const t of live.filter((x) => x.condition === 'unhealthy')) stop(t, 'unhealthy', 'it is replaced by a healthy task');
    }
    const good = draining ? [] : live.filter((t) => t.condition !== 'unhealthy');
    const excess = good.length - target;
    // scaleInOrder reads a task and its condition only; a set's tasks have no deployment record.
    const asService = (t: SetTask): ServiceTask => ({ ...t, deployment: undefined as never });
    const scaledIn = excess > 0 ? new Set(scaleInOrder(good.map(asService), live.map(asService), excess).map((t) => t.task.taskArn)) : new Set<string>();
    for (const t of good.filter((x) => scaledIn.has(x.task.taskArn))) stop(t, 'scale-in', `${good.length} tasks in task set ${set.id}, computedDesiredCount ${target}`);
    const keeping = good.filter((t) => !scaledIn.has(t.task.taskArn));
    const need = target - keeping.length;
    if (need > 0) plan.start.push(...startsFor(set, service, keeping, need));

    const moved = plan.stop.length > stopsBefore || need > 0;
    const steady = !moved && occupied.length === target && keeping.every((t) => t.condition === 'available');
    occupiedTotal += occupied.length;
    if (set.status === 'DRAINING' && occupied.length === 0) continue; // deleted: its last task is gone
    if (!steady) allSteady = false;
    const stabilityStatus = steady ? 'STEADY_STATE' : 'STABILIZING';
    if (steady && set.stabilityStatus !== 'STEADY_STATE' && !draining) plan.events.push(taskSetSteadyState(name, set.id));
    const counted: TaskSetRecord = {
      ...set,
      computedDesiredCount: target,
      runningCount: live.filter((t) => t.task.lastStatus === 'RUNNING').length,
      pendingCount: live.filter((t) => t.task.lastStatus !== 'RUNNING').length,
      stabilityStatus,
      stabilityStatusAt: stabilityStatus === set.stabilityStatus ? set.stabilityStatusAt : now,
    };
    next.push(JSON.stringify(counted) === JSON.stringify(set) ? set : { ...counted, updatedAt: now });
  }
  if (plan.stop.length > 0) plan.events.push(serviceMessages.stopped(name, plan.stop.map((s) => s.taskArn)));
  const changed = next.length !== taskSets.length || next.some((s, i) => s !== taskSets[i]);
  const taskSetsOut = changed ? { taskSets: next } : {};

  if (serviceDraining && occupiedTotal === 0) {
    return { ...plan, ...taskSetsOut, service: { status: 'INACTIVE' }, nextWakeSeconds: undefined };
  }
  if (allSteady && !serviceDraining) plan.events.push(serviceMessages.steadyState(name));
  const quiet = allSteady && plan.start.length === 0 && plan.stop.length === 0;
  return { ...plan, ...taskSetsOut, nextWakeSeconds: quiet ? WAKE.steady : WAKE.progressing };
}

/** The starts for `count` new tasks of the set: one per capacity provider (base, then weight). */
function startsFor(set: TaskSetRecord, service: ServiceRecord, keeping: readonly SetTask[], count: number): TaskStart[] {
  const common = { deploymentId: set.id, taskDefinition: set.taskDefinition, group: serviceGroup(service.serviceName), startedBy: set.id };
  const why = `${keeping.length} of ${set.computedDesiredCount} tasks of task set ${set.id}`;
  const strategy = set.capacityProviderStrategy ?? [];
  if (strategy.length === 0) return [{ ...common, launchType: set.launchType, count, why }];
  const existing: Record<string, number> = {};
  for (const t of keeping) {
    const cp = t.task.capacityProviderName;
    if (cp) existing[cp] = (existing[cp] ?? 0) + 1;
  }
  const perProvider = new Map<string, number>();
  for (const cp of distributeTasks(strategy, count, existing)) perProvider.set(cp, (perProvider.get(cp) ?? 0) + 1);
  return [...perProvider].map(([capacityProvider, n]) => ({ ...common, capacityProvider, count: n, why }));
}
