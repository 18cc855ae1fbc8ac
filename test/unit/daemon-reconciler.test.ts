/**
 * Named scenarios for the DAEMON reconciler (seed 001's daemon sentences, issue 9): one task per
 * ACTIVE instance meeting the constraints, computed desiredCount, instances joining, draining and
 * leaving, a constraint that no longer holds, rolling updates within the bounds, capacity and agent
 * holds, draining the service. Invariants are in daemon-reconciler.property.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { reconcileDaemon } from '../../src/domain/daemon-reconciler';
import type { PlacementConstraint } from '../../src/domain/placement-constraints';
import type { TaskRecord } from '../../src/domain/records';
import type { DeploymentRecord, ServiceRecord } from '../../src/domain/service';
import { serviceMessages } from '../../src/domain/service-messages';
import { WAKE } from '../../src/domain/service-plan';
import {
  NEEDS, aDaemonService, aHost, applyDaemonPlan, candidatesOf, constraints, daemonTask, type DaemonWorld, type Host,
} from '../support/daemons';
import { NEW, NOW, OLD, aDeployment, advance, deepFreeze, expectPlan, rollout } from '../support/services';

const completed = (o: Partial<DeploymentRecord> = {}) =>
  [aDeployment({ launchType: 'EC2', rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${NEW} completed.`, completedAt: NOW - 1000, ...o })];
const run = (hosts: Host[], tasks: TaskRecord[], o: { service?: ServiceRecord; deployments?: DeploymentRecord[]; constraints?: PlacementConstraint[] } = {}) =>
  reconcileDaemon(
    deepFreeze(o.service ?? aDaemonService()),
    deepFreeze(o.deployments ?? completed()),
    deepFreeze(tasks),
    deepFreeze({ instances: candidatesOf(hosts, tasks), constraints: o.constraints ?? [], needs: NEEDS }),
    NOW,
  );
const startedOn = (plan: ReturnType<typeof run>) => plan.start.map((s) => `${s.containerInstanceArn} x${s.count}`);
const on = (...hosts: Host[]) => hosts.map((h) => `${h.arn} x1`);

describe('seed 001: one task on each ACTIVE container instance that meets the placement constraints', () => {
  const [a, b, c] = [aHost(1), aHost(2), aHost(3)];

  it('every ACTIVE instance without a task gets one, placed on it, and desiredCount is computed', () => {
    const plan = run([a, b, c], []);
    expect(startedOn(plan)).toEqual(on(a, b, c));
    expect(plan.start.every((s) => s.deploymentId === NEW && s.launchType === 'EC2' && s.group === 'service:web' && s.startedBy === NEW)).toBe(true);
    expect(plan.service).toEqual({ desiredCount: 3 });
    expect(plan.deployments.find((d) => d.id === NEW)?.desiredCount).toBe(3);
  });

  it('instances that fail a memberOf constraint get none and do not count in desiredCount', () => {
    const gpu = aHost(4, { attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }, { name: 'gpu', value: 'yes' }] });
    const plan = run([a, gpu], [], { constraints: constraints('attribute:gpu == yes') });
    expect(startedOn(plan)).toEqual(on(gpu));
    expect(plan.service).toEqual({ desiredCount: 1 });
  });

  it('distinctInstance never keeps an instance from its own daemon task', () => {
    const plan = run([a, b], [daemonTask(a)], { constraints: constraints('distinctInstance') });
    expect(startedOn(plan)).toEqual(on(b));
    expect(plan.stop).toEqual([]);
  });

  it('an instance that joins gets its task; the others are left alone', () => {
    const plan = run([a, b, c], [daemonTask(a), daemonTask(b)], { service: aDaemonService({ desiredCount: 2 }) });
    expectPlan(plan, { stop: 0 });
    expect(startedOn(plan)).toEqual(on(c));
    expect(plan.service).toEqual({ desiredCount: 3 });
  });

  it('every instance running its task, nothing else: COMPLETED, steady state, an hour until the next look', () => {
    const plan = run([a, b], [daemonTask(a), daemonTask(b)], {
      service: aDaemonService({ desiredCount: 2 }), deployments: [aDeployment({ launchType: 'EC2', desiredCount: 2 })],
    });
    expectPlan(plan, {
      start: [], stop: 0, nextWakeSeconds: WAKE.steady,
      events: [serviceMessages.deploymentCompleted('web', NEW), serviceMessages.steadyState('web')],
      deployments: [{ id: NEW, rolloutState: 'COMPLETED', runningCount: 2, desiredCount: 2 }],
    });
    expect(plan.service).toBeUndefined();
  });

  it('an empty cluster is steady with desiredCount 0', () => {
    expectPlan(run([], [], { deployments: [aDeployment({ launchType: 'EC2', desiredCount: 0 })] }), {
      start: [], stop: 0, events: [serviceMessages.deploymentCompleted('web', NEW), serviceMessages.steadyState('web')],
    });
  });
});

describe('tasks whose instance is no longer theirs stop', () => {
  const [a, b] = [aHost(1), aHost(2)];
  it.each([
    { name: 'the instance is DRAINING', hosts: [aHost(1, { status: 'DRAINING' }), b], rule: 'instance-left', desired: 1 },
    { name: 'the instance is deregistered (INACTIVE)', hosts: [aHost(1, { status: 'INACTIVE' }), b], rule: 'instance-left', desired: 1 },
    { name: 'the instance is gone from the cluster', hosts: [b], rule: 'instance-left', desired: 1 },
    { name: 'an attribute the constraint needs was removed', hosts: [aHost(1, { attributes: [] }), aHost(2, { attributes: [{ name: 'role', value: 'edge' }] })], rule: 'constraint-violated', desired: 1 },
  ] as const)('$name: its task stops ($rule) and no task starts there', ({ hosts, rule, desired }) => {
    const task = daemonTask(a);
    const held = daemonTask(b);
    const plan = run([...hosts], [task, held], { constraints: rule === 'constraint-violated' ? constraints('attribute:role == edge') : [] });
    expectPlan(plan, { start: [], stop: [{ taskArn: task.taskArn, rule }] });
    expect(plan.stop[0]!.reason).toBe(`Scaling activity initiated by (deployment ${NEW})`);
    expect(plan.service).toEqual({ desiredCount: desired });
    expect(plan.events).toContain(serviceMessages.stopped('web', [task.taskArn]));
  });

  it('a constraint that no longer holds says so: SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED comes from this message', () => {
    const task = daemonTask(a);
    const plan = run([aHost(1, { attributes: [] })], [task], { constraints: constraints('attribute:role == edge') });
    expect(plan.events).toEqual([serviceMessages.daemonConstraintViolated('web', task.taskArn), serviceMessages.stopped('web', [task.taskArn])]);
    expect(plan.stop[0]!.why).toMatch(/MemberOf/);
  });

  it('a stopping task keeps its instance until it is STOPPED: no second task beside it', () => {
    const stopping = daemonTask(a, { desiredStatus: 'STOPPED', lastStatus: 'STOPPING' });
    expectPlan(run([a], [stopping]), { start: [], stop: 0, nextWakeSeconds: WAKE.progressing });
    expect(startedOn(run([a], [{ ...stopping, lastStatus: 'STOPPED' }]))).toEqual(on(a));
  });

  it('a second task of the service on one instance stops; the serving one stays', () => {
    const serving = daemonTask(a);
    const extra = daemonTask(a, { lastStatus: 'PENDING', startedAt: undefined, createdAt: NOW - 1000 });
    expectPlan(run([a], [extra, serving]), { start: [], stop: [{ taskArn: extra.taskArn, rule: 'duplicate' }] });
  });

  it('an unhealthy task stops first, and its instance takes a replacement once it is STOPPED', () => {
    const deployments = completed({ hasHealthCheck: true });
    const sick = daemonTask(a, { healthStatus: 'UNHEALTHY' });
    expectPlan(run([a], [sick], { deployments }), { start: [], stop: [{ taskArn: sick.taskArn, rule: 'unhealthy' }] });
  });
});

describe('rolling update, instance by instance within the bounds', () => {
  const hosts = [aHost(1), aHost(2), aHost(3), aHost(4)];
  const world = (min: number): DaemonWorld => ({
    hosts,
    service: aDaemonService({ desiredCount: 4, deploymentConfiguration: { minimumHealthyPercent: min, maximumPercent: 100, deploymentCircuitBreaker: { enable: false, rollback: false } } }),
    deployments: rollout({ launchType: 'EC2' }, { launchType: 'EC2' }),
    tasks: hosts.map((h) => daemonTask(h, { startedBy: OLD })),
    now: NOW, events: [], next: 0,
  });
  const pass = (w: DaemonWorld) => {
    const plan = reconcileDaemon(w.service, w.deployments, w.tasks, { instances: candidatesOf(w.hosts, w.tasks), constraints: [], needs: NEEDS }, w.now);
    applyDaemonPlan(w, plan);
    return plan;
  };

  it('DAEMON defaults (0% / 100%): every old task stops, then each instance takes its new task', () => {
    const w = world(0);
    const first = pass(w);
    expectPlan(first, { start: [], stop: 4 });
    expect(first.stop.every((s) => s.rule === 'replace-old' && s.deploymentId === OLD)).toBe(true);
    advance(w, () => 'succeeds');
    advance(w, () => 'succeeds');
    expect(startedOn(pass(w))).toEqual(on(...hosts));
  });

  it('50% / 100%: two instances at a time; the other two keep serving until the new tasks run', () => {
    const w = world(50);
    expectPlan(pass(w), { start: [], stop: 2, holdsMatching: [/floor \(2\)/] });
    advance(w, () => 'succeeds');
    advance(w, () => 'succeeds');
    const second = pass(w);
    expect(second.start).toHaveLength(2);
    expectPlan(second, { stop: 0 });
    advance(w, () => 'succeeds');
    expectPlan(pass(w), { start: [], stop: 2 }); // 2 new available + 2 old, floor 2: the last two old stop
    for (let i = 0; i < 3; i++) advance(w, () => 'succeeds');
    pass(w);
    advance(w, () => 'succeeds');
    const last = pass(w);
    expectPlan(last, { start: [], stop: 0, deployments: [{ id: NEW, rolloutState: 'COMPLETED' }] });
    const byHost = new Map<string, number>();
    for (const t of w.tasks.filter((t) => t.lastStatus === 'RUNNING')) byHost.set(t.containerInstanceArn!, (byHost.get(t.containerInstanceArn!) ?? 0) + 1);
    expect([...byHost.values()]).toEqual([1, 1, 1, 1]);
    expect(w.tasks.filter((t) => t.lastStatus === 'RUNNING').every((t) => t.startedBy === NEW)).toBe(true);
  });

  it('100% / 100%: nothing may stop, the rollout holds at the floor and says why (as REPLICA)', () => {
    expectPlan(pass(world(100)), {
      start: [], stop: 0, holdsMatching: [/floor \(4\)/], events: [serviceMessages.cannotStopOrStart('web')],
    });
  });

  it('one instance at 50%: the floor of 1 leaves no stop, so it holds with the same event', () => {
    const w = world(50);
    w.hosts = hosts.slice(0, 1);
    w.tasks = w.tasks.slice(0, 1);
    expectPlan(pass(w), { start: [], stop: 0, events: [serviceMessages.cannotStopOrStart('web')] });
  });
});

describe('instances that cannot take their task', () => {
  it('without the room: held, the service event says why, a look again in a minute', () => {
    const small = aHost(1, { capacity: { cpu: 64, memory: 2048 } });
    expectPlan(run([small], []), {
      start: [], stop: 0, nextWakeSeconds: 60, holdsMatching: [/insufficient CPU units/],
      events: [serviceMessages.unableToPlace('web', `The closest matching (container-instance ${small.arn.split('/').pop()}) has insufficient CPU units available.`)],
    });
  });

  it('with its agent disconnected: held, its task counts in desiredCount', () => {
    const plan = run([aHost(1, { agentConnected: false })], []);
    expectPlan(plan, { start: [], stop: 0, holdsMatching: [/agent disconnected/] });
    expect(plan.service).toEqual({ desiredCount: 1 });
  });
});

describe('DeleteService', () => {
  it('a DRAINING service stops every task, then goes INACTIVE', () => {
    const [a, b] = [aHost(1), aHost(2)];
    const tasks = [daemonTask(a), daemonTask(b)];
    const service = aDaemonService({ status: 'DRAINING', desiredCount: 0 });
    expectPlan(run([a, b], tasks, { service }), { start: [], stop: tasks.map((t) => ({ taskArn: t.taskArn, rule: 'draining' as const })) });
    const gone = tasks.map((t) => ({ ...t, lastStatus: 'STOPPED' as const, desiredStatus: 'STOPPED' as const }));
    const plan = run([a, b], gone, { service });
    expect(plan.service).toEqual({ status: 'INACTIVE' });
    expect(plan.nextWakeSeconds).toBeUndefined();
  });
});
