/**
 * A DAEMON service end to end, through the real ECS SDK on one local Berth (stream-driven engine,
 * service loop) with real agents running tasks as OS processes: the service follows agents joining
 * (one task each, placed on the instance), an instance draining (its task stops, none starts there),
 * and an attribute that takes an instance out of the service's memberOf constraint
 * (SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED); desiredCount is computed at every step.
 * With the same agents' runtime, a REPLICA service piled into one zone is AZ rebalanced once its
 * constraint is lifted (SERVICE_REBALANCING_STARTED, then _COMPLETED with one task per zone).
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
  PutAttributesCommand,
  RegisterTaskDefinitionCommand,
  UpdateContainerInstancesStateCommand,
  UpdateServiceCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BerthAgent } from '../../src/agent/agent';
import { startAgent } from '../support/hosts';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';
import { waitFor } from '../support/wait-for';

let local: LocalBerth;
const scratch = mkdtempSync(join(tmpdir(), 'berth-daemon-'));
const agents: BerthAgent[] = [];

beforeAll(async () => {
  local = await startLocalBerth({ agent: false });
  await local.ecs.send(new CreateClusterCommand({ clusterName: 'daemons' }));
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'collector',
      containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 128, memory: 64, command: ['sleep', '600'], stopTimeout: 1 }],
    }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop({ stopContainers: true, timeoutSeconds: 0 }).catch(() => undefined)));
  await local?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function join_(zone: string, attributes: { name: string; value: string }[] = [], cluster = 'daemons') {
  const { agent, arn } = await startAgent(local.berth.url, cluster, join(scratch, `${cluster}-${zone}`), { zone, attributes });
  agents.push(agent);
  return arn;
}

/** The service's tasks that are not STOPPED, as DescribeTasks shows them. */
async function liveTasks(): Promise<Task[]> {
  const { taskArns } = await local.ecs.send(new ListTasksCommand({ cluster: 'daemons', serviceName: 'collector' }));
  if (!taskArns?.length) return [];
  const { tasks } = await local.ecs.send(new DescribeTasksCommand({ cluster: 'daemons', tasks: taskArns }));
  return tasks!.filter((t) => t.lastStatus !== 'STOPPED');
}

/** Waits until exactly these instances run one RUNNING task of the service each, and nothing else is live. */
const runningOn = (instances: string[]) =>
  waitFor(`one RUNNING task on each of ${instances.length} instance(s)`, async () => {
    const tasks = await liveTasks();
    const ok = tasks.length === instances.length && tasks.every((t) => t.lastStatus === 'RUNNING') &&
      tasks.map((t) => t.containerInstanceArn).sort().join() === [...instances].sort().join();
    return ok && tasks;
  });

const desiredCount = async () =>
  (await local.ecs.send(new DescribeServicesCommand({ cluster: 'daemons', services: ['collector'] }))).services![0]!.desiredCount;

describe('a DAEMON service follows its cluster', () => {
  it('one task per joining agent, none on a DRAINING instance, none where the constraint no longer holds', async () => {
    const a = await join_('us-east-1a');
    const { service } = await local.ecs.send(
      new CreateServiceCommand({
        cluster: 'daemons', serviceName: 'collector', taskDefinition: 'collector', schedulingStrategy: 'DAEMON', launchType: 'EC2',
        placementConstraints: [{ type: 'memberOf', expression: 'not(attribute:collector == off)' }],
      }),
    );
    expect(service).toMatchObject({ schedulingStrategy: 'DAEMON', deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100 } });
    const [first] = await runningOn([a]);
    expect(first).toMatchObject({ group: 'service:collector', launchType: 'EC2', availabilityZone: 'us-east-1a' });
    await waitFor('desiredCount 1', async () => (await desiredCount()) === 1);

    // Agents join: each gets its task, placed on it; the first keeps its own.
    const [b, c] = [await join_('us-east-1b'), await join_('us-east-1c')];
    const three = await runningOn([a, b, c]);
    expect(three.map((t) => t.taskArn)).toContain(first.taskArn);
    await waitFor('desiredCount 3', async () => (await desiredCount()) === 3);

    // B drains: its task stops, no task takes its place anywhere.
    await local.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'daemons', containerInstances: [b], status: 'DRAINING' }));
    await runningOn([a, c]);
    await waitFor('desiredCount 2', async () => (await desiredCount()) === 2);

    // C leaves the constraint: its task stops with SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED.
    const onC = three.find((t) => t.containerInstanceArn === c)!;
    await local.ecs.send(new PutAttributesCommand({ cluster: 'daemons', attributes: [{ name: 'collector', value: 'off', targetId: c }] }));
    await runningOn([a]);
    const violated = await waitFor('the constraint event', async () =>
      local.events().find((e) => e['detail-type'] === 'ECS Service Action' && e.detail.eventName === 'SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED'),
    );
    expect(violated.detail).toMatchObject({ eventType: 'ERROR', taskArns: [onC.taskArn] });
    expect(violated.resources).toEqual([service!.serviceArn]);
    const stopped = (await local.ecs.send(new DescribeTasksCommand({ cluster: 'daemons', tasks: [onC.taskArn!] }))).tasks![0]!;
    expect(stopped).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });
    await waitFor('desiredCount 1', async () => (await desiredCount()) === 1);
  }, 90_000);
});

describe('a REPLICA service piled into one zone', () => {
  it('is AZ rebalanced: a task starts in the empty zone, one stops in the full one, and both events say so', async () => {
    await local.ecs.send(new CreateClusterCommand({ clusterName: 'zones' }));
    await Promise.all([join_('us-east-1a', [], 'zones'), join_('us-east-1b', [], 'zones')]);
    await local.ecs.send(new CreateServiceCommand({
      cluster: 'zones', serviceName: 'web', taskDefinition: 'collector', desiredCount: 2, launchType: 'EC2',
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone == us-east-1a' }],
    }));
    const zonesOfLive = async () => {
      const { taskArns } = await local.ecs.send(new ListTasksCommand({ cluster: 'zones', serviceName: 'web' }));
      if (!taskArns?.length) return [];
      const { tasks } = await local.ecs.send(new DescribeTasksCommand({ cluster: 'zones', tasks: taskArns }));
      return tasks!.filter((t) => t.lastStatus !== 'STOPPED').map((t) => `${t.availabilityZone}:${t.lastStatus}`).sort();
    };
    await waitFor('two RUNNING tasks in us-east-1a', async () => (await zonesOfLive()).join() === 'us-east-1a:RUNNING,us-east-1a:RUNNING');
    await local.ecs.send(new UpdateServiceCommand({ cluster: 'zones', service: 'web', placementConstraints: [] }));
    const action = (name: string) => () =>
      local.events().find((e) => e['detail-type'] === 'ECS Service Action' && e.detail.eventName === name && e.resources?.[0]?.endsWith('/zones/web'));
    const started = await waitFor('SERVICE_REBALANCING_STARTED', action('SERVICE_REBALANCING_STARTED'), 60_000);
    expect(started.detail).toMatchObject({ eventType: 'INFO' });
    await waitFor('SERVICE_REBALANCING_COMPLETED', action('SERVICE_REBALANCING_COMPLETED'), 60_000);
    expect(await zonesOfLive()).toEqual(['us-east-1a:RUNNING', 'us-east-1b:RUNNING']);
    const { services } = await local.ecs.send(new DescribeServicesCommand({ cluster: 'zones', services: ['web'] }));
    expect(services![0]!.availabilityZoneRebalancing).toBe('ENABLED');
    expect(services![0]!.events!.map((e) => e.message)).toContain('service (web) is AZ balanced with 1 tasks in us-east-1a and 1 tasks in us-east-1b.');
  }, 90_000);
});
