/**
 * StartTask: a custom scheduler names the container instances, one task for each, and Berth places
 * each task on exactly that instance (or answers a failure for it): the same records, lifecycle,
 * events and capacity reservation as RunTask's EC2 tasks, through the same placement function, with
 * each instance as the only candidate for its own tasks. Never Fargate: StartTask places on a
 * cluster's container instances only, as ECS does. The instance decides the launch type: EXTERNAL on
 * an external instance (ECS Anywhere, `mi-` instance id), EC2 on any other.
 */
import { placeTasks } from '../domain/placement';
import { isExternalInstance } from '../domain/container-instance';
import { ClientException, InvalidParameterException, VersionConflictError } from '../domain/errors';
import type { Tag } from '../domain/records';
import type { StampedTask } from '../domain/update-time';
import type { InstanceChange } from '../adapters/dynamodb/task-repository';
import { instanceArnFor } from './container-instances';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { activeCluster } from './resolve';
import { findTaskDefinition } from './task-definitions';
import { placementCandidate, requirementsOf } from './task-engine';
import {
  buildTasks,
  checkCompatibility,
  checkOverrides,
  countDeltasOf,
  propagatedTags,
  reserveAtOnce,
  taskView,
  validateTaskInputs,
  type LaunchFailure,
  type RunTaskInput,
} from './tasks';

/** ECS's bound: StartTask names at most 10 container instances. */
export const MAX_START_TASK_INSTANCES = 10;

export interface StartTaskInput {
  taskDefinition: string;
  containerInstances: string[];
  cluster?: string;
  group?: string;
  startedBy?: string;
  overrides?: RunTaskInput['overrides'];
  networkConfiguration?: RunTaskInput['networkConfiguration'];
  enableExecuteCommand?: boolean;
  tags?: Tag[];
  propagateTags?: RunTaskInput['propagateTags'];
  [member: string]: unknown;
}

export async function startTask(ctx: RequestContext, input: StartTaskInput) {
  const references = input.containerInstances;
  if (references.length === 0) throw new InvalidParameterException('Container instances cannot be empty.');
  if (references.length > MAX_START_TASK_INSTANCES) {
    throw new InvalidParameterException(`Container instances cannot have more than ${MAX_START_TASK_INSTANCES} elements.`);
  }
  validateTaskInputs(input);
  const tags = input.tags ?? [];
  const stored = await findTaskDefinition(ctx, input.taskDefinition);
  // Retried as a whole on a lost race: a host's capacity or the cluster changed since it was read.
  return withOptimisticRetry(async () => {
    const cluster = await activeCluster(ctx, input.cluster);
    if (!stored) throw new ClientException('TaskDefinition not found.');
    const td = stored.record;
    if (td.status !== 'ACTIVE') throw new ClientException('TaskDefinition is inactive.');
    checkOverrides(td, input.overrides);
    checkCompatibility(td, [{ launchType: 'EC2' }], input);
    const taskTags = propagatedTags(input.propagateTags, stored.tags, tags);

    const clusterArn = cluster.record.clusterArn;
    const now = ctx.clock();
    // Failures come back in the order of the instances named: each one keyed by its place in the request.
    const failures: { at: number; failure: LaunchFailure }[] = [];
    // The places in the request of each named instance (an instance named twice takes two tasks).
    const perInstance = new Map<string, number[]>();
    references.forEach((reference, at) => {
      const arn = instanceArnFor(ctx, cluster.record.clusterName, reference);
      if (arn === undefined) failures.push({ at, failure: { arn: reference, reason: 'MISSING' } });
      else perInstance.set(arn, [...(perInstance.get(arn) ?? []), at]);
    });
    const tasks: StampedTask[] = [];
    const reservations: InstanceChange[] = [];
    for (const [arn, places] of perInstance) {
      const host = await ctx.containerInstances.get(arn);
      if (!host || host.record.status === 'INACTIVE' || host.record.clusterArn !== clusterArn) {
        failures.push(...places.map((at) => ({ at, failure: { arn, reason: 'MISSING' } })));
        continue;
      }
      const target = { launchType: isExternalInstance(host.record) ? ('EXTERNAL' as const) : ('EC2' as const) };
      if (target.launchType === 'EXTERNAL') checkExternal(td);
      const built = buildTasks(ctx, cluster.record, td, places.map(() => target), {
        group: input.group ?? `family:${td.family}`,
        startedBy: input.startedBy,
        overrides: input.overrides,
        subnets: input.networkConfiguration?.awsvpcConfiguration?.subnets,
        enableExecuteCommand: input.enableExecuteCommand,
        tags: taskTags,
      }, now);
      // The named instance is the only candidate: the placement function still checks its status,
      // its agent and its room, and takes each task's share before deciding the next.
      const { outcomes } = placeTasks(
        built.map((task) => ({ needs: requirementsOf(task), kind: 'EC2' })),
        [placementCandidate(ctx.scope.region)(host)],
      );
      const placed = reserveAtOnce(built, outcomes);
      tasks.push(...built.flatMap((task) => (placed.placed.has(task) ? [placed.placed.get(task)!] : [])));
      const failedPlaces = places.filter((_, i) => 'failed' in outcomes[i]);
      failures.push(...placed.failures.map((failure, i) => ({ at: failedPlaces[i], failure })));
      reservations.push(...placed.reservations);
    }
    const failed = failures.sort((a, b) => a.at - b.at).map((f) => f.failure);
    // Nothing fits: nothing is written, as RunTask.
    if (!tasks.length) return { tasks: [], failures: failed };
    const outcome = await ctx.tasks.create(clusterArn, tasks, countDeltasOf(tasks), undefined, reservations);
    if (outcome !== 'created') throw new VersionConflictError(clusterArn);
    return { tasks: tasks.map(taskView(false)), failures: failed };
  });
}

/**
 * ECS Anywhere runs bridge, host and none network modes only (no awsvpc: external instances have no
 * ENIs to give), so a definition in awsvpc mode cannot start there; ECS's wording for a launch type a
 * definition does not support.
 */
function checkExternal(td: { networkMode?: string }) {
  if (td.networkMode === 'awsvpc') throw new InvalidParameterException('Task definition does not support launch_type EXTERNAL.');
}
