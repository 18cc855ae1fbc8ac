/**
 * The control plane's half of the task lifecycle: given a task as it is now, the next step the
 * engine takes (the agent's half, PENDING -> ACTIVATING -> RUNNING and "containers stopped", arrives
 * through SubmitTaskStateChange). Pure: the caller writes the result conditionally on the version it
 * read, so a replayed or stale stream record changes nothing twice.
 *
 *   PROVISIONING --------------------------------> PENDING        (network attachment ready; a task
 *                                                                   without a host takes one in the
 *                                                                   same write when one has room)
 *   PENDING without a host ----------------------> place          (reserve cpu/memory on a host)
 *   desired STOPPED, nothing started ------------> STOPPED        (from PROVISIONING or PENDING)
 *   desired STOPPED, ACTIVATING or RUNNING ------> DEACTIVATING   (load balancer targets would go here)
 *   DEACTIVATING --------------------------------> STOPPING       (the agent now signals the containers)
 *   STOPPING once the agent reported the exit ---> DEPROVISIONING
 *   DEPROVISIONING ------------------------------> STOPPED        (release the host's capacity)
 */
import type { TaskRecord } from './records';
import { isLegalTransition, type TaskStatus } from './task-lifecycle';
import { stampTask, type StampedTask } from './update-time';

export type EngineStep =
  | {
      readonly kind: 'advance';
      readonly task: StampedTask;
      readonly releaseCapacity: boolean;
      /**
       * The step may also place the task (PROVISIONING -> PENDING without a host): one write instead
       * of PENDING, then a placement. Without room the step is written alone and the task waits.
       */
      readonly placeAlong?: boolean;
    }
  | { readonly kind: 'place' };

export function decideEngineStep(task: TaskRecord, now: number, stoppedRetentionMs: number): EngineStep | undefined {
  const stopping = task.desiredStatus === 'STOPPED';
  switch (task.lastStatus) {
    case 'PROVISIONING':
      if (stopping) return stop(task, now, stoppedRetentionMs);
      return { ...advance(task, 'PENDING', now, attachmentsReady(task)), ...(task.reservation ? {} : { placeAlong: true }) };
    case 'PENDING':
      if (stopping) return stop(task, now, stoppedRetentionMs);
      return task.reservation ? undefined : { kind: 'place' };
    case 'ACTIVATING':
    case 'RUNNING':
      return stopping ? advance(task, 'DEACTIVATING', now, {}) : undefined;
    case 'DEACTIVATING':
      return advance(task, 'STOPPING', now, { stoppingAt: task.stoppingAt ?? now });
    case 'STOPPING':
      return task.executionStoppedAt !== undefined ? advance(task, 'DEPROVISIONING', now, detachAttachments(task)) : undefined;
    case 'DEPROVISIONING':
      return stop(task, now, stoppedRetentionMs);
    default:
      return undefined;
  }
}

function advance(task: TaskRecord, to: TaskStatus, now: number, changes: Partial<TaskRecord>, releaseCapacity = false): EngineStep {
  if (!isLegalTransition(task.lastStatus, to)) throw new Error(`illegal task transition ${task.lastStatus} -> ${to}`);
  const next = stampTask(task, { ...task, ...changes, lastStatus: to, version: task.version + 1 }, now);
  return { kind: 'advance', task: next, releaseCapacity };
}

/** The last step: STOPPED, containers STOPPED, capacity released, describable until the retention ends. */
function stop(task: TaskRecord, now: number, stoppedRetentionMs: number): EngineStep {
  return advance(
    task,
    'STOPPED',
    now,
    {
      stoppedAt: now,
      executionStoppedAt: task.executionStoppedAt ?? now,
      stoppingAt: task.stoppingAt ?? now,
      stopCode: task.stopCode ?? 'TaskFailedToStart',
      stoppedReason: task.stoppedReason ?? 'Task stopped before it started.',
      containers: task.containers.map((c) => ({ ...c, lastStatus: 'STOPPED' })),
      connectivity: undefined,
      expiresAt: now + stoppedRetentionMs,
      ...detachAttachments(task),
    },
    task.reservation !== undefined,
  );
}

type Attachment = { status?: string; [member: string]: unknown };

function attachmentsReady(task: TaskRecord): Partial<TaskRecord> {
  return { attachments: (task.attachments as Attachment[]).map((a) => ({ ...a, status: 'ATTACHED' })) };
}

function detachAttachments(task: TaskRecord): Partial<TaskRecord> {
  return { attachments: (task.attachments as Attachment[]).map((a) => ({ ...a, status: 'DELETED' })) };
}

/**
 * DescribeTasks shows a STOPPED task whose retention has passed as DELETED until DynamoDB's TTL
 * removes it (TTL deletes lazily, within about two days); lists never show it.
 */
export function visibleStatus(task: Pick<TaskRecord, 'lastStatus' | 'expiresAt'>, now: number): TaskStatus {
  return task.lastStatus === 'STOPPED' && task.expiresAt !== undefined && now >= task.expiresAt ? 'DELETED' : task.lastStatus;
}
