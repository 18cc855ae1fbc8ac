/**
 * The deployment circuit breaker (ECS "How the deployment circuit breaker detects failures"):
 *
 * - Stage 1: tasks of the deployment that stop without ever reaching RUNNING are failures.
 * - Stage 2 (once one of its tasks reached RUNNING): tasks that reached RUNNING and were then stopped
 *   for failing their health checks are failures.
 * - resetOnHealthyTask (default true): a task that becomes healthy (RUNNING, and HEALTHY when the task
 *   definition has a health check) resets the count to 0.
 * - When the count reaches the threshold the deployment is FAILED; with rollback the latest COMPLETED
 *   deployment becomes PRIMARY again (IN_PROGRESS), otherwise the deployment launches nothing more.
 *
 * Stops the scheduler or a user made (scale-in, rolling replacement, StopTask) are not failures.
 * The count lives on the deployment with a watermark, so folding the same tasks twice counts nothing
 * twice. A task that turns HEALTHY later than a failure already counted does not reset (its healthy
 * time is taken as startedAt; the record keeps no time of the HEALTHY report).
 */
import { minimumHealthyTasks } from './deployment-math';
import type { TaskRecord } from './records';
import {
  launchConfigurationOf,
  type CircuitBreakerState,
  type DeploymentCircuitBreaker,
  type DeploymentRecord,
  type ThresholdConfiguration,
} from './service';
import { FAILED_HEALTH_CHECKS_REASON, rolloutReasons, serviceMessages } from './service-messages';
import type { ServiceChange } from './service-plan';

export const CIRCUIT_BREAKER_MIN = 3;
export const CIRCUIT_BREAKER_MAX = 200;
export const DEFAULT_THRESHOLD: ThresholdConfiguration = { type: 'BOUNDED_PERCENT', value: 50 };

/**
 * Failures that trip the breaker. Percent types take value% of desiredCount, rounded up;
 * BOUNDED_PERCENT clamps to [3, 200]; a threshold is never below 1.
 *
 *   failureThreshold(4)                                       === 3    (2 raised to the minimum 3)
 *   failureThreshold(25)                                      === 13   (12.5 rounds up)
 *   failureThreshold(1000)                                    === 200  (clamped)
 *   failureThreshold(1000, { type: 'UNBOUNDED_PERCENT', value: 50 }) === 500
 *   failureThreshold(4, { type: 'COUNT', value: 1 })          === 1
 */
export function failureThreshold(desiredCount: number, config: ThresholdConfiguration = DEFAULT_THRESHOLD): number {
  const percent = minimumHealthyTasks(desiredCount, config.value);
  switch (config.type) {
    case 'COUNT':
      return Math.max(1, config.value);
    case 'UNBOUNDED_PERCENT':
      return Math.max(1, percent);
    case 'BOUNDED_PERCENT':
      return Math.min(CIRCUIT_BREAKER_MAX, Math.max(CIRCUIT_BREAKER_MIN, percent));
  }
}

type Watched = Pick<DeploymentRecord, 'id' | 'hasHealthCheck'>;
const stopped = (t: TaskRecord) => t.lastStatus === 'STOPPED' || t.lastStatus === 'DELETED';

/** Whether a stopped task of the deployment counts as a failure, and in which stage. */
export function failureStage(task: TaskRecord): 1 | 2 | undefined {
  if (!stopped(task) || task.stopCode === 'UserInitiated') return undefined;
  const healthStop = task.stoppedReason === FAILED_HEALTH_CHECKS_REASON;
  if (task.stopCode === 'ServiceSchedulerInitiated' && !healthStop) return undefined;
  if (task.startedAt === undefined) return 1;
  return healthStop || task.healthStatus === 'UNHEALTHY' ? 2 : undefined;
}

/** RUNNING (or past it) and, with a health check, HEALTHY: the task the breaker resets on. */
export function isHealthyTask(task: TaskRecord, deployment: Watched): boolean {
  if (task.startedAt === undefined || failureStage(task) !== undefined) return false;
  return !deployment.hasHealthCheck || task.healthStatus === 'HEALTHY';
}

/** Stage 2 once any task of the deployment reached RUNNING. */
export const breakerStage = (tasks: readonly TaskRecord[], d: Watched): 1 | 2 =>
  tasks.some((t) => t.startedBy === d.id && t.startedAt !== undefined) ? 2 : 1;

interface Outcome {
  readonly at: number;
  readonly taskArn: string;
  readonly failure: boolean;
}

/**
 * Folds the task outcomes not yet counted into the deployment's breaker state, oldest first; a reset
 * sorts before a failure at the same time.
 *
 *   3 tasks stopped before RUNNING, none healthy    -> failedTasks 3
 *   the same 3 tasks folded again                   -> failedTasks 3 (watermark)
 *   1 failure, then a task healthy (reset on)       -> failedTasks 0
 */
export function foldOutcomes(
  state: CircuitBreakerState,
  deployment: Watched,
  tasks: readonly TaskRecord[],
  breaker: Pick<DeploymentCircuitBreaker, 'resetOnHealthyTask'>,
): CircuitBreakerState {
  const resetOnHealthy = breaker.resetOnHealthyTask ?? true;
  const outcomes: Outcome[] = [];
  for (const t of tasks) {
    if (t.startedBy !== deployment.id) continue;
    if (failureStage(t) !== undefined) outcomes.push({ at: t.stoppedAt ?? t.createdAt, taskArn: t.taskArn, failure: true });
    else if (resetOnHealthy && isHealthyTask(t, deployment)) outcomes.push({ at: t.startedAt!, taskArn: t.taskArn, failure: false });
  }
  const { at: seenAt, taskArns: seenArns } = state.countedThrough;
  const fresh = outcomes
    .filter((o) => o.at > seenAt || (o.at === seenAt && !seenArns.includes(o.taskArn)))
    .sort((a, b) => a.at - b.at || Number(a.failure) - Number(b.failure) || a.taskArn.localeCompare(b.taskArn));
  if (fresh.length === 0) return state;
  let failedTasks = state.failedTasks;
  for (const o of fresh) failedTasks = o.failure ? failedTasks + 1 : 0;
  const newestAt = fresh[fresh.length - 1]!.at;
  const atNewest = fresh.filter((o) => o.at === newestAt).map((o) => o.taskArn);
  const taskArns = newestAt === seenAt ? [...seenArns, ...atNewest] : atNewest;
  return { failedTasks, countedThrough: { at: newestAt, taskArns } };
}

/** The rollback target: the most recently COMPLETED deployment other than `failedId`. */
export function rollbackTarget(deployments: readonly DeploymentRecord[], failedId: string): DeploymentRecord | undefined {
  return deployments
    .filter((d) => d.id !== failedId && d.rolloutState === 'COMPLETED')
    .sort((a, b) => (b.completedAt ?? b.createdAt) - (a.completedAt ?? a.createdAt))[0];
}

export interface FailedDeployment {
  /** Every deployment after the change (the reconciler carries on with these). */
  readonly deployments: DeploymentRecord[];
  readonly events: string[];
  readonly service?: ServiceChange;
  readonly rolledBackTo?: string;
}

/**
 * Marks a deployment FAILED and, when asked and possible, rolls back: the latest COMPLETED deployment
 * becomes PRIMARY and IN_PROGRESS again (it is not eligible as a rollback target until it completes
 * again) and the service takes its launch configuration back. Without a target the failed deployment
 * stays PRIMARY and launches nothing: the rollout is stalled, as in ECS.
 *
 *   web:2 (PRIMARY, IN_PROGRESS) trips, web:1 COMPLETED, rollback on
 *     -> web:2 ACTIVE FAILED "ECS deployment circuit breaker: tasks failed to start."
 *        web:1 PRIMARY IN_PROGRESS "ECS deployment circuit breaker: rolling back to deploymentId <web:1>."
 *        events: "... (deployment <web:2>) deployment failed: tasks failed to start.",
 *                "... rolling back to deployment <web:1>."
 */
export function failDeployment(
  serviceName: string,
  deployments: readonly DeploymentRecord[],
  failedId: string,
  options: { readonly rollback: boolean; readonly cause: 'circuit-breaker' | 'request' },
  now: number,
): FailedDeployment {
  const target = options.rollback ? rollbackTarget(deployments, failedId) : undefined;
  const byBreaker = options.cause === 'circuit-breaker';
  const events = byBreaker ? [serviceMessages.deploymentFailed(serviceName, failedId)] : [];
  const next = deployments.map((d): DeploymentRecord => {
    if (d.id === failedId) {
      const rolloutStateReason = byBreaker ? rolloutReasons.circuitBreakerFailed : rolloutReasons.stopRequested;
      return { ...d, status: target ? 'ACTIVE' : d.status, rolloutState: 'FAILED', rolloutStateReason, updatedAt: now };
    }
    if (d.id === target?.id) {
      const rolloutStateReason = byBreaker ? rolloutReasons.rollingBack(d.id) : rolloutReasons.rollbackRequested(d.id);
      const { completedAt: _completed, ...rest } = d;
      // Count afresh from now: the target's tasks that failed before this rollout are not its failures.
      const circuitBreaker = { failedTasks: 0, countedThrough: { at: now, taskArns: [] } };
      return { ...rest, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', rolloutStateReason, updatedAt: now, failedTasks: 0, circuitBreaker };
    }
    return d.status === 'PRIMARY' && target ? { ...d, status: 'ACTIVE', updatedAt: now } : d;
  });
  if (!target) return { deployments: next, events };
  events.push(serviceMessages.rollingBack(serviceName, target.id));
  return { deployments: next, events, service: launchConfigurationOf(target), rolledBackTo: target.id };
}

export interface BreakerStep {
  readonly deployments: DeploymentRecord[];
  readonly events: string[];
  readonly service?: ServiceChange;
  readonly hold?: string;
}

/**
 * A pass's breaker step, the same for REPLICA and DAEMON services: new task outcomes folded into each
 * rollout in progress (the breaker watches nothing else, ECS's MONITORING), then the PRIMARY tripped
 * at the threshold that `taskCount` gives (desiredCount for a REPLICA service, the eligible instances
 * for a DAEMON one). Undefined without a PRIMARY deployment.
 */
export function circuitBreakerStep(
  service: { readonly serviceName: string; readonly status: string; readonly deploymentConfiguration: { readonly deploymentCircuitBreaker: DeploymentCircuitBreaker } },
  deployments: readonly DeploymentRecord[],
  tasks: readonly TaskRecord[],
  taskCount: number,
  now: number,
): BreakerStep | undefined {
  const breaker = service.deploymentConfiguration.deploymentCircuitBreaker;
  const folded = deployments.map((d) => {
    if (d.rolloutState !== 'IN_PROGRESS') return d;
    const circuitBreaker = foldOutcomes(d.circuitBreaker, d, tasks, breaker);
    return circuitBreaker === d.circuitBreaker ? d : { ...d, circuitBreaker, failedTasks: circuitBreaker.failedTasks };
  });
  const current = folded.find((d) => d.status === 'PRIMARY');
  if (!current) return undefined;
  if (service.status !== 'ACTIVE' || !breaker.enable || current.rolloutState !== 'IN_PROGRESS' ||
      current.circuitBreaker.failedTasks < failureThreshold(taskCount, breaker.thresholdConfiguration)) {
    return { deployments: folded, events: [] };
  }
  const failed = failDeployment(service.serviceName, folded, current.id, { rollback: breaker.rollback, cause: 'circuit-breaker' }, now);
  return {
    deployments: failed.deployments,
    events: failed.events,
    service: failed.service,
    hold: `circuit breaker tripped in stage ${breakerStage(tasks, current)} at ${current.circuitBreaker.failedTasks} failed tasks`,
  };
}

export type RollbackRefusal = 'NOT_IN_PROGRESS' | 'NO_COMPLETED_DEPLOYMENT';

/**
 * StopServiceDeployment with stopType ROLLBACK: the same as a trip with rollback, on request, whether
 * or not the breaker has rollback on. Refused (a value; the API maps it to its exception) when the
 * deployment is not the PRIMARY one IN_PROGRESS, or when no COMPLETED deployment exists to return to.
 */
export function requestRollback(
  serviceName: string,
  deployments: readonly DeploymentRecord[],
  deploymentId: string,
  now: number,
): FailedDeployment | { readonly refused: RollbackRefusal } {
  const d = deployments.find((x) => x.id === deploymentId);
  if (!d || d.status !== 'PRIMARY' || d.rolloutState !== 'IN_PROGRESS') return { refused: 'NOT_IN_PROGRESS' };
  if (!rollbackTarget(deployments, deploymentId)) return { refused: 'NO_COMPLETED_DEPLOYMENT' };
  return failDeployment(serviceName, deployments, deploymentId, { rollback: true, cause: 'request' }, now);
}
