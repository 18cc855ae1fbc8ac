/**
 * The deployment circuit breaker and the throttle of DAEMON services (src/domain/daemon-reconciler.ts),
 * as named scenarios. ECS's breaker applies to services of the rolling update (ECS) deployment type,
 * which DAEMON services use, with the threshold computed from the desired count (for a daemon: the
 * eligible instances); the throttle (seed 004) is the service scheduler's, for every service.
 * Invariants (SAFETY: a failing daemon deployment stops launching per the throttle and the breaker;
 * LIVENESS: a healthy one completes) are in daemon-judgment.property.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { reconcileDaemon } from '../../src/domain/daemon-reconciler';
import type { TaskRecord } from '../../src/domain/records';
import type { DeploymentRecord, ServiceRecord } from '../../src/domain/service';
import { FAILED_HEALTH_CHECKS_REASON, rolloutReasons, serviceMessages } from '../../src/domain/service-messages';
import { throttleMessage } from '../../src/domain/throttle';
import { NEEDS, aDaemonService, aHost, candidatesOf, daemonTask, type Host } from '../support/daemons';
import { NEW, NOW, OLD, TD1, TD2, aDeployment, deepFreeze, expectPlan, rollout } from '../support/services';

const hosts = [aHost(1), aHost(2), aHost(3), aHost(4)];
const withBreaker = (enable: boolean, rollback: boolean, overrides: Partial<ServiceRecord> = {}) =>
  aDaemonService({
    desiredCount: 4,
    deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100, deploymentCircuitBreaker: { enable, rollback } },
    ...overrides,
  });
const run = (service: ServiceRecord, deployments: DeploymentRecord[], tasks: TaskRecord[], on: Host[] = hosts) =>
  reconcileDaemon(
    deepFreeze(service),
    deepFreeze(deployments),
    deepFreeze(tasks),
    deepFreeze({ instances: candidatesOf(on, tasks), constraints: [], needs: NEEDS }),
    NOW,
    { throttle: { baseSeconds: 10, maxSeconds: 900 } },
  );

/** A task of the new deployment that went PENDING -> STOPPED on `host`, `ago` ms before NOW. */
const failedToStart = (host: Host, ago: number, startedBy = NEW) =>
  daemonTask(host, {
    startedBy, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart',
    stoppedReason: 'CannotPullContainerError', startedAt: undefined, stoppedAt: NOW - ago, createdAt: NOW - ago - 5_000,
  });
/** A task of the new deployment that ran, failed its health checks and was stopped for it. */
const failedHealthChecks = (host: Host, ago: number) =>
  daemonTask(host, {
    lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated', stoppedReason: FAILED_HEALTH_CHECKS_REASON,
    healthStatus: 'UNHEALTHY', startedAt: NOW - ago - 30_000, stoppedAt: NOW - ago,
  });

describe('the deployment circuit breaker on a DAEMON rollout (threshold from the eligible instances: 4 -> 3)', () => {
  const threeFailed = [failedToStart(hosts[0], 30_000), failedToStart(hosts[1], 20_000), failedToStart(hosts[2], 10_000)];

  it('stage 1, rollback on: 3 tasks of the new deployment never reach RUNNING -> it FAILS and the last COMPLETED one is PRIMARY again', () => {
    const plan = run(withBreaker(true, true), rollout({ launchType: 'EC2' }, { launchType: 'EC2' }), threeFailed);
    expectPlan(plan, {
      eventsContaining: [serviceMessages.deploymentFailed('web', NEW), serviceMessages.rollingBack('web', OLD)],
      deployments: [
        // FAILED, and INACTIVE at once: none of its tasks holds an instance any more.
        { id: NEW, status: 'INACTIVE', rolloutState: 'FAILED', rolloutStateReason: rolloutReasons.circuitBreakerFailed, failedTasks: 3 },
        { id: OLD, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', rolloutStateReason: rolloutReasons.rollingBack(OLD) },
      ],
      holdsMatching: [/circuit breaker tripped in stage 1 at 3 failed tasks/],
    });
    // The service takes the rolled-back deployment's launch configuration back.
    expect(plan.service).toMatchObject({ taskDefinition: TD1 });
  });

  it('stage 1, rollback off: the deployment FAILS, stays PRIMARY, and launches nothing more on the free instances', () => {
    const plan = run(withBreaker(true, false), [aDeployment({ launchType: 'EC2' })], threeFailed);
    expectPlan(plan, {
      start: [],
      // The third failure, 10 s ago, also throttles: both are said, as for a REPLICA service.
      events: [serviceMessages.deploymentFailed('web', NEW), throttleMessage('web')],
      deployments: [{ id: NEW, status: 'PRIMARY', rolloutState: 'FAILED', failedTasks: 3 }],
      holdsMatching: [/FAILED: it launches no new tasks/],
    });
  });

  it('stage 2: tasks that reached RUNNING and were stopped for failing their health checks count too', () => {
    const tasks = [failedHealthChecks(hosts[0], 30_000), failedHealthChecks(hosts[1], 20_000), failedHealthChecks(hosts[2], 10_000)];
    const plan = run(withBreaker(true, false), [aDeployment({ launchType: 'EC2', hasHealthCheck: true })], tasks);
    expectPlan(plan, { deployments: [{ id: NEW, rolloutState: 'FAILED', failedTasks: 3 }], holdsMatching: [/stage 2 at 3 failed tasks/] });
  });

  it('below the threshold (2 of 3) the rollout goes on: the failed instances take new tasks once the throttle allows', () => {
    const plan = run(withBreaker(true, true), [aDeployment({ launchType: 'EC2' })], [failedToStart(hosts[0], 60_000), failedToStart(hosts[1], 50_000)]);
    expectPlan(plan, { deployments: [{ id: NEW, rolloutState: 'IN_PROGRESS', failedTasks: 2 }] });
    expect(plan.start.map((s) => s.containerInstanceArn)).toEqual(hosts.map((h) => h.arn));
  });

  it('a task that becomes healthy resets the count: 2 failures, a RUNNING task, 2 failures -> 2, no trip', () => {
    const tasks = [
      failedToStart(hosts[0], 90_000), failedToStart(hosts[1], 80_000),
      daemonTask(hosts[2], { startedAt: NOW - 70_000 }),
      failedToStart(hosts[3], 60_000), failedToStart(hosts[0], 50_000),
    ];
    expectPlan(run(withBreaker(true, false), [aDeployment({ launchType: 'EC2' })], tasks), { deployments: [{ id: NEW, rolloutState: 'IN_PROGRESS', failedTasks: 2 }] });
  });

  it('breaker off: failures are counted but the rollout never FAILS', () => {
    const plan = run(withBreaker(false, false), [aDeployment({ launchType: 'EC2' })], threeFailed);
    expectPlan(plan, { deployments: [{ id: NEW, rolloutState: 'IN_PROGRESS', failedTasks: 3 }] });
    expect(plan.events).not.toContain(serviceMessages.deploymentFailed('web', NEW));
  });
});

describe('seed 004: the throttle on a DAEMON service', () => {
  const fresh = [aDeployment({ launchType: 'EC2' })];

  it('a task that goes PENDING -> STOPPED pushes the next launch back 10 s: every start is held, the event is said, the loop wakes then', () => {
    const plan = run(withBreaker(false, false), fresh, [failedToStart(hosts[0], 2_000)]);
    expectPlan(plan, { start: [], stop: 0, events: [throttleMessage('web')], holdsMatching: [/throttled after 1 task\(s\) in a row failed to start: next launch in 8 s/], nextWakeSeconds: 8 });
    expect(plan.service).toMatchObject({ throttle: { consecutiveStartFailures: 1, taskDefinitionArn: TD2, nextAttemptAt: NOW + 8_000 } });
  });

  it('the wait grows with failures in a row (3 -> 40 s) and the instances get their tasks once it has passed', () => {
    const failed = [failedToStart(hosts[0], 30_000), failedToStart(hosts[1], 25_000), failedToStart(hosts[2], 21_000)];
    const held = run(withBreaker(false, false), fresh, failed);
    expect(held.nextWakeSeconds).toBe(19); // 40 s after the third failure, 21 s ago
    expect(held.start).toEqual([]);
    const later = failed.map((t) => ({ ...t, stoppedAt: t.stoppedAt! - 60_000 }));
    expect(run(withBreaker(false, false), fresh, later).start.map((s) => s.containerInstanceArn)).toEqual(hosts.map((h) => h.arn));
  });

  it('the scheduler changes nothing else: a task whose instance is DRAINING still stops while launches are held', () => {
    const draining = aHost(5, { status: 'DRAINING' });
    const plan = run(withBreaker(false, false), fresh, [failedToStart(hosts[0], 2_000), daemonTask(draining)], [...hosts, draining]);
    expectPlan(plan, { start: [], stop: [{ rule: 'instance-left' }] });
  });

  it('tasks that fail after reaching RUNNING never throttle: their instances take new tasks at once, no event', () => {
    const exited = daemonTask(hosts[0], { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', startedAt: NOW - 5_000, stoppedAt: NOW - 2_000 });
    const plan = run(withBreaker(false, false), fresh, [exited]);
    expect(plan.start).toHaveLength(4);
    expect(plan.events).not.toContain(throttleMessage('web'));
  });

  it('a new task definition clears the throttle at once: the state of web:1 does not hold web:2', () => {
    const service = withBreaker(false, false, { throttle: { consecutiveStartFailures: 8, taskDefinitionArn: TD1, nextAttemptAt: NOW + 900_000 } });
    const plan = run(service, fresh, [failedToStart(hosts[0], 2_000, OLD)]);
    expect(plan.start).toHaveLength(4);
    expect(plan.service).toMatchObject({ throttle: { consecutiveStartFailures: 0, taskDefinitionArn: TD2 } });
  });
});
