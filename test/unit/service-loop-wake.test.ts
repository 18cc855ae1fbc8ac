/**
 * Which changes of a service's task wake its loop (taskChangeMatters): those that can move a
 * reconciler decision, and none of the lifecycle steps that leave a task 'starting' or 'stopping'.
 */
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/domain/records';
import { serviceOfTask, taskChangeMatters } from '../../src/app/service-loop';

const task = (fields: Partial<TaskRecord>): TaskRecord =>
  ({
    taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/web/0123456789abcdef0123456789abcdef',
    clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/web',
    group: 'service:api',
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    ...fields,
  }) as TaskRecord;

const ROWS: { name: string; before?: Partial<TaskRecord>; after: Partial<TaskRecord>; wakes: boolean }[] = [
  { name: 'a new task', after: {}, wakes: true },
  { name: 'PROVISIONING -> PENDING (placed)', before: {}, after: { lastStatus: 'PENDING' }, wakes: false },
  { name: 'PENDING -> ACTIVATING', before: { lastStatus: 'PENDING' }, after: { lastStatus: 'ACTIVATING' }, wakes: false },
  { name: 'ACTIVATING -> RUNNING', before: { lastStatus: 'ACTIVATING' }, after: { lastStatus: 'RUNNING' }, wakes: true },
  { name: 'RUNNING, desired STOPPED', before: { lastStatus: 'RUNNING' }, after: { lastStatus: 'RUNNING', desiredStatus: 'STOPPED' }, wakes: true },
  {
    name: 'RUNNING -> DEACTIVATING (already desired STOPPED)',
    before: { lastStatus: 'RUNNING', desiredStatus: 'STOPPED' },
    after: { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' },
    wakes: true,
  },
  {
    name: 'DEACTIVATING -> STOPPING',
    before: { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' },
    after: { lastStatus: 'STOPPING', desiredStatus: 'STOPPED' },
    wakes: false,
  },
  {
    name: 'STOPPING -> DEPROVISIONING',
    before: { lastStatus: 'STOPPING', desiredStatus: 'STOPPED' },
    after: { lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED' },
    wakes: false,
  },
  {
    name: 'DEPROVISIONING -> STOPPED (its room is free)',
    before: { lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED' },
    after: { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
    wakes: true,
  },
  {
    name: 'PENDING -> STOPPED (failed to start: the breaker counts it)',
    before: { lastStatus: 'PENDING', desiredStatus: 'STOPPED' },
    after: { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
    wakes: true,
  },
  { name: 'STOPPED -> DELETED', before: { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }, after: { lastStatus: 'DELETED', desiredStatus: 'STOPPED' }, wakes: false },
  { name: 'health UNKNOWN -> HEALTHY', before: { lastStatus: 'RUNNING', healthStatus: 'UNKNOWN' }, after: { lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }, wakes: true },
  { name: 'health HEALTHY -> UNHEALTHY', before: { lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }, after: { lastStatus: 'RUNNING', healthStatus: 'UNHEALTHY' }, wakes: true },
  { name: 'nothing the reconciler reads (a tag, a version)', before: { lastStatus: 'RUNNING' }, after: { lastStatus: 'RUNNING', tags: [{ key: 'k', value: 'v' }] }, wakes: false },
];

describe('taskChangeMatters', () => {
  it.each(ROWS)('$name -> wakes: $wakes', ({ before, after, wakes }) => {
    expect(taskChangeMatters(before && task(before), task(after))).toBe(wakes);
  });
});

describe('serviceOfTask', () => {
  it('names the service of a task by its group service:<name>', () => {
    expect(serviceOfTask(task({}))).toBe('arn:aws:ecs:us-east-1:000000000000:service/web/api');
  });
  it('is undefined for a task of no service', () => {
    expect(serviceOfTask(task({ group: 'family:web' }))).toBeUndefined();
    expect(serviceOfTask(task({ group: undefined }))).toBeUndefined();
  });
});
