import { describe, expect, it } from 'vitest';
import {
  capacityProviderReservation,
  instancesNeeded,
  MANAGED_SCALING_NAMESPACE,
  reservationEmfRecord,
  type ProviderInstance,
} from '../../src/domain/managed-scaling';
import type { ResourceAmounts } from '../../src/domain/container-instance';

const instance = (tasks: number, cpu = 2048, memory = 4096): ProviderInstance => ({ registered: { cpu, memory }, tasks });
const task = (cpu = 256, memory = 512): ResourceAmounts => ({ cpu, memory });

describe('CapacityProviderReservation', () => {
  it.each<{ name: string; instances: ProviderInstance[]; waiting: ResourceAmounts[]; needed: number; reservation: number }>([
    { name: 'no instance, nothing to run: 100 (steady)', instances: [], waiting: [], needed: 0, reservation: 100 },
    { name: 'no instance, a task waits: 200 (ECS special case)', instances: [], waiting: [task()], needed: 1, reservation: 200 },
    { name: 'one instance running a task: 100', instances: [instance(1)], waiting: [], needed: 1, reservation: 100 },
    { name: 'two instances, one idle: 50', instances: [instance(3), instance(0)], waiting: [], needed: 1, reservation: 50 },
    { name: 'idle instances only: 0', instances: [instance(0), instance(0)], waiting: [], needed: 0, reservation: 0 },
    { name: 'one busy instance and a waiting task: 200', instances: [instance(1)], waiting: [task()], needed: 2, reservation: 200 },
    {
      name: 'waiting tasks needing three instances of the largest size by memory: (1 + 3) / 2',
      instances: [instance(1, 4096, 2048), instance(1, 1024, 1024)],
      waiting: [task(256, 2048), task(256, 2048), task(256, 1024)],
      needed: 5,
      reservation: 250,
    },
    { name: 'three instances, one busy: 33.3...', instances: [instance(1), instance(0), instance(0)], waiting: [], needed: 1, reservation: 100 / 3 },
  ])('$name', ({ instances, waiting, needed, reservation }) => {
    expect(instancesNeeded({ instances, waiting })).toBe(needed);
    expect(capacityProviderReservation({ instances, waiting })).toBeCloseTo(reservation, 10);
  });

  // A task waits only when no instance can take it (the sweep places first), so with every instance
  // busy or none at all, demand shows above 100, and without waiting tasks never above it.
  it('is above 100 while a task waits and every instance is busy; never above 100 without waiting tasks', () => {
    for (const instances of [[], [instance(1)], [instance(2), instance(5)], [instance(1), instance(1), instance(3)]]) {
      expect(capacityProviderReservation({ instances, waiting: [task()] })).toBeGreaterThan(100);
      expect(capacityProviderReservation({ instances, waiting: [] })).toBeLessThanOrEqual(100);
    }
  });
});

describe('the embedded metric format record', () => {
  it("is one metric in Berth's namespace with ECS's dimensions", () => {
    expect(reservationEmfRecord(1_700_000_000_000, 'jobs', 'workers', 200)).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          { Namespace: 'Berth/ManagedScaling', Dimensions: [['ClusterName', 'CapacityProviderName']], Metrics: [{ Name: 'CapacityProviderReservation', Unit: 'Percent' }] },
        ],
      },
      ClusterName: 'jobs',
      CapacityProviderName: 'workers',
      CapacityProviderReservation: 200,
    });
    // ECS's own namespace is AWS's: Berth never publishes into it.
    expect(MANAGED_SCALING_NAMESPACE.startsWith('AWS/')).toBe(false);
  });
});
