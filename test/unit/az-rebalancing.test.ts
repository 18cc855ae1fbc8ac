/**
 * Named scenarios for AZ rebalancing (src/domain/az-rebalancing.ts), through the REPLICA reconciler
 * that consumes it: one `it` per sentence of ECS's "Balancing an Amazon ECS service across
 * Availability Zones" process and its exclusions, the two event messages and their service actions.
 * Invariants (safety and liveness) are in az-rebalancing.property.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  defaultRebalancing, rebalancingMessages, rebalancingStep, unevenMove, zonesWithRoom,
} from '../../src/domain/az-rebalancing';
import type { PlacementCandidate } from '../../src/domain/placement';
import type { TaskRecord } from '../../src/domain/records';
import type { DeploymentRecord, ServiceRecord } from '../../src/domain/service';
import { serviceActionOf } from '../../src/domain/service-events';
import { serviceMessages } from '../../src/domain/service-messages';
import { reconcile } from '../../src/domain/service-reconciler';
import { WAKE } from '../../src/domain/service-plan';
import { serviceTasks } from '../../src/domain/service-tasks';
import { CLUSTER_ARN, NEW, NOW, ZONES, aDeployment, aService, aTask, deepFreeze, expectPlan, rolling } from '../support/services';

const [A, B, C] = ZONES;
const random = () => 0;
const enabled = (o: Partial<ServiceRecord> = {}) => aService({ availabilityZoneRebalancing: 'ENABLED', ...o });
const steady = (o: Partial<DeploymentRecord> = {}) =>
  [aDeployment({ rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${NEW} completed.`, completedAt: NOW - 1000, ...o })];
const rebalancing = () => steady({ rebalancingZones: true });
let serial = 0;
/** Tasks per zone, oldest first within the list: inZones([A, 3], [B, 1]). */
const inZones = (...spec: [string, number, Partial<TaskRecord>?][]) =>
  spec.flatMap(([zone, n, o]) =>
    Array.from({ length: n }, () => aTask({ availabilityZone: zone, createdAt: NOW - 500_000 + ++serial, ...o })));
/** `zones` null: the pass knows no zones (placeableZones absent). */
const run = (service: ServiceRecord, deployments: DeploymentRecord[], tasks: TaskRecord[], zones: readonly string[] | null = ZONES) =>
  reconcile(deepFreeze(service), deepFreeze(deployments), deepFreeze(tasks), NOW, random, { placeableZones: zones ?? undefined });
const mark = (plan: ReturnType<typeof run>) => plan.deployments.find((d) => d.id === NEW)?.rebalancingZones;

describe('ECS: "Amazon ECS starts monitoring a service after it reaches the steady state"', () => {
  it('uneven steady service: says so and starts one task in the zone with the fewest tasks', () => {
    const plan = run(enabled(), steady(), inZones([A, 3], [B, 1]));
    expectPlan(plan, {
      start: [{ deploymentId: NEW, count: 1 }],
      stop: 0,
      events: ['service (web) is not AZ balanced with 3 tasks in us-east-1a, 1 in us-east-1b, and 0 in us-east-1c. AZ Rebalancing in progress.'],
    });
    expect(plan.start[0]!.availabilityZone).toBe(C);
    expect(mark(plan)).toBe(true);
  });

  it('the extra task is not serving yet: nothing stops (the scale-in that would take it holds), nothing starts', () => {
    const plan = run(enabled(), rebalancing(), [...inZones([A, 3], [B, 1]), ...inZones([C, 1, { lastStatus: 'PENDING' }])]);
    expectPlan(plan, { start: [], stop: 0, events: [], holdsMatching: [/waiting for the tasks to be running/] });
    expect(plan.deployments.find((d) => d.id === NEW)?.rebalancingZones ?? true).toBe(true);
  });

  it('once it serves: stops the newest task of the zone with the most tasks, with the scheduler\'s stop code', () => {
    const tasks = [...inZones([A, 3], [B, 1]), ...inZones([C, 1])];
    const newestInA = tasks.filter((t) => t.availabilityZone === A).at(-1)!;
    const plan = run(enabled(), rebalancing(), tasks);
    expectPlan(plan, { start: [], stop: [{ taskArn: newestInA.taskArn, rule: 'az-rebalance' }] });
    expect(plan.stop[0]!.reason).toBe(`Scaling activity initiated by (deployment ${NEW})`);
    expect(plan.events).toContain(serviceMessages.stopped('web', [newestInA.taskArn]));
  });

  it('waits for the stopped task to be gone before the next step', () => {
    const plan = run(enabled(), rebalancing(), [...inZones([A, 2], [B, 1], [C, 1]), ...inZones([A, 1, { desiredStatus: 'STOPPED', lastStatus: 'STOPPING' }])]);
    expectPlan(plan, { start: [], stop: 0, events: [] });
    expect(plan.deployments.find((d) => d.id === NEW)?.rebalancingZones ?? true).toBe(true);
  });

  it('still uneven after a step: the next step starts again, without a second "not AZ balanced" event', () => {
    const plan = run(enabled(rolling(100, 200, 6)), rebalancing(), inZones([A, 4], [B, 1], [C, 1]));
    expectPlan(plan, { start: [{ deploymentId: NEW, count: 1 }], events: [] });
    expect(plan.start[0]!.availabilityZone).toBe(B);
  });

  it('balanced again: says so (and steady state), and the mark is gone', () => {
    const plan = run(enabled(), rebalancing(), inZones([A, 2], [B, 1], [C, 1]));
    expectPlan(plan, {
      start: [],
      stop: 0,
      events: ['service (web) is AZ balanced with 2 tasks in us-east-1a, 1 tasks in us-east-1b, and 1 tasks in us-east-1c.', serviceMessages.steadyState('web')],
    });
    expect(mark(plan)).toBeUndefined();
    expect(plan.deployments.find((d) => d.id === NEW)).not.toHaveProperty('rebalancingZones');
  });
});

describe('the pass that completes a rollout (it reads no zones: they are read only for a steady service)', () => {
  // The loop's next look would otherwise be the hourly one: a rollout that ended piled into one zone
  // (or an UpdateService that lifted a constraint while it ended) waited an hour to be rebalanced.
  const completing = () => [aDeployment({ rolloutState: 'IN_PROGRESS' })];
  it.each([
    { name: 'ENABLED, 4 tasks: looks again soon', service: enabled(), tasks: 4, wake: WAKE.progressing },
    { name: 'DISABLED: the hourly look', service: aService({ availabilityZoneRebalancing: 'DISABLED' }), tasks: 4, wake: WAKE.steady },
    { name: 'one task is always even: the hourly look', service: enabled({ desiredCount: 1 }), tasks: 1, wake: WAKE.steady },
  ])('$name', ({ service, tasks, wake }) => {
    const plan = run(service, completing(), inZones([A, tasks]), null);
    expect(plan.deployments.find((d) => d.id === NEW)).toMatchObject({ rolloutState: 'COMPLETED' });
    expect(plan.nextWakeSeconds).toBe(wake);
  });
});

describe('when the scheduler does not rebalance', () => {
  it.each<[string, ServiceRecord, DeploymentRecord[], TaskRecord[], readonly string[] | null]>([
    ['zones already even (differ by at most one)', enabled(), steady(), inZones([A, 2], [B, 1], [C, 1]), ZONES],
    ['availabilityZoneRebalancing DISABLED', aService({ availabilityZoneRebalancing: 'DISABLED' }), steady(), inZones([A, 4]), ZONES],
    ['a service that never had the setting (treated as DISABLED)', aService(), steady(), inZones([A, 4]), ZONES],
    ['a binpack placement strategy', enabled({ placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'binpack', field: 'memory' }] }), steady(), inZones([A, 4]), ZONES],
    ['during a deployment (rollout IN_PROGRESS)', enabled(), [aDeployment({ rolloutState: 'IN_PROGRESS' })], inZones([A, 4]), ZONES],
    ['with an unhealthy task to replace first', enabled({ healthCheckGracePeriodSeconds: 0 }), steady({ hasHealthCheck: true }),
      [...inZones([A, 3, { healthStatus: 'HEALTHY' }]), ...inZones([A, 1, { healthStatus: 'UNHEALTHY' }])], ZONES],
    ['zones not known', enabled(), steady(), inZones([A, 4]), null],
    ['the only zone with room is the busiest (a placement constraint keeps the tasks in it)', enabled(), steady(), inZones([A, 4]), [A]],
    ['a zone without room is not a target: the zones with room are even', enabled(), steady(), inZones([A, 2], [B, 2]), [A, B]],
  ])('%s: no rebalancing start or stop', (_name, service, deployments, tasks, zones) => {
    const plan = run(service, deployments, tasks, zones);
    expect(plan.start.filter((s) => s.availabilityZone !== undefined)).toEqual([]);
    expect(plan.stop.filter((s) => s.rule === 'az-rebalance')).toEqual([]);
    expect(plan.events.join('\n')).not.toContain('AZ balanced');
    expect(mark(plan)).toBeUndefined();
  });

  it('maximumPercent leaves no room for the extra task: holds and says why (100% / 100%)', () => {
    const plan = run(enabled(rolling(100, 100)), steady(), inZones([A, 3], [B, 1]));
    expectPlan(plan, { start: [], stop: 0, events: [serviceMessages.steadyState('web')], holdsMatching: [/maximumPercent leaves no room for a task in us-east-1c/] });
  });

  it('a zone with room and a zone full: the move goes to the zone with room', () => {
    const plan = run(enabled(), steady(), inZones([A, 3], [B, 1]), [A, B]);
    expect(plan.start[0]!.availabilityZone).toBe(B);
    expect(plan.events[0]).toBe('service (web) is not AZ balanced with 3 tasks in us-east-1a and 1 in us-east-1b. AZ Rebalancing in progress.');
  });

  it('never stops the last task of a zone, nor a protected one: the next zone with the most gives one up', () => {
    const tasks = [...inZones([A, 2, { protectionExpiresAt: NOW + 60_000 }]), ...inZones([B, 2]), ...inZones([C, 1])];
    const plan = run(enabled(rolling(100, 200, 4)), rebalancing(), tasks);
    expectPlan(plan, { stop: [{ taskArn: tasks[3]!.taskArn, rule: 'az-rebalance' }] });
  });

  it('DISABLED mid-rebalance: the extra task goes by the ordinary scale-in and the mark is gone', () => {
    const plan = run(aService({ availabilityZoneRebalancing: 'DISABLED' }), rebalancing(), [...inZones([A, 3], [B, 1]), ...inZones([C, 1])]);
    expectPlan(plan, { stop: [{ rule: 'scale-in' }] });
    expect(mark(plan)).toBeUndefined();
  });

  it('desiredCount lowered mid-rebalance (two extra tasks): the ordinary scale-in takes both', () => {
    const plan = run(enabled(rolling(100, 200, 3)), rebalancing(), [...inZones([A, 3], [B, 1]), ...inZones([C, 1])]);
    expectPlan(plan, { stop: [{ rule: 'scale-in' }, { rule: 'scale-in' }] });
  });
});

describe('pure parts', () => {
  it.each<[string, Partial<ServiceRecord>, 'ENABLED' | 'DISABLED']>([
    ['REPLICA, default placement', {}, 'ENABLED'],
    ['REPLICA with spread by instanceId', { placementStrategy: [{ type: 'spread', field: 'instanceId' }] }, 'ENABLED'],
    ['REPLICA with binpack', { placementStrategy: [{ type: 'binpack', field: 'cpu' }] }, 'DISABLED'],
    ['DAEMON', { schedulingStrategy: 'DAEMON' }, 'DISABLED'],
  ])('CreateService default: %s -> %s', (_name, o, expected) => {
    expect(defaultRebalancing(aService(o))).toBe(expected);
  });

  it.each<[string, Record<string, number>, string[], { from: string; to: string } | undefined]>([
    ['3/1/0 over three zones', { [A]: 3, [B]: 1, [C]: 0 }, [A, B, C], { from: A, to: C }],
    ['2/1/1 is even', { [A]: 2, [B]: 1, [C]: 1 }, [A, B, C], undefined],
    ['ties go by zone name', { [A]: 1, [B]: 3, [C]: 3 }, [A, B, C], { from: B, to: A }],
    ['a zone without room is no target', { [A]: 3, [B]: 3, [C]: 0 }, [A, B], undefined],
  ])('unevenMove: %s', (_name, counts, zones, expected) => {
    expect(unevenMove(new Map(Object.entries(counts)), zones)).toEqual(expected);
  });

  it.each<[string, string, string]>([
    ['one zone', rebalancingMessages.completed('web', new Map([[A, 2]])), 'service (web) is AZ balanced with 2 tasks in us-east-1a.'],
    ['two zones', rebalancingMessages.started('web', new Map([[B, 0], [A, 2]])), 'service (web) is not AZ balanced with 2 tasks in us-east-1a and 0 in us-east-1b. AZ Rebalancing in progress.'],
  ])('messages: %s', (_name, message, expected) => expect(message).toBe(expected));

  it.each<[string, string | undefined]>([
    ['service (web) is not AZ balanced with 3 tasks in us-east-1a and 1 in us-east-1b. AZ Rebalancing in progress.', 'SERVICE_REBALANCING_STARTED'],
    ['service (web) is AZ balanced with 2 tasks in us-east-1a and 2 tasks in us-east-1b.', 'SERVICE_REBALANCING_COMPLETED'],
    ['service (webx) is AZ balanced with 2 tasks in us-east-1a.', undefined],
  ])('service action of %s', (message, eventName) => {
    expect(serviceActionOf('web', CLUSTER_ARN, message)?.eventName).toBe(eventName);
    if (eventName) expect(serviceActionOf('web', CLUSTER_ARN, message)?.eventType).toBe('INFO');
  });

  it('zonesWithRoom: a zone counts when one task fits on one of its ACTIVE, connected hosts of the kind', () => {
    const host = (arn: string, zone: string, o: Partial<PlacementCandidate> = {}): PlacementCandidate =>
      ({ containerInstanceArn: arn, availabilityZone: zone, status: 'ACTIVE', remaining: { cpu: 1024, memory: 1024 }, serves: ['EC2'], ...o });
    const hosts = [
      host('h1', A), host('h2', B, { remaining: { cpu: 128, memory: 1024 } }), host('h3', C, { agentConnected: false }),
      host('h4', 'us-east-1d', { status: 'DRAINING' }), host('h5', 'us-east-1e', { serves: ['FARGATE'] }),
    ];
    expect(zonesWithRoom(hosts, { cpu: 256, memory: 256 }, ['EC2'])).toEqual([A]);
    expect(zonesWithRoom(hosts, { cpu: 256, memory: 256 }, ['FARGATE'])).toEqual(['us-east-1e']);
  });

  it('rebalancingStep reads kept PRIMARY tasks as the reconciler classifies them', () => {
    const tasks = serviceTasks(enabled(), steady(), inZones([A, 3], [B, 1]), NOW);
    const step = rebalancingStep({
      service: enabled(), placeableZones: ZONES, tasks, desiredCount: 4, occupied: 4, ceiling: 8, steady: true, stopInFlight: false, inProgress: false, now: NOW,
    });
    expect(step).toMatchObject({ kind: 'start', zone: C });
  });
});
