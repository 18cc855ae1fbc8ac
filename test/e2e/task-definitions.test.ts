import {
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, startHarness, type Harness } from '../support/berth-harness';

let berth: Harness;
beforeAll(async () => {
  berth = await startHarness();
});
afterAll(() => berth.close());

const arn = (familyRevision: string) => `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${familyRevision}`;

describe('task definitions through the ECS SDK', () => {
  it('registers revisions of a family and fills in what ECS reports', async () => {
    const ecs = berth.ecs();
    const first = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'web',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '0.25 vCPU',
        memory: '512',
        containerDefinitions: [{ name: 'app', image: 'nginx:1.27', stopTimeout: 120 }],
        tags: [{ key: 'env', value: 'dev' }],
      }),
    );
    expect(first.taskDefinition).toMatchObject({
      taskDefinitionArn: arn('web:1'),
      family: 'web',
      revision: 1,
      status: 'ACTIVE',
      cpu: '256',
      memory: '512',
      compatibilities: ['EC2', 'FARGATE'],
      requiresCompatibilities: ['FARGATE'],
      containerDefinitions: [{ name: 'app', image: 'nginx:1.27', essential: true, cpu: 0, portMappings: [] }],
    });
    expect(first.taskDefinition?.registeredAt).toBeInstanceOf(Date);
    expect(first.tags).toEqual([{ key: 'env', value: 'dev' }]);
    const second = await ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'nginx:1.28', memory: 128 }] }),
    );
    expect(second.taskDefinition?.revision).toBe(2);
    expect(second.taskDefinition?.compatibilities).toEqual(['EC2']);
  });

  it('describes by family (latest ACTIVE), family:revision and ARN, with tags on request', async () => {
    const ecs = berth.ecs();
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))).taskDefinition?.revision).toBe(2);
    const byRevision = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web:1', include: ['TAGS'] }));
    expect(byRevision.taskDefinition?.revision).toBe(1);
    expect(byRevision.tags).toEqual([{ key: 'env', value: 'dev' }]);
    const byArn = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn('web:2') }));
    expect(byArn.taskDefinition?.taskDefinitionArn).toBe(arn('web:2'));
    await expect(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web:9' }))).rejects.toMatchObject({
      name: 'ClientException',
      message: 'Unable to describe task definition.',
    });
  });

  it('deregisters a revision: INACTIVE, out of the ACTIVE list, skipped by a bare family', async () => {
    const ecs = berth.ecs();
    const result = await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'web:2' }));
    expect(result.taskDefinition).toMatchObject({ status: 'INACTIVE' });
    expect(result.taskDefinition?.deregisteredAt).toBeInstanceOf(Date);
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }))).taskDefinition?.revision).toBe(1);
    expect((await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'web' }))).taskDefinitionArns).toEqual([arn('web:1')]);
    expect((await ecs.send(new ListTaskDefinitionsCommand({ status: 'INACTIVE' }))).taskDefinitionArns).toEqual([arn('web:2')]);
  });

  it('lists revisions in family then revision order, both directions, page by page', async () => {
    const ecs = berth.ecs('eu-central-1');
    for (const family of ['b', 'a', 'a-x', 'a']) {
      await ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: 'c', image: 'busybox', memory: 64 }] }));
    }
    const all = (sort?: 'ASC' | 'DESC') => ecs.send(new ListTaskDefinitionsCommand({ sort }));
    const ascending = ['a:1', 'a:2', 'a-x:1', 'b:1'].map((r) => `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/${r}`);
    expect((await all()).taskDefinitionArns).toEqual(ascending);
    expect((await all('DESC')).taskDefinitionArns).toEqual([...ascending].reverse());
    const page1 = await ecs.send(new ListTaskDefinitionsCommand({ maxResults: 3 }));
    const page2 = await ecs.send(new ListTaskDefinitionsCommand({ maxResults: 3, nextToken: page1.nextToken }));
    expect([...page1.taskDefinitionArns!, ...page2.taskDefinitionArns!]).toEqual(ascending);
  });

  it('lists families by prefix and status', async () => {
    const ecs = berth.ecs('eu-central-1');
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({}))).families).toEqual(['a', 'a-x', 'b']);
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'a' }))).families).toEqual(['a', 'a-x']);
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'b:1' }));
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ status: 'ACTIVE' }))).families).toEqual(['a', 'a-x']);
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ status: 'INACTIVE' }))).families).toEqual(['b']);
  });
});
