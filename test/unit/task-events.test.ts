/**
 * The EventBridge events built from Berth's records (src/domain/task-events.ts): envelope and detail
 * as ECS documents them, deterministic ids, the Fargate Spot interruption example of seed 003.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SPOT_INTERRUPTION_REASON } from '../../src/app/agent-reports';
import type { ContainerInstanceRecord } from '../../src/domain/container-instance';
import type { TaskRecord } from '../../src/domain/records';
import {
  CONTAINER_INSTANCE_STATE_CHANGE,
  DEFAULT_EVENT_SOURCE,
  TASK_STATE_CHANGE,
  containerInstanceStateChangeEvent,
  eventId,
  taskStateChangeEvent,
  taskStatusChanged,
  type EventEnvelopeContext,
} from '../../src/domain/task-events';
import { requestStop } from '../../src/domain/task-lifecycle';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const CONTEXT: EventEnvelopeContext = { source: DEFAULT_EVENT_SOURCE, account: ACCOUNT, region: REGION };
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/default`;
const TASK_ID = 'b99d40b351764f719a529dbd6f1cebef';
const TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/default/${TASK_ID}`;
const HOST_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/default/0123456789abcdef0123456789abcdef`;

const CREATED = Date.parse('2016-12-06T16:41:05.702Z');
const PULL_STARTED = CREATED + 2_000;
const PULL_STOPPED = CREATED + 5_500;
const STARTED = CREATED + 6_250;
const UPDATED = CREATED + 6_999; // 2016-12-06T16:41:12.701Z

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function runningTask(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    taskArn: TASK_ARN,
    clusterArn: CLUSTER_ARN,
    taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:3`,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    launchType: 'FARGATE',
    capacityProviderName: 'FARGATE',
    platformVersion: '1.4.0',
    platformFamily: 'Linux',
    group: 'family:web',
    startedBy: 'ecs-svc/123',
    cpu: '256',
    memory: '512',
    containers: [
      {
        containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container/default/${TASK_ID}/5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d`,
        taskArn: TASK_ARN,
        name: 'app',
        image: 'nginx:latest',
        imageDigest: 'sha256:74b4a8f0d9c1',
        runtimeId: `${TASK_ID}-1234567890`,
        lastStatus: 'RUNNING',
        networkInterfaces: [{ attachmentId: 'a1b2c3d4-0000-4000-8000-000000000001', privateIpv4Address: '10.0.0.139' }],
        healthStatus: 'UNKNOWN',
        cpu: '0',
        memory: '256',
        essential: true,
      },
      {
        containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container/default/${TASK_ID}/6c5b4a3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d`,
        taskArn: TASK_ARN,
        name: 'log-router',
        image: 'fluent-bit',
        lastStatus: 'RUNNING',
        networkInterfaces: [],
        cpu: '0',
        essential: false,
      },
    ],
    overrides: { containerOverrides: [{ name: 'app', command: ['serve'] }], inferenceAcceleratorOverrides: [] },
    attachments: [
      {
        id: 'a1b2c3d4-0000-4000-8000-000000000001',
        type: 'ElasticNetworkInterface',
        status: 'ATTACHED',
        details: [{ name: 'subnetId', value: 'subnet-0123' }],
      },
    ],
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    availabilityZone: 'us-east-1b',
    connectivity: 'CONNECTED',
    connectivityAt: CREATED + 1_000,
    enableExecuteCommand: false,
    ephemeralStorage: { sizeInGiB: 20 },
    healthStatus: 'UNKNOWN',
    tags: [{ key: 'team', value: 'web' }],
    createdAt: CREATED,
    pullStartedAt: PULL_STARTED,
    pullStoppedAt: PULL_STOPPED,
    startedAt: STARTED,
    version: 4,
    reservation: { containerInstanceArn: HOST_ARN, cpu: 256, memory: 512 },
    ...overrides,
  };
}

describe('eventId', () => {
  it('is deterministic: the same ARN and version give the same id', () => {
    expect(eventId(TASK_ARN, 4)).toBe(eventId(TASK_ARN, 4));
  });

  it('differs for another version or another resource', () => {
    expect(eventId(TASK_ARN, 4)).not.toBe(eventId(TASK_ARN, 5));
    expect(eventId(TASK_ARN, 4)).not.toBe(eventId(HOST_ARN, 4));
  });

  it('is UUID-shaped (version 5 layout, RFC 4122 variant)', () => {
    const id = eventId(TASK_ARN, 1);
    expect(id).toMatch(UUID);
    expect(id[14]).toBe('5');
    expect('89ab').toContain(id[19]);
  });

  it('property: UUID format for any ARN and version; distinct versions never collide', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.nat(), fc.nat(), (arn, a, b) => {
        const first = eventId(arn, a);
        expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(eventId(arn, a)).toBe(first);
        if (a !== b) expect(eventId(arn, b)).not.toBe(first);
      }),
      { numRuns: 500 },
    );
  });

  it('the versions of one task give pairwise distinct ids', () => {
    const ids = Array.from({ length: 1_000 }, (_, version) => eventId(TASK_ARN, version + 1));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('taskStateChangeEvent: envelope', () => {
  it('has the EventBridge envelope: version "0", exact detail-type, source, account, region, resources = [taskArn]', () => {
    const event = taskStateChangeEvent(runningTask(), CONTEXT, UPDATED);
    expect(Object.keys(event).sort()).toEqual(
      ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'].sort(),
    );
    expect(event.version).toBe('0');
    expect(event['detail-type']).toBe('ECS Task State Change');
    expect(TASK_STATE_CHANGE).toBe('ECS Task State Change');
    expect(event.source).toBe('berth.ecs');
    expect(event.account).toBe(ACCOUNT);
    expect(event.region).toBe(REGION);
    expect(event.resources).toEqual([TASK_ARN]);
    expect(event.id).toBe(eventId(TASK_ARN, 4));
  });

  it('time and detail.updatedAt are the record\'s own updatedAt, to the millisecond; the stream\'s time is not used', () => {
    const approximate = Date.parse('2016-12-06T16:41:00Z'); // DynamoDB Local's: rounded down to the minute
    const event = taskStateChangeEvent(runningTask({ updatedAt: UPDATED }), CONTEXT, approximate);
    expect(event.time).toMatch(ISO_MS);
    expect(event.time).toBe('2016-12-06T16:41:12.701Z');
    expect(event.detail.updatedAt).toBe(event.time);
  });

  it('a record written before Berth stamped updatedAt falls back to the given time, never earlier than its own times', () => {
    expect(taskStateChangeEvent(runningTask(), CONTEXT, UPDATED).time).toBe('2016-12-06T16:41:12.701Z');
    // The stream's minute is earlier than the task's startedAt: the event says startedAt, not a time before it.
    const event = taskStateChangeEvent(runningTask(), CONTEXT, Date.parse('2016-12-06T16:41:00Z'));
    expect(event.time).toBe(new Date(STARTED).toISOString());
    expect(event.detail.updatedAt).toBe(event.time);
  });

  it('the id stays ARN + version: the same change with another time is the same event id', () => {
    const a = taskStateChangeEvent(runningTask({ updatedAt: UPDATED }), CONTEXT, 0);
    const b = taskStateChangeEvent(runningTask({ updatedAt: UPDATED + 1 }), CONTEXT, 0);
    expect(a.id).toBe(eventId(TASK_ARN, 4));
    expect(b.id).toBe(a.id);
  });

  it.each(['berth.ecs', 'my.company.ecs', 'test'])('the source is configurable: %s', (source) => {
    const event = taskStateChangeEvent(runningTask(), { ...CONTEXT, source }, UPDATED);
    expect(event.source).toBe(source);
    // The id names the change, not the emitter.
    expect(event.id).toBe(eventId(TASK_ARN, 4));
  });

  it('never uses a source starting with "aws." by default', () => {
    expect(DEFAULT_EVENT_SOURCE.startsWith('aws.')).toBe(false);
  });
});

describe('taskStateChangeEvent: detail', () => {
  it('carries the fields ECS documents, with timestamps as ISO strings', () => {
    const task = runningTask();
    const { detail } = taskStateChangeEvent(task, CONTEXT, UPDATED);
    expect(detail).toMatchObject({
      attachments: task.attachments,
      attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
      availabilityZone: 'us-east-1b',
      capacityProviderName: 'FARGATE',
      clusterArn: CLUSTER_ARN,
      connectivity: 'CONNECTED',
      connectivityAt: new Date(CREATED + 1_000).toISOString(),
      cpu: '256',
      createdAt: '2016-12-06T16:41:05.702Z',
      desiredStatus: 'RUNNING',
      enableExecuteCommand: false,
      ephemeralStorage: { sizeInGiB: 20 },
      group: 'family:web',
      healthStatus: 'UNKNOWN',
      launchType: 'FARGATE',
      lastStatus: 'RUNNING',
      memory: '512',
      overrides: task.overrides,
      platformVersion: '1.4.0',
      pullStartedAt: new Date(PULL_STARTED).toISOString(),
      pullStoppedAt: new Date(PULL_STOPPED).toISOString(),
      startedAt: new Date(STARTED).toISOString(),
      startedBy: 'ecs-svc/123',
      taskArn: TASK_ARN,
      taskDefinitionArn: task.taskDefinitionArn,
      updatedAt: '2016-12-06T16:41:12.701Z',
      version: 4,
    });
    for (const member of ['createdAt', 'connectivityAt', 'pullStartedAt', 'pullStoppedAt', 'startedAt', 'updatedAt']) {
      expect(detail[member], member).toMatch(ISO_MS);
    }
  });

  it('containers[] carry ECS Container members only', () => {
    const task = runningTask();
    const { detail } = taskStateChangeEvent(task, CONTEXT, UPDATED);
    const containers = detail.containers as Record<string, unknown>[];
    expect(containers).toHaveLength(2);
    expect(containers[0]).toEqual({
      containerArn: task.containers[0].containerArn,
      lastStatus: 'RUNNING',
      name: 'app',
      image: 'nginx:latest',
      imageDigest: 'sha256:74b4a8f0d9c1',
      runtimeId: `${TASK_ID}-1234567890`,
      taskArn: TASK_ARN,
      networkInterfaces: [{ attachmentId: 'a1b2c3d4-0000-4000-8000-000000000001', privateIpv4Address: '10.0.0.139' }],
      cpu: '0',
      memory: '256',
      healthStatus: 'UNKNOWN',
    });
    expect(containers[1]).toEqual({
      containerArn: task.containers[1].containerArn,
      lastStatus: 'RUNNING',
      name: 'log-router',
      image: 'fluent-bit',
      taskArn: TASK_ARN,
      networkInterfaces: [],
      cpu: '0',
    });
    // Berth's own member stays internal.
    for (const container of containers) expect(container).not.toHaveProperty('essential');
  });

  it('a stopped task carries stop fields and exit codes; all stop timestamps are ISO strings', () => {
    const stopped = runningTask({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      stoppingAt: STARTED + 60_000,
      executionStoppedAt: STARTED + 61_000,
      stoppedAt: STARTED + 62_000,
      connectivity: undefined,
      containers: runningTask().containers.map((c, i) => ({ ...c, lastStatus: 'STOPPED', exitCode: i === 0 ? 137 : 0, reason: i === 0 ? 'OutOfMemoryError' : undefined })),
      version: 9,
    });
    const event = taskStateChangeEvent(stopped, CONTEXT, STARTED + 62_500);
    expect(event.id).toBe(eventId(TASK_ARN, 9));
    expect(event.detail).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      stoppingAt: new Date(STARTED + 60_000).toISOString(),
      executionStoppedAt: new Date(STARTED + 61_000).toISOString(),
      stoppedAt: new Date(STARTED + 62_000).toISOString(),
      version: 9,
    });
    const containers = event.detail.containers as Record<string, unknown>[];
    expect(containers.map((c) => [c.lastStatus, c.exitCode])).toEqual([
      ['STOPPED', 137],
      ['STOPPED', 0],
    ]);
    expect(containers[0].reason).toBe('OutOfMemoryError');
    expect(event.detail).not.toHaveProperty('connectivity');
  });

  it('absent members are left out (no nulls), Berth-only members never leak, detail is plain JSON', () => {
    const task = runningTask({ startedBy: undefined, pullStartedAt: undefined });
    const { detail } = taskStateChangeEvent(task, CONTEXT, UPDATED);
    for (const absent of ['stoppedAt', 'stoppingAt', 'executionStoppedAt', 'stopCode', 'stoppedReason', 'startedBy', 'pullStartedAt']) {
      expect(detail, absent).not.toHaveProperty(absent);
    }
    for (const internal of ['reservation', 'expiresAt', 'tags']) expect(detail).not.toHaveProperty(internal);
    expect(JSON.parse(JSON.stringify(detail))).toEqual(detail);
    expect(Object.values(detail)).not.toContain(null);
  });

  it('shows the container instance of EC2 tasks only', () => {
    const fargate = taskStateChangeEvent(runningTask({ containerInstanceArn: HOST_ARN }), CONTEXT, UPDATED);
    expect(fargate.detail).not.toHaveProperty('containerInstanceArn');
    const ec2 = taskStateChangeEvent(
      runningTask({ launchType: 'EC2', capacityProviderName: undefined, containerInstanceArn: HOST_ARN }),
      CONTEXT,
      UPDATED,
    );
    expect(ec2.detail.containerInstanceArn).toBe(HOST_ARN);
    expect(ec2.detail.launchType).toBe('EC2');
  });

  it('defaults attributes to the CPU architecture when the record has none', () => {
    const { detail } = taskStateChangeEvent(runningTask({ attributes: undefined }), CONTEXT, UPDATED);
    expect(detail.attributes).toEqual([{ name: 'ecs.cpu-architecture', value: 'x86_64' }]);
  });

  it('does not modify the record', () => {
    const task = runningTask();
    const copy = structuredClone(task);
    taskStateChangeEvent(task, CONTEXT, UPDATED);
    expect(task).toEqual(copy);
  });

  it('is the same event for the same committed change (a replay is a recognisable duplicate)', () => {
    expect(taskStateChangeEvent(runningTask(), CONTEXT, UPDATED)).toEqual(taskStateChangeEvent(runningTask(), CONTEXT, UPDATED));
  });

  it('version in detail matches the id: each version its own id', () => {
    const v4 = taskStateChangeEvent(runningTask(), CONTEXT, UPDATED);
    const v5 = taskStateChangeEvent(runningTask({ version: 5, desiredStatus: 'STOPPED' }), CONTEXT, UPDATED + 1_000);
    expect([v4.detail.version, v5.detail.version]).toEqual([4, 5]);
    expect(v4.id).not.toBe(v5.id);
    expect(v5.id).toBe(eventId(TASK_ARN, 5));
  });
});

describe('taskStatusChanged', () => {
  const base = runningTask();
  it.each<{ name: string; before: TaskRecord | undefined; after: TaskRecord; changed: boolean }>([
    { name: 'a new task (INSERT)', before: undefined, after: base, changed: true },
    { name: 'lastStatus moved', before: base, after: { ...base, lastStatus: 'DEACTIVATING', version: 5 }, changed: true },
    { name: 'desiredStatus moved (StopTask)', before: base, after: { ...base, desiredStatus: 'STOPPED', version: 5 }, changed: true },
    { name: 'only health changed', before: base, after: { ...base, healthStatus: 'HEALTHY', version: 5 }, changed: false },
    { name: 'only placement (reservation, AZ) changed', before: base, after: { ...base, availabilityZone: 'us-east-1c', version: 5 }, changed: false },
    { name: 'the same image again (a replay)', before: base, after: base, changed: false },
  ])('$name: $changed', ({ before, after, changed }) => {
    expect(taskStatusChanged(before, after)).toBe(changed);
  });
});

describe('Fargate Spot interruption event (seed 003 example)', () => {
  const spotTask = runningTask({ capacityProviderName: 'FARGATE_SPOT', version: 6 });
  const stop = requestStop(spotTask, 'SpotInterruption', SPOT_INTERRUPTION_REASON);
  const { changed: _changed, ...fields } = stop;
  const interrupted: TaskRecord = { ...spotTask, ...fields, version: spotTask.version + 1 };

  it('the warning is a desiredStatus change, so it is an event', () => {
    expect(stop.changed).toBe(true);
    expect(taskStatusChanged(spotTask, interrupted)).toBe(true);
  });

  it('has the shape of the documented example', () => {
    const event = taskStateChangeEvent(interrupted, { ...CONTEXT, source: 'aws.ecs' }, UPDATED + 60_000);
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      account: ACCOUNT,
      resources: [TASK_ARN],
      detail: {
        clusterArn: CLUSTER_ARN,
        createdAt: '2016-12-06T16:41:05.702Z',
        desiredStatus: 'STOPPED',
        lastStatus: 'RUNNING',
        stoppedReason: 'Your Spot Task was interrupted.',
        stopCode: 'SpotInterruption',
        taskArn: TASK_ARN,
        capacityProviderName: 'FARGATE_SPOT',
        version: 7,
      },
    });
    expect(event.id).toMatch(UUID);
    expect(event.id).toBe(eventId(TASK_ARN, 7));
    // Nothing has stopped yet: it is a two-minute warning.
    expect(event.detail).not.toHaveProperty('stoppedAt');
    expect(event.detail).not.toHaveProperty('stoppingAt');
  });

  it('uses the exact documented reason text', () => {
    expect(SPOT_INTERRUPTION_REASON).toBe('Your Spot Task was interrupted.');
  });

  it('a later StopTask keeps the Spot stop code and reason (first stop wins)', () => {
    const again = requestStop(interrupted, 'UserInitiated', 'bye');
    expect(again).toMatchObject({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.', changed: false });
  });
});

describe('containerInstanceStateChangeEvent', () => {
  const instance: ContainerInstanceRecord = {
    containerInstanceArn: HOST_ARN,
    clusterArn: CLUSTER_ARN,
    ec2InstanceId: 'i-f3a8506b',
    status: 'ACTIVE',
    agentConnected: true,
    registeredResources: { cpu: 2048, memory: 3767 },
    attributes: [
      { name: 'ecs.availability-zone', value: 'us-east-1b' },
      { name: 'ecs.os-type', value: 'linux' },
    ],
    versionInfo: { agentHash: 'aebcbca', agentVersion: 'berth-agent/0.1.0', dockerVersion: 'DockerVersion: 24.0.5' },
    fargateProviders: [],
    tags: [{ key: 'env', value: 'prod' }],
    registeredAt: CREATED,
    updatedAt: UPDATED,
  };
  const state = { version: 14801, remaining: { cpu: 1792, memory: 3255 }, runningTasksCount: 1, pendingTasksCount: 0 };

  it('has the envelope: exact detail-type, resources = [containerInstanceArn], id from ARN + version', () => {
    const event = containerInstanceStateChangeEvent(instance, state, CONTEXT);
    expect(CONTAINER_INSTANCE_STATE_CHANGE).toBe('ECS Container Instance State Change');
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'ECS Container Instance State Change',
      source: 'berth.ecs',
      account: ACCOUNT,
      region: REGION,
      resources: [HOST_ARN],
      time: '2016-12-06T16:41:12.701Z',
    });
    expect(event.id).toBe(eventId(HOST_ARN, 14801));
    expect(event.id).toMatch(UUID);
  });

  it('has the documented detail: resources as ECS Resource lists, version, versionInfo, updatedAt ISO', () => {
    const { detail } = containerInstanceStateChangeEvent(instance, state, CONTEXT);
    expect(detail).toMatchObject({
      agentConnected: true,
      attributes: instance.attributes,
      clusterArn: CLUSTER_ARN,
      containerInstanceArn: HOST_ARN,
      ec2InstanceId: 'i-f3a8506b',
      status: 'ACTIVE',
      version: 14801,
      versionInfo: instance.versionInfo,
      updatedAt: '2016-12-06T16:41:12.701Z',
      runningTasksCount: 1,
      pendingTasksCount: 0,
    });
    const byName = (list: unknown) => Object.fromEntries((list as { name: string }[]).map((r) => [r.name, r]));
    expect(byName(detail.registeredResources)).toMatchObject({
      CPU: { type: 'INTEGER', integerValue: 2048 },
      MEMORY: { type: 'INTEGER', integerValue: 3767 },
      PORTS: { type: 'STRINGSET', stringSetValue: [] },
      PORTS_UDP: { type: 'STRINGSET', stringSetValue: [] },
    });
    expect(byName(detail.remainingResources)).toMatchObject({
      CPU: { type: 'INTEGER', integerValue: 1792 },
      MEMORY: { type: 'INTEGER', integerValue: 3255 },
    });
    for (const internal of ['fargateProviders', 'tags', 'registeredAt']) expect(detail).not.toHaveProperty(internal);
  });

  it('another version of the same host is another id; a replay is the same event', () => {
    const a = containerInstanceStateChangeEvent(instance, state, CONTEXT);
    const b = containerInstanceStateChangeEvent(instance, { ...state, version: 14802 }, CONTEXT);
    expect(a.id).not.toBe(b.id);
    expect(containerInstanceStateChangeEvent(instance, state, CONTEXT)).toEqual(a);
  });

  it('a Fargate capacity host has no cluster and no EC2 instance in its event', () => {
    const host: ContainerInstanceRecord = { ...instance, clusterArn: undefined, ec2InstanceId: undefined, fargateProviders: ['FARGATE'] };
    const { detail } = containerInstanceStateChangeEvent(host, state, CONTEXT);
    expect(detail).not.toHaveProperty('clusterArn');
    expect(detail).not.toHaveProperty('ec2InstanceId');
  });

  it('a host and a task with the same version number get different ids', () => {
    expect(containerInstanceStateChangeEvent(instance, { ...state, version: 4 }, CONTEXT).id).not.toBe(
      taskStateChangeEvent(runningTask(), CONTEXT, UPDATED).id,
    );
  });
});
