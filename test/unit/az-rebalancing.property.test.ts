/**
 * Invariants of AZ rebalancing (src/domain/az-rebalancing.ts) through the REPLICA reconciler, over
 * generated steady services whose tasks sit unevenly in two or three zones. The bounds and zone counts
 * are recomputed here from the records, not taken from the reconciler.
 *
 * SAFETY   in every plan of a simulated run: stops never take the available tasks below the
 *          minimumHealthyPercent floor, starts never take the tasks holding resources above the
 *          maximumPercent ceiling, a rebalancing stop never takes the last task of its zone, and a
 *          service with a binpack strategy (or DISABLED) is never rebalanced.
 * LIVENESS from any uneven steady state with room for one more task in every zone and room under
 *          maximumPercent, the run reaches a steady state with desiredCount RUNNING tasks whose
 *          per-zone counts differ by at most one, says "AZ balanced" if it said "not AZ balanced",
 *          and leaves no mark behind.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { maximumTasks, minimumHealthyTasks } from '../../src/domain/deployment-math';
import type { TaskRecord } from '../../src/domain/records';
import type { ServiceRecord } from '../../src/domain/service';
import { reconcile } from '../../src/domain/service-reconciler';
import { isActive } from '../../src/domain/task-lifecycle';
import { NEW, NOW, ZONES, aDeployment, aService, aTask, advance, applyPlan, type World } from '../support/services';

const configArb = fc.record({
  desiredCount: fc.integer({ min: 1, max: 10 }),
  minimumHealthyPercent: fc.integer({ min: 0, max: 100 }),
  maximumPercent: fc.integer({ min: 100, max: 200 }),
  zoneCount: fc.constantFrom(2, 3),
  placement: fc.constantFrom('default', 'spread-instance', 'binpack', 'disabled'),
  /** Zone index of each task (taken modulo the zone count). */
  zonesOfTasks: fc.array(fc.nat(9), { minLength: 10, maxLength: 10 }),
  /** Skewed: this many tasks go to the first zone whatever their index says. */
  piledInFirst: fc.nat(10),
});
type Cfg = typeof configArb extends fc.Arbitrary<infer T> ? T : never;

function worldOf(cfg: Cfg): { world: World; zones: string[] } {
  const zones = ZONES.slice(0, cfg.zoneCount);
  const service: ServiceRecord = aService({
    desiredCount: cfg.desiredCount,
    availabilityZoneRebalancing: cfg.placement === 'disabled' ? 'DISABLED' : 'ENABLED',
    launchType: 'EC2',
    deploymentConfiguration: {
      minimumHealthyPercent: cfg.minimumHealthyPercent,
      maximumPercent: cfg.maximumPercent,
      deploymentCircuitBreaker: { enable: false, rollback: false },
    },
    ...(cfg.placement === 'binpack' ? { placementStrategy: [{ type: 'binpack', field: 'memory' }] } : {}),
    ...(cfg.placement === 'spread-instance' ? { placementStrategy: [{ type: 'spread', field: 'instanceId' }] } : {}),
  });
  const deployments = [aDeployment({ rolloutState: 'COMPLETED', completedAt: NOW - 1000, desiredCount: cfg.desiredCount, launchType: 'EC2' })];
  const tasks = Array.from({ length: cfg.desiredCount }, (_, i) =>
    aTask({
      id: (i + 1).toString(16).padStart(32, 'b'),
      launchType: 'EC2',
      availabilityZone: zones[i < cfg.piledInFirst ? 0 : cfg.zonesOfTasks[i]! % zones.length],
      createdAt: NOW - 300_000 + i,
    }));
  return { world: { service, deployments, tasks, now: NOW, events: [], next: 0 }, zones };
}

const perZone = (tasks: readonly TaskRecord[], zones: readonly string[]) =>
  zones.map((z) => tasks.filter((t) => t.availabilityZone === z).length);
const live = (w: World) => w.tasks.filter((t) => isActive(t.lastStatus) && t.desiredStatus !== 'STOPPED');
const available = (w: World) => live(w).filter((t) => t.lastStatus === 'RUNNING');

/** Runs the service to quiet (or `steps` passes) and checks SAFETY on every plan. */
function simulate(cfg: Cfg, steps = 120) {
  const { world, zones } = worldOf(cfg);
  const D = cfg.desiredCount;
  const floor = minimumHealthyTasks(D, cfg.minimumHealthyPercent);
  const ceiling = Math.max(D, maximumTasks(D, cfg.maximumPercent));
  let quietPasses = 0;
  for (let i = 0; i < steps && quietPasses < 3; i++) {
    const plan = reconcile(world.service, world.deployments, world.tasks, world.now, () => 0, { placeableZones: zones });
    const before = available(world);
    const occupied = world.tasks.filter((t) => isActive(t.lastStatus)).length;
    const stopped = new Set(plan.stop.map((s) => s.taskArn));
    // SAFETY: the floor, the ceiling.
    expect(before.filter((t) => !stopped.has(t.taskArn)).length).toBeGreaterThanOrEqual(Math.min(floor, before.length));
    expect(occupied + plan.start.reduce((n, s) => n + s.count, 0)).toBeLessThanOrEqual(ceiling);
    // SAFETY: a rebalancing stop never empties a zone of the service's serving tasks.
    for (const s of plan.stop.filter((x) => x.rule === 'az-rebalance')) {
      const zone = world.tasks.find((t) => t.taskArn === s.taskArn)!.availabilityZone;
      expect(before.filter((t) => t.availabilityZone === zone && !stopped.has(t.taskArn)).length).toBeGreaterThanOrEqual(1);
    }
    // SAFETY: never with binpack, never when DISABLED.
    if (cfg.placement === 'binpack' || cfg.placement === 'disabled') {
      expect(plan.start.filter((s) => s.availabilityZone !== undefined)).toEqual([]);
      expect(plan.stop.filter((s) => s.rule === 'az-rebalance')).toEqual([]);
      expect(plan.events.join('\n')).not.toContain('AZ balanced');
    }
    const settled = world.tasks.filter((t) => isActive(t.lastStatus)).every((t) => t.desiredStatus !== 'STOPPED' && t.lastStatus === 'RUNNING');
    quietPasses = plan.start.length === 0 && plan.stop.length === 0 && settled ? quietPasses + 1 : 0;
    applyPlan(world, plan);
    advance(world, () => 'succeeds');
  }
  return { world, zones, ceiling, quiet: quietPasses >= 3 };
}

describe('AZ rebalancing invariants', () => {
  it('SAFETY: floor, ceiling, no zone emptied, never with binpack or DISABLED', () => {
    fc.assert(fc.property(configArb, (cfg) => void simulate(cfg)), { numRuns: 200 });
  });

  it('LIVENESS: with room in every zone and under maximumPercent, the zones end within one task of each other', () => {
    let rebalanced = 0;
    fc.assert(
      fc.property(
        configArb.filter((c) => (c.placement === 'default' || c.placement === 'spread-instance') && maximumTasks(c.desiredCount, c.maximumPercent) > c.desiredCount),
        (cfg) => {
          const { world, zones, quiet } = simulate(cfg);
          expect(quiet).toBe(true);
          const tasks = live(world);
          expect(tasks).toHaveLength(cfg.desiredCount);
          expect(tasks.every((t) => t.lastStatus === 'RUNNING')).toBe(true);
          const counts = perZone(tasks, zones);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          const said = (fragment: string) => world.events.some((e) => e.includes(fragment));
          expect(said('is AZ balanced')).toBe(said('is not AZ balanced'));
          if (said('is not AZ balanced')) rebalanced++;
          expect(world.deployments.find((d) => d.id === NEW)?.rebalancingZones).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
    // The generator piles tasks into one zone often enough that most runs had to rebalance.
    expect(rebalanced).toBeGreaterThan(50);
  });
});
