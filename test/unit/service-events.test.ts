/**
 * ECS Service Action and ECS Deployment State Change events derived from the old and new images of a
 * service item (src/domain/service-events.ts): which transitions and appended service events mean
 * which event, the detail fields ECS documents, deterministic ids and times from the records, and
 * that the rules.json patterns of docs/events.md select them.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_SOURCE, eventId, type EcsEvent, type EventEnvelopeContext } from '../../src/domain/event-envelope';
import type { DeploymentRecord } from '../../src/domain/service';
import { rolloutReasons, serviceMessages, type ServiceEvent } from '../../src/domain/service-messages';
import {
  CIRCUIT_BREAKER_FAILED_EVENT_REASON,
  DEPLOYMENT_STATE_CHANGE,
  SERVICE_ACTION,
  placementFailureEvent,
  serviceItemEvents,
  type ServiceItemImage,
} from '../../src/domain/service-events';
import { parseRules, rulesMatching } from '../../src/local/event-rules';
import { CLUSTER_ARN, NEW, NOW, OLD, aDeployment, aService, aTask } from '../support/services';

const CONTEXT: EventEnvelopeContext = { source: DEFAULT_EVENT_SOURCE, account: '123456789012', region: 'us-east-1' };
const SERVICE_ARN = aService().serviceArn;
const T = NOW + 5_000; // the write under test
const TASK_A = 'arn:aws:ecs:us-east-1:123456789012:task/default/0668979337dc48ebb791640cd1162053';
const TASK_B = 'arn:aws:ecs:us-east-1:123456789012:task/default/22450d8cbf7b4648ac0837b9a710e807';

const image = (deployments: DeploymentRecord[], events: ServiceEvent[] = [], changedBy: 'api' | 'scheduler' = 'scheduler'): ServiceItemImage => ({
  record: aService(),
  deployments,
  events,
  changedBy,
});
const anEvent = (id: string, message: string, createdAt = T): ServiceEvent => ({ id, message, createdAt });

const inProgress = (id = NEW, overrides: Partial<DeploymentRecord> = {}) => aDeployment({ id, ...overrides });
const completed = (id = NEW, overrides: Partial<DeploymentRecord> = {}) =>
  aDeployment({ id, rolloutState: 'COMPLETED', rolloutStateReason: rolloutReasons.completed(id), completedAt: T, updatedAt: T, ...overrides });
const failed = (id = NEW, reason: string = rolloutReasons.circuitBreakerFailed) =>
  aDeployment({ id, status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: reason, updatedAt: T });

/** What a test compares: detail-type, and the detail (ids and envelope are checked separately). */
const shape = (events: EcsEvent[]) => events.map((e) => ({ type: e['detail-type'], ...e.detail }));

describe('ECS Deployment State Change (and the service actions of the same transitions)', () => {
  it.each<{ name: string; before?: ServiceItemImage; after: ServiceItemImage; expected: Record<string, unknown>[] }>([
    {
      name: 'CreateService: the first deployment appears IN_PROGRESS',
      after: image([inProgress(NEW, { updatedAt: T })], [], 'api'),
      expected: [
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, deploymentId: NEW, updatedAt: new Date(T).toISOString(), reason: `ECS deployment ${NEW} in progress.` },
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), reason: `ECS deployment ${NEW} in progress.` },
      ],
    },
    {
      name: 'steady state: IN_PROGRESS -> COMPLETED',
      before: image([inProgress()]),
      after: image([completed()]),
      expected: [
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', clusterArn: CLUSTER_ARN, deploymentId: NEW, updatedAt: new Date(T).toISOString(), reason: `ECS deployment ${NEW} completed.` },
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), reason: `ECS deployment ${NEW} completed.` },
      ],
    },
    {
      name: 'circuit breaker without rollback: IN_PROGRESS -> FAILED, ERROR with ECS\'s event text, no service action',
      before: image([inProgress()]),
      after: image([failed()]),
      expected: [
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'ERROR', eventName: 'SERVICE_DEPLOYMENT_FAILED', clusterArn: CLUSTER_ARN, deploymentId: NEW, updatedAt: new Date(T).toISOString(), reason: CIRCUIT_BREAKER_FAILED_EVENT_REASON },
      ],
    },
    {
      name: 'circuit breaker with rollback: the failure, then the rollback target IN_PROGRESS again with the rolling-back reason',
      before: image([completed(OLD, { status: 'ACTIVE', updatedAt: NOW }), inProgress()]),
      after: image([
        aDeployment({ id: OLD, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', rolloutStateReason: rolloutReasons.rollingBack(OLD), updatedAt: T }),
        failed(),
      ]),
      expected: [
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'ERROR', eventName: 'SERVICE_DEPLOYMENT_FAILED', clusterArn: CLUSTER_ARN, deploymentId: NEW, updatedAt: new Date(T).toISOString(), reason: CIRCUIT_BREAKER_FAILED_EVENT_REASON },
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, deploymentId: OLD, updatedAt: new Date(T).toISOString(), reason: `ECS deployment circuit breaker: rolling back to deploymentId ${OLD}.` },
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), reason: `ECS deployment circuit breaker: rolling back to deploymentId ${OLD}.` },
      ],
    },
    {
      name: 'a rollback completed in the same write (the target\'s tasks all still run): FAILED, IN_PROGRESS rolling back, COMPLETED',
      before: image([completed(OLD, { status: 'ACTIVE', updatedAt: NOW, completedAt: NOW }), inProgress()]),
      after: image([completed(OLD, { status: 'PRIMARY', updatedAt: T, completedAt: T }), failed()]),
      expected: [
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'ERROR', eventName: 'SERVICE_DEPLOYMENT_FAILED', clusterArn: CLUSTER_ARN, deploymentId: NEW, updatedAt: new Date(T).toISOString(), reason: CIRCUIT_BREAKER_FAILED_EVENT_REASON },
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, deploymentId: OLD, updatedAt: new Date(T).toISOString(), reason: `ECS deployment circuit breaker: rolling back to deploymentId ${OLD}.` },
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), reason: `ECS deployment circuit breaker: rolling back to deploymentId ${OLD}.` },
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', clusterArn: CLUSTER_ARN, deploymentId: OLD, updatedAt: new Date(T).toISOString(), reason: `ECS deployment ${OLD} completed.` },
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), reason: `ECS deployment ${OLD} completed.` },
      ],
    },
    {
      name: 'a requested rollback completed in the same write: the IN_PROGRESS says the rollback was requested',
      before: image([completed(OLD, { status: 'ACTIVE', updatedAt: NOW, completedAt: NOW }), inProgress()]),
      after: image([completed(OLD, { status: 'PRIMARY', updatedAt: T, completedAt: T }), failed(NEW, rolloutReasons.stopRequested)]),
      expected: [
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'ERROR', eventName: 'SERVICE_DEPLOYMENT_FAILED', clusterArn: CLUSTER_ARN, deploymentId: NEW, updatedAt: new Date(T).toISOString(), reason: rolloutReasons.stopRequested },
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, deploymentId: OLD, updatedAt: new Date(T).toISOString(), reason: rolloutReasons.rollbackRequested(OLD) },
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), reason: rolloutReasons.rollbackRequested(OLD) },
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', clusterArn: CLUSTER_ARN, deploymentId: OLD, updatedAt: new Date(T).toISOString(), reason: `ECS deployment ${OLD} completed.` },
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), reason: `ECS deployment ${OLD} completed.` },
      ],
    },
    {
      name: 'StopServiceDeployment ROLLBACK: the stopped deployment FAILED with its own reason (not the breaker\'s)',
      before: image([inProgress()]),
      after: image([failed(NEW, rolloutReasons.stopRequested)]),
      expected: [
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'ERROR', eventName: 'SERVICE_DEPLOYMENT_FAILED', clusterArn: CLUSTER_ARN, deploymentId: NEW, updatedAt: new Date(T).toISOString(), reason: rolloutReasons.stopRequested },
      ],
    },
    {
      name: 'UpdateService: the new deployment IN_PROGRESS; the old one, still COMPLETED, says nothing',
      before: image([completed(OLD, { status: 'PRIMARY', updatedAt: NOW })], [], 'scheduler'),
      after: image([completed(OLD, { status: 'ACTIVE', updatedAt: NOW }), inProgress(NEW, { updatedAt: T })], [], 'api'),
      expected: [
        { type: DEPLOYMENT_STATE_CHANGE, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, deploymentId: NEW, updatedAt: new Date(T).toISOString(), reason: `ECS deployment ${NEW} in progress.` },
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), reason: `ECS deployment ${NEW} in progress.` },
      ],
    },
    {
      name: 'counts move, rollout states do not: nothing',
      before: image([inProgress(NEW, { runningCount: 1 })]),
      after: image([inProgress(NEW, { runningCount: 3, updatedAt: T })]),
      expected: [],
    },
    {
      name: 'a scheduler claim (only the version moves): nothing',
      before: image([completed()], [anEvent('e1', serviceMessages.steadyState('web'))], 'api'),
      after: image([completed()], [anEvent('e1', serviceMessages.steadyState('web'))], 'scheduler'),
      expected: [],
    },
  ])('$name', ({ before, after, expected }) => {
    expect(shape(serviceItemEvents(before, after, CONTEXT))).toEqual(expected);
  });
});

describe('ECS Service Action from the service events a write appended', () => {
  const older = [anEvent('e1', serviceMessages.started('web', [TASK_A]), NOW)];
  it.each<{ name: string; appended: ServiceEvent[]; expected: Record<string, unknown>[] }>([
    {
      name: '"has reached a steady state." -> SERVICE_STEADY_STATE at the event\'s createdAt',
      appended: [anEvent('e2', serviceMessages.steadyState('web'))],
      expected: [{ type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString() }],
    },
    {
      name: '"has stopped 2 running tasks" -> TASKS_STOPPED with both task ARNs',
      appended: [anEvent('e2', serviceMessages.stopped('web', [TASK_A, TASK_B]))],
      expected: [{ type: SERVICE_ACTION, eventType: 'INFO', eventName: 'TASKS_STOPPED', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), taskArns: [TASK_A, TASK_B] }],
    },
    {
      name: 'a DAEMON task that no longer meets the constraints -> SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED (ERROR) with its ARN',
      appended: [anEvent('e2', serviceMessages.daemonConstraintViolated('web', TASK_A))],
      expected: [{ type: SERVICE_ACTION, eventType: 'ERROR', eventName: 'SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), taskArns: [TASK_A] }],
    },
    {
      name: 'several appended (newest first in the item): published oldest first',
      appended: [anEvent('e3', serviceMessages.steadyState('web'), T + 1), anEvent('e2', serviceMessages.stopped('web', [TASK_B]), T)],
      expected: [
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'TASKS_STOPPED', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), taskArns: [TASK_B] },
        { type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE', clusterArn: CLUSTER_ARN, createdAt: new Date(T + 1).toISOString() },
      ],
    },
    {
      name: 'messages with no service action of their own ("has started", "deployment completed", "rolling back"): nothing',
      appended: [
        anEvent('e4', serviceMessages.rollingBack('web', OLD)),
        anEvent('e3', serviceMessages.deploymentCompleted('web', NEW)),
        anEvent('e2', serviceMessages.started('web', [TASK_B])),
      ],
      expected: [],
    },
    {
      name: 'another service\'s name in the text is not this service\'s steady state',
      appended: [anEvent('e2', serviceMessages.steadyState('webapp'))],
      expected: [],
    },
    {
      name: 'nothing appended: nothing',
      appended: [],
      expected: [],
    },
  ])('$name', ({ appended, expected }) => {
    const before = image([completed()], older);
    const after = image([completed()], [...appended, ...older]);
    expect(shape(serviceItemEvents(before, after, CONTEXT))).toEqual(expected);
  });

  it('a full log (100 events) that drops its oldest still reports only what this write appended', () => {
    const full = Array.from({ length: 100 }, (_, i) => anEvent(`old-${i}`, serviceMessages.steadyState('web'), NOW - i));
    const after = image([completed()], [anEvent('fresh', serviceMessages.steadyState('web')), ...full.slice(0, 99)]);
    const events = serviceItemEvents(image([completed()], full), after, CONTEXT);
    expect(events.map((e) => e.id)).toEqual([eventId(SERVICE_ARN, 'service-event#fresh')]);
  });
});

describe('SERVICE_DESIRED_COUNT_UPDATED: the scheduler\'s computed desired count, never a user\'s', () => {
  it.each<{ name: string; changedBy: 'api' | 'scheduler'; expected: Record<string, unknown>[] }>([
    {
      name: 'the scheduler lowers the old deployment\'s desiredCount while rolling',
      changedBy: 'scheduler',
      expected: [{ type: SERVICE_ACTION, eventType: 'INFO', eventName: 'SERVICE_DESIRED_COUNT_UPDATED', clusterArn: CLUSTER_ARN, createdAt: new Date(T).toISOString(), desiredCount: 2, deploymentId: OLD }],
    },
    { name: 'the same change written by the API (UpdateService, DeleteService): nothing', changedBy: 'api', expected: [] },
  ])('$name', ({ changedBy, expected }) => {
    const before = image([completed(OLD, { status: 'ACTIVE', desiredCount: 4, updatedAt: NOW }), inProgress()]);
    const after = image([completed(OLD, { status: 'ACTIVE', desiredCount: 2, updatedAt: T }), inProgress()], [], changedBy);
    expect(shape(serviceItemEvents(before, after, CONTEXT))).toEqual(expected);
  });
});

describe('envelope and ids', () => {
  const before = image([inProgress()]);
  const after = image([completed()], [anEvent('e2', serviceMessages.steadyState('web'))]);

  it('resources is the service ARN; source, account and region from the context; time from the record, to the millisecond', () => {
    for (const event of serviceItemEvents(before, after, CONTEXT)) {
      expect(event).toMatchObject({ version: '0', source: DEFAULT_EVENT_SOURCE, account: '123456789012', region: 'us-east-1', resources: [SERVICE_ARN], time: new Date(T).toISOString() });
    }
  });

  it('a redelivered record gives the same ids; every event of one write has its own', () => {
    const first = serviceItemEvents(before, after, CONTEXT).map((e) => e.id);
    expect(serviceItemEvents(structuredClone(before), structuredClone(after), CONTEXT).map((e) => e.id)).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    expect(first).toContain(eventId(SERVICE_ARN, `deployment#${NEW}#COMPLETED#${T}`));
  });

  it('the same deployment reaching COMPLETED twice (completed, rolled back to, completed again) gives two ids', () => {
    const once = serviceItemEvents(image([inProgress()]), image([completed(NEW, { updatedAt: T })]), CONTEXT)[0];
    const again = serviceItemEvents(image([inProgress()]), image([completed(NEW, { updatedAt: T + 60_000 })]), CONTEXT)[0];
    expect(once.id).not.toBe(again.id);
  });
});

describe('SERVICE_TASK_PLACEMENT_FAILURE: a service task that gave up waiting for a host', () => {
  const waiting = aTask({ id: '0668979337dc48ebb791640cd1162053', lastStatus: 'PENDING', capacityProviderName: 'FARGATE_SPOT', availabilityZone: undefined, containerInstanceArn: undefined, version: 2 });
  const gaveUp = {
    ...waiting,
    desiredStatus: 'STOPPED' as const,
    stopCode: 'TaskFailedToStart' as const,
    stoppedReason: 'Capacity is unavailable at this time. Please try again later or in a different availability zone. (RESOURCE:CPU: No ACTIVE host has 256 CPU units left.)',
    version: 3,
    updatedAt: T,
  };

  it('is an ERROR naming the capacity provider and RESOURCE:FARGATE (ECS\'s example for FARGATE_SPOT), at the stop\'s time, with the task', () => {
    const event = placementFailureEvent(waiting, gaveUp, CONTEXT)!;
    expect(event).toMatchObject({ 'detail-type': SERVICE_ACTION, resources: [SERVICE_ARN], time: new Date(T).toISOString() });
    expect(event.detail).toEqual({
      eventType: 'ERROR',
      eventName: 'SERVICE_TASK_PLACEMENT_FAILURE',
      clusterArn: CLUSTER_ARN,
      capacityProviderArns: ['arn:aws:ecs:us-east-1:123456789012:capacity-provider/FARGATE_SPOT'],
      reason: 'RESOURCE:FARGATE',
      createdAt: new Date(T).toISOString(),
      taskArns: [TASK_A],
    });
    expect(event.id).toBe(placementFailureEvent(structuredClone(waiting), structuredClone(gaveUp), CONTEXT)!.id);
  });

  it('an EC2 task names what was short, as its stoppedReason does (RESOURCE:CPU)', () => {
    const ec2 = (t: typeof waiting) => ({ ...t, launchType: 'EC2' as const, capacityProviderName: undefined });
    expect(placementFailureEvent(ec2(waiting), ec2(gaveUp), CONTEXT)!.detail).toMatchObject({ reason: 'RESOURCE:CPU' });
  });

  it.each([
    { name: 'a placed task that failed to start (it had a host)', before: { ...waiting, reservation: { containerInstanceArn: 'arn:host', cpu: 256, memory: 512 } }, after: gaveUp },
    { name: 'a RunTask task (not a service\'s)', before: { ...waiting, group: 'family:web', startedBy: undefined }, after: { ...gaveUp, group: 'family:web', startedBy: undefined } },
    { name: 'the next step of a task already stopping (said once)', before: gaveUp, after: { ...gaveUp, lastStatus: 'STOPPED' as const, version: 4 } },
    { name: 'a scheduler stop of a waiting task (scale-in)', before: waiting, after: { ...gaveUp, stopCode: 'ServiceSchedulerInitiated' as const } },
  ])('none for $name', ({ before, after }) => {
    expect(placementFailureEvent(before, after, CONTEXT)).toBeUndefined();
  });
});

describe('rules.json patterns (docs/events.md) select them', () => {
  const rules = parseRules(
    JSON.stringify({
      rules: [
        { name: 'deployments', eventPattern: { source: [DEFAULT_EVENT_SOURCE], 'detail-type': [DEPLOYMENT_STATE_CHANGE] }, targets: [] },
        { name: 'failed-deployments', eventPattern: { source: [DEFAULT_EVENT_SOURCE], 'detail-type': [DEPLOYMENT_STATE_CHANGE], detail: { eventName: ['SERVICE_DEPLOYMENT_FAILED'] } }, targets: [] },
        { name: 'steady-web', eventPattern: { source: [DEFAULT_EVENT_SOURCE], 'detail-type': [SERVICE_ACTION], resources: [SERVICE_ARN], detail: { eventName: ['SERVICE_STEADY_STATE'] } }, targets: [] },
        { name: 'service-errors', eventPattern: { source: [DEFAULT_EVENT_SOURCE], 'detail-type': [SERVICE_ACTION], detail: { eventType: ['WARN', 'ERROR'] } }, targets: [] },
      ],
    }),
  );
  const matched = (event: EcsEvent | undefined) => rulesMatching(rules, event).map((r) => r.name);

  it.each([
    { name: 'a completed deployment', event: serviceItemEvents(image([inProgress()]), image([completed()]), CONTEXT)[0], rules: ['deployments'] },
    { name: 'a failed deployment', event: serviceItemEvents(image([inProgress()]), image([failed()]), CONTEXT)[0], rules: ['deployments', 'failed-deployments'] },
    { name: 'a steady state', event: serviceItemEvents(image([completed()]), image([completed()], [anEvent('e', serviceMessages.steadyState('web'))]), CONTEXT)[0], rules: ['steady-web'] },
    { name: 'tasks stopped', event: serviceItemEvents(image([completed()]), image([completed()], [anEvent('e', serviceMessages.stopped('web', [TASK_A]))]), CONTEXT)[0], rules: [] },
  ])('$name -> $rules', ({ event, rules: names }) => {
    expect(matched(event)).toEqual(names);
  });
});
