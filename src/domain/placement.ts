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
