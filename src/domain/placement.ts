/**
 * Where a task goes: pure, from the task's needs and the candidate hosts' remaining capacity.
 * Candidates are filtered (ACTIVE, the right kind of capacity, enough cpu and memory), then spread
 * across availability zones (the AZ with the fewest tasks of the task's group first, ECS's default for
 * services and a fair default for RunTask), then the host with the most memory left (so one host does
 * not take everything), then by ARN so the choice is deterministic.
 */
import type { ContainerDefinition, TaskRecord } from './records';
import type { ResourceAmounts } from './container-instance';
import { parseCpu, parseMemory } from './task-definition-rules';

export interface PlacementCandidate {
  readonly containerInstanceArn: string;
  readonly availabilityZone: string;
  readonly status: string;
  readonly remaining: ResourceAmounts;
  /** Capacity kinds it serves: 'EC2' for cluster instances, 'FARGATE' / 'FARGATE_SPOT' for pool hosts. */
  readonly serves: readonly string[];
  /** False when the host's agent stopped polling; such a host takes no new task. Default true. */
  readonly agentConnected?: boolean;
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

/** The kind of capacity a task needs. */
export const capacityKindOf = (task: Pick<TaskRecord, 'launchType' | 'capacityProviderName'>) =>
  task.launchType === 'FARGATE' ? (task.capacityProviderName ?? 'FARGATE') : 'EC2';

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
 * of a capacity-provider task that waited too long. `arn` is the host the reason is about (the best
 * ranked one that was looked at), absent when there was no host at all.
 */
export type PlacementFailureReason = 'RESOURCE:CPU' | 'RESOURCE:MEMORY' | 'AGENT' | 'MISSING';

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

/**
 * Places a batch (RunTask's count, one waiting task) on hosts as they are now: each placement takes
 * its share off the chosen host before the next is decided, so a batch never overcommits a host and
 * five tasks where three fit give three placements and two failures. Pure: the caller reserves the
 * chosen shares with conditional writes, so a host that changed meanwhile fails the write, not a host.
 * Hosts whose agent is disconnected are not placed on (ECS answers AGENT for them).
 */
export function placeTasks(
  requests: readonly PlacementRequest[],
  candidates: readonly PlacementCandidate[],
  groupTasksPerZone: Readonly<Record<string, number>> = {},
): BatchPlacement {
  const hosts = candidates.map((c) => ({ ...c, remaining: { ...c.remaining } }));
  const perZone: Record<string, number> = { ...groupTasksPerZone };
  const outcomes = requests.map((request) => {
    const usable = hosts.filter((h) => h.agentConnected !== false);
    const placed = placeTask(request.needs, request.kind, usable, perZone);
    if (!placed) return { failed: whyUnplaced(request, hosts) };
    const host = hosts.find((h) => h.containerInstanceArn === placed.containerInstanceArn)!;
    host.remaining.cpu -= request.needs.cpu;
    host.remaining.memory -= request.needs.memory;
    perZone[placed.availabilityZone] = (perZone[placed.availabilityZone] ?? 0) + 1;
    return { placed };
  });
  return { outcomes };
}

/**
 * The reason ECS would give: no ACTIVE host of the kind at all (MISSING), only disconnected ones
 * (AGENT), else the first resource (cpu before memory, ECS's order) the roomiest host lacks.
 */
export function whyUnplaced(request: PlacementRequest, candidates: readonly PlacementCandidate[]): PlacementFailure {
  const { needs, kind } = request;
  const active = candidates.filter((c) => c.status === 'ACTIVE' && c.serves.includes(kind));
  if (!active.length) return { reason: 'MISSING', detail: `No ACTIVE container instance offers ${kind} capacity.` };
  const connected = active.filter((c) => c.agentConnected !== false);
  if (!connected.length) {
    return { reason: 'AGENT', arn: byArn(active)[0].containerInstanceArn, detail: 'The container instance agent is disconnected.' };
  }
  const roomiest = [...byArn(connected)].sort((a, b) => b.remaining.memory - a.remaining.memory || b.remaining.cpu - a.remaining.cpu)[0];
  const cpuShort = roomiest.remaining.cpu < needs.cpu;
  const reason = cpuShort ? 'RESOURCE:CPU' : 'RESOURCE:MEMORY';
  const [need, left] = cpuShort
    ? [`${needs.cpu} CPU units`, roomiest.remaining.cpu]
    : [`${needs.memory} MiB of memory`, roomiest.remaining.memory];
  return { reason, arn: roomiest.containerInstanceArn, detail: `The task needs ${need}; the roomiest container instance has ${left} left.` };
}

const byArn = (hosts: readonly PlacementCandidate[]) =>
  [...hosts].sort((a, b) => (a.containerInstanceArn < b.containerInstanceArn ? -1 : 1));
