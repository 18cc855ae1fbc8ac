import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CAPACITY_STRATEGY_MESSAGES as MSG,
  FARGATE_PROVIDERS,
  capacityProviderKind,
  distributeTasks,
  validateCapacityProviderStrategy,
  type CapacityProviderStrategyItem as Item,
  type StrategyUse,
} from '../../src/domain/capacity-strategy';
import { InvalidParameterException } from '../../src/domain/errors';

const FG = ['FARGATE', 'FARGATE_SPOT'];
const ALL = ['FARGATE', 'FARGATE_SPOT', 'asg-a', 'asg-b'];
const asgNames = Array.from({ length: 21 }, (_, i) => `asg-${i}`);

/** Runs the validator and returns the thrown error (or undefined). */
function errorOf(strategy: Item[], associated: string[] = ALL, use?: StrategyUse): unknown {
  try {
    validateCapacityProviderStrategy(strategy, associated, use);
    return undefined;
  } catch (e) {
    return e;
  }
}

const tally = (names: string[]) =>
  names.reduce<Record<string, number>>((acc, n) => ((acc[n] = (acc[n] ?? 0) + 1), acc), {});

describe('capacityProviderKind', () => {
  it.each([
    { name: 'FARGATE', kind: 'FARGATE' },
    { name: 'FARGATE_SPOT', kind: 'FARGATE' },
    { name: 'my-asg-provider', kind: 'AUTO_SCALING_GROUP' },
    { name: 'fargate', kind: 'AUTO_SCALING_GROUP' }, // names are case-sensitive
  ])('$name -> $kind', ({ name, kind }) => {
    expect(capacityProviderKind(name)).toBe(kind);
  });

  it('lists the two built-in Fargate providers', () => {
    expect(FARGATE_PROVIDERS).toEqual(['FARGATE', 'FARGATE_SPOT']);
  });
});

describe('validateCapacityProviderStrategy', () => {
  it.each<{ name: string; strategy: Item[]; associated?: string[]; use?: StrategyUse }>([
    { name: 'single Fargate provider with weight', strategy: [{ capacityProvider: 'FARGATE', weight: 1 }] },
    {
      name: 'FARGATE base 1 weight 1 + FARGATE_SPOT weight 3',
      strategy: [
        { capacityProvider: 'FARGATE', base: 1, weight: 1 },
        { capacityProvider: 'FARGATE_SPOT', weight: 3 },
      ],
    },
    {
      name: 'weight-0 provider next to a weighted one',
      strategy: [
        { capacityProvider: 'FARGATE', weight: 0, base: 2 },
        { capacityProvider: 'FARGATE_SPOT', weight: 1 },
      ],
    },
    {
      name: 'explicit base 0 on every item',
      strategy: [
        { capacityProvider: 'FARGATE', weight: 1, base: 0 },
        { capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 },
      ],
    },
    { name: 'weight and base at their maxima', strategy: [{ capacityProvider: 'asg-a', weight: 1000, base: 100000 }] },
    {
      name: '20 Auto Scaling group providers',
      strategy: asgNames.slice(0, 20).map((n) => ({ capacityProvider: n, weight: 1 })),
      associated: asgNames,
    },
    {
      name: 'all-zero default strategy may be stored (ECS fails it only at use)',
      strategy: [{ capacityProvider: 'FARGATE_SPOT' }],
      use: 'storeDefault',
    },
    { name: 'empty default strategy may be stored (clears it)', strategy: [], use: 'storeDefault' },
  ])('accepts: $name', ({ strategy, associated, use }) => {
    expect(errorOf(strategy, associated ?? ALL, use)).toBeUndefined();
  });

  it.each<{ name: string; strategy: Item[]; associated?: string[]; use?: StrategyUse; message: string }>([
    {
      name: 'provider not associated with the cluster',
      strategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      associated: ['FARGATE'],
      message: MSG.notAssociated,
    },
    {
      name: 'more than 20 providers',
      strategy: asgNames.map((n) => ({ capacityProvider: n, weight: 1 })),
      associated: asgNames,
      message: MSG.tooMany,
    },
    { name: 'empty provider name', strategy: [{ capacityProvider: '', weight: 1 }], message: MSG.name },
    { name: 'weight above 1000', strategy: [{ capacityProvider: 'FARGATE', weight: 1001 }], message: MSG.weight('FARGATE') },
    { name: 'negative weight', strategy: [{ capacityProvider: 'FARGATE', weight: -1 }], message: MSG.weight('FARGATE') },
    { name: 'fractional weight', strategy: [{ capacityProvider: 'FARGATE', weight: 1.5 }], message: MSG.weight('FARGATE') },
    { name: 'base above 100000', strategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 100001 }], message: MSG.base('FARGATE') },
    { name: 'negative base', strategy: [{ capacityProvider: 'FARGATE', weight: 1, base: -1 }], message: MSG.base('FARGATE') },
    {
      name: 'duplicate provider',
      strategy: [
        { capacityProvider: 'FARGATE', weight: 1 },
        { capacityProvider: 'FARGATE', weight: 2 },
      ],
      message: MSG.duplicate('FARGATE'),
    },
    {
      name: 'Fargate mixed with an Auto Scaling group provider',
      strategy: [
        { capacityProvider: 'FARGATE', weight: 1 },
        { capacityProvider: 'asg-a', weight: 1 },
      ],
      message: MSG.mixed,
    },
    {
      name: 'two providers with a base',
      strategy: [
        { capacityProvider: 'FARGATE', weight: 1, base: 1 },
        { capacityProvider: 'FARGATE_SPOT', weight: 1, base: 1 },
      ],
      message: MSG.twoBases,
    },
    {
      name: 'several providers, all weight 0',
      strategy: [{ capacityProvider: 'FARGATE' }, { capacityProvider: 'FARGATE_SPOT', weight: 0 }],
      message: MSG.noWeight,
    },
    { name: 'single provider, weight 0', strategy: [{ capacityProvider: 'FARGATE' }], message: MSG.noWeight },
    {
      name: 'single provider, base only (weight 0)',
      strategy: [{ capacityProvider: 'FARGATE', base: 2, weight: 0 }],
      message: MSG.noWeight,
    },
    { name: 'empty strategy at placement', strategy: [], message: MSG.noWeight },
    {
      name: 'all-zero cluster default used by CreateService',
      strategy: [{ capacityProvider: 'FARGATE_SPOT' }],
      use: 'defaultPlacement',
      message: MSG.noWeightDefault,
    },
  ])('rejects: $name', ({ strategy, associated, use, message }) => {
    const err = errorOf(strategy, associated ?? ALL, use);
    expect(err).toBeInstanceOf(InvalidParameterException);
    expect((err as Error).name).toBe('InvalidParameterException');
    expect((err as Error).message).toBe(message);
  });

  it('uses the exact ECS wording for the association rule', () => {
    expect(MSG.notAssociated).toBe(
      'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
    );
  });
});

describe('distributeTasks examples', () => {
  const F = 'FARGATE';
  const S = 'FARGATE_SPOT';
  it.each<{ name: string; strategy: Item[]; count: number; existing?: Record<string, number>; expected: string[] }>([
    {
      name: 'FARGATE base 1 w1 + SPOT w3, 8 tasks: base then 7 split 2:5',
      strategy: [
        { capacityProvider: F, base: 1, weight: 1 },
        { capacityProvider: S, weight: 3 },
      ],
      count: 8,
      expected: [F, S, S, F, S, S, S, F],
    },
    { name: 'single provider', strategy: [{ capacityProvider: F, weight: 1 }], count: 3, expected: [F, F, F] },
    {
      name: 'equal weights alternate, ties to strategy order',
      strategy: [
        { capacityProvider: F, weight: 1 },
        { capacityProvider: S, weight: 1 },
      ],
      count: 4,
      expected: [F, S, F, S],
    },
    {
      name: 'SPOT w3 listed first + FARGATE w1',
      strategy: [
        { capacityProvider: S, weight: 3 },
        { capacityProvider: F, weight: 1 },
      ],
      count: 4,
      expected: [S, S, S, F],
    },
    {
      name: 'weight-0 base provider gets only its base',
      strategy: [
        { capacityProvider: F, base: 2, weight: 0 },
        { capacityProvider: S, weight: 1 },
      ],
      count: 5,
      expected: [F, F, S, S, S],
    },
    {
      name: 'base larger than count',
      strategy: [
        { capacityProvider: F, base: 5, weight: 1 },
        { capacityProvider: S, weight: 1 },
      ],
      count: 3,
      expected: [F, F, F],
    },
    {
      name: 'base counts existing tasks',
      strategy: [
        { capacityProvider: F, base: 2, weight: 1 },
        { capacityProvider: S, weight: 1 },
      ],
      count: 3,
      existing: { [F]: 1 },
      expected: [F, F, S],
    },
    {
      name: 'existing tasks on providers outside the strategy are ignored',
      strategy: [
        { capacityProvider: F, weight: 1 },
        { capacityProvider: S, weight: 1 },
      ],
      count: 2,
      existing: { 'old-provider': 10 },
      expected: [F, S],
    },
    {
      name: 'existing split is topped up toward the weights',
      strategy: [
        { capacityProvider: F, weight: 1 },
        { capacityProvider: S, weight: 1 },
      ],
      count: 3,
      existing: { [F]: 3 },
      expected: [S, S, S],
    },
    { name: 'zero tasks', strategy: [{ capacityProvider: F, weight: 1 }], count: 0, expected: [] },
  ])('$name', ({ strategy, count, existing, expected }) => {
    expect(distributeTasks(strategy, count, existing)).toEqual(expected);
  });

  it('rejects a bad count', () => {
    expect(() => distributeTasks([{ capacityProvider: F, weight: 1 }], -1)).toThrow(RangeError);
    expect(() => distributeTasks([{ capacityProvider: F, weight: 1 }], 1.5)).toThrow(RangeError);
  });

  it('throws the weight error when nothing can take a task beyond base', () => {
    expect(() => distributeTasks([{ capacityProvider: F, base: 1 }], 2)).toThrow(InvalidParameterException);
  });
});

/** Valid strategies: one provider kind, unique names, at most one base, some weight > 0. */
const strategyArb: fc.Arbitrary<Item[]> = fc
  .tuple(
    fc.oneof(fc.constant(FG), fc.constant(asgNames.slice(0, 20))),
    fc.integer({ min: 1, max: 20 }),
    fc.nat(),
    fc.integer({ min: 0, max: 12 }),
  )
  .chain(([pool, n, baseSeed, base]) =>
    fc
      .shuffledSubarray(pool, { minLength: 1, maxLength: Math.min(n, pool.length) })
      .chain((names) =>
        fc
          .array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 5 })), {
            minLength: names.length,
            maxLength: names.length,
          })
          .filter((ws) => ws.some((w) => w > 0))
          .map((ws) =>
            names.map((name, i) => {
              const item: Item = { capacityProvider: name, weight: ws[i] };
              if (i === baseSeed % names.length && base > 0) item.base = base;
              return item;
            }),
          ),
      ),
  );

describe('distributeTasks properties', () => {
  const countArb = fc.integer({ min: 0, max: 150 });

  it('generated strategies are valid', () => {
    fc.assert(
      fc.property(strategyArb, (s) => {
        validateCapacityProviderStrategy(s, [...FG, ...asgNames]);
      }),
    );
  });

  it('places exactly count tasks, only on strategy providers', () => {
    fc.assert(
      fc.property(strategyArb, countArb, (s, count) => {
        const out = distributeTasks(s, count);
        expect(out).toHaveLength(count);
        const names = new Set(s.map((i) => i.capacityProvider));
        expect(out.every((n) => names.has(n))).toBe(true);
      }),
    );
  });

  it('weight-0 providers get only their base', () => {
    fc.assert(
      fc.property(strategyArb, countArb, (s, count) => {
        const got = tally(distributeTasks(s, count));
        for (const i of s.filter((x) => (x.weight ?? 0) === 0)) {
          expect(got[i.capacityProvider] ?? 0).toBe(Math.min(i.base ?? 0, count));
        }
      }),
    );
  });

  it('one call per task (feeding back existing) equals one call for all', () => {
    fc.assert(
      fc.property(strategyArb, countArb, (s, count) => {
        const existing: Record<string, number> = {};
        const oneByOne: string[] = [];
        for (let k = 0; k < count; k++) {
          const [p] = distributeTasks(s, 1, existing);
          oneByOne.push(p);
          existing[p] = (existing[p] ?? 0) + 1;
        }
        expect(oneByOne).toEqual(distributeTasks(s, count));
      }),
    );
  });

  it('splitting a batch anywhere gives the same placements, from any existing state', () => {
    const existingArb = fc.dictionary(fc.constantFrom(...FG, ...asgNames.slice(0, 20)), fc.integer({ min: 0, max: 30 }));
    fc.assert(
      fc.property(strategyArb, countArb, fc.nat(), existingArb, (s, count, cut, existing) => {
        const a = cut % (count + 1);
        const first = distributeTasks(s, a, existing);
        const after = { ...existing };
        for (const p of first) after[p] = (after[p] ?? 0) + 1;
        expect([...first, ...distributeTasks(s, count - a, after)]).toEqual(distributeTasks(s, count, existing));
      }),
    );
  });

  it('after base, every weighted provider stays within 1 task of its weight share at every size', () => {
    fc.assert(
      fc.property(strategyArb, countArb, (s, count) => {
        const out = distributeTasks(s, count);
        const weighted = s.filter((i) => (i.weight ?? 0) > 0);
        const totalWeight = weighted.reduce((t, i) => t + (i.weight ?? 0), 0);
        const baseItem = s.find((i) => (i.base ?? 0) > 0);
        const held: Record<string, number> = {};
        out.forEach((p, k) => {
          held[p] = (held[p] ?? 0) + 1;
          const placed = k + 1;
          const beyondBase = placed - Math.min(baseItem?.base ?? 0, placed);
          for (const i of weighted) {
            const actual = Math.max(0, (held[i.capacityProvider] ?? 0) - (i.base ?? 0));
            const target = ((i.weight ?? 0) * beyondBase) / totalWeight;
            expect(Math.abs(actual - target)).toBeLessThanOrEqual(1);
          }
        });
      }),
    );
  });
});
