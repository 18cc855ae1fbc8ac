/**
 * REPLICA services end to end in local mode: the real ECS SDK against an in-process local Berth whose
 * service loop runs scheduler passes, the stream-driven engine places and starts the tasks, and the
 * embedded agent runs them as OS processes (Fargate). Counts are small and waits poll, so each test
 * stays well inside its timeout on a loaded machine.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

const CLUSTER = 'svc';
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
const WAIT = { minDelay: 1, maxDelay: 1, maxWaitTime: 25 };
let local: LocalBerth;

beforeAll(async () => {
  local = await startLocalBerth();
  await local.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  for (const marker of ['one', 'two']) {
    await local.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'web',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        // The revision's marker shows which deployment a process belongs to; sleep dies on SIGTERM.
        containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sh', '-c', `exec sleep 300 # ${marker}`] }],
      }),
    );
  }
}, 60_000);
afterAll(async () => {
  await local?.close();
});

const ecs = () => local.ecs;
const describeService = async (name: string): Promise<Service> =>
  (await ecs().send(new DescribeServicesCommand({ cluster: CLUSTER, services: [name] }))).services![0];

async function serviceTasks(name: string, desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING'): Promise<Task[]> {
  const { taskArns } = await ecs().send(new ListTasksCommand({ cluster: CLUSTER, serviceName: name, desiredStatus }));
  if (!taskArns?.length) return [];
  return (await ecs().send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns }))).tasks!;
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 25_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value, null, 1).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const running = (tasks: Task[]) => tasks.filter((t) => t.lastStatus === 'RUNNING');
const create = (serviceName: string, desiredCount: number, extra: Record<string, unknown> = {}) =>
  ecs().send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName,
      taskDefinition: 'web:1',
      desiredCount,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
      ...extra,
    }),
  );

describe('a REPLICA service in local mode', () => {
  it('reaches desiredCount RUNNING tasks of group service:<name> and the services-stable waiter returns', async () => {
    const { service } = await create('web', 2);
    const deploymentId = service!.deployments![0].id!;
    const result = await waitUntilServicesStable({ client: ecs(), ...WAIT }, { cluster: CLUSTER, services: ['web'] });
    expect(result.state).toBe('SUCCESS');
    const tasks = await serviceTasks('web');
    expect(running(tasks)).toHaveLength(2);
    for (const task of tasks) expect(task).toMatchObject({ group: 'service:web', startedBy: deploymentId, launchType: 'FARGATE' });
    const described = await until(() => describeService('web'), (s) => s.deployments![0].rolloutState === 'COMPLETED', 'rollout COMPLETED');
    expect(described).toMatchObject({ runningCount: 2, pendingCount: 0, desiredCount: 2 });
    const messages = described.events!.map((e) => e.message);
    expect(messages[0]).toBe('(service web) has reached a steady state.');
    expect(messages).toContain(`(service web) (deployment ${deploymentId}) deployment completed.`);
    expect(messages.some((m) => /^\(service web\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/.test(m!))).toBe(true);
  });

  it('scales the stable service up to 3', async () => {
    const { service } = await ecs().send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', desiredCount: 3 }));
    expect(service!.deployments).toHaveLength(1);
    await until(async () => running(await serviceTasks('web')), (t) => t.length === 3, '3 RUNNING');
    await waitUntilServicesStable({ client: ecs(), ...WAIT }, { cluster: CLUSTER, services: ['web'] });
    expect((await describeService('web')).events!.some((e) => /^\(service web\) has started 1 tasks: /.test(e.message!))).toBe(true);
  });

  it('scales it down to 1, stopping 2 tasks with ServiceSchedulerInitiated and the scaling reason', async () => {
    const { service } = await ecs().send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', desiredCount: 1 }));
    expect(service!.deployments).toHaveLength(1);
    const stopped = await until(
      async () => (await serviceTasks('web', 'STOPPED')).filter((t) => t.lastStatus === 'STOPPED'),
      (t) => t.length === 2,
      '2 STOPPED',
    );
    for (const task of stopped) {
      expect(task.stopCode).toBe('ServiceSchedulerInitiated');
      expect(task.stoppedReason).toBe(`Scaling activity initiated by (deployment ${service!.deployments![0].id})`);
    }
    expect(running(await serviceTasks('web'))).toHaveLength(1);
    const described = await until(() => describeService('web'), (s) => s.runningCount === 1, 'runningCount 1');
    expect(described.events!.some((e) => /^\(service web\) has stopped 2 running tasks: /.test(e.message!))).toBe(true);
  });

  it('replaces a task that was stopped (StopTask)', async () => {
    await create('heal', 2);
    await waitUntilServicesStable({ client: ecs(), ...WAIT }, { cluster: CLUSTER, services: ['heal'] });
    const [victim, survivor] = running(await serviceTasks('heal'));
    await ecs().send(new StopTaskCommand({ cluster: CLUSTER, task: victim.taskArn!, reason: 'chaos' }));
    const replaced = await until(
      async () => running(await serviceTasks('heal')),
      (t) => t.length === 2 && !t.some((x) => x.taskArn === victim.taskArn),
      'a replacement RUNNING',
    );
    expect(replaced.map((t) => t.taskArn)).toContain(survivor.taskArn);
    const { tasks } = await ecs().send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [victim.taskArn!] }));
    expect(tasks![0]).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'chaos' });
  });
});
