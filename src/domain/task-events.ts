/**
 * The EventBridge events ECS emits for tasks and container instances, built from Berth's records.
 * Pure. Event ids are derived from the resource ARN and its version (event-envelope.ts), so the same
 * committed change always yields the same id.
 */
import type { ContainerInstanceRecord, ResourceAmounts } from './container-instance';
import { resourceList } from './container-instance';
import type { TaskRecord } from './records';
import { updateTime } from './update-time';
import { envelope, iso, type EcsEvent, type EventEnvelopeContext } from './event-envelope';

// The envelope moved to event-envelope.ts (service events share it); these names stay importable here.
export { DEFAULT_EVENT_SOURCE, eventId, type EcsEvent, type EventEnvelopeContext } from './event-envelope';

export const TASK_STATE_CHANGE = 'ECS Task State Change';
export const CONTAINER_INSTANCE_STATE_CHANGE = 'ECS Container Instance State Change';

/** ECS sends a task event when lastStatus or desiredStatus changes (and when the task is created). */
export function taskStatusChanged(before: TaskRecord | undefined, after: TaskRecord): boolean {
  return !before || before.lastStatus !== after.lastStatus || before.desiredStatus !== after.desiredStatus;
}

/**
 * `time` and `detail.updatedAt` are the record's own `updatedAt`, stamped by the write that committed
 * it (so they are never earlier than startedAt, stoppedAt, ... of the same event, and grow with the
 * version). `unstampedTime` serves only a record written before Berth stamped `updatedAt`.
 */
export function taskStateChangeEvent(task: TaskRecord, context: EventEnvelopeContext, unstampedTime: number): EcsEvent {
  const updatedAt = task.updatedAt ?? updateTime(undefined, task, unstampedTime);
  const detail: Record<string, unknown> = {
    attachments: task.attachments,
    attributes: task.attributes ?? [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    availabilityZone: task.availabilityZone,
    capacityProviderName: task.capacityProviderName,
    clusterArn: task.clusterArn,
    connectivity: task.connectivity,
    connectivityAt: iso(task.connectivityAt),
    containerInstanceArn: task.launchType === 'FARGATE' ? undefined : task.containerInstanceArn,
    containers: task.containers.map((c) => ({
      containerArn: c.containerArn,
      exitCode: c.exitCode,
      lastStatus: c.lastStatus,
      name: c.name,
      image: c.image,
      imageDigest: c.imageDigest,
      runtimeId: c.runtimeId,
      taskArn: c.taskArn,
      networkInterfaces: c.networkInterfaces,
      cpu: c.cpu,
      memory: c.memory,
      reason: c.reason,
      healthStatus: c.healthStatus,
    })),
    cpu: task.cpu,
    createdAt: iso(task.createdAt),
    desiredStatus: task.desiredStatus,
    enableExecuteCommand: task.enableExecuteCommand,
    ephemeralStorage: task.ephemeralStorage,
    executionStoppedAt: iso(task.executionStoppedAt),
    group: task.group,
    healthStatus: task.healthStatus,
    launchType: task.launchType,
    lastStatus: task.lastStatus,
    memory: task.memory,
    overrides: task.overrides,
    platformVersion: task.platformVersion,
    pullStartedAt: iso(task.pullStartedAt),
    pullStoppedAt: iso(task.pullStoppedAt),
    startedAt: iso(task.startedAt),
    startedBy: task.startedBy,
    stoppingAt: iso(task.stoppingAt),
    stoppedAt: iso(task.stoppedAt),
    stoppedReason: task.stoppedReason,
    stopCode: task.stopCode,
    taskArn: task.taskArn,
    taskDefinitionArn: task.taskDefinitionArn,
    updatedAt: iso(updatedAt),
    version: task.version,
  };
  return envelope(TASK_STATE_CHANGE, task.taskArn, task.version, updatedAt, context, detail);
}

export function containerInstanceStateChangeEvent(
  instance: ContainerInstanceRecord,
  state: { version: number; remaining: ResourceAmounts; runningTasksCount: number; pendingTasksCount: number },
  context: EventEnvelopeContext,
  /** When the change was committed: capacity moves do not touch the record's own updatedAt. */
  updatedAt: number = instance.updatedAt,
): EcsEvent {
  const detail: Record<string, unknown> = {
    agentConnected: instance.agentConnected,
    attributes: instance.attributes,
    clusterArn: instance.clusterArn,
    containerInstanceArn: instance.containerInstanceArn,
    ec2InstanceId: instance.ec2InstanceId,
    registeredResources: resourceList(instance.registeredResources),
    remainingResources: resourceList(state.remaining),
    runningTasksCount: state.runningTasksCount,
    pendingTasksCount: state.pendingTasksCount,
    status: instance.status,
    version: state.version,
    versionInfo: instance.versionInfo,
    updatedAt: iso(updatedAt),
  };
  return envelope(CONTAINER_INSTANCE_STATE_CHANGE, instance.containerInstanceArn, state.version, updatedAt, context, detail);
}
