/**
 * The DAEMON reconciler: exactly one task of the PRIMARY deployment on every ACTIVE container
 * instance that meets the service's placement constraints, as one Plan (src/domain/service-plan.ts),
 * the REPLICA reconciler's shape. Pure: the caller passes the cluster's instances as placement sees
 * them (src/domain/placement.ts PlacementCandidate, with the groups of the tasks on each), the parsed
 * constraints (the service's plus its task definition's memberOf) and what one task reserves.
 *
 *   eligible instance  ACTIVE and every constraint holds (the service's own task does not count
 *                      against distinctInstance); desiredCount = the number of eligible instances
 *   a live task        on an instance that is not ACTIVE (DRAINING, deregistered, gone) -> stop
 *                      ('instance-left'); on one that no longer meets the constraints -> stop
 *                      ('constraint-violated', SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED); a second
 *                      one on an instance -> stop ('duplicate'); of an older deployment -> replaced
 *                      instance by instance (below); unhealthy after the grace period -> stop
 *   a start            one per eligible instance holding no task of the service (a stopping task
 *                      keeps its instance until STOPPED), placed there at creation; an instance whose
 *                      agent is disconnected, or without the room, is held with the reason
 *
 * Rolling update, with D eligible instances: floor = ceil(D x minimumHealthyPercent / 100) available
 * tasks the stops never go below (an instance is replaced only once its old task is STOPPED, so the
 * ceiling is one task per instance: ECS refuses maximumPercent above 100 for DAEMON). Worked example,
 * D 4, the DAEMON defaults 0% / 100%: pass 1 stops the 4 old tasks; once they are STOPPED pass 2 starts
 * 4 new ones, one per instance. With 50% / 100%: 2 old tasks stop, their instances take new tasks,
 * and once those run the other 2 follow.
 *
 * The deployment circuit breaker and the throttle apply as to REPLICA services (ECS's rolling update
 * deployment type, which DAEMON services use; the throttle logic is the service scheduler's, for every
 * service): tasks of the rollout that fail (src/domain/circuit-breaker.ts) are counted against a
 * threshold computed from D as a REPLICA's is from desiredCount, and at the threshold the deployment
 * FAILS (rolling back to the last COMPLETED one when asked, else launching nothing more); tasks that
 * go PENDING -> STOPPED without RUNNING push the next launch back (src/domain/throttle.ts), holding
 * every start until then and changing nothing else (stops of tasks whose instance left go on).
 */
import { circuitBreakerStep } from './circuit-breaker';
import type { ResourceAmounts } from './container-instance';
import { canDeploymentProceed, minimumHealthyTasks } from './deployment-math';
import { queryTarget, type PlacementCandidate } from './placement';
import { failedConstraint, type PlacementConstraint } from './placement-constraints';
import type { TaskRecord } from './records';
import { serviceGroup, type DeploymentRecord, type ServiceRecord } from './service';
import { rolloutReasons, scalingActivityReason, FAILED_HEALTH_CHECKS_REASON, serviceMessages } from './service-messages';
import { WAKE, type Plan, type ServiceChange, type StopRule, type TaskStart, type TaskStop } from './service-plan';
import { deploymentCounts, replacementOrder, serviceTasks, type ServiceTask } from './service-tasks';
import { foldThrottle, isThrottled, throttleMessage, type ThrottleSettings } from './throttle';

/** What the daemon decision needs beyond the service's own records. */
export interface DaemonContext {
  /** The cluster's container instances (any status), with `taskGroups` filled. */
  readonly instances: readonly PlacementCandidate[];
  /** The service's placement constraints and its primary task definition's memberOf ones, parsed. */
  readonly constraints: readonly PlacementConstraint[];
  /** What one task of the primary deployment reserves on its instance. */
  readonly needs: ResourceAmounts;
}

/**
 * How soon to look again when the only thing left is an instance that cannot take its task (no room,
 * agent disconnected): room freed by another task wakes nothing, so the loop looks on its own, slower
 * than a moving rollout and far sooner than a steady hour.
 */
export const DAEMON_CAPACITY_RETRY_SECONDS = 60;

/** Whether an instance may hold a task of the service: ACTIVE and every constraint holds. */
export function daemonEligible(host: PlacementCandidate, constraints: readonly PlacementConstraint[], group: string): boolean {
  return host.status === 'ACTIVE' && constraintFailed(host, constraints, group) === undefined;
}

/** The first constraint the host fails, the service's own task on it not counted (distinctInstance). */
function constraintFailed(host: PlacementCandidate, constraints: readonly PlacementConstraint[], group: string) {
  if (constraints.length === 0) return undefined;
  const { [group]: _own, ...others } = host.taskGroups ?? {};
  return failedConstraint(constraints, queryTarget({ ...host, taskGroups: others }), group);
}

const instanceId = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
/** Code-unit order (ARNs are ASCII): several times cheaper than localeCompare over 5,000 tasks. */
const byArn = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface DaemonOptions {
  /** The throttle's curve (default 10 s doubling to 15 min; tests scale it). */
  readonly throttle?: ThrottleSettings;
}

export function reconcileDaemon(
  service: ServiceRecord,
  deployments: readonly DeploymentRecord[],
  tasks: readonly TaskRecord[],
  context: DaemonContext,
  now: number,
  options: DaemonOptions = {},
): Plan {
  const plan: Plan & { start: TaskStart[]; stop: TaskStop[]; events: string[]; holds: string[] } = {
    start: [], stop: [], deployments: [], events: [], holds: [], nextWakeSeconds: WAKE.progressing,
  };
  if (service.status === 'INACTIVE') return { ...plan, nextWakeSeconds: undefined };
  const name = service.serviceName;
  const group = serviceGroup(name);
  const draining = service.status === 'DRAINING';

  // 1. The instances, which of them may hold a task, and the bounds.
  const hosts = new Map(context.instances.map((h) => [h.containerInstanceArn, h]));
  const eligible = new Set(
    context.instances.filter((h) => daemonEligible(h, context.constraints, group)).map((h) => h.containerInstanceArn),
  );
  const D = draining ? 0 : eligible.size;
  const floor = minimumHealthyTasks(D, service.deploymentConfiguration.minimumHealthyPercent);

  // Circuit breaker: new task outcomes folded in; the primary trips at the threshold D gives (as
  // desiredCount gives a REPLICA's).
  const breakerStep = circuitBreakerStep(service, deployments, tasks, D, now);
  if (!breakerStep) return { ...plan, holds: ['no PRIMARY deployment'], nextWakeSeconds: WAKE.steady };
  let deps = breakerStep.deployments;
  let serviceChange: ServiceChange | undefined = breakerStep.service;
  plan.events.push(...breakerStep.events);
  if (breakerStep.hold) plan.holds.push(breakerStep.hold);
  const primary = deps.find((d) => d.status === 'PRIMARY')!;
  const stalled = primary.rolloutState === 'FAILED';

  // 2. The service's tasks, by instance (ARN order, so a plan never depends on the order tasks were read in).
  const mine = serviceTasks(service, deps, tasks, now).sort((a, b) => byArn(a.task.taskArn, b.task.taskArn));
  const holding = mine.filter((t) => t.condition !== 'gone');
  const live = holding.filter((t) => t.condition !== 'stopping');
  const isPrimary = (t: ServiceTask) => t.deployment.id === primary.id;
  const stopped = new Set<string>();
  const stop = (t: ServiceTask, rule: StopRule, why: string) => {
    stopped.add(t.task.taskArn);
    const reason = rule === 'unhealthy' ? FAILED_HEALTH_CHECKS_REASON : scalingActivityReason(primary.id);
    if (rule === 'unhealthy') plan.events.push(serviceMessages.failedHealthChecks(name, t.task.taskArn));
    if (rule === 'constraint-violated') plan.events.push(serviceMessages.daemonConstraintViolated(name, t.task.taskArn));
    plan.stop.push({ taskArn: t.task.taskArn, deploymentId: t.deployment.id, stopCode: 'ServiceSchedulerInitiated', reason, rule, why });
  };

  // 3. Stops.
  if (draining) {
    for (const t of live) stop(t, 'draining', 'the service is being deleted (DRAINING)');
  } else {
    // Tasks whose instance is no longer theirs, whatever their deployment.
    for (const t of live) {
      const arn = t.task.containerInstanceArn;
      const host = arn === undefined ? undefined : hosts.get(arn);
      if (!host) stop(t, 'instance-left', arn === undefined ? 'not placed on a container instance' : 'its container instance is deregistered');
      else if (host.status !== 'ACTIVE') stop(t, 'instance-left', `its container instance is ${host.status}`);
      else if (!eligible.has(host.containerInstanceArn)) {
        stop(t, 'constraint-violated', `its container instance fails the ${constraintFailed(host, context.constraints, group)} placement constraint`);
      }
    }
    // One task per instance: the one to keep serves (available first), is of the primary deployment, is the oldest.
    const perInstance = new Map<string, ServiceTask[]>();
    for (const t of live) {
      if (stopped.has(t.task.taskArn)) continue;
      const arn = t.task.containerInstanceArn!;
      perInstance.set(arn, [...(perInstance.get(arn) ?? []), t]);
    }
    for (const [arn, list] of perInstance) {
      if (list.length < 2) continue;
      const rank = (t: ServiceTask) => (t.condition === 'available' ? 0 : 2) + (isPrimary(t) ? 0 : 1);
      const [, ...extra] = [...list].sort((a, b) => rank(a) - rank(b) || a.task.createdAt - b.task.createdAt || byArn(a.task.taskArn, b.task.taskArn));
      for (const t of extra) stop(t, 'duplicate', `another task of the service runs on container instance ${instanceId(arn)}`);
    }
    // Unhealthy primary tasks stop first (their instance cannot hold a replacement beside them).
    for (const t of live) {
      if (!stopped.has(t.task.taskArn) && isPrimary(t) && t.condition === 'unhealthy') stop(t, 'unhealthy', 'its instance takes a replacement once it is STOPPED');
    }
    // Rolling update: old tasks that serve nothing stop at once; available ones while the floor allows.
    let budget = live.filter((t) => !stopped.has(t.task.taskArn) && t.condition === 'available').length - floor;
    for (const t of replacementOrder(live.filter((t) => !isPrimary(t) && !stopped.has(t.task.taskArn)))) {
      if (stalled) break; // a FAILED rollout without rollback keeps the old tasks serving
      if (t.condition !== 'available') stop(t, t.condition === 'unhealthy' ? 'unhealthy' : 'replace-old', 'an old task that serves nothing yet is replaced');
      else if (budget > 0) {
        budget--;
        stop(t, 'replace-old', `rolling update: ${budget + 1} available task(s) above the minimumHealthyPercent floor of ${floor}`);
      } else {
        plan.holds.push(`old tasks kept: available tasks at the minimumHealthyPercent floor (${floor})`);
        break;
      }
    }
  }

  // 4. Starts: one per eligible instance that holds no task of the service, placed there at creation,
  //    and not before the throttle allows (seed 004: only the time between launches changes).
  const occupied = new Set(holding.flatMap((t) => (t.task.containerInstanceArn ? [t.task.containerInstanceArn] : [])));
  const throttle = foldThrottle(service.throttle, primary.taskDefinition, mine.map((t) => t.task), now, options.throttle);
  const throttled = isThrottled(throttle.state, now);
  if (throttle.newFailures > 0 && throttled) plan.events.push(throttleMessage(name));
  let throttleWake: number | undefined;
  let waiting = 0;
  if (!draining) {
    const free = [...eligible].filter((arn) => !occupied.has(arn)).sort();
    if (free.length > 0 && stalled) plan.holds.push(`deployment ${primary.id} FAILED: it launches no new tasks`);
    else if (free.length > 0 && throttled) {
      throttleWake = Math.max(1, Math.ceil((throttle.state.nextAttemptAt! - now) / 1000));
      plan.holds.push(`throttled after ${throttle.state.consecutiveStartFailures} task(s) in a row failed to start: next launch in ${throttleWake} s`);
    } else {
      const common = { deploymentId: primary.id, taskDefinition: primary.taskDefinition, launchType: 'EC2' as const, count: 1, group, startedBy: primary.id };
      for (const arn of free) {
        const host = hosts.get(arn)!;
        const shortOf = host.remaining.cpu < context.needs.cpu ? 'CPU units' : host.remaining.memory < context.needs.memory ? 'memory' : undefined;
        if (host.agentConnected === false) {
          waiting++;
          plan.holds.push(`container instance ${instanceId(arn)}: agent disconnected`);
        } else if (shortOf) {
          waiting++;
          plan.holds.push(`container instance ${instanceId(arn)}: insufficient ${shortOf}`);
          plan.events.push(serviceMessages.unableToPlace(name, `The closest matching (container-instance ${instanceId(arn)}) has insufficient ${shortOf} available.`));
        } else {
          plan.start.push({ ...common, containerInstanceArn: arn, why: `container instance ${instanceId(arn)} has no task of deployment ${primary.id}` });
        }
      }
    }
  }
  // A rollout that can neither stop nor start a task says so and does not move (as REPLICA, seed 002):
  // with one task per instance only stops make room, so D 1 at 50% (floor 1) or any D at 100% holds.
  const rolloutPending = live.some((t) => !isPrimary(t) && !stopped.has(t.task.taskArn));
  if (rolloutPending && !stalled && plan.start.length === 0 && plan.stop.length === 0 &&
      !canDeploymentProceed(D, service.deploymentConfiguration.minimumHealthyPercent, 100)) {
    plan.events.push(serviceMessages.cannotStopOrStart(name));
  }
  if (plan.stop.length > 0) plan.events.push(serviceMessages.stopped(name, plan.stop.map((s) => s.taskArn)));

  // 5. Deployments: counts, INACTIVE when empty, COMPLETED when every eligible instance runs one primary task.
  const keeping = live.filter((t) => isPrimary(t) && !stopped.has(t.task.taskArn));
  const settled = plan.start.length === 0 && plan.stop.length === 0 && waiting === 0 && holding.length === keeping.length &&
    keeping.length === D && keeping.every((t) => t.condition === 'available');
  const next = deps.map((d) => {
    const { empty, ...counts } = deploymentCounts(d, holding, primary.id, D, stopped);
    let r: DeploymentRecord = { ...d, ...counts };
    if (d.id !== primary.id && d.status === 'ACTIVE' && empty) r = { ...r, status: 'INACTIVE' };
    if (d.id === primary.id && settled && d.rolloutState === 'IN_PROGRESS') {
      r = { ...r, rolloutState: 'COMPLETED', rolloutStateReason: rolloutReasons.completed(d.id), completedAt: now };
      plan.events.push(serviceMessages.deploymentCompleted(name, d.id));
    }
    if (draining && holding.length === 0) r = { ...r, status: 'INACTIVE' };
    return r;
  });
  if (settled && !draining && !stalled) plan.events.push(serviceMessages.steadyState(name));
  const deploymentsOut = next
    .filter((d, i) => JSON.stringify(d) !== JSON.stringify(deployments[i]))
    .map((d) => ({ ...d, updatedAt: now }));
  if (draining && holding.length === 0) {
    return { ...plan, deployments: deploymentsOut, service: { ...serviceChange, status: 'INACTIVE' }, nextWakeSeconds: undefined };
  }
  // ECS reports a DAEMON service's desiredCount as computed by the scheduler.
  if (!draining && service.desiredCount !== D) serviceChange = { ...serviceChange, desiredCount: D };
  // Written once a service has ever failed to start a task (a service that never did carries none).
  const keepThrottle = service.throttle !== undefined || throttle.state.consecutiveStartFailures > 0;
  if (keepThrottle && JSON.stringify(throttle.state) !== JSON.stringify(service.throttle)) serviceChange = { ...serviceChange, throttle: throttle.state };
  const moving = plan.start.length > 0 || plan.stop.length > 0 || holding.some((t) => t.condition !== 'available');
  let nextWakeSeconds: number = moving ? WAKE.progressing : waiting > 0 ? DAEMON_CAPACITY_RETRY_SECONDS : WAKE.steady;
  // Throttled: look again when the next launch is allowed (sooner only if something else moves).
  if (throttleWake !== undefined) nextWakeSeconds = plan.start.length || plan.stop.length ? Math.min(nextWakeSeconds, throttleWake) : throttleWake;
  return { ...plan, deployments: deploymentsOut, service: serviceChange, nextWakeSeconds };
}

/** How many tasks a plan starts on each instance: container instance ARN -> count. */
export const startsPerInstance = (plan: Plan) => {
  const out = new Map<string, number>();
  for (const s of plan.start) if (s.containerInstanceArn) out.set(s.containerInstanceArn, (out.get(s.containerInstanceArn) ?? 0) + s.count);
  return out;
};
