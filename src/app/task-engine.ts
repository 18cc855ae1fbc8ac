/**
 * Applies the lifecycle engine's decisions (src/domain/task-engine.ts) to stored tasks: one step per
 * call, written conditionally on the version read, so the stream record of each step drives the next
 * and a duplicate or stale record finds nothing to do.
 */
import { parseArn, taskIdOfArn, type Scope } from '../domain/arns';
import { availabilityZoneOf } from '../domain/container-instance';
import { VersionConflictError } from '../domain/errors';
import { capacityKindOf, placeTask, taskRequirements, type PlacementCandidate } from '../domain/placement';
import type { TaskRecord } from '../domain/records';
import { decideEngineStep } from '../domain/task-engine';
import { stampTask, type StampedTask } from '../domain/update-time';
import { taskCountBucket } from '../domain/task-lifecycle';
import { taskCountDeltas } from '../adapters/dynamodb/cluster-repository';
import { fargatePoolPartition } from '../adapters/dynamodb/keys';
import type { StoredContainerInstance } from '../adapters/dynamodb/container-instance-repository';
import type { InstanceChange, StoredTask, TaskChange } from '../adapters/dynamodb/task-repository';
import type { BerthContext } from './context';

export type EngineOutcome = 'advanced' | 'placed' | 'no-capacity' | 'nothing-to-do' | 'stale';

export function scopeOfArn(arn: string): Scope {
  const parsed = parseArn(arn)!;
  return { account: parsed.account, region: parsed.region, partition: parsed.partition };
}

/** The hosts of a partition (a cluster's, or the region's Fargate pool). */
export type HostReader = (partition: string) => Promise<StoredContainerInstance[]>;

/**
 * Takes the next engine step for a task as the caller saw it (a stream image, a fresh read). The
 * write is conditional on that version, so nothing is read first: if the write loses, a read tells
 * whether the task moved on ('stale': its newer stream record drives it) or a host's capacity was
 * taken meanwhile (worth another look at fresh candidates). `hosts` may serve the first look from a
 * cache shared by several placements.
 */
export async function advanceTask(ctx: BerthContext, seen: StoredTask, hosts?: HostReader): Promise<EngineOutcome> {
  let current = seen;
  for (let attempt = 0; attempt < 5; attempt++) {
    const step = decideEngineStep(current.record, ctx.clock(), ctx.retention.stoppedTaskMs);
    if (!step) return 'nothing-to-do';
    try {
      if (step.kind === 'place') {
        const read: HostReader = attempt === 0 && hosts ? hosts : (partition) => ctx.containerInstances.all(partition);
        return await place(ctx, current.record, current.version, read);
      }
      await ctx.tasks.applyChange(changeFor(current.record, step.task, current.version, step.releaseCapacity));
      return 'advanced';
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      const fresh = await ctx.tasks.get(seen.record.clusterArn, taskIdOfArn(seen.record.taskArn));
      if (!fresh || fresh.version !== seen.version) return 'stale';
      current = fresh;
    }
  }
  return 'stale';
}

/** The transaction for a step: counters move with the task's bucket, capacity returns on STOPPED. */
export function changeFor(before: TaskRecord, after: StampedTask, expectedVersion: number, releaseCapacity: boolean): TaskChange {
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

async function place(ctx: BerthContext, task: TaskRecord, version: number, hosts: HostReader): Promise<EngineOutcome> {
  const scope = scopeOfArn(task.taskArn);
  const kind = capacityKindOf(task);
  // A host whose agent is silent would never start the task (src/app/agent-liveness.ts).
  const stored = (await hosts(kind === 'EC2' ? task.clusterArn : fargatePoolPartition(scope))).filter((h) => h.record.agentConnected);
  const candidates: PlacementCandidate[] = stored.map((instance) => ({
    containerInstanceArn: instance.record.containerInstanceArn,
    availabilityZone: availabilityZoneOf(instance.record, scope.region),
    status: instance.record.status,
    remaining: instance.remaining,
    serves: servedKinds(instance),
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
  const placed = stampTask(task, {
    ...task,
    version: version + 1,
    availabilityZone: decision.availabilityZone,
    // ECS shows the container instance of EC2/EXTERNAL tasks only; Fargate hosts are not the user's.
    ...(kind === 'EC2' ? { containerInstanceArn: decision.containerInstanceArn } : {}),
    reservation: { containerInstanceArn: decision.containerInstanceArn, ...needs },
  }, ctx.clock());
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
  // Each partition's hosts are read once per sweep; a placement that meets capacity taken since then
  // looks again at fresh hosts (advanceTask), so the cache can only cost a retry.
  const cache = new Map<string, Promise<StoredContainerInstance[]>>();
  const hosts: HostReader = (partition) => {
    if (!cache.has(partition)) cache.set(partition, ctx.containerInstances.all(partition));
    return cache.get(partition)!;
  };
  for (const pointer of await ctx.tasks.unplaced(scope)) {
    const kind = pointer.capacity ?? 'EC2';
    const offered = await hosts(kind === 'EC2' ? pointer.clusterArn : fargatePoolPartition(scope));
    if (!offered.some((h) => h.record.status === 'ACTIVE' && h.record.agentConnected && servedKinds(h).includes(kind))) continue;
    const stored = await ctx.tasks.get(pointer.clusterArn, pointer.taskId);
    if (stored && (await advanceTask(ctx, stored, hosts)) === 'placed') placed++;
  }
  return placed;
}

/** The kinds of capacity a host serves: its Fargate providers, or EC2 for a cluster's instance. */
const servedKinds = (host: StoredContainerInstance) =>
  host.record.fargateProviders.length ? host.record.fargateProviders : ['EC2'];
