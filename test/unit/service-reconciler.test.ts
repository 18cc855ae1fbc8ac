/**
 * Named scenarios for the REPLICA reconciler: one `it` per sentence of seed 002's rolling-update
 * section (with its worked examples), then scale up and down, replacement, steady state, draining.
 * Circuit breaker scenarios are in circuit-breaker.test.ts; invariants in service-reconciler.property.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { reconcile } from '../../src/domain/service-reconciler';
import type { DeploymentRecord, ServiceRecord } from '../../src/domain/service';
import type { TaskRecord } from '../../src/domain/records';
import { serviceMessages } from '../../src/domain/service-messages';
import { WAKE } from '../../src/domain/service-plan';
import {
  NEW, NOW, OLD, ZONES, aDeployment, aService, aTask, advance, applyPlan, deepFreeze, expectPlan, rollout, rolling, tasksOf,
  type World,
} from '../support/services';

const random = () => 0;
const run = (service: ServiceRecord, deployments: DeploymentRecord[], tasks: TaskRecord[], now = NOW) =>
  reconcile(deepFreeze(service), deepFreeze(deployments), deepFreeze(tasks), now, random);
const old = (n: number, o: Partial<TaskRecord> = {}) => tasksOf(n, { startedBy: OLD, ...o });
const fresh = (n: number, o: Partial<TaskRecord> = {}) => tasksOf(n, { startedBy: NEW, ...o });
const completed = (o: Partial<DeploymentRecord> = {}) =>
  [aDeployment({ rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${NEW} completed.`, completedAt: NOW - 1000, ...o })];
const CANNOT = serviceMessages.cannotStopOrStart('web');

describe('seed 002: rolling update (ECS deployment type)', () => {
  it('the scheduler replaces the currently running tasks with new tasks', () => {
    const oldTasks = old(4);
    expectPlan(run(aService(), rollout(), oldTasks), { start: [{ deploymentId: NEW, count: 4 }], stop: 0 });
    const plan = run(aService(), rollout(), [...oldTasks, ...fresh(4)]);
    // Oldest deployment first; within it the newest task first.
    expectPlan(plan, { start: [], stop: [...oldTasks].reverse().map((t) => ({ taskArn: t.taskArn, deploymentId: OLD, rule: 'replace-old' as const })) });
    expect(plan.stop[0]!.reason).toBe(`Scaling activity initiated by (deployment ${NEW})`);
  });

  it('the deployment configuration controls how many tasks are added or removed', () => {
    // Same service, same tasks, two configurations: 100/200 adds 4 first, 50/100 removes 2 first.
    expectPlan(run(aService(rolling(100, 200)), rollout(), old(4)), { start: [{ deploymentId: NEW, count: 4 }], stop: 0 });
    expectPlan(run(aService(rolling(50, 100)), rollout(), old(4)), { start: [], stop: 2 });
  });

  it('minimumHealthyPercent is the lower limit of RUNNING tasks during a deployment, as a percent of desiredCount', () => {
    // 4 old RUNNING, 2 new RUNNING, 75% of 4 = 3 must stay: 6 available -> 3 old may stop.
    expectPlan(run(aService(rolling(75, 200)), rollout(), [...old(4), ...fresh(2)]), { stop: 3 });
  });

  it('minimumHealthyPercent is rounded up (33% of 3 is 0.99 -> 1 must stay)', () => {
    expectPlan(run(aService(rolling(33, 100, 3)), rollout(), old(3)), { stop: 2, start: [] });
  });

  it('min 50% of 4: the scheduler can stop two existing tasks before starting two new tasks', () => {
    const world: World = { service: aService(rolling(50, 100)), deployments: rollout(), tasks: old(4), now: NOW, events: [], next: 0 };
    const first = reconcile(world.service, world.deployments, world.tasks, world.now, random);
    expectPlan(first, { stop: 2, start: [] });
    applyPlan(world, first);
    advance(world, () => 'succeeds');
    advance(world, () => 'succeeds'); // the two stopped tasks are STOPPED now, their room is free
    expectPlan(reconcile(world.service, world.deployments, world.tasks, world.now, random), { start: [{ deploymentId: NEW, count: 2 }], stop: 0 });
  });

  it('min 75% of 2: the scheduler cannot stop any task, 1.5 rounds up to 2', () => {
    expectPlan(run(aService(rolling(75, 200, 2)), rollout(), old(2)), { stop: 0, start: [{ deploymentId: NEW, count: 2 }] });
  });

  it('unhealthy tasks: the scheduler first starts replacements and keeps the unhealthy ones meanwhile', () => {
    const deps = completed({ hasHealthCheck: true });
    const tasks = [...fresh(3, { healthStatus: 'HEALTHY' }), aTask({ healthStatus: 'UNHEALTHY' })];
    expectPlan(run(aService(), deps, tasks), { start: [{ deploymentId: NEW, count: 1 }], stop: 0 });
    // Within the health check grace period an UNHEALTHY report is ignored: nothing is replaced.
    const young = [...fresh(3, { healthStatus: 'HEALTHY' }), aTask({ healthStatus: 'UNHEALTHY', startedAt: NOW - 5_000 })];
    expectPlan(run(aService({ healthCheckGracePeriodSeconds: 60 }), deps, young), { start: [], stop: 0 });
  });

  it('once the replacements are healthy, the unhealthy tasks are stopped', () => {
    const sick = aTask({ healthStatus: 'UNHEALTHY' });
    const plan = run(aService(), completed({ hasHealthCheck: true }), [...fresh(4, { healthStatus: 'HEALTHY' }), sick]);
    expectPlan(plan, {
      start: [],
      stop: [{ taskArn: sick.taskArn, rule: 'unhealthy', reason: 'Task failed container health checks' } as never],
      events: [serviceMessages.failedHealthChecks('web', sick.taskArn), serviceMessages.stopped('web', [sick.taskArn])],
    });
  });

  it('maximumPercent is the upper limit of RUNNING or PENDING tasks, as a percent of desiredCount', () => {
    // 150% of 4 = 6; 4 old and 1 new PENDING occupy 5: one more may start.
    expectPlan(run(aService(rolling(100, 150)), rollout(), [...old(4), ...fresh(1, { lastStatus: 'PENDING', startedAt: undefined })]), {
      start: [{ deploymentId: NEW, count: 1 }], stop: 0, holdsMatching: [/floor/],
    });
  });

  it('maximumPercent is rounded down (150% of 3 is 4.5 -> 4)', () => {
    expectPlan(run(aService(rolling(100, 150, 3)), rollout(), old(3)), { start: [{ deploymentId: NEW, count: 1 }] });
  });

  it('max 200% of 4: the scheduler can start four new tasks before stopping four existing ones', () => {
    expectPlan(run(aService(rolling(100, 200)), rollout(), old(4)), { start: [{ deploymentId: NEW, count: 4 }], stop: 0 });
  });

  it('max 125% of 3: the scheduler cannot start any task, 3.75 rounds down to 3', () => {
    expectPlan(run(aService(rolling(100, 125, 3)), rollout(), old(3)), { start: [], stop: 0, holdsMatching: [/ceiling \(3 tasks\)/] });
  });

  it('a configuration that lets the scheduler stop or start one task moves the deployment', () => {
    expectPlan(run(aService(rolling(50, 100, 2)), rollout(), old(2)), { stop: 1, start: [] });
    expectPlan(run(aService(rolling(100, 150, 2)), rollout(), old(2)), { start: [{ deploymentId: NEW, count: 1 }] });
  });

  it('a deployment stuck on its configuration sends the service event and does not move', () => {
    const plan = run(aService(rolling(100, 100, 2)), rollout(), old(2));
    expectPlan(plan, { start: [], stop: 0, events: [CANNOT] });
    expect(CANNOT).toBe('(service web) was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.');
    const later = run(aService(rolling(100, 100, 2)), rollout(), old(2), NOW + 60_000);
    expect({ start: later.start, stop: later.stop, events: later.events }).toEqual({ start: [], stop: [], events: [CANNOT] });
  });

  it('the circuit breaker decides whether the tasks reach a steady state', () => {
    const breaker = { enable: true, rollback: false };
    const failed = fresh(3, { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', startedAt: undefined, stopCode: 'TaskFailedToStart', stoppedAt: NOW - 1000 });
    // Past the throttle's wait after these failures (seed 004's throttle: service-throttle.test.ts).
    const plan = run(aService(rolling(100, 200, 4, breaker)), rollout(), [...old(4), ...failed], NOW + 15 * 60_000);
    expectPlan(plan, {
      start: [], stop: 0,
      events: [serviceMessages.deploymentFailed('web', NEW)],
      deployments: [{ id: NEW, status: 'PRIMARY', rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.', failedTasks: 3 }],
      nextWakeSeconds: WAKE.steady,
    });
  });

  it('the circuit breaker can roll a failed deployment back', () => {
    const breaker = { enable: true, rollback: true };
    const failed = fresh(3, { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', startedAt: undefined, stopCode: 'TaskFailedToStart', stoppedAt: NOW - 1000 });
    const plan = run(aService(rolling(100, 200, 4, breaker)), rollout(), [...old(4), ...failed]);
    expectPlan(plan, {
      start: [], stop: 0,
      // The old tasks still run, so the rollback target is at once complete again.
      events: [
        serviceMessages.deploymentFailed('web', NEW), serviceMessages.rollingBack('web', OLD),
        serviceMessages.deploymentCompleted('web', OLD), serviceMessages.steadyState('web'),
      ],
      deployments: [
        { id: OLD, status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 4 },
        { id: NEW, status: 'INACTIVE', rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' },
      ],
    });
    expect(plan.service).toEqual(expect.objectContaining({ taskDefinition: aDeployment({ id: OLD }).taskDefinition }));
  });
});

describe('keeping desiredCount', () => {
  it('starts the tasks of a new service', () => {
    expectPlan(run(aService(), [aDeployment()], []), { start: [{ deploymentId: NEW, count: 4 }], stop: 0, nextWakeSeconds: WAKE.progressing });
  });

  it('replaces a stopped or lost task', () => {
    const lost = aTask({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', startedAt: NOW - 60_000, stoppedAt: NOW - 1 });
    expectPlan(run(aService(), completed(), [...fresh(3), lost]), { start: [{ deploymentId: NEW, count: 1 }], stop: 0 });
  });

  it('scales up 4 -> 10 within the ceiling', () => {
    expectPlan(run(aService({ desiredCount: 10 }), completed(), fresh(4)), { start: [{ deploymentId: NEW, count: 6 }] });
  });

  it('scales in 10 -> 4: tasks not serving first, then the fullest zone, then the newest', () => {
    const pending = aTask({ lastStatus: 'PENDING', startedAt: undefined, containerInstanceArn: undefined, availabilityZone: ZONES[2] });
    const zoneA = [0, 1, 2, 3, 4].map((i) => aTask({ availabilityZone: ZONES[0], createdAt: NOW - 100_000 + i }));
    const zoneB = [0, 1, 2, 3].map((i) => aTask({ availabilityZone: ZONES[1], createdAt: NOW - 100_000 + i }));
    const plan = run(aService({ desiredCount: 4 }), completed(), [pending, ...zoneA, ...zoneB]);
    // 10 -> 4 stops 6: the PENDING task, then zone a (5) and b (4) evened out, newest first: a4, a3, b3, a2, b2.
    expect(plan.stop.map((s) => s.taskArn)).toEqual([pending, zoneA[4], zoneA[3], zoneB[3], zoneA[2], zoneB[2]].map((t) => t!.taskArn));
    expect(plan.stop.every((s) => s.rule === 'scale-in')).toBe(true);
  });

  it('scales to 0', () => {
    expectPlan(run(aService({ desiredCount: 0 }), completed(), fresh(3)), { stop: 3, start: [] });
  });

  it('splits new tasks over the capacity provider strategy, base first then weight', () => {
    const strategy = [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 }];
    const plan = run(aService({ desiredCount: 5 }), [aDeployment({ launchType: undefined, capacityProviderStrategy: strategy })], []);
    expectPlan(plan, { start: [{ deploymentId: NEW, count: 2, capacityProvider: 'FARGATE' }, { deploymentId: NEW, count: 3, capacityProvider: 'FARGATE_SPOT' }] });
    expect(plan.start.every((s) => s.group === 'service:web' && s.startedBy === NEW)).toBe(true);
  });

  it('never sees tasks that are not the service\'s: other groups, other clusters, unknown deployments', () => {
    const foreign = [
      aTask({ group: 'family:web' }),
      aTask({ group: 'service:api' }),
      aTask({ clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/other' }),
      aTask({ startedBy: 'ecs-svc/9999999999999999999' }),
    ];
    expectPlan(run(aService({ desiredCount: 0 }), completed(), foreign), { stop: 0 });
  });
});

describe('steady state and completion', () => {
  it('completes the rollout when the primary has desiredCount healthy tasks and nothing else runs', () => {
    const plan = run(aService(), rollout({ status: 'ACTIVE' }), fresh(4));
    expectPlan(plan, {
      start: [], stop: 0,
      events: [serviceMessages.deploymentCompleted('web', NEW), serviceMessages.steadyState('web')],
      deployments: [
        { id: OLD, status: 'INACTIVE' },
        { id: NEW, status: 'PRIMARY', rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${NEW} completed.`, runningCount: 4, completedAt: NOW },
      ],
      nextWakeSeconds: WAKE.steady,
    });
    expect(serviceMessages.deploymentCompleted('web', NEW)).toBe(`(service web) (deployment ${NEW}) deployment completed.`);
  });

  it('does not complete while a task is HEALTHY-pending (health check UNKNOWN)', () => {
    const plan = run(aService(), [aDeployment({ hasHealthCheck: true })], [...fresh(3, { healthStatus: 'HEALTHY' }), aTask({ healthStatus: 'UNKNOWN' })]);
    expectPlan(plan, { start: [], stop: 0, events: [], nextWakeSeconds: WAKE.progressing });
  });

  it('old tasks stop only when enough new ones are HEALTHY (RUNNING alone is not enough with a health check)', () => {
    const deps = rollout({ hasHealthCheck: true }, { hasHealthCheck: true });
    expectPlan(run(aService(), deps, [...old(4, { healthStatus: 'HEALTHY' }), ...fresh(4, { healthStatus: 'UNKNOWN' })]), { stop: 0, start: [] });
    expectPlan(run(aService(), deps, [...old(4, { healthStatus: 'HEALTHY' }), ...fresh(4, { healthStatus: 'HEALTHY' })]), { stop: 4 });
  });

  it('says "has reached a steady state." again when already COMPLETED (the event log drops the repeat)', () => {
    expectPlan(run(aService(), completed({ runningCount: 4 }), fresh(4)), { events: [serviceMessages.steadyState('web')], deployments: [] });
  });
});

describe('deleting', () => {
  it('a DRAINING service stops every task, then goes INACTIVE with its deployments', () => {
    const tasks = fresh(2);
    expectPlan(run(aService({ status: 'DRAINING' }), completed(), tasks), { stop: tasks.map((t) => ({ taskArn: t.taskArn, rule: 'draining' as const })) });
    const plan = run(aService({ status: 'DRAINING' }), completed(), []);
    expect(plan.service).toEqual({ status: 'INACTIVE' });
    expect(plan.deployments.map((d) => d.status)).toEqual(['INACTIVE']);
    expect(plan.nextWakeSeconds).toBeUndefined();
  });

  it('an INACTIVE service plans nothing and needs no further look', () => {
    expect(run(aService({ status: 'INACTIVE' }), completed(), fresh(1))).toEqual({ start: [], stop: [], deployments: [], events: [], holds: [], nextWakeSeconds: undefined });
  });
});
