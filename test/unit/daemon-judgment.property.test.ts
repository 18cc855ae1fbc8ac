/**
 * Invariants of the DAEMON reconciler's circuit breaker and throttle over simulated histories: passes
 * at generated intervals against a world whose tasks succeed or fail to start (test/support/daemons.ts).
 *
 * SAFETY   a failing daemon deployment stops launching per the throttle: no pass starts a task before
 *          the last start failure plus the backoff for the failures in a row so far (checked against
 *          an oracle from the curve, not the code's state); with the breaker on and no deployment to
 *          roll back to, nothing is launched once the failures reach the threshold, and the deployment
 *          is FAILED from then on; with the breaker off, the scheduler never gives up.
 * LIVENESS a healthy deployment completes: tasks that succeed (after up to threshold - 1 start failures
 *          when the breaker is on, any number when it is off) converge to one RUNNING task per instance,
 *          COMPLETED, never FAILED.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { failureThreshold } from '../../src/domain/circuit-breaker';
import { reconcileDaemon } from '../../src/domain/daemon-reconciler';
import type { TaskRecord } from '../../src/domain/records';
import { serviceMessages } from '../../src/domain/service-messages';
import { throttleDelaySeconds, type ThrottleSettings } from '../../src/domain/throttle';
import { isActive } from '../../src/domain/task-lifecycle';
import { NEEDS, aDaemonService, aHost, applyDaemonPlan, candidatesOf, type DaemonWorld } from '../support/daemons';
import { NEW, NOW, aDeployment, advance } from '../support/services';

const SETTINGS: ThrottleSettings = { baseSeconds: 10, maxSeconds: 160 };

function world(instances: number, breaker: { enable: boolean; rollback: boolean }): DaemonWorld {
  return {
    hosts: Array.from({ length: instances }, (_, i) => aHost(i + 1)),
    service: aDaemonService({ deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100, deploymentCircuitBreaker: breaker } }),
    deployments: [aDeployment({ launchType: 'EC2', desiredCount: 0 })],
    tasks: [],
    now: NOW,
    events: [],
    next: 0,
  };
}
const pass = (w: DaemonWorld) => {
  const plan = reconcileDaemon(w.service, w.deployments, w.tasks, { instances: candidatesOf(w.hosts, w.tasks), constraints: [], needs: NEEDS }, w.now, { throttle: SETTINGS });
  applyDaemonPlan(w, plan);
  return plan;
};
const failedToStart = (t: TaskRecord) => t.stopCode === 'TaskFailedToStart' && t.startedAt === undefined && t.lastStatus === 'STOPPED';

describe('SAFETY', () => {
  it('a daemon deployment whose tasks all fail to start launches no sooner than the throttle allows, and nothing once the breaker trips', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 5, maxLength: 40 }),
        (instances, breakerOn, gaps) => {
          const w = world(instances, { enable: breakerOn, rollback: true });
          const threshold = failureThreshold(instances);
          let launched = 0;
          for (const gap of gaps) {
            const failures = w.tasks.filter(failedToStart);
            const plan = pass(w);
            if (plan.start.length > 0 && failures.length > 0) {
              // The oracle: the k-th failure in a row holds launches for throttleDelaySeconds(k) after it.
              const last = Math.max(...failures.map((t) => t.stoppedAt!));
              expect(w.now).toBeGreaterThanOrEqual(last + throttleDelaySeconds(failures.length, SETTINGS) * 1000);
            }
            if (breakerOn && failures.length >= threshold) {
              expect(plan.start, 'a launch after the breaker tripped').toEqual([]);
              expect(w.deployments.find((d) => d.id === NEW)?.rolloutState).toBe('FAILED');
            }
            launched += plan.start.length;
            advance(w, () => 'fails-to-start', gap);
          }
          // A launch happens at all (the first pass has no failure to wait for), and with the breaker
          // on the launches end once the threshold is met: one more round at most, one per instance.
          expect(launched).toBeGreaterThan(0);
          if (breakerOn) expect(launched).toBeLessThan(threshold + instances);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with the breaker off the scheduler never gives up: after the backoff cap, a pass launches again', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 3, max: 12 }), (instances, rounds) => {
        const w = world(instances, { enable: false, rollback: false });
        for (let i = 0; i < rounds; i++) {
          pass(w);
          advance(w, () => 'fails-to-start', 5);
        }
        w.now += SETTINGS.maxSeconds * 1000;
        expect(pass(w).start.length).toBeGreaterThan(0);
        expect(w.deployments[0].rolloutState).toBe('IN_PROGRESS');
      }),
      { numRuns: 100 },
    );
  });
});

describe('LIVENESS', () => {
  it('a healthy daemon deployment completes: one RUNNING task per instance, COMPLETED, never FAILED, even after a few start failures', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.boolean(), fc.nat(8), (instances, breakerOn, early) => {
        const w = world(instances, { enable: breakerOn, rollback: false });
        // The first `early` tasks fail to start (fewer than the threshold with the breaker on), the rest succeed.
        const failing = breakerOn ? Math.min(early, failureThreshold(instances) - 1) : early;
        const behaviour = (t: TaskRecord) => (Number.parseInt(t.taskArn.slice(-8), 16) < failing ? 'fails-to-start' : 'succeeds');
        let steady = false;
        for (let i = 0; i < 200 && !steady; i++) {
          const plan = pass(w);
          expect(w.deployments[0].rolloutState).not.toBe('FAILED');
          steady = plan.start.length === 0 && plan.stop.length === 0 && plan.events.includes(serviceMessages.steadyState('web'));
          if (!steady) advance(w, behaviour, 10);
        }
        expect(steady, 'not steady').toBe(true);
        expect(w.deployments[0].rolloutState).toBe('COMPLETED');
        const holding = w.tasks.filter((t) => isActive(t.lastStatus));
        expect(holding.every((t) => t.lastStatus === 'RUNNING')).toBe(true);
        expect(holding.map((t) => t.containerInstanceArn).sort()).toEqual(w.hosts.map((h) => h.arn).sort());
      }),
      { numRuns: 200 },
    );
  });
});
