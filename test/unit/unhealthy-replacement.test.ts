/**
 * Seed 001's unhealthy-task replacement, one named row per sentence (R1..R7 in
 * src/domain/unhealthy-replacement.ts), through the pure reconciler. Random choices take the injected
 * source: rows that pick at random are run with two sources and must pick differently.
 * Service: web, desiredCount 4, a task definition with a container health check, PRIMARY COMPLETED
 * (outside a rollout) unless the row says otherwise.
 */
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/domain/records';
import type { DeploymentRecord, ServiceRecord } from '../../src/domain/service';
import { reconcile } from '../../src/domain/service-reconciler';
import { serviceMessages } from '../../src/domain/service-messages';
import { NEW, NOW, aDeployment, aService, aTask, advance, applyPlan, deepFreeze, expectPlan, rolling, tasksOf, type World } from '../support/services';

const steady = (o: Partial<DeploymentRecord> = {}) =>
  [aDeployment({ hasHealthCheck: true, rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${NEW} completed.`, completedAt: NOW - 1000, ...o })];
const healthy = (n: number) => tasksOf(n, { healthStatus: 'HEALTHY' });
const sick = (id: string, o: Partial<TaskRecord> = {}) => aTask({ id, healthStatus: 'UNHEALTHY', ...o });
const run = (service: ServiceRecord, deployments: DeploymentRecord[], tasks: TaskRecord[], random: () => number) =>
  reconcile(deepFreeze(service), deepFreeze(deployments), deepFreeze(tasks), NOW, random);
const LOW = () => 0;
const HIGH = () => 0.999;
const arns = (ts: TaskRecord[]) => ts.map((t) => t.taskArn);

interface Row {
  name: string;
  service: ServiceRecord;
  deployments: DeploymentRecord[];
  tasks: TaskRecord[];
  /** Expected with random() = 0, and with random() = 0.999 when the row picks at random. */
  stops: { low: string[]; high?: string[] };
  started: number;
  holds?: RegExp[];
}

const u1 = sick('0000000000000000000000000000a001');
const r1 = sick('0000000000000000000000000000a002');
const u2 = sick('0000000000000000000000000000a003');
const fourHealthy = healthy(4);
const fiveHealthy = healthy(5);
const starting = aTask({ id: '0000000000000000000000000000a007', healthStatus: 'UNKNOWN' });

const rows: Row[] = [
  {
    name: 'R1 outside a rolling deployment, a replacement starts first when maximumPercent allows (the unhealthy task is kept)',
    service: aService(), deployments: steady(), tasks: [...healthy(3), u1],
    stops: { low: [] }, started: 1,
  },
  {
    name: 'R2 the replacement is HEALTHY: the unhealthy task stops',
    service: aService(), deployments: steady(), tasks: [...fourHealthy, u1],
    stops: { low: [u1.taskArn] }, started: 0,
  },
  {
    name: 'R3 the replacement is UNHEALTHY: the unhealthy replacement or the unhealthy original stops, at random, so the total equals desiredCount (and the next replacement starts, R5)',
    service: aService(), deployments: steady(), tasks: [...healthy(3), u1, r1],
    stops: { low: [u1.taskArn], high: [r1.taskArn] }, started: 1,
  },
  {
    name: 'R4 maximumPercent forbids starting first: one unhealthy task stops at random to free room, nothing starts yet',
    service: aService(rolling(100, 100)), deployments: steady(), tasks: [...healthy(2), u1, u2],
    stops: { low: [u1.taskArn], high: [u2.taskArn] }, started: 0, holds: [/ceiling \(4 tasks\)/],
  },
  {
    name: 'R4 one at a time: while a stopped unhealthy task still holds its room, no second one stops',
    service: aService(rolling(100, 100)), deployments: steady(),
    tasks: [...healthy(2), sick('0000000000000000000000000000a004', { desiredStatus: 'STOPPED', lastStatus: 'DEACTIVATING' }), u2],
    stops: { low: [] }, started: 0, holds: [/ceiling/],
  },
  {
    name: 'R4 then the replacement starts once the stopped task has freed its room',
    service: aService(rolling(100, 100)), deployments: steady(),
    tasks: [...healthy(2), sick('0000000000000000000000000000a005', { desiredStatus: 'STOPPED', lastStatus: 'STOPPED', stoppedAt: NOW - 1000, stopCode: 'ServiceSchedulerInitiated' }), u2],
    stops: { low: [] }, started: 1,
  },
  {
    name: 'R6 every unhealthy task replaced, only healthy tasks left above desiredCount: healthy tasks stop at random until the total equals it',
    service: aService(), deployments: steady({ replacingUnhealthy: true }), tasks: fiveHealthy,
    stops: { low: [[...fiveHealthy].sort((a, b) => a.taskArn.localeCompare(b.taskArn))[0]!.taskArn], high: [[...fiveHealthy].sort((a, b) => a.taskArn.localeCompare(b.taskArn))[4]!.taskArn] },
    started: 0,
  },
  {
    name: 'R6 only once only healthy tasks are left: a surplus task still starting stops first (scale-in order), no healthy one at random',
    service: aService(), deployments: steady({ replacingUnhealthy: true }), tasks: [...fourHealthy, starting],
    stops: { low: [starting.taskArn] }, started: 0,
  },
  {
    name: 'R7 during a rolling deployment unhealthy tasks stop first (no room under 100% / 100%: nothing starts yet)',
    service: aService(rolling(100, 100)), deployments: [aDeployment({ hasHealthCheck: true })], tasks: [...healthy(3), u1],
    stops: { low: [u1.taskArn] }, started: 0,
  },
  {
    name: 'R7 during a rolling deployment unhealthy tasks stop first, then replacements start (100% / 200%: in the same pass, after the stop)',
    service: aService(), deployments: [aDeployment({ hasHealthCheck: true })], tasks: [...healthy(3), u1],
    stops: { low: [u1.taskArn] }, started: 1,
  },
  {
    name: 'health: an UNHEALTHY report inside healthCheckGracePeriodSeconds is ignored',
    service: aService({ healthCheckGracePeriodSeconds: 60 }), deployments: steady(), tasks: [...healthy(3), sick('0000000000000000000000000000a006', { startedAt: NOW - 10_000 })],
    stops: { low: [] }, started: 0,
  },
];

describe('seed 001: unhealthy-task replacement, sentence by sentence', () => {
  it.each(rows)('$name', (row) => {
    for (const [random, expected] of [[LOW, row.stops.low], [HIGH, row.stops.high ?? row.stops.low]] as const) {
      const plan = run(row.service, row.deployments, row.tasks, random);
      expect(plan.stop.map((s) => s.taskArn)).toEqual(expected);
      expect(plan.start.reduce((n, s) => n + s.count, 0)).toBe(row.started);
      expectPlan(plan, { holdsMatching: row.holds ?? [] });
      for (const s of plan.stop) {
        const wasUnhealthy = row.tasks.find((t) => t.taskArn === s.taskArn)?.healthStatus === 'UNHEALTHY';
        expect(s.rule).toBe(wasUnhealthy ? 'unhealthy' : 'scale-in');
        if (wasUnhealthy) {
          expect(s.reason).toBe('Task failed container health checks');
          expect(plan.events).toContain(serviceMessages.failedHealthChecks('web', s.taskArn));
        }
      }
    }
    if (row.stops.high) expect(row.stops.high).not.toEqual(row.stops.low);
  });

  it('R6 only after replacing: a user\'s scale-in of healthy tasks keeps scale-in order (fullest zone, newest), not random', () => {
    const plan = run(aService(), steady(), fiveHealthy, LOW);
    const again = run(aService(), steady(), fiveHealthy, HIGH);
    expect(plan.stop.map((s) => s.taskArn)).toEqual(again.stop.map((s) => s.taskArn));
    expect(plan.stop.map((s) => s.taskArn)).toEqual([fiveHealthy[3]!.taskArn]); // zone a holds 2 (t0, t3): the newest
  });

  it('the mark is kept while replacing and cleared once the service holds exactly desiredCount healthy tasks', () => {
    const during = run(aService(), steady(), [...healthy(3), u1], LOW);
    expect(during.deployments.find((d) => d.id === NEW)?.replacingUnhealthy).toBe(true);
    const after = run(aService(), steady({ replacingUnhealthy: true }), fourHealthy, LOW);
    expect(after.deployments.find((d) => d.id === NEW)).not.toHaveProperty('replacingUnhealthy');
  });

  it.each([
    { name: '100% / 200%: replacements start first', min: 100, max: 200 },
    { name: '100% / 100%: one unhealthy task stops at a time', min: 100, max: 100 },
    { name: '50% / 100%', min: 50, max: 100 },
  ])('R5 repeated until every unhealthy task is replaced, within the bounds ($name)', ({ min, max }) => {
    // All four tasks UNHEALTHY; replacements come up HEALTHY except the first, which fails its checks too.
    const world: World = { service: aService(rolling(min, max)), deployments: steady(), tasks: tasksOf(4, { healthStatus: 'UNHEALTHY' }), now: NOW, events: [], next: 0 };
    const ceiling = Math.floor((4 * max) / 100);
    let firstReplacement: string | undefined;
    for (let i = 0; i < 40; i++) {
      const plan = reconcile(world.service, world.deployments, world.tasks, world.now, () => 0.5);
      applyPlan(world, plan);
      const holding = world.tasks.filter((t) => t.lastStatus !== 'STOPPED');
      expect(holding.length).toBeLessThanOrEqual(ceiling);
      firstReplacement ??= world.tasks.find((t) => t.lastStatus === 'PENDING')?.taskArn;
      advance(world, (t) => (t.taskArn === firstReplacement ? 'fails-health-checks' : 'succeeds'));
    }
    const live = world.tasks.filter((t) => t.lastStatus !== 'STOPPED');
    expect(live).toHaveLength(4);
    expect(live.every((t) => t.healthStatus === 'HEALTHY' && t.desiredStatus === 'RUNNING')).toBe(true);
    expect(arns(world.tasks.filter((t) => t.stoppedReason === 'Task failed container health checks'))).toHaveLength(5);
  });
});
