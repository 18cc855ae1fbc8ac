/**
 * Rolling-deployment bounds, as small pure functions. All inputs are non-negative integers (counts and
 * percentages are validated at the API edge). Percentages are applied in integer arithmetic
 * (desired * percent, then divide by 100 with an explicit remainder), so 75% of 2 is exactly 1.5 and
 * rounds up to 2, never 1.5000000000000002 or 1.4999999999999998.
 */

export type SchedulingStrategy = 'REPLICA' | 'DAEMON';

export interface RollingBounds {
  minimumHealthyPercent: number;
  maximumPercent: number;
}

/** ceil(n / 100) and floor(n / 100) for a non-negative integer n, without float rounding. */
const ceilDiv100 = (n: number) => Math.floor(n / 100) + (n % 100 === 0 ? 0 : 1);
const floorDiv100 = (n: number) => (n - (n % 100)) / 100;

/**
 * The fewest tasks that must stay RUNNING and healthy during a deployment: desired x min%, rounded up.
 *
 *   minimumHealthyTasks(4, 50)  === 2   -> the scheduler may stop 2 old tasks before starting new ones
 *   minimumHealthyTasks(2, 75)  === 2   -> 1.5 rounds up: it may stop none
 *   minimumHealthyTasks(4, 100) === 4
 *   minimumHealthyTasks(4, 0)   === 0
 */
export function minimumHealthyTasks(desiredCount: number, minimumHealthyPercent: number): number {
  return ceilDiv100(desiredCount * minimumHealthyPercent);
}

/**
 * The most tasks that may be RUNNING or PENDING during a deployment: desired x max%, rounded down.
 *
 *   maximumTasks(4, 200) === 8   -> the scheduler may start 4 new tasks before stopping old ones
 *   maximumTasks(3, 125) === 3   -> 3.75 rounds down: it may start none
 *   maximumTasks(3, 150) === 4
 */
export function maximumTasks(desiredCount: number, maximumPercent: number): number {
  return floorDiv100(desiredCount * maximumPercent);
}

/**
 * Whether a deployment can make progress: the scheduler must be allowed to stop at least one task
 * (desired - minimumHealthy >= 1) or to start at least one (maximum - desired >= 1). Otherwise the
 * service reports that it cannot stop or start tasks because of its deployment configuration.
 * A service with no desired tasks has nothing to replace, so it always proceeds.
 *
 *   canDeploymentProceed(2, 100, 100) === false  (may stop 0, may start 0)
 *   canDeploymentProceed(2, 50, 100)  === true   (may stop 1)
 *   canDeploymentProceed(3, 100, 125) === false  (125% of 3 rounds down to 3)
 *   canDeploymentProceed(0, 100, 100) === true
 */
export function canDeploymentProceed(
  desiredCount: number,
  minimumHealthyPercent: number,
  maximumPercent: number,
): boolean {
  if (desiredCount === 0) return true;
  const mayStop = desiredCount - minimumHealthyTasks(desiredCount, minimumHealthyPercent);
  const mayStart = maximumTasks(desiredCount, maximumPercent) - desiredCount;
  return mayStop >= 1 || mayStart >= 1;
}

/**
 * ECS's defaults when a service sets no deploymentConfiguration: REPLICA keeps every task while it
 * doubles (100% / 200%); DAEMON cannot place a second task on an instance, so it stops first (0% / 100%).
 */
export function defaultDeploymentConfiguration(schedulingStrategy: SchedulingStrategy): RollingBounds {
  return schedulingStrategy === 'DAEMON'
    ? { minimumHealthyPercent: 0, maximumPercent: 100 }
    : { minimumHealthyPercent: 100, maximumPercent: 200 };
}

// The circuit breaker's threshold (ECS's current [3, 200] clamp) lives in circuit-breaker.ts.
