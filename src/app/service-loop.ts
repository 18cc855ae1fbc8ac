/**
 * The service loop's port: who runs a service's scheduler passes, and when. One Step Functions
 * execution per service (lib/constructs/service-scheduler.ts), woken through
 * src/adapters/stepfunctions/service-loop.ts; locally the same definition runs under
 * aws-local-stepfunctions (src/local/service-loop-runner.ts). The stream processor wakes a service's
 * loop when something that matters to it changed (and its first wake-up starts the loop).
 */
import type { ContainerInstanceRecord } from '../domain/container-instance';
import type { TaskRecord } from '../domain/records';
import { isActive } from '../domain/task-lifecycle';

export interface ServiceLoop {
  /** Run a pass for the service soon (coalesced with passes already due or running); starts its loop if it has none. */
  wake(serviceArn: string): void | Promise<void>;
}

/** The ARN of the service a task belongs to (by its group `service:<name>`), if any. */
export function serviceOfTask(task: Pick<TaskRecord, 'group' | 'clusterArn'>): string | undefined {
  if (!task.group?.startsWith('service:')) return undefined;
  return `${task.clusterArn.replace(':cluster/', ':service/')}/${task.group.slice('service:'.length)}`;
}

/**
 * A change of a service's task that its scheduler must see: one that can move a decision of the
 * reconciler (src/domain/service-tasks.ts `conditionOf`): a new task, reaching or leaving RUNNING,
 * reaching STOPPED (or DELETED), the desired status, health. The steps in between
 * (PROVISIONING -> PENDING -> ACTIVATING, DEACTIVATING -> STOPPING -> DEPROVISIONING) leave the
 * task 'starting' or 'stopping', so they wake nothing: each wake is a loop of state transitions in
 * AWS, and a lifecycle now costs about three instead of one per step. The plan's own next look
 * (15 s while anything moves) still covers anything else.
 */
export function taskChangeMatters(before: TaskRecord | undefined, after: TaskRecord): boolean {
  if (!before) return true;
  const statusMatters =
    before.lastStatus !== after.lastStatus &&
    (before.lastStatus === 'RUNNING' || after.lastStatus === 'RUNNING' || isActive(before.lastStatus) !== isActive(after.lastStatus));
  return statusMatters || before.desiredStatus !== after.desiredStatus || before.healthStatus !== after.healthStatus;
}

/**
 * A change of a cluster's container instance that a DAEMON service's scheduler must see: one that can
 * move the daemon decision (src/domain/daemon-reconciler.ts): an instance registering, its status
 * (ACTIVE, DRAINING, INACTIVE when deregistered), its attributes (memberOf constraints), its agent
 * connecting or disconnecting. Capacity and task counts move on every task start and stop and wake
 * nothing (the daemon's own task changes wake it already); neither do agent polls. Fargate pool hosts
 * belong to no cluster.
 */
export function instanceChangeMatters(before: ContainerInstanceRecord | undefined, after: ContainerInstanceRecord): boolean {
  if (after.clusterArn === undefined) return false;
  if (!before) return true;
  return (
    before.status !== after.status ||
    before.agentConnected !== after.agentConnected ||
    JSON.stringify(before.attributes) !== JSON.stringify(after.attributes)
  );
}
