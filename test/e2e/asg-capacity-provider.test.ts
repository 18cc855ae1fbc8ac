/**
 * An Auto Scaling group capacity provider end to end, in one local runtime (DynamoDB Local, the stream,
 * the sweep, real agents running real processes), driven through the real ECS SDK: the provider's
 * tasks (RunTask's and a service's) wait while the cluster has only a plain container instance with
 * plenty of room, then run on the instance that joins with the provider; CapacityProviderReservation,
 * in the log and in DescribeCapacityProviders' extension member, is 200 while they wait and 100 once
 * the provider's instance runs them.
 */
import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
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

const CLUSTER = 'scaling';
const PROVIDER = 'workers';
let local: LocalBerth;
const agents: BerthAgent[] = [];
const lines: string[] = [];

async function join_(capacityProvider?: string): Promise<string> {
  const agent = new BerthAgent({
    client: new ControlPlaneClient({ endpoint: local.berth.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    runtime: new ProcessRuntime({ rootDir: mkdtempSync(join(tmpdir(), 'berth-asg-')) }),
    cluster: CLUSTER,
    capacityProvider,
    resources: capacityProvider ? { cpu: 1024, memory: 1024 } : { cpu: 8192, memory: 16384 },
    availabilityZone: 'us-east-1a',
    pollWaitSeconds: 2,
  });
  agents.push(agent);
  return agent.start();
}

/** DescribeCapacityProviders as raw JSON: the SDK drops the Berth extension member. */
async function reservation(): Promise<number | undefined> {
  const response = await fetch(local.berth.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.DescribeCapacityProviders' },
    body: JSON.stringify({ capacityProviders: [PROVIDER] }),
  });
  const body = (await response.json()) as { capacityProviders: { managedScalingMetrics?: { capacityProviderReservation: number }[] }[] };
  return body.capacityProviders[0]?.managedScalingMetrics?.[0]?.capacityProviderReservation;
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  local = await startLocalBerth({ agent: false, logger: { info: (...args: unknown[]) => lines.push(args.join(' ')), warn() {}, error: console.error } });
  await local.ecs.send(
    new CreateCapacityProviderCommand({
      name: PROVIDER,
      autoScalingGroupProvider: {
        autoScalingGroupArn: 'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:autoScalingGroupName/workers',
        managedScaling: { status: 'ENABLED', targetCapacity: 100 },
      },
    }),
  );
  await local.ecs.send(
    new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: [PROVIDER], defaultCapacityProviderStrategy: [{ capacityProvider: PROVIDER, weight: 1 }] }),
  );
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'work',
      containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 256, memory: 256, command: ['sleep', '60'], stopTimeout: 1 }],
    }),
  );
  // A plain container instance with room for everything: EC2 capacity, but not the provider's.
  await join_();
}, 120_000);
afterAll(async () => {
  for (const agent of agents) await agent.stop({ stopContainers: true });
  await local?.close();
});

describe('an Auto Scaling group capacity provider', () => {
  it("its tasks wait (reservation 200) until an instance joins with the provider, then run there (reservation 100)", async () => {
    const { tasks } = await local.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'work' }));
    const taskArn = tasks![0].taskArn!;
    expect(tasks![0]).toMatchObject({ capacityProviderName: PROVIDER, launchType: 'EC2' });
    await local.ecs.send(
      new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'web', taskDefinition: 'work', desiredCount: 1 }),
    );

    // Waiting: measured by the sweep, logged, and shown by DescribeCapacityProviders.
    expect(await until(reservation, (value) => value === 200, 'a reservation of 200')).toBe(200);
    expect(lines.some((line) => line.includes(`Capacity provider ${PROVIDER} in cluster ${CLUSTER}: CapacityProviderReservation 200`))).toBe(true);
    const waiting = (await local.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }))).tasks![0];
    expect(waiting.lastStatus).not.toBe('RUNNING');
    expect(waiting.containerInstanceArn).toBeUndefined();

    const worker = await join_(PROVIDER);
    const running = await local.waitForTask(CLUSTER, taskArn, (t) => t.lastStatus === 'RUNNING');
    expect(running.containerInstanceArn).toBe(worker);
    const serviceTask = await until(
      async () => (await local.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: 'web' }))).taskArns ?? [],
      (arns) => arns.length === 1,
      "the service's task",
    );
    const servicePlaced = await local.waitForTask(CLUSTER, serviceTask[0], (t) => t.lastStatus === 'RUNNING');
    expect(servicePlaced).toMatchObject({ containerInstanceArn: worker, capacityProviderName: PROVIDER });

    expect(await until(reservation, (value) => value === 100, 'a reservation of 100')).toBe(100);
    expect(lines.some((line) => line.includes(`CapacityProviderReservation 100 (1 instance(s), 1 with tasks, 0 task(s) waiting)`))).toBe(true);

    await local.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'web', force: true }));
    await local.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    await local.waitForTask(CLUSTER, taskArn, (t) => t.lastStatus === 'STOPPED');
  }, 120_000);
});
