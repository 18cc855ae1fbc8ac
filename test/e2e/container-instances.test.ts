/**
 * Container instances end to end: a second agent joins a cluster as an EC2 container instance, an EC2
 * task is placed on it and runs there, capacity is reserved and given back, and the agent operations
 * (describe, list, drain, deregister) answer as ECS does.
 */
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeregisterContainerInstanceCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthAgent } from '../../src/agent/agent';
import { ControlPlaneClient } from '../../src/agent/control-plane-client';
import { ProcessRuntime } from '../../src/agent/process-runtime';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

let local: LocalBerth;
let agent: BerthAgent;
let instanceArn: string;

const remaining = (resources: { name?: string; integerValue?: number }[] | undefined, name: string) =>
  resources?.find((r) => r.name === name)?.integerValue;

beforeAll(async () => {
  local = await startLocalBerth({ agent: false });
  await local.ecs.send(new CreateClusterCommand({ clusterName: 'ec2' }));
  agent = new BerthAgent({
    client: new ControlPlaneClient({
      endpoint: local.berth.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
    runtime: new ProcessRuntime({ rootDir: mkdtempSync(join(tmpdir(), 'berth-ec2-')) }),
    cluster: 'ec2',
    resources: { cpu: 2048, memory: 1024 },
    availabilityZone: 'us-east-1b',
    pollWaitSeconds: 2,
  });
  instanceArn = await agent.start();
}, 60_000);
afterAll(async () => {
  await agent?.stop({ stopContainers: true });
  await local?.close();
});

describe('an agent as an EC2 container instance', () => {
  it('registers in the cluster with its resources and attributes', async () => {
    expect(instanceArn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:container-instance\/ec2\/[0-9a-f]{32}$/);
    const { containerInstances } = await local.ecs.send(
      new DescribeContainerInstancesCommand({ cluster: 'ec2', containerInstances: [instanceArn] }),
    );
    expect(containerInstances?.[0]).toMatchObject({ status: 'ACTIVE', agentConnected: true, runningTasksCount: 0 });
    expect(remaining(containerInstances?.[0].registeredResources, 'MEMORY')).toBe(1024);
    expect(containerInstances?.[0].attributes).toContainEqual({ name: 'ecs.availability-zone', value: 'us-east-1b' });
    expect((await local.ecs.send(new ListContainerInstancesCommand({ cluster: 'ec2' }))).containerInstanceArns).toEqual([instanceArn]);
    const { clusters } = await local.ecs.send(new DescribeClustersCommand({ clusters: ['ec2'] }));
    expect(clusters?.[0].registeredContainerInstancesCount).toBe(1);
  });

  it('runs an EC2 task on it, holding its cpu and memory until the task stops', async () => {
    await local.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'ec2-job',
        containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 512, memory: 256, command: ['sleep', '30'], stopTimeout: 1 }],
      }),
    );
    const { tasks } = await local.ecs.send(new RunTaskCommand({ cluster: 'ec2', taskDefinition: 'ec2-job', launchType: 'EC2' }));
    const taskArn = tasks![0].taskArn!;
    const running = await local.waitForTask('ec2', taskArn, (t) => t.lastStatus === 'RUNNING');
    expect(running).toMatchObject({ containerInstanceArn: instanceArn, availabilityZone: 'us-east-1b', launchType: 'EC2' });

    const busy = (await local.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'ec2', containerInstances: [instanceArn] })))
      .containerInstances![0];
    expect(remaining(busy.remainingResources, 'CPU')).toBe(2048 - 512);
    expect(remaining(busy.remainingResources, 'MEMORY')).toBe(1024 - 256);
    expect(busy.runningTasksCount).toBe(1);
    await expect(
      local.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'ec2', containerInstance: instanceArn })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });

    await local.ecs.send(new StopTaskCommand({ cluster: 'ec2', task: taskArn }));
    await local.waitForTask('ec2', taskArn, (t) => t.lastStatus === 'STOPPED');
    const idle = (await local.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'ec2', containerInstances: [instanceArn] })))
      .containerInstances![0];
    expect(remaining(idle.remainingResources, 'CPU')).toBe(2048);
    expect(idle.runningTasksCount).toBe(0);
  });

  it('answers RESOURCE:MEMORY for a task no host has room for, creating nothing, and runs it once room appears', async () => {
    await local.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'too-big',
        containerDefinitions: [{ name: 'main', image: 'busybox', memory: 900, command: ['sleep', '30'], stopTimeout: 1 }],
      }),
    );
    const first = (await local.ecs.send(new RunTaskCommand({ cluster: 'ec2', taskDefinition: 'too-big', launchType: 'EC2' }))).tasks![0];
    await local.waitForTask('ec2', first.taskArn!, (t) => t.lastStatus === 'RUNNING');
    const refused = await local.ecs.send(new RunTaskCommand({ cluster: 'ec2', taskDefinition: 'too-big', launchType: 'EC2' }));
    expect(refused.tasks).toEqual([]);
    expect(refused.failures).toEqual([{ arn: instanceArn, reason: 'RESOURCE:MEMORY', detail: expect.stringContaining('900 MiB') }]);
    expect((await local.ecs.send(new ListTasksCommand({ cluster: 'ec2', family: 'too-big' }))).taskArns).toEqual([first.taskArn]);

    await local.ecs.send(new StopTaskCommand({ cluster: 'ec2', task: first.taskArn! }));
    await local.waitForTask('ec2', first.taskArn!, (t) => t.lastStatus === 'STOPPED');
    const second = (await local.ecs.send(new RunTaskCommand({ cluster: 'ec2', taskDefinition: 'too-big', launchType: 'EC2' }))).tasks![0];
    await local.waitForTask('ec2', second.taskArn!, (t) => t.lastStatus === 'RUNNING');
    await local.ecs.send(new StopTaskCommand({ cluster: 'ec2', task: second.taskArn! }));
    await local.waitForTask('ec2', second.taskArn!, (t) => t.lastStatus === 'STOPPED');
  });

  it('drains, lists by status, deregisters, and then lets the cluster go', async () => {
    const drained = await local.ecs.send(
      new UpdateContainerInstancesStateCommand({ cluster: 'ec2', containerInstances: [instanceArn], status: 'DRAINING' }),
    );
    expect(drained.containerInstances?.[0].status).toBe('DRAINING');
    expect((await local.ecs.send(new ListContainerInstancesCommand({ cluster: 'ec2', status: 'ACTIVE' }))).containerInstanceArns).toEqual([]);
    expect((await local.ecs.send(new ListContainerInstancesCommand({ cluster: 'ec2', status: 'DRAINING' }))).containerInstanceArns).toEqual([
      instanceArn,
    ]);
    await expect(local.ecs.send(new DeleteClusterCommand({ cluster: 'ec2' }))).rejects.toMatchObject({
      name: 'ClusterContainsContainerInstancesException',
    });
    const gone = await local.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'ec2', containerInstance: instanceArn }));
    expect(gone.containerInstance?.status).toBe('INACTIVE');
    expect((await local.ecs.send(new DeleteClusterCommand({ cluster: 'ec2' }))).cluster?.status).toBe('INACTIVE');
  });
});
