/**
 * The scheduler pass against DynamoDB Local, with no loop and no engine running (tasks stay where the
 * pass left them): what one pass writes, that repeating it writes no more tasks, that passes raced on
 * one service start desiredCount tasks in all (one actor), and that a write guarded by an overtaken
 * claim is refused without a trace.
 */
import { CreateClusterCommand, CreateServiceCommand, DeleteServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../src/domain/errors';
import { serviceGroup } from '../../src/domain/service';
import { runServicePass } from '../../src/app/service-scheduler';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/sched`;
let berth: Harness;

beforeAll(async () => {
  berth = await startHarness();
  const ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'sched' }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      // Started all at once: no image digest resolution (seed 002) waits on a first task that no agent runs here.
      containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sleep', '60'], versionConsistency: 'disabled' }],
    }),
  );
}, 60_000);
afterAll(async () => {
  await berth?.close();
});

async function createService(serviceName: string, desiredCount: number) {
  const { service } = await berth.ecs().send(
    new CreateServiceCommand({
      cluster: 'sched',
      serviceName,
      taskDefinition: 'web',
      desiredCount,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'] } },
      propagateTags: 'SERVICE',
      tags: [{ key: 'team', value: 'web' }],
    }),
  );
  return service!;
}
const tasksOf = (name: string) => berth.context.tasks.inGroup(CLUSTER_ARN, serviceGroup(name));

describe('a scheduler pass', () => {
  it('starts desiredCount tasks of the service, once: a repeated pass starts none', async () => {
    const service = await createService('once', 3);
    const deploymentId = service.deployments![0].id!;
    const first = await runServicePass(berth.context, service.serviceArn!);
    expect(first.started).toHaveLength(3);
    const tasks = await tasksOf('once');
    expect(tasks).toHaveLength(3);
    for (const { record } of tasks) {
      expect(record).toMatchObject({
        group: 'service:once',
        startedBy: deploymentId,
        launchType: 'FARGATE',
        lastStatus: 'PROVISIONING',
        desiredStatus: 'RUNNING',
        tags: [{ key: 'team', value: 'web' }],
      });
    }
    const again = await runServicePass(berth.context, service.serviceArn!);
    expect(again.started).toEqual([]);
    expect(await tasksOf('once')).toHaveLength(3);
    const stored = await berth.context.services.get(CLUSTER_ARN, 'once');
    expect(stored!.events.map((e) => e.message)).toEqual([
      `(service once) has started 3 tasks: ${first.started!.map((arn) => `(task ${arn.split('/').pop()})`).join(' ')}.`,
    ]);
    expect(stored!.deployments[0]).toMatchObject({ pendingCount: 3, runningCount: 0 });
    expect(first.nextWakeAt).toBeGreaterThan(0);
  });

  it('raced with itself on one service starts desiredCount tasks in all', async () => {
    const service = await createService('raced', 4);
    const results = await Promise.all([1, 2, 3].map(() => runServicePass(berth.context, service.serviceArn!)));
    const tasks = await tasksOf('raced');
    expect(tasks).toHaveLength(4);
    expect(results.flatMap((r) => r.started ?? []).sort()).toEqual(tasks.map((t) => t.record.taskArn).sort());
    // An attempt overtaken after starting tasks still says so in the events, through its retry.
    const events = (await berth.context.services.get(CLUSTER_ARN, 'raced'))!.events.map((e) => e.message);
    const announced = events.flatMap((m) => [...m.matchAll(/\(task ([0-9a-f]{32})\)/g)].map((x) => x[1]));
    expect(announced.sort()).toEqual(tasks.map((t) => t.record.taskArn.split('/').pop()).sort());
  });

  it('refuses a write guarded by a claim another pass has overtaken, writing nothing', async () => {
    const service = await createService('overtaken', 1);
    const stored = (await berth.context.services.get(CLUSTER_ARN, 'overtaken'))!;
    const held = await berth.context.services.claim(CLUSTER_ARN, 'overtaken', stored.version);
    await berth.context.services.claim(CLUSTER_ARN, 'overtaken', held); // another pass takes it over
    const before = (await berth.context.clusters.get(CLUSTER_ARN))!.counts;
    const pass = await runServicePass(berth.context, service.serviceArn!); // a fresh pass still works
    expect(pass.started).toHaveLength(1);
    const [task] = await tasksOf('overtaken');
    const stale = berth.context.services.guard(CLUSTER_ARN, 'overtaken', held);
    const copy = { ...task.record, taskArn: task.record.taskArn.replace(/[0-9a-f]{4}$/, 'beef'), updatedAt: Date.now() };
    await expect(berth.context.tasks.create(CLUSTER_ARN, [copy], { pendingTasksCount: 1 }, undefined, [], stale)).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    await expect(
      berth.context.tasks.applyChange({ task: { ...task.record, desiredStatus: 'STOPPED', version: task.version + 1, updatedAt: Date.now() }, expectedVersion: task.version, guard: stale }),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(await tasksOf('overtaken')).toEqual([task]);
    expect((await berth.context.clusters.get(CLUSTER_ARN))!.counts.pendingTasksCount).toBe(before.pendingTasksCount + 1);
  });

  it('drains a deleted service: every task asked to stop with ServiceSchedulerInitiated', async () => {
    const service = await createService('drain', 2);
    await runServicePass(berth.context, service.serviceArn!);
    await berth.ecs().send(new DeleteServiceCommand({ cluster: 'sched', service: 'drain', force: true }));
    const pass = await runServicePass(berth.context, service.serviceArn!);
    expect(pass.plan!.stop.map((s) => s.rule)).toEqual(['draining', 'draining']);
    for (const { record } of await tasksOf('drain')) {
      expect(record).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });
    }
    const { services } = await berth.ecs().send(new DescribeServicesCommand({ cluster: 'sched', services: ['drain'] }));
    expect(services![0].status).toBe('DRAINING'); // INACTIVE once the tasks are STOPPED (the engine's part)
    expect(services![0].events![0].message).toMatch(/^\(service drain\) has stopped 2 running tasks: /);
  });
});
