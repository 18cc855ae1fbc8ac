/**
 * EventBridge Scheduler's ECS target (`Target.Arn` a cluster ARN, `Target.EcsParameters`) checked the
 * way Scheduler checks it, and turned into the RunTask request Scheduler would send.
 */
import { parseArn } from './arns';
import { ValidationException } from './errors';
import type { Tag } from './records';

export interface EcsParameters {
  TaskDefinitionArn: string;
  TaskCount?: number;
  LaunchType?: 'EC2' | 'FARGATE' | 'EXTERNAL';
  CapacityProviderStrategy?: { capacityProvider: string; base?: number; weight?: number }[];
  NetworkConfiguration?: {
    awsvpcConfiguration?: { Subnets: string[]; SecurityGroups?: string[]; AssignPublicIp?: 'ENABLED' | 'DISABLED' };
  };
  Group?: string;
  PlacementConstraints?: { type?: string; expression?: string }[];
  PlacementStrategy?: { type?: string; field?: string }[];
  PlatformVersion?: string;
  PropagateTags?: 'TASK_DEFINITION';
  ReferenceId?: string;
  /** Each item one tag: `{ "key": k, "value": v }` (what CDK sends), or `{ k: v }`. */
  Tags?: Record<string, string>[];
  EnableECSManagedTags?: boolean;
  EnableExecuteCommand?: boolean;
}

export const MAX_TASK_COUNT = 10;
export const MAX_CAPACITY_PROVIDERS = 6;

/** True when the target is an ECS cluster: the schedule's firing is a RunTask. */
export function isEcsClusterTarget(targetArn: string): boolean {
  const parsed = parseArn(targetArn);
  return parsed?.resourceType === 'cluster' && parsed.path.length === 1;
}

/** Rules of the ECS target beyond the model's shapes; throws ValidationException. */
export function validateEcsTarget(targetArn: string, parameters: EcsParameters | undefined): void {
  if (!isEcsClusterTarget(targetArn)) {
    if (parameters) throw new ValidationException('EcsParameters can only be set when the target is an Amazon ECS cluster ARN.');
    return;
  }
  if (!parameters) throw new ValidationException('EcsParameters is required when the target is an Amazon ECS cluster.');
  const definition = parseArn(parameters.TaskDefinitionArn);
  if (definition?.resourceType !== 'task-definition') {
    throw new ValidationException(`Invalid TaskDefinitionArn ${parameters.TaskDefinitionArn}.`);
  }
  const count = parameters.TaskCount ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_TASK_COUNT) {
    throw new ValidationException(`TaskCount must be between 1 and ${MAX_TASK_COUNT}.`);
  }
  const strategy = parameters.CapacityProviderStrategy ?? [];
  if (parameters.LaunchType && strategy.length > 0) {
    throw new ValidationException('LaunchType and CapacityProviderStrategy cannot both be set.');
  }
  if (strategy.length > MAX_CAPACITY_PROVIDERS) {
    throw new ValidationException(`CapacityProviderStrategy can have at most ${MAX_CAPACITY_PROVIDERS} items.`);
  }
  if (strategy.filter((item) => (item.base ?? 0) > 0).length > 1) {
    throw new ValidationException('Only one capacity provider in a strategy can have a base.');
  }
  if (parameters.NetworkConfiguration?.awsvpcConfiguration?.AssignPublicIp === 'ENABLED' && parameters.LaunchType !== 'FARGATE') {
    throw new ValidationException('AssignPublicIp ENABLED requires LaunchType FARGATE.');
  }
  for (const tag of parameters.Tags ?? []) tagOf(tag);
}

function tagOf(item: Record<string, string>): Tag {
  const entries = Object.entries(item);
  if (typeof item.key === 'string' && entries.every(([name]) => name === 'key' || name === 'value')) {
    return { key: item.key, value: item.value ?? '' };
  }
  if (entries.length !== 1) throw new ValidationException('Each item of EcsParameters.Tags must hold one tag.');
  const [[key, value]] = entries;
  return { key, value };
}

/** The RunTask request (ECS member names) one firing sends. */
export interface ScheduledRunTask {
  cluster: string;
  taskDefinition: string;
  count: number;
  launchType?: string;
  capacityProviderStrategy?: { capacityProvider: string; base?: number; weight?: number }[];
  networkConfiguration?: { awsvpcConfiguration: { subnets: string[]; securityGroups?: string[]; assignPublicIp?: string } };
  group?: string;
  placementConstraints?: { type?: string; expression?: string }[];
  placementStrategy?: { type?: string; field?: string }[];
  platformVersion?: string;
  propagateTags?: string;
  referenceId?: string;
  tags?: Tag[];
  enableECSManagedTags?: boolean;
  enableExecuteCommand?: boolean;
  startedBy: string;
  clientToken: string;
}

/**
 * `startedBy` is the schedule's name (at most 64 characters, inside ECS's 128), so
 * `ListTasks --started-by <schedule name>` finds a schedule's runs.
 */
export function runTaskRequest(
  clusterArn: string,
  parameters: EcsParameters,
  firing: { scheduleName: string; clientToken: string },
): ScheduledRunTask {
  const vpc = parameters.NetworkConfiguration?.awsvpcConfiguration;
  const defined = <T extends object>(value: T) =>
    Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
  return defined({
    cluster: clusterArn,
    taskDefinition: parameters.TaskDefinitionArn,
    count: parameters.TaskCount ?? 1,
    launchType: parameters.LaunchType,
    capacityProviderStrategy: parameters.CapacityProviderStrategy,
    networkConfiguration: vpc
      ? { awsvpcConfiguration: defined({ subnets: vpc.Subnets, securityGroups: vpc.SecurityGroups, assignPublicIp: vpc.AssignPublicIp }) }
      : undefined,
    group: parameters.Group,
    placementConstraints: parameters.PlacementConstraints,
    placementStrategy: parameters.PlacementStrategy,
    platformVersion: parameters.PlatformVersion,
    propagateTags: parameters.PropagateTags,
    referenceId: parameters.ReferenceId,
    tags: parameters.Tags?.map(tagOf),
    enableECSManagedTags: parameters.EnableECSManagedTags,
    enableExecuteCommand: parameters.EnableExecuteCommand,
    startedBy: firing.scheduleName,
    clientToken: firing.clientToken,
  });
}
