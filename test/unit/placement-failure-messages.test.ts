/**
 * The service event of a service task that gave up waiting for a host: ECS's text, the reason format
 * (RESOURCE:FARGATE for Fargate, what was short for EC2), and said once per give-up.
 */
import { describe, expect, it } from 'vitest';
import { placementFailureMessage } from '../../src/domain/placement-failure-messages';
import type { TaskRecord } from '../../src/domain/records';
import { serviceMessages, type ServiceEvent } from '../../src/domain/service-messages';
import { NOW, aTask } from '../support/services';

const CAPACITY = 'Capacity is unavailable at this time. Please try again later or in a different availability zone.';
const gaveUp = (o: Partial<TaskRecord> = {}) =>
  aTask({
    lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', capacityProviderName: 'FARGATE_SPOT',
    stoppedReason: `${CAPACITY} (MISSING: No ACTIVE container instance offers FARGATE_SPOT capacity.)`, stoppingAt: NOW, ...o,
  });
const said = (createdAt: number, message = serviceMessages.unableToPlace('web', 'Reason: RESOURCE:FARGATE.')): ServiceEvent => ({ id: 'e', createdAt, message });

describe('placementFailureMessage', () => {
  it.each([
    { name: 'a Fargate Spot task with no Spot host -> RESOURCE:FARGATE', tasks: [gaveUp()], reason: 'RESOURCE:FARGATE' },
    { name: 'a Fargate task short of room -> RESOURCE:FARGATE too', tasks: [gaveUp({ stoppedReason: `${CAPACITY} (RESOURCE:CPU: The task needs 4096 CPU units; the roomiest container instance has 2048 left.)` })], reason: 'RESOURCE:FARGATE' },
    { name: 'an EC2 task short of memory -> RESOURCE:MEMORY', tasks: [gaveUp({ launchType: 'EC2', capacityProviderName: undefined, stoppedReason: `${CAPACITY} (RESOURCE:MEMORY: The task needs 512 MiB of memory; the roomiest container instance has 256 left.)` })], reason: 'RESOURCE:MEMORY' },
  ])('$name', ({ tasks, reason }) => {
    expect(placementFailureMessage('web', tasks, [])).toBe(
      `(service web) was unable to place a task because no container instance met all of its requirements. Reason: ${reason}. For more information, see the Troubleshooting section.`,
    );
  });

  it.each([
    { name: 'the log already said it after the give-up', tasks: [gaveUp()], events: [said(NOW + 1)] },
    { name: 'a task that failed to start on its host (its container exited)', tasks: [gaveUp({ stoppedReason: 'Essential container in task exited' })], events: [] },
    { name: 'a task stopped by the scheduler or a user', tasks: [gaveUp({ stopCode: 'ServiceSchedulerInitiated' }), gaveUp({ stopCode: 'UserInitiated' })], events: [] },
    { name: 'a running task', tasks: [aTask()], events: [] },
  ])('nothing for $name', ({ tasks, events }) => {
    expect(placementFailureMessage('web', tasks, events)).toBeUndefined();
  });

  it('a give-up after the last message is said again (the pool stayed empty)', () => {
    expect(placementFailureMessage('web', [gaveUp({ stoppingAt: NOW + 10 })], [said(NOW)])).toBeDefined();
  });
});
