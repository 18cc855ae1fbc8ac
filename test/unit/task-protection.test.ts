/**
 * Task scale-in protection: the pure rules (expiry, refusals, the ProtectedTask view) and the
 * reconciler never choosing a protected task for a scale-in or a deployment stop until it expires.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidParameterException } from '../../src/domain/errors';
import type { TaskRecord } from '../../src/domain/records';
import { reconcile } from '../../src/domain/service-reconciler';
import { isProtected, protectedTaskView, protectionExpiry, protectionRefusal } from '../../src/domain/task-protection';
import { NEW, NOW, OLD, ZONES, aDeployment, aService, aTask, deepFreeze, rollout, rolling, tasksOf } from '../support/services';

const steady = () => [aDeployment({ rolloutState: 'COMPLETED', completedAt: NOW - 1000 })];
const guard = (minutes: number) => ({ protectionExpiresAt: NOW + minutes * 60_000 });

describe('protection rules', () => {
  it.each([
    { name: 'default 120 minutes', enabled: true, minutes: undefined, expiry: NOW + 120 * 60_000 },
    { name: '1 minute (the least)', enabled: true, minutes: 1, expiry: NOW + 60_000 },
    { name: '2880 minutes (the most, 48 hours)', enabled: true, minutes: 2880, expiry: NOW + 2880 * 60_000 },
    { name: 'protection off clears the expiry', enabled: false, minutes: 30, expiry: undefined },
  ])('expiry: $name', ({ enabled, minutes, expiry }) => {
    expect(protectionExpiry(enabled, minutes, NOW)).toBe(expiry);
  });

  it.each([0, 2881, -5, 1.5])('expiresInMinutes %s is InvalidParameterException', (minutes) => {
    expect(() => protectionExpiry(true, minutes, NOW)).toThrow(InvalidParameterException);
  });

  it('expires at its time, with no write: protected before, not at or after', () => {
    expect(isProtected(guard(1), NOW + 59_999)).toBe(true);
    expect(isProtected(guard(1), NOW + 60_000)).toBe(false);
    expect(protectedTaskView(aTask(guard(1)), NOW + 60_000)).toEqual(expect.objectContaining({ protectionEnabled: false }));
    expect(protectedTaskView(aTask(guard(1)), NOW)).toEqual(expect.objectContaining({ protectionEnabled: true, expirationDate: NOW + 60_000 }));
  });

  it.each([
    { name: 'a standalone task (RunTask)', task: aTask({ group: 'family:web', startedBy: undefined }), refused: true },
    { name: 'a stopping service task', task: aTask({ desiredStatus: 'STOPPED' }), refused: true },
    { name: 'a running service task', task: aTask(), refused: false },
  ])('only live service tasks can be protected: $name', ({ task, refused }) => {
    expect(protectionRefusal(task)?.reason).toBe(refused ? 'TASK_NOT_VALID' : undefined);
  });
});

describe('the reconciler never stops a protected task for a scale-in or a deployment', () => {
  it('scale-in 4 -> 2 skips the protected tasks and says so', () => {
    const tasks = tasksOf(4);
    const shielded = [aTask({ ...guard(10), availabilityZone: ZONES[0] }), aTask({ ...guard(10), availabilityZone: ZONES[0] })];
    const plan = reconcile(aService({ desiredCount: 2 }), steady(), deepFreeze([...tasks, ...shielded]), NOW, () => 0);
    expect(plan.stop).toHaveLength(4);
    expect(plan.stop.map((s) => s.taskArn)).not.toContain(shielded[0]!.taskArn);
    expect(plan.stop.map((s) => s.taskArn)).not.toContain(shielded[1]!.taskArn);
  });

  it('when only protected tasks are above desiredCount, nothing stops until the protection expires', () => {
    const tasks = [aTask(guard(5)), aTask(guard(5)), aTask(guard(5))];
    const held = reconcile(aService({ desiredCount: 1 }), steady(), tasks, NOW, () => 0);
    expect(held.stop).toEqual([]);
    expect(held.holds.join()).toMatch(/3 task\(s\) with scale-in protection kept until it expires/);
    const later = reconcile(aService({ desiredCount: 1 }), steady(), tasks, NOW + 5 * 60_000, () => 0);
    expect(later.stop).toHaveLength(2);
  });

  it('a rolling update waits for a protected old task; the rollout completes only after it expires', () => {
    const shielded = aTask({ startedBy: OLD, ...guard(3) });
    const tasks = [...tasksOf(3, { startedBy: OLD }), shielded, ...tasksOf(4, { startedBy: NEW })];
    const plan = reconcile(aService(), rollout(), tasks, NOW, () => 0);
    expect(plan.stop).toHaveLength(3);
    expect(plan.stop.map((s) => s.taskArn)).not.toContain(shielded.taskArn);
    const expired = reconcile(aService(), rollout(), tasks, NOW + 3 * 60_000, () => 0);
    expect(expired.stop.map((s) => s.taskArn)).toContain(shielded.taskArn);
  });

  it('unhealthy replacement is no scale-in: a protected task that fails its health checks is still replaced', () => {
    const sick = aTask({ healthStatus: 'UNHEALTHY', ...guard(60) });
    const plan = reconcile(aService(), [aDeployment({ hasHealthCheck: true, rolloutState: 'COMPLETED' })], [...tasksOf(4, { healthStatus: 'HEALTHY' }), sick], NOW, () => 0);
    expect(plan.stop.map((s) => [s.taskArn, s.rule])).toEqual([[sick.taskArn, 'unhealthy']]);
  });

  it('SAFETY: from any state, no scale-in or deployment stop names a task whose protection has not expired', () => {
    const taskArb = fc.record({
      old: fc.boolean(), protectedFor: fc.constantFrom(undefined, -1, 1, 30), status: fc.constantFrom('RUNNING', 'RUNNING', 'PENDING'),
      zone: fc.constantFrom(...ZONES), health: fc.constantFrom(undefined, 'HEALTHY', 'UNHEALTHY'),
    });
    fc.assert(
      fc.property(
        fc.array(taskArb, { maxLength: 16 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 100, max: 200 }),
        fc.boolean(), fc.boolean(), fc.double({ min: 0, max: 0.999, noNaN: true }),
        (specs, desiredCount, min, max, rollingOut, replacing, r) => {
          const tasks = specs.map((s, i): TaskRecord => aTask({
            id: `d${i.toString(16).padStart(31, '0')}`, startedBy: s.old && rollingOut ? OLD : NEW, lastStatus: s.status as 'RUNNING',
            ...(s.status === 'RUNNING' ? {} : { startedAt: undefined }), availabilityZone: s.zone, healthStatus: s.health as 'HEALTHY',
            ...(s.protectedFor === undefined ? {} : { protectionExpiresAt: NOW + s.protectedFor * 60_000 }),
          }));
          const deployments = rollingOut
            ? rollout({ hasHealthCheck: true }, { hasHealthCheck: true })
            : [aDeployment({ hasHealthCheck: true, rolloutState: 'COMPLETED', replacingUnhealthy: replacing || undefined })];
          const plan = reconcile(aService(rolling(min, max, desiredCount)), deployments, tasks, NOW, () => r);
          for (const stop of plan.stop) {
            const task = tasks.find((t) => t.taskArn === stop.taskArn)!;
            if (stop.rule === 'scale-in' || stop.rule === 'replace-old') expect(isProtected(task, NOW)).toBe(false);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
