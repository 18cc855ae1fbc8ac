import { createHash } from 'node:crypto';
import { inScope, NAME_PATTERN, parseArn, taskIdFrom, taskIdOfArn } from '../domain/arns';
import {
  capacityProviderKind,
  distributeTasks,
  validateCapacityProviderStrategy,
  type CapacityProviderStrategyItem,
} from '../domain/capacity-strategy';
import {
  ClientException,
  VersionConflictError,
  ConflictException,
  InvalidParameterException,
  ServiceNotFoundException,
} from '../domain/errors';
import { newTask, uuidFrom, type LaunchTarget, type NewTaskInput } from '../domain/new-task';
import type { ClusterRecord, LaunchType, Tag, TaskDefinitionRecord, TaskRecord } from '../domain/records';
import { capacityKindOf, type BatchPlacement } from '../domain/placement';
import {
  MAX_PLACEMENT_CONSTRAINTS,
  parsePlacementConstraint,
  parsePlacementConstraints,
  type PlacementConstraintInput,
} from '../domain/placement-constraints';
import { parsePlacementStrategies, type PlacementStrategyInput } from '../domain/placement-strategies';
import { validateTaskSizeOverride } from '../domain/task-definition-rules';
import { mergeTags, validateTags } from '../domain/tags';
import { visibleStatus } from '../domain/task-engine';
import { requestStop, taskCountBucket, type DesiredStatus } from '../domain/task-lifecycle';
import { stampTask, type StampedTask } from '../domain/update-time';
import { taskCountDeltas, type CountDeltas } from '../adapters/dynamodb/cluster-repository';
import type { InstanceChange, RunTaskTokenRecord } from '../adapters/dynamodb/task-repository';
import { requirementsOf, reservationFields } from './task-engine';
import { placeGroup, reservationsOf, startPlacementReads, type PlacementReads } from './group-placement';
import { pageSize } from './clusters';
import type { RequestContext } from './context';
import { startedEarly } from './early-reads';
import { withOptimisticRetry } from './optimistic';
import { serviceNameIn } from './service-view';
import { serviceGroup } from '../domain/service';
import { activeCluster, clusterArnFor } from './resolve';
import { findTaskDefinition } from './task-definitions';

export const MAX_RUN_TASK_COUNT = 10;
const MAX_DESCRIBE_TASKS = 100;
const MAX_OVERRIDES_BYTES = 8192;

export interface RunTaskInput {
  taskDefinition: string;
  cluster?: string;
  count?: number;
  launchType?: LaunchType;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  group?: string;
  startedBy?: string;
  overrides?: { containerOverrides?: { name?: string }[]; [member: string]: unknown };
  networkConfiguration?: { awsvpcConfiguration?: { subnets?: string[] } };
  placementConstraints?: PlacementConstraintInput[];
  placementStrategy?: PlacementStrategyInput[];
  platformVersion?: string;
  enableExecuteCommand?: boolean;
  tags?: Tag[];
  propagateTags?: 'TASK_DEFINITION' | 'SERVICE' | 'NONE';
  clientToken?: string;
  [member: string]: unknown;
}

export async function runTask(ctx: RequestContext, input: RunTaskInput) {
  const count = input.count ?? 1;
  if (count < 1 || count > MAX_RUN_TASK_COUNT) {
    throw new InvalidParameterException(`count must be between 1 and ${MAX_RUN_TASK_COUNT}.`);
  }
  if (input.launchType && input.capacityProviderStrategy?.length) {
    throw new InvalidParameterException(
      'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.',
    );
  }
  // Validated (expressions parsed) before anything is read: a bad one is refused whatever else holds.
  parsePlacementConstraints(input.placementConstraints, 'task');
  parsePlacementStrategies(input.placementStrategy);
  if (input.startedBy !== undefined && input.startedBy.length > 128) {
    throw new InvalidParameterException('startedBy can have up to 128 characters.');
  }
  if (input.group !== undefined && input.group.length > 255) {
    throw new InvalidParameterException('group can have up to 255 characters.');
  }
  if (input.clientToken !== undefined && (input.clientToken.length < 1 || input.clientToken.length > 64)) {
    throw new InvalidParameterException('clientToken must have between 1 and 64 characters.');
  }
  validateTaskInputs(input);
  const tags = input.tags ?? [];

  // The task definition, the cluster and the client token are independent reads (the token's key
  // follows from the cluster reference): all three at once, then awaited in the order their failures
  // take precedence, as when they were read one after another (a read that fails, then a missing or
  // INACTIVE cluster, then a replay or a conflicting token, then the task definition's own errors).
  const definition = startedEarly(findTaskDefinition(ctx, input.taskDefinition));
  const arn = clusterArnFor(ctx, input.cluster);
  // Tasks of launch type EC2 or EXTERNAL are placed at once: the placement's reads (hosts, groups)
  // start with the others, for the first attempt. Not with a client token, whose replay needs none.
  const placesAtOnce = (input.launchType === 'EC2' || input.launchType === 'EXTERNAL') && !input.clientToken;
  let placementReads = placesAtOnce && arn ? startPlacementReads(ctx, arn) : undefined;
  // Retried as a whole on a lost race (the cluster changed, a concurrent transaction on its item):
  // each attempt decides on a fresh read of the cluster, and nothing was written, so new ids are harmless.
  return withOptimisticRetry(async () => {
    const reads = placementReads; // a retry (capacity taken meanwhile) places on fresh reads
    placementReads = undefined;
    const clusterRead = startedEarly(activeCluster(ctx, input.cluster));
    const tokenRead = input.clientToken && arn ? startedEarly(ctx.tasks.getRunTaskToken(arn, input.clientToken)) : undefined;
    const stored = await definition;
    const cluster = await clusterRead;
    if (tokenRead) {
      const replay = await replayOfToken(ctx, cluster.record.clusterArn, input, await tokenRead);
      if (replay) return replay;
    }
    if (!stored) throw new ClientException('TaskDefinition not found.');
    const td = stored.record;
    if (td.status !== 'ACTIVE') throw new ClientException('TaskDefinition is inactive.');
    checkOverrides(td, input.overrides);
    checkConstraintTotal(td, input.placementConstraints);
    const targets = launchTargets(cluster.record, input, count);
    checkCompatibility(td, targets, input);
    validateTaskSizeOverride(td, (input.overrides ?? {}) as { cpu?: unknown; memory?: unknown }, targets.some((t) => t.launchType === 'FARGATE'));
    return createTasks(ctx, cluster.record, td, targets, propagatedTags(input.propagateTags, stored.tags, tags), input, reads);
  });
}

/**
 * The tags a RunTask or StartTask task gets: the request's, plus with propagateTags TASK_DEFINITION
 * the task definition's (a request tag of the same key wins). SERVICE is for a service's tasks only.
 */
export function propagatedTags(propagate: RunTaskInput['propagateTags'], definitionTags: readonly Tag[], tags: readonly Tag[]): Tag[] {
  if (propagate === 'SERVICE') {
    throw new InvalidParameterException('propagateTags SERVICE is only valid for tasks a service starts; use TASK_DEFINITION or NONE.');
  }
  return propagate === 'TASK_DEFINITION' ? mergeTags(definitionTags, tags) : [...tags];
}

/** The checks RunTask and StartTask make alike on what the new tasks carry (startedBy, group, overrides, tags). */
export function validateTaskInputs(input: Pick<RunTaskInput, 'startedBy' | 'group' | 'overrides' | 'tags'>): void {
  if (input.startedBy !== undefined && input.startedBy.length > 128) {
    throw new InvalidParameterException('startedBy can have up to 128 characters.');
  }
  if (input.group !== undefined && input.group.length > 255) {
    throw new InvalidParameterException('group can have up to 255 characters.');
  }
  // ECS's limit; it also keeps the task item well inside DynamoDB's and EventBridge's sizes.
  if (Buffer.byteLength(JSON.stringify(input.overrides ?? {})) > MAX_OVERRIDES_BYTES) {
    throw new InvalidParameterException(`Container Overrides length must be at most ${MAX_OVERRIDES_BYTES}.`);
  }
  validateTags(input.tags ?? []);
}

async function createTasks(
  ctx: RequestContext,
  cluster: ClusterRecord,
  td: TaskDefinitionRecord,
  targets: readonly LaunchTarget[],
  tags: Tag[],
  input: RunTaskInput,
  placementReads?: PlacementReads,
) {
  const clusterArn = cluster.clusterArn;
  const now = ctx.clock();
  const built = buildTasks(ctx, cluster, td, targets, {
    group: input.group ?? `family:${td.family}`,
    startedBy: input.startedBy,
    overrides: input.overrides,
    subnets: input.networkConfiguration?.awsvpcConfiguration?.subnets,
    platformVersion: input.platformVersion,
    enableExecuteCommand: input.enableExecuteCommand,
    tags,
    placement: placementOf(td, input),
  }, now);
  const { tasks, failures, reservations } = await placeAtOnce(ctx, clusterArn, built, placementReads);
  // Nothing fits: nothing is written (ECS creates nothing for failed tasks; a clientToken is not spent).
  if (!tasks.length) return { tasks: [], failures };
  const deltas = countDeltasOf(tasks);
  const outcome = await ctx.tasks.create(
    clusterArn,
    tasks,
    deltas,
    input.clientToken
      ? {
          clientToken: input.clientToken,
          record: { requestDigest: requestDigest(input), taskArns: tasks.map((t) => t.taskArn) },
          expiresAtMs: now + ctx.retention.clientTokenMs,
        }
      : undefined,
    reservations,
  );
  // The cluster went INACTIVE or lost a capacity provider, or a host's capacity was taken, since it
  // was read: decide again on fresh reads.
  if (outcome === 'cluster-changed' || outcome === 'capacity-changed') throw new VersionConflictError(clusterArn);
  if (outcome === 'token-exists') {
    // Another call with this token won the race: answer as its replay.
    const replay = await replayOfClientToken(ctx, clusterArn, input);
    if (replay) return replay;
    throw new ConflictException('The clientToken was used by a request that has not finished.');
  }
  return { tasks: tasks.map(taskView(false)), failures };
}

/**
 * EC2/EXTERNAL tasks are placed at birth, as ECS does, all of one RunTask as one group
 * (src/app/group-placement.ts: each placement sees the ones before it, so a count of 10 with spread
 * is balanced): on the cluster's container instances as they are now, with one RunTask failure
 * (reason RESOURCE:CPU, RESOURCE:MEMORY, AGENT, MISSING; arn the container instance it is about) per
 * launch type task that fits nowhere. The chosen shares are reserved by conditional ADDs in RunTask's
 * own transaction, so a host that lost capacity meanwhile fails the transaction and RunTask decides
 * again. A task of an Auto Scaling group provider that no instance can take now, and Fargate tasks,
 * are created unplaced and wait for the engine, as ECS lets them wait in PROVISIONING.
 */
async function placeAtOnce(ctx: RequestContext, clusterArn: string, built: StampedTask[], reads?: PlacementReads) {
  const { placed, failed, hosts } = await placeGroup(ctx, clusterArn, built, reads);
  const launchTypeEc2 = (task: StampedTask) => capacityKindOf(task) === 'EC2' && !task.capacityProviderName;
  if (built.some(launchTypeEc2) && !hosts.some((host) => host.record.status !== 'INACTIVE')) {
    throw new InvalidParameterException('No Container Instances were found in your cluster.');
  }
  const failures: LaunchFailure[] = [];
  const tasks: StampedTask[] = [];
  for (const task of built) {
    const failure = failed.get(task);
    if (placed.has(task)) tasks.push(placed.get(task)!);
    else if (failure && launchTypeEc2(task)) failures.push({ ...(failure.arn ? { arn: failure.arn } : {}), reason: failure.reason, detail: failure.detail });
    else tasks.push(task);
  }
  return { tasks, failures, reservations: reservationsOf(tasks) };
}

export interface LaunchFailure {
  arn?: string;
  reason: string;
  detail?: string;
}

/**
 * Placement outcomes (one per task, in order) as RunTask and StartTask write them: each placed task
 * with its host and reservation, a failure per task that fits nowhere, and the host shares to take
 * with conditional ADDs in the creating transaction (one per host, summed).
 */
export function reserveAtOnce(tasks: readonly StampedTask[], outcomes: BatchPlacement['outcomes']) {
  const placed = new Map<StampedTask, StampedTask>();
  const failures: LaunchFailure[] = [];
  const shares = new Map<string, InstanceChange>();
  outcomes.forEach((outcome, index) => {
    if ('failed' in outcome) {
      const { arn, reason, detail } = outcome.failed;
      failures.push({ ...(arn ? { arn } : {}), reason, detail });
      return;
    }
    const needs = requirementsOf(tasks[index]);
    const { containerInstanceArn } = outcome.placed;
    placed.set(tasks[index], { ...tasks[index], ...reservationFields('EC2', outcome.placed, needs) });
    const share = shares.get(containerInstanceArn);
    shares.set(containerInstanceArn, {
      containerInstanceArn,
      cpu: (share?.cpu ?? 0) - needs.cpu,
      memory: (share?.memory ?? 0) - needs.memory,
      pendingTasks: (share?.pendingTasks ?? 0) + 1,
      requireCapacity: true,
    });
  });
  return { placed, failures, reservations: [...shares.values()] };
}

/** New task records (PROVISIONING) for each launch target, with fresh ids: RunTask's and a service's. */
export function buildTasks(
  ctx: RequestContext,
  cluster: ClusterRecord,
  td: TaskDefinitionRecord,
  targets: readonly LaunchTarget[],
  { placement, ...options }: Pick<NewTaskInput, 'group' | 'startedBy' | 'overrides' | 'subnets' | 'platformVersion' | 'enableExecuteCommand' | 'tags'> & {
    placement?: TaskPlacement;
  },
  now: number,
): StampedTask[] {
  return targets.map((target) => {
    const taskId = taskIdFrom(ctx.randomBytes(16));
    const task = newTask({
      ...options,
      scope: ctx.scope,
      clusterName: cluster.clusterName,
      clusterArn: cluster.clusterArn,
      taskId,
      containerIds: td.containerDefinitions.map(() => uuidFrom(ctx.randomBytes(16))),
      attachmentId: uuidFrom(ctx.randomBytes(16)),
      now,
      taskDefinition: td,
      target,
    });
    // Fargate takes no strategies or constraints (ECS spreads Fargate tasks across zones itself).
    return placement && target.launchType !== 'FARGATE' ? { ...task, ...placement } : task;
  });
}

/**
 * ECS's limit of 10 constraints per task counts the task definition's too; the definition's must
 * parse (one registered before Berth parsed them is refused here, naming what is unsupported).
 */
export function checkConstraintTotal(td: TaskDefinitionRecord, requested: readonly PlacementConstraintInput[] | undefined) {
  const own = parsePlacementConstraints(td.placementConstraints as PlacementConstraintInput[] | undefined, 'taskDefinition');
  if (own.length + (requested?.length ?? 0) > MAX_PLACEMENT_CONSTRAINTS) {
    throw new InvalidParameterException(
      `A task can have at most ${MAX_PLACEMENT_CONSTRAINTS} placement constraints, the task definition's included (${own.length} there, ${requested?.length ?? 0} asked for).`,
    );
  }
}

/** What a task keeps of the placement it asked for, for the engine's placements after it waits. */
export interface TaskPlacement {
  readonly placementConstraints?: PlacementConstraintInput[];
  readonly placementStrategy?: PlacementStrategyInput[];
}

/**
 * A task's placement: the request's strategies and constraints plus its task definition's memberOf
 * constraints (ECS applies both). Empty members are left out.
 */
export function placementOf(
  td: TaskDefinitionRecord,
  request: { placementConstraints?: PlacementConstraintInput[]; placementStrategy?: PlacementStrategyInput[] },
): TaskPlacement {
  // Never throws: RunTask and CreateService checked the definition's constraints (checkConstraintTotal);
  // one registered before Berth parsed them and not parsing now is left out rather than stop a service.
  const fromDefinition = ((td.placementConstraints as PlacementConstraintInput[] | undefined) ?? []).flatMap((c) => {
    try {
      return [parsePlacementConstraint(c, 'taskDefinition')];
    } catch {
      return [];
    }
  });
  const constraints = [
    ...(request.placementConstraints ?? []).map(({ type, expression }) => ({ type, ...(expression ? { expression } : {}) })),
    ...fromDefinition.map((c) => ({ type: c.type, ...(c.type === 'memberOf' ? { expression: c.expression } : {}) })),
  ];
  const strategies = (request.placementStrategy ?? []).map(({ type, field }) => ({ type, ...(field ? { field } : {}) }));
  return {
    ...(constraints.length ? { placementConstraints: constraints } : {}),
    ...(strategies.length ? { placementStrategy: strategies } : {}),
  };
}

/** The cluster counters new tasks move (each enters its lastStatus's bucket). */
export function countDeltasOf(tasks: readonly TaskRecord[]): CountDeltas {
  return tasks.reduce<CountDeltas>((sum, task) => {
    for (const [name, delta] of Object.entries(taskCountDeltas(task.launchType, undefined, taskCountBucket(task.lastStatus)))) {
      sum[name as keyof CountDeltas] = (sum[name as keyof CountDeltas] ?? 0) + (delta ?? 0);
    }
    return sum;
  }, {});
}

/** Idempotency: the same token and request answers with the first call's tasks; another request conflicts. */
async function replayOfClientToken(ctx: RequestContext, clusterArn: string, input: RunTaskInput) {
  return replayOfToken(ctx, clusterArn, input, await ctx.tasks.getRunTaskToken(clusterArn, input.clientToken!));
}

/** The replay (or the conflict) a stored client token means for this request; undefined if none is stored. */
async function replayOfToken(ctx: RequestContext, clusterArn: string, input: RunTaskInput, token: RunTaskTokenRecord | undefined) {
  if (!token) return undefined;
  if (token.requestDigest !== requestDigest(input)) {
    throw new ConflictException(
      'The request uses the same client token as a previous, but non-identical request. Do not reuse a client token with different requests, unless the requests are identical.',
    );
  }
  const found = await ctx.tasks.getMany(clusterArn, token.taskArns.map(taskIdOfArn));
  return {
    tasks: token.taskArns.flatMap((arn) => {
      const task = found.get(taskIdOfArn(arn));
      return task ? [taskView(false)(task.record)] : [];
    }),
    failures: [],
  };
}

function requestDigest(input: RunTaskInput): string {
  const { clientToken: _ignored, ...request } = input;
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** JSON with sorted keys and no null/undefined members: equal requests, equal text (for request digests). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Where each task runs: the launch type asked for, the strategy given, or the cluster's default. */
function launchTargets(cluster: ClusterRecord, input: RunTaskInput, count: number): LaunchTarget[] {
  if (input.launchType) return Array.from({ length: count }, () => ({ launchType: input.launchType! }));
  const own = input.capacityProviderStrategy?.length ? input.capacityProviderStrategy : undefined;
  const strategy = own ?? cluster.defaultCapacityProviderStrategy;
  if (!strategy.length) return Array.from({ length: count }, () => ({ launchType: 'EC2' as const }));
  validateCapacityProviderStrategy(strategy, cluster.capacityProviders, own ? 'placement' : 'defaultPlacement');
  return distributeTasks(strategy, count).map((provider) => ({
    launchType: capacityProviderKind(provider) === 'FARGATE' ? 'FARGATE' : 'EC2',
    capacityProviderName: provider,
  }));
}

export function checkCompatibility(
  td: TaskDefinitionRecord,
  targets: readonly LaunchTarget[],
  input: Pick<RunTaskInput, 'placementConstraints' | 'networkConfiguration'>,
) {
  // ECS's wording for both messages below, as users quote it: "Task definition does not support
  // launch_type FARGATE." (deployment write-ups and troubleshooting guides) and "Network Configuration
  // must be provided when networkMode 'awsvpc' is specified." (boltops-tools/ufo matches it verbatim).
  for (const launchType of new Set(targets.map((t) => t.launchType))) {
    if (launchType === 'FARGATE' && !td.compatibilities.includes('FARGATE')) {
      throw new InvalidParameterException('Task definition does not support launch_type FARGATE.');
    }
    if (launchType === 'FARGATE' && input.placementConstraints?.length) {
      throw new InvalidParameterException('Task placement constraints are not supported on Fargate.');
    }
  }
  if (td.networkMode === 'awsvpc' && !input.networkConfiguration?.awsvpcConfiguration?.subnets?.length) {
    throw new InvalidParameterException("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
}

export function checkOverrides(td: TaskDefinitionRecord, overrides: RunTaskInput['overrides']) {
  for (const override of overrides?.containerOverrides ?? []) {
    if (!override.name || !td.containerDefinitions.some((c) => c.name === override.name)) {
      throw new InvalidParameterException(
        `Override for container named ${override.name ?? ''} is not a container in the TaskDefinition.`,
      );
    }
  }
}

/** The Task shape on the wire; tags only when the caller asked for them and there are some, as ECS does. */
export const taskView =
  (withTags: boolean) =>
  ({ tags, ...task }: TaskRecord) =>
    withTags && tags.length ? { ...task, tags } : task;

/**
 * A task reference (id, or ARN `task/<cluster>/<id>`) of the given cluster; undefined when it is
 * malformed or names another cluster, account or region (the caller answers "not found").
 */
export function taskIdIn(ctx: RequestContext, clusterArn: string, reference: string): string | undefined {
  if (!reference.startsWith('arn:')) return NAME_PATTERN.test(reference) ? reference : undefined;
  const parsed = parseArn(reference);
  if (!parsed || parsed.resourceType !== 'task' || parsed.path.length !== 2) return undefined;
  if (!inScope(ctx.scope, parsed)) return undefined;
  const [cluster, id] = parsed.path;
  return clusterArn.endsWith(`:cluster/${cluster}`) && NAME_PATTERN.test(id) ? id : undefined;
}

export async function describeTasks(ctx: RequestContext, input: { cluster?: string; tasks: string[]; include?: string[] }) {
  if (input.tasks.length > MAX_DESCRIBE_TASKS) {
    throw new InvalidParameterException(`Tasks cannot have more than ${MAX_DESCRIBE_TASKS} elements.`);
  }
  if (input.tasks.length === 0) throw new InvalidParameterException('Tasks cannot be empty.');
  const cluster = await activeCluster(ctx, input.cluster);
  const clusterArn = cluster.record.clusterArn;
  const ids = input.tasks.map((reference) => taskIdIn(ctx, clusterArn, reference));
  const found = await ctx.tasks.getMany(clusterArn, ids.filter((id): id is string => id !== undefined));
  const now = ctx.clock();
  const withTags = taskView(input.include?.includes('TAGS') ?? false);
  // Past its retention a STOPPED task shows as DELETED until DynamoDB's TTL removes it.
  const view = (task: TaskRecord) => withTags({ ...task, lastStatus: visibleStatus(task, now) });
  const tasks = [];
  const failures = [];
  const seen = new Set<string>();
  for (const [index, id] of ids.entries()) {
    const task = id === undefined ? undefined : found.get(id);
    if (task) {
      if (!seen.has(id!)) tasks.push(view(task.record));
      seen.add(id!);
    } else {
      const reference = input.tasks[index];
      failures.push({ arn: reference.startsWith('arn:') ? reference : `${clusterArn.replace(':cluster/', ':task/')}/${reference}`, reason: 'MISSING' });
    }
  }
  return { tasks, failures };
}

export async function listTasks(
  ctx: RequestContext,
  input: {
    cluster?: string;
    family?: string;
    startedBy?: string;
    serviceName?: string;
    desiredStatus?: DesiredStatus | 'PENDING';
    launchType?: LaunchType;
    containerInstance?: string;
    maxResults?: number;
    nextToken?: string;
  },
) {
  const size = pageSize(input.maxResults);
  const cluster = await activeCluster(ctx, input.cluster);
  // A service's tasks are those of its group (service:<name>), as ECS sets it for them.
  let group: string | undefined;
  if (input.serviceName !== undefined) {
    const name = serviceNameIn(ctx, cluster.record.clusterArn, input.serviceName);
    if (name === undefined || !(await ctx.services.get(cluster.record.clusterArn, name))) {
      throw new ServiceNotFoundException('Service not found.');
    }
    group = serviceGroup(name);
  }
  const desired = input.desiredStatus ?? 'RUNNING';
  const now = ctx.clock();
  const page = await ctx.tasks.list(cluster.record.clusterArn, { maxResults: size, nextToken: input.nextToken }, (task) => {
    if (visibleStatus(task, now) === 'DELETED') return false;
    if (task.desiredStatus !== desired) return false;
    if (input.family && task.taskDefinitionArn.split('/').pop()!.split(':')[0] !== input.family) return false;
    if (input.startedBy !== undefined && task.startedBy !== input.startedBy) return false;
    if (group !== undefined && task.group !== group) return false;
    if (input.launchType && task.launchType !== input.launchType) return false;
    if (input.containerInstance && !matchesContainerInstance(task, input.containerInstance)) return false;
    return true;
  });
  return { taskArns: page.items.map((task) => task.taskArn), nextToken: page.nextToken };
}

const matchesContainerInstance = (task: TaskRecord, reference: string) =>
  task.containerInstanceArn !== undefined &&
  (task.containerInstanceArn === reference || task.containerInstanceArn.endsWith(`/${reference}`));

export async function stopTask(ctx: RequestContext, input: { cluster?: string; task: string; reason?: string }) {
  if (input.reason !== undefined && input.reason.length > 255) {
    throw new InvalidParameterException('reason can have up to 255 characters.');
  }
  return withOptimisticRetry(async () => {
    const cluster = await activeCluster(ctx, input.cluster);
    const id = taskIdIn(ctx, cluster.record.clusterArn, input.task);
    const stored = id === undefined ? undefined : await ctx.tasks.get(cluster.record.clusterArn, id);
    // ECS's answer for an unknown task (InvalidParameterException, quoted by SDK users' StopTask mocks
    // and fog-aws); an unknown cluster is ClusterNotFoundException (activeCluster), as ECS answers.
    if (!stored) throw new InvalidParameterException('The referenced task was not found.');
    const stop = requestStop(stored.record, 'UserInitiated', input.reason || 'Task stopped by user');
    if (!stop.changed) return { task: taskView(true)(stored.record) };
    const { changed: _changed, ...fields } = stop;
    const task = stampTask(stored.record, { ...stored.record, ...fields, version: stored.version + 1 }, ctx.clock());
    await ctx.tasks.applyChange({ task, expectedVersion: stored.version });
    return { task: taskView(true)(task) };
  });
}
