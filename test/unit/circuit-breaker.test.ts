/**
 * The deployment circuit breaker: ECS's threshold (default and thresholdConfiguration), which stopped
 * tasks count in stage 1 and stage 2, resetOnHealthyTask, idempotent counting, trip with and without
 * rollback, and StopServiceDeployment ROLLBACK.
 */
import { describe, expect, it } from 'vitest';
import {
  breakerStage, failDeployment, failureStage, failureThreshold, foldOutcomes, requestRollback, rollbackTarget,
} from '../../src/domain/circuit-breaker';
import type { TaskRecord } from '../../src/domain/records';
import { INITIAL_CIRCUIT_BREAKER, type ThresholdConfiguration } from '../../src/domain/service';
import { reconcile } from '../../src/domain/service-reconciler';
import { serviceMessages } from '../../src/domain/service-messages';
import { NEW, NOW, OLD, aDeployment, aService, aTask, advance, applyPlan, deepFreeze, expectPlan, rollout, rolling, tasksOf, type World } from '../support/services';

const failedToStart = (o: Partial<TaskRecord> = {}) =>
  aTask({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError', stoppedAt: NOW - 5000, ...o });
const watched = { id: NEW, hasHealthCheck: true };
/** Past the throttle's wait after these failures (seed 004's throttle is the subject of service-throttle.test.ts). */
const AFTER_THROTTLE = NOW + 15 * 60_000;

describe('failureThreshold', () => {
  it.each([
    { name: 'default, desired 1 -> minimum 3', desired: 1, config: undefined, expected: 3 },
    { name: 'default, desired 4 -> 3 (2 raised to the minimum; issue 8: 4-task service trips at 3)', desired: 4, config: undefined, expected: 3 },
    { name: 'default, desired 7 -> 4 (3.5 rounds up)', desired: 7, config: undefined, expected: 4 },
    { name: 'default, desired 25 -> 13', desired: 25, config: undefined, expected: 13 },
    { name: 'default, desired 5000 -> maximum 200', desired: 5000, config: undefined, expected: 200 },
    { name: 'BOUNDED_PERCENT 10 of 100 -> 10', desired: 100, config: { type: 'BOUNDED_PERCENT', value: 10 }, expected: 10 },
    { name: 'BOUNDED_PERCENT 10 of 10 -> 3 (minimum)', desired: 10, config: { type: 'BOUNDED_PERCENT', value: 10 }, expected: 3 },
    { name: 'UNBOUNDED_PERCENT 50 of 1000 -> 500 (no 200 cap)', desired: 1000, config: { type: 'UNBOUNDED_PERCENT', value: 50 }, expected: 500 },
    { name: 'UNBOUNDED_PERCENT 10 of 4 -> 1 (no minimum 3, never 0)', desired: 4, config: { type: 'UNBOUNDED_PERCENT', value: 10 }, expected: 1 },
    { name: 'COUNT 1 -> 1', desired: 400, config: { type: 'COUNT', value: 1 }, expected: 1 },
    { name: 'COUNT 500 -> 500', desired: 4, config: { type: 'COUNT', value: 500 }, expected: 500 },
  ] as { name: string; desired: number; config?: ThresholdConfiguration; expected: number }[])('$name', ({ desired, config, expected }) => {
    expect(failureThreshold(desired, config)).toBe(expected);
  });
});

describe('failureStage: which stopped tasks are failures', () => {
  it.each([
    { name: 'stopped before RUNNING (TaskFailedToStart) -> stage 1', task: failedToStart(), expected: 1 },
    { name: 'essential container exited before RUNNING -> stage 1', task: failedToStart({ stopCode: 'EssentialContainerExited' }), expected: 1 },
    { name: 'RUNNING then stopped for failed health checks -> stage 2', task: aTask({ lastStatus: 'STOPPED', startedAt: NOW - 90_000, stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed container health checks', healthStatus: 'UNHEALTHY' }), expected: 2 },
    { name: 'RUNNING then exited while UNHEALTHY -> stage 2', task: aTask({ lastStatus: 'STOPPED', startedAt: NOW - 90_000, stopCode: 'EssentialContainerExited', healthStatus: 'UNHEALTHY' }), expected: 2 },
    { name: 'RUNNING then exited, healthy or no health check -> not a failure', task: aTask({ lastStatus: 'STOPPED', startedAt: NOW - 90_000, stopCode: 'EssentialContainerExited' }), expected: undefined },
    { name: 'scheduler scale-in or rolling stop -> not a failure', task: failedToStart({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: `Scaling activity initiated by (deployment ${NEW})` }), expected: undefined },
    { name: 'user StopTask -> not a failure', task: failedToStart({ stopCode: 'UserInitiated' }), expected: undefined },
    { name: 'still running -> not a failure', task: aTask(), expected: undefined },
  ])('$name', ({ task, expected }) => {
    expect(failureStage(task)).toBe(expected);
  });

  it('stage 1 until a task of the deployment reached RUNNING, then stage 2', () => {
    expect(breakerStage([failedToStart()], watched)).toBe(1);
    expect(breakerStage([failedToStart(), aTask({ healthStatus: 'UNKNOWN' })], watched)).toBe(2);
  });
});

describe('foldOutcomes', () => {
  const reset = { resetOnHealthyTask: true };

  it('counts each failure once, however often the same tasks are folded', () => {
    const tasks = [failedToStart({ stoppedAt: NOW - 3 }), failedToStart({ stoppedAt: NOW - 2 }), failedToStart({ stoppedAt: NOW - 2 })];
    const once = foldOutcomes(INITIAL_CIRCUIT_BREAKER, watched, deepFreeze(tasks), reset);
    expect(once.failedTasks).toBe(3);
    expect(foldOutcomes(once, watched, tasks, reset)).toBe(once);
    const later = failedToStart({ stoppedAt: NOW - 2 }); // same millisecond as two counted ones
    expect(foldOutcomes(once, watched, [...tasks, later], reset).failedTasks).toBe(4);
  });

  it('a task that becomes healthy resets the count (resetOnHealthyTask, default true)', () => {
    const tasks = [failedToStart({ stoppedAt: NOW - 50_000 }), aTask({ startedAt: NOW - 40_000, healthStatus: 'HEALTHY' }), failedToStart({ stoppedAt: NOW - 30_000 })];
    expect(foldOutcomes(INITIAL_CIRCUIT_BREAKER, watched, tasks, {}).failedTasks).toBe(1);
    expect(foldOutcomes(INITIAL_CIRCUIT_BREAKER, watched, tasks, { resetOnHealthyTask: false }).failedTasks).toBe(2);
  });

  it('a RUNNING task with a health check still UNKNOWN resets nothing', () => {
    const tasks = [failedToStart({ stoppedAt: NOW - 50_000 }), aTask({ startedAt: NOW - 40_000, healthStatus: 'UNKNOWN' })];
    expect(foldOutcomes(INITIAL_CIRCUIT_BREAKER, watched, tasks, reset).failedTasks).toBe(1);
  });

  it('ignores tasks of other deployments', () => {
    expect(foldOutcomes(INITIAL_CIRCUIT_BREAKER, watched, [failedToStart({ startedBy: OLD })], reset)).toBe(INITIAL_CIRCUIT_BREAKER);
  });
});

describe('tripping in the reconciler', () => {
  const on = (rollback: boolean) => aService(rolling(100, 200, 4, { enable: true, rollback }));

  it('stays IN_PROGRESS below the threshold and keeps launching', () => {
    const plan = reconcile(on(true), rollout(), [...tasksOf(4, { startedBy: OLD }), failedToStart(), failedToStart()], AFTER_THROTTLE, () => 0);
    expectPlan(plan, { start: [{ deploymentId: NEW, count: 4 }], deployments: [{ id: NEW, rolloutState: 'IN_PROGRESS', failedTasks: 2 }] });
  });

  it('stage 2: tasks that fail health checks after RUNNING trip it too', () => {
    const sick = (i: number) => aTask({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', startedAt: NOW - 60_000, stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed container health checks', healthStatus: 'UNHEALTHY', stoppedAt: NOW - i });
    const plan = reconcile(on(false), rollout({}, { hasHealthCheck: true }), [...tasksOf(4, { startedBy: OLD }), sick(1), sick(2), sick(3)], NOW, () => 0);
    expectPlan(plan, { start: [], deployments: [{ id: NEW, rolloutState: 'FAILED', failedTasks: 3 }], events: [serviceMessages.deploymentFailed('web', NEW)] });
    expect(plan.holds).toContain('circuit breaker tripped in stage 2 at 3 failed tasks');
  });

  it('without a COMPLETED deployment to return to, rollback stalls: FAILED, PRIMARY, nothing launched', () => {
    const plan = reconcile(on(true), [aDeployment()], [failedToStart(), failedToStart(), failedToStart()], AFTER_THROTTLE, () => 0);
    expectPlan(plan, { start: [], stop: 0, deployments: [{ id: NEW, status: 'PRIMARY', rolloutState: 'FAILED' }], events: [serviceMessages.deploymentFailed('web', NEW)] });
  });

  it('a healthy task in between resets the count: 2 failures, a healthy task, 2 failures -> no trip at 3', () => {
    const tasks = [
      ...tasksOf(4, { startedBy: OLD }),
      failedToStart({ stoppedAt: NOW - 50_000 }), failedToStart({ stoppedAt: NOW - 49_000 }),
      aTask({ startedAt: NOW - 40_000 }),
      failedToStart({ stoppedAt: NOW - 30_000 }), failedToStart({ stoppedAt: NOW - 29_000 }),
    ];
    expectPlan(reconcile(on(true), rollout(), tasks, NOW, () => 0), { deployments: [{ id: NEW, rolloutState: 'IN_PROGRESS', failedTasks: 2 }] });
    const noReset = aService(rolling(100, 200, 4, { enable: true, rollback: false, resetOnHealthyTask: false }));
    expectPlan(reconcile(noReset, rollout(), tasks, NOW, () => 0), { deployments: [{ id: NEW, rolloutState: 'FAILED', failedTasks: 4 }] });
  });

  it('disabled: counts failures but never trips', () => {
    const plan = reconcile(aService(), rollout(), [failedToStart(), failedToStart(), failedToStart()], AFTER_THROTTLE, () => 0);
    expectPlan(plan, { start: [{ deploymentId: NEW, count: 4 }], deployments: [{ id: NEW, rolloutState: 'IN_PROGRESS', failedTasks: 3 }] });
  });
});

describe('a rollout whose tasks fail their health checks, played out', () => {
  it('stage 2 trips at 3 for a 4-task service and rolls back to steady on the old task definition', () => {
    const world: World = {
      service: aService(rolling(100, 200, 4, { enable: true, rollback: true })),
      deployments: rollout({ hasHealthCheck: true }, { hasHealthCheck: true }),
      tasks: tasksOf(4, { startedBy: OLD, healthStatus: 'HEALTHY' }), now: NOW, events: [], next: 0,
    };
    for (let i = 0; i < 40; i++) {
      applyPlan(world, reconcile(world.service, world.deployments, world.tasks, world.now, () => 0));
      advance(world, (t) => (t.startedBy === NEW ? 'fails-health-checks' : 'succeeds'));
    }
    const d = Object.fromEntries(world.deployments.map((x) => [x.id, x]));
    // The 4 new tasks started together and were stopped together: 4 failures at once, past the 3.
    expect(d[NEW]).toEqual(expect.objectContaining({ status: 'INACTIVE', rolloutState: 'FAILED', failedTasks: 4 }));
    expect(d[OLD]).toEqual(expect.objectContaining({ status: 'PRIMARY', rolloutState: 'COMPLETED' }));
    expect(world.service.taskDefinition).toBe(d[OLD]!.taskDefinition);
    // The old tasks served throughout: minimumHealthyPercent 100 never let one of them stop.
    expect(world.tasks.filter((t) => t.startedBy === OLD && t.desiredStatus === 'STOPPED')).toEqual([]);
    const at = (m: string) => world.events.indexOf(m);
    expect(at(serviceMessages.deploymentFailed('web', NEW))).toBeGreaterThan(-1);
    expect(at(serviceMessages.rollingBack('web', OLD))).toBe(at(serviceMessages.deploymentFailed('web', NEW)) + 1);
    expect(world.events.at(-1)).toBe(serviceMessages.steadyState('web'));
  });
});

describe('failDeployment and requestRollback', () => {
  it('rolls back to the most recently COMPLETED deployment', () => {
    const older = aDeployment({ id: 'ecs-svc/3000000000000000003', status: 'INACTIVE', rolloutState: 'COMPLETED', completedAt: NOW - 9_000_000 });
    const deps = [...rollout(), older];
    expect(rollbackTarget(deps, NEW)?.id).toBe(OLD);
    const out = failDeployment('web', deps, NEW, { rollback: true, cause: 'circuit-breaker' }, NOW);
    expect(out.rolledBackTo).toBe(OLD);
    expect(out.service).toEqual(expect.objectContaining({ taskDefinition: deps[0]!.taskDefinition }));
    expect(out.deployments.map((d) => [d.id, d.status, d.rolloutState])).toEqual([
      [OLD, 'PRIMARY', 'IN_PROGRESS'], [NEW, 'ACTIVE', 'FAILED'], [older.id, 'INACTIVE', 'COMPLETED'],
    ]);
    expect(out.deployments[0]!.completedAt).toBeUndefined(); // not a rollback target again until it completes
  });

  it('StopServiceDeployment ROLLBACK does the same on request, even with the breaker off', () => {
    const out = requestRollback('web', rollout(), NEW, NOW);
    expect('refused' in out).toBe(false);
    if ('refused' in out) return;
    expect(out.events).toEqual([serviceMessages.rollingBack('web', OLD)]);
    expect(out.deployments.find((d) => d.id === OLD)).toEqual(expect.objectContaining({
      status: 'PRIMARY', rolloutState: 'IN_PROGRESS', rolloutStateReason: `ECS deployment rollback requested: rolling back to deploymentId ${OLD}.`,
    }));
  });

  it('after a requested rollback the reconciler replaces the new tasks and completes the old deployment', () => {
    const newTasks = tasksOf(2, { startedBy: NEW });
    const asked = requestRollback('web', rollout(), NEW, NOW);
    if ('refused' in asked) throw new Error(asked.refused);
    const service = aService({ ...asked.service });
    const first = reconcile(service, asked.deployments, [...tasksOf(4, { startedBy: OLD }), ...newTasks], NOW, () => 0);
    expectPlan(first, { start: [], stop: newTasks.map((t) => ({ taskArn: t.taskArn, deploymentId: NEW, rule: 'replace-old' as const })).reverse() });
    const done = reconcile(service, asked.deployments, tasksOf(4, { startedBy: OLD }), NOW, () => 0);
    expectPlan(done, {
      deployments: [{ id: OLD, status: 'PRIMARY', rolloutState: 'COMPLETED' }, { id: NEW, status: 'INACTIVE', rolloutState: 'FAILED' }],
      events: [serviceMessages.deploymentCompleted('web', OLD), serviceMessages.steadyState('web')],
    });
  });

  it.each([
    { name: 'a deployment that is not in progress', deps: rollout({}, { rolloutState: 'COMPLETED' }), id: NEW, refused: 'NOT_IN_PROGRESS' },
    { name: 'an unknown deployment', deps: rollout(), id: 'ecs-svc/4000000000000000004', refused: 'NOT_IN_PROGRESS' },
    { name: 'an ACTIVE (old) deployment', deps: rollout(), id: OLD, refused: 'NOT_IN_PROGRESS' },
    { name: 'nothing COMPLETED to return to', deps: [aDeployment()], id: NEW, refused: 'NO_COMPLETED_DEPLOYMENT' },
  ])('refuses $name', ({ deps, id, refused }) => {
    expect(requestRollback('web', deps, id, NOW)).toEqual({ refused });
  });
});
