import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  DescribeTasksCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-ecs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLocalDocumentClient } from '../../src/adapters/dynamodb/document-client';
import { ACCOUNT, startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';

let berth: Harness;
const FARGATE_NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };

beforeAll(async () => {
  berth = await startHarness();
  const ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'work' }));
  // EC2 tasks are placed at RunTask: give them a (large) container instance.
  await registerHost(ecs, 'work');
  await ecs.send(
    new PutClusterCapacityProvidersCommand({
      cluster: 'work',
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [
        { capacityProvider: 'FARGATE', base: 1, weight: 1 },
        { capacityProvider: 'FARGATE_SPOT', weight: 3 },
      ],
    }),
  );
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'job',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        { name: 'main', image: 'busybox', command: ['sleep', '60'] },
        { name: 'sidecar', image: 'busybox', essential: false, memory: 64 },
      ],
    }),
  );
  await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'ec2job', containerDefinitions: [{ name: 'main', image: 'busybox', memory: 128 }] }),
  );
});
afterAll(() => berth.close());

describe('tasks through the ECS SDK', () => {
  it('RunTask creates PROVISIONING tasks as ECS reports them', async () => {
    const result = await berth.ecs().send(
      new RunTaskCommand({
        cluster: 'work',
        taskDefinition: 'job',
        launchType: 'FARGATE',
        networkConfiguration: FARGATE_NETWORK,
        startedBy: 'e2e',
        overrides: { containerOverrides: [{ name: 'main', command: ['sleep', '1'] }] },
        tags: [{ key: 'purpose', value: 'test' }],
      }),
    );
    expect(result.failures).toEqual([]);
    const task = result.tasks![0];
    expect(task).toMatchObject({
      clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/work`,
      taskDefinitionArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/job:1`,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      group: 'family:job',
      startedBy: 'e2e',
      cpu: '256',
      memory: '512',
      version: 1,
      overrides: { containerOverrides: [{ name: 'main', command: ['sleep', '1'] }] },
      attachments: [{ type: 'ElasticNetworkInterface', status: 'PRECREATED', details: [{ name: 'subnetId', value: 'subnet-local' }] }],
    });
    expect(task.taskArn).toMatch(new RegExp(`^arn:aws:ecs:us-east-1:${ACCOUNT}:task/work/[0-9a-f]{32}$`));
    expect(task.containers?.map((c) => [c.name, c.lastStatus, c.taskArn])).toEqual([
      ['main', 'PENDING', task.taskArn],
      ['sidecar', 'PENDING', task.taskArn],
    ]);
    expect(task.createdAt).toBeInstanceOf(Date);
  });

  it('spreads count over the cluster default strategy: base first, then by weight', async () => {
    const result = await berth.ecs().send(
      new RunTaskCommand({ cluster: 'work', taskDefinition: 'job', count: 8, networkConfiguration: FARGATE_NETWORK }),
    );
    const providers = result.tasks!.map((t) => t.capacityProviderName);
    expect(providers.filter((p) => p === 'FARGATE')).toHaveLength(3);
    expect(providers.filter((p) => p === 'FARGATE_SPOT')).toHaveLength(5);
    expect(new Set(result.tasks!.map((t) => t.launchType))).toEqual(new Set(['FARGATE']));
  });

  it('counts pending tasks on the cluster', async () => {
    const described = await berth.ecs().send(new DescribeClustersCommand({ clusters: ['work'], include: ['STATISTICS'] }));
    expect(described.clusters?.[0].pendingTasksCount).toBe(9);
    expect(described.clusters?.[0].statistics).toContainEqual({ name: 'pendingFargateTasksCount', value: '9' });
  });

  it('honours clientToken: the same request returns the same tasks, another request conflicts', async () => {
    const ecs = berth.ecs();
    const request = { cluster: 'work', taskDefinition: 'ec2job', launchType: 'EC2' as const, count: 2, clientToken: 'token-1' };
    const first = await ecs.send(new RunTaskCommand(request));
    const again = await ecs.send(new RunTaskCommand(request));
    expect(again.tasks?.map((t) => t.taskArn)).toEqual(first.tasks?.map((t) => t.taskArn));
    await expect(ecs.send(new RunTaskCommand({ ...request, count: 3 }))).rejects.toMatchObject({ name: 'ConflictException' });
  });

  it('lists tasks by filter and describes them, with MISSING failures for unknown ids', async () => {
    const ecs = berth.ecs();
    const run = await ecs.send(
      new RunTaskCommand({ cluster: 'work', taskDefinition: 'ec2job', launchType: 'EC2', startedBy: 'lister', count: 3 }),
    );
    const arns = run.tasks!.map((t) => t.taskArn!).sort();
    const listed = await ecs.send(new ListTasksCommand({ cluster: 'work', startedBy: 'lister' }));
    expect(listed.taskArns?.sort()).toEqual(arns);
    expect((await ecs.send(new ListTasksCommand({ cluster: 'work', launchType: 'EC2', family: 'ec2job', startedBy: 'lister' }))).taskArns).toHaveLength(3);
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: 'work', tasks: [arns[0], arns[1].split('/').pop()!, 'ffffffffffffffffffffffffffffffff'] }),
    );
    expect(described.tasks?.map((t) => t.taskArn).sort()).toEqual([arns[0], arns[1]].sort());
    expect(described.failures).toEqual([
      { arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task/work/ffffffffffffffffffffffffffffffff`, reason: 'MISSING' },
    ]);
    expect(described.tasks?.[0].tags).toBeUndefined();
  });

  it('StopTask sets desiredStatus STOPPED with UserInitiated; lastStatus follows later', async () => {
    const ecs = berth.ecs();
    const run = await ecs.send(new RunTaskCommand({ cluster: 'work', taskDefinition: 'ec2job', launchType: 'EC2', startedBy: 'stopper' }));
    const taskArn = run.tasks![0].taskArn!;
    const stopped = await ecs.send(new StopTaskCommand({ cluster: 'work', task: taskArn, reason: 'done testing' }));
    expect(stopped.task).toMatchObject({
      desiredStatus: 'STOPPED',
      lastStatus: 'PROVISIONING',
      stopCode: 'UserInitiated',
      stoppedReason: 'done testing',
      version: 2,
    });
    const again = await ecs.send(new StopTaskCommand({ cluster: 'work', task: taskArn, reason: 'second' }));
    expect(again.task).toMatchObject({ stoppedReason: 'done testing', version: 2 });
    expect((await ecs.send(new ListTasksCommand({ cluster: 'work', startedBy: 'stopper' }))).taskArns).toEqual([]);
    expect(
      (await ecs.send(new ListTasksCommand({ cluster: 'work', startedBy: 'stopper', desiredStatus: 'STOPPED' }))).taskArns,
    ).toEqual([taskArn]);
  });

  it('pages ListTasks with tokens bound to the cluster', async () => {
    const ecs = berth.ecs();
    await ecs.send(new RunTaskCommand({ cluster: 'work', taskDefinition: 'ec2job', launchType: 'EC2', startedBy: 'pager', count: 5 }));
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(new ListTasksCommand({ cluster: 'work', startedBy: 'pager', maxResults: 2, nextToken }));
      seen.push(...page.taskArns!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(new Set(seen).size).toBe(5);
    await ecs.send(new CreateClusterCommand({ clusterName: 'other' }));
    const page = await ecs.send(new ListTasksCommand({ cluster: 'work', maxResults: 1 }));
    await expect(ecs.send(new ListTasksCommand({ cluster: 'other', nextToken: page.nextToken }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('tags clusters, tasks and task definitions', async () => {
    const ecs = berth.ecs();
    const run = await ecs.send(new RunTaskCommand({ cluster: 'work', taskDefinition: 'ec2job', launchType: 'EC2' }));
    for (const resourceArn of [
      `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/work`,
      run.tasks![0].taskArn!,
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/job:1`,
    ]) {
      await ecs.send(new TagResourceCommand({ resourceArn, tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] }));
      await ecs.send(new TagResourceCommand({ resourceArn, tags: [{ key: 'a', value: '3' }] }));
      await ecs.send(new UntagResourceCommand({ resourceArn, tagKeys: ['b'] }));
      expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toEqual([{ key: 'a', value: '3' }]);
    }
  });

  it('refuses to delete a cluster with active tasks', async () => {
    // Fargate tasks, no container instance: the task is what holds the cluster.
    const ecs = berth.ecs();
    await ecs.send(new CreateClusterCommand({ clusterName: 'tasks-only' }));
    await ecs.send(new RunTaskCommand({ cluster: 'tasks-only', taskDefinition: 'job', launchType: 'FARGATE', networkConfiguration: FARGATE_NETWORK }));
    await expect(ecs.send(new DeleteClusterCommand({ cluster: 'tasks-only' }))).rejects.toMatchObject({
      name: 'ClusterContainsTasksException',
    });
  });
});

describe('stopped tasks after their retention', () => {
  it('show as DELETED in DescribeTasks and in no list', async () => {
    let now = Date.now();
    const aged = await startHarness({ clock: () => now, retention: { stoppedTaskMs: 60_000 } });
    try {
      const ecs = aged.ecs();
      await ecs.send(new CreateClusterCommand({ clusterName: 'aging' }));
      await registerHost(ecs, 'aging');
      await ecs.send(
        new RegisterTaskDefinitionCommand({ family: 'brief', containerDefinitions: [{ name: 'main', image: 'busybox', memory: 64 }] }),
      );
      const taskArn = (await ecs.send(new RunTaskCommand({ cluster: 'aging', taskDefinition: 'brief', launchType: 'EC2' }))).tasks![0]
        .taskArn!;
      await ecs.send(new StopTaskCommand({ cluster: 'aging', task: taskArn }));
      // The engine (no agent needed: the task never started) walks it to STOPPED.
      const { advanceTask } = await import('../../src/app/task-engine');
      const stored = await aged.context.tasks.get(`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/aging`, taskArn.split('/').pop()!);
      expect(await advanceTask(aged.context, stored!)).toBe('advanced');
      const describe = async () => (await ecs.send(new DescribeTasksCommand({ cluster: 'aging', tasks: [taskArn] }))).tasks![0];
      expect((await describe()).lastStatus).toBe('STOPPED');
      const listed = () => ecs.send(new ListTasksCommand({ cluster: 'aging', desiredStatus: 'STOPPED' }));
      expect((await listed()).taskArns).toEqual([taskArn]);
      // Tagging a stopped task rewrites its item: the TTL must survive it.
      await ecs.send(new TagResourceCommand({ resourceArn: taskArn, tags: [{ key: 'after', value: 'stop' }] }));
      const doc = createLocalDocumentClient(inject('dynamoDbEndpoint'));
      const raw = await doc.send(
        new GetCommand({ TableName: aged.tableName, Key: { pk: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/aging`, sk: `TASK#${taskArn.split('/').pop()}` } }),
      );
      doc.destroy();
      expect(raw.Item?.expiresAt).toBe(Math.floor((now + 60_000) / 1000));
      now += 61_000;
      expect((await describe()).lastStatus).toBe('DELETED');
      expect((await listed()).taskArns).toEqual([]);
    } finally {
      await aged.close();
    }
  });
});
