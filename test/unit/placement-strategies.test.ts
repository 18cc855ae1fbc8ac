/**
 * Placement strategies and constraints through placeTasks (src/domain/placement.ts): filter ->
 * rank -> pick. Scenario rows first (the seed's sentences, then each strategy and constraint), then
 * the properties: SAFETY, LIVENESS, determinism, binpack and spread.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { placeTasks, type PlacementCandidate, type PlacementOptions, type PlacementRequest } from '../../src/domain/placement';
import { parsePlacementConstraints, type PlacementConstraintInput } from '../../src/domain/placement-constraints';
import { matchesQuery, parseClusterQuery } from '../../src/domain/cluster-query';
import { parsePlacementStrategies, type PlacementStrategyInput } from '../../src/domain/placement-strategies';
import { queryTarget } from '../../src/domain/placement';
import type { ResourceAmounts } from '../../src/domain/container-instance';

const arn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:container-instance/default/${id}`;
const GROUP = 'service:web';

function host(id: string, overrides: Partial<PlacementCandidate> & { type?: string } = {}): PlacementCandidate {
  const { type = 't2.small', ...rest } = overrides;
  const zone = rest.availabilityZone ?? 'us-east-1a';
  return {
    containerInstanceArn: arn(id),
    availabilityZone: zone,
    status: 'ACTIVE',
    remaining: { cpu: 4096, memory: 8192 },
    serves: ['EC2'],
    attributes: [{ name: 'ecs.availability-zone', value: zone }, { name: 'ecs.instance-type', value: type }],
    taskGroups: {},
    ...rest,
  };
}

const NEEDS: ResourceAmounts = { cpu: 256, memory: 512 };
const tasks = (count: number, needs = NEEDS): PlacementRequest[] => Array.from({ length: count }, () => ({ needs, kind: 'EC2' }));

/** A fixed sequence of draws, repeated: the random strategy's injected source. */
const draws = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length];
};

function options(strategy: PlacementStrategyInput[] = [], constraints: PlacementConstraintInput[] = [], random = draws(0.5)): PlacementOptions {
  const strategies = parsePlacementStrategies(strategy);
  return { group: GROUP, constraints: parsePlacementConstraints(constraints), ...(strategies.length ? { strategies } : {}), random };
}

/** 'a' for a placement on host a, 'MemberOf@a' for a failure about host a. */
const summary = (outcome: ReturnType<typeof placeTasks>['outcomes'][number]) =>
  'placed' in outcome ? outcome.placed.containerInstanceArn.split('/').pop()! : `${outcome.failed.reason}${outcome.failed.arn ? `@${outcome.failed.arn.split('/').pop()}` : ''}`;

const place = (requests: PlacementRequest[], candidates: PlacementCandidate[], o: PlacementOptions) =>
  placeTasks(requests, candidates, {}, o).outcomes.map(summary);

const THREE_ZONES = [
  host('a1', { availabilityZone: 'us-east-1a' }),
  host('a2', { availabilityZone: 'us-east-1a' }),
  host('b1', { availabilityZone: 'us-east-1b' }),
  host('c1', { availabilityZone: 'us-east-1c' }),
];

describe('seed 001: placement sentences', () => {
  it('"you can specify that tasks run across several Availability Zones": spread attribute:ecs.availability-zone puts 3 tasks in 3 zones', () => {
    const placed = place(tasks(3), THREE_ZONES, options([{ type: 'spread', field: 'attribute:ecs.availability-zone' }]));
    expect(new Set(placed.map((p) => p[0]))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('"...or within a single Availability Zone": memberOf attribute:ecs.availability-zone == us-east-1b keeps every task there', () => {
    const placed = place(tasks(3), THREE_ZONES, options([], [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone == us-east-1b' }]));
    expect(placed).toEqual(['b1', 'b1', 'b1']);
  });

  it('"by default the service scheduler spreads tasks across Availability Zones": no strategy spreads by zone', () => {
    const existing = THREE_ZONES.map((h) => (h.availabilityZone === 'us-east-1a' ? { ...h, taskGroups: { [GROUP]: 1 } } : h));
    expect(place(tasks(2), existing, options()).sort()).toEqual(['b1', 'c1']);
  });

  it('"...but you can customize placement with strategies and constraints": binpack memory instead fills the fullest host', () => {
    const hosts = [host('a', { remaining: { cpu: 4096, memory: 4096 } }), host('b', { availabilityZone: 'us-east-1b', remaining: { cpu: 4096, memory: 1024 } })];
    expect(place(tasks(3), hosts, options([{ type: 'binpack', field: 'memory' }]))).toEqual(['b', 'b', 'a']);
  });

  it('"the default strategy minimizes the chance that one instance gets a disproportionate number of tasks": 6 tasks on 3 equal hosts go 2, 2, 2', () => {
    const hosts = [host('a'), host('b'), host('c')];
    const placed = place(tasks(6), hosts, options());
    expect(['a', 'b', 'c'].map((id) => placed.filter((p) => p === id).length)).toEqual([2, 2, 2]);
  });
});

describe('strategies', () => {
  it.each<{ name: string; strategy: PlacementStrategyInput[]; candidates: PlacementCandidate[]; count?: number; random?: () => number; expected: string[] }>([
    {
      name: 'binpack cpu: the least cpu left first',
      strategy: [{ type: 'binpack', field: 'cpu' }],
      candidates: [host('a', { remaining: { cpu: 2048, memory: 1024 } }), host('b', { remaining: { cpu: 512, memory: 8192 } })],
      expected: ['b'],
    },
    {
      name: 'binpack memory: the least memory left first',
      strategy: [{ type: 'binpack', field: 'memory' }],
      candidates: [host('a', { remaining: { cpu: 2048, memory: 1024 } }), host('b', { remaining: { cpu: 512, memory: 8192 } })],
      expected: ['a'],
    },
    {
      name: 'binpack skips a host without room even if it has the least left',
      strategy: [{ type: 'binpack', field: 'memory' }],
      candidates: [host('a', { remaining: { cpu: 2048, memory: 256 } }), host('b', { remaining: { cpu: 2048, memory: 1024 } })],
      expected: ['b'],
    },
    {
      name: 'binpack fills one host, then the next (a batch)',
      strategy: [{ type: 'binpack', field: 'memory' }],
      candidates: [host('a', { remaining: { cpu: 4096, memory: 1024 } }), host('b', { remaining: { cpu: 4096, memory: 2048 } })],
      count: 4,
      expected: ['a', 'a', 'b', 'b'],
    },
    {
      name: 'spread instanceId: the host with the fewest tasks of the group',
      strategy: [{ type: 'spread', field: 'instanceId' }],
      candidates: [host('a', { taskGroups: { [GROUP]: 2 } }), host('b', { taskGroups: { [GROUP]: 1, other: 9 } })],
      expected: ['b'],
    },
    {
      name: 'spread host is spread instanceId',
      strategy: [{ type: 'spread', field: 'host' }],
      candidates: [host('a', { taskGroups: { [GROUP]: 1 } }), host('b'), host('c', { taskGroups: { [GROUP]: 1 } })],
      count: 3,
      expected: ['b', 'a', 'c'],
    },
    {
      name: 'spread on a custom attribute: the value with the fewest tasks (racks stay even, not hosts)',
      strategy: [{ type: 'spread', field: 'attribute:rack' }],
      candidates: [
        host('a', { attributes: [{ name: 'rack', value: 'r1' }], taskGroups: { [GROUP]: 1 } }),
        host('b', { attributes: [{ name: 'rack', value: 'r1' }] }),
        host('c', { attributes: [{ name: 'rack', value: 'r2' }] }),
      ],
      count: 3,
      expected: ['c', 'a', 'c'],
    },
    {
      name: 'spread attribute:ecs.instance-type over two types',
      strategy: [{ type: 'spread', field: 'attribute:ecs.instance-type' }],
      candidates: [host('a', { type: 't2.small' }), host('b', { type: 't2.small' }), host('c', { type: 'm5.large' })],
      count: 2,
      expected: ['a', 'c'],
    },
    {
      name: 'strategies are tie-breakers in order: spread zone, then binpack memory within the zone',
      strategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'binpack', field: 'memory' }],
      candidates: [
        host('a1', { remaining: { cpu: 4096, memory: 4096 } }),
        host('a2', { remaining: { cpu: 4096, memory: 2048 } }),
        host('b1', { availabilityZone: 'us-east-1b', remaining: { cpu: 4096, memory: 4096 } }),
      ],
      count: 3,
      expected: ['a2', 'b1', 'a2'],
    },
    {
      name: 'random: the host with the smallest draw (draws in ARN order)',
      strategy: [{ type: 'random' }],
      candidates: [host('a'), host('b'), host('c')],
      random: draws(0.9, 0.1, 0.5),
      expected: ['b'],
    },
    {
      name: 'random breaks only the ties a spread leaves',
      strategy: [{ type: 'spread', field: 'instanceId' }, { type: 'random' }],
      candidates: [host('a', { taskGroups: { [GROUP]: 1 } }), host('b'), host('c')],
      random: draws(0.0, 0.9, 0.2),
      expected: ['c'],
    },
  ])('$name', ({ strategy, candidates, count = 1, random, expected }) => {
    expect(place(tasks(count), candidates, options(strategy, [], random))).toEqual(expected);
  });
});

describe('constraints', () => {
  it.each<{ name: string; constraints: PlacementConstraintInput[]; candidates: PlacementCandidate[]; count?: number; expected: string[] }>([
    {
      name: 'distinctInstance: one task of the group per host',
      constraints: [{ type: 'distinctInstance' }],
      candidates: [host('a'), host('b')],
      count: 3,
      expected: ['a', 'b', 'DistinctInstance@a'],
    },
    {
      name: 'distinctInstance counts tasks already there',
      constraints: [{ type: 'distinctInstance' }],
      candidates: [host('a', { taskGroups: { [GROUP]: 1 } }), host('b', { remaining: { cpu: 512, memory: 512 } })],
      expected: ['b'],
    },
    {
      name: 'distinctInstance ignores tasks of other groups',
      constraints: [{ type: 'distinctInstance' }],
      candidates: [host('a', { taskGroups: { 'service:db': 3 } })],
      expected: ['a'],
    },
    {
      name: 'memberOf instance type',
      constraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type == t2.small' }],
      candidates: [host('a', { type: 'm5.large', remaining: { cpu: 9999, memory: 99999 } }), host('b')],
      expected: ['b'],
    },
    {
      name: 'memberOf zones in a list',
      constraints: [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone in [us-east-1b, us-east-1c]' }],
      candidates: THREE_ZONES,
      count: 2,
      expected: ['b1', 'c1'],
    },
    {
      name: 'memberOf nobody matches: MemberOf naming the roomiest host',
      constraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ g2.*' }],
      candidates: [host('a', { remaining: { cpu: 1024, memory: 1024 } }), host('b')],
      expected: ['MemberOf@b'],
    },
    {
      name: 'task:group affinity: only hosts running the database',
      constraints: [{ type: 'memberOf', expression: 'task:group == service:database' }],
      candidates: [host('a'), host('b', { taskGroups: { 'service:database': 1 } })],
      expected: ['b'],
    },
    {
      name: 'task:group anti-affinity: never next to the database',
      constraints: [{ type: 'memberOf', expression: 'not(task:group == service:database)' }],
      candidates: [host('a', { taskGroups: { 'service:database': 1 } }), host('b', { remaining: { cpu: 256, memory: 512 } })],
      count: 2,
      expected: ['b', 'RESOURCE:CPU@b'],
    },
    {
      name: 'every constraint must hold: type and zone',
      constraints: [
        { type: 'memberOf', expression: 'attribute:ecs.instance-type == t2.small' },
        { type: 'memberOf', expression: 'attribute:ecs.availability-zone == us-east-1b' },
      ],
      candidates: [host('a'), host('b', { availabilityZone: 'us-east-1b', type: 'm5.large' }), host('c', { availabilityZone: 'us-east-1b' })],
      expected: ['c'],
    },
    {
      name: 'hosts passing the constraints but full: the resource is the reason, about the roomiest passing host',
      constraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type == t2.small' }],
      candidates: [host('a', { remaining: { cpu: 128, memory: 8192 } }), host('b', { type: 'm5.large' })],
      expected: ['RESOURCE:CPU@a'],
    },
    {
      name: 'runningTasksCount: only empty hosts',
      constraints: [{ type: 'memberOf', expression: 'runningTasksCount == 0' }],
      candidates: [host('a', { runningTasksCount: 3 }), host('b', { runningTasksCount: 0 })],
      expected: ['b'],
    },
    {
      name: 'ec2InstanceId in a list',
      constraints: [{ type: 'memberOf', expression: 'ec2InstanceId in [i-2, i-3]' }],
      candidates: [host('a', { ec2InstanceId: 'i-1' }), host('b', { ec2InstanceId: 'i-3' })],
      expected: ['b'],
    },
  ])('$name', ({ constraints, candidates, count = 1, expected }) => {
    expect(place(tasks(count), candidates, options([], constraints))).toEqual(expected);
  });
});

describe('validation at the edge (ECS errors)', () => {
  it.each<{ name: string; strategies?: PlacementStrategyInput[]; constraints?: PlacementConstraintInput[]; message: string }>([
    { name: 'six strategies', strategies: Array.from({ length: 6 }, () => ({ type: 'random' })), message: 'at most 5 placement strategies' },
    { name: 'eleven constraints', constraints: Array.from({ length: 11 }, () => ({ type: 'distinctInstance' })), message: 'at most 10 placement constraints' },
    { name: 'binpack on disk', strategies: [{ type: 'binpack', field: 'disk' }], message: "must be cpu or memory, not 'disk'" },
    { name: 'binpack without field', strategies: [{ type: 'binpack' }], message: 'must be cpu or memory' },
    { name: 'spread on a bare name', strategies: [{ type: 'spread', field: 'zone' }], message: "not 'zone'" },
    { name: 'an unknown strategy type', strategies: [{ type: 'pack' }], message: "'pack' is not supported" },
    { name: 'distinctInstance with an expression', constraints: [{ type: 'distinctInstance', expression: 'runningTasksCount == 0' }], message: 'cannot be specified' },
    { name: 'memberOf without an expression', constraints: [{ type: 'memberOf' }], message: 'must be specified' },
    { name: 'memberOf with an unsupported expression', constraints: [{ type: 'memberOf', expression: 'attribute:x = y' }], message: "unsupported operator '='" },
    { name: 'an unknown constraint type', constraints: [{ type: 'sameZone' }], message: "'sameZone' is not supported" },
  ])('$name', ({ strategies, constraints, message }) => {
    const run = () => {
      parsePlacementStrategies(strategies);
      parsePlacementConstraints(constraints);
    };
    expect(run).toThrow(expect.objectContaining({ name: 'InvalidParameterException', message: expect.stringContaining(message) }));
  });

  it('a task definition takes memberOf only', () => {
    expect(() => parsePlacementConstraints([{ type: 'distinctInstance' }], 'taskDefinition')).toThrow(/use memberOf/);
    expect(parsePlacementConstraints([{ type: 'memberOf', expression: 'attribute:ecs.os-type == linux' }], 'taskDefinition')).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const TYPES = ['t2.small', 'm5.large'];
const GROUPS = [GROUP, 'service:db'];

const arbitraryHost = fc
  .record({
    id: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 3 }),
    zone: fc.constantFrom(...ZONES),
    type: fc.constantFrom(...TYPES),
    status: fc.constantFrom('ACTIVE', 'ACTIVE', 'ACTIVE', 'DRAINING'),
    agentConnected: fc.constantFrom(true, true, true, false),
    cpu: fc.integer({ min: 0, max: 2048 }),
    memory: fc.integer({ min: 0, max: 4096 }),
    web: fc.nat(2),
    db: fc.nat(1),
    running: fc.nat(3),
  })
  .map((h) =>
    host(h.id, {
      availabilityZone: h.zone,
      type: h.type,
      status: h.status,
      agentConnected: h.agentConnected,
      remaining: { cpu: h.cpu, memory: h.memory },
      taskGroups: { [GROUP]: h.web, 'service:db': h.db },
      runningTasksCount: h.running,
    }),
  );
const arbitraryHosts = fc.uniqueArray(arbitraryHost, { selector: (h) => h.containerInstanceArn, maxLength: 10 });
const arbitraryNeeds = fc.record({ cpu: fc.integer({ min: 0, max: 1024 }), memory: fc.integer({ min: 0, max: 2048 }) });
const arbitraryStrategy: fc.Arbitrary<PlacementStrategyInput> = fc.oneof(
  fc.record({ type: fc.constant('binpack'), field: fc.constantFrom('cpu', 'memory') }),
  fc.record({ type: fc.constant('spread'), field: fc.constantFrom('instanceId', 'host', 'attribute:ecs.availability-zone', 'attribute:ecs.instance-type') }),
  fc.constant({ type: 'random' }),
);
const arbitraryConstraint: fc.Arbitrary<PlacementConstraintInput> = fc.oneof(
  fc.constant({ type: 'distinctInstance' }),
  fc.constantFrom(
    'attribute:ecs.instance-type == t2.small',
    'attribute:ecs.availability-zone in [us-east-1a, us-east-1b]',
    'not(attribute:ecs.availability-zone == us-east-1c)',
    'attribute:ecs.instance-type =~ m5.* or runningTasksCount < 2',
    'not(task:group == service:db)',
    'task:group == service:db',
  ).map((expression) => ({ type: 'memberOf', expression })),
);
const arbitraryPlacement = fc.record({
  strategies: fc.array(arbitraryStrategy, { maxLength: 5 }),
  constraints: fc.array(arbitraryConstraint, { maxLength: 3 }),
  seed: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 8 }),
});

/** The oracle, written from the definitions rather than with the code under test. */
const passes = (h: PlacementCandidate, constraints: PlacementConstraintInput[]) =>
  constraints.every((c) =>
    c.type === 'distinctInstance' ? (h.taskGroups?.[GROUP] ?? 0) === 0 : matchesQuery(parseClusterQuery(c.expression!), queryTarget(h)),
  );
const fitsOn = (h: PlacementCandidate, needs: ResourceAmounts) =>
  h.status === 'ACTIVE' && h.agentConnected !== false && h.serves.includes('EC2') && h.remaining.cpu >= needs.cpu && h.remaining.memory >= needs.memory;

describe('placement properties', () => {
  it('SAFETY: no placement violates a constraint (counting the batch\'s own tasks) or overcommits a host', () => {
    fc.assert(
      fc.property(fc.array(arbitraryNeeds, { minLength: 1, maxLength: 6 }), arbitraryHosts, arbitraryPlacement, (needs, hosts, p) => {
        const requests = needs.map((n) => ({ needs: n, kind: 'EC2' }));
        const { outcomes } = placeTasks(requests, hosts, {}, options(p.strategies, p.constraints, draws(...p.seed)));
        // Replay the batch: each placement must have been allowed on the host as it was at that moment.
        const state = new Map(hosts.map((h) => [h.containerInstanceArn, { ...h, remaining: { ...h.remaining }, taskGroups: { ...h.taskGroups } }]));
        outcomes.forEach((outcome, i) => {
          if (!('placed' in outcome)) return;
          const h = state.get(outcome.placed.containerInstanceArn)!;
          expect(fitsOn(h, requests[i].needs)).toBe(true);
          expect(passes(h, p.constraints)).toBe(true);
          h.remaining.cpu -= requests[i].needs.cpu;
          h.remaining.memory -= requests[i].needs.memory;
          h.taskGroups[GROUP] = (h.taskGroups[GROUP] ?? 0) + 1;
        });
      }),
      { numRuns: 1_000 },
    );
  });

  it('LIVENESS: if some host satisfies every constraint and has room, the task is placed', () => {
    fc.assert(
      fc.property(arbitraryNeeds, arbitraryHosts, arbitraryPlacement, (needs, hosts, p) => {
        const [outcome] = placeTasks([{ needs, kind: 'EC2' }], hosts, {}, options(p.strategies, p.constraints, draws(...p.seed))).outcomes;
        const possible = hosts.some((h) => fitsOn(h, needs) && passes(h, p.constraints));
        expect('placed' in outcome).toBe(possible);
      }),
      { numRuns: 1_000 },
    );
  });

  it('determinism: the same hosts (in any order), options and draws give the same placements', () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryNeeds, { minLength: 1, maxLength: 4 }),
        arbitraryHosts.chain((h) => fc.tuple(fc.constant(h), fc.shuffledSubarray(h, { minLength: h.length, maxLength: h.length }))),
        arbitraryPlacement,
        (needs, [hosts, shuffled], p) => {
          const requests = needs.map((n) => ({ needs: n, kind: 'EC2' }));
          const once = placeTasks(requests, hosts, {}, options(p.strategies, p.constraints, draws(...p.seed)));
          const again = placeTasks(requests, shuffled, {}, options(p.strategies, p.constraints, draws(...p.seed)));
          expect(again).toEqual(once);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('binpack first: never a host with more of the key resource left than another eligible one', () => {
    fc.assert(
      fc.property(arbitraryNeeds, arbitraryHosts, fc.constantFrom('cpu', 'memory') as fc.Arbitrary<'cpu' | 'memory'>, arbitraryPlacement, (needs, hosts, field, p) => {
        const strategies = [{ type: 'binpack', field }, ...p.strategies.slice(0, 4)];
        const [outcome] = placeTasks([{ needs, kind: 'EC2' }], hosts, {}, options(strategies, p.constraints, draws(...p.seed))).outcomes;
        if (!('placed' in outcome)) return;
        const chosen = hosts.find((h) => h.containerInstanceArn === outcome.placed.containerInstanceArn)!;
        for (const other of hosts.filter((h) => fitsOn(h, needs) && passes(h, p.constraints))) {
          expect(chosen.remaining[field]).toBeLessThanOrEqual(other.remaining[field]);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('spread first: a batch on empty, roomy hosts keeps per-value counts within one of each other', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ id: fc.string({ unit: fc.constantFrom(...'abcdef'), minLength: 1, maxLength: 3 }), zone: fc.constantFrom(...ZONES) }), {
          selector: (h) => h.id,
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom('instanceId', 'attribute:ecs.availability-zone'),
        (specs, count, field) => {
          const hosts = specs.map((s) => host(s.id, { availabilityZone: s.zone, remaining: { cpu: 1_000_000, memory: 1_000_000 } }));
          const { outcomes } = placeTasks(tasks(count), hosts, {}, options([{ type: 'spread', field }]));
          const valueOf = (a: string) => (field === 'instanceId' ? a : hosts.find((h) => h.containerInstanceArn === a)!.availabilityZone);
          const counts = new Map(hosts.map((h) => [valueOf(h.containerInstanceArn), 0]));
          for (const o of outcomes) if ('placed' in o) counts.set(valueOf(o.placed.containerInstanceArn), counts.get(valueOf(o.placed.containerInstanceArn))! + 1);
          expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 500 },
    );
  });
});
