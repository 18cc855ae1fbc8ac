/**
 * The whole lifecycle in local mode with real processes: RunTask -> the stream-driven engine -> the
 * embedded agent runs the container as an OS process -> StopTask -> SIGTERM (SIGKILL after
 * stopTimeout) -> STOPPED, with every change in the event log as ECS would send it.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlaneClient } from '../../src/agent/control-plane-client';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

let local: LocalBerth;
const scratch = mkdtempSync(join(tmpdir(), 'berth-lifecycle-'));
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
let family = 0;

beforeAll(async () => {
  local = await startLocalBerth();
  await local.ecs.send(new CreateClusterCommand({ clusterName: 'life' }));
  await local.ecs.send(
    new PutClusterCapacityProvidersCommand({
      cluster: 'life',
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
    }),
  );
}, 60_000);
afterAll(async () => {
  await local?.close();
});

async function run(container: ContainerDefinition, strategy?: 'FARGATE_SPOT') {
  const name = `job-${++family}`;
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: name,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox', ...container }],
    }),
  );
  const { tasks } = await local.ecs.send(
    new RunTaskCommand({
      cluster: 'life',
      taskDefinition: name,
      networkConfiguration: NETWORK,
      ...(strategy ? { capacityProviderStrategy: [{ capacityProvider: strategy, weight: 1 }] } : { launchType: 'FARGATE' }),
    }),
  );
  return tasks![0].taskArn!;
}

const untilStatus = (status: string) => (task: { lastStatus?: string }) => task.lastStatus === status;
const shell = (script: string) => ['sh', '-c', script];

describe('a task in local mode', () => {
  it('runs as a process, stops with SIGTERM and walks every state, each change one event', async () => {
    const marker = join(scratch, 'graceful');
    const taskArn = await run({
      command: shell(`trap 'echo got-sigterm > "$MARKER"; exit 0' TERM; while true; do sleep 0.1; done`),
      environment: [{ name: 'MARKER', value: marker }],
      stopTimeout: 10,
    });
    const running = await local.waitForTask('life', taskArn, untilStatus('RUNNING'));
    expect(running.containers?.[0]).toMatchObject({ lastStatus: 'RUNNING', imageDigest: expect.stringMatching(/^sha256:/) });
    expect(running.startedAt).toBeInstanceOf(Date);
    expect(running.connectivity).toBe('CONNECTED');

    await local.ecs.send(new StopTaskCommand({ cluster: 'life', task: taskArn, reason: 'test is done' }));
    const stopped = await local.waitForTask('life', taskArn, untilStatus('STOPPED'));
    expect(stopped).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'test is done' });
    expect(stopped.containers?.[0]).toMatchObject({ lastStatus: 'STOPPED', exitCode: 0 });
    expect(readFileSync(marker, 'utf8').trim()).toBe('got-sigterm');
    for (const stamp of ['pullStartedAt', 'pullStoppedAt', 'startedAt', 'stoppingAt', 'executionStoppedAt', 'stoppedAt'] as const) {
      expect(stopped[stamp], stamp).toBeInstanceOf(Date);
    }

    await local.waitForEvent((e) => e.resources[0] === taskArn && e.detail.lastStatus === 'STOPPED');
    const sequence = local.taskEvents(taskArn);
    expect(sequence.map((d) => [d.lastStatus, d.desiredStatus])).toEqual([
      ['PROVISIONING', 'RUNNING'],
      ['PENDING', 'RUNNING'],
      ['ACTIVATING', 'RUNNING'],
      ['RUNNING', 'RUNNING'],
      ['RUNNING', 'STOPPED'],
      ['DEACTIVATING', 'STOPPED'],
      ['STOPPING', 'STOPPED'],
      ['DEPROVISIONING', 'STOPPED'],
      ['STOPPED', 'STOPPED'],
    ]);
    const versions = sequence.map((d) => d.version as number);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect(sequence.at(-1)).toMatchObject({ stopCode: 'UserInitiated', clusterArn: expect.stringContaining(':cluster/life') });
    const [first] = local.events().filter((e) => e.resources[0] === taskArn);
    expect(first).toMatchObject({ source: 'berth.ecs', 'detail-type': 'ECS Task State Change', account: '000000000000', region: 'us-east-1' });

    // Times come from the committed records, to the millisecond (DynamoDB Local's stream time is
    // rounded down to the minute): in version order they strictly increase, even for steps a few ms
    // apart, and no event states a time later than its own updatedAt.
    const envelopes = [...new Map(local.events().filter((e) => e.resources[0] === taskArn).map((e) => [e.id, e])).values()]
      .sort((a, b) => (a.detail.version as number) - (b.detail.version as number));
    expect(envelopes).toHaveLength(sequence.length);
    const times = envelopes.map((e) => Date.parse(e.time));
    for (const [i, event] of envelopes.entries()) {
      expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(event.detail.updatedAt).toBe(event.time);
      if (i > 0) expect(times[i], `${event.detail.lastStatus} after ${envelopes[i - 1].detail.lastStatus}`).toBeGreaterThan(times[i - 1]);
      for (const member of ['createdAt', 'pullStartedAt', 'pullStoppedAt', 'startedAt', 'stoppingAt', 'executionStoppedAt', 'stoppedAt', 'connectivityAt']) {
        const value = event.detail[member] as string | undefined;
        if (value !== undefined) expect(Date.parse(value), member).toBeLessThanOrEqual(times[i]);
      }
    }
    const stored = await local.berth.context.tasks.get(stopped.clusterArn!, taskArn.split('/').pop()!);
    expect(stored?.record.updatedAt).toBe(times.at(-1));
  });

  it('SIGKILLs a container that ignores SIGTERM once its stopTimeout has passed', async () => {
    const taskArn = await run({ command: shell(`trap '' TERM; while true; do sleep 0.1; done`), stopTimeout: 2 });
    await local.waitForTask('life', taskArn, untilStatus('RUNNING'));
    await local.ecs.send(new StopTaskCommand({ cluster: 'life', task: taskArn }));
    const stopped = await local.waitForTask('life', taskArn, untilStatus('STOPPED'));
    expect(stopped.containers?.[0].exitCode).toBe(137);
    // Not a speed check: SIGKILL must not come before the 2 s the container was promised.
    expect(stopped.executionStoppedAt!.getTime() - stopped.stoppingAt!.getTime()).toBeGreaterThanOrEqual(1_900);
  });

  it('stops the task with EssentialContainerExited and the exit code when the essential container exits 3', async () => {
    const taskArn = await run({ command: shell('exit 3') });
    const stopped = await local.waitForTask('life', taskArn, untilStatus('STOPPED'));
    expect(stopped).toMatchObject({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
    expect(stopped.containers?.[0].exitCode).toBe(3);
    await local.waitForEvent((e) => e.resources[0] === taskArn && e.detail.lastStatus === 'STOPPED');
    // It did run: ECS reports RUNNING before it stops such a task (and the throttle ignores it).
    expect(local.taskEvents(taskArn).map((d) => d.lastStatus)).toContain('RUNNING');
  });

  it('stops a task whose container cannot start with TaskFailedToStart', async () => {
    const taskArn = await run({ command: ['/no/such/executable'] });
    const stopped = await local.waitForTask('life', taskArn, untilStatus('STOPPED'));
    expect(stopped.stopCode).toBe('TaskFailedToStart');
    expect(stopped.stoppedReason).toMatch(/^Cannot\w+Error/);
    await local.waitForEvent((e) => e.resources[0] === taskArn && e.detail.lastStatus === 'STOPPED');
    expect(local.taskEvents(taskArn).map((d) => d.lastStatus)).not.toContain('RUNNING');
  });

  it('reports container health checks as the task healthStatus', async () => {
    const taskArn = await run({
      command: shell('while true; do sleep 0.1; done'),
      healthCheck: { command: ['CMD-SHELL', 'test -d /'], interval: 5, timeout: 2, retries: 1 },
      stopTimeout: 1,
    });
    const healthy = await local.waitForTask('life', taskArn, (t) => t.healthStatus === 'HEALTHY', 30_000);
    expect(healthy.containers?.[0].healthStatus).toBe('HEALTHY');
    await local.ecs.send(new StopTaskCommand({ cluster: 'life', task: taskArn }));
    await local.waitForTask('life', taskArn, untilStatus('STOPPED'));
  }, 40_000);

  it('gives a FARGATE_SPOT task the two-minute warning first, then SIGTERM', async () => {
    const marker = join(scratch, 'spot');
    const taskArn = await run(
      {
        command: shell(`trap 'echo warned > "$MARKER"; exit 0' TERM; while true; do sleep 0.1; done`),
        environment: [{ name: 'MARKER', value: marker }],
      },
      'FARGATE_SPOT',
    );
    const running = await local.waitForTask('life', taskArn, untilStatus('RUNNING'));
    expect(running.capacityProviderName).toBe('FARGATE_SPOT');

    const client = new ControlPlaneClient({
      endpoint: local.berth.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const answer = (await client.call('BerthAgentV1.InterruptSpotCapacity', {})) as { interruptedTaskArns: string[] };
    client.destroy();
    expect(answer.interruptedTaskArns).toEqual([taskArn]);

    const stopped = await local.waitForTask('life', taskArn, untilStatus('STOPPED'));
    expect(stopped).toMatchObject({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' });
    expect(existsSync(marker)).toBe(true);
    await local.waitForEvent((e) => e.resources[0] === taskArn && e.detail.lastStatus === 'STOPPED');
    const afterRunning = local.taskEvents(taskArn).filter((d) => d.lastStatus !== 'PROVISIONING' && d.lastStatus !== 'PENDING' && d.lastStatus !== 'ACTIVATING');
    expect(afterRunning[1]).toMatchObject({
      desiredStatus: 'STOPPED',
      lastStatus: 'RUNNING',
      stoppedReason: 'Your Spot Task was interrupted.',
      stopCode: 'SpotInterruption',
    });
  });
});
