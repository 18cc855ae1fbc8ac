/**
 * Where a task goes: pure, from the task's needs, the candidate hosts as they are now, and the task's
 * placement strategies and constraints. One path for RunTask, the engine's waiting tasks and
 * services:
 *
 *   filter  ACTIVE, connected, the right kind of capacity, enough cpu and memory, every constraint
 *           (src/domain/placement-constraints.ts)
 *   rank    the strategies in order, each breaking the ties of the ones before
 *           (src/domain/placement-strategies.ts); by default spread across availability zones
 *   pick    the first; then most memory left, most cpu left, smallest ARN break any remaining tie
 *
 * Randomness (the random strategy) comes in as a function, so a placement is determined by its inputs.
 */
import type { ContainerDefinition, KeyValuePair, TaskRecord } from './records';
import { AVAILABILITY_ZONE_ATTRIBUTE, type ResourceAmounts } from './container-instance';
import type { QueryTarget } from './cluster-query';
import { failedConstraint, type ConstraintName, type PlacementConstraint } from './placement-constraints';
import { AZ_SPREAD, compareByStrategies, spreadValue, type PlacementStrategy, type SpreadField } from './placement-strategies';
import { parseCpu, parseMemory } from './task-definition-rules';

export interface PlacementCandidate {
  readonly containerInstanceArn: string;
  readonly availabilityZone: string;
  readonly status: string;
  readonly remaining: ResourceAmounts;
  /**
   * Capacity kinds it serves: 'EC2' for cluster instances (plus the name of the Auto Scaling group
   * capacity provider it joined with, if any), 'FARGATE' / 'FARGATE_SPOT' for pool hosts.
   */
  readonly serves: readonly string[];
  /** False when the host's agent stopped polling; such a host takes no new task. Default true. */
  readonly agentConnected?: boolean;
  /** What constraints and attribute spreads look at (absent: only the zone is known). */
  readonly attributes?: readonly KeyValuePair[];
  readonly ec2InstanceId?: string;
  readonly agentVersion?: string;
  readonly registeredAt?: number;
  readonly runningTasksCount?: number;
  /** Tasks (not STOPPED) on the host, by group: for spread, distinctInstance and task:group. */
  readonly taskGroups?: Readonly<Record<string, number>>;
}

export interface PlacementDecision {
  readonly containerInstanceArn: string;
  readonly availabilityZone: string;
}

/** What a task reserves: task-level cpu/memory when set (Fargate always), else the containers' sum. */
export function taskRequirements(
  task: Pick<TaskRecord, 'cpu' | 'memory'>,
  containers: readonly Pick<ContainerDefinition, 'cpu' | 'memory' | 'memoryReservation'>[],
): ResourceAmounts {
  const cpu = task.cpu !== undefined ? parseCpu(task.cpu) : undefined;
  const memory = task.memory !== undefined ? parseMemory(task.memory) : undefined;
  return {
    cpu: cpu ?? containers.reduce((sum, c) => sum + (c.cpu ?? 0), 0),
    memory: memory ?? containers.reduce((sum, c) => sum + (c.memory ?? c.memoryReservation ?? 0), 0),
  };
}

/**
 * The kind of capacity a task needs: its Fargate provider, its Auto Scaling group provider (only the
 * container instances that joined with that provider serve it), or 'EC2' (any container instance of
 * its cluster, as a launch type EC2/EXTERNAL task goes on ECS).
 */
export const capacityKindOf = (task: Pick<TaskRecord, 'launchType' | 'capacityProviderName'>) =>
  task.launchType === 'FARGATE' ? (task.capacityProviderName ?? 'FARGATE') : (task.capacityProviderName ?? 'EC2');

/** Fargate kinds are served by the region's Fargate pool; every other kind by the cluster's own instances. */
export const isFargateKind = (kind: string) => kind === 'FARGATE' || kind === 'FARGATE_SPOT';

export function placeTask(
  needs: ResourceAmounts,
  kind: string,
  candidates: readonly PlacementCandidate[],
  groupTasksPerZone: Readonly<Record<string, number>> = {},
): PlacementDecision | undefined {
  const fits = candidates.filter(
    (c) =>
      c.status === 'ACTIVE' && c.serves.includes(kind) && c.remaining.cpu >= needs.cpu && c.remaining.memory >= needs.memory,
  );
  fits.sort(
    (a, b) =>
      (groupTasksPerZone[a.availabilityZone] ?? 0) - (groupTasksPerZone[b.availabilityZone] ?? 0) ||
      b.remaining.memory - a.remaining.memory ||
      b.remaining.cpu - a.remaining.cpu ||
      (a.containerInstanceArn < b.containerInstanceArn ? -1 : 1),
  );
  const chosen = fits[0];
  return chosen && { containerInstanceArn: chosen.containerInstanceArn, availabilityZone: chosen.availabilityZone };
}


/**
 * Why a task found no host, as ECS names it in RunTask's `failures[]` (reason) and in the stoppedReason
 * of a task that waited too long. `arn` is the host the reason is about (the best ranked one that was
 * looked at), absent when there was no host at all.
 */
export type PlacementFailureReason = 'RESOURCE:CPU' | 'RESOURCE:MEMORY' | 'AGENT' | 'MISSING' | ConstraintName;

export interface PlacementFailure {
  readonly reason: PlacementFailureReason;
  readonly arn?: string;
  readonly detail: string;
}

export interface PlacementRequest {
  readonly needs: ResourceAmounts;
  readonly kind: string;
}

export interface BatchPlacement {
  /** One entry per request, in request order: where it goes, or why it goes nowhere. */
  readonly outcomes: readonly ({ readonly placed: PlacementDecision } | { readonly failed: PlacementFailure })[];
}

/** How a batch is placed; every member is optional (the defaults are Berth's placement before strategies). */
export interface PlacementOptions {
  /** The tasks' group (service:<name>, family:<name>, RunTask's group): what spread and distinctInstance count. */
  readonly group?: string;
  /** In order, as tie-breakers. Default: spread across availability zones. */
  readonly strategies?: readonly PlacementStrategy[];
  readonly constraints?: readonly PlacementConstraint[];
  /** Values in [0, 1); needed only by the random strategy. */
  readonly random?: () => number;
}

/** The sentinel group of a batch placed without one: its own placements still spread. */
const NO_GROUP = '';

/**
 * Places a batch (RunTask's count, one waiting task) on hosts as they are now: one placement round
 * (placementRound) with the same options for every request.
 */
export function placeTasks(
  requests: readonly PlacementRequest[],
  candidates: readonly PlacementCandidate[],
  groupTasksPerZone: Readonly<Record<string, number>> = {},
  options: PlacementOptions = {},
): BatchPlacement {
  const round = placementRound(candidates, groupTasksPerZone);
  return { outcomes: requests.map((request) => round.place(request, options)) };
}

export type PlacementOutcome = BatchPlacement['outcomes'][number];

/**
 * Placements decided as one group over one read of the hosts: a scheduler pass's starts (several
 * capacity providers, several starts), RunTask's count.
 */
export interface PlacementRound {
  /** Places one task with its own options, counting every placement of the round before it. */
  place(request: PlacementRequest, options?: PlacementOptions): PlacementOutcome;
}

/**
 * A placement round over hosts as they are now: each placement takes its share off the chosen host
 * (and counts in its group) before the next is decided, so a round never overcommits a host, spread
 * sees the round's own tasks (per-value counts stay within one when capacity allows), binpack fills
 * the host it filled before, distinctInstance and `task:group` see them, and five tasks where three fit
 * give three placements and two failures. Pure: the caller reserves the chosen shares with
 * conditional writes, so a host that changed meanwhile fails the write (and the caller decides again
 * on fresh reads), not a host. Hosts whose agent is disconnected are not placed on (ECS answers
 * AGENT). `groupTasksPerZone` adds tasks per zone for callers that do not fill the candidates'
 * taskGroups (Fargate's pool).
 */
export function placementRound(
  candidates: readonly PlacementCandidate[],
  groupTasksPerZone: Readonly<Record<string, number>> = {},
): PlacementRound {
  const hosts = candidates.map((c) => ({ ...c, remaining: { ...c.remaining }, taskGroups: { ...(c.taskGroups ?? {}) } }));
  // The random strategy draws in ARN order: sorted once per round, when first needed.
  let inArnOrder: readonly PlacementCandidate[] | undefined;
  // Built once: each target holds its host's (mutable) taskGroups, so it sees the round's placements.
  const targets = new Map(hosts.map((h) => [h, queryTarget(h)]));
  const take = (host: (typeof hosts)[number], needs: ResourceAmounts, group: string) => {
    host.remaining.cpu -= needs.cpu;
    host.remaining.memory -= needs.memory;
    host.taskGroups[group] = (host.taskGroups[group] ?? 0) + 1;
  };
  return {
    place(request, options = {}) {
      const group = options.group ?? NO_GROUP;
      const strategies = options.strategies ?? [AZ_SPREAD];
      const constraints = options.constraints ?? [];
      const eligible = hosts.filter(
        (h) =>
          h.agentConnected !== false && offers(h, request.kind) && fitsIn(request.needs, h) &&
          (constraints.length === 0 || failedConstraint(constraints, targets.get(h)!, options.group) === undefined),
      );
      if (!eligible.length) return { failed: whyUnplaced(request, hosts, options) };
      if (strategies.some((s) => s.type === 'random')) inArnOrder ??= byArn(hosts);
      const chosen = best(eligible, strategies, hosts, inArnOrder ?? [], group, groupTasksPerZone, options.random);
      take(chosen, request.needs, group);
      return { placed: { containerInstanceArn: chosen.containerInstanceArn, availabilityZone: chosen.availabilityZone } };
    },
  };
}

const offers = (host: PlacementCandidate, kind: string) => host.status === 'ACTIVE' && host.serves.includes(kind);
const fitsIn = (needs: ResourceAmounts, host: PlacementCandidate) => host.remaining.cpu >= needs.cpu && host.remaining.memory >= needs.memory;

/** The host as the cluster query language sees it; its zone is always known, as placement knows it. */
export function queryTarget(host: PlacementCandidate): QueryTarget {
  const attributes = (host.attributes ?? []).filter((a) => a.name !== AVAILABILITY_ZONE_ATTRIBUTE);
  return {
    attributes: [...attributes, { name: AVAILABILITY_ZONE_ATTRIBUTE, value: host.availabilityZone }],
    agentConnected: host.agentConnected !== false,
    agentVersion: host.agentVersion,
    ec2InstanceId: host.ec2InstanceId,
    registeredAt: host.registeredAt ?? 0,
    runningTasksCount: host.runningTasksCount ?? 0,
    taskGroups: host.taskGroups ?? {},
  };
}

/** The first eligible host by the strategies; a linear scan, with each spread's counts computed once. */
function best(
  eligible: readonly (PlacementCandidate & { taskGroups: Record<string, number> })[],
  strategies: readonly PlacementStrategy[],
  allHosts: readonly (PlacementCandidate & { taskGroups: Record<string, number> })[],
  inArnOrder: readonly PlacementCandidate[],
  group: string,
  groupTasksPerZone: Readonly<Record<string, number>>,
  random: (() => number) | undefined,
) {
  const counts = new Map<SpreadField, Map<string | undefined, number>>();
  for (const strategy of strategies) {
    if (strategy.type !== 'spread' || counts.has(strategy.field)) continue;
    const perValue = new Map<string | undefined, number>();
    // Every host counts, whatever its state: tasks on a DRAINING host are still in its zone.
    for (const host of allHosts) {
      const value = spreadValue(strategy.field, host);
      perValue.set(value, (perValue.get(value) ?? 0) + (host.taskGroups[group] ?? 0));
    }
    if ('attribute' in strategy.field && strategy.field.attribute === AVAILABILITY_ZONE_ATTRIBUTE) {
      for (const [zone, n] of Object.entries(groupTasksPerZone)) perValue.set(zone, (perValue.get(zone) ?? 0) + n);
    }
    counts.set(strategy.field, perValue);
  }
  const keys = new Map<string, number>();
  if (strategies.some((s) => s.type === 'random')) {
    if (!random) throw new Error('the random placement strategy needs a random source');
    // Drawn in ARN order, so the same draws give the same placement whatever the candidates' order.
    const isEligible = new Set(eligible.map((h) => h.containerInstanceArn));
    for (const host of inArnOrder) if (isEligible.has(host.containerInstanceArn)) keys.set(host.containerInstanceArn, random());
  }
  const compare = compareByStrategies(strategies, {
    spreadCount: (field, host) => counts.get(field)?.get(spreadValue(field, host)) ?? 0,
    randomKey: (host) => keys.get(host.containerInstanceArn) ?? 0,
  });
  return eligible.reduce((chosen, host) => (compare(host, chosen) < 0 ? host : chosen));
}

/**
 * The reason ECS would give: no ACTIVE host of the kind at all (MISSING), only disconnected ones
 * (AGENT), no connected host passing the constraints (the first constraint the roomiest one fails:
 * MemberOf, DistinctInstance), else the first resource (cpu before memory, ECS's order) the roomiest
 * host passing the constraints lacks.
 */
export function whyUnplaced(
  request: PlacementRequest,
  candidates: readonly PlacementCandidate[],
  options: Pick<PlacementOptions, 'constraints' | 'group'> = {},
): PlacementFailure {
  const { needs, kind } = request;
  const active = candidates.filter((c) => offers(c, kind));
  if (!active.length) return { reason: 'MISSING', detail: `No ACTIVE container instance offers ${kind} capacity.` };
  const connected = active.filter((c) => c.agentConnected !== false);
  if (!connected.length) {
    return { reason: 'AGENT', arn: byArn(active)[0].containerInstanceArn, detail: 'The container instance agent is disconnected.' };
  }
  const constraints = options.constraints ?? [];
  const passing = connected.filter((c) => failedConstraint(constraints, queryTarget(c), options.group) === undefined);
  if (!passing.length) {
    const closest = roomiest(connected);
    const reason = failedConstraint(constraints, queryTarget(closest), options.group)!;
    return { reason, arn: closest.containerInstanceArn, detail: `${reason} placement constraint unsatisfied.` };
  }
  const closest = roomiest(passing);
  const cpuShort = closest.remaining.cpu < needs.cpu;
  const reason = cpuShort ? 'RESOURCE:CPU' : 'RESOURCE:MEMORY';
  const [need, left] = cpuShort
    ? [`${needs.cpu} CPU units`, closest.remaining.cpu]
    : [`${needs.memory} MiB of memory`, closest.remaining.memory];
  return { reason, arn: closest.containerInstanceArn, detail: `The task needs ${need}; the roomiest container instance has ${left} left.` };
}

const roomiest = (hosts: readonly PlacementCandidate[]) =>
  [...byArn(hosts)].sort((a, b) => b.remaining.memory - a.remaining.memory || b.remaining.cpu - a.remaining.cpu)[0];

const byArn = (hosts: readonly PlacementCandidate[]) =>
  [...hosts].sort((a, b) => (a.containerInstanceArn < b.containerInstanceArn ? -1 : 1));
