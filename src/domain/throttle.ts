/**
 * Service throttle logic: when a service's tasks keep failing to reach RUNNING (PENDING straight to
 * STOPPED), the wait before the next launch attempt doubles up to 15 minutes. The scheduler never
 * gives up and changes nothing else; a new task definition ends the throttle at once.
 * Pure: `now` (epoch ms) is passed in. See docs/throttle.md for the curve.
 */

import type { TaskRecord } from './records';

export const THROTTLE_BASE_DELAY_SECONDS = 10;
/** Seed 004's cap (15 minutes). ECS's current guide says 27 minutes; Berth keeps the seed's figure. */
export const THROTTLE_MAX_DELAY_SECONDS = 900;

/** The curve's two numbers; fixed in ECS ("no user-adjustable parameters"), configurable here for tests. */
export interface ThrottleSettings {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = { baseSeconds: THROTTLE_BASE_DELAY_SECONDS, maxSeconds: THROTTLE_MAX_DELAY_SECONDS };

export interface ThrottleState {
  /** Launches in a row that never reached RUNNING, for the current task definition. */
  readonly consecutiveStartFailures: number;
  /** The task definition the counter belongs to. */
  readonly taskDefinitionArn: string;
  /** Epoch ms before which the scheduler should not launch; absent when not throttled. */
  readonly nextAttemptAt?: number;
  /**
   * The newest task outcome already folded in (time, task ARNs at exactly that time), so folding the
   * same tasks again counts nothing twice (foldThrottle). Absent: nothing folded yet.
   */
  readonly countedThrough?: { readonly at: number; readonly taskArns: readonly string[] };
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
export function throttleDelaySeconds(consecutiveStartFailures: number, settings: ThrottleSettings = DEFAULT_THROTTLE): number {
  if (consecutiveStartFailures <= 0) return 0;
  // Stopping the power once it passes the cap keeps it small for any k (2^7 x 10 = 1280 > 900).
  const doublings = Math.min(consecutiveStartFailures - 1, Math.max(0, Math.ceil(Math.log2(settings.maxSeconds / settings.baseSeconds))));
  return Math.min(settings.maxSeconds, settings.baseSeconds * 2 ** doublings);
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
export function recordTaskOutcome(state: ThrottleState, outcome: TaskOutcome, now: number, settings: ThrottleSettings = DEFAULT_THROTTLE): ThrottleState {
  if (outcome.taskDefinitionArn !== state.taskDefinitionArn) return state;
  const { countedThrough } = state;
  if (outcome.reachedRunning) return { ...initialThrottleState(state.taskDefinitionArn), ...(countedThrough ? { countedThrough } : {}) };
  const consecutiveStartFailures = state.consecutiveStartFailures + 1;
  return {
    consecutiveStartFailures,
    taskDefinitionArn: state.taskDefinitionArn,
    nextAttemptAt: now + throttleDelaySeconds(consecutiveStartFailures, settings) * 1000,
    ...(countedThrough ? { countedThrough } : {}),
  };
}

/**
 * When a task failed to start, or undefined if it did not: it never reached RUNNING and stopped with
 * TaskFailedToStart (what the agent and the engine write for a task that went PENDING -> STOPPED; a
 * user's StopTask and the scheduler's own stops have other codes). It counts as soon as its containers
 * are gone (executionStoppedAt), before the engine has walked it to STOPPED: the scheduler replaces a
 * task from the moment it is told to stop, and the throttle must hold that very replacement. The time
 * is executionStoppedAt, which later steps keep, so the watermark sees one time per task.
 */
export function startFailureTime(t: TaskRecord): number | undefined {
  if (t.startedAt !== undefined || t.desiredStatus !== 'STOPPED' || t.stopCode !== 'TaskFailedToStart') return undefined;
  const gone = t.lastStatus === 'STOPPED' || t.lastStatus === 'DELETED' || t.executionStoppedAt !== undefined;
  return gone ? t.executionStoppedAt ?? t.stoppedAt ?? t.createdAt : undefined;
}

export interface ThrottleFold {
  readonly state: ThrottleState;
  /** Start failures folded in by this call (each pushes the next launch back). */
  readonly newFailures: number;
}

/**
 * Folds a service's tasks into its throttle state, idempotently, for the task definition the service
 * runs now (`taskDefinitionArn`, its PRIMARY deployment's):
 * - a different task definition than the state's clears the throttle at once, and only outcomes after
 *   `now` count from then on (an older definition's failures, still retained, never come back);
 * - a start failure is a task that stopped without ever reaching RUNNING, with TaskFailedToStart
 *   (`startFailureTime`); the next launch waits from that time;
 * - a task that reached RUNNING (timed at startedAt) resets the count, whatever happened afterwards;
 * - outcomes at or before the watermark were folded already; the rest are folded oldest first.
 *
 *   3 tasks stopped before RUNNING at t1 < t2 < t3 (base 10 s)  -> k 3, nextAttemptAt t3 + 40 s
 *   the same tasks again                                        -> unchanged (newFailures 0)
 *   then a task RUNNING at t4                                   -> k 0, not throttled
 */
export function foldThrottle(
  previous: ThrottleState | undefined,
  taskDefinitionArn: string,
  tasks: readonly TaskRecord[],
  now: number,
  settings: ThrottleSettings = DEFAULT_THROTTLE,
): ThrottleFold {
  const state: ThrottleState = previous && previous.taskDefinitionArn === taskDefinitionArn
    ? previous
    : { ...initialThrottleState(taskDefinitionArn), countedThrough: { at: previous ? now : 0, taskArns: [] } };
  const seen = state.countedThrough ?? { at: 0, taskArns: [] };
  const outcomes: { at: number; taskArn: string; reachedRunning: boolean }[] = [];
  for (const t of tasks) {
    if (t.taskDefinitionArn !== taskDefinitionArn) continue;
    const failedAt = startFailureTime(t);
    if (failedAt !== undefined) outcomes.push({ at: failedAt, taskArn: t.taskArn, reachedRunning: false });
    else if (t.startedAt !== undefined) outcomes.push({ at: t.startedAt, taskArn: t.taskArn, reachedRunning: true });
  }
  const fresh = outcomes
    .filter((o) => o.at > seen.at || (o.at === seen.at && !seen.taskArns.includes(o.taskArn)))
    .sort((a, b) => a.at - b.at || Number(b.reachedRunning) - Number(a.reachedRunning) || a.taskArn.localeCompare(b.taskArn));
  if (fresh.length === 0) return { state, newFailures: 0 };
  let next = state;
  for (const o of fresh) next = recordTaskOutcome(next, { reachedRunning: o.reachedRunning, taskDefinitionArn }, o.at, settings);
  const newestAt = fresh[fresh.length - 1]!.at;
  const atNewest = fresh.filter((o) => o.at === newestAt).map((o) => o.taskArn);
  const taskArns = newestAt === seen.at ? [...seen.taskArns, ...atNewest] : atNewest;
  return { state: { ...next, countedThrough: { at: newestAt, taskArns } }, newFailures: fresh.filter((o) => !o.reachedRunning).length };
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
