/**
 * Invariants of the REPLICA reconciler over generated services, deployments and task histories.
 * The bounds are recomputed here from the records (not from the reconciler's own view), so a wrong
 * classification inside the reconciler cannot hide a violation.
 *
 * SAFETY   every plan, from any state: stops never take the available tasks below the floor (unless
 *          they already were), starts never take the tasks holding resources above the ceiling, every
 *          stop has its code and reasons and is a live task of the service, inputs are untouched and
 *          the same inputs give the same plan.
 * LIVENESS with tasks that succeed, iterating reconcile against a simulated world reaches the steady
 *          state: PRIMARY COMPLETED with exactly desiredCount RUNNING tasks and nothing else, within a
 *          bounded number of steps. With tasks that fail to start, the breaker trips exactly when the
 *          failures reach its threshold; then it rolls back to steady, or launches nothing more.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { failureThreshold } from '../../src/domain/circuit-breaker';
import { canDeploymentProceed, maximumTasks, minimumHealthyTasks } from '../../src/domain/deployment-math';
import type { TaskRecord } from '../../src/domain/records';
import { serviceGroup, type DeploymentRecord, type ServiceRecord, type ThresholdConfiguration } from '../../src/domain/service';
import { reconcile } from '../../src/domain/service-reconciler';
import { serviceMessages } from '../../src/domain/service-messages';
import { STOP_CODES, TASK_STATUSES, statusOrder } from '../../src/domain/task-lifecycle';
import {
  NEW, NOW, OLD, ZONES, aDeployment, aService, aTask, advance, applyPlan, deepFreeze, rollout, type Behaviour, type World,
} from '../support/services';

const STOP_RULES = ['scale-in', 'replace-old', 'unhealthy', 'draining', 'az-rebalance'];
/** Seed 004's throttle with its curve under the simulated world's 10 s step (it never holds a launch). */
const FAST_THROTTLE = { throttle: { baseSeconds: 1, maxSeconds: 8 } };

const configArb = fc.record({
  desiredCount: fc.integer({ min: 0, max: 12 }),
  minimumHealthyPercent: fc.integer({ min: 0, max: 100 }),
  maximumPercent: fc.integer({ min: 100, max: 250 }),
  enable: fc.boolean(),
  rollback: fc.boolean(),
  grace: fc.constantFrom(0, 30),
  hasHealthCheck: fc.boolean(),
  draining: fc.boolean(),
  twoDeployments: fc.boolean(),
  primaryRollout: fc.constantFrom('IN_PROGRESS', 'IN_PROGRESS', 'COMPLETED', 'FAILED') as fc.Arbitrary<'IN_PROGRESS' | 'COMPLETED' | 'FAILED'>,
  /** AZ rebalancing ENABLED, and Berth's mark of a rebalance under way on the PRIMARY. */
  rebalancing: fc.boolean(),
  rebalancingMarked: fc.boolean(),
});

// Weighted towards RUNNING and healthy tasks, so the floor and ceiling are often at stake.
const often = <T,>(common: T, all: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constant(common) }, { weight: 2, arbitrary: all });
const taskArb = (liveOnly: boolean) =>
  fc.record({
    owner: liveOnly ? fc.constantFrom('new', 'old') : often('old', fc.constantFrom('new', 'old', 'new', 'other-group', 'other-deployment')),
    lastStatus: often('RUNNING' as (typeof TASK_STATUSES)[number], liveOnly ? fc.constantFrom('PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING') : fc.constantFrom(...TASK_STATUSES)),
    stopRequested: liveOnly ? fc.constant(false) : often(false, fc.boolean()),
    healthStatus: often('HEALTHY' as 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN' | undefined, fc.constantFrom(undefined, 'HEALTHY', 'UNHEALTHY', 'UNKNOWN')),
    stopCode: fc.constantFrom(...STOP_CODES),
    ageSeconds: fc.integer({ min: 0, max: 600 }),
    zone: fc.constantFrom(...ZONES),
  });

type ArbValue<A> = A extends fc.Arbitrary<infer T> ? T : never;
type Cfg = ArbValue<typeof configArb>;
type Spec = ArbValue<ReturnType<typeof taskArb>>;

function build(cfg: Cfg, specs: Spec[], i0 = 0) {
  const service = aService({
    status: cfg.draining ? 'DRAINING' : 'ACTIVE',
    desiredCount: cfg.desiredCount,
    healthCheckGracePeriodSeconds: cfg.grace,
    deploymentConfiguration: {
      minimumHealthyPercent: cfg.minimumHealthyPercent,
      maximumPercent: cfg.maximumPercent,
      deploymentCircuitBreaker: { enable: cfg.enable, rollback: cfg.rollback },
    },
    availabilityZoneRebalancing: cfg.rebalancing ? 'ENABLED' : 'DISABLED',
  });
  const primary = {
    hasHealthCheck: cfg.hasHealthCheck, desiredCount: cfg.desiredCount, rolloutState: cfg.primaryRollout,
    ...(cfg.rebalancingMarked ? { rebalancingZones: true } : {}),
  };
  const deployments = cfg.twoDeployments ? rollout({ hasHealthCheck: cfg.hasHealthCheck }, primary) : [aDeployment(primary)];
  const tasks = specs.map((s, i): TaskRecord => {
    const stopped = s.lastStatus === 'STOPPED' || s.lastStatus === 'DELETED';
    const reachedRunning = statusOrder(s.lastStatus) >= statusOrder('RUNNING') && !(stopped && i % 2 === 0);
    const startedBy = s.owner === 'old' && cfg.twoDeployments ? OLD : s.owner === 'other-deployment' ? 'ecs-svc/9000000000000000009' : NEW;
    return aTask({
      id: (i0 + i + 1).toString(16).padStart(32, 'a'),
      startedBy,
      group: s.owner === 'other-group' ? serviceGroup('api') : serviceGroup('web'),
      lastStatus: s.lastStatus,
      desiredStatus: stopped || s.stopRequested ? 'STOPPED' : 'RUNNING',
      healthStatus: reachedRunning ? s.healthStatus : undefined,
      createdAt: NOW - s.ageSeconds * 1000 - 1000,
      startedAt: reachedRunning ? NOW - s.ageSeconds * 1000 : undefined,
      containerInstanceArn: s.lastStatus === 'PROVISIONING' ? undefined : 'arn:host',
      availabilityZone: s.zone,
      ...(stopped || s.stopRequested ? { stopCode: s.stopCode, stoppedReason: 'x' } : {}),
      ...(stopped ? { stoppedAt: NOW - s.ageSeconds * 500 } : {}),
    });
  });
  return { service, deployments, tasks };
}

/** The bounds and task sets, computed from the records independently of the reconciler. */
function observe(service: ServiceRecord, deployments: DeploymentRecord[], tasks: TaskRecord[], now: number) {
  const ids = new Map(deployments.map((d) => [d.id, d]));
  const mine = tasks.filter((t) => t.group === serviceGroup(service.serviceName) && t.clusterArn === service.clusterArn && ids.has(t.startedBy ?? ''));
  const holding = mine.filter((t) => t.lastStatus !== 'STOPPED' && t.lastStatus !== 'DELETED');
  const live = holding.filter((t) => t.desiredStatus === 'RUNNING');
  const available = live.filter((t) => t.lastStatus === 'RUNNING' && (!ids.get(t.startedBy!)!.hasHealthCheck || t.healthStatus === 'HEALTHY'));
  const D = service.status === 'DRAINING' ? 0 : service.desiredCount;
  const { minimumHealthyPercent: min, maximumPercent: max } = service.deploymentConfiguration;
  return { live, holding, available, D, floor: minimumHealthyTasks(D, min), ceiling: Math.max(D, maximumTasks(D, max)), now };
}

describe('SAFETY', () => {
  it('bounds, reasons, ownership, purity and determinism hold for every plan', () => {
    fc.assert(
      fc.property(configArb, fc.array(taskArb(false), { maxLength: 24 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (cfg, specs, r) => {
        const { service, deployments, tasks } = deepFreeze(build(cfg, specs));
        // Every zone has room: AZ rebalancing may act wherever the rest allows it.
        const plan = reconcile(service, deployments, tasks, NOW, () => r, { placeableZones: ZONES });
        expect(reconcile(service, deployments, tasks, NOW, () => r, { placeableZones: ZONES })).toEqual(plan);
        const o = observe(service, deployments, tasks, NOW);
        const stops = new Set(plan.stop.map((s) => s.taskArn));
        expect(stops.size).toBe(plan.stop.length);
        const liveArns = new Set(o.live.map((t) => t.taskArn));
        for (const s of plan.stop) {
          expect(liveArns.has(s.taskArn)).toBe(true); // the service's, live, not already stopping
          expect(s.stopCode).toBe('ServiceSchedulerInitiated');
          expect(s.reason).not.toBe('');
          expect(s.why).not.toBe('');
          expect(STOP_RULES).toContain(s.rule);
        }
        const stoppedAvailable = o.available.filter((t) => stops.has(t.taskArn)).length;
        if (service.status !== 'DRAINING') expect(o.available.length - stoppedAvailable).toBeGreaterThanOrEqual(Math.min(o.available.length, o.floor));
        const started = plan.start.reduce((n, s) => n + s.count, 0);
        if (started > 0) expect(o.holding.length + started).toBeLessThanOrEqual(o.ceiling);
        const primaryAfter = deployments.map((d) => plan.deployments.find((x) => x.id === d.id) ?? d).find((d) => d.status === 'PRIMARY');
        if (!primaryAfter) expect(plan.service?.status).toBe('INACTIVE'); // a drained service retires every deployment
        for (const s of plan.start) {
          expect(s.count).toBeGreaterThan(0);
          expect(s.startedBy).toBe(primaryAfter?.id);
          expect(s.group).toBe('service:web');
        }
        if (!primaryAfter || primaryAfter.rolloutState === 'FAILED') expect(started).toBe(0);
      }),
      { numRuns: 400 },
    );
  });
});

describe('METAMORPHIC', () => {
  it('the order in which tasks are read changes nothing but the order of equal decisions', () => {
    fc.assert(
      fc.property(configArb, fc.array(taskArb(false), { maxLength: 24 }), fc.double({ min: 0, max: 0.999, noNaN: true }), fc.integer(), (cfg, specs, r, seed) => {
        const { service, deployments, tasks } = build(cfg, specs);
        const shuffled = [...tasks].sort((a, b) => ((hash(a.taskArn, seed) - hash(b.taskArn, seed)) || a.taskArn.localeCompare(b.taskArn)));
        const a = reconcile(service, deployments, tasks, NOW, () => r);
        const b = reconcile(service, deployments, shuffled, NOW, () => r);
        const key = (p: typeof a) => ({
          stop: p.stop.map((s) => `${s.taskArn} ${s.rule}`).sort(),
          start: p.start.map((s) => `${s.deploymentId} ${s.capacityProvider ?? s.launchType} ${s.count}`).sort(),
          deployments: p.deployments, service: p.service, nextWakeSeconds: p.nextWakeSeconds,
        });
        expect(key(b)).toEqual(key(a));
      }),
      { numRuns: 200 },
    );
  });
});

const hash = (s: string, seed: number) => {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
};

function iterate(world: World, behaviour: (t: TaskRecord) => Behaviour, steps: number, onPlan?: (p: ReturnType<typeof reconcile>, w: World) => void) {
  for (let i = 0; i < steps; i++) {
    const plan = reconcile(deepFreeze(structuredClone(world.service)), world.deployments, world.tasks, world.now, () => 0.5, FAST_THROTTLE);
    onPlan?.(plan, world);
    applyPlan(world, plan);
    const primary = world.deployments.find((d) => d.status === 'PRIMARY')!;
    const o = observe(world.service, world.deployments, world.tasks, world.now);
    if (plan.start.length === 0 && plan.stop.length === 0 && primary.rolloutState === 'COMPLETED' &&
        o.holding.length === o.D && o.available.every((t) => t.startedBy === primary.id) && o.available.length === o.D) {
      return { steps: i + 1, primary };
    }
    advance(world, behaviour);
  }
  return undefined;
}

describe('LIVENESS', () => {
  it('with tasks that succeed, any deployable state reaches the steady state with the primary COMPLETED', () => {
    fc.assert(
      fc.property(configArb, fc.array(taskArb(true), { maxLength: 16 }), (cfg, specs) => {
        fc.pre(canDeploymentProceed(cfg.desiredCount, cfg.minimumHealthyPercent, cfg.maximumPercent));
        // A FAILED primary without rollback is stalled by design, and UNHEALTHY tasks of the rollout
        // are failures the breaker rightly counts: from every other state the service must converge.
        const succeeding = specs.map((s) => ((s.owner === 'new' || !cfg.twoDeployments) && s.healthStatus === 'UNHEALTHY' ? { ...s, healthStatus: 'HEALTHY' as const } : s));
        const state = build({ ...cfg, draining: false, primaryRollout: cfg.primaryRollout === 'FAILED' ? 'IN_PROGRESS' : cfg.primaryRollout }, succeeding);
        const world: World = { ...state, now: NOW, events: [], next: 0 };
        const bound = 12 * world.service.desiredCount + 12;
        const done = iterate(world, () => 'succeeds', bound);
        expect(done, `not steady after ${bound} steps: ${world.events.slice(-3).join(' | ')}`).toBeDefined();
        expect(world.events).toContain(serviceMessages.steadyState('web'));
      }),
      { numRuns: 150 },
    );
  });

  it('a DRAINING service ends INACTIVE with no task left', () => {
    fc.assert(
      fc.property(configArb, fc.array(taskArb(true), { maxLength: 16 }), (cfg, specs) => {
        const world: World = { ...build({ ...cfg, draining: true }, specs), now: NOW, events: [], next: 0 };
        for (let i = 0; i < 6 && world.service.status !== 'INACTIVE'; i++) {
          applyPlan(world, reconcile(world.service, world.deployments, world.tasks, world.now, () => 0));
          advance(world, () => 'succeeds');
        }
        expect(world.service.status).toBe('INACTIVE');
        expect(world.deployments.every((d) => d.status === 'INACTIVE')).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  const thresholdArb: fc.Arbitrary<ThresholdConfiguration | undefined> = fc.option(
    fc.record({ type: fc.constantFrom('COUNT', 'BOUNDED_PERCENT', 'UNBOUNDED_PERCENT'), value: fc.integer({ min: 1, max: 100 }) }),
    { nil: undefined },
  );

  it('with tasks that fail to start, the breaker trips exactly at its threshold, then rolls back or launches nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 101, max: 200 }), fc.boolean(), thresholdArb,
        (desiredCount, min, max, rollbackOn, thresholdConfiguration) => {
          fc.pre(canDeploymentProceed(desiredCount, min, max));
          const breaker = { enable: true, rollback: rollbackOn, thresholdConfiguration };
          const service = aService({ desiredCount, deploymentConfiguration: { minimumHealthyPercent: min, maximumPercent: max, deploymentCircuitBreaker: breaker } });
          const olds = Array.from({ length: desiredCount }, (_, i) => aTask({ startedBy: OLD, availabilityZone: ZONES[i % 3], id: `b${i.toString(16).padStart(31, '0')}` }));
          const world: World = { service, deployments: rollout({ desiredCount }, { desiredCount }), tasks: olds, now: NOW, events: [], next: 0 };
          const threshold = failureThreshold(desiredCount, thresholdConfiguration);
          const failedNew = () => world.tasks.filter((t) => t.startedBy === NEW && t.stopCode === 'TaskFailedToStart').length;
          let tripped = false;
          for (let i = 0; i < 4 * threshold + 20 && !tripped; i++) {
            const seen = failedNew();
            // The throttle's curve scaled under the world's 10 s step, so every step may launch.
            const plan = reconcile(world.service, world.deployments, world.tasks, world.now, () => 0, FAST_THROTTLE);
            const nowFailed = plan.deployments.find((d) => d.id === NEW)?.rolloutState === 'FAILED';
            expect(nowFailed).toBe(seen >= threshold); // trips at the threshold, never before
            tripped = nowFailed;
            applyPlan(world, plan);
            advance(world, (t) => (t.startedBy === NEW ? 'fails-to-start' : 'succeeds'));
          }
          expect(tripped).toBe(true);
          const launchedAtTrip = world.tasks.filter((t) => t.startedBy === NEW).length;
          const done = iterate(world, (t) => (t.startedBy === NEW ? 'fails-to-start' : 'succeeds'), 12 * desiredCount + 12);
          if (rollbackOn) {
            expect(done?.primary.id).toBe(OLD);
          } else {
            expect(done).toBeUndefined(); // stalled: FAILED, never COMPLETED
            expect(world.tasks.filter((t) => t.startedBy === NEW).length).toBe(launchedAtTrip);
          }
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('LIVENESS: unhealthy-task replacement (seed 001)', () => {
  it('outside a rollout, with replacements that end up healthy, every unhealthy task is replaced within the bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 100, max: 200 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 3 }), fc.double({ min: 0, max: 0.999, noNaN: true }),
        (desiredCount, min, max, unhealthyFlags, failingReplacements, r) => {
          const service = aService({ desiredCount, deploymentConfiguration: { minimumHealthyPercent: min, maximumPercent: max, deploymentCircuitBreaker: { enable: false, rollback: false } } });
          const deployments = [aDeployment({ hasHealthCheck: true, desiredCount, rolloutState: 'COMPLETED', completedAt: NOW - 1000 })];
          const tasks = Array.from({ length: desiredCount }, (_, i) =>
            aTask({ id: `c${i.toString(16).padStart(31, '0')}`, availabilityZone: ZONES[i % 3], healthStatus: unhealthyFlags[i % unhealthyFlags.length] ? 'UNHEALTHY' : 'HEALTHY' }));
          const world: World = { service, deployments, tasks, now: NOW, events: [], next: 0 };
          const ceiling = Math.max(desiredCount, maximumTasks(desiredCount, max));
          let failing = failingReplacements;
          const fate = new Map<string, Behaviour>();
          const behaviour = (t: TaskRecord): Behaviour => {
            if (!fate.has(t.taskArn)) fate.set(t.taskArn, failing-- > 0 ? 'fails-health-checks' : 'succeeds');
            return fate.get(t.taskArn)!;
          };
          for (let i = 0; i < 12 * desiredCount + 24; i++) {
            const o = observe(world.service, world.deployments, world.tasks, world.now);
            const plan = reconcile(world.service, world.deployments, world.tasks, world.now, () => r);
            const started = plan.start.reduce((n, s) => n + s.count, 0);
            if (started > 0) expect(o.holding.length + started).toBeLessThanOrEqual(ceiling); // SAFETY: never above maximumPercent
            const stops = new Set(plan.stop.map((s) => s.taskArn));
            // SAFETY: only unhealthy tasks (which the seed allows) may take the available tasks below the floor.
            expect(o.available.filter((t) => !stops.has(t.taskArn)).length).toBeGreaterThanOrEqual(Math.min(o.available.length, o.floor));
            applyPlan(world, plan);
            advance(world, behaviour);
          }
          const live = world.tasks.filter((t) => t.lastStatus !== 'STOPPED');
          expect(live).toHaveLength(desiredCount);
          expect(live.every((t) => t.healthStatus === 'HEALTHY' && t.desiredStatus === 'RUNNING')).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
