/**
 * PutAttributes, DeleteAttributes and ListAttributes through the real ECS SDK on DynamoDB Local:
 * custom attributes on container instances are stored, listed (with the built-in ones, as ECS lists
 * them), filtered, paged, deleted, and survive the agent registering again; bad inputs answer the
 * exact ECS error with HTTP 400 and write nothing.
 */
import {
  CreateClusterCommand,
  DeleteAttributesCommand,
  DescribeContainerInstancesCommand,
  ListAttributesCommand,
  PutAttributesCommand,
  RegisterContainerInstanceCommand,
  type Attribute,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';
import { snapshotTable } from '../support/table-snapshot';

let berth: Harness;
let ecs: ECSClient;
let first: string;
let second: string;
let elsewhere: string;

beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'attrs' }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'other' }));
  first = await registerHost(ecs, 'attrs', undefined, 'us-east-1a');
  second = await registerHost(ecs, 'attrs', undefined, 'us-east-1b');
  elsewhere = await registerHost(ecs, 'other');
});
afterAll(() => berth?.close());

const attributesOf = async (arn: string) =>
  (await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'attrs', containerInstances: [arn] }))).containerInstances![0].attributes;
const custom = (name: string, value: string | undefined, targetId: string): Attribute => ({
  name,
  ...(value !== undefined ? { value } : {}),
  targetType: 'container-instance',
  targetId,
});

describe('custom attributes of container instances', () => {
  it('PutAttributes stores them on each named instance (by ARN or id) and echoes them with the instance ARN', async () => {
    const { attributes } = await ecs.send(
      new PutAttributesCommand({
        cluster: 'attrs',
        attributes: [
          { name: 'stack', value: 'prod', targetId: first },
          { name: 'gpu', targetType: 'container-instance', targetId: second.split('/').pop()! },
          { name: 'stack', value: 'test', targetId: second },
        ],
      }),
    );
    expect(attributes).toEqual([custom('stack', 'prod', first), custom('gpu', undefined, second), custom('stack', 'test', second)]);
    expect(await attributesOf(first)).toEqual([{ name: 'ecs.availability-zone', value: 'us-east-1a' }, { name: 'stack', value: 'prod' }]);
    expect(await attributesOf(second)).toEqual(
      expect.arrayContaining([{ name: 'gpu' }, { name: 'stack', value: 'test' }, { name: 'ecs.availability-zone', value: 'us-east-1b' }]),
    );
  });

  it('putting a name again replaces its value', async () => {
    await ecs.send(new PutAttributesCommand({ cluster: 'attrs', attributes: [{ name: 'stack', value: 'staging', targetId: first }] }));
    expect(await attributesOf(first)).toContainEqual({ name: 'stack', value: 'staging' });
    expect((await attributesOf(first))!.filter((a) => a.name === 'stack')).toHaveLength(1);
  });

  it('ListAttributes lists every attribute of the cluster\'s instances, filters by name and value, and pages', async () => {
    const all = (await ecs.send(new ListAttributesCommand({ cluster: 'attrs', targetType: 'container-instance' }))).attributes!;
    expect(all).toHaveLength(5);
    expect(all).toContainEqual(custom('ecs.availability-zone', 'us-east-1a', first));
    const stacks = await ecs.send(new ListAttributesCommand({ cluster: 'attrs', targetType: 'container-instance', attributeName: 'stack' }));
    expect(stacks.attributes).toHaveLength(2);
    const test = await ecs.send(
      new ListAttributesCommand({ cluster: 'attrs', targetType: 'container-instance', attributeName: 'stack', attributeValue: 'test' }),
    );
    expect(test.attributes).toEqual([custom('stack', 'test', second)]);
    const paged = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(new ListAttributesCommand({ cluster: 'attrs', targetType: 'container-instance', maxResults: 2, nextToken }));
      expect(page.attributes!.length).toBeLessThanOrEqual(2);
      paged.push(...page.attributes!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(paged).toEqual(all);
  });

  it('custom attributes outlive the agent registering again (its own attributes are renewed)', async () => {
    await ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: 'attrs',
        containerInstanceArn: first,
        attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }],
      }),
    );
    expect(await attributesOf(first)).toEqual([{ name: 'ecs.availability-zone', value: 'us-east-1a' }, { name: 'stack', value: 'staging' }]);
  });

  it('DeleteAttributes removes them', async () => {
    const { attributes } = await ecs.send(
      new DeleteAttributesCommand({ cluster: 'attrs', attributes: [{ name: 'stack', targetId: first }, { name: 'gpu', targetId: second }] }),
    );
    expect(attributes).toEqual([custom('stack', undefined, first), custom('gpu', undefined, second)]);
    expect(await attributesOf(first)).toEqual([{ name: 'ecs.availability-zone', value: 'us-east-1a' }]);
    expect((await attributesOf(second))!.map((a) => a.name).sort()).toEqual(['ecs.availability-zone', 'stack']);
  });
});

describe('bad inputs: the ECS error, HTTP 400, nothing written', () => {
  const put = (attributes: Attribute[], cluster = 'attrs') => () => ecs.send(new PutAttributesCommand({ cluster, attributes }));
  const rows: { name: string; send: () => Promise<unknown>; error: string }[] = [
    { name: 'PutAttributes: an unknown instance (after a good one)', send: () => put([{ name: 'a', targetId: first }, { name: 'b', targetType: 'container-instance', targetId: '0'.repeat(32) }])(), error: 'TargetNotFoundException' },
    { name: 'PutAttributes: an instance of another cluster', send: () => put([{ name: 'a', targetId: elsewhere }])(), error: 'TargetNotFoundException' },
    { name: 'PutAttributes: unknown cluster', send: () => put([{ name: 'a', targetId: first }], 'ghost')(), error: 'ClusterNotFoundException' },
    { name: 'PutAttributes: a short id without targetType (ECS requires it then)', send: () => put([{ name: 'a', targetId: first.split('/').pop()! }])(), error: 'InvalidParameterException' },
    { name: 'PutAttributes: no targetId', send: () => put([{ name: 'a' }])(), error: 'InvalidParameterException' },
    { name: 'PutAttributes: no attributes', send: () => put([])(), error: 'InvalidParameterException' },
    { name: 'PutAttributes: 11 attributes', send: () => put(Array.from({ length: 11 }, (_, i) => ({ name: `a${i}`, targetId: first })))(), error: 'InvalidParameterException' },
    { name: 'PutAttributes: name with a space', send: () => put([{ name: 'a b', targetId: first }])(), error: 'InvalidParameterException' },
    { name: 'PutAttributes: name longer than 128', send: () => put([{ name: 'a'.repeat(129), targetId: first }])(), error: 'InvalidParameterException' },
    { name: 'PutAttributes: value ending with a space', send: () => put([{ name: 'a', value: 'x ', targetId: first }])(), error: 'InvalidParameterException' },
    { name: 'PutAttributes: a reserved ecs. name', send: () => put([{ name: 'ecs.availability-zone', value: 'us-east-1z', targetId: first }])(), error: 'InvalidParameterException' },
    { name: 'PutAttributes: a reserved berth. name', send: () => put([{ name: 'berth.fargate-capacity', value: 'FARGATE', targetId: first }])(), error: 'InvalidParameterException' },
    {
      name: 'PutAttributes: an 11th custom attribute on one instance',
      send: async () => {
        await put(Array.from({ length: 9 }, (_, i) => ({ name: `fill${i}`, value: 'x', targetId: second })))();
        // `second` now holds 10 custom attributes (stack and fill0..8); an 11th is refused.
        return put([{ name: 'one-more', targetId: second }])();
      },
      error: 'AttributeLimitExceededException',
    },
    { name: 'PutAttributes: targetType outside the enum', send: () => berth.raw('PutAttributes', JSON.stringify({ cluster: 'attrs', attributes: [{ name: 'a', targetType: 'task', targetId: first }] })).then(rawAsError), error: 'InvalidParameterException' },
    { name: 'DeleteAttributes: an unknown instance', send: () => ecs.send(new DeleteAttributesCommand({ cluster: 'attrs', attributes: [{ name: 'stack', targetType: 'container-instance', targetId: '0'.repeat(32) }] })), error: 'TargetNotFoundException' },
    { name: 'DeleteAttributes: a reserved name', send: () => ecs.send(new DeleteAttributesCommand({ cluster: 'attrs', attributes: [{ name: 'ecs.availability-zone', targetId: first }] })), error: 'InvalidParameterException' },
    { name: 'ListAttributes: targetType missing', send: () => ecs.send(new ListAttributesCommand({ cluster: 'attrs' } as never)), error: 'InvalidParameterException' },
    { name: 'ListAttributes: attributeValue without attributeName', send: () => ecs.send(new ListAttributesCommand({ cluster: 'attrs', targetType: 'container-instance', attributeValue: 'x' })), error: 'InvalidParameterException' },
    { name: 'ListAttributes: unknown cluster', send: () => ecs.send(new ListAttributesCommand({ cluster: 'ghost', targetType: 'container-instance' })), error: 'ClusterNotFoundException' },
    { name: 'ListAttributes: garbage nextToken', send: () => ecs.send(new ListAttributesCommand({ cluster: 'attrs', targetType: 'container-instance', nextToken: 'garbage' })), error: 'InvalidParameterException' },
  ];

  it.each(rows)('$name -> $error', async ({ name, send, error }) => {
    // The limit row writes its nine fillers on purpose first; its snapshot is taken after them.
    const limitRow = name.includes('11th');
    const before = limitRow ? undefined : await snapshotTable(berth.tableName);
    const sent = send();
    await expect(sent).rejects.toMatchObject({ name: error, $metadata: { httpStatusCode: 400 } });
    if (before) expect(await snapshotTable(berth.tableName)).toEqual(before);
    else expect((await attributesOf(second))!.some((a) => a.name === 'one-more')).toBe(false);
  });
});

function rawAsError(response: { status: number; json: { __type?: string } }) {
  if (response.status === 200) return response;
  throw Object.assign(new Error(String(response.json.__type)), { name: response.json.__type, $metadata: { httpStatusCode: response.status } });
}
