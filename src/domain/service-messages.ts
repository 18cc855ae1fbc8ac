/**
 * Every service event message and deployment reason text, in ECS's wording. Sources: the ECS developer
 * guide's "Service event messages" list and "service deployment state change events" page, and real
 * DescribeServices output quoted in public reports, e.g. (newest first):
 *
 *   (service inventory) (deployment ecs-svc/1675294001379389663) deployment completed.
 *   (service inventory) has stopped 1 running tasks: (task 0668979337dc48ebb791640cd1162053).
 *   (service inventory) (task 0668979337dc48ebb791640cd1162053) failed container health checks.
 *   (service inventory) has started 1 tasks: (task 22450d8cbf7b4648ac0837b9a710e807).
 *   (service inventory) rolling back to deployment ecs-svc/1675294001379389663.
 *   (service inventory) (deployment ecs-svc/1571272475813219068) deployment failed: tasks failed to start.
 *
 * Note: ECS writes "deployment completed" with the id in parentheses, "(deployment ecs-svc/...)", not
 * "deployment ecs-svc/... deployment completed" as issue 8 paraphrases it; Berth follows ECS.
 * Marked (Berth) where no real text was found and the wording follows ECS's style.
 */
import { taskIdOfArn } from './arns';

const tasksList = (taskArns: readonly string[]) => taskArns.map((arn) => `(task ${taskIdOfArn(arn)})`).join(' ');

export const serviceMessages = {
  started: (service: string, taskArns: readonly string[]) =>
    `(service ${service}) has started ${taskArns.length} tasks: ${tasksList(taskArns)}.`,
  stopped: (service: string, taskArns: readonly string[]) =>
    `(service ${service}) has stopped ${taskArns.length} running tasks: ${tasksList(taskArns)}.`,
  steadyState: (service: string) => `(service ${service}) has reached a steady state.`,
  deploymentCompleted: (service: string, deploymentId: string) =>
    `(service ${service}) (deployment ${deploymentId}) deployment completed.`,
  deploymentFailed: (service: string, deploymentId: string) =>
    `(service ${service}) (deployment ${deploymentId}) deployment failed: tasks failed to start.`,
  rollingBack: (service: string, deploymentId: string) =>
    `(service ${service}) rolling back to deployment ${deploymentId}.`,
  failedHealthChecks: (service: string, taskArn: string) =>
    `(service ${service}) (task ${taskIdOfArn(taskArn)}) failed container health checks.`,
  // (Berth) SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED's message: no real text found; ECS's event
  // documentation says "no longer meets the placement constraint strategy for the service".
  daemonConstraintViolated: (service: string, taskArn: string) =>
    `(service ${service}) (task ${taskIdOfArn(taskArn)}) no longer meets the placement constraints of the service.`,
  /** ECS's text; `closest` is "The closest matching (container-instance <id>) has insufficient CPU units available." or the like. */
  unableToPlace: (service: string, closest: string) =>
    `(service ${service}) was unable to place a task because no container instance met all of its requirements. ${closest} For more information, see the Troubleshooting section.`,
  cannotStopOrStart: (service: string) =>
    `(service ${service}) was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.`,
} as const;

/** Deployment.rolloutStateReason and the `reason` of ECS Deployment State Change events. */
export const rolloutReasons = {
  inProgress: (deploymentId: string) => `ECS deployment ${deploymentId} in progress.`,
  completed: (deploymentId: string) => `ECS deployment ${deploymentId} completed.`,
  circuitBreakerFailed: 'ECS deployment circuit breaker: tasks failed to start.',
  rollingBack: (deploymentId: string) => `ECS deployment circuit breaker: rolling back to deploymentId ${deploymentId}.`,
  // (Berth) StopServiceDeployment ROLLBACK: no real text found.
  stopRequested: 'ECS deployment stopped: rollback requested.',
  rollbackRequested: (deploymentId: string) => `ECS deployment rollback requested: rolling back to deploymentId ${deploymentId}.`,
} as const;

/** A task's stoppedReason when the scheduler stops it (real ECS text; stopCode ServiceSchedulerInitiated). */
export const scalingActivityReason = (deploymentId: string) => `Scaling activity initiated by (deployment ${deploymentId})`;
/** (ECS) stoppedReason of a task replaced for failing its container health checks. */
export const FAILED_HEALTH_CHECKS_REASON = 'Task failed container health checks';

export interface ServiceEvent {
  readonly id: string;
  readonly createdAt: number;
  readonly message: string;
}

export const MAX_SERVICE_EVENTS = 100;
/** ECS omits a repeated message until its cause changes or six hours pass. */
export const DUPLICATE_EVENT_WINDOW_MS = 6 * 60 * 60 * 1000;

/**
 * Adds messages to a service's events (newest first, at most 100). A message equal to the newest one
 * already there, and younger than six hours, is left out: a steady service reconciled every few
 * minutes says "has reached a steady state." once, not every time (ECS's "duplicate event messages are
 * omitted"). `nextId` gives each kept event its id (injected; the domain makes no UUIDs).
 *
 *   appendServiceEvents([{ message: 'A', createdAt: 0, id: '1' }], ['A', 'B'], 1000, ids)
 *     -> [{ message: 'B' }, { message: 'A', id: '1' }]     (the second 'A' is a duplicate)
 */
export function appendServiceEvents(
  events: readonly ServiceEvent[],
  messages: readonly string[],
  now: number,
  nextId: () => string,
): ServiceEvent[] {
  const out = [...events];
  for (const message of messages) {
    const newest = out[0];
    if (newest && newest.message === message && now - newest.createdAt < DUPLICATE_EVENT_WINDOW_MS) continue;
    out.unshift({ id: nextId(), createdAt: now, message });
  }
  return out.slice(0, MAX_SERVICE_EVENTS);
}
