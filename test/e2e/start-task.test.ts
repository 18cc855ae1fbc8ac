/**
 * StartTask end to end: two agents join one cluster as EC2 container instances, and a task started
 * through the real ECS SDK runs on exactly the instance it names (never the other, though the other
 * has more room), with RunTask's lifecycle, events and capacity reservation; instances that cannot
 * take a task answer failures[] and get nothing.
 */
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  StopTaskCommand,
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
const agents: BerthAgent[] = [];
/** small: 1024 CPU / 512 MiB in us-east-1a; large: 4096 CPU / 4096 MiB in us-east-1b. */
let small: string;
let large: string;

const remaining = (resources: { name?: string; integerValue?: number }[] | undefined, name: string) =>
  resources?.find((r) => r.name === name)?.integerValue;

async function join_(resources: { cpu: number; memory: number }, availabilityZone: string): Promise<string> {
  const agent = new BerthAgent({
    client: new ControlPlaneClient({ endpoint: local.berth.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    runtime: new ProcessRuntime({ rootDir: mkdtempSync(join(tmpdir(), 'berth-start-')) }),
    cluster: 'custom',
    resources,
    availabilityZone,
    pollWaitSeconds: 2,
  });
  agents.push(agent);
  return agent.start();
}

async function host(arn: string) {
  const instance = (await local.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'custom', containerInstances: [arn] })))
    .containerInstances![0];
  return { cpu: remaining(instance.remainingResources, 'CPU'), memory: remaining(instance.remainingResources, 'MEMORY'), running: instance.runningTasksCount };
}

beforeAll(async () => {
  local = await startLocalBerth({ agent: false });
  await local.ecs.send(new CreateClusterCommand({ clusterName: 'custom' }));
  small = await join_({ cpu: 1024, memory: 512 }, 'us-east-1a');
  large = await join_({ cpu: 4096, memory: 4096 }, 'us-east-1b');
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'job',
      containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 256, memory: 384, command: ['sleep', '30'], stopTimeout: 1 }],
    }),
  );
}, 60_000);
afterAll(async () => {
  for (const agent of agents) await agent.stop({ stopContainers: true });
  await local?.close();
});

describe('StartTask on named container instances', () => {
  it('runs the task on exactly the named instance, through the whole lifecycle, and gives its share back on stop', async () => {
    // The small host: RunTask's placement would pick the roomier one, StartTask must not.
    const { tasks, failures } = await local.ecs.send(
      new StartTaskCommand({ cluster: 'custom', taskDefinition: 'job', containerInstances: [small], startedBy: 'my-scheduler' }),
    );
    expect(failures).toEqual([]);
    expect(tasks).toHaveLength(1);
    expect(tasks![0]).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      launchType: 'EC2',
      containerInstanceArn: small,
      availabilityZone: 'us-east-1a',
      startedBy: 'my-scheduler',
      group: 'family:job',
    });
    expect(tasks![0].tags).toBeUndefined();
    const taskArn = tasks![0].taskArn!;
    const running = await local.waitForTask('custom', taskArn, (t) => t.lastStatus === 'RUNNING');
    expect(running.containerInstanceArn).toBe(small);
    expect(running.containers?.[0]).toMatchObject({ lastStatus: 'RUNNING', runtimeId: expect.any(String) });
    expect(await host(small)).toEqual({ cpu: 1024 - 256, memory: 512 - 384, running: 1 });
    expect(await host(large)).toEqual({ cpu: 4096, memory: 4096, running: 0 });
    expect((await local.ecs.send(new ListTasksCommand({ cluster: 'custom', containerInstance: small }))).taskArns).toEqual([taskArn]);
    expect((await local.ecs.send(new ListTasksCommand({ cluster: 'custom', containerInstance: large }))).taskArns).toEqual([]);

    await local.ecs.send(new StopTaskCommand({ cluster: 'custom', task: taskArn }));
    await local.waitForTask('custom', taskArn, (t) => t.lastStatus === 'STOPPED');
    await local.waitForEvent((e) => e.resources[0] === taskArn && e.detail.lastStatus === 'STOPPED');
    expect(local.taskEvents(taskArn).map((e) => e.lastStatus)).toEqual(
      expect.arrayContaining(['PROVISIONING', 'PENDING', 'RUNNING', 'STOPPED']),
    );
    expect(local.taskEvents(taskArn).every((e) => e.containerInstanceArn === small)).toBe(true);
    expect(await host(small)).toEqual({ cpu: 1024, memory: 512, running: 0 });
  });

  it('one task per named instance; an instance without room, an unknown one and a malformed one answer failures[] and get nothing', async () => {
    const unknown = small.replace(/[0-9a-f]{32}$/, '0'.repeat(32));
    const { tasks, failures } = await local.ecs.send(
      new StartTaskCommand({
        cluster: 'custom',
        taskDefinition: 'job',
        // The small host takes one 384 MiB task, not two.
        containerInstances: [large, small, small, unknown, 'not-an-id'],
      }),
    );
    expect(tasks!.map((t) => t.containerInstanceArn)).toEqual([large, small]);
    expect(failures).toEqual([
      { arn: small, reason: 'RESOURCE:MEMORY', detail: expect.stringContaining('384 MiB') },
      { arn: unknown, reason: 'MISSING' },
      { arn: 'not-an-id', reason: 'MISSING' },
    ]);
    const runningOn = await Promise.all(
      tasks!.map((t) => local.waitForTask('custom', t.taskArn!, (task) => task.lastStatus === 'RUNNING')),
    );
    expect(runningOn.map((t) => t.containerInstanceArn)).toEqual([large, small]);
    expect(await host(small)).toMatchObject({ memory: 512 - 384, running: 1 });
    expect(await host(large)).toMatchObject({ memory: 4096 - 384, running: 1 });
    for (const task of tasks!) await local.ecs.send(new StopTaskCommand({ cluster: 'custom', task: task.taskArn! }));
    for (const task of tasks!) await local.waitForTask('custom', task.taskArn!, (t) => t.lastStatus === 'STOPPED');
  });

  it('nothing fits: no task is created and nothing is reserved', async () => {
    await local.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'huge', containerDefinitions: [{ name: 'main', image: 'busybox', memory: 8192 }] }),
    );
    const before = await host(large);
    const { tasks, failures } = await local.ecs.send(
      new StartTaskCommand({ cluster: 'custom', taskDefinition: 'huge', containerInstances: [small, large] }),
    );
    expect(tasks).toEqual([]);
    expect(failures!.map((f) => [f.arn, f.reason])).toEqual([
      [small, 'RESOURCE:MEMORY'],
      [large, 'RESOURCE:MEMORY'],
    ]);
    expect((await local.ecs.send(new ListTasksCommand({ cluster: 'custom', family: 'huge' }))).taskArns).toEqual([]);
    expect(await host(large)).toEqual(before);
  });
});
