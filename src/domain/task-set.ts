/**
 * Task sets of services using the EXTERNAL deployment controller (ECS API `TaskSet`): the records, their
 * ARNs and ids, computedDesiredCount, and the pure decisions of CreateTaskSet, UpdateTaskSet,
 * DeleteTaskSet and UpdateServicePrimaryTaskSet (values, never throwing). Member names are the model's;
 * members marked "Berth's own" never reach the wire (toWire keeps only the model's members).
 *
 *   task set  ACTIVE --UpdateServicePrimaryTaskSet--> PRIMARY --another one made primary--> ACTIVE
 *             ACTIVE | PRIMARY --DeleteTaskSet--> DRAINING --(its last task STOPPED)--> gone
 *
 * An external controller (a CI pipeline, a blue/green tool) decides how many tasks each set runs with
 * `scale` (a percentage of the service's desiredCount); the service scheduler keeps each set at
 * computedDesiredCount = ceil(desiredCount x scale / 100) (src/domain/task-set-reconciler.ts).
 * A set's tasks carry `group: service:<name>` and `startedBy: <task set id>` (`ecs-svc/` + 19 digits,
 * the form of a deployment id), as ECS's task set tasks do.
 *
 * Sources: the ECS API reference (CreateTaskSet, TaskSet, Scale), the developer guide's "Deploy Amazon
 * ECS services using a third-party controller" page, the AWS CLI's create-task-set example output
 * (an ACTIVE set, scale 0.0 PERCENT when none is given, STABILIZING at creation). Error texts marked
 * (ECS) are ECS's own as quoted in public reports; the others are Berth's, in ECS's style.
 */
import type { Scope } from './arns';
import { validateCapacityProviderStrategy, type CapacityProviderStrategyItem, type StrategyUse } from './capacity-strategy';
import { BerthError } from './errors';
import type { LaunchType, Tag } from './records';
import type { LaunchConfiguration, NetworkConfiguration, ServiceRecord } from './service';

export type TaskSetStatus = 'PRIMARY' | 'ACTIVE' | 'DRAINING';
export type StabilityStatus = 'STEADY_STATE' | 'STABILIZING';

export interface Scale {
  readonly value: number;
  readonly unit: 'PERCENT';
}

export interface TaskSetRecord extends LaunchConfiguration {
  readonly id: string;
  readonly taskSetArn: string;
  readonly serviceArn: string;
  readonly clusterArn: string;
  readonly status: TaskSetStatus;
  readonly externalId?: string;
  readonly computedDesiredCount: number;
  readonly pendingCount: number;
  readonly runningCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly scale: Scale;
  readonly stabilityStatus: StabilityStatus;
  readonly stabilityStatusAt: number;
  readonly tags: readonly Tag[];
  /** Berth's own: CreateTaskSet idempotency. */
  readonly clientToken?: string;
  /** Berth's own: whether the task definition has a container health check (tasks must be HEALTHY). */
  readonly hasHealthCheck: boolean;
}

/** ECS's quota "task sets per service" (the error below calls them deployments). */
export const MAX_TASK_SETS = 5;

// Refusals, each with the ECS error it maps to.
export type TaskSetError = 'InvalidParameterException' | 'ServiceNotActiveException' | 'TaskSetNotFoundException';
export interface TaskSetRefusal {
  readonly refused: TaskSetError;
  readonly message: string;
}
const refuse = (refused: TaskSetError, message: string): TaskSetRefusal => ({ refused, message });

export const TASK_SET_MESSAGES = {
  // (ECS) hashicorp/terraform-provider-aws#30347: CreateTaskSet on a service with the ECS controller.
  notExternal: 'Amazon ECS only supports task set management on services configured to use external deployment controllers.',
  // (ECS) aws-samples/ecs-bg-external-controller#6.
  tooMany: (n: number) => `${n} deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.`,
  notActive: 'Service was not ACTIVE.',
  notFound: 'The specified task set does not exist.',
  scale: 'Scale value must be a number between 0 and 100 with unit PERCENT.',
  scaledAboveZero: 'The task set cannot be deleted while it is scaled above 0. Use force to delete it anyway.',
  draining: 'The task set is DRAINING: it is being deleted.',
  // (ECS) aws/aws-cdk#6245 and terraform-aws-modules/terraform-aws-ecs#278: CreateService with EXTERNAL.
  serviceTaskDefinition: 'TaskDefinition must be blank.',
  // (ECS) aws/aws-cdk#26335: CreateService with EXTERNAL and a network configuration.
  serviceNetworkConfiguration: 'NetworkConfiguration must be null.',
  // Berth's, in the same style: ECS takes these from the task sets too (aws/aws-cdk#7130 blanks launchType).
  serviceLaunch: (member: string) => `${member} must be blank for the EXTERNAL deployment controller: task sets carry it.`,
  // Berth's: UpdateService on an EXTERNAL service changes desiredCount and healthCheckGracePeriodSeconds only.
  externalUpdate: (member: string) =>
    `${member} cannot be updated on a service using the EXTERNAL deployment controller. Create a new task set instead.`,
} as const;

/** arn:aws:ecs:<region>:<account>:task-set/<cluster>/<service>/<id> (the id keeps its `ecs-svc/`). */
export function taskSetArn(scope: Scope, clusterName: string, serviceName: string, id: string): string {
  const partition = scope.partition ?? 'aws';
  return `arn:${partition}:ecs:${scope.region}:${scope.account}:task-set/${clusterName}/${serviceName}/${id}`;
}

/**
 * ceil(desiredCount x scale / 100), as the TaskSet documentation says ("always rounded up": 1.2 -> 2).
 * The product is rounded to 9 decimals first, so a float artefact (10 x 70 / 100 = 7.000000000000001)
 * never adds a task.
 */
export function computedDesiredCount(desiredCount: number, scale: Scale): number {
  const exact = Math.round(((desiredCount * scale.value) / 100) * 1e9) / 1e9;
  return Math.ceil(exact);
}

export function checkScale(scale: Scale): TaskSetRefusal | undefined {
  const ok = scale.unit === 'PERCENT' && Number.isFinite(scale.value) && scale.value >= 0 && scale.value <= 100;
  return ok ? undefined : refuse('InvalidParameterException', TASK_SET_MESSAGES.scale);
}

/** The task set a request names in a service: its id (ecs-svc/...) or its ARN. */
export function findTaskSet(taskSets: readonly TaskSetRecord[], reference: string): TaskSetRecord | undefined {
  return taskSets.find((t) => t.id === reference || t.taskSetArn === reference);
}

/** Task set management is for EXTERNAL services that are ACTIVE. */
export function checkManaged(service: Pick<ServiceRecord, 'deploymentController' | 'status'>): TaskSetRefusal | undefined {
  if (service.deploymentController.type !== 'EXTERNAL') return refuse('InvalidParameterException', TASK_SET_MESSAGES.notExternal);
  if (service.status !== 'ACTIVE') return refuse('ServiceNotActiveException', TASK_SET_MESSAGES.notActive);
  return undefined;
}

/** The strategy validation (it throws InvalidParameterException), as a value. */
function strategyRefusal(strategy: readonly CapacityProviderStrategyItem[], associated: readonly string[], use: StrategyUse): TaskSetRefusal | undefined {
  try {
    validateCapacityProviderStrategy(strategy, associated, use);
    return undefined;
  } catch (e) {
    if (e instanceof BerthError) return refuse('InvalidParameterException', e.message);
    throw e;
  }
}

export interface CreateTaskSetInput {
  readonly taskDefinition: string; // resolved ARN
  readonly externalId?: string;
  readonly launchType?: LaunchType;
  readonly capacityProviderStrategy?: readonly CapacityProviderStrategyItem[];
  readonly platformVersion?: string;
  readonly networkConfiguration?: NetworkConfiguration;
  readonly scale?: Scale;
  readonly clientToken?: string;
  readonly tags?: readonly Tag[];
}

export interface CreateTaskSetContext {
  readonly id: string;
  readonly taskSetArn: string;
  readonly clusterCapacityProviders: readonly string[];
  readonly clusterDefaultStrategy: readonly CapacityProviderStrategyItem[];
  readonly hasHealthCheck: boolean;
  readonly now: number;
}

/**
 * CreateTaskSet: a new ACTIVE task set (or, for a repeated clientToken, the one it created), or a
 * refusal. Its launch target is the request's launchType or strategy, else the cluster's default
 * strategy, else EC2 (as CreateService's). A new set is STABILIZING until a pass finds it steady.
 */
export function decideCreateTaskSet(
  service: ServiceRecord,
  taskSets: readonly TaskSetRecord[],
  input: CreateTaskSetInput,
  ctx: CreateTaskSetContext,
): TaskSetRefusal | { readonly taskSet: TaskSetRecord; readonly created: boolean } {
  const unmanaged = checkManaged(service);
  if (unmanaged) return unmanaged;
  if (input.clientToken !== undefined) {
    const earlier = taskSets.find((t) => t.clientToken === input.clientToken);
    if (earlier) return { taskSet: earlier, created: false };
  }
  if (taskSets.length >= MAX_TASK_SETS) return refuse('InvalidParameterException', TASK_SET_MESSAGES.tooMany(taskSets.length));
  const scale: Scale = input.scale ? { value: input.scale.value, unit: input.scale.unit } : { value: 0, unit: 'PERCENT' };
  const badScale = checkScale(scale);
  if (badScale) return badScale;
  const own = input.capacityProviderStrategy ?? [];
  if (input.launchType && own.length > 0) {
    return refuse('InvalidParameterException', 'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.');
  }
  let target: { launchType?: LaunchType; capacityProviderStrategy?: CapacityProviderStrategyItem[] } = { launchType: input.launchType ?? 'EC2' };
  if (!input.launchType) {
    const strategy = own.length > 0 ? own : ctx.clusterDefaultStrategy;
    if (strategy.length > 0) {
      const bad = strategyRefusal(strategy, ctx.clusterCapacityProviders, own.length > 0 ? 'placement' : 'defaultPlacement');
      if (bad) return bad;
      target = { capacityProviderStrategy: strategy.map((s) => ({ ...s })) };
    }
  }
  const taskSet: TaskSetRecord = {
    id: ctx.id,
    taskSetArn: ctx.taskSetArn,
    serviceArn: service.serviceArn,
    clusterArn: service.clusterArn,
    status: 'ACTIVE',
    taskDefinition: input.taskDefinition,
    ...target,
    ...(input.platformVersion !== undefined ? { platformVersion: input.platformVersion } : {}),
    ...(input.networkConfiguration !== undefined ? { networkConfiguration: input.networkConfiguration } : {}),
    ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
    computedDesiredCount: computedDesiredCount(service.desiredCount, scale),
    pendingCount: 0,
    runningCount: 0,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    scale,
    stabilityStatus: 'STABILIZING',
    stabilityStatusAt: ctx.now,
    tags: [...(input.tags ?? [])],
    ...(input.clientToken !== undefined ? { clientToken: input.clientToken } : {}),
    hasHealthCheck: ctx.hasHealthCheck,
  };
  return { taskSet, created: true };
}

/** The set a request names, live (not DRAINING), in a service that manages task sets. */
function liveTaskSet(service: ServiceRecord, taskSets: readonly TaskSetRecord[], reference: string): TaskSetRefusal | TaskSetRecord {
  const unmanaged = checkManaged(service);
  if (unmanaged) return unmanaged;
  const found = findTaskSet(taskSets, reference);
  if (!found) return refuse('TaskSetNotFoundException', TASK_SET_MESSAGES.notFound);
  if (found.status === 'DRAINING') return refuse('InvalidParameterException', TASK_SET_MESSAGES.draining);
  return found;
}

/** UpdateTaskSet: a new scale, and with it a new computedDesiredCount (the scheduler follows). */
export function decideUpdateTaskSet(
  service: ServiceRecord,
  taskSets: readonly TaskSetRecord[],
  reference: string,
  scale: Scale,
  now: number,
): TaskSetRefusal | TaskSetRecord {
  const found = liveTaskSet(service, taskSets, reference);
  if ('refused' in found) return found;
  const bad = checkScale(scale);
  if (bad) return bad;
  const next = { value: scale.value, unit: scale.unit };
  const count = computedDesiredCount(service.desiredCount, next);
  return { ...found, scale: next, computedDesiredCount: count, updatedAt: now };
}

/**
 * DeleteTaskSet: DRAINING (the scheduler stops its tasks, then it is gone). A set still scaled above
 * zero needs `force`, as a service does for DeleteService.
 */
export function decideDeleteTaskSet(
  service: ServiceRecord,
  taskSets: readonly TaskSetRecord[],
  reference: string,
  force: boolean,
  now: number,
): TaskSetRefusal | TaskSetRecord {
  const unmanaged = checkManaged(service);
  if (unmanaged) return unmanaged;
  const found = findTaskSet(taskSets, reference);
  if (!found) return refuse('TaskSetNotFoundException', TASK_SET_MESSAGES.notFound);
  if (found.status === 'DRAINING') return found; // already being deleted: answered as it is
  if (found.scale.value > 0 && found.computedDesiredCount > 0 && !force) return refuse('InvalidParameterException', TASK_SET_MESSAGES.scaledAboveZero);
  return { ...found, status: 'DRAINING', computedDesiredCount: 0, stabilityStatus: 'STABILIZING', stabilityStatusAt: now, updatedAt: now };
}

/**
 * UpdateServicePrimaryTaskSet: the named set becomes PRIMARY, the previous primary ACTIVE, and the
 * service takes the primary's launch members ("any task set parameter values that exist on the new
 * primary task set that differ from the old primary task set in a service are updated to the new
 * value"), so DescribeServices shows them.
 */
export function decidePrimaryTaskSet(
  service: ServiceRecord,
  taskSets: readonly TaskSetRecord[],
  reference: string,
  now: number,
): TaskSetRefusal | { readonly taskSets: TaskSetRecord[]; readonly primary: TaskSetRecord; readonly service: ServiceRecord } {
  const found = liveTaskSet(service, taskSets, reference);
  if ('refused' in found) return found;
  const next = taskSets.map((t): TaskSetRecord => {
    if (t.id === found.id) return t.status === 'PRIMARY' ? t : { ...t, status: 'PRIMARY', updatedAt: now };
    return t.status === 'PRIMARY' ? { ...t, status: 'ACTIVE', updatedAt: now } : t;
  });
  const primary = next.find((t) => t.id === found.id)!;
  const { taskDefinition, launchType, capacityProviderStrategy, platformVersion, networkConfiguration } = primary;
  return {
    taskSets: next,
    primary,
    service: { ...service, taskDefinition, launchType, capacityProviderStrategy, platformVersion, networkConfiguration },
  };
}

/** The members CreateService refuses with the EXTERNAL controller (task sets carry them), or undefined. */
export function externalServiceRefusal(input: {
  taskDefinition?: string;
  networkConfiguration?: unknown;
  launchType?: string;
  capacityProviderStrategy?: readonly unknown[];
  platformVersion?: string;
  schedulingStrategy?: string;
}): TaskSetRefusal | undefined {
  if (input.taskDefinition !== undefined) return refuse('InvalidParameterException', TASK_SET_MESSAGES.serviceTaskDefinition);
  if (input.networkConfiguration !== undefined) return refuse('InvalidParameterException', TASK_SET_MESSAGES.serviceNetworkConfiguration);
  if (input.launchType !== undefined) return refuse('InvalidParameterException', TASK_SET_MESSAGES.serviceLaunch('LaunchType'));
  if (input.capacityProviderStrategy?.length) return refuse('InvalidParameterException', TASK_SET_MESSAGES.serviceLaunch('CapacityProviderStrategy'));
  if (input.platformVersion !== undefined) return refuse('InvalidParameterException', TASK_SET_MESSAGES.serviceLaunch('PlatformVersion'));
  // The developer guide: "Services using an external deployment controller support only the REPLICA scheduling strategy."
  if (input.schedulingStrategy === 'DAEMON') return refuse('InvalidParameterException', 'The DAEMON scheduling strategy is not supported with the EXTERNAL deployment controller.');
  return undefined;
}

/** UpdateService on an EXTERNAL service: desiredCount, healthCheckGracePeriodSeconds (and tags, placement) only. */
export function externalUpdateRefusal(input: Record<string, unknown>): TaskSetRefusal | undefined {
  for (const member of ['taskDefinition', 'capacityProviderStrategy', 'networkConfiguration', 'platformVersion', 'forceNewDeployment', 'loadBalancers', 'serviceRegistries']) {
    const value = input[member];
    if (value !== undefined && value !== false) return refuse('InvalidParameterException', TASK_SET_MESSAGES.externalUpdate(member));
  }
  return undefined;
}
