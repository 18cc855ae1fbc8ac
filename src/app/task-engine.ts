/**
 * Applies the lifecycle engine's decisions (src/domain/task-engine.ts) to stored tasks: one step per
 * call, written conditionally on the version read, so the stream record of each step drives the next
 * and a duplicate or stale record finds nothing to do.
 */
import { parseArn, taskIdOfArn, type Scope } from '../domain/arns';
import { availabilityZoneOf, FARGATE_POOL_NAME } from '../domain/container-instance';
import { VersionConflictError } from '../domain/errors';
import { capacityKindOf, placeTask, taskRequirements, type PlacementCandidate } from '../domain/placement';
import type { TaskRecord } from '../domain/records';
import { decideEngineStep } from '../domain/task-engine';
import { taskCountBucket } from '../domain/task-lifecycle';
import { taskCountDeltas } from '../adapters/dynamodb/cluster-repository';
import { clusterArn as clusterArnOf } from '../domain/arns';
import { fargatePoolPartition } from '../adapters/dynamodb/keys';
import type { InstanceChange, TaskChange } from '../adapters/dynamodb/task-repository';
import type { BerthContext } from './context';

export type EngineOutcome = 'advanced' | 'placed' | 'no-capacity' | 'nothing-to-do' | 'stale';

export function scopeOfArn(arn: string): Scope {
  const parsed = parseArn(arn)!;
  return { account: parsed.account, region: parsed.region, partition: parsed.partition };
}

/**
 * Takes the next engine step for the task if `version` (the version the caller saw) is still current.
 * Returns 'stale' when the task has moved on: its newer stream record will drive it.
 */
export async function advanceTask(ctx: BerthContext, task: TaskRecord, version = task.version): Promise<EngineOutcome> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await ctx.tasks.get(task.clusterArn, taskIdOfArn(task.taskArn));
    if (!stored || stored.version !== version) return 'stale';
    const step = decideEngineStep(stored.record, ctx.clock(), ctx.retention.stoppedTaskMs);
    if (!step) return 'nothing-to-do';
    try {
      if (step.kind === 'place') return await place(ctx, stored.record, stored.version);
      await ctx.tasks.applyChange(changeFor(stored.record, step.task, stored.version, step.releaseCapacity));
      return 'advanced';
    } catch (error) {
      // A lost race on the task means another writer moved it; a lost race on a host's capacity is
      // worth another look at the candidates.
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  return 'stale';
}

/** The transaction for a step: counters move with the task's bucket, capacity returns on STOPPED. */
export function changeFor(before: TaskRecord, after: TaskRecord, expectedVersion: number, releaseCapacity: boolean): TaskChange {
  const from = taskCountBucket(before.lastStatus);
  const to = taskCountBucket(after.lastStatus);
  const clusterDeltas = taskCountDeltas(before.launchType, from, to);
  const reservation = before.reservation;
  let instance: InstanceChange | undefined;
  if (reservation && (releaseCapacity || from !== to)) {
    instance = {
      containerInstanceArn: reservation.containerInstanceArn,
      cpu: releaseCapacity ? reservation.cpu : 0,
      memory: releaseCapacity ? reservation.memory : 0,
      pendingTasks: (to === 'pending' ? 1 : 0) - (from === 'pending' ? 1 : 0),
      runningTasks: (to === 'running' ? 1 : 0) - (from === 'running' ? 1 : 0),
    };
  }
  const entering = before.lastStatus === 'PROVISIONING' && after.lastStatus === 'PENDING';
  return {
    task: releaseCapacity ? { ...after, reservation: undefined } : after,
    expectedVersion,
    clusterDeltas,
    instance,
    assignment: releaseCapacity ? 'delete' : undefined,
    // Placement removes the waiting entry; only a task stopped while waiting still has one.
    unplaced: entering
      ? { scope: scopeOfArn(after.taskArn), action: 'put' }
      : after.lastStatus === 'STOPPED' && !reservation
        ? { scope: scopeOfArn(after.taskArn), action: 'delete' }
        : undefined,
  };
}

async function place(ctx: BerthContext, task: TaskRecord, version: number): Promise<EngineOutcome> {
  const scope = scopeOfArn(task.taskArn);
  const kind = capacityKindOf(task);
  const stored = await ctx.containerInstances.all(kind === 'EC2' ? task.clusterArn : fargatePoolPartition(scope));
  const candidates: PlacementCandidate[] = stored.map((instance) => ({
    containerInstanceArn: instance.record.containerInstanceArn,
    availabilityZone: availabilityZoneOf(instance.record, scope.region),
    status: instance.record.status,
    remaining: instance.remaining,
    serves: instance.record.fargateProviders.length ? instance.record.fargateProviders : ['EC2'],
  }));
  const needs = taskRequirements(
    task,
    task.containers.map((c) => ({
      cpu: Number(c.cpu ?? 0),
      memory: c.memory === undefined ? undefined : Number(c.memory),
      memoryReservation: c.memoryReservation === undefined ? undefined : Number(c.memoryReservation),
    })),
  );
  // Spread the task's group (its service, its family) across zones, as ECS does by default.
  const zones = new Set(candidates.map((c) => c.availabilityZone));
  const perZone = zones.size > 1 ? await ctx.tasks.groupTasksPerZone(task.clusterArn, task.group) : {};
  const decision = placeTask(needs, kind, candidates, perZone);
  if (!decision) return 'no-capacity';
  const placed: TaskRecord = {
    ...task,
    version: version + 1,
    availabilityZone: decision.availabilityZone,
    // ECS shows the container instance of EC2/EXTERNAL tasks only; Fargate hosts are not the user's.
    ...(kind === 'EC2' ? { containerInstanceArn: decision.containerInstanceArn } : {}),
    reservation: { containerInstanceArn: decision.containerInstanceArn, ...needs },
  };
  await ctx.tasks.applyChange({
    task: placed,
    expectedVersion: version,
    instance: {
      containerInstanceArn: decision.containerInstanceArn,
      cpu: -needs.cpu,
      memory: -needs.memory,
      pendingTasks: 1,
      requireCapacity: true,
    },
    assignment: 'put',
    unplaced: { scope, action: 'delete' },
  });
  return 'placed';
}

/**
 * Tries to place every task of the account+region that waits for capacity: run when capacity appears
 * (an agent registers, a task releases its share) and on a timer, so no trigger can be lost for good.
 * Tasks waiting for a kind of capacity that no host offers at all are skipped without a look.
 */
export async function placeWaitingTasks(ctx: BerthContext, scope: Scope): Promise<number> {
  let placed = 0;
  const offered = new Map<string, Promise<boolean>>();
  const anyCapacity = (partition: string, kind: string) => {
    const key = `${partition}|${kind}`;
    if (!offered.has(key)) {
      offered.set(
        key,
        ctx.containerInstances
          .all(partition)
          .then((hosts) =>
            hosts.some(
              (h) =>
                h.record.status === 'ACTIVE' &&
                (h.record.fargateProviders.length ? h.record.fargateProviders : ['EC2']).includes(kind),
            ),
          ),
      );
    }
    return offered.get(key)!;
  };
  for (const pointer of await ctx.tasks.unplaced(scope)) {
    const kind = pointer.capacity ?? 'EC2';
    if (!(await anyCapacity(kind === 'EC2' ? pointer.clusterArn : fargatePoolPartition(scope), kind))) continue;
    const stored = await ctx.tasks.get(pointer.clusterArn, pointer.taskId);
    if (!stored) continue;
    if ((await advanceTask(ctx, stored.record, stored.version)) === 'placed') placed++;
  }
  return placed;
}

export const isFargatePoolArn = (containerInstanceArn: string) => containerInstanceArn.includes(`/${FARGATE_POOL_NAME}/`);
export { clusterArnOf };
