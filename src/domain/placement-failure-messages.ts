/**
 * The service event a service task that gave up waiting for a host leaves (seed 003: "with no Spot
 * capacity the service waits"): "(service web) was unable to place a task because no container
 * instance met all of its requirements. Reason: ... For more information, see the Troubleshooting
 * section." (ECS's text and form). Pure: from the service's tasks and its event log.
 *
 * A task gave up when it stopped with TaskFailedToStart before any host took it (the engine writes
 * "Capacity is unavailable at this time. ... (<reason>: <detail>)", src/app/task-engine.ts). Said once
 * per give-up: only tasks that stopped after the newest such message already in the log count, so a
 * pass that reads the same STOPPED task again adds nothing, and one message covers a burst.
 *
 *   task stopped 12:00:05 (MISSING: No ACTIVE container instance offers FARGATE_SPOT capacity.)
 *   -> "(service web) was unable to place a task because no container instance met all of its
 *       requirements. Reason: RESOURCE:FARGATE. For more information, see the Troubleshooting section."
 */
import type { TaskRecord } from './records';
import type { ServiceEvent } from './service-messages';
import { serviceMessages } from './service-messages';

const GAVE_UP = /^Capacity is unavailable at this time\..*\((RESOURCE:[A-Z]+|AGENT|MISSING|MemberOf|DistinctInstance): (.*)\)$/;

/** ECS's reason for a task that found no host: RESOURCE:FARGATE for Fargate, else what was short. */
export function placementReasonOf(task: Pick<TaskRecord, 'launchType' | 'stoppedReason'>): string | undefined {
  const match = GAVE_UP.exec(task.stoppedReason ?? '');
  if (!match) return undefined;
  return task.launchType === 'FARGATE' ? 'RESOURCE:FARGATE' : match[1];
}

const when = (t: TaskRecord) => t.stoppingAt ?? t.updatedAt ?? t.createdAt;

/** The message to append for tasks of the service that gave up since the log last said so, if any. */
export function placementFailureMessage(serviceName: string, tasks: readonly TaskRecord[], events: readonly ServiceEvent[]): string | undefined {
  const prefix = `(service ${serviceName}) was unable to place a task`;
  const since = events.find((e) => e.message.startsWith(prefix))?.createdAt ?? -Infinity;
  const gaveUp = tasks
    .filter((t) => t.stopCode === 'TaskFailedToStart' && when(t) > since && placementReasonOf(t) !== undefined)
    .sort((a, b) => when(b) - when(a));
  const newest = gaveUp[0];
  return newest && serviceMessages.unableToPlace(serviceName, `Reason: ${placementReasonOf(newest)}.`);
}
