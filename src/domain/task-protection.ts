/**
 * Task scale-in protection (ECS UpdateTaskProtection / GetTaskProtection): a service task can be
 * protected for 1..2880 minutes (default 120); until it expires the scheduler never chooses it for a
 * scale-in or a deployment stop. Failing its health checks and deleting the service still stop it
 * (those are not scale-in events). Pure: `now` is passed in; the expiry is kept on the task
 * (`protectionExpiresAt`), so expiring needs no write.
 *
 *   protect(now, 5)   -> { protectionExpiresAt: now + 300_000 }
 *   isProtected({ protectionExpiresAt: now + 1 }, now) === true; at now + 1 it is false
 */
import { InvalidParameterException } from './errors';
import type { TaskRecord } from './records';
import { isActive } from './task-lifecycle';

export const DEFAULT_PROTECTION_MINUTES = 120;
export const MAX_PROTECTION_MINUTES = 2880;
/** ECS: "A list of up to 10 task IDs" (UpdateTaskProtection), "up to 100" (GetTaskProtection). */
export const MAX_UPDATE_PROTECTION_TASKS = 10;
export const MAX_GET_PROTECTION_TASKS = 100;

export function isProtected(task: Pick<TaskRecord, 'protectionExpiresAt'>, now: number): boolean {
  return task.protectionExpiresAt !== undefined && now < task.protectionExpiresAt;
}

/** The expiry an UpdateTaskProtection sets (undefined: protection off); bad minutes are refused. */
export function protectionExpiry(protectionEnabled: boolean, expiresInMinutes: number | undefined, now: number): number | undefined {
  if (!protectionEnabled) return undefined;
  const minutes = expiresInMinutes ?? DEFAULT_PROTECTION_MINUTES;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_PROTECTION_MINUTES) {
    throw new InvalidParameterException(`expiresInMinutes must be between 1 and ${MAX_PROTECTION_MINUTES} minutes.`);
  }
  return now + minutes * 60_000;
}

/**
 * Why a task cannot be protected, as an ECS failure reason, or undefined when it can. ECS: "This
 * operation is only supported for tasks belonging to an Amazon ECS service. Invoking this operation
 * for a standalone task will result in an TASK_NOT_VALID failure." A task already stopped or stopping
 * is answered the same (Berth's choice; nothing is left to protect).
 */
export function protectionRefusal(task: TaskRecord): { reason: 'TASK_NOT_VALID'; detail: string } | undefined {
  if (!isServiceTask(task)) {
    return { reason: 'TASK_NOT_VALID', detail: 'The task is not part of an Amazon ECS service; only service tasks can be protected.' };
  }
  if (!isActive(task.lastStatus) || task.desiredStatus === 'STOPPED') {
    return { reason: 'TASK_NOT_VALID', detail: 'The task is stopped or stopping.' };
  }
  return undefined;
}

/** A task a service started (group service:<name>, startedBy its deployment): the only kind ECS protects. */
export function isServiceTask(task: Pick<TaskRecord, 'group' | 'startedBy'>): boolean {
  return task.group.startsWith('service:') && task.startedBy !== undefined;
}

/** ProtectedTask (the ECS shape): an expired protection reads as protectionEnabled false. */
export function protectedTaskView(task: TaskRecord, now: number) {
  return isProtected(task, now)
    ? { taskArn: task.taskArn, protectionEnabled: true, expirationDate: task.protectionExpiresAt }
    : { taskArn: task.taskArn, protectionEnabled: false };
}
