/**
 * Service throttle logic: when a service's tasks keep failing to reach RUNNING (PENDING straight to
 * STOPPED), the wait before the next launch attempt doubles up to 15 minutes. The scheduler never
 * gives up and changes nothing else; a new task definition ends the throttle at once.
 * Pure: `now` (epoch ms) is passed in. See docs/throttle.md for the curve.
 */

export const THROTTLE_BASE_DELAY_SECONDS = 10;
export const THROTTLE_MAX_DELAY_SECONDS = 900;

export interface ThrottleState {
  /** Launches in a row that never reached RUNNING, for the current task definition. */
  readonly consecutiveStartFailures: number;
  /** The task definition the counter belongs to. */
  readonly taskDefinitionArn: string;
  /** Epoch ms before which the scheduler should not launch; absent when not throttled. */
  readonly nextAttemptAt?: number;
}

export interface TaskOutcome {
  /** Whether the task ever reached RUNNING (a task that did and then stopped is not a start failure). */
  readonly reachedRunning: boolean;
  readonly taskDefinitionArn: string;
}

export function initialThrottleState(taskDefinitionArn: string): ThrottleState {
  return { consecutiveStartFailures: 0, taskDefinitionArn };
}

/**
 * Seconds to wait before the next launch after k start failures in a row: 0, then 10 x 2^(k-1),
 * capped at 900 (15 minutes).
 *
 *   k:      0   1   2   3   4    5    6    7    8+
 *   delay:  0  10  20  40  80  160  320  640  900
 */
export function throttleDelaySeconds(consecutiveStartFailures: number): number {
  if (consecutiveStartFailures <= 0) return 0;
  // 2^7 x 10 = 1280 > 900 already; stopping at the cap keeps the power small for any k.
  const doublings = Math.min(consecutiveStartFailures - 1, 7);
  return Math.min(THROTTLE_MAX_DELAY_SECONDS, THROTTLE_BASE_DELAY_SECONDS * 2 ** doublings);
}

/**
 * Folds one stopped task into the state.
 * - Failed to start (never RUNNING): one more failure; the next attempt waits throttleDelaySeconds.
 * - Reached RUNNING: the service has shown it can start tasks, so the counter resets to 0, whatever
 *   happened afterwards (health check failures, a command that exits at once never throttle).
 * - A task of another task definition (e.g. an old task finishing after an update): ignored, so it
 *   can neither throttle nor un-throttle the definition the service runs now.
 *
 *   recordTaskOutcome({ consecutiveStartFailures: 2, taskDefinitionArn: td }, { reachedRunning: false,
 *     taskDefinitionArn: td }, 1_000_000) -> { consecutiveStartFailures: 3, taskDefinitionArn: td,
 *     nextAttemptAt: 1_040_000 }
 */
export function recordTaskOutcome(state: ThrottleState, outcome: TaskOutcome, now: number): ThrottleState {
  if (outcome.taskDefinitionArn !== state.taskDefinitionArn) return state;
  if (outcome.reachedRunning) return initialThrottleState(state.taskDefinitionArn);
  const consecutiveStartFailures = state.consecutiveStartFailures + 1;
  return {
    consecutiveStartFailures,
    taskDefinitionArn: state.taskDefinitionArn,
    nextAttemptAt: now + throttleDelaySeconds(consecutiveStartFailures) * 1000,
  };
}

/**
 * The service moved to a task definition: a new one returns it to normal at once. The same one
 * again (e.g. forceNewDeployment) keeps the state, since the same tasks would fail the same way.
 */
export function resetForTaskDefinition(state: ThrottleState, newTaskDefinitionArn: string): ThrottleState {
  return newTaskDefinitionArn === state.taskDefinitionArn ? state : initialThrottleState(newTaskDefinitionArn);
}

/** Whether the scheduler must hold off launching at `now` (epoch ms). */
export function isThrottled(state: ThrottleState, now: number): boolean {
  return state.nextAttemptAt !== undefined && now < state.nextAttemptAt;
}

/** The service event message ECS emits when the throttle starts. */
export function throttleMessage(serviceName: string): string {
  return `(service ${serviceName}) is unable to consistently start tasks successfully.`;
}
