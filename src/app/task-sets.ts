/**
 * Services using the EXTERNAL deployment controller and their task sets: CreateService (EXTERNAL),
 * CreateTaskSet, DescribeTaskSets, UpdateTaskSet, DeleteTaskSet, UpdateServicePrimaryTaskSet. The
 * domain (src/domain/task-set.ts) decides; these load, map refusals to ECS errors and write the service
 * item conditionally (task sets live in it). The write wakes the service's loop through the stream,
 * and the scheduler (task-set-reconciler.ts) starts and stops the sets' tasks.
 */
import { serviceArn as serviceArnOf } from '../domain/arns';
import { capacityProviderKind, type CapacityProviderStrategyItem } from '../domain/capacity-strategy';
import {
  BerthError,
  InvalidParameterException,
  ServiceNotActiveException,
  TaskSetNotFoundException,
  VersionConflictError,
} from '../domain/errors';
import type { LaunchTarget } from '../domain/new-task';
import type { Tag } from '../domain/records';
import { deploymentIdFrom, type NetworkConfiguration, type ServiceRecord } from '../domain/service';
import { checkDeploymentConfiguration, MAX_DESIRED_COUNT, resolveDeploymentConfiguration, type DeploymentConfigurationInput } from '../domain/service-rules';
import {
  decideCreateTaskSet,
  decideDeleteTaskSet,
  decidePrimaryTaskSet,
  decideUpdateTaskSet,
  checkManaged,
  externalServiceRefusal,
  externalUpdateRefusal,
  findTaskSet,
  taskSetArn,
  TASK_SET_MESSAGES,
  type Scale,
  type TaskSetRecord,
  type TaskSetRefusal,
} from '../domain/task-set';
import { validateTags } from '../domain/tags';
import type { StoredService } from '../adapters/dynamodb/service-repository';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { activeCluster } from './resolve';
import { serviceView } from './service-view';
import { activeTaskDefinition, namedService, randomUnit } from './services';
import { checkCompatibility } from './tasks';

function refusal(r: TaskSetRefusal): BerthError {
  if (r.refused === 'TaskSetNotFoundException') return new TaskSetNotFoundException(r.message);
  if (r.refused === 'ServiceNotActiveException') return new ServiceNotActiveException(r.message);
  return new InvalidParameterException(r.message);
}

/** ECS reports a Fargate task set's platform as LATEST / Linux when none was asked for (as for services). */
export function taskSetView(t: TaskSetRecord, withTags: boolean) {
  const { tags, clientToken: _token, hasHealthCheck: _health, ...rest } = t;
  const fargate = t.launchType === 'FARGATE' || t.capacityProviderStrategy?.some((s) => capacityProviderKind(s.capacityProvider) === 'FARGATE');
  return {
    ...rest,
    ...(fargate ? { platformVersion: t.platformVersion ?? 'LATEST', platformFamily: 'Linux' } : {}),
    loadBalancers: [],
    serviceRegistries: [],
    ...(withTags && tags.length > 0 ? { tags } : {}),
  };
}

export interface CreateExternalServiceInput {
  cluster?: string;
  serviceName: string;
  desiredCount?: number;
  deploymentConfiguration?: DeploymentConfigurationInput;
  healthCheckGracePeriodSeconds?: number;
  [member: string]: unknown;
}

/**
 * CreateService with deploymentController EXTERNAL (called by createService after the checks every
 * service shares): only the service; task sets carry the task definition and launch members, so the
 * request must leave them out ("TaskDefinition must be blank."). desiredCount defaults to 0: the
 * developer guide names serviceName the only required parameter.
 */
export async function createExternalService(
  ctx: RequestContext,
  input: CreateExternalServiceInput,
  shared: {
    readonly tags: Tag[];
    readonly placement: Pick<ServiceRecord, 'placementConstraints' | 'placementStrategy'>;
    readonly digest: string;
    readonly propagateTags: ServiceRecord['propagateTags'];
    readonly enableECSManagedTags: boolean;
    readonly enableExecuteCommand: boolean;
    readonly clientToken?: string;
  },
) {
  const refused = externalServiceRefusal(input as Parameters<typeof externalServiceRefusal>[0]);
  if (refused) throw refusal(refused);
  const desiredCount = input.desiredCount ?? 0;
  if (!Number.isInteger(desiredCount) || desiredCount < 0 || desiredCount > MAX_DESIRED_COUNT) {
    throw new InvalidParameterException(`desiredCount must be an integer between 0 and ${MAX_DESIRED_COUNT}.`);
  }
  const grace = input.healthCheckGracePeriodSeconds ?? 0;
  if (!Number.isInteger(grace) || grace < 0) throw new InvalidParameterException('healthCheckGracePeriodSeconds must be an integer between 0 and 2147483647.');
  const deploymentConfiguration = resolveDeploymentConfiguration(input.deploymentConfiguration);
  const badConfiguration = checkDeploymentConfiguration(deploymentConfiguration);
  if (badConfiguration) throw new InvalidParameterException(badConfiguration.message);

  return withOptimisticRetry(async () => {
    const cluster = await activeCluster(ctx, input.cluster);
    const clusterArn = cluster.record.clusterArn;
    const existing = await ctx.services.get(clusterArn, input.serviceName);
    if (existing && existing.record.status === 'DRAINING') throw new InvalidParameterException('Unable to Start a service that is still Draining.');
    if (existing && existing.record.status === 'ACTIVE') {
      if (existing.requestDigest === shared.digest) return { service: serviceView(existing, true) };
      throw new InvalidParameterException('Creation of service was not idempotent.');
    }
    const version = (existing?.version ?? 0) + 1;
    const record: ServiceRecord = {
      serviceArn: serviceArnOf(ctx.scope, cluster.record.clusterName, input.serviceName),
      serviceName: input.serviceName,
      clusterArn,
      status: 'ACTIVE',
      // None until a task set is made primary: the service then shows the primary's (serviceView
      // leaves an empty one out, as ECS shows the task set fields null with no primary).
      taskDefinition: '',
      desiredCount,
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: 'EXTERNAL' },
      deploymentConfiguration,
      healthCheckGracePeriodSeconds: grace,
      ...shared.placement,
      tags: shared.tags,
      propagateTags: shared.propagateTags,
      enableECSManagedTags: shared.enableECSManagedTags,
      enableExecuteCommand: shared.enableExecuteCommand,
      createdAt: ctx.clock(),
      ...(shared.clientToken ? { clientToken: shared.clientToken } : {}),
      version,
    };
    const stored: StoredService = { record, deployments: [], events: [], version, requestDigest: shared.digest, taskSets: [] };
    const outcome = await ctx.services.create(stored, existing?.version);
    if (outcome !== 'created') throw new VersionConflictError(record.serviceArn);
    return { service: serviceView(stored, true) };
  });
}

/** UpdateService on an EXTERNAL service changes the service's own members only (desiredCount, ...). */
export function checkExternalUpdate(service: ServiceRecord, input: Record<string, unknown>) {
  if (service.deploymentController.type !== 'EXTERNAL') return;
  const refused = externalUpdateRefusal(input);
  if (refused) throw refusal(refused);
}

/** Writes the service item with its new task sets (and service record), conditional on the version read. */
async function writeTaskSets(ctx: RequestContext, stored: StoredService, taskSets: readonly TaskSetRecord[], record: ServiceRecord = stored.record) {
  const version = stored.version + 1;
  const next: StoredService = { ...stored, record: { ...record, version }, taskSets, version };
  await ctx.services.update(next, stored.version, 'api');
  return next;
}

export interface CreateTaskSetRequest {
  cluster: string;
  service: string;
  taskDefinition: string;
  externalId?: string;
  networkConfiguration?: NetworkConfiguration;
  launchType?: ServiceRecord['launchType'];
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  platformVersion?: string;
  scale?: Scale;
  clientToken?: string;
  tags?: Tag[];
  loadBalancers?: unknown[];
  serviceRegistries?: unknown[];
}

export async function createTaskSet(ctx: RequestContext, input: CreateTaskSetRequest) {
  if (input.clientToken !== undefined && (input.clientToken.length < 1 || input.clientToken.length > 36)) {
    throw new InvalidParameterException('clientToken must have between 1 and 36 characters.');
  }
  if (input.loadBalancers?.length || input.serviceRegistries?.length) {
    throw new InvalidParameterException('Berth has no load balancers or service discovery registries: loadBalancers and serviceRegistries must be empty.');
  }
  const tags = input.tags ?? [];
  validateTags(tags);
  return withOptimisticRetry(async () => {
    const { cluster, stored } = await namedService(ctx, input.cluster, input.service);
    const taskSets = stored.taskSets ?? [];
    // The service's own checks come first (a task set on an ECS-controlled service is refused as such).
    const unmanaged = checkManaged(stored.record);
    if (unmanaged) throw refusal(unmanaged);
    const td = await activeTaskDefinition(ctx, input.taskDefinition);
    const id = deploymentIdFrom(randomUnit(ctx));
    const decided = decideCreateTaskSet(
      stored.record,
      taskSets,
      { ...input, taskDefinition: td.record.taskDefinitionArn, tags },
      {
        id,
        taskSetArn: taskSetArn(ctx.scope, cluster.record.clusterName, stored.record.serviceName, id),
        clusterCapacityProviders: cluster.record.capacityProviders,
        clusterDefaultStrategy: cluster.record.defaultCapacityProviderStrategy,
        hasHealthCheck: td.record.containerDefinitions.some((c) => c.healthCheck !== undefined),
        now: ctx.clock(),
      },
    );
    if ('refused' in decided) throw refusal(decided);
    if (!decided.created) return { taskSet: taskSetView(decided.taskSet, true) };
    checkCompatibility(td.record, targetsOf(decided.taskSet), {
      networkConfiguration: input.networkConfiguration as { awsvpcConfiguration?: { subnets?: string[] } } | undefined,
      placementConstraints: stored.record.placementConstraints?.map((c) => ({ ...c })),
    });
    await writeTaskSets(ctx, stored, [...taskSets, decided.taskSet]);
    return { taskSet: taskSetView(decided.taskSet, true) };
  });
}

/** Where a set's tasks run, for the task definition compatibility check. */
function targetsOf(t: TaskSetRecord): LaunchTarget[] {
  if (!t.capacityProviderStrategy?.length) return [{ launchType: t.launchType ?? 'EC2' }];
  return t.capacityProviderStrategy.map((item) => ({
    launchType: capacityProviderKind(item.capacityProvider) === 'FARGATE' ? 'FARGATE' : 'EC2',
    capacityProviderName: item.capacityProvider,
  }));
}

export async function describeTaskSets(ctx: RequestContext, input: { cluster: string; service: string; taskSets?: string[]; include?: string[] }) {
  const { stored } = await namedService(ctx, input.cluster, input.service);
  if (stored.record.deploymentController.type !== 'EXTERNAL') throw new InvalidParameterException(TASK_SET_MESSAGES.notExternal);
  if (stored.record.status === 'INACTIVE') throw new ServiceNotActiveException(TASK_SET_MESSAGES.notActive);
  const withTags = input.include?.includes('TAGS') ?? false;
  const all = stored.taskSets ?? [];
  if (input.taskSets === undefined) return { taskSets: all.map((t) => taskSetView(t, withTags)), failures: [] };
  const taskSets = [];
  const failures = [];
  for (const reference of input.taskSets) {
    const found = findTaskSet(all, reference);
    if (found) taskSets.push(taskSetView(found, withTags));
    else failures.push({ arn: reference, reason: 'MISSING' });
  }
  return { taskSets, failures };
}

export async function updateTaskSet(ctx: RequestContext, input: { cluster: string; service: string; taskSet: string; scale: Scale }) {
  return withOptimisticRetry(async () => {
    const { stored } = await namedService(ctx, input.cluster, input.service);
    const taskSets = stored.taskSets ?? [];
    const decided = decideUpdateTaskSet(stored.record, taskSets, input.taskSet, input.scale, ctx.clock());
    if ('refused' in decided) throw refusal(decided);
    await writeTaskSets(ctx, stored, taskSets.map((t) => (t.id === decided.id ? decided : t)));
    return { taskSet: taskSetView(decided, false) };
  });
}

export async function deleteTaskSet(ctx: RequestContext, input: { cluster: string; service: string; taskSet: string; force?: boolean }) {
  return withOptimisticRetry(async () => {
    const { stored } = await namedService(ctx, input.cluster, input.service);
    const taskSets = stored.taskSets ?? [];
    const decided = decideDeleteTaskSet(stored.record, taskSets, input.taskSet, input.force ?? false, ctx.clock());
    if ('refused' in decided) throw refusal(decided);
    const before = taskSets.find((t) => t.id === decided.id);
    if (before !== decided) await writeTaskSets(ctx, stored, taskSets.map((t) => (t.id === decided.id ? decided : t)));
    return { taskSet: taskSetView(decided, false) };
  });
}

export async function updateServicePrimaryTaskSet(ctx: RequestContext, input: { cluster: string; service: string; primaryTaskSet: string }) {
  return withOptimisticRetry(async () => {
    const { stored } = await namedService(ctx, input.cluster, input.service);
    const decided = decidePrimaryTaskSet(stored.record, stored.taskSets ?? [], input.primaryTaskSet, ctx.clock());
    if ('refused' in decided) throw refusal(decided);
    await writeTaskSets(ctx, stored, decided.taskSets, decided.service);
    return { taskSet: taskSetView(decided.primary, false) };
  });
}
