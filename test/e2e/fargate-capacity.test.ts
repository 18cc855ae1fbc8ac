/**
 * The embedded agent's Fargate capacity, end to end in a local runtime (DynamoDB Local, the stream
 * poller, real processes) with the ECS SDK: a virtual pool that takes any valid Fargate size, served in
 * every region a client uses, and tasks that wait for capacity past the bound stop with a reason.
 */
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
const SLEEPER = { name: 'main', image: 'busybox', command: ['sleep', '30'], stopTimeout: 1 };

async function fargateFamily(ecs: ECSClient, family: string, cpu: string, memory: string) {
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu,
      memory,
      containerDefinitions: [SLEEPER],
    }),
  );
}

describe('the default virtual Fargate pool', () => {
  let local: LocalBerth;
  beforeAll(async () => {
    local = await startLocalBerth();
  }, 120_000);
  afterAll(() => local?.close());

  it('runs a 16 vCPU / 120 GiB task, whatever this machine has', async () => {
    await local.ecs.send(new CreateClusterCommand({ clusterName: 'big' }));
    await fargateFamily(local.ecs, 'huge', '16384', '122880');
    const { tasks } = await local.ecs.send(
      new RunTaskCommand({ cluster: 'big', taskDefinition: 'huge', launchType: 'FARGATE', networkConfiguration: NETWORK }),
    );
    const running = await local.waitForTask('big', tasks![0].taskArn!, (t) => t.lastStatus === 'RUNNING');
    expect(running).toMatchObject({ cpu: '16384', memory: '122880' });
    await local.ecs.send(new StopTaskCommand({ cluster: 'big', task: tasks![0].taskArn! }));
    await local.waitForTask('big', tasks![0].taskArn!, (t) => t.lastStatus === 'STOPPED');
  });

  it('serves a client configured for eu-west-1: its Fargate task reaches RUNNING', async () => {
    const eu = new ECSClient({ endpoint: local.berth.url, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      await eu.send(new CreateClusterCommand({ clusterName: 'abroad' }));
      await fargateFamily(eu, 'abroad-job', '256', '512');
      const { tasks } = await eu.send(
        new RunTaskCommand({ cluster: 'abroad', taskDefinition: 'abroad-job', launchType: 'FARGATE', networkConfiguration: NETWORK }),
      );
      const taskArn = tasks![0].taskArn!;
      expect(taskArn).toMatch(/^arn:aws:ecs:eu-west-1:/);
      const deadline = Date.now() + 30_000;
      let task: Task | undefined;
      while (task?.lastStatus !== 'RUNNING' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        task = (await eu.send(new DescribeTasksCommand({ cluster: 'abroad', tasks: [taskArn] }))).tasks![0];
      }
      expect(task).toMatchObject({ lastStatus: 'RUNNING', availabilityZone: 'eu-west-1a' });
      await eu.send(new StopTaskCommand({ cluster: 'abroad', task: taskArn }));
    } finally {
      eu.destroy();
    }
  });
});

describe('a task waiting for capacity past the bound', () => {
  let local: LocalBerth;
  const lines: string[] = [];
  beforeAll(async () => {
    local = await startLocalBerth({
      fargatePool: { cpu: 1024, memory: 2048 },
      capacityWaitMs: 1_000,
      logger: { info: (line: string) => lines.push(line), warn() {}, error: console.error },
    });
  }, 120_000);
  afterAll(() => local?.close());

  it('is logged once as waiting, then stops with TaskFailedToStart naming the missing resource', async () => {
    await local.ecs.send(new CreateClusterCommand({ clusterName: 'scarce' }));
    await local.ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: 'scarce',
        capacityProviders: ['FARGATE'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
      }),
    );
    await fargateFamily(local.ecs, 'wide', '4096', '8192');
    const { tasks, failures } = await local.ecs.send(
      new RunTaskCommand({ cluster: 'scarce', taskDefinition: 'wide', networkConfiguration: NETWORK }),
    );
    expect(failures).toEqual([]);
    const taskArn = tasks![0].taskArn!;
    const stopped = await local.waitForTask('scarce', taskArn, (t) => t.lastStatus === 'STOPPED', 60_000);
    expect(stopped).toMatchObject({ stopCode: 'TaskFailedToStart', capacityProviderName: 'FARGATE' });
    expect(stopped.stoppedReason).toMatch(/^Capacity is unavailable at this time\. .*\(RESOURCE:CPU: The task needs 4096 CPU units/);
    expect(lines.filter((line) => line.includes(taskArn) && line.includes('is waiting for FARGATE capacity'))).toHaveLength(1);
  });
});
