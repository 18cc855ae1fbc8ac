/**
 * The service deployment's status as the deployment records move (src/domain/service-deployment.ts):
 * one row per arrow of the diagram there, plus ids, ARNs and the StopServiceDeployment decision.
 */
import { describe, expect, it } from 'vitest';
import { failDeployment, requestRollback } from '../../src/domain/circuit-breaker';
import type { DeploymentRecord, ServiceRecord } from '../../src/domain/service';
import {
  changesHistory,
  decideStop,
  markRollbackRequested,
  parseHistoryArn,
  progressServiceDeployment,
  requestStopForDelete,
  SERVICE_DEPLOYMENT_ID_PATTERN,
  serviceDeploymentIdFrom,
  serviceRevisionArnOf,
  startServiceDeployment,
  type ServiceDeploymentRecord,
  type ServiceDeploymentStatus,
} from '../../src/domain/service-deployment';
import { rolloutReasons } from '../../src/domain/service-messages';
import { aService, NEW, NOW, OLD, rollout } from '../support/services';

const SERVICE = aService({ deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } } });
const ID = 'AAAAAAAAAAAAAAAAAAAAA';
const LATER = NOW + 1000;

/** The service deployment UpdateService starts for the usual rollout (OLD completed, NEW rolling). */
const started = (status: ServiceDeploymentStatus = 'PENDING', extra: Partial<ServiceDeploymentRecord> = {}): ServiceDeploymentRecord => ({
  ...startServiceDeployment(SERVICE, rollout(), NEW, undefined, ID, NOW).created,
  status,
  ...extra,
});
const tripped = (rollback: boolean) => failDeployment('web', rollout({}, { failedTasks: 3 }), NEW, { rollback, cause: 'circuit-breaker' }, NOW).deployments;
const completedAgain = (ds: DeploymentRecord[]) => ds.map((d) => (d.id === OLD ? { ...d, rolloutState: 'COMPLETED' as const } : d));
const failedAgain = (ds: DeploymentRecord[]) =>
  ds.map((d) => (d.id === OLD ? { ...d, rolloutState: 'FAILED' as const, rolloutStateReason: rolloutReasons.circuitBreakerFailed } : d));
const rolledBack = (status: ServiceDeploymentStatus) => started(status, { rollbackDeploymentId: OLD });

describe('progressServiceDeployment', () => {
  it.each<{ name: string; sd: ServiceDeploymentRecord; deployments: DeploymentRecord[]; service?: ServiceRecord; status: ServiceDeploymentStatus; reason?: string; breaker?: string }>([
    { name: 'PENDING -> IN_PROGRESS on the first pass', sd: started(), deployments: rollout(), status: 'IN_PROGRESS', breaker: 'MONITORING' },
    { name: 'IN_PROGRESS -> SUCCESSFUL when the target completes', sd: started('IN_PROGRESS'), deployments: rollout({}, { rolloutState: 'COMPLETED' }), status: 'SUCCESSFUL', breaker: 'MONITORING_COMPLETE' },
    { name: 'IN_PROGRESS -> ROLLBACK_IN_PROGRESS when the breaker trips with rollback', sd: started('IN_PROGRESS'), deployments: tripped(true), status: 'ROLLBACK_IN_PROGRESS', reason: rolloutReasons.circuitBreakerFailed, breaker: 'TRIGGERED' },
    { name: 'IN_PROGRESS -> STOPPED when the breaker trips without rollback', sd: started('IN_PROGRESS'), deployments: tripped(false), status: 'STOPPED', reason: rolloutReasons.circuitBreakerFailed, breaker: 'TRIGGERED' },
    { name: 'ROLLBACK_IN_PROGRESS -> ROLLBACK_SUCCESSFUL when the rollback target completes', sd: rolledBack('ROLLBACK_IN_PROGRESS'), deployments: completedAgain(tripped(true)), status: 'ROLLBACK_SUCCESSFUL' },
    { name: 'ROLLBACK_IN_PROGRESS -> ROLLBACK_FAILED when the rollback target fails too', sd: rolledBack('ROLLBACK_IN_PROGRESS'), deployments: failedAgain(tripped(true)), status: 'ROLLBACK_FAILED', reason: rolloutReasons.circuitBreakerFailed },
    { name: 'ROLLBACK_REQUESTED -> ROLLBACK_IN_PROGRESS on the next pass', sd: rolledBack('ROLLBACK_REQUESTED'), deployments: tripped(true), status: 'ROLLBACK_IN_PROGRESS' },
    { name: 'STOP_REQUESTED -> STOPPED once the service is INACTIVE', sd: started('STOP_REQUESTED'), deployments: rollout(), service: { ...SERVICE, status: 'INACTIVE' }, status: 'STOPPED', reason: 'Service deleted.' },
  ])('$name', ({ sd, deployments, service, status, reason, breaker }) => {
    const next = progressServiceDeployment(sd, service ?? SERVICE, deployments, LATER);
    expect(next.status).toBe(status);
    if (reason) expect(next.statusReason).toBe(reason);
    if (breaker) expect(next.deploymentCircuitBreaker.status).toBe(breaker);
    expect(next.version).toBe(sd.version + 1);
    expect(next.updatedAt).toBe(LATER);
  });

  it('leaves STOP_REQUESTED as it is while the service drains', () => {
    const sd = started('STOP_REQUESTED');
    expect(progressServiceDeployment(sd, { ...SERVICE, status: 'DRAINING' }, rollout(), LATER)).toBe(sd);
  });

  it('points the rollback at the revision the service went back to, with the failures counted', () => {
    const next = progressServiceDeployment(started('IN_PROGRESS'), SERVICE, tripped(true), LATER);
    expect(next.rollback).toEqual({ reason: rolloutReasons.circuitBreakerFailed, startedAt: LATER, serviceRevisionArn: serviceRevisionArnOf(SERVICE.serviceArn, OLD) });
    expect(next.deploymentCircuitBreaker).toEqual({ status: 'TRIGGERED', failureCount: 3, threshold: 3 });
  });

  it.each<ServiceDeploymentStatus>(['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'])('never changes a %s one', (status) => {
    const sd = started(status);
    expect(progressServiceDeployment(sd, { ...SERVICE, status: 'INACTIVE' }, tripped(true), LATER)).toBe(sd);
  });

  it('returns the same record when nothing changed (the pass writes nothing), and new counts otherwise', () => {
    const sd = started('IN_PROGRESS', { startedAt: NOW });
    expect(progressServiceDeployment(sd, SERVICE, rollout(), LATER)).toBe(sd);
    const counted = progressServiceDeployment(sd, SERVICE, rollout({ runningCount: 4 }, { runningCount: 1, pendingCount: 2 }), LATER);
    expect(counted.targetServiceRevision).toMatchObject({ runningTaskCount: 1, pendingTaskCount: 2, requestedTaskCount: 4 });
    expect(counted.sourceServiceRevisions[0]).toMatchObject({ arn: serviceRevisionArnOf(SERVICE.serviceArn, OLD), runningTaskCount: 4 });
  });
});

describe('changesHistory', () => {
  it('is false for live counts only, true for anything else', () => {
    const sd = started('IN_PROGRESS', { startedAt: NOW });
    const counted = progressServiceDeployment(sd, SERVICE, rollout({ runningCount: 4 }, { runningCount: 1 }), LATER);
    expect(changesHistory(sd, counted)).toBe(false);
    expect(changesHistory(sd, progressServiceDeployment(sd, SERVICE, rollout({}, { rolloutState: 'COMPLETED' }), LATER))).toBe(true);
    expect(changesHistory(started(), progressServiceDeployment(started(), SERVICE, rollout(), LATER))).toBe(true);
  });
});

describe('starting, deleting and stopping', () => {
  it('a new service deployment stops the unfinished one before it, and leaves a finished one alone', () => {
    const previous = started('IN_PROGRESS');
    const { created, previous: stopped } = startServiceDeployment(SERVICE, rollout(), NEW, previous, 'BBBBBBBBBBBBBBBBBBBBB', LATER);
    expect(created).toMatchObject({ status: 'PENDING', version: 1, sourceDeploymentIds: [OLD], targetDeploymentId: NEW });
    expect(stopped).toMatchObject({ status: 'STOPPED', stoppedAt: LATER, finishedAt: LATER, version: previous.version + 1 });
    const done = started('SUCCESSFUL');
    expect(startServiceDeployment(SERVICE, rollout(), NEW, done, 'BBBBBBBBBBBBBBBBBBBBB', LATER).previous).toBe(done);
  });

  it('DeleteService asks an unfinished one to stop, and leaves a finished one alone', () => {
    expect(requestStopForDelete(started('IN_PROGRESS'), LATER).status).toBe('STOP_REQUESTED');
    const done = started('SUCCESSFUL');
    expect(requestStopForDelete(done, LATER)).toBe(done);
  });

  it.each<[ServiceDeploymentStatus, string]>([
    ['PENDING', 'rollback'],
    ['IN_PROGRESS', 'rollback'],
    ['STOP_REQUESTED', 'already-stopping'],
    ['ROLLBACK_REQUESTED', 'already-stopping'],
    ['ROLLBACK_IN_PROGRESS', 'already-stopping'],
    ['SUCCESSFUL', 'refused'],
    ['STOPPED', 'refused'],
    ['ROLLBACK_SUCCESSFUL', 'refused'],
    ['ROLLBACK_FAILED', 'refused'],
  ])('StopServiceDeployment on %s: %s', (status, action) => {
    expect(decideStop(started(status)).action).toBe(action);
  });

  it('a requested rollback records where it goes back to', () => {
    const rolled = requestRollback('web', rollout(), NEW, LATER);
    expect('refused' in rolled).toBe(false);
    const next = markRollbackRequested(started('IN_PROGRESS'), OLD, LATER);
    expect(next).toMatchObject({ status: 'ROLLBACK_REQUESTED', rollbackDeploymentId: OLD, rollback: { startedAt: LATER, serviceRevisionArn: serviceRevisionArnOf(SERVICE.serviceArn, OLD) } });
  });
});

describe('ids and ARNs', () => {
  it('makes 21-character ids in ECS alphabet that sort by creation time', () => {
    const random = () => 0.999;
    const ids = [0, 1, 63, 64, NOW, NOW + 1, NOW + 1000].map((t) => serviceDeploymentIdFrom(t, random));
    for (const id of ids) expect(id).toMatch(SERVICE_DEPLOYMENT_ID_PATTERN);
    expect([...ids].sort()).toEqual(ids);
  });

  it.each([
    ['arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/NCWGC2ZR-taawPAYrIaU5', { kind: 'service-deployment', clusterName: 'c', serviceName: 'web', id: 'NCWGC2ZR-taawPAYrIaU5' }],
    ['arn:aws:ecs:us-east-1:123456789012:service-revision/c/web/4980306466373577095', { kind: 'service-revision', clusterName: 'c', serviceName: 'web', id: '4980306466373577095' }],
  ])('parses %s', (arn, expected) => {
    expect(parseHistoryArn(arn)).toMatchObject(expected);
  });

  it.each([
    'arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/short',
    'arn:aws:ecs:us-east-1:123456789012:service-revision/c/web/ecs-svc',
    'arn:aws:ecs:us-east-1:123456789012:service/c/web',
    'arn:aws:ecs:us-east-1:123456789012:service-deployment/c/NCWGC2ZR-taawPAYrIaU5',
    'junk',
  ])('refuses %s', (arn) => {
    expect(parseHistoryArn(arn)).toBeUndefined();
  });

  it('names a revision after the digits of its deployment record', () => {
    expect(serviceRevisionArnOf(SERVICE.serviceArn, 'ecs-svc/4980306466373577095')).toBe(
      'arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/4980306466373577095',
    );
  });
});
