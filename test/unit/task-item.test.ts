import { describe, expect, it } from 'vitest';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { taskItem, taskOfItem } from '../../src/adapters/dynamodb/task-item';
import { taskKey } from '../../src/adapters/dynamodb/keys';
import { newTask } from '../../src/domain/new-task';
import type { TaskDefinitionRecord, TaskRecord } from '../../src/domain/records';
import { decideEngineStep } from '../../src/domain/task-engine';
import { docBytes } from '../../bench/table-writes';

const SCOPE = { partition: 'aws', account: '000000000000', region: 'us-east-1' };
const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:000000000000:cluster/demo';
const T0 = 1_795_817_023_626;
const RETENTION = 3_600_000;

/** The README's example: `hello`, one busybox container, Fargate, awsvpc, 256 CPU / 512 MiB. */
const README_TD: TaskDefinitionRecord = {
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/hello:1',
  family: 'hello',
  revision: 1,
  status: 'ACTIVE',
  containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hi; sleep 30'], cpu: 0, essential: true }],
  compatibilities: ['EC2', 'FARGATE'],
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  registeredAt: T0 - 60_000,
  registeredBy: 'arn:aws:iam::000000000000:root',
};

const readmeTask = (): TaskRecord =>
  newTask({
    scope: SCOPE,
    clusterName: 'demo',
    clusterArn: CLUSTER_ARN,
    taskId: '2b506d31270fdfaf6035083144289e1e',
    containerIds: ['e587cdd8-868f-4ad2-8ea6-c707ae130353'],
    attachmentId: '5dd5a3ea-08e7-4a09-acc8-be96888c20da',
    now: T0,
    taskDefinition: README_TD,
    target: { launchType: 'FARGATE' },
    group: 'family:hello',
    subnets: ['subnet-local'],
    tags: [],
  });

const HOST = 'arn:aws:ecs:us-east-1:000000000000:container-instance/berth-fargate-pool/3d8fea634c2aa09813daa352324b701f';

/** The README task at every version of a lifecycle whose essential container exits, as the engine and the agent write it. */
function readmeLifecycle(): TaskRecord[] {
  const versions: TaskRecord[] = [readmeTask()];
  const next = (changes: Partial<TaskRecord>) => {
    const last = versions.at(-1)!;
    versions.push({ ...last, ...changes, version: last.version + 1, updatedAt: (changes.updatedAt ?? last.updatedAt!) });
  };
  const engine = (now: number) => {
    const step = decideEngineStep(versions.at(-1)!, now, RETENTION);
    if (step?.kind !== 'advance') throw new Error('expected an engine step');
    versions.push(step.releaseCapacity ? { ...step.task, reservation: undefined } : step.task);
  };
  engine(T0 + 40); // PENDING, placed along
  next({ availabilityZone: 'us-east-1a', reservation: { containerInstanceArn: HOST, cpu: 256, memory: 512 } });
  const container = (changes: Record<string, unknown>) => versions.at(-1)!.containers.map((c) => ({ ...c, ...changes }));
  next({ lastStatus: 'ACTIVATING', pullStartedAt: T0 + 700, updatedAt: T0 + 700 });
  next({
    lastStatus: 'RUNNING',
    pullStoppedAt: T0 + 939,
    startedAt: T0 + 950,
    connectivity: 'CONNECTED',
    connectivityAt: T0 + 950,
    updatedAt: T0 + 950,
    containers: container({
      lastStatus: 'RUNNING',
      // A Docker container id and a repo digest, as berth-agent's Docker runtime reports them.
      runtimeId: 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f',
      imageDigest: 'sha256:f5adb8bf0100ed0f8c7782ca5f92814e9229525a4b4e0d401cf3bea09ac960a6',
    }),
  });
  next({
    desiredStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    executionStoppedAt: T0 + 30_950,
    updatedAt: T0 + 30_951,
    containers: container({ lastStatus: 'STOPPED', exitCode: 0 }),
  });
  engine(T0 + 30_960); // DEACTIVATING
  engine(T0 + 30_970); // STOPPING
  engine(T0 + 30_980); // DEPROVISIONING
  engine(T0 + 30_990); // STOPPED, capacity released
  return versions;
}

/** What a read or a stream image gives back: DynamoDB's attribute values, maps in any order. */
const throughDynamoDb = (item: Record<string, unknown>) =>
  unmarshall(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true }));
const roundTrip = (task: TaskRecord) => taskOfItem(throughDynamoDb(taskItem(task, task.expiresAt)));
/** The record as the old form stored it (undefined members dropped, as the document client writes it). */
const asStored = (task: TaskRecord) => JSON.parse(JSON.stringify(task)) as TaskRecord;

describe('the stored form of a task item', () => {
  it.each(readmeLifecycle().map((task) => [`v${task.version} ${task.lastStatus} (desired ${task.desiredStatus})`, task] as const))(
    'the README task reads back exactly at %s',
    (_name, task) => {
      expect(roundTrip(task)).toEqual(asStored(task));
    },
  );

  it('the README task is under 1 KB at every version, as DynamoDB sizes an item (the old form was not)', () => {
    const sizes = readmeLifecycle().map((task) => docBytes(taskItem(task, task.expiresAt)));
    expect(Math.max(...sizes)).toBeLessThan(1024);
    // The same records as whole documents (the form before): over 1 KB from RUNNING on, 2 units a write.
    const whole = readmeLifecycle().map((task) => docBytes({ ...taskKey(CLUSTER_ARN, 'x'.repeat(32)), kind: 'task', version: task.version, doc: task }));
    expect(Math.max(...whole)).toBeGreaterThan(1024);
  });

  const base = readmeLifecycle()[4]; // RUNNING, on its host
  it.each<[string, (task: TaskRecord) => TaskRecord]>([
    ['an EC2 task on a cluster instance, with tags, overrides and placement', (t) => ({
      ...t,
      launchType: 'EC2',
      platformFamily: undefined,
      platformVersion: undefined,
      ephemeralStorage: undefined,
      containerInstanceArn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/demo/abc',
      reservation: { containerInstanceArn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/demo/abc', cpu: 128, memory: 300 },
      tags: [{ key: 'team', value: 'a' }],
      overrides: { containerOverrides: [{ name: 'main', command: ['true'] }], inferenceAcceleratorOverrides: [], cpu: '512' },
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t3.*' }],
      placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
      enableExecuteCommand: true,
      healthStatus: 'HEALTHY',
      attachments: [],
    })],
    ['members that have defaults but are absent', (t) => {
      const { healthStatus: _h, tags: _t, ...rest } = t;
      return { ...rest, containers: t.containers.map(({ essential: _e, healthStatus: _c, ...c }) => c) } as TaskRecord;
    }],
    ['members at other values than the defaults', (t) => ({
      ...t,
      platformVersion: '1.3.0',
      ephemeralStorage: { sizeInGiB: 40 },
      containers: t.containers.map((c) => ({ ...c, essential: false, healthStatus: 'UNHEALTHY' as const, networkInterfaces: [{ attachmentId: 'a' }] })),
      attachments: [{ id: 'x', type: 'Other', status: 'ATTACHED', details: [{ name: 'subnetId', value: 's' }, { name: 'macAddress', value: 'm' }] }],
    })],
    ['a task definition, container and host of other forms than the derived ones', (t) => ({
      ...t,
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111111111111:task-definition/other:3',
      reservation: { containerInstanceArn: 'arn:aws:ecs:eu-west-1:111111111111:container-instance/x/y', cpu: 1, memory: 2 },
      containers: t.containers.map((c) => ({ ...c, containerArn: 'arn:aws:ecs:us-east-1:000000000000:container/other/x/y', taskArn: 'elsewhere', runtimeId: 'ABC', imageDigest: 'sha256:XYZ' })),
      attachments: [{ id: 'x', status: 'ATTACHED', details: [{ name: 'subnetId', value: 's', extra: 1 }] }],
    })],
    ['protection and a stopped task\'s expiry', (t) => ({ ...t, protectionExpiresAt: T0 + 5_000, expiresAt: T0 + RETENTION, stoppedAt: T0 - 5 })],
  ])('reads back exactly: %s', (_name, change) => {
    const task = change(base);
    expect(roundTrip(task)).toEqual(asStored(task));
  });

  it('an item written before the stored form (its doc the whole record) reads as it is', () => {
    const task = readmeLifecycle()[4];
    const old = throughDynamoDb({ ...taskKey(CLUSTER_ARN, '2b506d31270fdfaf6035083144289e1e'), kind: 'task', version: task.version, doc: task });
    expect(taskOfItem(old)).toEqual(asStored(task));
  });

  it('keeps the members the repository filters and projects on under their names', () => {
    const stored = taskItem(readmeLifecycle()[4]).doc as Record<string, unknown>;
    expect(stored).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING', group: 'family:hello', availabilityZone: 'us-east-1a' });
    expect(stored.reservation).toBeDefined();
  });
});
