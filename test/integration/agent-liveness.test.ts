/**
 * Agent identity and liveness against DynamoDB Local, through the real ECS SDK, on a clock the test
 * moves: re-registration with containerInstanceArn, agentConnected false after the bound and true
 * after a poll, no placement on a disconnected host, how agent STOPPED reports are read, and that
 * only the host holding a task may report on it.
 */
import {
  CreateClusterCommand,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disconnectSilentAgents } from '../../src/app/agent-liveness';
import { advanceTask } from '../../src/app/task-engine';
import { DEFAULT_AGENT_TIMEOUT_MS } from '../../src/domain/agent-liveness';
import { VersionConflictError } from '../../src/domain/errors';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const scope = { account: ACCOUNT, region: REGION };
let now = Date.UTC(2026, 0, 1);
let berth: Harness;
let ecs: ECSClient;

const resources = [
  { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
  { name: 'MEMORY', type: 'INTEGER', integerValue: 1024 },
];

beforeAll(async () => {
  berth = await startHarness({ clock: () => now });
  ecs = berth.ecs();
  for (const clusterName of ['live', 'other']) await ecs.send(new CreateClusterCommand({ clusterName }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'job',
      containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 256, memory: 128, command: ['sleep', '60'] }],
    }),
  );
});
afterAll(() => berth.close());

async function register(input: { cluster?: string; containerInstanceArn?: string; fargate?: boolean; size?: number }) {
  const { containerInstance } = await ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: input.cluster,
      containerInstanceArn: input.containerInstanceArn,
      totalResources: input.size ? resources.map((r) => ({ ...r, integerValue: input.size })) : resources,
      attributes: input.fargate ? [{ name: 'berth.fargate-capacity', value: 'FARGATE' }] : [],
      versionInfo: { agentVersion: '9.9.9' },
    }),
  );
  return containerInstance!;
}

async function describeInstance(cluster: string, arn: string) {
  const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] }));
  return containerInstances![0];
}

const poll = (containerInstanceArn: string) =>
  berth.raw(undefined, JSON.stringify({ containerInstanceArn, known: {}, waitSeconds: 0 }), {
    'x-amz-target': 'BerthAgentV1.PollAssignments',
  });

/** Engine steps (no stream processor here) until it places the task or cannot. */
async function settle(clusterArn: string, taskArn: string) {
  for (;;) {
    const stored = await berth.context.tasks.get(clusterArn, taskArn.split('/').pop()!);
    const outcome = await advanceTask(berth.context, stored!);
    if (outcome !== 'advanced') return outcome;
  }
}

async function task(taskArn: string) {
  const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster: 'live', tasks: [taskArn] }));
  return tasks![0];
}

describe('RegisterContainerInstance with the containerInstanceArn of an earlier registration', () => {
  it('re-activates the same instance (a conditional write) with the new version info', async () => {
    const first = await register({ cluster: 'live' });
    const again = await register({ cluster: 'live', containerInstanceArn: first.containerInstanceArn });
    expect(again).toMatchObject({
      containerInstanceArn: first.containerInstanceArn,
      status: 'ACTIVE',
      agentConnected: true,
      version: first.version! + 1,
      versionInfo: { agentVersion: '9.9.9' },
    });
  });

  it.each([
    { name: 'an instance of another cluster', from: { cluster: 'live' }, to: { cluster: 'other' } },
    { name: 'a cluster instance offered as Fargate capacity', from: { cluster: 'live' }, to: { fargate: true } },
    { name: 'a Fargate host asked to join a cluster', from: { fargate: true }, to: { cluster: 'live' } },
  ])('refuses $name with InvalidParameterException', async ({ from, to }) => {
    const first = await register(from);
    await expect(register({ ...to, containerInstanceArn: first.containerInstanceArn })).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    // Nothing changed on the instance.
    const cluster = ('cluster' in from && from.cluster) || 'berth-fargate-pool';
    expect((await describeInstance(cluster, first.containerInstanceArn!)).version).toBe(first.version);
  });

  it.each([
    { name: 'deregistered', deregister: true },
    { name: 'unknown', deregister: false },
  ])('registers a new instance when the earlier one is $name', async ({ deregister }) => {
    const first = await register({ cluster: 'live' });
    let arn = first.containerInstanceArn!;
    if (deregister) await ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'live', containerInstance: arn }));
    else arn = arn.replace(/[0-9a-f]{32}$/, '0123456789abcdef0123456789abcdef');
    const fresh = await register({ cluster: 'live', containerInstanceArn: arn });
    expect(fresh.containerInstanceArn).not.toBe(arn);
    expect(fresh.containerInstanceArn).not.toBe(first.containerInstanceArn);
  });
});

describe('agentConnected follows the agent polling', () => {
  let arn: string;
  let taskArn: string;

  beforeAll(async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'silent' }));
    arn = (await register({ cluster: 'silent' })).containerInstanceArn!;
  });

  it('stays true while the agent polled within the bound, and a poll moves no version', async () => {
    const before = await describeInstance('silent', arn);
    now += DEFAULT_AGENT_TIMEOUT_MS / 2;
    expect((await poll(arn)).status).toBe(200);
    now += DEFAULT_AGENT_TIMEOUT_MS - 1;
    await disconnectSilentAgents(berth.context, scope);
    expect(await describeInstance('silent', arn)).toMatchObject({ agentConnected: true, version: before.version });
  });

  it('turns false once the agent has been silent for longer than the bound', async () => {
    const before = await describeInstance('silent', arn);
    now += 2;
    expect(await disconnectSilentAgents(berth.context, scope)).toBeGreaterThanOrEqual(1);
    expect(await describeInstance('silent', arn)).toMatchObject({ agentConnected: false, status: 'ACTIVE', version: before.version! + 1 });
    // Marked once: the next sweep finds nothing more to do for it.
    await disconnectSilentAgents(berth.context, scope);
    expect((await describeInstance('silent', arn)).version).toBe(before.version! + 1);
  });

  it('gets no new task while disconnected: RunTask answers the AGENT failure and creates nothing', async () => {
    const { tasks, failures } = await ecs.send(new RunTaskCommand({ cluster: 'silent', taskDefinition: 'job', launchType: 'EC2' }));
    expect(tasks).toEqual([]);
    expect(failures).toEqual([{ arn, reason: 'AGENT', detail: expect.any(String) }]);
  });

  it('turns true again when the agent polls, and a task can be placed on it', async () => {
    expect((await poll(arn)).status).toBe(200);
    expect(await describeInstance('silent', arn)).toMatchObject({ agentConnected: true });
    const { tasks } = await ecs.send(new RunTaskCommand({ cluster: 'silent', taskDefinition: 'job', launchType: 'EC2' }));
    taskArn = tasks![0].taskArn!;
    await settle(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/silent`, taskArn);
    expect((await ecs.send(new DescribeTasksCommand({ cluster: 'silent', tasks: [taskArn] }))).tasks![0]).toMatchObject({
      lastStatus: 'PENDING',
      containerInstanceArn: arn,
    });
  });

  it('a sweep that read the instance before a poll cannot mark it disconnected', async () => {
    const stored = (await berth.context.containerInstances.get(arn))!;
    now += DEFAULT_AGENT_TIMEOUT_MS;
    expect((await poll(arn)).status).toBe(200);
    // The sweep's decision, on what it read before the poll: silent since before the poll's time.
    const record = { ...stored.record, agentConnected: false, updatedAt: now };
    await expect(
      berth.context.containerInstances.setAgentConnected(record, stored.version, { now, silentSince: now - 1 }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(await describeInstance('silent', arn)).toMatchObject({ agentConnected: true });
  });
});

/** A report as Berth's agent sends it: raw JSON naming the reporting instance, by default the task's host. */
async function report(target: 'SubmitTaskStateChange' | 'SubmitContainerStateChange', body: Record<string, unknown>) {
  const containerInstance = (await task(body.task as string)).containerInstanceArn;
  return berth.raw(target, JSON.stringify({ cluster: 'live', containerInstance, ...body }));
}

/** A task on a host of 'live', PENDING there (RunTask placed it; the engine stepped it). */
async function placedTask(): Promise<string> {
  const { tasks } = await ecs.send(new RunTaskCommand({ cluster: 'live', taskDefinition: 'job', launchType: 'EC2' }));
  const taskArn = tasks![0].taskArn!;
  await settle(tasks![0].clusterArn!, taskArn);
  expect((await task(taskArn)).lastStatus).toBe('PENDING');
  return taskArn;
}

async function runningTask(): Promise<string> {
  const taskArn = await placedTask();
  for (const status of ['ACTIVATING', 'RUNNING']) expect((await report('SubmitTaskStateChange', { task: taskArn, status })).status).toBe(200);
  expect((await task(taskArn)).lastStatus).toBe('RUNNING');
  return taskArn;
}

describe('a STOPPED report of a task that ran', () => {
  beforeAll(async () => {
    await register({ cluster: 'live' });
  });

  it('is an essential container exit when the agent gives no stop code', async () => {
    const taskArn = await runningTask();
    await report('SubmitTaskStateChange', { task: taskArn, status: 'STOPPED', containers: [{ containerName: 'main', status: 'STOPPED', exitCode: 3 }] });
    expect(await task(taskArn)).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
  });

  it("is the agent's stop, with its reason and no exit code, when the agent gives a stop code", async () => {
    const taskArn = await runningTask();
    const response = await report('SubmitTaskStateChange', {
      task: taskArn,
      status: 'STOPPED',
      reason: 'Task stopped by the agent: its processes were lost when the agent restarted',
      stopCode: 'InfrastructureHealth',
      containers: [{ containerName: 'main', status: 'STOPPED', reason: 'exit code unknown' }],
    });
    expect(response.status).toBe(200);
    const stopped = await task(taskArn);
    expect(stopped).toMatchObject({
      desiredStatus: 'STOPPED',
      stopCode: 'InfrastructureHealth',
      stoppedReason: 'Task stopped by the agent: its processes were lost when the agent restarted',
    });
    expect(stopped.containers![0].exitCode).toBeUndefined();
  });

  it('refuses a stop code an agent may not give, writing nothing', async () => {
    const taskArn = await runningTask();
    const before = await task(taskArn);
    const response = await report('SubmitTaskStateChange', { task: taskArn, status: 'STOPPED', reason: 'me', stopCode: 'UserInitiated' });
    expect([response.status, response.json.__type]).toEqual([400, 'InvalidParameterException']);
    expect((await task(taskArn)).version).toBe(before.version);
  });
});

describe('a report from a host that does not hold the task', () => {
  let elsewhere: { sameCluster: string; otherCluster: string; fargate: string };

  beforeAll(async () => {
    // Room for every row's task (placement takes the roomiest host).
    await register({ cluster: 'live', size: 65_536 });
    elsewhere = {
      sameCluster: (await register({ cluster: 'live' })).containerInstanceArn!,
      otherCluster: (await register({ cluster: 'other' })).containerInstanceArn!,
      fargate: (await register({ fargate: true })).containerInstanceArn!,
    };
  });

  const reporters = [
    { name: 'names no reporter', reporter: () => null },
    { name: 'comes from another instance of the cluster', reporter: () => elsewhere.sameCluster },
    { name: 'comes from an instance of another cluster', reporter: () => elsewhere.otherCluster },
    { name: 'comes from a Fargate host', reporter: () => elsewhere.fargate },
    { name: 'names something that is no instance', reporter: () => 'me' },
  ];
  const reports = [
    { target: 'SubmitTaskStateChange' as const, body: { status: 'RUNNING' } },
    { target: 'SubmitTaskStateChange' as const, body: { status: 'STOPPED', stopCode: 'InfrastructureHealth', reason: 'not mine' } },
    { target: 'SubmitContainerStateChange' as const, body: { containerName: 'main', status: 'STOPPED', exitCode: 1 } },
  ];

  it.each(reporters.flatMap((r) => reports.map((report) => ({ ...r, ...report, status: report.body.status }))))(
    '$target $status that $name is AccessDeniedException and writes nothing',
    async ({ reporter, target, body }) => {
      const taskArn = await placedTask();
      const holder = (await task(taskArn)).containerInstanceArn;
      expect(holder).not.toBe(reporter());
      const before = await berth.context.tasks.get(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/live`, taskArn.split('/').pop()!);
      const response = await report(target, { task: taskArn, ...body, containerInstance: reporter() });
      expect([response.status, response.json.__type]).toEqual([400, 'AccessDeniedException']);
      const after = await berth.context.tasks.get(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/live`, taskArn.split('/').pop()!);
      expect(after).toEqual(before);
      // The holder's own report of the same goes through.
      expect((await report(target, { task: taskArn, ...body })).status).toBe(200);
    },
  );

  it('is refused for a task stopped while PENDING, so its late ACTIVATING report starts nothing', async () => {
    const taskArn = await placedTask();
    const holder = (await task(taskArn)).containerInstanceArn;
    // StopTask lands between the agent's poll answer and its ACTIVATING report.
    await ecs.send(new StopTaskCommand({ cluster: 'live', task: taskArn }));
    await settle(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/live`, taskArn);
    expect((await task(taskArn)).lastStatus).toBe('STOPPED');
    const response = await report('SubmitTaskStateChange', { task: taskArn, containerInstance: holder, status: 'ACTIVATING' });
    expect([response.status, response.json.__type]).toEqual([400, 'AccessDeniedException']);
  });

  it('is refused for a task no host holds any more (stopped) too', async () => {
    const taskArn = await runningTask();
    const holder = (await task(taskArn)).containerInstanceArn;
    await report('SubmitTaskStateChange', { task: taskArn, status: 'STOPPED', containers: [{ containerName: 'main', status: 'STOPPED', exitCode: 0 }] });
    await settle(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/live`, taskArn);
    expect((await task(taskArn)).lastStatus).toBe('STOPPED');
    const response = await report('SubmitContainerStateChange', { task: taskArn, containerInstance: holder, containerName: 'main', status: 'RUNNING' });
    expect([response.status, response.json.__type]).toEqual([400, 'AccessDeniedException']);
  });
});
