/**
 * Availability Zone rebalancing of a REPLICA service (ECS's `availabilityZoneRebalancing`), pure.
 * Source: the ECS developer guide's "Balancing an Amazon ECS service across Availability Zones" and
 * "Track Amazon ECS Availability Zone rebalancing" pages. Once a service is steady, the scheduler
 * looks at its tasks per zone; when they are uneven it says so (SERVICE_REBALANCING_STARTED), starts a
 * task in the zone with the fewest, waits for it, stops one in the zone with the most, and repeats
 * until the zones are even (SERVICE_REBALANCING_COMPLETED).
 *
 * One step per pass, a start then a stop, so a rebalance never goes below the service's healthy
 * tasks and never above maximumPercent:
 *
 *   D 4, zones a b c, tasks a:3 b:1 c:0 (steady)    -> start 1 in c   (event: not AZ balanced ...)
 *   a:3 b:1 c:1, the new task PENDING               -> wait for it (the reconciler's scale-in holds)
 *   a:3 b:1 c:1 all RUNNING                         -> stop the newest of a
 *   a:2 b:1 c:1 (steady again)                      -> balanced: event "is AZ balanced ..."
 *
 * "Even" is over the zones the service can place a task in now (`placeableZones`) and the zones its
 * tasks run in: no placeable zone has two or more tasks fewer than any zone. With capacity in every
 * zone that is max - min <= 1. Each step moves one task from a zone holding m to a placeable zone
 * holding p <= m - 2, which lowers the sum of the squared counts, so a rebalance always ends.
 *
 * Never: with a binpack strategy (ECS treats such a service as incompatible), for DAEMON or EXTERNAL
 * services, during a rollout (not steady), with unhealthy or stopping tasks about, or when
 * maximumPercent leaves no room for the extra task (a hold says so). A stop never takes the last task
 * of a zone, never a task with scale-in protection.
 */
import type { ResourceAmounts } from './container-instance';
import { placeTasks, type PlacementCandidate, type PlacementOptions } from './placement';
import type { ServiceRecord } from './service';
import type { ServiceTask } from './service-tasks';
import { isProtected } from './task-protection';

export type AvailabilityZoneRebalancing = 'ENABLED' | 'DISABLED';

/** ECS's default on CreateService: ENABLED for a service that can be rebalanced, DISABLED otherwise. */
export function defaultRebalancing(service: Pick<ServiceRecord, 'schedulingStrategy' | 'placementStrategy'>): AvailabilityZoneRebalancing {
  return service.schedulingStrategy === 'REPLICA' && !usesBinpack(service) ? 'ENABLED' : 'DISABLED';
}

const usesBinpack = (service: Pick<ServiceRecord, 'placementStrategy'>) =>
  (service.placementStrategy ?? []).some((s) => s.type === 'binpack');

/** Why the scheduler does not rebalance this service at all, or undefined when it may. */
export function rebalancingExcluded(
  service: Pick<ServiceRecord, 'availabilityZoneRebalancing' | 'schedulingStrategy' | 'deploymentController' | 'placementStrategy' | 'status'>,
): string | undefined {
  // A service that never had a value is DISABLED (ECS: "treats this as DISABLED").
  if (service.availabilityZoneRebalancing !== 'ENABLED') return 'availabilityZoneRebalancing is DISABLED';
  if (service.status !== 'ACTIVE') return `the service is ${service.status}`;
  if (service.schedulingStrategy !== 'REPLICA') return 'DAEMON services are not rebalanced';
  if (service.deploymentController.type !== 'ECS') return 'only the ECS deployment controller rebalances';
  if (usesBinpack(service)) return 'a binpack placement strategy is never rebalanced';
  return undefined;
}

/** Tasks per zone, every zone named (zones without tasks count 0). */
export type ZoneCounts = ReadonlyMap<string, number>;

export function zoneCounts(tasks: readonly ServiceTask[], zones: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>(zones.map((z) => [z, 0]));
  for (const t of tasks) {
    const z = t.task.availabilityZone;
    if (z !== undefined) counts.set(z, (counts.get(z) ?? 0) + 1);
  }
  return counts;
}

/** Zone order in messages and ties: by name. */
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The move that evens the zones most: from a zone with the most tasks to a placeable zone with the
 * fewest, when that takes the difference down (by two or more); undefined when the zones are even.
 */
export function unevenMove(counts: ZoneCounts, placeableZones: readonly string[]): { from: string; to: string } | undefined {
  let from: string | undefined;
  for (const z of [...counts.keys()].sort(byName)) if (from === undefined || counts.get(z)! > counts.get(from)!) from = z;
  let to: string | undefined;
  for (const z of [...new Set(placeableZones)].sort(byName)) {
    if (to === undefined || (counts.get(z) ?? 0) < (counts.get(to) ?? 0)) to = z;
  }
  if (from === undefined || to === undefined) return undefined;
  return counts.get(from)! - (counts.get(to) ?? 0) >= 2 ? { from, to } : undefined;
}

/** "2 tasks in us-east-1a, 0 in us-east-1b, and 1 in us-east-1c" (ECS's list; `each` repeats "tasks"). */
function perZone(counts: ZoneCounts, each: boolean): string {
  const parts = [...counts.keys()].sort(byName).map((z, i) => `${counts.get(z)}${i === 0 || each ? ' tasks' : ''} in ${z}`);
  if (parts.length <= 2) return parts.join(' and ');
  return `${parts.slice(0, -1).join(', ')}, and ${parts[parts.length - 1]}`;
}

/** ECS's two service event messages (SERVICE_REBALANCING_STARTED / _COMPLETED), zones by name. */
export const rebalancingMessages = {
  started: (service: string, counts: ZoneCounts) =>
    `service (${service}) is not AZ balanced with ${perZone(counts, false)}. AZ Rebalancing in progress.`,
  completed: (service: string, counts: ZoneCounts) => `service (${service}) is AZ balanced with ${perZone(counts, true)}.`,
} as const;

export interface RebalancingInput {
  readonly service: Pick<
    ServiceRecord,
    'serviceName' | 'availabilityZoneRebalancing' | 'schedulingStrategy' | 'deploymentController' | 'placementStrategy' | 'status'
  >;
  /** Zones where one more task of the service could be placed now; absent: not known (nothing moves). */
  readonly placeableZones?: readonly string[];
  /** The PRIMARY deployment's tasks that are kept (not unhealthy, not being stopped). */
  readonly tasks: readonly ServiceTask[];
  readonly desiredCount: number;
  /** Tasks holding resources now, and the maximumPercent ceiling. */
  readonly occupied: number;
  readonly ceiling: number;
  /** Whether the service is otherwise quiet: PRIMARY COMPLETED, no tasks of older deployments, none unhealthy. */
  readonly steady: boolean;
  /** A task of the service is being stopped (desired STOPPED, not yet STOPPED). */
  readonly stopInFlight: boolean;
  /** Berth's mark on the PRIMARY: a rebalance is under way (the extra task may be about). */
  readonly inProgress: boolean;
  readonly now: number;
}

export type RebalancingStep =
  /** Nothing to do; `why` for the holds when a rebalance in progress ends without completing. */
  | { readonly kind: 'none'; readonly why?: string }
  /** Start one task in `zone`; `message` the STARTED event when this begins a rebalance. */
  | { readonly kind: 'start'; readonly zone: string; readonly message?: string; readonly why: string }
  /** The extra task is not serving yet: hold the scale-in that would take it. */
  | { readonly kind: 'wait'; readonly why: string }
  /** Stop this task (a zone with the most, never its last). */
  | { readonly kind: 'stop'; readonly task: ServiceTask; readonly why: string }
  /** Even again after a rebalance: the COMPLETED event. */
  | { readonly kind: 'complete'; readonly message: string }
  /** Uneven but no step fits the bounds. */
  | { readonly kind: 'hold'; readonly why: string };

/** The next rebalancing step of a service, from its kept PRIMARY tasks; see the file's comment. */
export function rebalancingStep(input: RebalancingInput): RebalancingStep {
  const { service, tasks, desiredCount: D, placeableZones, inProgress } = input;
  const ended = (why: string): RebalancingStep => ({ kind: 'none', ...(inProgress ? { why: `AZ rebalancing ended: ${why}` } : {}) });
  const excluded = rebalancingExcluded(service);
  if (excluded) return ended(excluded);
  // A rollout, an unhealthy-task replacement or a scale-in takes over: it places and stops by its own rules.
  if (!input.steady) return ended('the service is not steady');
  if (placeableZones === undefined) return ended('the zones are not known');
  if (tasks.length > D + 1 || (tasks.length === D + 1 && !inProgress)) return ended('more tasks than desiredCount');
  // One step at a time: the task a step stopped (or any other stop) finishes first.
  if (input.stopInFlight) return inProgress ? { kind: 'wait', why: 'AZ rebalancing: waiting for a stopping task' } : { kind: 'none' };
  if (tasks.some((t) => t.condition !== 'available')) {
    return inProgress ? { kind: 'wait', why: 'AZ rebalancing: waiting for the tasks to be running and healthy' } : { kind: 'none' };
  }
  const counts = zoneCounts(tasks, placeableZones);
  if (tasks.length === D + 1) {
    // The step's extra task serves: stop one in a zone with the most (never a zone's last task).
    const zones = [...counts.keys()].filter((z) => counts.get(z)! >= 2).sort((a, b) => counts.get(b)! - counts.get(a)! || byName(a, b));
    for (const z of zones) {
      const candidates = tasks
        .filter((t) => t.task.availabilityZone === z && !isProtected(t.task, input.now))
        .sort((a, b) => b.task.createdAt - a.task.createdAt || byName(a.task.taskArn, b.task.taskArn));
      if (candidates[0]) return { kind: 'stop', task: candidates[0], why: `AZ rebalancing: ${counts.get(z)} tasks in ${z}, the zone with the most` };
    }
    return ended('no zone has a task it may stop');
  }
  if (tasks.length < D) return inProgress ? { kind: 'wait', why: 'AZ rebalancing: waiting for desiredCount tasks' } : { kind: 'none' };
  const move = unevenMove(counts, placeableZones);
  if (!move) return inProgress ? { kind: 'complete', message: rebalancingMessages.completed(service.serviceName, counts) } : { kind: 'none' };
  if (input.occupied + 1 > input.ceiling) {
    return { kind: 'hold', why: `AZ rebalancing held: maximumPercent leaves no room for a task in ${move.to} (ceiling ${input.ceiling})` };
  }
  return {
    kind: 'start',
    zone: move.to,
    ...(inProgress ? {} : { message: rebalancingMessages.started(service.serviceName, counts) }),
    why: `AZ rebalancing: ${counts.get(move.to) ?? 0} tasks in ${move.to}, ${counts.get(move.from)} in ${move.from}`,
  };
}

/**
 * The zones where one more task could be placed now: per zone, the one placement function
 * (placement.ts) over that zone's hosts, for any of the service's capacity kinds.
 */
export function zonesWithRoom(
  candidates: readonly PlacementCandidate[],
  needs: ResourceAmounts,
  kinds: readonly string[],
  options: PlacementOptions = {},
): string[] {
  const byZone = new Map<string, PlacementCandidate[]>();
  for (const c of candidates) {
    const list = byZone.get(c.availabilityZone);
    if (list) list.push(c);
    else byZone.set(c.availabilityZone, [c]);
  }
  return [...byZone]
    .filter(([, hosts]) => kinds.some((kind) => 'placed' in placeTasks([{ needs, kind }], hosts, {}, options).outcomes[0]!))
    .map(([zone]) => zone)
    .sort(byName);
}
