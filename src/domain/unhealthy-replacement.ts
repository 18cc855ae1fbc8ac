/**
 * Unhealthy-task replacement for REPLICA services, sentence by sentence as seed 001 writes it (ECS
 * "Amazon ECS services", service scheduler):
 *
 *   R1 start a replacement first if maximumPercent allows            -> the reconciler's starts (need > 0)
 *   R2 replacement HEALTHY   -> stop the unhealthy task              -> `unhealthyStops`: surplus, H >= D
 *   R3 replacement UNHEALTHY -> stop the unhealthy replacement or the unhealthy original, at random,
 *                               so the total equals desiredCount    -> `unhealthyStops`: surplus, H < D
 *   R4 maximumPercent forbids starting first -> stop one unhealthy task at random (one at a time: not
 *      while a stop already frees room), then start the replacement  -> `unhealthyStops`: no room
 *   R5 repeat until every unhealthy task is replaced                 -> every pass applies R1..R4
 *   R6 then, with only healthy tasks left, if the total exceeds desiredCount stop healthy tasks at
 *      random until it equals desiredCount                          -> `surplusHealthy`
 *   R7 during a rolling deployment: stop unhealthy tasks first, then start replacements
 *
 * A replacement is not bound to one original: with H healthy tasks, D - H slots are still to fill, so
 * at most D - H unhealthy tasks are kept while replacements start (R1); any unhealthy task beyond that
 * is surplus, whichever was first (R2 when the replacements made H reach D, R3 when they came back
 * UNHEALTHY). Worked example, D 4, 100% / 200%, random() = 0:
 *
 *   3 HEALTHY, u1 UNHEALTHY                   -> start 1 (R1)              slots 1, unhealthy 1: keep
 *   3 HEALTHY, u1, r1 UNHEALTHY               -> stop u1 or r1 at random, start 1 (R3, R1)
 *   3 HEALTHY + r2 HEALTHY, u1 UNHEALTHY      -> stop u1 (R2)              slots 0
 *
 * Pure: the random choices take the injected source (values in [0, 1)), over tasks sorted by ARN so
 * the choice depends on the source only, never on the order tasks were read in.
 */
import type { ServiceTask } from './service-tasks';

export interface UnhealthyStop {
  readonly task: ServiceTask;
  readonly why: string;
}

export interface UnhealthySituation {
  /** Unhealthy tasks of the PRIMARY deployment (condition 'unhealthy'). */
  readonly unhealthy: readonly ServiceTask[];
  /** HEALTHY (available) tasks of the PRIMARY deployment still kept by this pass. */
  readonly healthy: number;
  readonly desiredCount: number;
  /** The PRIMARY deployment is rolling out (IN_PROGRESS). */
  readonly rolling: boolean;
  /** Tasks holding resources (starting, available, unhealthy, stopping), against the ceiling. */
  readonly occupied: number;
  readonly ceiling: number;
  /** Some task of the service is already stopping: room is being freed. */
  readonly stopInFlight: boolean;
}

const byArn = (a: ServiceTask, b: ServiceTask) => a.task.taskArn.localeCompare(b.task.taskArn);

/** `count` distinct tasks drawn at random (one draw each) from `tasks`, in the order drawn. */
export function pickAtRandom(tasks: readonly ServiceTask[], count: number, random: () => number): ServiceTask[] {
  const pool = [...tasks].sort(byArn);
  const picked: ServiceTask[] = [];
  while (picked.length < count && pool.length > 0) {
    const i = Math.min(pool.length - 1, Math.floor(random() * pool.length));
    picked.push(pool.splice(i, 1)[0]!);
  }
  return picked;
}

/** Which unhealthy tasks this pass stops, and the sentence of the seed that stops each. */
export function unhealthyStops(s: UnhealthySituation, random: () => number): UnhealthyStop[] {
  if (s.unhealthy.length === 0) return [];
  if (s.rolling) {
    return [...s.unhealthy].sort(byArn).map((task) => ({ task, why: 'during a rolling update unhealthy tasks stop first, then replacements start' }));
  }
  const slots = Math.max(0, s.desiredCount - s.healthy);
  const surplus = s.unhealthy.length - slots;
  if (surplus > 0) {
    const why = s.healthy >= s.desiredCount
      ? `its replacement is HEALTHY: ${s.healthy} healthy tasks for desiredCount ${s.desiredCount}`
      : `its replacement is UNHEALTHY too: the unhealthy replacement or the unhealthy original stops at random so the total equals desiredCount ${s.desiredCount}`;
    return pickAtRandom(s.unhealthy, surplus, random).map((task) => ({ task, why }));
  }
  if (s.occupied >= s.ceiling && !s.stopInFlight) {
    return pickAtRandom(s.unhealthy, 1, random).map((task) => ({
      task, why: `no room under maximumPercent (${s.ceiling} tasks) to start its replacement first: one unhealthy task stops at random`,
    }));
  }
  return [];
}

/**
 * R6: once every unhealthy task is replaced and only healthy tasks remain, the healthy tasks above
 * desiredCount stop at random. Undefined when R6 does not apply (then ordinary scale-in decides).
 * `replacing` says the deployment has been replacing unhealthy tasks (kept on its record between
 * passes), so a surplus left by a task that turned HEALTHY again after its replacement started is
 * told apart from a user's scale-in (which keeps the zones balanced: scaleInOrder).
 */
export function surplusHealthy(
  replacing: boolean,
  primaryKept: readonly ServiceTask[],
  eligible: readonly ServiceTask[],
  desiredCount: number,
  random: () => number,
): ServiceTask[] | undefined {
  if (!replacing || primaryKept.length <= desiredCount) return undefined;
  if (!primaryKept.every((t) => t.condition === 'available')) return undefined;
  // `eligible`: the kept tasks the scheduler may stop (not scale-in protected).
  return pickAtRandom(eligible, primaryKept.length - desiredCount, random);
}
