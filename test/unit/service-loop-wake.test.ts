/**
 * Which changes of a service's task wake its loop (taskChangeMatters): those that can move a
 * reconciler decision, and none of the lifecycle steps that leave a task 'starting' or 'stopping'.
 */
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/domain/records';
import { instanceChangeMatters, serviceOfTask, taskChangeMatters } from '../../src/app/service-loop';
import type { ContainerInstanceRecord } from '../../src/domain/container-instance';

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

const instance = (fields: Partial<ContainerInstanceRecord>): ContainerInstanceRecord => ({
  containerInstanceArn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/web/0123456789abcdef0123456789abcdef',
  clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/web',
  status: 'ACTIVE',
  agentConnected: true,
  registeredResources: { cpu: 2048, memory: 4096 },
  attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }],
  versionInfo: {},
  fargateProviders: [],
  tags: [],
  registeredAt: 1,
  updatedAt: 1,
  ...fields,
});

const INSTANCE_ROWS: { name: string; before?: Partial<ContainerInstanceRecord>; after: Partial<ContainerInstanceRecord>; wakes: boolean }[] = [
  { name: 'an instance registers', after: {}, wakes: true },
  { name: 'ACTIVE -> DRAINING', before: {}, after: { status: 'DRAINING' }, wakes: true },
  { name: 'DRAINING -> ACTIVE', before: { status: 'DRAINING' }, after: {}, wakes: true },
  { name: 'deregistered (INACTIVE)', before: {}, after: { status: 'INACTIVE', agentConnected: false }, wakes: true },
  { name: 'an attribute put', before: {}, after: { attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }, { name: 'role', value: 'edge' }] }, wakes: true },
  { name: 'an attribute deleted', before: { attributes: [{ name: 'role', value: 'edge' }] }, after: { attributes: [] }, wakes: true },
  { name: 'the agent disconnects', before: {}, after: { agentConnected: false }, wakes: true },
  { name: 'a tag, or a time (nothing the daemon decision reads)', before: {}, after: { tags: [{ key: 'k', value: 'v' }], updatedAt: 9 }, wakes: false },
  { name: 'a Fargate pool host registers (no cluster)', after: { clusterArn: undefined, fargateProviders: ['FARGATE'] }, wakes: false },
];

describe('instanceChangeMatters (wakes the cluster\'s DAEMON services)', () => {
  it.each(INSTANCE_ROWS)('$name -> wakes: $wakes', ({ before, after, wakes }) => {
    expect(instanceChangeMatters(before && instance(before), instance(after))).toBe(wakes);
  });
});
