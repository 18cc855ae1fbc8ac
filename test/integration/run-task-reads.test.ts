/**
 * RunTask reads the task definition, the cluster and the client token at once (src/app/tasks.ts):
 * which error wins when several things are wrong must not depend on which read answers first. ECS's
 * order, as Berth answered when it read them one after another: a blank or missing/INACTIVE cluster,
 * then the client token (a replay answers even if the task definition went since; another request
 * with the same token conflicts), then the task definition (missing, INACTIVE), then the cluster's
 * hosts (EC2 tasks, whose placement reads start with the others).
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
import { registerHost } from '../support/hosts';
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
  await ecs.send(new CreateClusterCommand({ clusterName: 'hostless' }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'hosted' }));
  await registerHost(ecs, 'hosted');
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'job', containerDefinitions: [{ name: 'app', image: 'busybox', cpu: 128, memory: 64 }] }));
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
    { name: 'EC2: missing cluster and missing task definition', input: { cluster: 'ghost', taskDefinition: 'nothing', launchType: 'EC2' }, error: 'ClusterNotFoundException' },
    {
      name: 'EC2: a cluster without hosts and a missing task definition',
      input: { cluster: 'hostless', taskDefinition: 'nothing', launchType: 'EC2' },
      error: 'ClientException',
      message: 'TaskDefinition not found.',
    },
    {
      name: 'EC2: a cluster without hosts and a deregistered task definition',
      input: { cluster: 'hostless', taskDefinition: 'gone:1', launchType: 'EC2' },
      error: 'ClientException',
      message: 'TaskDefinition is inactive.',
    },
    {
      name: 'EC2: a cluster without hosts and an override for a container the definition lacks',
      input: { cluster: 'hostless', taskDefinition: 'job', launchType: 'EC2', overrides: { containerOverrides: [{ name: 'sidecar' }] } },
      error: 'InvalidParameterException',
      message: 'Override for container named sidecar is not a container in the TaskDefinition.',
    },
    {
      name: 'EC2: a cluster without hosts',
      input: { cluster: 'hostless', taskDefinition: 'job', launchType: 'EC2' },
      error: 'InvalidParameterException',
      message: 'No Container Instances were found in your cluster.',
    },
  ])('$name: $error', async ({ input, error, message }) => {
    const before = await Promise.all(['live', 'hostless'].map(tasksIn));
    const sent = ecs.send(new RunTaskCommand(input));
    await expect(sent).rejects.toMatchObject({ name: error, ...(message ? { message } : {}) });
    expect(await Promise.all(['live', 'hostless'].map(tasksIn))).toEqual(before);
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
  /**
   * A context on the real repositories that records which reads were made, and holds the task
   * definition's answer until released.
   */
  function heldDefinitionContext() {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const seen = new Set<string>();
    const { taskDefinitions: definitions, clusters, tasks, containerInstances } = berth.context;
    const told = <T extends object>(target: T, method: keyof T & string, name: string, wait?: Promise<void>) =>
      Object.create(target, {
        [method]: {
          value: async (...args: unknown[]) => {
            seen.add(name);
            await wait;
            return (target[method] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          },
        },
      }) as T;
    const ctx: RequestContext = {
      ...berth.context,
      scope,
      taskDefinitions: told(definitions, 'getRevision', 'definition', held),
      clusters: told(clusters, 'get', 'cluster'),
      tasks: told(told(tasks, 'getRunTaskToken', 'token'), 'groupsPerInstance', 'groups'),
      containerInstances: told(containerInstances, 'all', 'hosts'),
    };
    return { ctx, seen, release };
  }

  it.each([
    {
      name: 'the cluster and the client token (Fargate)',
      input: { cluster: 'live', taskDefinition: 'web:1', ...ON_FARGATE, clientToken: 'at-once' },
      reads: ['definition', 'cluster', 'token'],
    },
    {
      name: "the cluster, its hosts and their tasks' groups (EC2)",
      input: { cluster: 'hosted', taskDefinition: 'job:1', launchType: 'EC2' as const },
      reads: ['definition', 'cluster', 'hosts', 'groups'],
    },
  ])('reads $name while the task definition read is still out', async ({ input, reads }) => {
    const { ctx, seen, release } = heldDefinitionContext();
    const running = runTask(ctx, input);
    running.catch(() => undefined);
    await waitFor(`${reads.join(', ')} beside the held task definition read`, () => reads.every((read) => seen.has(read)), 20_000);
    release();
    const { tasks, failures } = await running;
    expect(failures).toEqual([]);
    expect(tasks).toHaveLength(1);
    expect(await tasksIn(input.cluster)).toContain(tasks[0].taskArn);
    if (input.launchType === 'EC2') expect(tasks[0].containerInstanceArn).toBeDefined();
  });
});
