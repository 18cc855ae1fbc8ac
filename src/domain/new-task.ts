/**
 * Builds the record of a task RunTask has just accepted: PROVISIONING, desired RUNNING, with the
 * containers, overrides and attachments ECS reports for a new task. Ids and time come in as inputs.
 */
import { containerArn, taskArn, type Scope } from './arns';
import type { ContainerRecord, LaunchType, Tag, TaskDefinitionRecord } from './records';
import type { StampedTask } from './update-time';

export interface LaunchTarget {
  readonly launchType: LaunchType;
  readonly capacityProviderName?: string;
}

export interface NewTaskInput {
  readonly scope: Scope;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly taskId: string;
  /** One id per container, for the container ARNs. */
  readonly containerIds: readonly string[];
  readonly attachmentId: string;
  readonly now: number;
  readonly taskDefinition: TaskDefinitionRecord;
  readonly target: LaunchTarget;
  readonly group: string;
  readonly startedBy?: string;
  readonly overrides?: { containerOverrides?: unknown[]; [member: string]: unknown };
  readonly subnets?: readonly string[];
  readonly platformVersion?: string;
  readonly enableExecuteCommand?: boolean;
  readonly tags: readonly Tag[];
}

/** What ECS reports for platformVersion LATEST on Linux. */
export const LATEST_FARGATE_PLATFORM = '1.4.0';

export function newTask(input: NewTaskInput): StampedTask {
  const td = input.taskDefinition;
  const arn = taskArn(input.scope, input.clusterName, input.taskId);
  const isFargate = input.target.launchType === 'FARGATE';
  const containers: ContainerRecord[] = td.containerDefinitions.map((definition, index) => ({
    containerArn: containerArn(input.scope, input.clusterName, input.taskId, input.containerIds[index]),
    taskArn: arn,
    name: definition.name,
    image: definition.image,
    lastStatus: 'PENDING',
    networkInterfaces: [],
    healthStatus: 'UNKNOWN',
    essential: definition.essential !== false,
    cpu: String(definition.cpu ?? 0),
    ...(definition.memory !== undefined ? { memory: String(definition.memory) } : {}),
    ...(definition.memoryReservation !== undefined ? { memoryReservation: String(definition.memoryReservation) } : {}),
  }));
  const overrides = input.overrides ?? {};
  return {
    taskArn: arn,
    clusterArn: input.clusterArn,
    taskDefinitionArn: td.taskDefinitionArn,
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    launchType: input.target.launchType,
    ...(input.target.capacityProviderName ? { capacityProviderName: input.target.capacityProviderName } : {}),
    ...(isFargate
      ? {
          platformVersion:
            !input.platformVersion || input.platformVersion === 'LATEST' ? LATEST_FARGATE_PLATFORM : input.platformVersion,
          platformFamily: 'Linux',
          ephemeralStorage: { sizeInGiB: 20 },
        }
      : {}),
    group: input.group,
    ...(input.startedBy !== undefined ? { startedBy: input.startedBy } : {}),
    ...(typeof overrides.cpu === 'string' ? { cpu: overrides.cpu } : td.cpu !== undefined ? { cpu: td.cpu } : {}),
    ...(typeof overrides.memory === 'string'
      ? { memory: overrides.memory }
      : td.memory !== undefined
        ? { memory: td.memory }
        : {}),
    containers,
    overrides: { ...overrides, containerOverrides: overrides.containerOverrides ?? [], inferenceAcceleratorOverrides: [] },
    attachments:
      td.networkMode === 'awsvpc'
        ? [
            {
              id: input.attachmentId,
              type: 'ElasticNetworkInterface',
              status: 'PRECREATED',
              details: input.subnets?.length ? [{ name: 'subnetId', value: input.subnets[0] }] : [],
            },
          ]
        : [],
    enableExecuteCommand: input.enableExecuteCommand ?? false,
    healthStatus: 'UNKNOWN',
    tags: [...input.tags],
    createdAt: input.now,
    updatedAt: input.now,
    version: 1,
  };
}

/** A UUID (v4 layout) from 16 random bytes, for container and attachment ids. */
export function uuidFrom(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
