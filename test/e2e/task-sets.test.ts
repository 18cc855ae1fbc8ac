/**
 * A blue/green deployment by an external controller, end to end in local mode: the real ECS SDK
 * against an in-process local Berth whose service loop runs the task set reconciler, the engine places
 * the tasks and the embedded agent runs them as OS processes (Fargate). A second task set scales up,
 * becomes primary, the old one is deleted and its tasks stop; the service's sets emit
 * TASKSET_STEADY_STATE. One runtime for the file; waits poll with a bound.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServicePrimaryTaskSetCommand,
  type Task,
  type TaskSet,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

const CLUSTER = 'bg';
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
let local: LocalBerth;

beforeAll(async () => {
  local = await startLocalBerth();
  await local.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  for (const colour of ['blue', 'green']) {
    await local.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: colour,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sh', '-c', `exec sleep 300 # ${colour}`] }],
      }),
    );
  }
}, 60_000);
afterAll(async () => {
  await local?.close();
});

async function tasksOf(desiredStatus: 'RUNNING' | 'STOPPED'): Promise<Task[]> {
  const { taskArns } = await local.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: 'web', desiredStatus }));
  if (!taskArns?.length) return [];
  return (await local.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns }))).tasks!;
}
const taskSets = async (): Promise<TaskSet[]> => (await local.ecs.send(new DescribeTaskSetsCommand({ cluster: CLUSTER, service: 'web' }))).taskSets!;

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value, null, 1).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
const runningOf = (tasks: Task[], set: TaskSet) => tasks.filter((t) => t.startedBy === set.id && t.lastStatus === 'RUNNING');
const createSet = async (family: string) =>
  (await local.ecs.send(new CreateTaskSetCommand({ cluster: CLUSTER, service: 'web', taskDefinition: family, launchType: 'FARGATE', networkConfiguration: NETWORK, scale: { value: 100, unit: 'PERCENT' } }))).taskSet!;

describe('blue/green with task sets (EXTERNAL controller)', () => {
  it('green scales up beside blue, becomes primary, blue is deleted and its tasks stop', async () => {
    await local.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'web', desiredCount: 2, deploymentController: { type: 'EXTERNAL' } }));
    const blue = await createSet('blue');
    await local.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: CLUSTER, service: 'web', primaryTaskSet: blue.id! }));
    await until(() => tasksOf('RUNNING'), (tasks) => runningOf(tasks, blue).length === 2, 'blue running 2 tasks');
    await until(taskSets, (sets) => sets[0]?.stabilityStatus === 'STEADY_STATE', 'blue steady');

    const green = await createSet('green');
    const both = await until(() => tasksOf('RUNNING'), (tasks) => runningOf(tasks, green).length === 2, 'green running 2 tasks');
    expect(runningOf(both, blue)).toHaveLength(2); // blue keeps serving while green comes up
    expect(both.filter((t) => t.startedBy === green.id).every((t) => t.taskDefinitionArn!.endsWith(':task-definition/green:1'))).toBe(true);

    await local.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: CLUSTER, service: 'web', primaryTaskSet: green.taskSetArn! }));
    await local.ecs.send(new DeleteTaskSetCommand({ cluster: CLUSTER, service: 'web', taskSet: blue.id!, force: true }));
    const stopped = await until(
      () => tasksOf('STOPPED'),
      (tasks) => tasks.filter((t) => t.startedBy === blue.id && t.lastStatus === 'STOPPED').length === 2,
      'blue tasks STOPPED',
    );
    expect(stopped.filter((t) => t.startedBy === blue.id).every((t) => t.stopCode === 'ServiceSchedulerInitiated')).toBe(true);
    const remaining = await until(taskSets, (sets) => sets.length === 1 && sets[0].stabilityStatus === 'STEADY_STATE', 'only green, steady');
    expect(remaining[0]).toMatchObject({ id: green.id, status: 'PRIMARY', computedDesiredCount: 2, runningCount: 2, pendingCount: 0 });
    expect(runningOf(await tasksOf('RUNNING'), green)).toHaveLength(2);

    const [service] = (await local.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['web'] }))).services!;
    expect(service).toMatchObject({ taskDefinition: expect.stringMatching(/:task-definition\/green:1$/), runningCount: 2, taskSets: [expect.objectContaining({ id: green.id })] });

    // Each set reported its steady state as the ECS Service Action TASKSET_STEADY_STATE.
    const steady = await until(
      async () => local.events().filter((e) => e['detail-type'] === 'ECS Service Action' && e.detail.eventName === 'TASKSET_STEADY_STATE'),
      (events) => [blue, green].every((s) => events.some((e) => (e.detail.taskSetArns as string[] | undefined)?.[0] === s.taskSetArn)),
      'TASKSET_STEADY_STATE for both sets',
    );
    expect(steady[0]).toMatchObject({ source: 'berth.ecs', resources: [service.serviceArn], detail: { eventType: 'INFO', clusterArn: service.clusterArn } });
  }, 120_000);
});
