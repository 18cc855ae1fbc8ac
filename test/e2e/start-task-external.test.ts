/**
 * StartTask on an external instance (ECS Anywhere: registered with a `mi-` managed instance id),
 * through the real ECS SDK: the task has launch type EXTERNAL (an EC2 instance named in the same call
 * gets an EC2 task), counts as an external task in the cluster's statistics, and an awsvpc definition
 * is refused there with HTTP 400 and nothing written.
 */
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  ECSClient,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';
import { snapshotTable } from '../support/table-snapshot';

let harness: Harness;
let ecs: ECSClient;
let external: string;
let ec2: string;

beforeAll(async () => {
  harness = await startHarness();
  ecs = harness.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'edge' }));
  const { containerInstance } = await ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: 'edge',
      instanceIdentityDocument: JSON.stringify({ instanceId: 'mi-0123456789abcdef0', availabilityZone: 'us-east-1a' }),
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 2048 },
      ],
    }),
  );
  external = containerInstance!.containerInstanceArn!;
  ec2 = await registerHost(ecs, 'edge');
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'edge-job', containerDefinitions: [{ name: 'main', image: 'busybox', memory: 128 }] }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'vpc-job',
      networkMode: 'awsvpc',
      containerDefinitions: [{ name: 'main', image: 'busybox', memory: 128 }],
    }),
  );
}, 60_000);
afterAll(() => harness?.close());

describe('StartTask with the EXTERNAL launch type', () => {
  it('starts an EXTERNAL task on the external instance and an EC2 task on the EC2 one', async () => {
    const { tasks, failures } = await ecs.send(new StartTaskCommand({ cluster: 'edge', taskDefinition: 'edge-job', containerInstances: [external, ec2] }));
    expect(failures).toEqual([]);
    expect(tasks!.map((t) => [t.containerInstanceArn, t.launchType])).toEqual(
      expect.arrayContaining([
        [external, 'EXTERNAL'],
        [ec2, 'EC2'],
      ]),
    );
    const [cluster] = (await ecs.send(new DescribeClustersCommand({ clusters: ['edge'], include: ['STATISTICS'] }))).clusters!;
    const stat = (name: string) => cluster.statistics!.find((s) => s.name === name)?.value;
    expect([stat('pendingExternalTasksCount'), stat('pendingEC2TasksCount')]).toEqual(['1', '1']);
  });

  it('refuses an awsvpc definition on an external instance: InvalidParameterException, HTTP 400, nothing written', async () => {
    const before = await snapshotTable(harness.tableName);
    await expect(
      ecs.send(
        new StartTaskCommand({
          cluster: 'edge',
          taskDefinition: 'vpc-job',
          containerInstances: [ec2, external],
          networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException', message: 'Task definition does not support launch_type EXTERNAL.', $metadata: { httpStatusCode: 400 } });
    expect(await snapshotTable(harness.tableName)).toEqual(before);
  });
});
