/**
 * Seed 003's Spot sentences end to end, through the real ECS SDK on one local Berth with real agents
 * (one offering FARGATE, one FARGATE_SPOT) running tasks as OS processes: a FARGATE_SPOT service task
 * interrupted (BerthAgentV1.InterruptSpotCapacity) is replaced on FARGATE_SPOT, never moved to FARGATE
 * although FARGATE has room; with the Spot pool emptied (its host DRAINING through
 * UpdateContainerInstancesState on the pseudo cluster berth-fargate-pool) the replacement waits, and
 * gives up with SERVICE_TASK_PLACEMENT_FAILURE (RESOURCE:FARGATE) and the service event "was unable
 * to place a task ..." after the capacity wait; refilled
 * (ACTIVE again), the service runs on Spot again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateContainerInstancesStateCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BerthAgent } from '../../src/agent/agent';
import { startAgent } from '../support/hosts';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';
import { waitFor } from '../support/wait-for';

/** Short, so a replacement that finds no Spot capacity gives up inside the test. */
const CAPACITY_WAIT_MS = 3_000;
let local: LocalBerth;
const scratch = mkdtempSync(join(tmpdir(), 'berth-spot-'));
const agents: BerthAgent[] = [];
let spotHost: string;

beforeAll(async () => {
  local = await startLocalBerth({ agent: false, capacityWaitMs: CAPACITY_WAIT_MS });
  for (const provider of ['FARGATE', 'FARGATE_SPOT']) {
    const { agent, arn } = await startAgent(local.berth.url, undefined, join(scratch, provider), { fargateProviders: [provider], cpu: 4096, memory: 8192 });
    agents.push(agent);
    if (provider === 'FARGATE_SPOT') spotHost = arn;
  }
  await local.ecs.send(new CreateClusterCommand({ clusterName: 'spot', capacityProviders: ['FARGATE', 'FARGATE_SPOT'] }));
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sleep', '600'], stopTimeout: 1 }],
    }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop({ stopContainers: true, timeoutSeconds: 0 }).catch(() => undefined)));
  await local?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every task the service ever started (RUNNING and STOPPED alike). */
async function allTasks(): Promise<Task[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
    arns.push(...((await local.ecs.send(new ListTasksCommand({ cluster: 'spot', serviceName: 'web', desiredStatus }))).taskArns ?? []));
  }
  if (!arns.length) return [];
  return (await local.ecs.send(new DescribeTasksCommand({ cluster: 'spot', tasks: arns }))).tasks!;
}
const runningTask = () => waitFor('a RUNNING task of the service', async () => (await allTasks()).find((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING'));

const setSpotPool = (status: 'ACTIVE' | 'DRAINING') =>
  local.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'berth-fargate-pool', containerInstances: [spotHost], status }));

async function interruptSpot(containerInstanceArn: string) {
  const response = await fetch(local.berth.url, {
    method: 'POST',
    headers: { 'X-Amz-Target': 'BerthAgentV1.InterruptSpotCapacity', 'Content-Type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({ containerInstanceArn }),
  });
  expect(response.status).toBe(200);
}

describe('a FARGATE_SPOT service and Spot interruptions', () => {
  it('is replaced on Spot, never on FARGATE; waits with SERVICE_TASK_PLACEMENT_FAILURE while the Spot pool is empty; runs again once it refills', async () => {
    const { service } = await local.ecs.send(
      new CreateServiceCommand({
        cluster: 'spot', serviceName: 'web', taskDefinition: 'web', desiredCount: 1,
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
      }),
    );
    const first = await runningTask();
    expect(first.capacityProviderName).toBe('FARGATE_SPOT');

    // 1. Interrupted with Spot capacity available: the replacement runs on FARGATE_SPOT.
    await interruptSpot(spotHost);
    const interrupted = await local.waitForTask('spot', first.taskArn!, (t) => t.lastStatus === 'STOPPED');
    expect(interrupted).toMatchObject({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' });
    const second = await runningTask();
    expect(second.taskArn).not.toBe(first.taskArn);
    expect(second.capacityProviderName).toBe('FARGATE_SPOT');

    // 2. The Spot pool emptied, then interrupted: the replacement waits (FARGATE has room, unused) and
    //    gives up after the capacity wait with ECS's event; the service keeps trying.
    await setSpotPool('DRAINING');
    await interruptSpot(spotHost);
    await local.waitForTask('spot', second.taskArn!, (t) => t.lastStatus === 'STOPPED');
    const failure = await waitFor('SERVICE_TASK_PLACEMENT_FAILURE', async () =>
      local.events().find((e) => e['detail-type'] === 'ECS Service Action' && e.detail.eventName === 'SERVICE_TASK_PLACEMENT_FAILURE'),
    );
    expect(failure.resources).toEqual([service!.serviceArn]);
    expect(failure.detail).toMatchObject({
      eventType: 'ERROR', reason: 'RESOURCE:FARGATE',
      capacityProviderArns: ['arn:aws:ecs:us-east-1:000000000000:capacity-provider/FARGATE_SPOT'],
    });
    const gaveUp = (await allTasks()).find((t) => t.taskArn === (failure.detail.taskArns as string[])[0])!;
    expect(gaveUp).toMatchObject({ stopCode: 'TaskFailedToStart', capacityProviderName: 'FARGATE_SPOT' });
    expect(gaveUp.stoppedReason).toMatch(/^Capacity is unavailable at this time\./);
    expect((await allTasks()).some((t) => t.lastStatus === 'RUNNING')).toBe(false);
    // ...and the service's own events say so, in ECS's words.
    await waitFor('the service event', async () => {
      const { services } = await local.ecs.send(new DescribeServicesCommand({ cluster: 'spot', services: ['web'] }));
      return services![0]!.events!.some((e) => e.message ===
        '(service web) was unable to place a task because no container instance met all of its requirements. Reason: RESOURCE:FARGATE. For more information, see the Troubleshooting section.');
    });

    // 3. Refilled: the waiting replacement is placed on Spot and runs.
    await setSpotPool('ACTIVE');
    const third = await runningTask();
    expect(third.capacityProviderName).toBe('FARGATE_SPOT');

    // Never a task of the service on FARGATE.
    expect((await allTasks()).map((t) => t.capacityProviderName).every((cp) => cp === 'FARGATE_SPOT')).toBe(true);
  }, 90_000);
});
