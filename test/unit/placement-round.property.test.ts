/**
 * A placement round (src/domain/placement.ts placementRound): the tasks of one scheduler pass or one
 * RunTask placed one after another over one read of the hosts, each seeing where the ones before it
 * went. Scenarios first (why a round: independent placements on one read pile up), then properties
 * checked step by step against an oracle written from the definitions, over rounds that mix groups,
 * sizes and options: SAFETY (no constraint violated, no host overcommitted), spread (each placement
 * goes to a value with the fewest tasks of its group among the values that can take it, so counts
 * stay within one when capacity allows), binpack (never a host with more of the key resource left
 * than another eligible one).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { placementRound, placeTasks, queryTarget, type PlacementCandidate, type PlacementOptions } from '../../src/domain/placement';
import { parsePlacementConstraints, type PlacementConstraintInput } from '../../src/domain/placement-constraints';
import { matchesQuery, parseClusterQuery } from '../../src/domain/cluster-query';
import { parsePlacementStrategies, spreadValue, type PlacementStrategyInput } from '../../src/domain/placement-strategies';
import type { ResourceAmounts } from '../../src/domain/container-instance';

const arn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:container-instance/default/${id}`;
const WEB = 'service:web';
const DB = 'service:db';
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

function host(id: string, zone: string, remaining: ResourceAmounts, overrides: Partial<PlacementCandidate> = {}): PlacementCandidate {
  return {
    containerInstanceArn: arn(id),
    availabilityZone: zone,
    status: 'ACTIVE',
    remaining,
    serves: ['EC2'],
    attributes: [{ name: 'ecs.availability-zone', value: zone }, { name: 'rack', value: `r${id.length % 2}` }],
    taskGroups: {},
    ...overrides,
  };
}

const optionsFor = (group: string, strategy: PlacementStrategyInput[], constraints: PlacementConstraintInput[] = []): PlacementOptions => {
  const strategies = parsePlacementStrategies(strategy);
  return { group, constraints: parsePlacementConstraints(constraints), ...(strategies.length ? { strategies } : {}), random: () => 0.5 };
};
const NEEDS = { cpu: 256, memory: 512 };
const shortId = (a: string) => a.split('/').pop()!;

describe('a placement round: scenarios', () => {
  const hosts = [host('a', 'us-east-1a', { cpu: 4096, memory: 8192 }), host('b', 'us-east-1b', { cpu: 4096, memory: 8192 }), host('c', 'us-east-1c', { cpu: 4096, memory: 8192 })];

  it('independent placements on one read (what concurrent engine placements saw) pile onto one host; a round spreads them 2/2/2', () => {
    const spread = optionsFor(WEB, [{ type: 'spread', field: 'instanceId' }]);
    const independent = Array.from({ length: 6 }, () => placeTasks([{ needs: NEEDS, kind: 'EC2' }], hosts, {}, spread).outcomes[0]);
    expect(new Set(independent.map((o) => ('placed' in o ? shortId(o.placed.containerInstanceArn) : 'failed')))).toEqual(new Set(['a']));
    const round = placementRound(hosts);
    const grouped = Array.from({ length: 6 }, () => round.place({ needs: NEEDS, kind: 'EC2' }, spread));
    expect(grouped.map((o) => ('placed' in o ? shortId(o.placed.containerInstanceArn) : 'failed')).sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
  });

  it("a pass's starts of two capacity kinds, each placed with its own kind, still spread the one group across zones", () => {
    const provider = [host('p1', 'us-east-1a', { cpu: 4096, memory: 8192 }, { serves: ['EC2', 'asg'] }), host('p2', 'us-east-1b', { cpu: 4096, memory: 8192 }, { serves: ['EC2', 'asg'] })];
    const round = placementRound([...provider, host('c', 'us-east-1c', { cpu: 4096, memory: 8192 })]);
    const zoneSpread = optionsFor(WEB, []);
    const zones = [
      ...Array.from({ length: 2 }, () => round.place({ needs: NEEDS, kind: 'asg' }, zoneSpread)),
      ...Array.from({ length: 4 }, () => round.place({ needs: NEEDS, kind: 'EC2' }, zoneSpread)),
    ].map((o) => ('placed' in o ? o.placed.availabilityZone : 'failed'));
    expect(zones.slice(0, 2).sort()).toEqual(['us-east-1a', 'us-east-1b']);
    expect(zones.sort()).toEqual(['us-east-1a', 'us-east-1a', 'us-east-1b', 'us-east-1b', 'us-east-1c', 'us-east-1c']);
  });

  it('binpack in a round fills the host it chose before until it is full, then the next fullest', () => {
    const round = placementRound([host('a', 'us-east-1a', { cpu: 1024, memory: 2048 }), host('b', 'us-east-1a', { cpu: 768, memory: 1024 })]);
    const binpack = optionsFor(WEB, [{ type: 'binpack', field: 'memory' }]);
    const order = Array.from({ length: 6 }, () => round.place({ needs: NEEDS, kind: 'EC2' }, binpack)).map((o) =>
      'placed' in o ? shortId(o.placed.containerInstanceArn) : o.failed.reason,
    );
    expect(order).toEqual(['b', 'b', 'a', 'a', 'a', 'a']);
  });

  it('distinctInstance counts the round\'s own tasks: a fourth task on three hosts fails with DistinctInstance', () => {
    const round = placementRound(hosts);
    const distinct = optionsFor(WEB, [], [{ type: 'distinctInstance' }]);
    const outcomes = Array.from({ length: 4 }, () => round.place({ needs: NEEDS, kind: 'EC2' }, distinct));
    expect(outcomes.map((o) => ('placed' in o ? 'placed' : o.failed.reason))).toEqual(['placed', 'placed', 'placed', 'DistinctInstance']);
  });
});

// ---- properties -------------------------------------------------------------------------------

type Field = 'instanceId' | 'attribute:ecs.availability-zone' | 'attribute:rack';
interface Step {
  readonly group: string;
  readonly needs: ResourceAmounts;
  readonly strategy: 'spread' | 'binpack';
  readonly field: Field | 'cpu' | 'memory';
  readonly constraints: PlacementConstraintInput[];
}

const arbitraryHosts = fc.uniqueArray(
  fc
    .record({
      id: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 3 }),
      zone: fc.constantFrom(...ZONES),
      cpu: fc.integer({ min: 0, max: 3072 }),
      memory: fc.integer({ min: 0, max: 6144 }),
      status: fc.constantFrom('ACTIVE', 'ACTIVE', 'ACTIVE', 'DRAINING'),
      agentConnected: fc.constantFrom(true, true, true, false),
      web: fc.nat(2),
      db: fc.nat(1),
    })
    .map((h) =>
      host(h.id, h.zone, { cpu: h.cpu, memory: h.memory }, { status: h.status, agentConnected: h.agentConnected, taskGroups: { [WEB]: h.web, [DB]: h.db } }),
    ),
  { selector: (h) => h.containerInstanceArn, minLength: 1, maxLength: 8 },
);
const arbitraryConstraint: fc.Arbitrary<PlacementConstraintInput> = fc.oneof(
  fc.constant({ type: 'distinctInstance' }),
  fc
    .constantFrom('attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', 'not(task:group == service:db)', 'attribute:rack == r1')
    .map((expression) => ({ type: 'memberOf', expression })),
);
const arbitraryStep = (strategy: 'spread' | 'binpack' | 'any'): fc.Arbitrary<Step> =>
  fc.record({
    group: fc.constantFrom(WEB, WEB, DB),
    needs: fc.record({ cpu: fc.integer({ min: 0, max: 768 }), memory: fc.integer({ min: 0, max: 1536 }) }),
    strategy: strategy === 'any' ? fc.constantFrom('spread', 'binpack') : fc.constant(strategy),
    field: fc.constantFrom<Step['field']>('instanceId', 'attribute:ecs.availability-zone', 'attribute:rack'),
    constraints: fc.array(arbitraryConstraint, { maxLength: 2 }),
  }).chain((s) =>
    s.strategy === 'binpack' ? fc.constantFrom<Step['field']>('cpu', 'memory').map((field): Step => ({ ...s, field })) : fc.constant<Step>(s),
  );

/** The oracle's copy of the hosts, updated as each placement is replayed. */
const copy = (hosts: readonly PlacementCandidate[]) =>
  new Map(hosts.map((h) => [h.containerInstanceArn, { ...h, remaining: { ...h.remaining }, taskGroups: { ...h.taskGroups } }]));
const passes = (h: PlacementCandidate, group: string, constraints: PlacementConstraintInput[]) =>
  constraints.every((c) =>
    c.type === 'distinctInstance' ? (h.taskGroups?.[group] ?? 0) === 0 : matchesQuery(parseClusterQuery(c.expression!), queryTarget(h)),
  );
const eligible = (h: PlacementCandidate, step: Step) =>
  h.status === 'ACTIVE' && h.agentConnected !== false && h.remaining.cpu >= step.needs.cpu && h.remaining.memory >= step.needs.memory &&
  passes(h, step.group, step.constraints);
const spreadField = (field: Field) => parsePlacementStrategies([{ type: 'spread', field }])[0] as { type: 'spread'; field: Parameters<typeof spreadValue>[0] };

/** Places the steps through one round, replaying each on the oracle's hosts; `check` sees the hosts before each placement. */
function replay(hosts: readonly PlacementCandidate[], steps: readonly Step[], check: (state: Map<string, PlacementCandidate>, step: Step, chosen: PlacementCandidate | undefined) => void) {
  const round = placementRound(hosts);
  const state = copy(hosts);
  for (const step of steps) {
    const outcome = round.place({ needs: step.needs, kind: 'EC2' }, optionsFor(step.group, [{ type: step.strategy, field: step.field }], step.constraints));
    const chosen = 'placed' in outcome ? state.get(outcome.placed.containerInstanceArn)! : undefined;
    check(state, step, chosen);
    if (!chosen) continue;
    chosen.remaining.cpu -= step.needs.cpu;
    chosen.remaining.memory -= step.needs.memory;
    chosen.taskGroups![step.group] = (chosen.taskGroups![step.group] ?? 0) + 1;
  }
  return state;
}

describe('a placement round: properties', () => {
  it('SAFETY: across a round of mixed groups, sizes and strategies no placement violates a constraint or overcommits a host; LIVENESS: a task some host can take is placed', () => {
    fc.assert(
      fc.property(arbitraryHosts, fc.array(arbitraryStep('any'), { minLength: 1, maxLength: 10 }), (hosts, steps) => {
        const state = replay(hosts, steps, (now, step, chosen) => {
          if (chosen) expect(eligible(chosen, step)).toBe(true);
          else expect([...now.values()].some((h) => eligible(h, step))).toBe(false);
        });
        // Every share taken was checked against what was left: no host ends below zero.
        for (const h of state.values()) expect(Math.min(h.remaining.cpu, h.remaining.memory)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 1_000 },
    );
  });

  it('spread: each placement goes to a value with the fewest tasks of its group among the values that can take it', () => {
    fc.assert(
      fc.property(arbitraryHosts, fc.array(arbitraryStep('spread'), { minLength: 1, maxLength: 10 }), (hosts, steps) => {
        replay(hosts, steps, (now, step, chosen) => {
          if (!chosen) return;
          const { field } = spreadField(step.field as Field);
          const count = (value: string | undefined) =>
            [...now.values()].filter((h) => spreadValue(field, h) === value).reduce((sum, h) => sum + (h.taskGroups?.[step.group] ?? 0), 0);
          const mine = count(spreadValue(field, chosen));
          for (const other of [...now.values()].filter((h) => eligible(h, step))) expect(mine).toBeLessThanOrEqual(count(spreadValue(field, other)));
        });
      }),
      { numRuns: 1_000 },
    );
  });

  it('spread: k tasks of one group on hosts with room for all of them end with per-value counts within one of each other', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ id: fc.string({ unit: fc.constantFrom(...'abcdef'), minLength: 1, maxLength: 3 }), zone: fc.constantFrom(...ZONES) }), {
          selector: (h) => h.id,
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom<Field>('instanceId', 'attribute:ecs.availability-zone', 'attribute:rack'),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }),
        (specs, k, field, chunks) => {
          const hosts = specs.map((s) => host(s.id, s.zone, { cpu: 1_000_000, memory: 1_000_000 }));
          // The k tasks come in several calls (a pass's starts), interleaved with another group's.
          const steps: Step[] = [];
          let left = k;
          for (let i = 0; left > 0; i++) {
            const n = Math.min(left, chunks[i % chunks.length]);
            steps.push(...Array.from({ length: n }, () => ({ group: WEB, needs: NEEDS, strategy: 'spread' as const, field, constraints: [] })));
            steps.push({ group: DB, needs: NEEDS, strategy: 'binpack', field: 'memory', constraints: [] });
            left -= n;
          }
          const state = replay(hosts, steps, () => {});
          const { field: parsed } = spreadField(field);
          const counts = new Map<string | undefined, number>();
          for (const h of state.values()) counts.set(spreadValue(parsed, h), (counts.get(spreadValue(parsed, h)) ?? 0) + (h.taskGroups![WEB] ?? 0));
          expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(k);
          expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('binpack: each placement goes to a host with no more of the key resource left than any other eligible one', () => {
    fc.assert(
      fc.property(arbitraryHosts, fc.array(arbitraryStep('binpack'), { minLength: 1, maxLength: 10 }), (hosts, steps) => {
        replay(hosts, steps, (now, step, chosen) => {
          if (!chosen) return;
          const field = step.field as 'cpu' | 'memory';
          for (const other of [...now.values()].filter((h) => eligible(h, step))) expect(chosen.remaining[field]).toBeLessThanOrEqual(other.remaining[field]);
        });
      }),
      { numRuns: 1_000 },
    );
  });
});
