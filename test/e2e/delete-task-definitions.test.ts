/**
 * DeleteTaskDefinitions through the real ECS SDK: INACTIVE revisions answer DELETE_IN_PROGRESS (and
 * list and describe as such until the TTL removes them), ACTIVE, unknown and malformed ones come back
 * in failures[] while the rest go; request-level bad inputs answer HTTP 400 and write nothing.
 */
import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  CreateClusterCommand,
} from '@aws-sdk/client-ecs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { snapshotTable } from '../support/table-snapshot';
import { revisionKey } from '../../src/adapters/dynamodb/keys';

let harness: Harness;
let ecs: ECSClient;
const tdArn = (family: string, revision: number) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;

beforeAll(async () => {
  harness = await startHarness();
  ecs = harness.ecs();
  for (let i = 0; i < 3; i++) {
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'old', containerDefinitions: [{ name: 'main', image: 'busybox', memory: 64 }] }));
  }
  await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'old:1' }));
  await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'old:2' }));
}, 60_000);
afterAll(() => harness?.close());

describe('DeleteTaskDefinitions', () => {
  it('deletes INACTIVE revisions (DELETE_IN_PROGRESS) and answers a failure for the ACTIVE, unknown and malformed ones', async () => {
    const { taskDefinitions, failures } = await ecs.send(
      new DeleteTaskDefinitionsCommand({ taskDefinitions: ['old:1', tdArn('old', 2), 'old:3', 'old:9', 'old'] }),
    );
    expect(taskDefinitions!.map((td) => [td.taskDefinitionArn, td.status])).toEqual([
      [tdArn('old', 1), 'DELETE_IN_PROGRESS'],
      [tdArn('old', 2), 'DELETE_IN_PROGRESS'],
    ]);
    expect(taskDefinitions![0].deleteRequestedAt).toBeInstanceOf(Date);
    expect(failures).toEqual([
      { arn: tdArn('old', 3), reason: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.' },
      { arn: tdArn('old', 9), reason: 'The specified task definition does not exist. Specify a valid account, family, revision and try again.' },
      { arn: 'old', reason: expect.stringContaining('family and revision') },
    ]);

    // Until the TTL removes it, a deleted revision is described and listed as DELETE_IN_PROGRESS.
    const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'old:1' }));
    expect(described.taskDefinition).toMatchObject({ status: 'DELETE_IN_PROGRESS' });
    const listed = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'old', status: 'DELETE_IN_PROGRESS' }));
    expect(listed.taskDefinitionArns).toEqual([tdArn('old', 1), tdArn('old', 2)]);
    const inactive = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'old', status: 'INACTIVE' }));
    expect(inactive.taskDefinitionArns).toEqual([]);
    // The item carries the table's TTL: DynamoDB removes it ("then gone").
    const { Item } = await harness.doc.send(
      new GetCommand({ TableName: harness.tableName, Key: revisionKey({ account: ACCOUNT, region: REGION }, 'old', 1) }),
    );
    expect(Item!.expiresAt).toBeGreaterThan(Date.now() / 1000);

    // It runs nothing new.
    await ecs.send(new CreateClusterCommand({ clusterName: 'c' }));
    await expect(ecs.send(new RunTaskCommand({ cluster: 'c', taskDefinition: 'old:1' }))).rejects.toMatchObject({ name: 'ClientException' });

    // Asked again: answered as it is.
    const again = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['old:1'] }));
    expect(again.taskDefinitions).toMatchObject([{ status: 'DELETE_IN_PROGRESS' }]);
    expect(again.failures).toEqual([]);
  });

  it.each([
    { name: 'an empty list', taskDefinitions: [] as string[], error: 'InvalidParameterException' },
    { name: 'eleven revisions', taskDefinitions: Array.from({ length: 11 }, (_, i) => `old:${i + 1}`), error: 'InvalidParameterException' },
  ])('refuses $name with $error, HTTP 400, and writes nothing', async ({ taskDefinitions, error }) => {
    const before = await snapshotTable(harness.tableName);
    await expect(ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions }))).rejects.toMatchObject({
      name: error,
      $metadata: { httpStatusCode: 400 },
    });
    expect(await snapshotTable(harness.tableName)).toEqual(before);
  });
});
