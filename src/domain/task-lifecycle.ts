/**
 * The ECS task lifecycle as data: statuses, legal transitions, the next step towards desiredStatus,
 * and stop requests. Pure: no clock, no randomness, no I/O.
 *
 * A change is requested by setting desiredStatus (StopTask, a service scale-down, a failed start);
 * lastStatus then follows one legal step at a time, each step being one conditional write.
 *
 * Start path:  PROVISIONING -> PENDING -> ACTIVATING -> RUNNING
 * Stop path:   RUNNING -> DEACTIVATING -> STOPPING -> DEPROVISIONING -> STOPPED
 * Early stops: PROVISIONING -> STOPPED, PENDING -> STOPPED (no container has started and no load
 *              balancer target is registered, so there is nothing to deactivate or signal; any network
 *              interface is released inline), ACTIVATING -> DEACTIVATING (containers and targets may
 *              already exist, so the full stop path runs).
 * Retention:   STOPPED -> DELETED (after the stopped task has been describable for a while).
 *
 * Berth walks every intermediate status, even where a step has no work to do (e.g. DEACTIVATING
 * without a load balancer): events then always show the same sequence, and no step's work is skipped
 * by accident. Nothing ever moves backwards and no status transitions to itself.
 */

export const TASK_STATUSES = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
  'DELETED',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** ECS's DesiredStatus enum also has PENDING; Berth never sets it. */
export type DesiredStatus = 'RUNNING' | 'STOPPED';

/** The TaskStopCode enum of the ECS API model, in model order. */
export const STOP_CODES = [
  'TaskFailedToStart',
  'EssentialContainerExited',
  'UserInitiated',
  'ServiceSchedulerInitiated',
  'SpotInterruption',
  'TerminationNotice',
  'InfrastructureHealth',
] as const;
export type StopCode = (typeof STOP_CODES)[number];

/** Every legal edge; everything else (backwards, self, other skips) is illegal. */
const LEGAL: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  PROVISIONING: ['PENDING', 'STOPPED'],
  PENDING: ['ACTIVATING', 'STOPPED'],
  ACTIVATING: ['RUNNING', 'DEACTIVATING'],
  RUNNING: ['DEACTIVATING'],
  DEACTIVATING: ['STOPPING'],
  STOPPING: ['DEPROVISIONING'],
  DEPROVISIONING: ['STOPPED'],
  STOPPED: ['DELETED'],
  DELETED: [],
};

export function isLegalTransition(from: TaskStatus, to: TaskStatus): boolean {
  return LEGAL[from].includes(to);
}

/** Position in the lifecycle: 0 (PROVISIONING) .. 8 (DELETED). Legal transitions always increase it. */
export function statusOrder(s: TaskStatus): number {
  return TASK_STATUSES.indexOf(s);
}

/**
 * The next lastStatus on the way to desiredStatus, or undefined when the task is where it should be.
 *
 *   nextStatus('PENDING', 'RUNNING')      === 'ACTIVATING'
 *   nextStatus('RUNNING', 'RUNNING')      === undefined
 *   nextStatus('RUNNING', 'STOPPED')      === 'DEACTIVATING'
 *   nextStatus('PENDING', 'STOPPED')      === 'STOPPED'       (stopped before it started)
 *   nextStatus('ACTIVATING', 'STOPPED')   === 'DEACTIVATING'
 *   nextStatus('STOPPING', 'RUNNING')     === 'DEPROVISIONING' (never backwards: a stop in progress finishes)
 *   nextStatus('STOPPED', 'STOPPED')      === undefined
 *
 * STOPPED -> DELETED is not a step towards a desired status but a retention decision taken by time
 * (stopped tasks stay describable for about an hour), so it is left to the caller that owns the clock.
 */
export function nextStatus(last: TaskStatus, desired: DesiredStatus): TaskStatus | undefined {
  switch (last) {
    case 'PROVISIONING':
      return desired === 'RUNNING' ? 'PENDING' : 'STOPPED';
    case 'PENDING':
      return desired === 'RUNNING' ? 'ACTIVATING' : 'STOPPED';
    case 'ACTIVATING':
      return desired === 'RUNNING' ? 'RUNNING' : 'DEACTIVATING';
    case 'RUNNING':
      return desired === 'RUNNING' ? undefined : 'DEACTIVATING';
    case 'DEACTIVATING':
      return 'STOPPING';
    case 'STOPPING':
      return 'DEPROVISIONING';
    case 'DEPROVISIONING':
      return 'STOPPED';
    case 'STOPPED':
    case 'DELETED':
      return undefined;
  }
}

/** A task still holding (or about to hold) resources: anything but STOPPED and DELETED. */
export function isActive(s: TaskStatus): boolean {
  return s !== 'STOPPED' && s !== 'DELETED';
}

/**
 * The cluster counter (pendingTasksCount / runningTasksCount) a task in this status counts toward.
 * Everything before RUNNING is pending. A stopping task still counts as running until it is STOPPED:
 * it still occupies its resources, and the counters then always sum to the active tasks, so a task
 * never drops out of both counters while it is being torn down.
 */
export function taskCountBucket(s: TaskStatus): 'pending' | 'running' | undefined {
  switch (s) {
    case 'PROVISIONING':
    case 'PENDING':
    case 'ACTIVATING':
      return 'pending';
    case 'RUNNING':
    case 'DEACTIVATING':
    case 'STOPPING':
    case 'DEPROVISIONING':
      return 'running';
    case 'STOPPED':
    case 'DELETED':
      return undefined;
  }
}

export interface StopRequestTarget {
  lastStatus: TaskStatus;
  desiredStatus: DesiredStatus;
  stopCode?: StopCode;
  stoppedReason?: string;
}

export interface StopRequestResult {
  desiredStatus: 'STOPPED';
  stopCode: StopCode;
  stoppedReason: string;
  /** False when the task was already stopping or stopped and nothing needs writing. */
  changed: boolean;
}

/**
 * Applies a stop request. The first stop wins: a task already stopping (desiredStatus STOPPED) or
 * already stopped keeps its stopCode and stoppedReason, as ECS keeps them for a repeated StopTask.
 * Only a field the first stop left empty is filled in.
 *
 *   requestStop({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' }, 'UserInitiated', 'bye')
 *     -> { desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'bye', changed: true }
 *   requestStop({ lastStatus: 'STOPPING', desiredStatus: 'STOPPED', stopCode: 'SpotInterruption',
 *                 stoppedReason: 'Your Spot Task was interrupted.' }, 'UserInitiated', 'bye')
 *     -> { desiredStatus: 'STOPPED', stopCode: 'SpotInterruption',
 *          stoppedReason: 'Your Spot Task was interrupted.', changed: false }
 */
export function requestStop(
  task: StopRequestTarget,
  stopCode: StopCode,
  reason: string,
): StopRequestResult {
  const alreadyStopping = task.desiredStatus === 'STOPPED' || !isActive(task.lastStatus);
  if (!alreadyStopping) return { desiredStatus: 'STOPPED', stopCode, stoppedReason: reason, changed: true };
  const result = {
    desiredStatus: 'STOPPED' as const,
    stopCode: task.stopCode ?? stopCode,
    stoppedReason: task.stoppedReason ?? reason,
  };
  const changed =
    task.desiredStatus !== 'STOPPED' ||
    result.stopCode !== task.stopCode ||
    result.stoppedReason !== task.stoppedReason;
  return { ...result, changed };
}
