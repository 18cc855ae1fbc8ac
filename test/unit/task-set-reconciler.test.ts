/**
 * The task set reconciler (EXTERNAL services) and the task set decisions, as scenarios: each set kept at
 * ceil(desiredCount x scale / 100), steady state per set (TASKSET_STEADY_STATE's message), deletion by
 * DRAINING, the service's DRAINING, and the refusals of CreateTaskSet / UpdateTaskSet / DeleteTaskSet /
 * UpdateServicePrimaryTaskSet with ECS's error names.
 */
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/domain/records';
import { serviceMessages } from '../../src/domain/service-messages';
import {
  computedDesiredCount,
  decideCreateTaskSet,
  decideDeleteTaskSet,
  decidePrimaryTaskSet,
  decideUpdateTaskSet,
  externalServiceRefusal,
  MAX_TASK_SETS,
  TASK_SET_MESSAGES,
  type TaskSetRecord,
} from '../../src/domain/task-set';
import { reconcileTaskSets, taskSetSteadyState } from '../../src/domain/task-set-reconciler';
import { serviceActionOf } from '../../src/domain/service-events';
import { aService, aTask, CLUSTER_ARN, deepFreeze, expectPlan, NOW, TD1, TD2, ZONES } from '../support/services';

const BLUE = 'ecs-svc/3000000000000000003';
const GREEN = 'ecs-svc/4000000000000000004';
const external = (overrides: Parameters<typeof aService>[0] = {}) => aService({ deploymentController: { type: 'EXTERNAL' }, desiredCount: 4, ...overrides });

function aTaskSet(overrides: Partial<TaskSetRecord> = {}): TaskSetRecord {
  const id = overrides.id ?? BLUE;
  return {
    id,
    taskSetArn: `arn:aws:ecs:us-east-1:123456789012:task-set/default/web/${id}`,
    serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/default/web',
    clusterArn: CLUSTER_ARN,
    status: 'ACTIVE',
    taskDefinition: id === BLUE ? TD1 : TD2,
    launchType: 'FARGATE',
    computedDesiredCount: 4,
    pendingCount: 0,
    runningCount: 0,
    createdAt: NOW - 600_000,
    updatedAt: NOW - 600_000,
    scale: { value: 100, unit: 'PERCENT' },
    stabilityStatus: 'STABILIZING',
    stabilityStatusAt: NOW - 600_000,
    tags: [],
    hasHealthCheck: false,
    ...overrides,
  };
}
const setTasks = (n: number, startedBy: string, overrides: Partial<TaskRecord> = {}) =>
  Array.from({ length: n }, (_, i) => aTask({ startedBy, availabilityZone: ZONES[i % ZONES.length], createdAt: NOW - 200_000 + i, ...overrides }));

describe('computedDesiredCount = ceil(desiredCount x scale / 100)', () => {
  it.each([
    { name: 'whole', desired: 4, value: 50, count: 2 },
    { name: 'rounded up (1.2 -> 2, the TaskSet documentation)', desired: 4, value: 30, count: 2 },
    { name: 'any fraction takes a task', desired: 10, value: 0.5, count: 1 },
    { name: 'zero scale', desired: 10, value: 0, count: 0 },
    { name: 'no float artefact (10 x 70 / 100)', desired: 10, value: 70, count: 7 },
    { name: 'no float artefact (3 x 33.3...)', desired: 3, value: 100 / 3, count: 1 },
    { name: 'full', desired: 5000, value: 100, count: 5000 },
  ])('$name', ({ desired, value, count }) => {
    expect(computedDesiredCount(desired, { value, unit: 'PERCENT' })).toBe(count);
  });
});

describe('reconcileTaskSets', () => {
  it('starts a new set up to its computedDesiredCount, with the set as startedBy and its launch members', () => {
    const green = aTaskSet({ id: GREEN, scale: { value: 50, unit: 'PERCENT' }, computedDesiredCount: 0 });
    const plan = reconcileTaskSets(external(), deepFreeze([green]), [], NOW);
    expectPlan(plan, { start: [{ deploymentId: GREEN, count: 2 }], stop: 0, nextWakeSeconds: 15 });
    expect(plan.start[0]).toMatchObject({ startedBy: GREEN, group: 'service:web', taskDefinition: TD2, launchType: 'FARGATE' });
    expect(plan.taskSets).toEqual([expect.objectContaining({ id: GREEN, computedDesiredCount: 2, stabilityStatus: 'STABILIZING', updatedAt: NOW })]);
    expect(plan.deployments).toEqual([]);
  });

  it('keeps each set on its own: blue at 100% steady while green (50%) starts', () => {
    const blue = aTaskSet({ status: 'PRIMARY', runningCount: 4, stabilityStatus: 'STEADY_STATE' });
    const green = aTaskSet({ id: GREEN, scale: { value: 50, unit: 'PERCENT' }, computedDesiredCount: 2 });
    const plan = reconcileTaskSets(external(), deepFreeze([blue, green]), setTasks(4, BLUE), NOW);
    expectPlan(plan, { start: [{ deploymentId: GREEN, count: 2 }], stop: 0, events: [] });
    expect(plan.taskSets).toBeUndefined(); // no set's record changed: nothing to write
  });

  it('a set whose tasks all run reaches STEADY_STATE once, with the task set steady state message', () => {
    const green = aTaskSet({ id: GREEN, scale: { value: 50, unit: 'PERCENT' }, computedDesiredCount: 2, pendingCount: 2 });
    const plan = reconcileTaskSets(external(), [green], setTasks(2, GREEN), NOW);
    expectPlan(plan, {
      start: [], stop: 0,
      events: [taskSetSteadyState('web', GREEN), serviceMessages.steadyState('web')],
      nextWakeSeconds: 3600,
    });
    expect(plan.taskSets![0]).toMatchObject({ stabilityStatus: 'STEADY_STATE', stabilityStatusAt: NOW, runningCount: 2, pendingCount: 0 });
    const again = reconcileTaskSets(external(), plan.taskSets!, setTasks(2, GREEN), NOW + 1000);
    expect(again.taskSets).toBeUndefined();
    expect(again.events).toEqual([serviceMessages.steadyState('web')]); // the event log drops the repeat
  });

  it('scales a set in when its scale drops: the excess stops with the scheduler stop code', () => {
    const blue = aTaskSet({ scale: { value: 25, unit: 'PERCENT' }, stabilityStatus: 'STEADY_STATE' });
    const tasks = setTasks(4, BLUE);
    const plan = reconcileTaskSets(external(), [blue], tasks, NOW);
    expectPlan(plan, { start: [], stop: [{ deploymentId: BLUE, rule: 'scale-in' }, { deploymentId: BLUE, rule: 'scale-in' }, { deploymentId: BLUE, rule: 'scale-in' }] });
    expect(plan.stop[0].reason).toBe(`Scaling activity initiated by (deployment ${BLUE})`);
    expect(plan.events).toEqual([serviceMessages.stopped('web', plan.stop.map((s) => s.taskArn))]);
    expect(plan.taskSets![0]).toMatchObject({ computedDesiredCount: 1, stabilityStatus: 'STABILIZING' });
  });

  it('follows the service desiredCount: UpdateService 4 -> 8 makes a 50% set run 4', () => {
    const green = aTaskSet({ id: GREEN, scale: { value: 50, unit: 'PERCENT' }, computedDesiredCount: 2, stabilityStatus: 'STEADY_STATE' });
    const plan = reconcileTaskSets(external({ desiredCount: 8 }), [green], setTasks(2, GREEN), NOW);
    expectPlan(plan, { start: [{ deploymentId: GREEN, count: 2 }] });
    expect(plan.taskSets![0].computedDesiredCount).toBe(4);
  });

  it('replaces a task failing its health checks after the grace period', () => {
    const blue = aTaskSet({ scale: { value: 50, unit: 'PERCENT' }, hasHealthCheck: true });
    const tasks = [...setTasks(1, BLUE, { healthStatus: 'HEALTHY' }), ...setTasks(1, BLUE, { healthStatus: 'UNHEALTHY' })];
    const plan = reconcileTaskSets(external(), [blue], tasks, NOW);
    expectPlan(plan, { start: [{ deploymentId: BLUE, count: 1 }], stop: [{ taskArn: tasks[1].taskArn, rule: 'unhealthy' }] });
  });

  it('a DRAINING set (DeleteTaskSet) stops all its tasks, then disappears once they are gone', () => {
    const blue = aTaskSet({ status: 'DRAINING', computedDesiredCount: 0 });
    const green = aTaskSet({ id: GREEN, status: 'PRIMARY', stabilityStatus: 'STEADY_STATE' });
    const running = [...setTasks(3, BLUE), ...setTasks(4, GREEN)];
    const plan = reconcileTaskSets(external(), [blue, green], running, NOW);
    expectPlan(plan, { start: [], stop: 3 });
    expect(plan.stop.every((s) => s.deploymentId === BLUE && s.rule === 'draining')).toBe(true);
    expect(plan.taskSets!.map((t) => t.id)).toEqual([BLUE, GREEN]);
    const stopped = running.map((t) => (t.startedBy === BLUE ? { ...t, lastStatus: 'STOPPED' as const, desiredStatus: 'STOPPED' as const } : t));
    const after = reconcileTaskSets(external(), plan.taskSets!, stopped, NOW + 30_000);
    expect(after.taskSets!.map((t) => t.id)).toEqual([GREEN]);
    expect(after.stop).toEqual([]);
  });

  it('a DRAINING service stops every set, then becomes INACTIVE', () => {
    const sets = [aTaskSet({ status: 'PRIMARY' }), aTaskSet({ id: GREEN })];
    const tasks = [...setTasks(2, BLUE), ...setTasks(2, GREEN)];
    const plan = reconcileTaskSets(external({ status: 'DRAINING', desiredCount: 0 }), sets, tasks, NOW);
    expectPlan(plan, { start: [], stop: 4 });
    const gone = tasks.map((t) => ({ ...t, lastStatus: 'STOPPED' as const, desiredStatus: 'STOPPED' as const }));
    const after = reconcileTaskSets(external({ status: 'DRAINING', desiredCount: 0 }), plan.taskSets ?? sets, gone, NOW + 30_000);
    expect(after.service).toEqual({ status: 'INACTIVE' });
    expect(after.nextWakeSeconds).toBeUndefined();
  });

  it('never touches tasks that are not a set\'s (a RunTask in the service group, another startedBy)', () => {
    const blue = aTaskSet({ scale: { value: 0, unit: 'PERCENT' }, computedDesiredCount: 0 });
    const strangers = [aTask({ startedBy: 'someone' }), aTask({ startedBy: BLUE, group: 'family:web' })];
    const plan = reconcileTaskSets(external(), [blue], strangers, NOW);
    expectPlan(plan, { start: [], stop: 0 });
  });

  it('splits a set with a capacity provider strategy by base, then weight', () => {
    const blue = aTaskSet({ launchType: undefined, capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 1 }] });
    const plan = reconcileTaskSets(external({ desiredCount: 5 }), [blue], [], NOW);
    expectPlan(plan, { start: [{ deploymentId: BLUE, count: 3, capacityProvider: 'FARGATE' }, { deploymentId: BLUE, count: 2, capacityProvider: 'FARGATE_SPOT' }] });
  });
});

describe('TASKSET_STEADY_STATE', () => {
  it('is the service action of the task set steady state message, naming the set', () => {
    expect(serviceActionOf('web', CLUSTER_ARN, taskSetSteadyState('web', GREEN))).toEqual({
      eventName: 'TASKSET_STEADY_STATE',
      eventType: 'INFO',
      taskSetArns: [`arn:aws:ecs:us-east-1:123456789012:task-set/default/web/${GREEN}`],
    });
    expect(serviceActionOf('other', CLUSTER_ARN, taskSetSteadyState('web', GREEN))).toBeUndefined();
  });
});

describe('task set decisions', () => {
  const ctx = { id: GREEN, taskSetArn: `arn:aws:ecs:us-east-1:123456789012:task-set/default/web/${GREEN}`, clusterCapacityProviders: ['FARGATE'], clusterDefaultStrategy: [], hasHealthCheck: false, now: NOW };

  it('CreateTaskSet: an ACTIVE, STABILIZING set at scale 0 PERCENT by default (the AWS CLI example), EC2 by default', () => {
    const decided = decideCreateTaskSet(external(), [], { taskDefinition: TD2 }, ctx);
    expect(decided).toEqual({
      created: true,
      taskSet: expect.objectContaining({ id: GREEN, status: 'ACTIVE', scale: { value: 0, unit: 'PERCENT' }, computedDesiredCount: 0, launchType: 'EC2', stabilityStatus: 'STABILIZING', createdAt: NOW }),
    });
  });

  it('CreateTaskSet with a repeated clientToken answers the set it created', () => {
    const earlier = aTaskSet({ clientToken: 'tok' });
    expect(decideCreateTaskSet(external(), [earlier], { taskDefinition: TD2, clientToken: 'tok' }, ctx)).toEqual({ taskSet: earlier, created: false });
  });

  it.each([
    { name: 'a service with the ECS controller', service: aService(), sets: [], input: {}, refused: 'InvalidParameterException', message: TASK_SET_MESSAGES.notExternal },
    { name: 'a DRAINING service', service: external({ status: 'DRAINING' }), sets: [], input: {}, refused: 'ServiceNotActiveException', message: 'Service was not ACTIVE.' },
    { name: 'a sixth task set', service: external(), sets: Array.from({ length: MAX_TASK_SETS }, (_, i) => aTaskSet({ id: `ecs-svc/${i + 1}000000000000000000` })), input: {}, refused: 'InvalidParameterException', message: TASK_SET_MESSAGES.tooMany(5) },
    { name: 'scale above 100', service: external(), sets: [], input: { scale: { value: 101, unit: 'PERCENT' as const } }, refused: 'InvalidParameterException', message: TASK_SET_MESSAGES.scale },
    { name: 'negative scale', service: external(), sets: [], input: { scale: { value: -1, unit: 'PERCENT' as const } }, refused: 'InvalidParameterException', message: TASK_SET_MESSAGES.scale },
    { name: 'launchType and a strategy', service: external(), sets: [], input: { launchType: 'FARGATE' as const, capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] }, refused: 'InvalidParameterException', message: expect.stringContaining('Specifying both a launch type and capacity provider strategy') },
    { name: 'a provider the cluster lacks', service: external(), sets: [], input: { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }, refused: 'InvalidParameterException', message: expect.stringContaining('not associated with the cluster') },
  ])('CreateTaskSet refuses $name', ({ service, sets, input, refused, message }) => {
    expect(decideCreateTaskSet(service, sets, { taskDefinition: TD2, ...input }, ctx)).toEqual({ refused, message });
  });

  it('UpdateTaskSet sets the scale and the computedDesiredCount', () => {
    const decided = decideUpdateTaskSet(external({ desiredCount: 3 }), [aTaskSet()], BLUE, { value: 50, unit: 'PERCENT' }, NOW);
    expect(decided).toMatchObject({ id: BLUE, scale: { value: 50, unit: 'PERCENT' }, computedDesiredCount: 2, updatedAt: NOW });
  });

  it.each([
    { name: 'an unknown set', ref: GREEN, sets: [aTaskSet()], refused: 'TaskSetNotFoundException' },
    { name: 'a DRAINING set', ref: BLUE, sets: [aTaskSet({ status: 'DRAINING' })], refused: 'InvalidParameterException' },
  ])('UpdateTaskSet and UpdateServicePrimaryTaskSet refuse $name', ({ ref, sets, refused }) => {
    expect(decideUpdateTaskSet(external(), sets, ref, { value: 10, unit: 'PERCENT' }, NOW)).toMatchObject({ refused });
    expect(decidePrimaryTaskSet(external(), sets, ref, NOW)).toMatchObject({ refused });
  });

  it('UpdateServicePrimaryTaskSet: the named set PRIMARY (by ARN too), the old one ACTIVE, the service takes its launch members', () => {
    const blue = aTaskSet({ status: 'PRIMARY' });
    const green = aTaskSet({ id: GREEN, networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-g'] } } });
    const decided = decidePrimaryTaskSet(external({ taskDefinition: TD1 }), [blue, green], green.taskSetArn, NOW);
    if ('refused' in decided) throw new Error(decided.message);
    expect(decided.taskSets.map((t) => [t.id, t.status])).toEqual([[BLUE, 'ACTIVE'], [GREEN, 'PRIMARY']]);
    expect(decided.service).toMatchObject({ taskDefinition: TD2, launchType: 'FARGATE', networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-g'] } } });
  });

  it('DeleteTaskSet: DRAINING; a set scaled above 0 needs force', () => {
    expect(decideDeleteTaskSet(external(), [aTaskSet()], BLUE, false, NOW)).toEqual({ refused: 'InvalidParameterException', message: TASK_SET_MESSAGES.scaledAboveZero });
    expect(decideDeleteTaskSet(external(), [aTaskSet()], BLUE, true, NOW)).toMatchObject({ status: 'DRAINING', computedDesiredCount: 0 });
    expect(decideDeleteTaskSet(external(), [aTaskSet({ scale: { value: 0, unit: 'PERCENT' }, computedDesiredCount: 0 })], BLUE, false, NOW)).toMatchObject({ status: 'DRAINING' });
    expect(decideDeleteTaskSet(external(), [aTaskSet()], GREEN, true, NOW)).toMatchObject({ refused: 'TaskSetNotFoundException' });
  });

  it.each([
    { name: 'a task definition', input: { taskDefinition: 'web' }, message: 'TaskDefinition must be blank.' },
    { name: 'a network configuration', input: { networkConfiguration: {} }, message: 'NetworkConfiguration must be null.' },
    { name: 'a launch type', input: { launchType: 'FARGATE' }, message: expect.stringContaining('LaunchType must be blank') },
    { name: 'DAEMON', input: { schedulingStrategy: 'DAEMON' }, message: expect.stringContaining('DAEMON') },
  ])('CreateService with EXTERNAL refuses $name', ({ input, message }) => {
    expect(externalServiceRefusal(input)).toEqual({ refused: 'InvalidParameterException', message });
  });
});
