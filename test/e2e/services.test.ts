/**
 * REPLICA services end to end in local mode: the real ECS SDK against an in-process local Berth whose
 * service loop runs scheduler passes, the stream-driven engine places and starts the tasks, and the
 * embedded agent runs them as OS processes (Fargate). Counts are small and waits poll, so each test
 * stays well inside its timeout on a loaded machine.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  waitUntilServicesInactive,
  waitUntilServicesStable,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BerthEvent } from '../../src/app/event-publisher';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

const CLUSTER = 'svc';
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
const WAIT = { minDelay: 1, maxDelay: 1, maxWaitTime: 25 };
let local: LocalBerth;
/** Where a local rule (docs/events.md's pattern for deployment events) appends what it matched. */
let matchedDeployments: string;

beforeAll(async () => {
  local = await startLocalBerth();
  const { rulesFile } = local.berth.events;
  matchedDeployments = join(dirname(rulesFile!), 'matched-deployments.jsonl');
  writeFileSync(
    rulesFile!,
    JSON.stringify({
      rules: [
        {
          name: 'deployments',
          eventPattern: { source: ['berth.ecs'], 'detail-type': ['ECS Deployment State Change'] },
          targets: [{ type: 'command', command: ['sh', '-c', `cat >> '${matchedDeployments}'`] }],
        },
      ],
    }),
  );
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

/** A service's event (ECS Service Action or ECS Deployment State Change) in the events file, waited for briefly. */
const serviceEvent = (serviceArn: string, detailType: string, eventName: string, extra: (e: BerthEvent) => boolean = () => true) =>
  local.waitForEvent((e) => e['detail-type'] === detailType && e.resources[0] === serviceArn && e.detail.eventName === eventName && extra(e), 10_000);

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
    // Seed 002: the first task establishes the image digest, then the other starts pinned to it.
    expect(messages.filter((m) => /^\(service web\) has started 1 tasks: \(task [0-9a-f]{32}\)\.$/.test(m!))).toHaveLength(2);
    const [digest, ...others] = [...tasks].sort((a, b) => a.createdAt!.getTime() - b.createdAt!.getTime()).map((t) => t.containers![0].imageDigest);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(others).toEqual([digest]);
    const [release] = (await ecs().send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: 'web' }))).serviceDeployments!;
    const revision = (await ecs().send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [release.serviceDeploymentArn!] }))).serviceDeployments![0].targetServiceRevision!.arn!;
    const { serviceRevisions } = await ecs().send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [revision] }));
    expect(serviceRevisions![0].containerImages).toEqual([{ containerName: 'main', image: 'busybox', imageDigest: digest }]);

    // The events file has the service's steady state and its completed deployment, timed by the item.
    const serviceArn = service!.serviceArn!;
    const steady = await serviceEvent(serviceArn, 'ECS Service Action', 'SERVICE_STEADY_STATE');
    expect(steady).toMatchObject({ source: 'berth.ecs', account: '000000000000', region: 'us-east-1', detail: { eventType: 'INFO', clusterArn: described.clusterArn } });
    const completed = await serviceEvent(serviceArn, 'ECS Deployment State Change', 'SERVICE_DEPLOYMENT_COMPLETED', (e) => e.detail.deploymentId === deploymentId);
    expect(completed.detail).toMatchObject({ eventType: 'INFO', clusterArn: described.clusterArn, reason: `ECS deployment ${deploymentId} completed.` });
    expect(completed.detail.updatedAt).toBe(described.deployments![0].updatedAt!.toISOString());
    // ... and the local rule on deployment events delivered it to its target.
    await until(
      async () => (existsSync(matchedDeployments) ? readFileSync(matchedDeployments, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id) : []),
      (ids) => ids.includes(completed.id),
      'the rule target to receive the completed deployment',
      10_000,
    );
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

  it('rolls to a new task definition: old tasks stop only once new ones run, within 100%/200% of 1, to COMPLETED', async () => {
    await waitUntilServicesStable({ client: ecs(), ...WAIT }, { cluster: CLUSTER, services: ['web'] });
    const oldTasks = running(await serviceTasks('web')).map((t) => t.taskArn!);
    const { service } = await ecs().send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', taskDefinition: 'web:2' }));
    const [fresh, old] = service!.deployments!;
    expect([fresh.status, old.status]).toEqual(['PRIMARY', 'ACTIVE']);
    // Every observation: at least 1 available (floor 100% of 1) and at most 2 holding resources (200%).
    const observed = await until(
      async () => {
        // A task stopped between the two lists shows in both: count it once, as last described.
        const both = [...(await serviceTasks('web')), ...(await serviceTasks('web', 'STOPPED'))];
        const listed = [...new Map(both.map((t) => [t.taskArn, t])).values()];
        const available = listed.filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus === 'RUNNING').length;
        const holding = listed.filter((t) => t.lastStatus !== 'STOPPED').length;
        expect(available, 'available tasks at or above the floor').toBeGreaterThanOrEqual(1);
        expect(holding, 'tasks at or below the ceiling').toBeLessThanOrEqual(2);
        return describeService('web');
      },
      (s) => s.deployments!.length === 1 && s.deployments![0].rolloutState === 'COMPLETED' && s.runningCount === 1,
      'rollout COMPLETED',
    );
    expect(observed.deployments![0]).toMatchObject({ id: fresh.id, status: 'PRIMARY', taskDefinition: expect.stringMatching(/web:2$/) });
    const messages = observed.events!.map((e) => e.message);
    expect(messages).toContain(`(service web) (deployment ${fresh.id}) deployment completed.`);
    expect(messages).toContain(`(service web) has stopped 1 running tasks: (task ${oldTasks[0].split('/').pop()}).`);
    const serviceArn = observed.serviceArn!;
    await serviceEvent(serviceArn, 'ECS Service Action', 'TASKS_STOPPED', (e) => (e.detail.taskArns as string[]).includes(oldTasks[0]));
    await serviceEvent(serviceArn, 'ECS Service Action', 'SERVICE_DESIRED_COUNT_UPDATED', (e) => e.detail.deploymentId === old.id && e.detail.desiredCount === 0);
    await serviceEvent(serviceArn, 'ECS Deployment State Change', 'SERVICE_DEPLOYMENT_COMPLETED', (e) => e.detail.deploymentId === fresh.id);
    const now = running(await serviceTasks('web'));
    expect(now.every((t) => t.startedBy === fresh.id && t.taskDefinitionArn!.endsWith('web:2'))).toBe(true);
    const { tasks: before } = await ecs().send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: oldTasks }));
    for (const task of before!) {
      expect(task.desiredStatus).toBe('STOPPED');
      expect(task.stopCode).toBe('ServiceSchedulerInitiated');
      // Replaced only after the new tasks ran: each old task's stop was requested after a new one started.
      const newStarts = now.map((t) => t.startedAt!.getTime());
      expect(task.stoppingAt === undefined || task.stoppingAt.getTime() >= Math.min(...newStarts)).toBe(true);
    }
  });

  it('DeleteService with force drains the tasks to INACTIVE and the services-inactive waiter returns', async () => {
    const taskArns = running(await serviceTasks('heal')).map((t) => t.taskArn!);
    expect(taskArns.length).toBeGreaterThan(0);
    const { service } = await ecs().send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'heal', force: true }));
    expect(service).toMatchObject({ status: 'DRAINING', desiredCount: 0 });
    const result = await waitUntilServicesInactive({ client: ecs(), ...WAIT }, { cluster: CLUSTER, services: ['heal'] });
    expect(result.state).toBe('SUCCESS');
    expect(await describeService('heal')).toMatchObject({ status: 'INACTIVE', runningCount: 0 });
    const { tasks } = await ecs().send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns }));
    for (const task of tasks!) expect(task).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });
  });
});
