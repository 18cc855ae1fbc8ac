/**
 * Service deployments and revisions through the real ECS SDK against an in-process Berth on DynamoDB
 * Local, with scheduler passes run on request (`runServicePass`, the pass the loop runs) so each
 * status is reached deterministically: what CreateService, UpdateService, DeleteService,
 * StopServiceDeployment and the pass record, what ListServiceDeployments (filters, pages),
 * DescribeServiceDeployments and DescribeServiceRevisions answer, and bad inputs with their ECS error
 * and no write. Services at desiredCount 0 complete their rollouts without tasks, so no agent is needed.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type ECSClient,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLocalDocumentClient } from '../../src/adapters/dynamodb/document-client';
import { runServicePass } from '../../src/app/service-scheduler';
import { SERVICE_DEPLOYMENT_ID_PATTERN } from '../../src/domain/service-deployment';
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
  await ecs.send(new CreateClusterCommand({ clusterName: 'dep' }));
  for (let i = 0; i < 3; i++) {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'web',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'main', image: `busybox:${i + 1}`, command: ['sleep', '60'] }],
      }),
    );
  }
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
    new CreateServiceCommand({ cluster: 'dep', taskDefinition: 'web:1', desiredCount: 0, launchType: 'FARGATE', networkConfiguration: NETWORK, ...input }),
  );
const list = async (service: string, extra: Record<string, unknown> = {}) =>
  (await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'dep', service, ...extra }))).serviceDeployments!;
const describeOne = async (arn: string): Promise<ServiceDeployment> =>
  (await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0];
const describeService = async (name: string) => (await ecs.send(new DescribeServicesCommand({ cluster: 'dep', services: [name] }))).services![0];
/** Scheduler passes until `done` (each pass is what the loop runs on a wake-up). */
async function passUntil(name: string, done: () => Promise<boolean>) {
  for (let i = 0; i < 5; i++) {
    await runServicePass(berth.context, `${ARN}:service/dep/${name}`);
    if (await done()) return;
  }
  throw new Error(`service ${name}: condition not reached after 5 passes`);
}
const revisionOf = (deploymentId: string, service: string) => `${ARN}:service-revision/dep/${service}/${deploymentId.slice('ecs-svc/'.length)}`;

describe('CreateService and the first scheduler pass', () => {
  it('record one service deployment, PENDING then IN_PROGRESS then SUCCESSFUL, and its revision', async () => {
    const { service } = await create({
      serviceName: 'first',
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    });
    const deploymentId = service!.deployments![0].id!;
    const [listed] = await list('first');
    expect(listed).toMatchObject({
      serviceArn: `${ARN}:service/dep/first`,
      clusterArn: `${ARN}:cluster/dep`,
      status: 'PENDING',
      targetServiceRevisionArn: revisionOf(deploymentId, 'first'),
    });
    expect(listed.serviceDeploymentArn).toMatch(new RegExp(`^${ARN}:service-deployment/dep/first/[-0-9A-Za-z_]{21}$`));
    expect(listed.serviceDeploymentArn!.split('/').pop()).toMatch(SERVICE_DEPLOYMENT_ID_PATTERN);
    expect(listed.createdAt).toBeInstanceOf(Date);
    expect(listed.startedAt).toBeUndefined();

    const pending = await describeOne(listed.serviceDeploymentArn!);
    expect(pending).toMatchObject({
      status: 'PENDING',
      targetServiceRevision: { arn: revisionOf(deploymentId, 'first'), requestedTaskCount: 0, runningTaskCount: 0, pendingTaskCount: 0 },
      sourceServiceRevisions: [],
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } },
      deploymentCircuitBreaker: { status: 'MONITORING', failureCount: 0, threshold: 3 },
    });
    expect(pending).not.toHaveProperty('targetDeploymentId');
    expect(pending).not.toHaveProperty('version');

    const { serviceRevisions, failures } = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [revisionOf(deploymentId, 'first')] }));
    expect(failures).toEqual([]);
    expect(serviceRevisions![0]).toMatchObject({
      serviceRevisionArn: revisionOf(deploymentId, 'first'),
      serviceArn: `${ARN}:service/dep/first`,
      clusterArn: `${ARN}:cluster/dep`,
      taskDefinition: `${ARN}:task-definition/web:1`,
      launchType: 'FARGATE',
      platformVersion: 'LATEST',
      platformFamily: 'Linux',
      networkConfiguration: NETWORK,
      containerImages: [{ containerName: 'main', image: 'busybox:1' }],
      guardDutyEnabled: false,
    });

    await passUntil('first', async () => (await describeOne(listed.serviceDeploymentArn!)).status === 'SUCCESSFUL');
    const done = await describeOne(listed.serviceDeploymentArn!);
    expect(done.startedAt).toBeInstanceOf(Date);
    expect(done.finishedAt).toBeInstanceOf(Date);
    expect(done.deploymentCircuitBreaker).toEqual({ status: 'MONITORING_COMPLETE', failureCount: 0, threshold: 3 });
    expect((await describeService('first')).deployments![0].rolloutState).toBe('COMPLETED');
  });
});

describe('UpdateService', () => {
  it('starts a service deployment per new deployment (sources: the live ones) and stops the unfinished one it replaces', async () => {
    const { service } = await create({ serviceName: 'upd' });
    const first = service!.deployments![0].id!;
    const { service: updated } = await ecs.send(new UpdateServiceCommand({ cluster: 'dep', service: 'upd', taskDefinition: 'web:2' }));
    const second = updated!.deployments![0].id!;
    await ecs.send(new UpdateServiceCommand({ cluster: 'dep', service: 'upd', desiredCount: 0, healthCheckGracePeriodSeconds: 5 }));
    const [newest, oldest] = await list('upd');
    expect(newest).toMatchObject({ status: 'PENDING', targetServiceRevisionArn: revisionOf(second, 'upd') });
    expect(oldest).toMatchObject({
      status: 'STOPPED',
      statusReason: 'Service deployment stopped: a newer service deployment started.',
      targetServiceRevisionArn: revisionOf(first, 'upd'),
    });
    expect(oldest.finishedAt).toBeInstanceOf(Date);
    expect((await describeOne(oldest.serviceDeploymentArn!)).stoppedAt).toBeInstanceOf(Date);
    const described = await describeOne(newest.serviceDeploymentArn!);
    expect(described.sourceServiceRevisions!.map((r) => r.arn)).toEqual([revisionOf(first, 'upd')]);
    const { serviceRevisions } = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [revisionOf(second, 'upd')] }));
    expect(serviceRevisions![0]).toMatchObject({ taskDefinition: `${ARN}:task-definition/web:2`, containerImages: [{ containerName: 'main', image: 'busybox:2' }] });
  });

  it('keeps every service deployment and revision after the service item dropped the old deployment records', async () => {
    await create({ serviceName: 'long' });
    await passUntil('long', async () => (await list('long'))[0].status === 'SUCCESSFUL');
    for (let i = 0; i < 5; i++) {
      await ecs.send(new UpdateServiceCommand({ cluster: 'dep', service: 'long', forceNewDeployment: true }));
      await passUntil('long', async () => (await list('long'))[0].status === 'SUCCESSFUL');
    }
    const all = await list('long');
    expect(all).toHaveLength(6);
    expect(all.every((sd) => sd.status === 'SUCCESSFUL')).toBe(true);
    // Newest first.
    const created = all.map((sd) => sd.createdAt!.getTime());
    expect([...created].sort((a, b) => b - a)).toEqual(created);
    const { serviceRevisions, failures } = await ecs.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: all.map((sd) => sd.targetServiceRevisionArn!) }),
    );
    expect(failures).toEqual([]);
    expect(serviceRevisions).toHaveLength(6);
    // The service item shows the PRIMARY only, and its bounded list dropped the oldest records.
    expect((await describeService('long')).deployments).toHaveLength(1);
    const stored = await berth.context.services.get(`${ARN}:cluster/dep`, 'long');
    expect(stored!.deployments.length).toBeLessThan(6);
  });
});

describe('ListServiceDeployments filters and pages', () => {
  it('filters by status and createdAt, and pages with nextToken', async () => {
    await create({ serviceName: 'filt' });
    for (const td of ['web:2', 'web:3']) {
      await new Promise((resolve) => setTimeout(resolve, 20)); // distinct creation times
      await ecs.send(new UpdateServiceCommand({ cluster: 'dep', service: 'filt', taskDefinition: td }));
    }
    const all = await list('filt');
    expect(all.map((sd) => sd.status)).toEqual(['PENDING', 'STOPPED', 'STOPPED']);
    expect((await list('filt', { status: ['PENDING'] })).map((sd) => sd.serviceDeploymentArn)).toEqual([all[0].serviceDeploymentArn]);
    expect(await list('filt', { status: ['SUCCESSFUL', 'ROLLBACK_FAILED'] })).toEqual([]);
    const middle = all[1].createdAt!;
    const after = await list('filt', { createdAt: { after: middle } });
    expect(after.map((sd) => sd.serviceDeploymentArn)).toEqual([all[0].serviceDeploymentArn]);
    const before = await list('filt', { createdAt: { before: middle } });
    expect(before.map((sd) => sd.serviceDeploymentArn)).toEqual([all[2].serviceDeploymentArn]);

    const page1 = await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'dep', service: 'filt', maxResults: 2 }));
    const page2 = await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'dep', service: 'filt', maxResults: 2, nextToken: page1.nextToken }));
    expect(page1.serviceDeployments).toHaveLength(2);
    expect(page2.nextToken).toBeUndefined();
    expect([...page1.serviceDeployments!, ...page2.serviceDeployments!].map((sd) => sd.serviceDeploymentArn)).toEqual(all.map((sd) => sd.serviceDeploymentArn));
    const stoppedPage = await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'dep', service: 'filt', status: ['STOPPED'], maxResults: 1 }));
    const stoppedRest = await ecs.send(
      new ListServiceDeploymentsCommand({ cluster: 'dep', service: 'filt', status: ['STOPPED'], maxResults: 1, nextToken: stoppedPage.nextToken }),
    );
    expect([...stoppedPage.serviceDeployments!, ...stoppedRest.serviceDeployments!].map((sd) => sd.serviceDeploymentArn)).toEqual(
      all.slice(1).map((sd) => sd.serviceDeploymentArn),
    );
  });

  it('a service name used again after INACTIVE starts a new history; the old service deployment ended STOPPED', async () => {
    await create({ serviceName: 'again' });
    await ecs.send(new UpdateServiceCommand({ cluster: 'dep', service: 'again', taskDefinition: 'web:2' }));
    const before = await list('again');
    await ecs.send(new DeleteServiceCommand({ cluster: 'dep', service: 'again' }));
    expect((await describeOne(before[0].serviceDeploymentArn!)).status).toBe('STOP_REQUESTED');
    await passUntil('again', async () => (await describeService('again')).status === 'INACTIVE');
    const ended = await describeOne(before[0].serviceDeploymentArn!);
    expect(ended).toMatchObject({ status: 'STOPPED', statusReason: 'Service deleted.' });
    await create({ serviceName: 'again' });
    const after = await list('again');
    expect(after).toHaveLength(1);
    expect(after[0].serviceDeploymentArn).not.toBe(before[0].serviceDeploymentArn);
    const { failures } = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [before[0].serviceDeploymentArn!] }));
    expect(failures).toEqual([{ arn: before[0].serviceDeploymentArn, reason: 'MISSING' }]);
  });
});

describe('StopServiceDeployment ROLLBACK', () => {
  it('rolls the service back to its completed revision: ROLLBACK_REQUESTED, then the pass, ROLLBACK_IN_PROGRESS to ROLLBACK_SUCCESSFUL', async () => {
    const { service } = await create({ serviceName: 'back' });
    const good = service!.deployments![0].id!;
    await passUntil('back', async () => (await list('back'))[0].status === 'SUCCESSFUL');
    const { service: updated } = await ecs.send(new UpdateServiceCommand({ cluster: 'dep', service: 'back', taskDefinition: 'web:2' }));
    const bad = updated!.deployments![0].id!;
    const [release, completed] = await list('back');
    expect(release.status).toBe('PENDING');

    const answer = await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: release.serviceDeploymentArn, stopType: 'ROLLBACK' }));
    expect(answer.serviceDeploymentArn).toBe(release.serviceDeploymentArn);
    const requested = await describeOne(release.serviceDeploymentArn!);
    expect(requested).toMatchObject({
      status: 'ROLLBACK_REQUESTED',
      rollback: { reason: 'Rollback requested with StopServiceDeployment.', serviceRevisionArn: revisionOf(good, 'back') },
    });
    expect(requested.rollback!.startedAt).toBeInstanceOf(Date);
    const rolled = await describeService('back');
    expect(rolled.taskDefinition).toBe(`${ARN}:task-definition/web:1`);
    expect(rolled.deployments!.map((d) => [d.id, d.status, d.rolloutState])).toEqual([
      [good, 'PRIMARY', 'IN_PROGRESS'],
      [bad, 'ACTIVE', 'FAILED'],
    ]);
    expect(rolled.events![0].message).toBe(`(service back) rolling back to deployment ${good}.`);
    // Asked again while rolling back: ECS carries on, nothing new is written.
    const before = await snapshot();
    await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: release.serviceDeploymentArn }));
    expect(await snapshot()).toEqual(before);

    await passUntil('back', async () => (await describeOne(release.serviceDeploymentArn!)).status === 'ROLLBACK_SUCCESSFUL');
    expect((await describeOne(release.serviceDeploymentArn!)).finishedAt).toBeInstanceOf(Date);
    await expect(ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: release.serviceDeploymentArn }))).rejects.toMatchObject({
      name: 'ConflictException',
    });
    await expect(ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: completed.serviceDeploymentArn }))).rejects.toMatchObject({
      name: 'ConflictException',
    });
  });
});

describe('bad inputs: the exact ECS error and no write', () => {
  let firstOnly: string;
  let known: string;
  beforeAll(async () => {
    await create({ serviceName: 'known' });
    known = (await list('known'))[0].serviceDeploymentArn!;
    await create({ serviceName: 'lonely' });
    firstOnly = (await list('lonely'))[0].serviceDeploymentArn!;
  });
  const stop = (serviceDeploymentArn: string, stopType?: 'ROLLBACK' | 'ABORT') =>
    ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn, stopType }));
  const ROWS: { name: string; send: () => Promise<unknown>; error: string; message?: RegExp }[] = [
    { name: 'ListServiceDeployments of an unknown service', send: () => list('ghost'), error: 'ServiceNotFoundException' },
    { name: 'ListServiceDeployments in an unknown cluster', send: () => ecs.send(new ListServiceDeploymentsCommand({ cluster: 'nowhere', service: 'known' })), error: 'ClusterNotFoundException' },
    { name: 'ListServiceDeployments with maxResults 0', send: () => list('known', { maxResults: 0 }), error: 'InvalidParameterException' },
    { name: 'ListServiceDeployments with maxResults 101', send: () => list('known', { maxResults: 101 }), error: 'InvalidParameterException' },
    { name: 'ListServiceDeployments with after later than before', send: () => list('known', { createdAt: { after: new Date(2_000_000_000_000), before: new Date(1_000_000_000_000) } }), error: 'InvalidParameterException' },
    { name: 'ListServiceDeployments with a forged nextToken', send: () => list('known', { nextToken: 'Zm9v' }), error: 'InvalidParameterException' },
    { name: 'DescribeServiceDeployments of no ARN', send: () => ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [] })), error: 'InvalidParameterException' },
    { name: 'DescribeServiceDeployments of 21 ARNs', send: () => ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: Array.from({ length: 21 }, () => known) })), error: 'InvalidParameterException' },
    { name: 'DescribeServiceRevisions of no ARN', send: () => ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [] })), error: 'InvalidParameterException' },
    { name: 'StopServiceDeployment ABORT', send: () => stop(known, 'ABORT'), error: 'InvalidParameterException', message: /ROLLBACK/ },
    { name: 'StopServiceDeployment of a malformed ARN', send: () => stop('not-an-arn'), error: 'InvalidParameterException' },
    { name: 'StopServiceDeployment of an unknown deployment', send: () => stop(`${ARN}:service-deployment/dep/known/AAAAAAAAAAAAAAAAAAAAA`), error: 'ServiceDeploymentNotFoundException' },
    { name: 'StopServiceDeployment of another account', send: () => stop(known.replace(ACCOUNT, '999999999999')), error: 'ServiceDeploymentNotFoundException' },
    { name: 'StopServiceDeployment with no completed revision to return to', send: () => stop(firstOnly), error: 'InvalidParameterException', message: /no completed service revision/ },
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

  it.each([
    { name: 'StopServiceDeployment with an unknown stopType', target: 'StopServiceDeployment', body: () => ({ serviceDeploymentArn: known, stopType: 'PAUSE' }), error: 'InvalidParameterException' },
    { name: 'StopServiceDeployment without serviceDeploymentArn', target: 'StopServiceDeployment', body: () => ({ stopType: 'ROLLBACK' }), error: 'InvalidParameterException' },
    { name: 'ListServiceDeployments with an unknown status', target: 'ListServiceDeployments', body: () => ({ cluster: 'dep', service: 'known', status: ['DONE'] }), error: 'InvalidParameterException' },
    { name: 'ListServiceDeployments with a createdAt that is no timestamp', target: 'ListServiceDeployments', body: () => ({ cluster: 'dep', service: 'known', createdAt: { before: 'yesterday' } }), error: 'SerializationException' },
    { name: 'ListServiceDeployments without service', target: 'ListServiceDeployments', body: () => ({ cluster: 'dep' }), error: 'InvalidParameterException' },
    { name: 'DescribeServiceDeployments with a string for the list', target: 'DescribeServiceDeployments', body: () => ({ serviceDeploymentArns: known }), error: 'SerializationException' },
    { name: 'DescribeServiceRevisions with numbers in the list', target: 'DescribeServiceRevisions', body: () => ({ serviceRevisionArns: [1] }), error: 'SerializationException' },
  ])('raw: $name -> $error', async ({ target, body, error }) => {
    const before = await snapshot();
    const response = await berth.raw(target, JSON.stringify(body()));
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ __type: error, message: expect.any(String) });
    expect(await snapshot()).toEqual(before);
  });

  it('DescribeServiceDeployments and DescribeServiceRevisions answer unknown, foreign and malformed ARNs as MISSING failures', async () => {
    const foreign = known.replace(REGION, 'eu-west-1');
    const unknown = `${ARN}:service-revision/dep/known/1234567890123456789`;
    const deployments = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [known, foreign, 'junk'] }));
    expect(deployments.serviceDeployments!.map((sd) => sd.serviceDeploymentArn)).toEqual([known]);
    expect(deployments.failures).toEqual([
      { arn: foreign, reason: 'MISSING' },
      { arn: 'junk', reason: 'MISSING' },
    ]);
    const revisions = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [unknown, known] }));
    expect(revisions.serviceRevisions).toEqual([]);
    expect(revisions.failures!.map((f) => f.reason)).toEqual(['MISSING', 'MISSING']);
  });
});
