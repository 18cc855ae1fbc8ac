/**
 * Seed 003: a service keeps its split over its capacity provider strategy, by base then weight, as
 * tasks come and go: the REPLICA reconciler's replacements go to the provider that restores the split
 * (startsFor counts the tasks each provider keeps and hands them to distributeTasks). An interrupted
 * FARGATE_SPOT task is replaced on FARGATE_SPOT, never moved to FARGATE, while the split asks for Spot.
 */
import { describe, expect, it } from 'vitest';
import type { CapacityProviderStrategyItem } from '../../src/domain/capacity-strategy';
import type { TaskRecord } from '../../src/domain/records';
import { reconcile } from '../../src/domain/service-reconciler';
import { NEW, NOW, aDeployment, aService, aTask, deepFreeze } from '../support/services';

const completed = (strategy: CapacityProviderStrategyItem[], desiredCount: number) =>
  [aDeployment({ launchType: undefined, capacityProviderStrategy: strategy, desiredCount, rolloutState: 'COMPLETED', completedAt: NOW - 1000 })];
const onProvider = (capacityProviderName: string, n: number, o: Partial<TaskRecord> = {}) =>
  Array.from({ length: n }, () => aTask({ capacityProviderName, ...o }));
/** A Spot interruption as ECS records it: the task stopped with stopCode SpotInterruption. */
const interrupted = () =>
  aTask({ capacityProviderName: 'FARGATE_SPOT', lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' });

const replacements = (strategy: CapacityProviderStrategyItem[], desiredCount: number, tasks: TaskRecord[]) => {
  const service = aService({ desiredCount, launchType: undefined, capacityProviderStrategy: strategy });
  const plan = reconcile(deepFreeze(service), deepFreeze(completed(strategy, desiredCount)), deepFreeze(tasks), NOW, () => 0);
  expect(plan.stop).toEqual([]);
  expect(plan.start.every((s) => s.deploymentId === NEW)).toBe(true);
  return Object.fromEntries(plan.start.map((s) => [s.capacityProvider!, s.count]));
};

const SPOT_ONLY = [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }];
// 1 on FARGATE first, then 1:3: at 5 tasks FARGATE 2, FARGATE_SPOT 3.
const MIXED = [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 }];

describe('seed 003: replacements restore the split over the capacity provider strategy', () => {
  it.each([
    { name: 'an interrupted Spot task of a Spot-only service is replaced on FARGATE_SPOT', strategy: SPOT_ONLY, desired: 3, tasks: [...onProvider('FARGATE_SPOT', 2), interrupted()], expected: { FARGATE_SPOT: 1 } },
    { name: 'an interrupted Spot task of a mixed service goes back to FARGATE_SPOT, not FARGATE', strategy: MIXED, desired: 5, tasks: [...onProvider('FARGATE', 2), ...onProvider('FARGATE_SPOT', 2), interrupted()], expected: { FARGATE_SPOT: 1 } },
    { name: 'a FARGATE task lost from a mixed service goes back to FARGATE', strategy: MIXED, desired: 5, tasks: [...onProvider('FARGATE', 1), ...onProvider('FARGATE_SPOT', 3)], expected: { FARGATE: 1 } },
    { name: 'the base task lost first is restored first', strategy: MIXED, desired: 5, tasks: onProvider('FARGATE_SPOT', 3), expected: { FARGATE: 2 } },
    { name: 'scaling up from the split continues it by weight', strategy: MIXED, desired: 9, tasks: [...onProvider('FARGATE', 2), ...onProvider('FARGATE_SPOT', 3)], expected: { FARGATE: 1, FARGATE_SPOT: 3 } },
    { name: 'all Spot tasks interrupted at once: all back on Spot', strategy: MIXED, desired: 5, tasks: [...onProvider('FARGATE', 2), interrupted(), interrupted(), interrupted()], expected: { FARGATE_SPOT: 3 } },
  ])('$name', ({ strategy, desired, tasks, expected }) => {
    expect(replacements(strategy, desired, tasks)).toEqual(expected);
  });

  it('a Spot replacement still waiting for capacity (PROVISIONING on FARGATE_SPOT) counts as Spot: nothing is started elsewhere meanwhile', () => {
    const waiting = aTask({ capacityProviderName: 'FARGATE_SPOT', lastStatus: 'PROVISIONING', startedAt: undefined, containerInstanceArn: undefined });
    expect(replacements(MIXED, 5, [...onProvider('FARGATE', 2), ...onProvider('FARGATE_SPOT', 2), waiting])).toEqual({});
  });
});
