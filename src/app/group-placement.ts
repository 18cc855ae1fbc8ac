/**
 * New tasks placed as one group at creation: RunTask's count and a REPLICA scheduler pass's starts.
 * One read of the cluster's hosts (and of the groups of the tasks on them), then one placement round
 * (src/domain/placement.ts placementRound), so each task is placed knowing where the ones before it
 * in the group went: a spread keeps per-value counts within one, binpack fills consistently, and
 * distinctInstance sees the group's own tasks. Placed one by one as the engine places waiting tasks,
 * concurrent placements (two lanes, a sweep beside a lane) each read the same "emptiest" host.
 *
 * The chosen shares are reserved by conditional ADDs in the creating transaction (reservationsOf),
 * so a host whose room went meanwhile fails the write and the caller decides again on fresh reads.
 * Fargate tasks are left to the engine (the region's pool, no strategies); a task no instance can
 * take is the caller's to answer (RunTask: a failure; a service or a capacity provider: it waits).
 */
import { capacityKindOf, isFargateKind, placementRound, type PlacementFailure } from '../domain/placement';
import type { StampedTask } from '../domain/update-time';
import type { StoredContainerInstance } from '../adapters/dynamodb/container-instance-repository';
import type { InstanceChange } from '../adapters/dynamodb/task-repository';
import type { RequestContext } from './context';
import { startedEarly } from './early-reads';
import { placementCandidate, placementOptionsOf, randomUnit, requirementsOf, reservationFields } from './task-engine';

export interface GroupPlacement {
  /** Each placed task, with its zone, host and reservation. */
  readonly placed: ReadonlyMap<StampedTask, StampedTask>;
  /** Each task of a cluster kind that found no host, with ECS's reason. */
  readonly failed: ReadonlyMap<StampedTask, PlacementFailure>;
  /** The cluster's hosts as read (RunTask refuses a cluster with none). */
  readonly hosts: readonly StoredContainerInstance[];
}

/** What a group placement reads: the cluster's hosts, and the groups of the tasks on each. */
export type PlacementReads = Promise<[StoredContainerInstance[], Map<string, Record<string, number>>]>;

/**
 * Starts a group placement's reads, for a caller that knows early that it will place (RunTask with
 * launch type EC2 reads them beside its other reads); nothing is lost if it fails before awaiting them.
 */
export function startPlacementReads(ctx: RequestContext, clusterArn: string): PlacementReads {
  return startedEarly(Promise.all([ctx.containerInstances.all(clusterArn), ctx.tasks.groupsPerInstance(clusterArn)]));
}

/**
 * Places the tasks of a cluster kind (EC2, an Auto Scaling group provider's) among `tasks`, in order;
 * on `reads` when the caller started them (startPlacementReads), else on reads made now.
 */
export async function placeGroup(
  ctx: RequestContext,
  clusterArn: string,
  tasks: readonly StampedTask[],
  reads?: PlacementReads,
): Promise<GroupPlacement> {
  const own = tasks.filter((task) => !isFargateKind(capacityKindOf(task)));
  if (!own.length) return { placed: new Map(), failed: new Map(), hosts: [] };
  const [hosts, groups] = await (reads ?? startPlacementReads(ctx, clusterArn));
  // What runs where now: the spread counts, distinctInstance and task:group expressions look at it.
  const round = placementRound(hosts.map(placementCandidate(ctx.scope.region, groups)));
  const random = randomUnit(ctx);
  const placed = new Map<StampedTask, StampedTask>();
  const failed = new Map<StampedTask, PlacementFailure>();
  for (const task of own) {
    const kind = capacityKindOf(task);
    const needs = requirementsOf(task);
    const outcome = round.place({ needs, kind }, placementOptionsOf(task, random));
    if ('failed' in outcome) failed.set(task, outcome.failed);
    else placed.set(task, { ...task, ...reservationFields(kind, outcome.placed, needs) });
  }
  return { placed, failed, hosts };
}

/** The host shares placed tasks take, one conditional ADD per host (summed), for the creating transaction. */
export function reservationsOf(tasks: readonly StampedTask[]): InstanceChange[] {
  const shares = new Map<string, InstanceChange>();
  for (const { reservation } of tasks) {
    if (!reservation) continue;
    const share = shares.get(reservation.containerInstanceArn);
    shares.set(reservation.containerInstanceArn, {
      containerInstanceArn: reservation.containerInstanceArn,
      cpu: (share?.cpu ?? 0) - reservation.cpu,
      memory: (share?.memory ?? 0) - reservation.memory,
      pendingTasks: (share?.pendingTasks ?? 0) + 1,
      requireCapacity: true,
    });
  }
  return [...shares.values()];
}
