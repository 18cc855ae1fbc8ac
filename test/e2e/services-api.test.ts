/**
 * The service API through the real ECS SDK against an in-process Berth on DynamoDB Local, without a
 * scheduler running: what CreateService, UpdateService, DeleteService, DescribeServices and
 * ListServices store and answer, tags on services, and bad inputs with their exact ECS errors and no
 * partial write (checked against a consistent scan of the table).
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLocalDocumentClient } from '../../src/adapters/dynamodb/document-client';
import { DEPLOYMENT_ID_PATTERN } from '../../src/domain/service';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}`;
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
let berth: Harness;
let ecs: ECSClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
  doc = createLocalDocumentClient(inject('dynamoDbEndpoint'));
  await ecs.send(new CreateClusterCommand({ clusterName: 'svc' }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'spot' }));
  await ecs.send(
    new PutClusterCapacityProvidersCommand({
      cluster: 'spot',
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    }),
  );
  for (const family of ['web', 'api']) {
    for (let i = 0; i < 2; i++) {
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          requiresCompatibilities: ['FARGATE'],
          networkMode: 'awsvpc',
          cpu: '256',
          memory: '512',
          containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sleep', '60'] }],
        }),
      );
    }
  }
  await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'ec2only', containerDefinitions: [{ name: 'main', image: 'busybox', memory: 64 }] }),
  );
}, 60_000);
afterAll(async () => {
  doc?.destroy();
  await berth?.close();
});

async function snapshot() {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: berth.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.map((item) => JSON.stringify(item)).sort();
}

const create = (input: Partial<CreateServiceCommandInput> & { serviceName: string }) =>
  ecs.send(
    new CreateServiceCommand({ cluster: 'svc', taskDefinition: 'web:1', desiredCount: 2, launchType: 'FARGATE', networkConfiguration: NETWORK, ...input }),
  );
const describeOne = async (service: string, cluster = 'svc') =>
  (await ecs.send(new DescribeServicesCommand({ cluster, services: [service], include: ['TAGS'] }))).services![0];
const activeServices = async (cluster = 'svc') =>
  (await ecs.send(new DescribeClustersCommand({ clusters: [cluster] }))).clusters![0].activeServicesCount;

describe('CreateService', () => {
  it('stores a REPLICA service with its first deployment and answers in the ECS shape', async () => {
    const before = await activeServices();
    const { service } = await create({ serviceName: 'shape', tags: [{ key: 'team', value: 'a' }] });
    expect(service).toMatchObject({
      serviceArn: `${ARN}:service/svc/shape`,
      serviceName: 'shape',
      clusterArn: `${ARN}:cluster/svc`,
      status: 'ACTIVE',
      desiredCount: 2,
      runningCount: 0,
      pendingCount: 0,
      launchType: 'FARGATE',
      platformVersion: 'LATEST',
      taskDefinition: `${ARN}:task-definition/web:1`,
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: 'ECS' },
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: false, rollback: false },
      },
      networkConfiguration: NETWORK,
      propagateTags: 'NONE',
      enableECSManagedTags: false,
      tags: [{ key: 'team', value: 'a' }],
      events: [],
    });
    expect(service!.createdAt).toBeInstanceOf(Date);
    expect(service!.deployments).toHaveLength(1);
    expect(service!.deployments![0]).toMatchObject({
      status: 'PRIMARY',
      taskDefinition: `${ARN}:task-definition/web:1`,
      desiredCount: 2,
      runningCount: 0,
      pendingCount: 0,
      failedTasks: 0,
      rolloutState: 'IN_PROGRESS',
      launchType: 'FARGATE',
    });
    expect(service!.deployments![0].id).toMatch(DEPLOYMENT_ID_PATTERN);
    expect(service!.deployments![0].rolloutStateReason).toBe(`ECS deployment ${service!.deployments![0].id} in progress.`);
    expect(service!.deployments![0]).not.toHaveProperty('circuitBreaker');
    expect(await activeServices()).toBe(before! + 1);
    expect(await describeOne('shape')).toMatchObject({ serviceName: 'shape', tags: [{ key: 'team', value: 'a' }] });
  });

  it('takes the cluster default capacity provider strategy when given neither launchType nor a strategy', async () => {
    const { service } = await ecs.send(
      new CreateServiceCommand({ cluster: 'spot', serviceName: 'cheap', taskDefinition: 'web', desiredCount: 1, networkConfiguration: NETWORK }),
    );
    expect(service!.launchType).toBeUndefined();
    expect(service!.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }]);
    expect(service!.taskDefinition).toBe(`${ARN}:task-definition/web:2`);
  });

  it('answers a repeated identical request with the same service, and refuses a different one of that name', async () => {
    const first = await create({ serviceName: 'idem', clientToken: 'tok-1' });
    const again = await create({ serviceName: 'idem', clientToken: 'tok-1' });
    expect(again.service!.deployments![0].id).toBe(first.service!.deployments![0].id);
    await expect(create({ serviceName: 'idem', clientToken: 'tok-1', desiredCount: 3 })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Creation of service was not idempotent.',
    });
  });
});

describe('UpdateService', () => {
  it('changes desiredCount without a new deployment', async () => {
    const { service: created } = await create({ serviceName: 'scale' });
    const { service } = await ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: 'scale', desiredCount: 5 }));
    expect(service!.desiredCount).toBe(5);
    expect(service!.deployments).toHaveLength(1);
    expect(service!.deployments![0]).toMatchObject({ id: created!.deployments![0].id, desiredCount: 5 });
  });

  it('scales a service whose task definition was deregistered since, but refuses to move it to an inactive one', async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'retired',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'main', image: 'busybox' }],
      }),
    );
    await create({ serviceName: 'retiree', taskDefinition: 'retired:1' });
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'retired:1' }));
    const { service } = await ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: 'retiree', desiredCount: 4 }));
    expect(service).toMatchObject({ desiredCount: 4, taskDefinition: `${ARN}:task-definition/retired:1` });
    await expect(
      ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: 'scale', taskDefinition: 'retired:1' })),
    ).rejects.toMatchObject({ name: 'ClientException', message: 'TaskDefinition is inactive.' });
  });

  it.each([
    { name: 'a new task definition', change: { taskDefinition: 'web:2' }, taskDefinition: 'web:2' },
    { name: 'forceNewDeployment', change: { forceNewDeployment: true }, taskDefinition: 'web:1' },
    { name: 'a new network configuration', change: { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-b'] } } }, taskDefinition: 'web:1' },
  ])('starts a deployment for $name; the old one becomes ACTIVE', async ({ change, taskDefinition }) => {
    const serviceName = `roll-${Object.keys(change)[0]}`;
    const { service: created } = await create({ serviceName });
    const { service } = await ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: `${ARN}:service/svc/${serviceName}`, ...change }));
    expect(service!.taskDefinition).toBe(`${ARN}:task-definition/${taskDefinition}`);
    expect(service!.deployments!.map((d) => d.status)).toEqual(['PRIMARY', 'ACTIVE']);
    expect(service!.deployments![1].id).toBe(created!.deployments![0].id);
    expect(service!.deployments![0]).toMatchObject({ rolloutState: 'IN_PROGRESS', taskDefinition: `${ARN}:task-definition/${taskDefinition}` });
  });
});

describe('DeleteService', () => {
  it('drains a service with force: DRAINING, desiredCount 0, no longer counted as active, still describable', async () => {
    await create({ serviceName: 'gone' });
    const before = await activeServices();
    const { service } = await ecs.send(new DeleteServiceCommand({ cluster: 'svc', service: 'gone', force: true }));
    expect(service).toMatchObject({ status: 'DRAINING', desiredCount: 0 });
    expect(await activeServices()).toBe(before! - 1);
    expect(await describeOne('gone')).toMatchObject({ status: 'DRAINING' });
    await expect(ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: 'gone', desiredCount: 1 }))).rejects.toMatchObject({
      name: 'ServiceNotActiveException',
    });
    const { serviceArns } = await ecs.send(new ListServicesCommand({ cluster: 'svc', maxResults: 100 }));
    expect(serviceArns).toContain(`${ARN}:service/svc/gone`);
  });

  it('deletes a service scaled to 0 without force', async () => {
    await create({ serviceName: 'zero', desiredCount: 0 });
    const { service } = await ecs.send(new DeleteServiceCommand({ cluster: 'svc', service: 'zero' }));
    expect(service!.status).toBe('DRAINING');
  });
});

describe('DescribeServices, ListServices, ListTasks, tags', () => {
  it('reports unknown services as MISSING failures beside the found ones', async () => {
    await create({ serviceName: 'known' });
    const { services, failures } = await ecs.send(
      new DescribeServicesCommand({ cluster: 'svc', services: ['known', 'nope', `${ARN}:service/svc/nada`] }),
    );
    expect(services!.map((s) => s.serviceName)).toEqual(['known']);
    expect(services![0]).not.toHaveProperty('tags');
    expect(failures).toEqual([
      { arn: `${ARN}:service/svc/nope`, reason: 'MISSING' },
      { arn: `${ARN}:service/svc/nada`, reason: 'MISSING' },
    ]);
  });

  it('lists a cluster in pages, filtered by launch type and scheduling strategy', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'paged' }));
    for (const name of ['a', 'b', 'c']) await create({ cluster: 'paged', serviceName: name });
    await ecs.send(new CreateServiceCommand({ cluster: 'paged', serviceName: 'ec2', taskDefinition: 'ec2only', desiredCount: 1, launchType: 'EC2' }));
    const first = await ecs.send(new ListServicesCommand({ cluster: 'paged', maxResults: 2 }));
    const second = await ecs.send(new ListServicesCommand({ cluster: 'paged', maxResults: 2, nextToken: first.nextToken }));
    expect([...first.serviceArns!, ...second.serviceArns!]).toEqual(['a', 'b', 'c', 'ec2'].map((n) => `${ARN}:service/paged/${n}`));
    expect(second.nextToken).toBeUndefined();
    const fargate = await ecs.send(new ListServicesCommand({ cluster: 'paged', launchType: 'FARGATE' }));
    expect(fargate.serviceArns).toHaveLength(3);
    const ec2 = await ecs.send(new ListServicesCommand({ cluster: 'paged', launchType: 'EC2', schedulingStrategy: 'REPLICA' }));
    expect(ec2.serviceArns).toEqual([`${ARN}:service/paged/ec2`]);
    const daemons = await ecs.send(new ListServicesCommand({ cluster: 'paged', schedulingStrategy: 'DAEMON' }));
    expect(daemons.serviceArns).toEqual([]);
  });

  it('tags, untags and lists the tags of a service', async () => {
    const { service } = await create({ serviceName: 'tagged' });
    await ecs.send(new TagResourceCommand({ resourceArn: service!.serviceArn, tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] }));
    await ecs.send(new UntagResourceCommand({ resourceArn: service!.serviceArn, tagKeys: ['a'] }));
    const { tags } = await ecs.send(new ListTagsForResourceCommand({ resourceArn: service!.serviceArn }));
    expect(tags).toEqual([{ key: 'b', value: '2' }]);
    await expect(
      ecs.send(new TagResourceCommand({ resourceArn: `${ARN}:service/svc/nobody`, tags: [{ key: 'a', value: '1' }] })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('ListTasks serviceName answers the service tasks (none before a scheduler ran) and ServiceNotFoundException for others', async () => {
    await create({ serviceName: 'quiet' });
    expect((await ecs.send(new ListTasksCommand({ cluster: 'svc', serviceName: 'quiet' }))).taskArns).toEqual([]);
    await expect(ecs.send(new ListTasksCommand({ cluster: 'svc', serviceName: 'ghost' }))).rejects.toMatchObject({
      name: 'ServiceNotFoundException',
    });
  });
});

describe('bad inputs: the exact ECS error and no write', () => {
  const ROWS: { name: string; send: () => Promise<unknown>; error: string; message?: RegExp }[] = [
    { name: 'CreateService on an unknown cluster', send: () => create({ cluster: 'nowhere', serviceName: 'x' }), error: 'ClusterNotFoundException' },
    { name: 'CreateService with a negative desiredCount', send: () => create({ serviceName: 'neg', desiredCount: -1 }), error: 'InvalidParameterException' },
    { name: 'CreateService DAEMON on Fargate', send: () => create({ serviceName: 'daemon', schedulingStrategy: 'DAEMON', desiredCount: undefined }), error: 'InvalidParameterException', message: /^The daemon scheduling strategy does not support the FARGATE launch type/ },
    { name: 'CreateService DAEMON with a desiredCount', send: () => create({ serviceName: 'daemon', schedulingStrategy: 'DAEMON', launchType: 'EC2', networkConfiguration: undefined, taskDefinition: 'ec2only', desiredCount: 1 }), error: 'InvalidParameterException', message: /does not support a desired count/ },
    { name: 'CreateService DAEMON with a placement strategy', send: () => create({ serviceName: 'daemon', schedulingStrategy: 'DAEMON', launchType: 'EC2', networkConfiguration: undefined, taskDefinition: 'ec2only', desiredCount: undefined, placementStrategy: [{ type: 'binpack', field: 'cpu' }] }), error: 'InvalidParameterException', message: /does not support placement strategies/ },
    { name: 'CreateService without desiredCount', send: () => create({ serviceName: 'nocount', desiredCount: undefined }), error: 'InvalidParameterException' },
    { name: 'CreateService with an unknown task definition', send: () => create({ serviceName: 'notd', taskDefinition: 'nothing:1' }), error: 'ClientException' },
    { name: 'CreateService Fargate without a network configuration', send: () => create({ serviceName: 'nonet', networkConfiguration: undefined }), error: 'InvalidParameterException', message: /Network Configuration/ },
    { name: 'CreateService Fargate with an EC2-only task definition', send: () => create({ serviceName: 'ec2td', taskDefinition: 'ec2only' }), error: 'InvalidParameterException' },
    { name: 'CreateService with launchType and a strategy', send: () => create({ serviceName: 'both', capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }), error: 'InvalidParameterException' },
    { name: 'CreateService with maximumPercent below 100', send: () => create({ serviceName: 'max', deploymentConfiguration: { maximumPercent: 50 } }), error: 'InvalidParameterException' },
    { name: 'CreateService with the CODE_DEPLOY controller', send: () => create({ serviceName: 'cd', deploymentController: { type: 'CODE_DEPLOY' } }), error: 'UnsupportedFeatureException' },
    { name: 'CreateService with a bad name', send: () => create({ serviceName: 'bad name' }), error: 'InvalidParameterException' },
    { name: 'CreateService with an aws: tag', send: () => create({ serviceName: 'awstag', tags: [{ key: 'aws:x', value: '1' }] }), error: 'InvalidParameterException' },
    { name: 'UpdateService of an unknown service', send: () => ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: 'ghost', desiredCount: 1 })), error: 'ServiceNotFoundException' },
    { name: 'UpdateService in an unknown cluster', send: () => ecs.send(new UpdateServiceCommand({ cluster: 'nowhere', service: 'known', desiredCount: 1 })), error: 'ClusterNotFoundException' },
    { name: 'UpdateService with a negative desiredCount', send: () => ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: 'known', desiredCount: -1 })), error: 'InvalidParameterException' },
    { name: 'UpdateService to an unknown task definition', send: () => ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: 'known', taskDefinition: 'nothing:9' })), error: 'ClientException' },
    { name: 'DeleteService above desiredCount 0 without force', send: () => ecs.send(new DeleteServiceCommand({ cluster: 'svc', service: 'known' })), error: 'InvalidParameterException', message: /scaled above 0/ },
    { name: 'DeleteService of an unknown service', send: () => ecs.send(new DeleteServiceCommand({ cluster: 'svc', service: 'ghost', force: true })), error: 'ServiceNotFoundException' },
    { name: 'DescribeServices of 11 services', send: () => ecs.send(new DescribeServicesCommand({ cluster: 'svc', services: Array.from({ length: 11 }, (_, i) => `s${i}`) })), error: 'InvalidParameterException' },
    { name: 'DescribeServices in an unknown cluster', send: () => ecs.send(new DescribeServicesCommand({ cluster: 'nowhere', services: ['known'] })), error: 'ClusterNotFoundException' },
    { name: 'ListServices with maxResults 101', send: () => ecs.send(new ListServicesCommand({ cluster: 'svc', maxResults: 101 })), error: 'InvalidParameterException' },
    { name: 'ListServices with a forged nextToken', send: () => ecs.send(new ListServicesCommand({ cluster: 'svc', nextToken: 'Zm9v' })), error: 'InvalidParameterException' },
  ];

  it.each(ROWS)('$name', async ({ send, error, message }) => {
    const before = await snapshot();
    const failure = await send().then(
      () => undefined,
      (e: { name: string; message: string; $metadata?: { httpStatusCode?: number } }) => e,
    );
    expect(failure, 'the request must fail').toBeDefined();
    expect(failure!.name).toBe(error);
    expect(failure!.$metadata?.httpStatusCode).toBe(400);
    if (message) expect(failure!.message).toMatch(message);
    expect(await snapshot()).toEqual(before);
  });
});
