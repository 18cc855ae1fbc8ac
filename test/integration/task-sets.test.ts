/**
 * Task sets through the real ECS SDK against an in-process Berth on DynamoDB Local, with scheduler
 * passes run by hand (no loop, no engine: tasks stay where a pass leaves them): CreateService with the
 * EXTERNAL controller, CreateTaskSet, DescribeTaskSets, UpdateTaskSet, UpdateServicePrimaryTaskSet,
 * DeleteTaskSet, what DescribeServices shows, what a pass starts and stops for each set, and the bad
 * inputs with their exact ECS error names, HTTP 400 and no write (a consistent scan of the table).
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  DeleteServiceCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  UpdateServicePrimaryTaskSetCommand,
  UpdateTaskSetCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServicePass } from '../../src/app/service-scheduler';
import { DEPLOYMENT_ID_PATTERN, serviceGroup } from '../../src/domain/service';
import { TASK_SET_MESSAGES } from '../../src/domain/task-set';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { snapshotTable } from '../support/table-snapshot';

const ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}`;
const CLUSTER_ARN = `${ARN}:cluster/ext`;
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
let berth: Harness;
let ecs: ECSClient;

beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'ext' }));
  for (let i = 0; i < 2; i++) {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'web',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sleep', '60'] }],
      }),
    );
  }
  await ecs.send(new CreateServiceCommand({ cluster: 'ext', serviceName: 'ecs-controlled', taskDefinition: 'web', desiredCount: 0, launchType: 'FARGATE', networkConfiguration: NETWORK }));
}, 60_000);
afterAll(async () => {
  await berth?.close();
});

const externalService = async (serviceName: string, desiredCount = 4) =>
  (await ecs.send(new CreateServiceCommand({ cluster: 'ext', serviceName, desiredCount, deploymentController: { type: 'EXTERNAL' } }))).service!;
const createSet = async (service: string, taskDefinition: string, value: number) =>
  (await ecs.send(new CreateTaskSetCommand({ cluster: 'ext', service, taskDefinition, launchType: 'FARGATE', networkConfiguration: NETWORK, scale: { value, unit: 'PERCENT' } }))).taskSet!;
const liveTasks = async (service: string) =>
  (await berth.context.tasks.inGroup(CLUSTER_ARN, serviceGroup(service))).map((t) => t.record).filter((t) => t.desiredStatus === 'RUNNING');

describe('an EXTERNAL service and its task sets', () => {
  it('CreateService with EXTERNAL: no task definition, no deployments, an empty taskSets list', async () => {
    const service = await externalService('bluegreen');
    expect(service).toMatchObject({ status: 'ACTIVE', desiredCount: 4, deploymentController: { type: 'EXTERNAL' }, deployments: [], taskSets: [] });
    expect(service.taskDefinition).toBeUndefined();
  });

  it('CreateTaskSet answers an ACTIVE, STABILIZING set; a pass starts ceil(desiredCount x scale%) of its tasks', async () => {
    const blue = await createSet('bluegreen', 'web:1', 50);
    expect(blue).toMatchObject({
      id: expect.stringMatching(DEPLOYMENT_ID_PATTERN),
      taskSetArn: `${ARN}:task-set/ext/bluegreen/${blue.id}`,
      serviceArn: `${ARN}:service/ext/bluegreen`,
      clusterArn: CLUSTER_ARN,
      status: 'ACTIVE',
      taskDefinition: `${ARN}:task-definition/web:1`,
      computedDesiredCount: 2,
      pendingCount: 0,
      runningCount: 0,
      launchType: 'FARGATE',
      platformVersion: 'LATEST',
      scale: { value: 50, unit: 'PERCENT' },
      stabilityStatus: 'STABILIZING',
      networkConfiguration: NETWORK,
    });
    expect(blue.createdAt).toBeInstanceOf(Date);
    const pass = await runServicePass(berth.context, `${ARN}:service/ext/bluegreen`);
    expect(pass.started).toHaveLength(2);
    const tasks = await liveTasks('bluegreen');
    expect(tasks.map((t) => [t.startedBy, t.group, t.taskDefinitionArn, t.launchType])).toEqual(
      Array(2).fill([blue.id, 'service:bluegreen', `${ARN}:task-definition/web:1`, 'FARGATE']),
    );
    // Counts are the tasks a pass read (as for deployments): the next pass counts the ones started.
    expect((await runServicePass(berth.context, `${ARN}:service/ext/bluegreen`)).started).toEqual([]);
    const { taskSets } = await ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'bluegreen' }));
    expect(taskSets).toEqual([expect.objectContaining({ id: blue.id, pendingCount: 2, runningCount: 0, computedDesiredCount: 2 })]);
  });

  it('UpdateTaskSet scales a set; UpdateServicePrimaryTaskSet makes it primary and the service shows its members', async () => {
    const [blue] = (await ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'bluegreen' }))).taskSets!;
    const updated = (await ecs.send(new UpdateTaskSetCommand({ cluster: 'ext', service: 'bluegreen', taskSet: blue.taskSetArn!, scale: { value: 100, unit: 'PERCENT' } }))).taskSet!;
    expect(updated).toMatchObject({ id: blue.id, scale: { value: 100, unit: 'PERCENT' }, computedDesiredCount: 4 });
    const primary = (await ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: 'ext', service: 'bluegreen', primaryTaskSet: blue.id! }))).taskSet!;
    expect(primary.status).toBe('PRIMARY');
    await runServicePass(berth.context, `${ARN}:service/ext/bluegreen`);
    await runServicePass(berth.context, `${ARN}:service/ext/bluegreen`);
    expect(await liveTasks('bluegreen')).toHaveLength(4);
    const [service] = (await ecs.send(new DescribeServicesCommand({ cluster: 'ext', services: ['bluegreen'] }))).services!;
    expect(service).toMatchObject({
      taskDefinition: `${ARN}:task-definition/web:1`,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
      pendingCount: 4,
      taskSets: [expect.objectContaining({ id: blue.id, status: 'PRIMARY', computedDesiredCount: 4 })],
    });
  });

  it('a second set scales up, becomes primary, and the old one is deleted (force): DRAINING, its tasks asked to stop', async () => {
    const [blue] = (await ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'bluegreen' }))).taskSets!;
    const green = await createSet('bluegreen', 'web:2', 100);
    await runServicePass(berth.context, `${ARN}:service/ext/bluegreen`);
    expect((await liveTasks('bluegreen')).filter((t) => t.startedBy === green.id)).toHaveLength(4);
    await ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: 'ext', service: 'bluegreen', primaryTaskSet: green.taskSetArn! }));
    const deleted = (await ecs.send(new DeleteTaskSetCommand({ cluster: 'ext', service: 'bluegreen', taskSet: blue.id!, force: true }))).taskSet!;
    expect(deleted).toMatchObject({ id: blue.id, status: 'DRAINING' });
    const pass = await runServicePass(berth.context, `${ARN}:service/ext/bluegreen`);
    expect(pass.plan!.stop.map((s) => s.deploymentId)).toEqual(Array(4).fill(blue.id));
    const stopped = (await berth.context.tasks.inGroup(CLUSTER_ARN, serviceGroup('bluegreen'))).map((t) => t.record).filter((t) => t.startedBy === blue.id);
    expect(stopped.every((t) => t.desiredStatus === 'STOPPED' && t.stopCode === 'ServiceSchedulerInitiated')).toBe(true);
    const described = await ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'bluegreen', taskSets: [blue.id!, green.id!, 'ecs-svc/1111111111111111111'] }));
    expect(described.taskSets!.map((t) => [t.id, t.status])).toEqual([[blue.id, 'DRAINING'], [green.id, 'PRIMARY']]);
    expect(described.failures).toEqual([{ arn: 'ecs-svc/1111111111111111111', reason: 'MISSING' }]);
    const [service] = (await ecs.send(new DescribeServicesCommand({ cluster: 'ext', services: ['bluegreen'] }))).services!;
    expect(service.taskDefinition).toBe(`${ARN}:task-definition/web:2`);
  });

  it('DescribeTaskSets include TAGS shows a set\'s tags, and leaves them out otherwise', async () => {
    await externalService('tagged', 1);
    const set = (await ecs.send(new CreateTaskSetCommand({ cluster: 'ext', service: 'tagged', taskDefinition: 'web', launchType: 'FARGATE', networkConfiguration: NETWORK, tags: [{ key: 'team', value: 'a' }], externalId: 'build-7' }))).taskSet!;
    expect(set).toMatchObject({ externalId: 'build-7', scale: { value: 0, unit: 'PERCENT' }, computedDesiredCount: 0, tags: [{ key: 'team', value: 'a' }] });
    expect((await ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'tagged', include: ['TAGS'] }))).taskSets![0].tags).toEqual([{ key: 'team', value: 'a' }]);
    expect((await ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'tagged' }))).taskSets![0].tags).toBeUndefined();
  });

  it('a repeated CreateTaskSet with the same clientToken answers the same set and creates no other', async () => {
    await externalService('idem', 2);
    const input = { cluster: 'ext', service: 'idem', taskDefinition: 'web', launchType: 'FARGATE' as const, networkConfiguration: NETWORK, clientToken: 'tok-1' };
    const first = (await ecs.send(new CreateTaskSetCommand(input))).taskSet!;
    const second = (await ecs.send(new CreateTaskSetCommand(input))).taskSet!;
    expect(second.id).toBe(first.id);
    expect((await ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'idem' }))).taskSets).toHaveLength(1);
  });

  it('UpdateService desiredCount on an EXTERNAL service: each set follows with ceil(desiredCount x scale%)', async () => {
    await externalService('grows', 2);
    const set = await createSet('grows', 'web', 50);
    await runServicePass(berth.context, `${ARN}:service/ext/grows`);
    expect(await liveTasks('grows')).toHaveLength(1);
    const { service } = await ecs.send(new UpdateServiceCommand({ cluster: 'ext', service: 'grows', desiredCount: 5, healthCheckGracePeriodSeconds: 10 }));
    expect(service).toMatchObject({ desiredCount: 5, healthCheckGracePeriodSeconds: 10, deployments: [] });
    await runServicePass(berth.context, `${ARN}:service/ext/grows`);
    expect((await liveTasks('grows')).filter((t) => t.startedBy === set.id)).toHaveLength(3);
    const [described] = (await ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'grows' }))).taskSets!;
    expect(described.computedDesiredCount).toBe(3);
  });

  it('DeleteService (force) on an EXTERNAL service asks every set\'s tasks to stop', async () => {
    await externalService('doomed', 2);
    await createSet('doomed', 'web', 100);
    await runServicePass(berth.context, `${ARN}:service/ext/doomed`);
    expect(await liveTasks('doomed')).toHaveLength(2);
    await ecs.send(new DeleteServiceCommand({ cluster: 'ext', service: 'doomed', force: true }));
    await runServicePass(berth.context, `${ARN}:service/ext/doomed`);
    expect(await liveTasks('doomed')).toHaveLength(0);
  });
});

describe('bad inputs: the ECS error, HTTP 400, nothing written', () => {
  beforeAll(async () => {
    await externalService('guarded', 2);
    await createSet('guarded', 'web', 50);
  });

  const rows: { name: string; send: () => Promise<unknown>; error: string; message?: string | RegExp }[] = [
    { name: 'CreateTaskSet on a service with the ECS controller', send: () => ecs.send(new CreateTaskSetCommand({ cluster: 'ext', service: 'ecs-controlled', taskDefinition: 'web' })), error: 'InvalidParameterException', message: TASK_SET_MESSAGES.notExternal },
    { name: 'DescribeTaskSets on a service with the ECS controller', send: () => ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'ecs-controlled' })), error: 'InvalidParameterException', message: TASK_SET_MESSAGES.notExternal },
    { name: 'CreateTaskSet on an unknown service', send: () => ecs.send(new CreateTaskSetCommand({ cluster: 'ext', service: 'nope', taskDefinition: 'web' })), error: 'ServiceNotFoundException' },
    { name: 'CreateTaskSet on an unknown cluster', send: () => ecs.send(new CreateTaskSetCommand({ cluster: 'nope', service: 'guarded', taskDefinition: 'web' })), error: 'ClusterNotFoundException' },
    { name: 'CreateTaskSet with an unknown task definition', send: () => ecs.send(new CreateTaskSetCommand({ cluster: 'ext', service: 'guarded', taskDefinition: 'missing' })), error: 'ClientException', message: 'TaskDefinition not found.' },
    { name: 'CreateTaskSet with scale above 100', send: () => ecs.send(new CreateTaskSetCommand({ cluster: 'ext', service: 'guarded', taskDefinition: 'web', launchType: 'FARGATE', networkConfiguration: NETWORK, scale: { value: 150, unit: 'PERCENT' } })), error: 'InvalidParameterException', message: TASK_SET_MESSAGES.scale },
    { name: 'CreateTaskSet on Fargate without a network configuration', send: () => ecs.send(new CreateTaskSetCommand({ cluster: 'ext', service: 'guarded', taskDefinition: 'web', launchType: 'FARGATE' })), error: 'InvalidParameterException' },
    { name: 'UpdateTaskSet of an unknown set', send: () => ecs.send(new UpdateTaskSetCommand({ cluster: 'ext', service: 'guarded', taskSet: 'ecs-svc/1111111111111111111', scale: { value: 10, unit: 'PERCENT' } })), error: 'TaskSetNotFoundException' },
    { name: 'UpdateServicePrimaryTaskSet of an unknown set', send: () => ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: 'ext', service: 'guarded', primaryTaskSet: 'ecs-svc/1111111111111111111' })), error: 'TaskSetNotFoundException' },
    { name: 'DeleteTaskSet of an unknown set', send: () => ecs.send(new DeleteTaskSetCommand({ cluster: 'ext', service: 'guarded', taskSet: 'ecs-svc/1111111111111111111' })), error: 'TaskSetNotFoundException' },
    { name: 'DeleteTaskSet of a set scaled above 0 without force', send: async () => { const [set] = (await ecs.send(new DescribeTaskSetsCommand({ cluster: 'ext', service: 'guarded' }))).taskSets!; return ecs.send(new DeleteTaskSetCommand({ cluster: 'ext', service: 'guarded', taskSet: set.id! })); }, error: 'InvalidParameterException', message: TASK_SET_MESSAGES.scaledAboveZero },
    { name: 'CreateService EXTERNAL with a task definition', send: () => ecs.send(new CreateServiceCommand({ cluster: 'ext', serviceName: 'x1', desiredCount: 1, taskDefinition: 'web', deploymentController: { type: 'EXTERNAL' } })), error: 'InvalidParameterException', message: 'TaskDefinition must be blank.' },
    { name: 'CreateService EXTERNAL with a network configuration', send: () => ecs.send(new CreateServiceCommand({ cluster: 'ext', serviceName: 'x2', desiredCount: 1, networkConfiguration: NETWORK, deploymentController: { type: 'EXTERNAL' } })), error: 'InvalidParameterException', message: 'NetworkConfiguration must be null.' },
    { name: 'UpdateService of an EXTERNAL service with a task definition', send: () => ecs.send(new UpdateServiceCommand({ cluster: 'ext', service: 'guarded', taskDefinition: 'web:2' })), error: 'InvalidParameterException', message: TASK_SET_MESSAGES.externalUpdate('taskDefinition') },
  ];

  it.each(rows)('$name: $error', async ({ send, error, message }) => {
    const before = await snapshotTable(berth.tableName);
    const failure = await send().then(() => undefined, (e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode?: number } });
    expect(failure, 'the request must fail').toBeDefined();
    expect(failure!.name).toBe(error);
    expect(failure!.$metadata.httpStatusCode).toBe(400);
    if (message) expect(failure!.message).toMatch(message);
    expect(await snapshotTable(berth.tableName)).toEqual(before);
  });

  it('a sixth task set is refused with ECS\'s limit message', async () => {
    await externalService('crowded', 1);
    for (let i = 0; i < 5; i++) await createSet('crowded', 'web', 0);
    const before = await snapshotTable(berth.tableName);
    await expect(createSet('crowded', 'web', 0)).rejects.toMatchObject({ name: 'InvalidParameterException', message: TASK_SET_MESSAGES.tooMany(5) });
    expect(await snapshotTable(berth.tableName)).toEqual(before);
  });
});
