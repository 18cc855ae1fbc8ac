/**
 * RunTask reads the task definition, the cluster and the client token at once (src/app/tasks.ts):
 * which error wins when several things are wrong must not depend on which read answers first. ECS's
 * order, as Berth answered when it read them one after another: a blank or missing/INACTIVE cluster,
 * then the client token (a replay answers even if the task definition went since; another request
 * with the same token conflicts), then the task definition (missing, INACTIVE).
 */
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeregisterTaskDefinitionCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type ECSClient,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/app/context';
import { runTask } from '../../src/app/tasks';
import { clusterArn as clusterArnOf } from '../../src/domain/arns';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { waitFor } from '../support/wait-for';

const scope = { account: ACCOUNT, region: REGION };
const ON_FARGATE = { launchType: 'FARGATE' as const, networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } } };
const fargateDefinition = (family: string) =>
  new RegisterTaskDefinitionCommand({
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image: 'nginx' }],
  });

let berth: Harness;
let ecs: ECSClient;
/** The tasks the first RunTask with token `kept` started, before its task definition was deregistered. */
let keptTasks: string[];
const KEPT_REQUEST = { cluster: 'live', taskDefinition: 'gone:1', ...ON_FARGATE, clientToken: 'kept', startedBy: 'first' };

beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'live' }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'deleted' }));
  await ecs.send(new DeleteClusterCommand({ cluster: 'deleted' }));
  await ecs.send(fargateDefinition('web'));
  await ecs.send(fargateDefinition('gone'));
  const first = await ecs.send(new RunTaskCommand(KEPT_REQUEST));
  keptTasks = first.tasks!.map((t) => t.taskArn!);
  await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'gone:1' }));
});
afterAll(() => berth?.close());

const tasksIn = async (cluster: string) => (await ecs.send(new ListTasksCommand({ cluster }))).taskArns ?? [];

describe('RunTask: which error wins when several are due', () => {
  it.each<{ name: string; input: RunTaskCommandInput; error: string; message?: string }>([
    { name: 'missing cluster and missing task definition', input: { cluster: 'ghost', taskDefinition: 'nothing', ...ON_FARGATE }, error: 'ClusterNotFoundException' },
    { name: 'missing cluster and missing revision', input: { cluster: 'ghost', taskDefinition: 'web:99', ...ON_FARGATE }, error: 'ClusterNotFoundException' },
    { name: 'deleted cluster and deregistered task definition', input: { cluster: 'deleted', taskDefinition: 'gone:1', ...ON_FARGATE }, error: 'ClusterNotFoundException' },
    {
      name: 'missing cluster, missing task definition, a client token',
      input: { cluster: 'ghost', taskDefinition: 'nothing', ...ON_FARGATE, clientToken: 'ghost-token' },
      error: 'ClusterNotFoundException',
    },
    {
      name: 'deleted cluster and a token another cluster kept',
      input: { ...KEPT_REQUEST, cluster: 'deleted' },
      error: 'ClusterNotFoundException',
    },
    {
      name: 'blank cluster name and missing task definition',
      input: { cluster: ' ', taskDefinition: 'nothing', ...ON_FARGATE },
      error: 'InvalidParameterException',
      message: 'Cluster name can not be blank.',
    },
    {
      name: 'a token reused by another request, and a missing task definition',
      input: { ...KEPT_REQUEST, taskDefinition: 'nothing' },
      error: 'ConflictException',
    },
    {
      name: 'a fresh token and a missing task definition',
      input: { cluster: 'live', taskDefinition: 'nothing', ...ON_FARGATE, clientToken: 'fresh' },
      error: 'ClientException',
      message: 'TaskDefinition not found.',
    },
    {
      name: 'a fresh token and a deregistered task definition',
      input: { cluster: 'live', taskDefinition: 'gone:1', ...ON_FARGATE, clientToken: 'fresh' },
      error: 'ClientException',
      message: 'TaskDefinition is inactive.',
    },
  ])('$name: $error', async ({ input, error, message }) => {
    const before = await tasksIn('live');
    const sent = ecs.send(new RunTaskCommand(input));
    await expect(sent).rejects.toMatchObject({ name: error, ...(message ? { message } : {}) });
    expect(await tasksIn('live')).toEqual(before);
    // A refused request spends no token: 'fresh' stays free.
    expect(await berth.context.tasks.getRunTaskToken(clusterArnOf(scope, 'live'), 'fresh')).toBeUndefined();
  });

  it('the same request with its token answers with its first tasks, though their task definition is INACTIVE now', async () => {
    const replay = await ecs.send(new RunTaskCommand(KEPT_REQUEST));
    expect(replay.failures).toEqual([]);
    expect(replay.tasks!.map((t) => t.taskArn)).toEqual(keptTasks);
    expect((await tasksIn('live')).sort()).toEqual([...keptTasks].sort());
  });
});

describe('RunTask: its reads run at once', () => {
  it('reads the cluster and the client token while the task definition read is still out', async () => {
    let releaseDefinition!: () => void;
    const definitionHeld = new Promise<void>((resolve) => (releaseDefinition = resolve));
    const seen = new Set<string>();
    const definitions = berth.context.taskDefinitions;
    const ctx: RequestContext = {
      ...berth.context,
      scope,
      // The real repositories, told when they are called; the task definition's answer waits.
      taskDefinitions: Object.create(definitions, {
        getRevision: {
          value: async (...args: Parameters<typeof definitions.getRevision>) => {
            seen.add('definition');
            await definitionHeld;
            return definitions.getRevision(...args);
          },
        },
      }),
      clusters: Object.create(berth.context.clusters, {
        get: { value: (arn: string) => (seen.add('cluster'), berth.context.clusters.get(arn)) },
      }),
      tasks: Object.create(berth.context.tasks, {
        getRunTaskToken: {
          value: (arn: string, token: string) => (seen.add('token'), berth.context.tasks.getRunTaskToken(arn, token)),
        },
      }),
    };
    const running = runTask(ctx, { cluster: 'live', taskDefinition: 'web:1', ...ON_FARGATE, clientToken: 'at-once' });
    running.catch(() => undefined);
    await waitFor('the cluster and token reads beside the held task definition read', () =>
      ['definition', 'cluster', 'token'].every((read) => seen.has(read)),
      20_000,
    );
    releaseDefinition();
    const { tasks } = await running;
    expect(tasks).toHaveLength(1);
    expect(await berth.context.tasks.getRunTaskToken(clusterArnOf(scope, 'live'), 'at-once')).toMatchObject({ taskArns: [tasks[0].taskArn] });
  });
});
