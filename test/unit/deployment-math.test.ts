import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canDeploymentProceed,
  defaultDeploymentConfiguration,
  maximumTasks,
  minimumHealthyTasks,
} from '../../src/domain/deployment-math';

describe('minimumHealthyTasks (rounded up)', () => {
  it.each([
    { name: '50% of 4 -> 2 healthy (may stop 2)', desired: 4, pct: 50, expected: 2 },
    { name: '75% of 2 -> 2 (may stop none)', desired: 2, pct: 75, expected: 2 },
    { name: '100% of 4 -> 4 (may stop none)', desired: 4, pct: 100, expected: 4 },
    { name: '0% of 4 -> 0 (may stop all)', desired: 4, pct: 0, expected: 0 },
    { name: '7% of 100 -> 7 (no float error: 0.07 * 100 is 7.000000000000001)', desired: 100, pct: 7, expected: 7 },
    { name: '33% of 3 -> 1 (0.99 rounds up)', desired: 3, pct: 33, expected: 1 },
    { name: '50% of 0 -> 0', desired: 0, pct: 50, expected: 0 },
  ])('$name', ({ desired, pct, expected }) => {
    expect(minimumHealthyTasks(desired, pct)).toBe(expected);
  });
});

describe('maximumTasks (rounded down)', () => {
  it.each([
    { name: '200% of 4 -> 8 (may start 4)', desired: 4, pct: 200, expected: 8 },
    { name: '125% of 3 -> 3 (may start none)', desired: 3, pct: 125, expected: 3 },
    { name: '150% of 3 -> 4 (may start 1)', desired: 3, pct: 150, expected: 4 },
    { name: '100% of 5 -> 5 (may start none)', desired: 5, pct: 100, expected: 5 },
    { name: '115% of 100 -> 115 (no float error: 1.15 * 100 is 114.99999999999999)', desired: 100, pct: 115, expected: 115 },
    { name: '200% of 0 -> 0', desired: 0, pct: 200, expected: 0 },
  ])('$name', ({ desired, pct, expected }) => {
    expect(maximumTasks(desired, pct)).toBe(expected);
  });
});

describe('canDeploymentProceed', () => {
  it.each([
    { name: 'desired 2, min 100, max 100 -> stuck (may stop 0, start 0)', desired: 2, min: 100, max: 100, expected: false },
    { name: 'desired 2, min 75, max 100 -> stuck (75% of 2 rounds up to 2)', desired: 2, min: 75, max: 100, expected: false },
    { name: 'desired 3, min 100, max 125 -> stuck (125% of 3 rounds down to 3)', desired: 3, min: 100, max: 125, expected: false },
    { name: 'desired 2, min 50, max 100 -> may stop 1', desired: 2, min: 50, max: 100, expected: true },
    { name: 'desired 4, min 100, max 125 -> may start 1', desired: 4, min: 100, max: 125, expected: true },
    { name: 'desired 4, min 100, max 200 (REPLICA default) -> may start 4', desired: 4, min: 100, max: 200, expected: true },
    { name: 'desired 1, min 0, max 100 (DAEMON default) -> may stop 1', desired: 1, min: 0, max: 100, expected: true },
    { name: 'desired 0 -> nothing to replace, proceeds', desired: 0, min: 100, max: 100, expected: true },
  ])('$name', ({ desired, min, max, expected }) => {
    expect(canDeploymentProceed(desired, min, max)).toBe(expected);
  });
});

describe('defaultDeploymentConfiguration', () => {
  it.each([
    { strategy: 'REPLICA' as const, expected: { minimumHealthyPercent: 100, maximumPercent: 200 } },
    { strategy: 'DAEMON' as const, expected: { minimumHealthyPercent: 0, maximumPercent: 100 } },
  ])('$strategy', ({ strategy, expected }) => {
    expect(defaultDeploymentConfiguration(strategy)).toEqual(expected);
  });
});

describe('properties', () => {
  const desired = fc.integer({ min: 0, max: 5000 });

  it('minimumHealthy <= desired <= maximumTasks when min% <= 100 <= max%', () => {
    fc.assert(
      fc.property(desired, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 100, max: 200 }), (d, min, max) => {
        expect(minimumHealthyTasks(d, min)).toBeLessThanOrEqual(d);
        expect(maximumTasks(d, max)).toBeGreaterThanOrEqual(d);
      }),
    );
  });

  it('matches exact rational rounding (ceil and floor of d*p/100)', () => {
    fc.assert(
      fc.property(desired, fc.integer({ min: 0, max: 1000 }), (d, p) => {
        const min = minimumHealthyTasks(d, p);
        const max = maximumTasks(d, p);
        expect(Number.isInteger(min) && Number.isInteger(max)).toBe(true);
        // min is the least integer with min*100 >= d*p; max the greatest with max*100 <= d*p.
        expect(min * 100).toBeGreaterThanOrEqual(d * p);
        expect((min - 1) * 100).toBeLessThan(d * p);
        expect(max * 100).toBeLessThanOrEqual(d * p);
        expect((max + 1) * 100).toBeGreaterThan(d * p);
      }),
    );
  });
});
