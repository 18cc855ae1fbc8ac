/**
 * Placement end to end through the real ECS SDK on a local Berth (stream-driven engine, service loop):
 * three container instances in three zones, with custom attributes put through PutAttributes; RunTask
 * and a service place by their strategies and constraints, ListContainerInstances filters with the
 * same query language, and bad expressions answer InvalidParameterException.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteAttributesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListAttributesCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  PutAttributesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  UpdateServiceCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerHost } from '../support/hosts';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

let local: LocalBerth;
let clusters = 0;
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

beforeAll(async () => {
  local = await startLocalBerth({ agent: false });
  // 256 CPU units and 512 MiB per task (EC2 tasks sum their containers); no agent runs them: placed
  // tasks stay PENDING on their host, which is all placement needs. versionConsistency disabled: with
  // no agent to report a first task's image digest (seed 002), a service's tasks start all at once.
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'small', containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 256, memory: 512, versionConsistency: 'disabled' }] }),
  );
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'pinned',
      containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 256, memory: 512, versionConsistency: 'disabled' }],
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone == us-east-1c' }],
    }),
  );
}, 60_000);
afterAll(async () => {
  await local?.close();
});

/** A fresh cluster with one host per zone (4 vCPU, 8 GiB each); host ARNs by zone letter. */
async function cluster(): Promise<{ name: string; hosts: Record<string, string> }> {
  const name = `p${++clusters}`;
  await local.ecs.send(new CreateClusterCommand({ clusterName: name }));
  const hosts: Record<string, string> = {};
  for (const zone of ZONES) hosts[zone.slice(-1)] = await registerHost(local.ecs, name, { cpu: 4096, memory: 8192 }, zone);
  return { name, hosts };
}

const zonesOf = (tasks: Task[]) => tasks.map((t) => t.availabilityZone!.slice(-1)).sort();

describe('RunTask placement', () => {
  it('spread attribute:ecs.availability-zone: three tasks, one per zone', async () => {
    const { name } = await cluster();
    const result = await local.ecs.send(
      new RunTaskCommand({
        cluster: name, taskDefinition: 'small', count: 3,
        placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
      }),
    );
    expect(result.failures).toEqual([]);
    expect(zonesOf(result.tasks!)).toEqual(['a', 'b', 'c']);
  });

  it('binpack memory: the second task joins the first on its host', async () => {
    const { name } = await cluster();
    const run = () => local.ecs.send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', placementStrategy: [{ type: 'binpack', field: 'memory' }] }));
    const [first, second] = [(await run()).tasks![0], (await run()).tasks![0]];
    expect(second.containerInstanceArn).toBe(first.containerInstanceArn);
  });

  it('memberOf a custom attribute put with PutAttributes; ListAttributes and ListContainerInstances filter see it; deleted, nothing matches', async () => {
    const { name, hosts } = await cluster();
    await local.ecs.send(new PutAttributesCommand({ cluster: name, attributes: [{ name: 'stack', value: 'blue', targetId: hosts.b }] }));
    const listed = await local.ecs.send(new ListAttributesCommand({ cluster: name, targetType: 'container-instance', attributeName: 'stack' }));
    expect(listed.attributes).toEqual([{ name: 'stack', value: 'blue', targetType: 'container-instance', targetId: hosts.b }]);
    const filtered = await local.ecs.send(new ListContainerInstancesCommand({ cluster: name, filter: 'attribute:stack == blue' }));
    expect(filtered.containerInstanceArns).toEqual([hosts.b]);
    const notBlue = await local.ecs.send(new ListContainerInstancesCommand({ cluster: name, filter: 'not(attribute:stack == blue)' }));
    expect(notBlue.containerInstanceArns!.sort()).toEqual([hosts.a, hosts.c].sort());

    const memberOf = [{ type: 'memberOf' as const, expression: 'attribute:stack == blue' }];
    const placed = await local.ecs.send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', count: 3, placementConstraints: memberOf }));
    expect(placed.tasks!.map((t) => t.containerInstanceArn)).toEqual([hosts.b, hosts.b, hosts.b]);

    await local.ecs.send(new DeleteAttributesCommand({ cluster: name, attributes: [{ name: 'stack', targetId: hosts.b }] }));
    const refused = await local.ecs.send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', placementConstraints: memberOf }));
    expect(refused.tasks).toEqual([]);
    expect(refused.failures).toEqual([{ arn: expect.stringContaining(':container-instance/'), reason: 'MemberOf', detail: expect.any(String) }]);
  });

  it('distinctInstance: four tasks on three hosts place three and fail one with DistinctInstance', async () => {
    const { name } = await cluster();
    const result = await local.ecs.send(
      new RunTaskCommand({ cluster: name, taskDefinition: 'small', count: 4, group: 'batch', placementConstraints: [{ type: 'distinctInstance' }] }),
    );
    expect(new Set(result.tasks!.map((t) => t.containerInstanceArn)).size).toBe(3);
    expect(result.failures!.map((f) => f.reason)).toEqual(['DistinctInstance']);
  });

  it("the task definition's memberOf constraint holds too", async () => {
    const { name, hosts } = await cluster();
    const result = await local.ecs.send(new RunTaskCommand({ cluster: name, taskDefinition: 'pinned', count: 2 }));
    expect(result.tasks!.map((t) => t.containerInstanceArn)).toEqual([hosts.c, hosts.c]);
  });

  it.each([
    { name: 'a lone =', constraints: [{ type: 'memberOf' as const, expression: 'attribute:stack = blue' }], message: "'='" },
    { name: 'an unknown subject', constraints: [{ type: 'memberOf' as const, expression: 'instanceType == t2.small' }], message: "'instanceType'" },
    { name: 'distinctInstance with an expression', constraints: [{ type: 'distinctInstance' as const, expression: 'runningTasksCount == 0' }], message: 'distinctInstance' },
  ])('refuses $name with InvalidParameterException, creating nothing', async ({ constraints, message }) => {
    const { name } = await cluster();
    await expect(local.ecs.send(new RunTaskCommand({ cluster: name, taskDefinition: 'small', placementConstraints: constraints }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining(message),
    });
    expect((await local.ecs.send(new ListTasksCommand({ cluster: name }))).taskArns).toEqual([]);
  });
});

it("RunTask: ten constraints plus the task definition's one are over ECS's limit of 10", async () => {
  const { name } = await cluster();
  const ten = Array.from({ length: 10 }, () => ({ type: 'distinctInstance' as const }));
  await expect(local.ecs.send(new RunTaskCommand({ cluster: name, taskDefinition: 'pinned', placementConstraints: ten }))).rejects.toMatchObject({
    name: 'InvalidParameterException',
    message: expect.stringContaining("the task definition's included"),
  });
  const placed = await local.ecs.send(new RunTaskCommand({ cluster: name, taskDefinition: 'pinned', placementConstraints: ten.slice(1) }));
  expect(placed.tasks).toHaveLength(1);
});

describe('attributes: ECS errors', () => {
  it('an unknown target is TargetNotFoundException; an eleventh custom attribute is AttributeLimitExceededException; ecs.* is reserved', async () => {
    const { name, hosts } = await cluster();
    const unknown = hosts.a.replace(/[0-9a-f]{32}$/, '0'.repeat(32));
    await expect(
      local.ecs.send(new PutAttributesCommand({ cluster: name, attributes: [{ name: 'stack', value: 'x', targetId: unknown }] })),
    ).rejects.toMatchObject({ name: 'TargetNotFoundException' });
    const ten = Array.from({ length: 10 }, (_, i) => ({ name: `custom${i}`, value: 'v', targetId: hosts.a }));
    await local.ecs.send(new PutAttributesCommand({ cluster: name, attributes: ten }));
    await expect(
      local.ecs.send(new PutAttributesCommand({ cluster: name, attributes: [{ name: 'custom10', value: 'v', targetId: hosts.a }] })),
    ).rejects.toMatchObject({ name: 'AttributeLimitExceededException' });
    await expect(
      local.ecs.send(new PutAttributesCommand({ cluster: name, attributes: [{ name: 'ecs.instance-type', value: 'huge', targetId: hosts.a }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});

/** The service's tasks once `count` of them hold a host. */
async function placedTasks(cluster: string, service: string, count: number): Promise<Task[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { taskArns } = await local.ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING' }));
    if (taskArns!.length >= count) {
      const { tasks } = await local.ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns! }));
      if (tasks!.filter((t) => t.containerInstanceArn).length >= count) return tasks!;
    }
    if (Date.now() > deadline) throw new Error(`service ${service} did not place ${count} tasks`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('service placement', () => {
  it('by default a service spreads its tasks across availability zones', async () => {
    const { name } = await cluster();
    await local.ecs.send(new CreateServiceCommand({ cluster: name, serviceName: 'web', taskDefinition: 'small', desiredCount: 3, launchType: 'EC2' }));
    expect(zonesOf(await placedTasks(name, 'web', 3))).toEqual(['a', 'b', 'c']);
  });

  it('a memberOf constraint keeps its tasks off hosts that do not match; DescribeServices shows the placement', async () => {
    const { name, hosts } = await cluster();
    const placementConstraints = [{ type: 'memberOf' as const, expression: 'attribute:ecs.availability-zone in [us-east-1a, us-east-1b]' }];
    const placementStrategy = [{ type: 'spread' as const, field: 'instanceId' }];
    await local.ecs.send(
      new CreateServiceCommand({ cluster: name, serviceName: 'api', taskDefinition: 'small', desiredCount: 4, launchType: 'EC2', placementConstraints, placementStrategy }),
    );
    const tasks = await placedTasks(name, 'api', 4);
    expect(tasks.every((t) => t.containerInstanceArn === hosts.a || t.containerInstanceArn === hosts.b)).toBe(true);
    expect(zonesOf(tasks)).toEqual(['a', 'a', 'b', 'b']);
    const { services } = await local.ecs.send(new DescribeServicesCommand({ cluster: name, services: ['api'] }));
    expect(services![0]).toMatchObject({ placementConstraints, placementStrategy });

    // UpdateService moves its next tasks: now only zone c.
    const onlyC = [{ type: 'memberOf' as const, expression: 'attribute:ecs.availability-zone == us-east-1c' }];
    await local.ecs.send(new UpdateServiceCommand({ cluster: name, service: 'api', desiredCount: 6, placementConstraints: onlyC }));
    const after = await placedTasks(name, 'api', 6);
    expect(after.filter((t) => t.containerInstanceArn === hosts.c)).toHaveLength(2);
  });
});
