/**
 * The EventBridge events ECS emits for services and their deployments, derived from committed records
 * only: the old and new images of a service item (one stream record) and, for a placement failure, of a
 * service task. Pure. Sources: the ECS developer guide's "Amazon ECS service action events" and "Amazon
 * ECS service deployment state change events" pages (detail types, event names, types and fields).
 *
 *   ECS Deployment State Change  SERVICE_DEPLOYMENT_IN_PROGRESS | _COMPLETED (INFO), _FAILED (ERROR):
 *                                a deployment's rolloutState changed (or a new deployment appeared)
 *   ECS Service Action           SERVICE_DEPLOYMENT_IN_PROGRESS | _COMPLETED (INFO): the same transitions
 *                                SERVICE_STEADY_STATE (INFO): "has reached a steady state." was appended
 *                                TASKSET_STEADY_STATE (INFO): "(service web, taskSet ecs-svc/...) has
 *                                reached a steady state." was appended (EXTERNAL services)
 *                                TASKS_STOPPED (INFO): "has stopped N running tasks: ..." was appended
 *                                SERVICE_DESIRED_COUNT_UPDATED (INFO): the scheduler (not a user) moved a
 *                                deployment's desiredCount
 *                                SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED (ERROR): a DAEMON service's
 *                                task no longer meets its placement constraints (and is stopped)
 *                                SERVICE_TASK_START_IMPAIRED (WARN): "is unable to consistently start
 *                                tasks successfully." was appended (the throttle, throttle.ts)
 *                                SERVICE_REBALANCING_STARTED | _COMPLETED (INFO): "service (web) is
 *                                (not) AZ balanced with ..." was appended (az-rebalancing.ts)
 *                                SERVICE_TASK_PLACEMENT_FAILURE (ERROR): a service task gave up waiting
 *                                for capacity (TaskFailedToStart before it was ever placed)
 *
 * Ids are a function of the service ARN and the event's identity (the service event's own stored id, or
 * the deployment id + transition + its updatedAt, or the task ARN), so a redelivered stream record
 * yields the same ids. Times come from the records (a service event's createdAt, a deployment's
 * updatedAt, a task's updatedAt), never from the stream's ApproximateCreationDateTime.
 */
import { capacityProviderArn, parseArn, taskArn as taskArnOf } from './arns';
import { envelope, iso, type EcsEvent, type EventEnvelopeContext } from './event-envelope';
import type { TaskRecord } from './records';
import { DEPLOYMENT_ID_PATTERN, type DeploymentRecord, type RolloutState, type ServiceRecord } from './service';
import { rolloutReasons, serviceMessages, type ServiceEvent } from './service-messages';
import { taskSetArn } from './task-set';
import { throttleMessage } from './throttle';

export const SERVICE_ACTION = 'ECS Service Action';
export const DEPLOYMENT_STATE_CHANGE = 'ECS Deployment State Change';

export type ServiceEventType = 'INFO' | 'WARN' | 'ERROR';

/** One image of a service item as the stream carries it (see service-repository.ts). */
export interface ServiceItemImage {
  readonly record: ServiceRecord;
  readonly deployments: readonly DeploymentRecord[];
  /** Newest first. */
  readonly events: readonly ServiceEvent[];
  /** Who wrote this image: the API (a user's request) or the scheduler. */
  readonly changedBy?: 'api' | 'scheduler';
}

const DEPLOYMENT_EVENT: Record<RolloutState, { eventName: string; eventType: ServiceEventType }> = {
  IN_PROGRESS: { eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', eventType: 'INFO' },
  COMPLETED: { eventName: 'SERVICE_DEPLOYMENT_COMPLETED', eventType: 'INFO' },
  FAILED: { eventName: 'SERVICE_DEPLOYMENT_FAILED', eventType: 'ERROR' },
};

/**
 * The `reason` of a deployment event: the deployment's rolloutStateReason, except for a circuit
 * breaker trip, where ECS's event says "task failed to start." (its DescribeServices rolloutStateReason
 * says "tasks"; both texts are ECS's own).
 */
export const CIRCUIT_BREAKER_FAILED_EVENT_REASON = 'ECS deployment circuit breaker: task failed to start.';
const deploymentReason = (d: DeploymentRecord) =>
  d.rolloutState === 'FAILED' && d.rolloutStateReason === rolloutReasons.circuitBreakerFailed
    ? CIRCUIT_BREAKER_FAILED_EVENT_REASON
    : d.rolloutStateReason;

/** Every event one committed write of a service item means, oldest first. */
export function serviceItemEvents(
  before: ServiceItemImage | undefined,
  after: ServiceItemImage,
  context: EventEnvelopeContext,
): EcsEvent[] {
  return [...deploymentEvents(before, after, context), ...desiredCountEvents(before, after, context), ...appendedEventActions(before, after, context)];
}

/** One rolloutState a deployment entered in a write, with the event's reason. */
export interface RolloutTransition {
  readonly deployment: DeploymentRecord;
  readonly state: RolloutState;
  readonly reason: string;
}

/**
 * The rollout states this write made deployments enter, in order: a new deployment, or a changed
 * rolloutState, enters its state. One write can also take a deployment through a state the new image
 * no longer shows: a rollback to a deployment whose tasks are all still running completes it in the
 * same pass (COMPLETED -> IN_PROGRESS -> COMPLETED); its `completedAt` moving says so, and the
 * rollback's reason follows the failure written beside it (circuit breaker or requested).
 */
export function rolloutTransitions(before: ServiceItemImage | undefined, after: ServiceItemImage): RolloutTransition[] {
  const previous = new Map((before?.deployments ?? []).map((d) => [d.id, d]));
  const failures = after.deployments.filter((d) => d.rolloutState === 'FAILED' && previous.get(d.id)?.rolloutState !== 'FAILED');
  const rollbackReason = (id: string) =>
    failures.some((f) => f.rolloutStateReason === rolloutReasons.circuitBreakerFailed)
      ? rolloutReasons.rollingBack(id)
      : failures.length
        ? rolloutReasons.rollbackRequested(id)
        : rolloutReasons.inProgress(id);
  const transitions: RolloutTransition[] = [];
  for (const d of [...failures, ...after.deployments.filter((x) => !failures.includes(x))]) {
    const old = previous.get(d.id);
    if (old?.rolloutState !== d.rolloutState) {
      transitions.push({ deployment: d, state: d.rolloutState, reason: deploymentReason(d) });
    } else if (d.rolloutState === 'COMPLETED' && old.completedAt !== d.completedAt) {
      transitions.push({ deployment: d, state: 'IN_PROGRESS', reason: rollbackReason(d.id) });
      transitions.push({ deployment: d, state: 'COMPLETED', reason: deploymentReason(d) });
    }
  }
  // Failures first (a trip comes before the rollback it causes), then by time.
  return transitions
    .map((t, i) => ({ t, i }))
    .sort((a, b) => a.t.deployment.updatedAt - b.t.deployment.updatedAt || a.i - b.i)
    .map(({ t }) => t);
}

function deploymentEvents(before: ServiceItemImage | undefined, after: ServiceItemImage, context: EventEnvelopeContext): EcsEvent[] {
  const { serviceArn, clusterArn } = after.record;
  const events: EcsEvent[] = [];
  for (const { deployment: d, state, reason } of rolloutTransitions(before, after)) {
    const { eventName, eventType } = DEPLOYMENT_EVENT[state];
    // A deployment can reach the same state twice (COMPLETED, rolled back to, COMPLETED again): its
    // updatedAt tells the two transitions apart, and a redelivery repeats it.
    const identity = `deployment#${d.id}#${state}#${d.updatedAt}`;
    events.push(
      envelope(DEPLOYMENT_STATE_CHANGE, serviceArn, identity, d.updatedAt, context, {
        eventType,
        eventName,
        clusterArn,
        deploymentId: d.id,
        updatedAt: iso(d.updatedAt),
        reason,
      }),
    );
    // ECS lists deployments in progress and completed among its service actions too (not failures).
    if (state !== 'FAILED') {
      events.push(
        envelope(SERVICE_ACTION, serviceArn, `action#${identity}`, d.updatedAt, context, {
          eventType,
          eventName,
          clusterArn,
          createdAt: iso(d.updatedAt),
          reason,
        }),
      );
    }
  }
  return events;
}

/**
 * SERVICE_DESIRED_COUNT_UPDATED: "when the service scheduler updates the computed desired count ...
 * not sent when the desired count is manually updated by a user". Berth's scheduler computes each
 * deployment's desiredCount (the PRIMARY takes the service's, an older one the tasks it keeps), so a
 * scheduler write that moves one says so; API writes (UpdateService, DeleteService) never do.
 * `deploymentId` names the deployment (Berth's addition: ECS would name a task set).
 */
function desiredCountEvents(before: ServiceItemImage | undefined, after: ServiceItemImage, context: EventEnvelopeContext): EcsEvent[] {
  if (!before || after.changedBy !== 'scheduler') return [];
  const { serviceArn, clusterArn } = after.record;
  const previous = new Map(before.deployments.map((d) => [d.id, d]));
  return after.deployments
    .filter((d) => previous.has(d.id) && previous.get(d.id)!.desiredCount !== d.desiredCount)
    .map((d) =>
      envelope(SERVICE_ACTION, serviceArn, `desired-count#${d.id}#${d.desiredCount}#${d.updatedAt}`, d.updatedAt, context, {
        eventType: 'INFO',
        eventName: 'SERVICE_DESIRED_COUNT_UPDATED',
        clusterArn,
        createdAt: iso(d.updatedAt),
        desiredCount: d.desiredCount,
        deploymentId: d.id,
      }),
    );
}

/** The service events this write appended (not in the old image), oldest first. */
export function appendedServiceEvents(before: ServiceItemImage | undefined, after: ServiceItemImage): ServiceEvent[] {
  const known = new Set((before?.events ?? []).map((e) => e.id));
  return after.events.filter((e) => !known.has(e.id)).reverse();
}

function appendedEventActions(before: ServiceItemImage | undefined, after: ServiceItemImage, context: EventEnvelopeContext): EcsEvent[] {
  const { serviceArn, clusterArn, serviceName } = after.record;
  const events: EcsEvent[] = [];
  for (const appended of appendedServiceEvents(before, after)) {
    const action = serviceActionOf(serviceName, clusterArn, appended.message);
    if (!action) continue;
    events.push(
      envelope(SERVICE_ACTION, serviceArn, `service-event#${appended.id}`, appended.createdAt, context, {
        eventType: action.eventType,
        eventName: action.eventName,
        clusterArn,
        createdAt: iso(appended.createdAt),
        ...(action.taskArns ? { taskArns: action.taskArns } : {}),
        ...(action.taskSetArns ? { taskSetArns: action.taskSetArns } : {}),
      }),
    );
  }
  return events;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The service action a service event message reports, if any. The messages are Berth's own, written
 * by service-messages.ts in ECS's wording, so the match is exact; a stopped task's ARN is rebuilt from
 * its id in the service's cluster (long ARN format, as every Berth task ARN is).
 */
export function serviceActionOf(
  serviceName: string,
  clusterArn: string,
  message: string,
): { eventName: string; eventType: ServiceEventType; taskArns?: string[]; taskSetArns?: string[] } | undefined {
  if (message === serviceMessages.steadyState(serviceName)) return { eventName: 'SERVICE_STEADY_STATE', eventType: 'INFO' };
  // A task set of an EXTERNAL service settled (task-set-reconciler.ts): TASKSET_STEADY_STATE, naming
  // the set in `taskSetArns` (Berth's addition: ECS's documentation shows no detail beyond the common ones).
  const taskSetSteady = new RegExp(`^\\(service ${escapeRegExp(serviceName)}, taskSet (ecs-svc/[0-9]+)\\) has reached a steady state\\.$`).exec(message);
  if (taskSetSteady) {
    const cluster = parseArn(clusterArn);
    if (!cluster) return undefined;
    const scope = { account: cluster.account, region: cluster.region, partition: cluster.partition };
    return { eventName: 'TASKSET_STEADY_STATE', eventType: 'INFO', taskSetArns: [taskSetArn(scope, cluster.path[0], serviceName, taskSetSteady[1])] };
  }
  // AZ rebalancing (az-rebalancing.ts): ECS's two INFO service actions, from its two messages.
  const service = escapeRegExp(serviceName);
  if (new RegExp(`^service \\(${service}\\) is not AZ balanced with .+\\. AZ Rebalancing in progress\\.$`).test(message)) {
    return { eventName: 'SERVICE_REBALANCING_STARTED', eventType: 'INFO' };
  }
  if (new RegExp(`^service \\(${service}\\) is AZ balanced with .+\\.$`).test(message)) return { eventName: 'SERVICE_REBALANCING_COMPLETED', eventType: 'INFO' };
  // Seed 004's throttle; ECS lists SERVICE_TASK_START_IMPAIRED among the WARN service actions.
  if (message === throttleMessage(serviceName)) return { eventName: 'SERVICE_TASK_START_IMPAIRED', eventType: 'WARN' };
  const stopped = new RegExp(`^\\(service ${escapeRegExp(serviceName)}\\) has stopped \\d+ running tasks: ((?:\\(task [0-9a-f]+\\) ?)+)\\.$`).exec(message);
  if (stopped) {
    const cluster = parseArn(clusterArn);
    if (!cluster) return undefined;
    const scope = { account: cluster.account, region: cluster.region, partition: cluster.partition };
    const ids = [...stopped[1].matchAll(/\(task ([0-9a-f]+)\)/g)].map((m) => m[1]);
    return { eventName: 'TASKS_STOPPED', eventType: 'INFO', taskArns: ids.map((id) => taskArnOf(scope, cluster.path[0], id)) };
  }
  const violated = new RegExp(`^\\(service ${escapeRegExp(serviceName)}\\) \\(task ([0-9a-f]+)\\) no longer meets the placement constraints of the service\\.$`).exec(message);
  if (violated) {
    const cluster = parseArn(clusterArn);
    if (!cluster) return undefined;
    const scope = { account: cluster.account, region: cluster.region, partition: cluster.partition };
    return { eventName: 'SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED', eventType: 'ERROR', taskArns: [taskArnOf(scope, cluster.path[0], violated[1])] };
  }
  return undefined;
}

/**
 * SERVICE_TASK_PLACEMENT_FAILURE, from a service task's stream record: the task stopped with
 * TaskFailedToStart while still waiting for a host (PENDING, never placed), which is how Berth gives up
 * on a placement (after the capacity wait, with a reason naming what was missing). `reason` is the
 * placement failure's code for an EC2 task (RESOURCE:CPU, RESOURCE:MEMORY, AGENT, MISSING, a constraint),
 * RESOURCE:FARGATE for a Fargate one (FARGATE or FARGATE_SPOT, as ECS's example gives it);
 * `capacityProviderArns` the task's capacity provider.
 */
export function placementFailureEvent(before: TaskRecord | undefined, after: TaskRecord, context: EventEnvelopeContext): EcsEvent | undefined {
  if (!before || before.desiredStatus === 'STOPPED' || after.desiredStatus !== 'STOPPED') return undefined;
  if (after.stopCode !== 'TaskFailedToStart' || before.lastStatus !== 'PENDING' || before.reservation) return undefined;
  if (!after.group?.startsWith('service:') || !DEPLOYMENT_ID_PATTERN.test(after.startedBy ?? '')) return undefined;
  const cluster = parseArn(after.clusterArn);
  if (!cluster) return undefined;
  const scope = { account: cluster.account, region: cluster.region, partition: cluster.partition };
  const serviceArn = `${after.clusterArn.replace(':cluster/', ':service/')}/${after.group.slice('service:'.length)}`;
  // A Fargate task's reason is RESOURCE:FARGATE whatever was short (no host of its provider, no room):
  // ECS's documented example of this event is a FARGATE_SPOT task with exactly that reason.
  const code = after.launchType === 'FARGATE' ? 'RESOURCE:FARGATE' : /\((RESOURCE:[A-Z]+|AGENT|MISSING): /.exec(after.stoppedReason ?? '')?.[1];
  const time = after.updatedAt ?? after.stoppingAt ?? after.createdAt;
  return envelope(SERVICE_ACTION, serviceArn, `placement-failure#${after.taskArn}`, time, context, {
    eventType: 'ERROR',
    eventName: 'SERVICE_TASK_PLACEMENT_FAILURE',
    clusterArn: after.clusterArn,
    ...(after.capacityProviderName ? { capacityProviderArns: [capacityProviderArn(scope, after.capacityProviderName)] } : {}),
    reason: code ?? after.stoppedReason,
    createdAt: iso(time),
    taskArns: [after.taskArn],
  });
}
