/**
 * SubmitAttachmentStateChanges through the real ECS SDK: a report about the network attachment of a
 * task in the cluster is acknowledged and leaves the task as the engine has it; bad reports (unknown
 * cluster, malformed or foreign ARN, unknown status, an attachment of no task in the cluster) answer
 * ECS's errors with HTTP 400 and change nothing.
 */
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  SubmitAttachmentStateChangesCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';
import { snapshotTable } from '../support/table-snapshot';

let harness: Harness;
let ecs: ECSClient;
let taskArn: string;
let attachmentArn: string;
const arnOf = (id: string, account = ACCOUNT) => `arn:aws:ecs:${REGION}:${account}:attachment/${id}`;

beforeAll(async () => {
  harness = await startHarness();
  ecs = harness.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'net' }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'other' }));
  await registerHost(ecs, 'net');
  await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'vpc', networkMode: 'awsvpc', containerDefinitions: [{ name: 'main', image: 'busybox', memory: 64 }] }),
  );
  const { tasks } = await ecs.send(
    new RunTaskCommand({ cluster: 'net', taskDefinition: 'vpc', networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } }),
  );
  taskArn = tasks![0].taskArn!;
  attachmentArn = arnOf(tasks![0].attachments![0].id!);
}, 60_000);
afterAll(() => harness?.close());

describe('SubmitAttachmentStateChanges', () => {
  it("acknowledges a report about a task's attachment, and the task stays as the engine has it", async () => {
    const before = (await ecs.send(new DescribeTasksCommand({ cluster: 'net', tasks: [taskArn] }))).tasks![0];
    const { acknowledgment } = await ecs.send(
      new SubmitAttachmentStateChangesCommand({ cluster: 'net', attachments: [{ attachmentArn, status: 'ATTACHED' }] }),
    );
    expect(acknowledgment).toBe('ACK');
    const after = (await ecs.send(new DescribeTasksCommand({ cluster: 'net', tasks: [taskArn] }))).tasks![0];
    expect(after.attachments).toEqual(before.attachments);
    expect(after.version).toBe(before.version);
  });

  it.each([
    { name: 'an unknown cluster', input: () => ({ cluster: 'ghost', attachments: [{ attachmentArn, status: 'ATTACHED' }] }), error: 'ClusterNotFoundException' },
    { name: 'no attachments', input: () => ({ cluster: 'net', attachments: [] }), error: 'InvalidParameterException' },
    { name: 'an ARN that is no attachment ARN', input: () => ({ cluster: 'net', attachments: [{ attachmentArn: taskArn, status: 'ATTACHED' }] }), error: 'InvalidParameterException' },
    {
      name: "another account's attachment",
      input: () => ({ cluster: 'net', attachments: [{ attachmentArn: attachmentArn.replace(ACCOUNT, '999999999999'), status: 'ATTACHED' }] }),
      error: 'InvalidParameterException',
    },
    { name: 'an unknown status', input: () => ({ cluster: 'net', attachments: [{ attachmentArn, status: 'GLUED' }] }), error: 'InvalidParameterException' },
    {
      name: 'an attachment of no task in the cluster',
      input: () => ({ cluster: 'other', attachments: [{ attachmentArn, status: 'ATTACHED' }] }),
      error: 'ClientException',
    },
    {
      name: 'one good and one unknown attachment',
      input: () => ({
        cluster: 'net',
        attachments: [
          { attachmentArn, status: 'ATTACHED' },
          { attachmentArn: arnOf('00000000-0000-0000-0000-000000000000'), status: 'ATTACHED' },
        ],
      }),
      error: 'ClientException',
    },
  ])('refuses $name: $error, HTTP 400, nothing changed', async ({ input, error }) => {
    const before = await snapshotTable(harness.tableName);
    await expect(ecs.send(new SubmitAttachmentStateChangesCommand(input()))).rejects.toMatchObject({ name: error, $metadata: { httpStatusCode: 400 } });
    expect(await snapshotTable(harness.tableName)).toEqual(before);
  });
});
