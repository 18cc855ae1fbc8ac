/**
 * UpdateCluster and UpdateClusterSettings through the real ECS SDK on DynamoDB Local: settings,
 * the execute command configuration and the Service Connect default namespace are stored, returned
 * and described; bad inputs answer the exact ECS error with HTTP 400 and leave the table as it was.
 */
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  UpdateClusterCommand,
  UpdateClusterSettingsCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/berth-harness';
import { snapshotTable } from '../support/table-snapshot';

let berth: Harness;
let ecs: ECSClient;

beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
  for (const clusterName of ['upd', 'settings', 'fixed']) await ecs.send(new CreateClusterCommand({ clusterName }));
});
afterAll(() => berth?.close());

const describeOne = async (cluster: string) =>
  (await ecs.send(new DescribeClustersCommand({ clusters: [cluster], include: ['SETTINGS', 'CONFIGURATIONS', 'TAGS'] }))).clusters![0];

const EXECUTE = {
  kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abc',
  logging: 'OVERRIDE' as const,
  logConfiguration: { cloudWatchLogGroupName: '/ecs/exec', cloudWatchEncryptionEnabled: true, s3BucketName: 'logs', s3KeyPrefix: 'exec/' },
};

describe('UpdateCluster', () => {
  it('stores and returns containerInsights, the execute command configuration and the Service Connect namespace', async () => {
    const { cluster } = await ecs.send(
      new UpdateClusterCommand({
        cluster: 'upd',
        settings: [{ name: 'containerInsights', value: 'enhanced' }],
        configuration: { executeCommandConfiguration: EXECUTE },
        serviceConnectDefaults: { namespace: 'internal' },
      }),
    );
    const expected = {
      clusterName: 'upd',
      status: 'ACTIVE',
      settings: [{ name: 'containerInsights', value: 'enhanced' }],
      configuration: { executeCommandConfiguration: EXECUTE },
      serviceConnectDefaults: { namespace: 'internal' },
    };
    expect(cluster).toMatchObject(expected);
    expect(await describeOne('upd')).toMatchObject(expected);
  });

  it('changes only what it is given: other settings, configuration parts and the namespace stay', async () => {
    await ecs.send(new UpdateClusterCommand({ cluster: 'upd', configuration: { managedStorageConfiguration: { kmsKeyId: 'k2' } } }));
    expect(await describeOne('upd')).toMatchObject({
      settings: [{ name: 'containerInsights', value: 'enhanced' }],
      configuration: { executeCommandConfiguration: EXECUTE, managedStorageConfiguration: { kmsKeyId: 'k2' } },
      serviceConnectDefaults: { namespace: 'internal' },
    });
  });

  it('an empty namespace removes the Service Connect defaults, as in ECS', async () => {
    const { cluster } = await ecs.send(new UpdateClusterCommand({ cluster: 'upd', serviceConnectDefaults: { namespace: '' } }));
    expect(cluster?.serviceConnectDefaults).toBeUndefined();
    expect((await describeOne('upd')).serviceConnectDefaults).toBeUndefined();
  });
});

describe('UpdateClusterSettings', () => {
  it('sets containerInsights and answers the cluster with its settings', async () => {
    const { cluster } = await ecs.send(
      new UpdateClusterSettingsCommand({ cluster: 'settings', settings: [{ name: 'containerInsights', value: 'enabled' }] }),
    );
    expect(cluster).toMatchObject({ clusterName: 'settings', settings: [{ name: 'containerInsights', value: 'enabled' }] });
    expect((await describeOne('settings')).settings).toEqual([{ name: 'containerInsights', value: 'enabled' }]);
    // A cluster without tags has no tags member, even when TAGS is asked for.
    expect(cluster).not.toHaveProperty('tags');
    expect(await describeOne('settings')).not.toHaveProperty('tags');
  });
});

describe('bad inputs: the ECS error, HTTP 400, nothing written', () => {
  const rows: { name: string; send: () => Promise<unknown>; error: string }[] = [
    { name: 'UpdateCluster: unknown cluster', send: () => ecs.send(new UpdateClusterCommand({ cluster: 'ghost', settings: [] })), error: 'ClusterNotFoundException' },
    { name: 'UpdateCluster: cluster missing', send: () => ecs.send(new UpdateClusterCommand({} as never)), error: 'InvalidParameterException' },
    {
      name: 'UpdateCluster: containerInsights value outside enabled | disabled | enhanced',
      send: () => ecs.send(new UpdateClusterCommand({ cluster: 'fixed', settings: [{ name: 'containerInsights', value: 'maybe' }] })),
      error: 'InvalidParameterException',
    },
    {
      name: 'UpdateCluster: setting name outside the enum',
      send: () => ecs.send(new UpdateClusterCommand({ cluster: 'fixed', settings: [{ name: 'turbo' as never, value: 'enabled' }] })),
      error: 'InvalidParameterException',
    },
    {
      name: 'UpdateCluster: logging OVERRIDE without a logConfiguration',
      send: () => ecs.send(new UpdateClusterCommand({ cluster: 'fixed', configuration: { executeCommandConfiguration: { logging: 'OVERRIDE' } } })),
      error: 'InvalidParameterException',
    },
    {
      name: 'UpdateCluster: a logConfiguration with logging DEFAULT',
      send: () =>
        ecs.send(
          new UpdateClusterCommand({
            cluster: 'fixed',
            configuration: { executeCommandConfiguration: { logging: 'DEFAULT', logConfiguration: { s3BucketName: 'b' } } },
          }),
        ),
      error: 'InvalidParameterException',
    },
    {
      name: 'UpdateCluster: logging outside the enum',
      send: () => ecs.send(new UpdateClusterCommand({ cluster: 'fixed', configuration: { executeCommandConfiguration: { logging: 'LOUD' as never } } })),
      error: 'InvalidParameterException',
    },
    {
      name: 'UpdateCluster: serviceConnectDefaults without a namespace',
      send: () => ecs.send(new UpdateClusterCommand({ cluster: 'fixed', serviceConnectDefaults: {} as never })),
      error: 'InvalidParameterException',
    },
    { name: 'UpdateClusterSettings: settings missing', send: () => ecs.send(new UpdateClusterSettingsCommand({ cluster: 'fixed' } as never)), error: 'InvalidParameterException' },
    {
      name: 'UpdateClusterSettings: unknown cluster',
      send: () => ecs.send(new UpdateClusterSettingsCommand({ cluster: 'ghost', settings: [{ name: 'containerInsights', value: 'enabled' }] })),
      error: 'ClusterNotFoundException',
    },
    {
      name: 'UpdateClusterSettings: containerInsights without a value',
      send: () => ecs.send(new UpdateClusterSettingsCommand({ cluster: 'fixed', settings: [{ name: 'containerInsights' }] })),
      error: 'InvalidParameterException',
    },
  ];

  it.each(rows)('$name -> $error', async ({ send, error }) => {
    const before = await snapshotTable(berth.tableName);
    await expect(send()).rejects.toMatchObject({ name: error, $metadata: { httpStatusCode: 400 } });
    expect(await snapshotTable(berth.tableName)).toEqual(before);
  });
});
