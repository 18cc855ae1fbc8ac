/**
 * RunTask for tasks that cannot be placed, through the ECS SDK on DynamoDB Local: EC2 tasks are placed
 * at once or answered with failures[] (and nothing is created or reserved for them); a task size no
 * Fargate host can have is refused at once.
 */
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';

let berth: Harness;
let clusters = 0;
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };

beforeAll(async () => {
  berth = await startHarness();
  const ecs = berth.ecs();
  // 256 CPU units and 512 MiB per task, from the container definition (EC2 tasks sum their containers).
  await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'small', containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 256, memory: 512 }] }),
  );
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox' }],
    }),
  );
});
afterAll(() => berth.close());

/** A fresh cluster, optionally with one host of the given size (no agent behind it). */
async function cluster(host?: { cpu: number; memory: number }): Promise<{ name: string; hostArn?: string }> {
  const name = `c${++clusters}`;
  await berth.ecs().send(new CreateClusterCommand({ clusterName: name }));
  return { name, hostArn: host ? await registerHost(berth.ecs(), name, host) : undefined };
}

async function taskCount(name: string) {
  return (await berth.ecs().send(new ListTasksCommand({ cluster: name }))).taskArns!.length;
}

async function hostState(name: string, hostArn: string) {
  const instance = (await berth.ecs().send(new DescribeContainerInstancesCommand({ cluster: name, containerInstances: [hostArn] })))
    .containerInstances![0];
  const value = (resource: string) => instance.remainingResources!.find((r) => r.name === resource)!.integerValue;
  return { cpu: value('CPU'), memory: value('MEMORY'), pending: instance.pendingTasksCount };
}

describe('RunTask with launch type EC2: placed at once, or failures[] and nothing created', () => {
  it('a cluster without container instances: InvalidParameterException, as ECS answers', async () => {
    const { name } = await cluster();
    await expect(berth.ecs().send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', launchType: 'EC2' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'No Container Instances were found in your cluster.',
    });
    expect(await taskCount(name)).toBe(0);
  });

  it.each([
    { name: 'RESOURCE:CPU: the host has too little cpu', host: { cpu: 128, memory: 4096 }, overrides: undefined, reason: 'RESOURCE:CPU' },
    { name: 'RESOURCE:MEMORY: the host has too little memory', host: { cpu: 4096, memory: 256 }, overrides: undefined, reason: 'RESOURCE:MEMORY' },
    { name: 'RESOURCE:CPU: a cpu override above every host', host: { cpu: 4096, memory: 4096 }, overrides: { cpu: '99999' }, reason: 'RESOURCE:CPU' },
    { name: 'RESOURCE:MEMORY: a memory override above every host', host: { cpu: 4096, memory: 4096 }, overrides: { memory: '8192' }, reason: 'RESOURCE:MEMORY' },
  ])('$name: one failure naming the host, no task, nothing reserved', async ({ host, overrides, reason }) => {
    const { name, hostArn } = await cluster(host);
    const result = await berth.ecs().send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', launchType: 'EC2', overrides }));
    expect(result.tasks).toEqual([]);
    expect(result.failures).toEqual([{ arn: hostArn, reason, detail: expect.any(String) }]);
    expect(await taskCount(name)).toBe(0);
    expect(await hostState(name, hostArn!)).toEqual({ ...host, pending: 0 });
    const described = await berth.ecs().send(new DescribeClustersCommand({ clusters: [name] }));
    expect(described.clusters![0].pendingTasksCount).toBe(0);
  });

  it('MISSING when every container instance is DRAINING', async () => {
    const { name, hostArn } = await cluster({ cpu: 4096, memory: 4096 });
    await berth.ecs().send(new UpdateContainerInstancesStateCommand({ cluster: name, containerInstances: [hostArn!], status: 'DRAINING' }));
    const result = await berth.ecs().send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', launchType: 'EC2' }));
    expect(result.tasks).toEqual([]);
    expect(result.failures).toEqual([{ reason: 'MISSING', detail: expect.stringContaining('EC2') }]);
    expect(await taskCount(name)).toBe(0);
  });

  it('count 5 where 3 fit: 3 tasks placed on the host, 2 failures, exactly 3 shares reserved', async () => {
    const { name, hostArn } = await cluster({ cpu: 768, memory: 4096 });
    const result = await berth.ecs().send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', launchType: 'EC2', count: 5 }));
    expect(result.tasks).toHaveLength(3);
    expect(result.tasks!.every((t) => t.containerInstanceArn === hostArn && t.availabilityZone === 'us-east-1a')).toBe(true);
    expect(result.failures).toEqual([
      { arn: hostArn, reason: 'RESOURCE:CPU', detail: expect.any(String) },
      { arn: hostArn, reason: 'RESOURCE:CPU', detail: expect.any(String) },
    ]);
    expect(await taskCount(name)).toBe(3);
    expect(await hostState(name, hostArn!)).toEqual({ cpu: 0, memory: 4096 - 3 * 512, pending: 3 });
    // The agent's to-do list has exactly the placed tasks.
    expect((await berth.context.tasks.assignedTo(hostArn!)).map((a) => a.taskId).sort()).toEqual(
      result.tasks!.map((t) => t.taskArn!.split('/').pop()).sort(),
    );
  });

  it('racing RunTasks never overcommit a host: 2 x count 3 on room for 4 creates 4 and fails 2', async () => {
    const { name, hostArn } = await cluster({ cpu: 1024, memory: 8192 });
    const run = () => berth.ecs().send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', launchType: 'EC2', count: 3 }));
    const results = await Promise.all([run(), run()]);
    expect(results.flatMap((r) => r.tasks!)).toHaveLength(4);
    expect(results.flatMap((r) => r.failures!).map((f) => f.reason)).toEqual(['RESOURCE:CPU', 'RESOURCE:CPU']);
    expect(await taskCount(name)).toBe(4);
    expect(await hostState(name, hostArn!)).toEqual({ cpu: 0, memory: 8192 - 4 * 512, pending: 4 });
  });

  it('places over several hosts, spreading across zones', async () => {
    const { name } = await cluster();
    const a = await registerHost(berth.ecs(), name, { cpu: 1024, memory: 4096 }, 'us-east-1a');
    const b = await registerHost(berth.ecs(), name, { cpu: 1024, memory: 4096 }, 'us-east-1b');
    const result = await berth.ecs().send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', launchType: 'EC2', count: 4 }));
    expect(result.failures).toEqual([]);
    const perHost = (arn: string) => result.tasks!.filter((t) => t.containerInstanceArn === arn).length;
    expect([perHost(a), perHost(b)]).toEqual([2, 2]);
  });
});

describe('RunTask on Fargate with a task size no Fargate host has', () => {
  it.each([
    { name: 'cpu 99999', overrides: { cpu: '99999' }, message: 'No Fargate configuration exists for given values: 99999 CPU, 512 memory.' },
    { name: 'memory not allowed with the cpu', overrides: { memory: '4096' }, message: 'No Fargate configuration exists for given values: 256 CPU, 4096 memory.' },
    { name: 'cpu that does not parse', overrides: { cpu: 'lots' }, message: "Invalid 'cpu' setting for task." },
  ])('$name: ClientException at once, nothing created', async ({ overrides, message }) => {
    const { name } = await cluster();
    await expect(
      berth.ecs().send(new RunTaskCommand({ cluster: name, taskDefinition: 'web', launchType: 'FARGATE', networkConfiguration: NETWORK, overrides })),
    ).rejects.toMatchObject({ name: 'ClientException', message });
    expect(await taskCount(name)).toBe(0);
  });

  it('a valid larger size is accepted (16 vCPU / 120 GiB)', async () => {
    const { name } = await cluster();
    const result = await berth.ecs().send(
      new RunTaskCommand({
        cluster: name,
        taskDefinition: 'web',
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        overrides: { cpu: '16384', memory: '122880' },
      }),
    );
    expect(result.tasks![0]).toMatchObject({ cpu: '16384', memory: '122880', lastStatus: 'PROVISIONING' });
  });
});
