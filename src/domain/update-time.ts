/**
 * When a record was written. Every write of a task stamps `updatedAt` (epoch ms) in the record it
 * commits, and events take their `time` and `detail.updatedAt` from it, so consumers can order and
 * deduplicate by it. Pure: the writer passes its clock's `now`, the same one it used for any
 * timestamp it sets in that write (startedAt, stoppedAt, ...).
 */
import type { TaskRecord } from './records';

/** A task as it is written: with the time of this write. */
export type StampedTask = TaskRecord & { updatedAt: number };

/** The lifecycle times a record carries; its updatedAt is never earlier than any of them. */
const TASK_TIMES = [
  'createdAt',
  'connectivityAt',
  'pullStartedAt',
  'pullStoppedAt',
  'startedAt',
  'stoppingAt',
  'executionStoppedAt',
  'stoppedAt',
] as const satisfies readonly (keyof TaskRecord)[];

/**
 * The time of a write: the writer's `now`, but strictly after the version it replaces (clocks of
 * different writers may disagree, and a retried write may carry a `now` taken before a competing
 * write landed) and never before a time the record itself states (an agent's clock may run ahead).
 * So along one task's versions `updatedAt` strictly increases.
 */
export function updateTime(previous: Pick<TaskRecord, 'updatedAt'> | undefined, next: TaskRecord, now: number): number {
  let time = now;
  if (previous?.updatedAt !== undefined) time = Math.max(time, previous.updatedAt + 1);
  for (const member of TASK_TIMES) {
    const value = next[member];
    if (value !== undefined && Number.isFinite(value)) time = Math.max(time, value);
  }
  return time;
}

/** `next` as the write from `previous` commits it. */
export function stampTask(previous: TaskRecord | undefined, next: TaskRecord, now: number): StampedTask {
  return { ...next, updatedAt: updateTime(previous, next, now) };
}
