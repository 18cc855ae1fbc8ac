/**
 * The EventBridge events ECS emits, built from Berth's records. Pure. Event ids are derived from the
 * resource ARN and its version, so the same committed change always yields the same id: a retried
 * publish is a duplicate consumers can recognise, never a different event.
 */
import { createHash } from 'node:crypto';
import type { ContainerInstanceRecord, ResourceAmounts } from './container-instance';
import { resourceList } from './container-instance';
import type { TaskRecord } from './records';
import { updateTime } from './update-time';

export const DEFAULT_EVENT_SOURCE = 'berth.ecs';
export const TASK_STATE_CHANGE = 'ECS Task State Change';
export const CONTAINER_INSTANCE_STATE_CHANGE = 'ECS Container Instance State Change';

export interface EventEnvelopeContext {
  readonly source: string;
  readonly account: string;
  readonly region: string;
}

export interface EcsEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** A UUID-shaped id from (ARN, revision of the change): deterministic, so retries carry the same id. */
export function eventId(resourceArn: string, revision: number | string): string {
  const hex = createHash('sha256').update(`${resourceArn}#${revision}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const iso = (epochMs: number | undefined) =>
  epochMs === undefined || !Number.isFinite(new Date(epochMs).getTime()) ? undefined : new Date(epochMs).toISOString();

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

function envelope(
  detailType: string,
  resourceArn: string,
  revision: number | string,
  time: number,
  context: EventEnvelopeContext,
  detail: Record<string, unknown>,
): EcsEvent {
  return {
    version: '0',
    id: eventId(resourceArn, revision),
    'detail-type': detailType,
    source: context.source,
    account: context.account,
    // Milliseconds, like detail.updatedAt: consumers order and deduplicate by it, and one task's
    // steps are often less than a second apart. (In AWS, PutEvents gets it as the entry's Time.)
    time: new Date(time).toISOString(),
    region: context.region,
    resources: [resourceArn],
    detail: JSON.parse(JSON.stringify(detail)),
  };
}
