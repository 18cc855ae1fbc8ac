import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeCapacityProvidersCommand,
  DescribeClustersCommand,
  ListClustersCommand,
  PutClusterCapacityProvidersCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, startHarness, type Harness } from '../support/berth-harness';

let berth: Harness;
beforeAll(async () => {
  berth = await startHarness();
});
afterAll(() => berth.close());

describe('clusters through the ECS SDK', () => {
  it('creates the default cluster when no name is given, and CreateCluster is idempotent', async () => {
    const ecs = berth.ecs();
    const first = await ecs.send(new CreateClusterCommand({}));
    expect(first.cluster).toMatchObject({
      clusterName: 'default',
      clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default`,
      status: 'ACTIVE',
      runningTasksCount: 0,
      pendingTasksCount: 0,
      settings: [{ name: 'containerInsights', value: 'disabled' }],
    });
    const again = await ecs.send(new CreateClusterCommand({ clusterName: 'default' }));
    expect(again.cluster?.clusterArn).toBe(first.cluster?.clusterArn);
  });

  it('describes known clusters and reports unknown ones as MISSING failures', async () => {
    const ecs = berth.ecs();
    await ecs.send(new CreateClusterCommand({ clusterName: 'described', tags: [{ key: 'team', value: 'a' }] }));
    const result = await ecs.send(
      new DescribeClustersCommand({ clusters: ['described', 'nope'], include: ['TAGS', 'STATISTICS', 'SETTINGS'] }),
    );
    expect(result.clusters).toHaveLength(1);
    expect(result.clusters?.[0]).toMatchObject({
      clusterName: 'described',
      tags: [{ key: 'team', value: 'a' }],
      statistics: expect.arrayContaining([{ name: 'runningFargateTasksCount', value: '0' }]),
    });
    expect(result.failures).toEqual([{ arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/nope`, reason: 'MISSING' }]);
  });

  it('lists clusters page by page with opaque tokens', async () => {
    const ecs = berth.ecs('eu-west-1');
    for (const name of ['p1', 'p2', 'p3']) await ecs.send(new CreateClusterCommand({ clusterName: name }));
    const first = await ecs.send(new ListClustersCommand({ maxResults: 2 }));
    expect(first.clusterArns).toHaveLength(2);
    const second = await ecs.send(new ListClustersCommand({ maxResults: 2, nextToken: first.nextToken }));
    expect([...first.clusterArns!, ...second.clusterArns!].sort()).toEqual(
      ['p1', 'p2', 'p3'].map((name) => `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/${name}`),
    );
    expect(second.nextToken).toBeUndefined();
  });

  it('gives each region its own clusters and ARNs, following the SigV4 credential scope', async () => {
    await berth.ecs('ap-south-1').send(new CreateClusterCommand({ clusterName: 'regional' }));
    const there = await berth.ecs('ap-south-1').send(new DescribeClustersCommand({ clusters: ['regional'] }));
    expect(there.clusters?.[0].clusterArn).toBe(`arn:aws:ecs:ap-south-1:${ACCOUNT}:cluster/regional`);
    const elsewhere = await berth.ecs('us-west-2').send(new DescribeClustersCommand({ clusters: ['regional'] }));
    expect(elsewhere.failures?.[0].reason).toBe('MISSING');
  });

  it('deletes a cluster: INACTIVE in describe, gone from lists, and can be created again', async () => {
    const ecs = berth.ecs('ca-central-1');
    await ecs.send(new CreateClusterCommand({ clusterName: 'doomed' }));
    const deleted = await ecs.send(new DeleteClusterCommand({ cluster: 'doomed' }));
    expect(deleted.cluster?.status).toBe('INACTIVE');
    const described = await ecs.send(new DescribeClustersCommand({ clusters: ['doomed'] }));
    expect(described.clusters?.[0].status).toBe('INACTIVE');
    expect((await ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
    await expect(ecs.send(new DeleteClusterCommand({ cluster: 'doomed' }))).rejects.toMatchObject({
      name: 'ClusterNotFoundException',
    });
    const recreated = await ecs.send(new CreateClusterCommand({ clusterName: 'doomed' }));
    expect(recreated.cluster?.status).toBe('ACTIVE');
  });

  it('associates Fargate capacity providers and a default strategy', async () => {
    const ecs = berth.ecs();
    await ecs.send(new CreateClusterCommand({ clusterName: 'cp' }));
    const result = await ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: 'cp',
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [
          { capacityProvider: 'FARGATE', base: 1, weight: 1 },
          { capacityProvider: 'FARGATE_SPOT', weight: 3 },
        ],
      }),
    );
    expect(result.cluster?.capacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
    expect(result.cluster?.defaultCapacityProviderStrategy).toEqual([
      { capacityProvider: 'FARGATE', base: 1, weight: 1 },
      { capacityProvider: 'FARGATE_SPOT', base: 0, weight: 3 },
    ]);
    await expect(
      ecs.send(
        new PutClusterCapacityProvidersCommand({
          cluster: 'cp',
          capacityProviders: ['FARGATE'],
          defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('describes the built-in FARGATE and FARGATE_SPOT capacity providers', async () => {
    const result = await berth.ecs().send(new DescribeCapacityProvidersCommand({}));
    expect(result.capacityProviders?.map((cp) => [cp.name, cp.status, cp.capacityProviderArn])).toEqual([
      ['FARGATE', 'ACTIVE', `arn:aws:ecs:us-east-1:${ACCOUNT}:capacity-provider/FARGATE`],
      ['FARGATE_SPOT', 'ACTIVE', `arn:aws:ecs:us-east-1:${ACCOUNT}:capacity-provider/FARGATE_SPOT`],
    ]);
    const some = await berth.ecs().send(new DescribeCapacityProvidersCommand({ capacityProviders: ['FARGATE', 'X'] }));
    expect(some.capacityProviders?.map((cp) => cp.name)).toEqual(['FARGATE']);
    expect(some.failures?.[0].reason).toBe('MISSING');
  });
});
