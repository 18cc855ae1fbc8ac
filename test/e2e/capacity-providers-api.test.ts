/**
 * Auto Scaling group capacity providers through the real ECS SDK (an in-process Berth on the shared
 * DynamoDB Local): Create/Update/Delete/DescribeCapacityProviders with ECS's defaults and statuses,
 * association with clusters, container instances that join a provider, and the bad-input table
 * (exact error names, HTTP 400, the table unchanged).
 */
import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  DeleteCapacityProviderCommand,
  DescribeCapacityProvidersCommand,
  DescribeContainerInstancesCommand,
  ECSClient,
  PutClusterCapacityProvidersCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  UpdateCapacityProviderCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { snapshotTable } from '../support/table-snapshot';
import { sweepCapacity } from '../../src/app/capacity-sweep';

const groupArn = (name: string) =>
  `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:autoScalingGroupName/${name}`;
const providerArn = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:capacity-provider/${name}`;

let harness: Harness;
let ecs: ECSClient;

async function sdkError(call: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await call;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

const register = (cluster: string, attributes: { name: string; value?: string }[]) =>
  ecs.send(
    new RegisterContainerInstanceCommand({
      cluster,
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 2048 },
      ],
      attributes,
    }),
  );

beforeAll(async () => {
  harness = await startHarness();
  ecs = harness.ecs();
  // Fixtures the bad-input rows refer to: a provider, a cluster listing it.
  await ecs.send(new CreateCapacityProviderCommand({ name: 'taken', autoScalingGroupProvider: { autoScalingGroupArn: groupArn('taken-asg') } }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'fixed' }));
}, 60_000);
afterAll(() => harness?.close());

describe('CreateCapacityProvider, UpdateCapacityProvider, DescribeCapacityProviders', () => {
  it('creates a provider with ECS defaults for everything left out', async () => {
    const { capacityProvider } = await ecs.send(
      new CreateCapacityProviderCommand({ name: 'plain', autoScalingGroupProvider: { autoScalingGroupArn: groupArn('plain-asg') } }),
    );
    expect(capacityProvider).toEqual({
      capacityProviderArn: providerArn('plain'),
      name: 'plain',
      status: 'ACTIVE',
      type: 'EC2_AUTOSCALING',
      autoScalingGroupProvider: {
        autoScalingGroupArn: groupArn('plain-asg'),
        managedScaling: { status: 'DISABLED', targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 10000, instanceWarmupPeriod: 300 },
        managedTerminationProtection: 'DISABLED',
        managedDraining: 'ENABLED',
      },
    });
  });

  it('keeps what it is given, tags included, and Describe returns it beside FARGATE and FARGATE_SPOT', async () => {
    await ecs.send(
      new CreateCapacityProviderCommand({
        name: 'scaled',
        autoScalingGroupProvider: {
          autoScalingGroupArn: groupArn('scaled-asg'),
          managedScaling: { status: 'ENABLED', targetCapacity: 80, maximumScalingStepSize: 4 },
          managedTerminationProtection: 'ENABLED',
          managedDraining: 'DISABLED',
        },
        tags: [{ key: 'team', value: 'a' }],
      }),
    );
    const { capacityProviders } = await ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['scaled', 'FARGATE'], include: ['TAGS'] }));
    expect(capacityProviders!.map((p) => p.name)).toEqual(['scaled', 'FARGATE']);
    expect(capacityProviders![0]).toMatchObject({
      status: 'ACTIVE',
      tags: [{ key: 'team', value: 'a' }],
      autoScalingGroupProvider: {
        managedScaling: { status: 'ENABLED', targetCapacity: 80, minimumScalingStepSize: 1, maximumScalingStepSize: 4, instanceWarmupPeriod: 300 },
        managedTerminationProtection: 'ENABLED',
        managedDraining: 'DISABLED',
      },
    });
    const listed = await ecs.send(new DescribeCapacityProvidersCommand({}));
    expect(listed.capacityProviders!.map((p) => p.name)).toEqual(expect.arrayContaining(['FARGATE', 'FARGATE_SPOT', 'plain', 'scaled', 'taken']));
    // Without include TAGS, no tags member, as ECS sends it.
    expect(listed.capacityProviders!.find((p) => p.name === 'scaled')).not.toHaveProperty('tags');
  });

  it('updates the members given, keeps the rest, and answers UPDATE_COMPLETE', async () => {
    const { capacityProvider } = await ecs.send(
      new UpdateCapacityProviderCommand({ name: providerArn('scaled'), autoScalingGroupProvider: { managedScaling: { targetCapacity: 60 } } }),
    );
    expect(capacityProvider).toMatchObject({
      status: 'ACTIVE',
      updateStatus: 'UPDATE_COMPLETE',
      autoScalingGroupProvider: {
        managedScaling: { status: 'ENABLED', targetCapacity: 60, maximumScalingStepSize: 4 },
        managedTerminationProtection: 'ENABLED',
      },
    });
  });
});

describe('providers and clusters', () => {
  it('a cluster lists a provider; delete then answers DELETE_FAILED naming the cluster, and succeeds once it is removed', async () => {
    await ecs.send(new CreateCapacityProviderCommand({ name: 'leaving', autoScalingGroupProvider: { autoScalingGroupArn: groupArn('leaving-asg') } }));
    await ecs.send(new CreateClusterCommand({ clusterName: 'holder', capacityProviders: ['leaving'], defaultCapacityProviderStrategy: [{ capacityProvider: 'leaving', weight: 1 }] }));
    const inUse = await ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'leaving' }));
    expect(inUse.capacityProvider).toMatchObject({
      status: 'ACTIVE',
      updateStatus: 'DELETE_FAILED',
      updateStatusReason: 'The capacity provider cannot be deleted because it is associated with cluster: holder. Remove the capacity provider from the cluster and try again.',
    });
    const onCluster = await ecs.send(new DescribeCapacityProvidersCommand({ cluster: 'holder' }));
    expect(onCluster.capacityProviders!.map((p) => p.name)).toEqual(['leaving']);

    await ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'holder', capacityProviders: [], defaultCapacityProviderStrategy: [] }));
    const deleted = await ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: providerArn('leaving') }));
    expect(deleted.capacityProvider).toMatchObject({ status: 'INACTIVE', updateStatus: 'DELETE_COMPLETE' });
    expect(deleted.capacityProvider).not.toHaveProperty('updateStatusReason');
    // Named, it is still describable as INACTIVE; listed, it is gone.
    const named = await ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['leaving'] }));
    expect(named.capacityProviders).toMatchObject([{ name: 'leaving', status: 'INACTIVE' }]);
    const listed = await ecs.send(new DescribeCapacityProvidersCommand({}));
    expect(listed.capacityProviders!.map((p) => p.name)).not.toContain('leaving');
    // Its name and its Auto Scaling group are free again.
    const again = await ecs.send(new CreateCapacityProviderCommand({ name: 'leaving', autoScalingGroupProvider: { autoScalingGroupArn: groupArn('leaving-asg') } }));
    expect(again.capacityProvider).toMatchObject({ status: 'ACTIVE' });
    expect(again.capacityProvider).not.toHaveProperty('updateStatus');
  });

  it('a container instance joins a provider; a RunTask of the provider is placed on its instance, never the plain one, launch type EC2', async () => {
    await ecs.send(new CreateCapacityProviderCommand({ name: 'workers', autoScalingGroupProvider: { autoScalingGroupArn: groupArn('workers-asg') } }));
    await ecs.send(new CreateClusterCommand({ clusterName: 'jobs', capacityProviders: ['workers'] }));
    // A plain instance: EC2 launch type capacity, not the provider's.
    await register('jobs', []);
    const { containerInstance } = await register('jobs', [{ name: 'berth.capacity-provider', value: 'workers' }]);
    expect(containerInstance).toMatchObject({ capacityProviderName: 'workers' });
    const described = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'jobs', containerInstances: [containerInstance!.containerInstanceArn!] }));
    expect(described.containerInstances![0].capacityProviderName).toBe('workers');

    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'job', containerDefinitions: [{ name: 'main', image: 'busybox', memory: 128 }] }));
    const { tasks, failures } = await ecs.send(
      new RunTaskCommand({ cluster: 'jobs', taskDefinition: 'job', capacityProviderStrategy: [{ capacityProvider: 'workers', weight: 1 }] }),
    );
    expect(failures).toEqual([]);
    expect(tasks![0]).toMatchObject({ launchType: 'EC2', capacityProviderName: 'workers' });
    // It fits on the provider's instance, so RunTask places it there as it creates it (as ECS does when
    // the provider has room); the plain instance is EC2 launch type capacity, not the provider's.
    expect(tasks![0].containerInstanceArn).toBe(containerInstance!.containerInstanceArn);
  });

  it('the capacity sweep publishes CapacityProviderReservation: an EMF line, and the extension member of DescribeCapacityProviders', async () => {
    const emf: string[] = [];
    const { reservations } = await sweepCapacity(harness.context, { account: ACCOUNT, region: REGION }, { metricSink: (line) => emf.push(line) });
    // 'jobs' lists 'workers', whose one instance runs the task above: one instance needed, one present: 100.
    const jobsArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/jobs`;
    expect(reservations).toContainEqual({ clusterArn: jobsArn, capacityProvider: 'workers', value: 100 });
    const line = emf.map((l) => JSON.parse(l)).find((r) => r.ClusterName === 'jobs' && r.CapacityProviderName === 'workers');
    expect(line).toMatchObject({ CapacityProviderReservation: 100, _aws: { CloudWatchMetrics: [{ Namespace: 'Berth/ManagedScaling' }] } });

    const raw = await harness.raw('DescribeCapacityProviders', JSON.stringify({ capacityProviders: ['workers', 'plain'] }));
    expect(raw.status).toBe(200);
    expect(raw.json.capacityProviders[0].managedScalingMetrics).toEqual([
      { clusterArn: jobsArn, capacityProviderReservation: 100, computedAt: expect.any(Number) },
    ]);
    // A provider no cluster lists has no metric.
    expect(raw.json.capacityProviders[1]).not.toHaveProperty('managedScalingMetrics');
    // The SDK knows no such member and drops it: ECS's shape is untouched.
    const viaSdk = await ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['workers'] }));
    expect(viaSdk.capacityProviders![0]).not.toHaveProperty('managedScalingMetrics');
  });
});

type Input = Record<string, unknown>;
interface Row {
  readonly name: string;
  readonly send: () => Promise<unknown>;
  readonly error: string;
  readonly message?: string | RegExp;
}

const create = (name: string, provider: Input = {}, extra: Input = {}) => () =>
  ecs.send(
    new CreateCapacityProviderCommand({
      name,
      autoScalingGroupProvider: { autoScalingGroupArn: groupArn(`${name}-asg`), ...provider } as never,
      ...extra,
    }),
  );

const rows: Row[] = [
  ...['FARGATE', 'FARGATE_SPOT', 'aws-pool', 'ecs_pool', 'fargate2', 'Fargate-x', 'AWSpool'].map((name) => ({
    name: `CreateCapacityProvider reserved name ${name}`,
    send: create(name),
    error: 'ClientException',
    message: /cannot begin with 'aws', 'ecs', or 'fargate'/,
  })),
  { name: 'CreateCapacityProvider name with a space', send: create('has space'), error: 'ClientException' },
  { name: 'CreateCapacityProvider name of 256 characters', send: create('p'.repeat(256)), error: 'ClientException' },
  { name: 'CreateCapacityProvider existing name', send: create('taken'), error: 'ClientException', message: /already exists/ },
  {
    name: 'CreateCapacityProvider group of another provider',
    send: create('thief', { autoScalingGroupArn: groupArn('taken-asg') }),
    error: 'ClientException',
    message: 'The specified Auto Scaling group ARN is already being used by another capacity provider. Specify a unique Auto Scaling group ARN and try again.',
  },
  { name: 'CreateCapacityProvider without autoScalingGroupProvider', send: () => ecs.send(new CreateCapacityProviderCommand({ name: 'bare' })), error: 'InvalidParameterException' },
  {
    name: 'CreateCapacityProvider group that is no Auto Scaling group ARN',
    send: create('wrong', { autoScalingGroupArn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0' }),
    error: 'InvalidParameterException',
  },
  { name: 'CreateCapacityProvider targetCapacity 0', send: create('t0', { managedScaling: { targetCapacity: 0 } }), error: 'InvalidParameterException' },
  { name: 'CreateCapacityProvider targetCapacity 101', send: create('t101', { managedScaling: { targetCapacity: 101 } }), error: 'InvalidParameterException' },
  { name: 'CreateCapacityProvider minimumScalingStepSize 0', send: create('s0', { managedScaling: { minimumScalingStepSize: 0 } }), error: 'InvalidParameterException' },
  { name: 'CreateCapacityProvider maximumScalingStepSize 10001', send: create('s1', { managedScaling: { maximumScalingStepSize: 10001 } }), error: 'InvalidParameterException' },
  { name: 'CreateCapacityProvider instanceWarmupPeriod -1', send: create('w', { managedScaling: { instanceWarmupPeriod: -1 } }), error: 'InvalidParameterException' },
  {
    name: 'CreateCapacityProvider minimum step above maximum',
    send: create('steps', { managedScaling: { minimumScalingStepSize: 5, maximumScalingStepSize: 2 } }),
    error: 'InvalidParameterException',
  },
  { name: 'CreateCapacityProvider managedScaling status ON', send: create('on', { managedScaling: { status: 'ON' } }), error: 'InvalidParameterException' },
  { name: 'CreateCapacityProvider managedDraining YES', send: create('d', { managedDraining: 'YES' }), error: 'InvalidParameterException' },
  {
    name: 'CreateCapacityProvider termination protection without managed scaling',
    send: create('protect', { managedTerminationProtection: 'ENABLED' }),
    error: 'InvalidParameterException',
    message: /only be enabled when managed scaling is enabled/,
  },
  {
    name: 'CreateCapacityProvider 51 tags',
    send: create('tagged', {}, { tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }),
    error: 'InvalidParameterException',
  },
  { name: 'CreateCapacityProvider on a missing cluster', send: create('lost', {}, { cluster: 'nowhere' }), error: 'ClusterNotFoundException' },
  { name: 'UpdateCapacityProvider unknown', send: () => ecs.send(new UpdateCapacityProviderCommand({ name: 'ghost', autoScalingGroupProvider: {} })), error: 'ClientException' },
  { name: 'UpdateCapacityProvider FARGATE', send: () => ecs.send(new UpdateCapacityProviderCommand({ name: 'FARGATE', autoScalingGroupProvider: {} })), error: 'ClientException' },
  {
    name: 'UpdateCapacityProvider targetCapacity 0',
    send: () => ecs.send(new UpdateCapacityProviderCommand({ name: 'taken', autoScalingGroupProvider: { managedScaling: { targetCapacity: 0 } } })),
    error: 'InvalidParameterException',
  },
  {
    name: 'UpdateCapacityProvider termination protection without managed scaling',
    send: () => ecs.send(new UpdateCapacityProviderCommand({ name: 'taken', autoScalingGroupProvider: { managedTerminationProtection: 'ENABLED' } })),
    error: 'InvalidParameterException',
  },
  { name: 'DeleteCapacityProvider unknown', send: () => ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'ghost' })), error: 'ClientException' },
  { name: 'DeleteCapacityProvider FARGATE_SPOT', send: () => ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'FARGATE_SPOT' })), error: 'ClientException' },
  {
    name: 'DeleteCapacityProvider ARN of another account',
    send: () => ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'arn:aws:ecs:us-east-1:999999999999:capacity-provider/taken' })),
    error: 'ClientException',
  },
  {
    name: 'PutClusterCapacityProviders unknown provider',
    send: () => ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'fixed', capacityProviders: ['ghost'], defaultCapacityProviderStrategy: [] })),
    error: 'InvalidParameterException',
    message: /'ghost' does not exist/,
  },
  {
    name: 'PutClusterCapacityProviders strategy mixing Fargate and an Auto Scaling group provider',
    send: () =>
      ecs.send(
        new PutClusterCapacityProvidersCommand({
          cluster: 'fixed',
          capacityProviders: ['FARGATE', 'taken'],
          defaultCapacityProviderStrategy: [
            { capacityProvider: 'FARGATE', weight: 1 },
            { capacityProvider: 'taken', weight: 1 },
          ],
        }),
      ),
    error: 'InvalidParameterException',
    message: 'A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers. Specify one or the other and try again.',
  },
  {
    name: 'CreateCluster with an unknown provider',
    send: () => ecs.send(new CreateClusterCommand({ clusterName: 'never', capacityProviders: ['ghost'] })),
    error: 'InvalidParameterException',
  },
  {
    name: 'RegisterContainerInstance with an unknown provider',
    send: () => register('fixed', [{ name: 'berth.capacity-provider', value: 'ghost' }]),
    error: 'InvalidParameterException',
  },
  {
    name: 'RegisterContainerInstance of a Fargate host with a provider',
    send: () =>
      register('fixed', [
        { name: 'berth.fargate-capacity', value: 'FARGATE' },
        { name: 'berth.capacity-provider', value: 'taken' },
      ]),
    error: 'InvalidParameterException',
  },
];

describe('bad inputs', () => {
  it.each(rows)('$name -> $error', async (row) => {
    const before = await snapshotTable(harness.tableName);
    const failed = await sdkError(row.send());
    expect(failed).toMatchObject({ name: row.error, status: 400 });
    if (typeof row.message === 'string') expect(failed.message).toBe(row.message);
    else if (row.message) expect(failed.message).toMatch(row.message);
    expect(await snapshotTable(harness.tableName)).toEqual(before);
  });
});
