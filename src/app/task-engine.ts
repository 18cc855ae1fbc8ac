/**
 * Applies the lifecycle engine's decisions (src/domain/task-engine.ts) to stored tasks: one step per
 * call, written conditionally on the version read, so the stream record of each step drives the next
 * and a duplicate or stale record finds nothing to do.
 */
import { parseArn, taskIdOfArn, type Scope } from '../domain/arns';
import { availabilityZoneOf } from '../domain/container-instance';
import { capacityProviderOf } from '../domain/capacity-provider';
import { VersionConflictError } from '../domain/errors';
import {
  capacityKindOf,
  isFargateKind,
  placeTasks,
  taskRequirements,
  whyUnplaced,
  type PlacementCandidate,
  type PlacementFailure,
  type PlacementOptions,
} from '../domain/placement';
import { parsePlacementConstraint } from '../domain/placement-constraints';
import { parsePlacementStrategies } from '../domain/placement-strategies';
import type { TaskRecord } from '../domain/records';
import { decideEngineStep } from '../domain/task-engine';
import { stampTask, type StampedTask } from '../domain/update-time';
import { requestStop, taskCountBucket } from '../domain/task-lifecycle';
import { taskCountDeltas } from '../adapters/dynamodb/cluster-repository';
import { fargatePoolPartition } from '../adapters/dynamodb/keys';
import type { StoredContainerInstance } from '../adapters/dynamodb/container-instance-repository';
import type { InstanceChange, StoredTask, TaskChange } from '../adapters/dynamodb/task-repository';
import type { BerthContext } from './context';
import { startedEarly } from './early-reads';

export type EngineOutcome = 'advanced' | 'placed' | 'no-capacity' | 'nothing-to-do' | 'stale';

export function scopeOfArn(arn: string): Scope {
  const parsed = parseArn(arn)!;
  return { account: parsed.account, region: parsed.region, partition: parsed.partition };
}

/** The hosts of a partition (a cluster's, or the region's Fargate pool). */
export type HostReader = (partition: string) => Promise<StoredContainerInstance[]>;

/** Told when a task found no host, with the reason (the local runtime logs it once per task). */
export type NoCapacityObserver = (task: TaskRecord, failure: PlacementFailure) => void;

/**
 * Takes the next engine step for a task as the caller saw it (a stream image, a fresh read). The
 * write is conditional on that version, so nothing is read first: if the write loses, a read tells
 * whether the task moved on ('stale': its newer stream record drives it) or a host's capacity was
 * taken meanwhile (worth another look at fresh candidates). `hosts` may serve the first look from a
 * cache shared by several placements.
 */
export async function advanceTask(
  ctx: BerthContext,
  seen: StoredTask,
  hosts?: HostReader,
  onNoCapacity?: NoCapacityObserver,
): Promise<EngineOutcome> {
  let current = seen;
  for (let attempt = 0; attempt < 5; attempt++) {
    const step = decideEngineStep(current.record, ctx.clock(), ctx.retention.stoppedTaskMs);
    if (!step) return 'nothing-to-do';
    try {
      const read: HostReader = attempt === 0 && hosts ? hosts : (partition) => ctx.containerInstances.all(partition);
      if (step.kind === 'place') return await place(ctx, current.record, current.version, read, onNoCapacity);
      // One write for PENDING and the host when one has room; else PENDING alone, and the task waits.
      if (step.placeAlong && (await place(ctx, current.record, current.version, read, undefined, step.task)) === 'placed') return 'placed';
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
  // A task placed at birth (RunTask's EC2 tasks) has its host already and never waits.
  const entering = before.lastStatus === 'PROVISIONING' && after.lastStatus === 'PENDING' && !reservation;
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

/**
 * Places a stored task (at `version`) on a host with room, in one transaction with the host's capacity
 * and the agent's assignment. `stepped`: the engine's PROVISIONING -> PENDING step, written with the
 * placement (the task never waited, so there is no waiting entry to remove).
 */
async function place(
  ctx: BerthContext,
  task: TaskRecord,
  version: number,
  hosts: HostReader,
  onNoCapacity?: NoCapacityObserver,
  stepped?: TaskRecord,
): Promise<EngineOutcome> {
  const scope = scopeOfArn(task.taskArn);
  const kind = capacityKindOf(task);
  const needs = requirementsOf(task);
  let outcome: ReturnType<typeof placeTasks>['outcomes'][number];
  if (!isFargateKind(kind)) {
    // A cluster's instances (all of them, or an Auto Scaling group provider's): the task's own
    // strategies and constraints, over what runs where now. The two reads are independent: at once.
    const [stored, groups] = await Promise.all([hosts(hostPartitionOf(task)), ctx.tasks.groupsPerInstance(task.clusterArn)]);
    const candidates = stored.map(placementCandidate(scope.region, groups));
    [outcome] = placeTasks([{ needs, kind }], candidates, {}, placementOptionsOf(task, randomUnit(ctx))).outcomes;
  } else {
    // Fargate: no strategies or constraints (as on ECS); the task's group is spread across zones.
    const stored = await hosts(hostPartitionOf(task));
    const candidates = stored.map(placementCandidate(scope.region));
    const zones = new Set(candidates.map((c) => c.availabilityZone));
    const perZone = zones.size > 1 ? await ctx.tasks.groupTasksPerZone(task.clusterArn, task.group) : {};
    [outcome] = placeTasks([{ needs, kind }], candidates, perZone).outcomes;
  }
  if ('failed' in outcome) {
    onNoCapacity?.(task, outcome.failed);
    return 'no-capacity';
  }
  const decision = outcome.placed;
  const placed = stampTask(task, { ...(stepped ?? task), version: version + 1, ...reservationFields(kind, decision, needs) }, ctx.clock());
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
    ...(stepped ? {} : { unplaced: { scope, action: 'delete' as const } }),
  });
  return 'placed';
}

/** Where a task's hosts are: its cluster's instances, or the region's Fargate pool. */
export function hostPartitionOf(task: Pick<TaskRecord, 'taskArn' | 'clusterArn' | 'launchType' | 'capacityProviderName'>): string {
  return isFargateKind(capacityKindOf(task)) ? fargatePoolPartition(scopeOfArn(task.taskArn)) : task.clusterArn;
}

/** Whether the engine's next step for this task (as the image shows it) looks for a host. */
export function placesNext(ctx: Pick<BerthContext, 'clock' | 'retention'>, task: TaskRecord): boolean {
  const step = decideEngineStep(task, ctx.clock(), ctx.retention.stoppedTaskMs);
  return step?.kind === 'place' || (step?.kind === 'advance' && step.placeAlong === true);
}

/**
 * The hosts a stream batch's first record will place on, read now, before the batch's events are
 * published and its agents notified (neither writes to the table), rather than after: one DynamoDB
 * round trip off the path from a commit to the next step. Only the first record's: a later record's
 * placement must see what the records before it did (a share taken, a share given back), so it reads
 * when its turn comes, as before. Serves one placement; a retry reads afresh. Undefined when the
 * record's next step looks for no host.
 */
export function prefetchHosts(ctx: BerthContext, first: TaskRecord | undefined): HostReader | undefined {
  let places: boolean;
  try {
    places = first !== undefined && placesNext(ctx, first);
  } catch {
    return undefined; // the record's own step fails the same way, where its failure is reported
  }
  if (!places) return undefined;
  const partition = hostPartitionOf(first!);
  // Awaited by the placement, or never (the publish failed and the batch is retried).
  let read: Promise<StoredContainerInstance[]> | undefined = startedEarly(ctx.containerInstances.all(partition));
  return (wanted) => {
    const served = wanted === partition ? read : undefined;
    read = undefined;
    return served ?? ctx.containerInstances.all(wanted);
  };
}

/**
 * A stored host as the placement function sees it; `groups` (the groups of the tasks on each host)
 * when strategies or constraints may look at them.
 */
export const placementCandidate =
  (region: string, groups?: ReadonlyMap<string, Record<string, number>>) =>
  (instance: StoredContainerInstance): PlacementCandidate => ({
    containerInstanceArn: instance.record.containerInstanceArn,
    availabilityZone: availabilityZoneOf(instance.record, region),
    status: instance.record.status,
    remaining: instance.remaining,
    serves: servedKinds(instance),
    agentConnected: instance.record.agentConnected,
    attributes: instance.record.attributes,
    ec2InstanceId: instance.record.ec2InstanceId,
    agentVersion: instance.record.versionInfo.agentVersion,
    registeredAt: instance.record.registeredAt,
    runningTasksCount: instance.runningTasksCount,
    ...(groups ? { taskGroups: groups.get(instance.record.containerInstanceArn) ?? {} } : {}),
  });

/** Values in [0, 1) from the context's random bytes: the random strategy's source. */
export const randomUnit = (ctx: Pick<BerthContext, 'randomBytes'>) => () => Buffer.from(ctx.randomBytes(4)).readUInt32BE(0) / 2 ** 32;

/**
 * How a task is placed: its group, the strategies and constraints stored on it (validated when it was
 * asked for; RunTask's or its service's, plus its task definition's memberOf). No strategy: spread
 * across availability zones, ECS's default for services and Berth's for RunTask.
 */
export function placementOptionsOf(
  task: Pick<TaskRecord, 'group' | 'placementConstraints' | 'placementStrategy'>,
  random: () => number,
): PlacementOptions {
  const strategies = parsePlacementStrategies(task.placementStrategy);
  return {
    group: task.group,
    constraints: (task.placementConstraints ?? []).map((c) => parsePlacementConstraint(c, 'service')),
    ...(strategies.length ? { strategies } : {}),
    random,
  };
}

/** What a stored task reserves on its host. */
export const requirementsOf = (task: TaskRecord) =>
  taskRequirements(
    task,
    task.containers.map((c) => ({
      cpu: Number(c.cpu ?? 0),
      memory: c.memory === undefined ? undefined : Number(c.memory),
      memoryReservation: c.memoryReservation === undefined ? undefined : Number(c.memoryReservation),
    })),
  );

/** The fields a placement sets on a task: its zone, its host (EC2 only, as ECS shows), the reservation. */
export function reservationFields(
  kind: string,
  decision: { containerInstanceArn: string; availabilityZone: string },
  needs: { cpu: number; memory: number },
): Partial<TaskRecord> {
  return {
    availabilityZone: decision.availabilityZone,
    // ECS shows the container instance of EC2/EXTERNAL tasks only; Fargate hosts are not the user's.
    ...(isFargateKind(kind) ? {} : { containerInstanceArn: decision.containerInstanceArn }),
    reservation: { containerInstanceArn: decision.containerInstanceArn, ...needs },
  };
}

/**
 * How long a task may wait for capacity before it stops with TaskFailedToStart. ECS lets tasks of a
 * capacity provider wait while capacity is being added (its managed scaling's default instance
 * warm-up is 300 seconds); Berth adds capacity only when an agent joins or a task stops, so five
 * minutes is long enough for a stopping task to hand its share over and short enough to be noticed.
 */
export const DEFAULT_CAPACITY_WAIT_MS = 5 * 60_000;

/** ECS's words for Fargate capacity that is not there; the resource follows in parentheses. */
export const CAPACITY_UNAVAILABLE = 'Capacity is unavailable at this time. Please try again later or in a different availability zone.';

export interface SweepOptions {
  /** A task waiting longer than this stops with TaskFailedToStart. Default DEFAULT_CAPACITY_WAIT_MS. */
  readonly maxWaitMs?: number;
  readonly logger?: Pick<Console, 'info'>;
}

/**
 * Tries to place every task of the account+region that waits for capacity: run when capacity appears
 * (an agent registers, a task releases its share) and on a timer, so no trigger can be lost for good.
 * Tasks waiting for a kind of capacity that no host offers at all are skipped without a look until
 * their wait is over; then (placed or not on a last try) they stop with TaskFailedToStart and a reason
 * naming what was missing.
 */
export async function placeWaitingTasks(ctx: BerthContext, scope: Scope, options: SweepOptions = {}): Promise<number> {
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_CAPACITY_WAIT_MS;
  const now = ctx.clock();
  let placed = 0;
  // Each partition's hosts are read once per sweep until a placement there takes a share: then read
  // again, so the next waiting task sees where the previous one went (its share and, through the
  // groups read with each placement, its group) and a sweep's placements stay balanced. A placement
  // that meets capacity taken by someone else looks again at fresh hosts (advanceTask).
  const cache = new Map<string, Promise<StoredContainerInstance[]>>();
  const hosts: HostReader = (partition) => {
    if (!cache.has(partition)) cache.set(partition, ctx.containerInstances.all(partition));
    return cache.get(partition)!;
  };
  for (const pointer of await ctx.tasks.unplaced(scope)) {
    const kind = pointer.capacity ?? 'EC2';
    const partition = isFargateKind(kind) ? fargatePoolPartition(scope) : pointer.clusterArn;
    const offered = await hosts(partition);
    const served = offered.some((h) => h.record.status === 'ACTIVE' && h.record.agentConnected && servedKinds(h).includes(kind));
    const overdue = pointer.since === undefined || now - pointer.since >= maxWaitMs;
    if (!served && !overdue) continue;
    const stored = await ctx.tasks.get(pointer.clusterArn, pointer.taskId);
    if (!stored) continue;
    let failure: PlacementFailure | undefined;
    const outcome = served ? await advanceTask(ctx, stored, hosts, (_task, why) => (failure = why)) : 'no-capacity';
    if (outcome === 'placed') {
      placed++;
      cache.delete(partition);
    }
    if (outcome !== 'no-capacity' || now - stored.record.createdAt < maxWaitMs) continue;
    failure ??= whyUnplaced(
      { needs: requirementsOf(stored.record), kind },
      offered.map(placementCandidate(scope.region)),
      isFargateKind(kind) ? {} : placementOptionsOf(stored.record, randomUnit(ctx)),
    );
    await giveUp(ctx, stored, failure, options.logger);
  }
  return placed;
}

/** Stops a task that waited too long (conditional on the version read; a lost race waits for the next sweep). */
async function giveUp(ctx: BerthContext, stored: StoredTask, failure: PlacementFailure, logger?: Pick<Console, 'info'>) {
  if (stored.record.lastStatus !== 'PENDING' || stored.record.reservation) return;
  const reason = `${CAPACITY_UNAVAILABLE} (${failure.reason}: ${failure.detail})`.slice(0, 255);
  const stop = requestStop(stored.record, 'TaskFailedToStart', reason);
  if (!stop.changed) return;
  const { changed: _changed, ...fields } = stop;
  try {
    const task = stampTask(stored.record, { ...stored.record, ...fields, version: stored.version + 1 }, ctx.clock());
    await ctx.tasks.applyChange({ task, expectedVersion: stored.version });
    logger?.info(`Task ${stored.record.taskArn} stopped: no ${capacityKindOf(stored.record)} capacity came (${failure.reason}).`);
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
  }
}

/**
 * The kinds of capacity a host serves: its Fargate providers, or EC2 for a cluster's instance, plus
 * the Auto Scaling group capacity provider it joined with (its tasks go only to such instances).
 */
const servedKinds = (host: StoredContainerInstance) => {
  if (host.record.fargateProviders.length) return host.record.fargateProviders;
  const provider = capacityProviderOf(host.record.attributes);
  return provider ? ['EC2', provider] : ['EC2'];
};
