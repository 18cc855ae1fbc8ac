/**
 * Seed 004's service throttle folded into the REPLICA reconciler, one named scenario per sentence,
 * then invariants: the throttle changes nothing but when tasks launch, and never gives up.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TaskRecord } from '../../src/domain/records';
import { serviceActionOf } from '../../src/domain/service-events';
import { reconcile } from '../../src/domain/service-reconciler';
import { foldThrottle, throttleDelaySeconds, throttleMessage, type ThrottleState } from '../../src/domain/throttle';
import { CLUSTER_ARN, NEW, NOW, TD1, TD2, aDeployment, aService, aTask, advance, applyPlan, deepFreeze, rollout, type World } from '../support/services';

const IMPAIRED = throttleMessage('web');
const steady = () => [aDeployment({ rolloutState: 'COMPLETED', completedAt: NOW - 1000 })];
/** A task of the PRIMARY (web:2) that went PENDING -> STOPPED without RUNNING. */
const failedToStart = (secondsAgo: number, o: Partial<TaskRecord> = {}) =>
  aTask({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull access denied', stoppedAt: NOW - secondsAgo * 1000, ...o });
const running = (n: number) => Array.from({ length: n }, () => aTask({ healthStatus: undefined }));
const started = (plan: ReturnType<typeof reconcile>) => plan.start.reduce((n, s) => n + s.count, 0);

describe('seed 004: the service throttle', () => {
  it('tasks that go PENDING -> STOPPED without RUNNING push the next launch back (10 s after the first)', () => {
    const plan = reconcile(deepFreeze(aService()), steady(), [...running(3), failedToStart(1)], NOW, () => 0);
    expect(started(plan)).toBe(0);
    expect(plan.holds.join('\n')).toMatch(/throttled after 1 task\(s\) in a row failed to start: next launch in 9 s/);
    expect(plan.service?.throttle).toEqual(expect.objectContaining({ consecutiveStartFailures: 1, taskDefinitionArn: TD2, nextAttemptAt: NOW + 9_000 }));
  });

  it.each([
    { name: 'one failure: 10 s', failures: 1, wait: 10 },
    { name: 'three in a row: 40 s', failures: 3, wait: 40 },
    { name: 'eight in a row: the 15-minute cap', failures: 8, wait: 900 },
    { name: 'forty in a row: still the cap', failures: 40, wait: 900 },
  ])('the wait grows with the failures in a row, up to the cap ($name)', ({ failures, wait }) => {
    const tasks = Array.from({ length: failures }, (_, i) => failedToStart(failures - i)); // the newest 1 s ago
    const plan = reconcile(aService(), steady(), [...running(3), ...tasks], NOW, () => 0);
    expect(plan.service?.throttle?.nextAttemptAt).toBe(NOW - 1000 + wait * 1000);
    expect(plan.nextWakeSeconds).toBe(wait - 1); // the throttle drives the loop's next wake
    const later = reconcile(aService({ throttle: plan.service!.throttle }), steady(), [...running(3), ...tasks], NOW + (wait - 1) * 1000, () => 0);
    expect(started(later)).toBe(1); // and then it launches again: never gives up
  });

  it('the service event is "(service web) is unable to consistently start tasks successfully." and its action SERVICE_TASK_START_IMPAIRED', () => {
    const tasks = [...running(3), failedToStart(1)];
    const plan = reconcile(aService(), steady(), tasks, NOW, () => 0);
    expect(plan.events).toContain('(service web) is unable to consistently start tasks successfully.');
    expect(serviceActionOf('web', CLUSTER_ARN, IMPAIRED)).toEqual({ eventName: 'SERVICE_TASK_START_IMPAIRED', eventType: 'WARN' });
    // Folded once: the next pass over the same tasks says nothing again and has nothing to write.
    const again = reconcile(aService({ throttle: plan.service!.throttle }), steady(), tasks, NOW + 500, () => 0);
    expect(again.events).not.toContain(IMPAIRED);
    expect(again.service?.throttle).toBeUndefined();
  });

  it.each([
    { name: 'a container command that exits at once (EssentialContainerExited after RUNNING)', task: aTask({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', startedAt: NOW - 3000, stoppedAt: NOW - 1000 }) },
    { name: 'a task stopped for failing its health checks', task: aTask({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed container health checks', healthStatus: 'UNHEALTHY', startedAt: NOW - 30_000, stoppedAt: NOW - 1000 }) },
    { name: 'a PENDING task the user stopped', task: failedToStart(1, { stopCode: 'UserInitiated', stoppedReason: 'stopped by user' }) },
    { name: 'a PENDING task the scheduler stopped while scaling in', task: failedToStart(1, { stopCode: 'ServiceSchedulerInitiated', stoppedReason: `Scaling activity initiated by (deployment ${NEW})` }) },
  ])('never throttles: $name', ({ task }) => {
    const plan = reconcile(aService(), steady(), [...running(3), task], NOW, () => 0);
    expect(started(plan)).toBe(1);
    expect(plan.events).not.toContain(IMPAIRED);
    expect(plan.service?.throttle).toBeUndefined();
  });

  it('a task that failed to start counts as soon as its containers are gone, before it is STOPPED (its replacement is held)', () => {
    const stopping = aTask({ lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED', startedAt: undefined, stopCode: 'TaskFailedToStart', stoppedReason: 'CannotStartContainerError', executionStoppedAt: NOW - 2000 });
    const plan = reconcile(aService(), steady(), [...running(3), stopping], NOW, () => 0);
    expect(started(plan)).toBe(0);
    expect(plan.service?.throttle).toEqual(expect.objectContaining({ consecutiveStartFailures: 1, nextAttemptAt: NOW + 8000 }));
    // Reaching STOPPED later keeps the same time: it is not counted twice.
    const done = { ...stopping, lastStatus: 'STOPPED' as const, stoppedAt: NOW + 1000 };
    const again = reconcile(aService({ throttle: plan.service!.throttle }), steady(), [...running(3), done], NOW + 1000, () => 0);
    expect(again.service?.throttle).toBeUndefined();
  });

  it('a task that reaches RUNNING ends the run of failures', () => {
    const failures = [failedToStart(30), failedToStart(20)];
    const before = reconcile(aService(), steady(), [...running(2), ...failures], NOW - 19_000, () => 0);
    expect(before.service?.throttle).toEqual(expect.objectContaining({ consecutiveStartFailures: 2 }));
    const plan = reconcile(aService({ throttle: before.service!.throttle }), steady(), [...running(2), ...failures, aTask({ startedAt: NOW - 10_000 })], NOW, () => 0);
    expect(plan.service?.throttle).toEqual(expect.objectContaining({ consecutiveStartFailures: 0 }));
    expect(plan.service?.throttle).not.toHaveProperty('nextAttemptAt');
    expect(started(plan)).toBe(1);
  });

  it('a new task definition clears the throttle at once; the same one again (forceNewDeployment) keeps it', () => {
    const throttle: ThrottleState = { consecutiveStartFailures: 6, taskDefinitionArn: TD1, nextAttemptAt: NOW + 300_000, countedThrough: { at: NOW - 1000, taskArns: [] } };
    const old = Array.from({ length: 6 }, (_, i) => failedToStart(6 - i, { startedBy: 'ecs-svc/1000000000000000001', taskDefinitionArn: TD1 }));
    const moved = reconcile(aService({ throttle }), rollout(), old, NOW, () => 0); // PRIMARY runs web:2 now
    expect(started(moved)).toBe(4);
    expect(moved.service?.throttle).toEqual({ consecutiveStartFailures: 0, taskDefinitionArn: TD2, countedThrough: { at: NOW, taskArns: [] } });
    const same = reconcile(aService({ throttle: { ...throttle, taskDefinitionArn: TD2 } }), [aDeployment()], [], NOW, () => 0);
    expect(started(same)).toBe(0);
    expect(same.holds.join()).toMatch(/throttled after 6/);
  });

  it('the curve is configurable for tests (base 1 s, cap 4 s: 1, 2, 4, 4)', () => {
    const settings = { baseSeconds: 1, maxSeconds: 4 };
    expect([1, 2, 3, 4, 9].map((k) => throttleDelaySeconds(k, settings))).toEqual([1, 2, 4, 4, 4]);
    const plan = reconcile(aService(), steady(), [...running(3), failedToStart(0), failedToStart(0.5)], NOW, () => 0, { throttle: settings });
    expect(plan.nextWakeSeconds).toBe(2);
  });
});

describe('throttle invariants', () => {
  const serviceArb = fc.record({
    failures: fc.array(fc.record({ ageSeconds: fc.integer({ min: 0, max: 1200 }), reachedRunning: fc.boolean() }), { maxLength: 12 }),
    desiredCount: fc.integer({ min: 1, max: 6 }),
    running: fc.integer({ min: 0, max: 6 }),
  });
  const build = (spec: { failures: { ageSeconds: number; reachedRunning: boolean }[]; desiredCount: number; running: number }) => {
    const tasks = [
      ...running(Math.min(spec.running, spec.desiredCount)),
      ...spec.failures.map((f) => (f.reachedRunning
        ? aTask({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', startedAt: NOW - f.ageSeconds * 1000 - 500, stoppedAt: NOW - f.ageSeconds * 1000 })
        : failedToStart(f.ageSeconds))),
    ];
    return { service: aService({ desiredCount: spec.desiredCount }), tasks };
  };

  it('changes nothing but when tasks launch: the same stops, deployments and launch configuration as with no throttle', () => {
    fc.assert(
      fc.property(serviceArb, (spec) => {
        const { service, tasks } = build(spec);
        const throttled = reconcile(service, steady(), tasks, NOW, () => 0);
        // The same state under a curve too short to hold anything at NOW.
        const free = reconcile(service, steady(), tasks, NOW + 60 * 60_000, () => 0, { throttle: { baseSeconds: 0.000_001, maxSeconds: 0.000_001 } });
        expect(throttled.stop).toEqual(free.stop);
        const { throttle: _a, ...rest } = throttled.service ?? {};
        const { throttle: _b, ...restFree } = free.service ?? {};
        expect(rest).toEqual(restFree);
        expect(started(throttled)).toBeLessThanOrEqual(started(free));
        if (started(throttled) < started(free)) expect(throttled.nextWakeSeconds).toBeLessThanOrEqual(900);
      }),
      { numRuns: 300 },
    );
  });

  it('folding is idempotent: the same tasks folded twice give the same state', () => {
    fc.assert(
      fc.property(serviceArb, (spec) => {
        const { tasks } = build(spec);
        const once = foldThrottle(undefined, TD2, tasks, NOW);
        const twice = foldThrottle(once.state, TD2, tasks, NOW);
        expect(twice.state).toEqual(once.state);
        expect(twice.newFailures).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never gives up: a service whose tasks never start keeps launching, with gaps that grow to the cap and stay there', () => {
    const world: World = { service: aService({ desiredCount: 1 }), deployments: steady(), tasks: [], now: NOW, events: [], next: 0 };
    const launches: number[] = [];
    for (let i = 0; i < 800; i++) {
      const plan = reconcile(world.service, world.deployments, world.tasks, world.now, () => 0);
      if (started(plan) > 0) launches.push(world.now);
      applyPlan(world, plan);
      advance(world, () => 'fails-to-start', 10);
    }
    const gaps = launches.slice(1).map((t, i) => (t - launches[i]!) / 1000);
    expect(launches.length).toBeGreaterThan(10);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThanOrEqual(gaps[i - 1]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(900 + 20); // the cap, plus the world's 10 s steps
    expect(gaps.at(-1)!).toBeGreaterThanOrEqual(900);
    expect(world.events.filter((e) => e === IMPAIRED).length).toBe(launches.length);
  });
});

