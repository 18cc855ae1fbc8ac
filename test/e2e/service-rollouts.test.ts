/**
 * Service rollouts end to end in local mode (one local Berth for the file; its service loop, the
 * stream-driven engine and the embedded agent running tasks as OS processes), driven through the real
 * ECS SDK and the AWS CLI (/usr/bin/aws): the circuit breaker tripping on a task definition whose
 * command cannot start and rolling back, StopServiceDeployment ROLLBACK, rolling updates that keep the
 * observed counts inside minimumHealthyPercent / maximumPercent at every poll, a killed task process
 * replaced, and scaling 4 -> 10 -> 0. Everything goes through the public API; waits poll with bounds.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../support/processes';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

const CLUSTER = 'rollouts';
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
const WAIT = { minDelay: 1, maxDelay: 1, maxWaitTime: 90 };
/** Per test: rollouts of a few tasks take seconds, but a loaded 2-core machine stretches them. */
const TEST_TIMEOUT = 150_000;
const ARN = 'arn:aws:ecs:us-east-1:000000000000';
let local: LocalBerth;
const killed: number[] = [];

const taskDefinition = (family: string, command: string[]) =>
  new RegisterTaskDefinitionCommand({
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'main', image: 'busybox', command }],
  });

beforeAll(async () => {
  local = await startLocalBerth();
  await local.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  // sleep dies on SIGTERM, so rolling stops are quick; the marker tells the revisions apart.
  for (const marker of ['one', 'two']) await local.ecs.send(taskDefinition('app', ['sh', '-c', `exec sleep 300 # ${marker}`]));
  // Its tasks start four at once to trip the breaker: no image digest resolution (seed 002) first
  // tries them one at a time (test/integration/image-digests.test.ts covers that path).
  const broken = taskDefinition('broken', ['/nonexistent/berth-no-such-binary']);
  broken.input.containerDefinitions![0]!.versionConsistency = 'disabled';
  await local.ecs.send(broken);
}, 60_000);
afterAll(async () => {
  for (const pid of killed) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await local?.close();
});

const ecs = () => local.ecs;
const describeService = async (name: string): Promise<Service> =>
  (await ecs().send(new DescribeServicesCommand({ cluster: CLUSTER, services: [name] }))).services![0];

async function tasksOf(name: string, desiredStatus: 'RUNNING' | 'STOPPED'): Promise<Task[]> {
  const { taskArns } = await ecs().send(new ListTasksCommand({ cluster: CLUSTER, serviceName: name, desiredStatus }));
  if (!taskArns?.length) return [];
  const tasks: Task[] = [];
  for (let i = 0; i < taskArns.length; i += 100) {
    tasks.push(...(await ecs().send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns.slice(i, i + 100) }))).tasks!);
  }
  return tasks;
}
const running = async (name: string) => (await tasksOf(name, 'RUNNING')).filter((t) => t.lastStatus === 'RUNNING');

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value, null, 1).slice(0, 3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const create = (serviceName: string, desiredCount: number, extra: Record<string, unknown> = {}) =>
  ecs().send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName,
      taskDefinition: 'app:1',
      desiredCount,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
      ...extra,
    }),
  );
const stable = (name: string) => waitUntilServicesStable({ client: ecs(), ...WAIT }, { cluster: CLUSTER, services: [name] });
const completed = (desired: number) => (s: Service) =>
  s.deployments!.length === 1 && s.deployments![0].rolloutState === 'COMPLETED' && s.runningCount === desired && s.pendingCount === 0;

async function aws(...args: string[]): Promise<any> {
  const { stdout } = await promisify(execFile)('/usr/bin/aws', ['ecs', ...args, '--endpoint-url', local.berth.url, '--output', 'json'], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' },
  });
  return stdout.trim() ? JSON.parse(stdout) : {};
}

// The two services are independent: their tests run side by side.
describe.concurrent('the deployment circuit breaker in local mode', () => {
  it('trips on a command that cannot start (threshold 3 of 4) and rolls back to the previous task definition', async () => {
    const { service } = await create('brk', 4, { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } });
    const good = service!.deployments![0].id!;
    await stable('brk');
    const original = (await running('brk')).map((t) => t.taskArn).sort();
    const { service: updated } = await ecs().send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'brk', taskDefinition: 'broken:1' }));
    const bad = updated!.deployments![0].id!;
    const [release] = (await ecs().send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: 'brk', maxResults: 1 }))).serviceDeployments!;

    const back = await until(
      () => describeService('brk'),
      (s) => s.taskDefinition!.endsWith('app:1') && completed(4)(s) && s.deployments![0].id === good,
      'rolled back and COMPLETED',
    );
    const messages = back.events!.map((e) => e.message);
    expect(messages).toContain(`(service brk) (deployment ${bad}) deployment failed: tasks failed to start.`);
    expect(messages).toContain(`(service brk) rolling back to deployment ${good}.`);
    expect(messages.indexOf(`(service brk) (deployment ${good}) deployment completed.`)).toBeLessThan(
      messages.indexOf(`(service brk) rolling back to deployment ${good}.`),
    );
    // The original tasks kept serving throughout: old tasks stop only once new ones are available.
    expect((await running('brk')).map((t) => t.taskArn).sort()).toEqual(original);
    // None of the broken revision's tasks ever ran; at least the threshold failed to start (the rest
    // were stopped by the scheduler once the deployment FAILED).
    const badTasks = (await tasksOf('brk', 'STOPPED')).filter((t) => t.startedBy === bad);
    expect(badTasks.every((t) => t.startedAt === undefined)).toBe(true);
    const failedToStart = badTasks.filter((t) => t.stopCode === 'TaskFailedToStart');
    expect(failedToStart.length).toBeGreaterThanOrEqual(3);
    expect(failedToStart[0].stoppedReason).toMatch(/berth-no-such-binary/);

    const sd = await until(
      async () => (await ecs().send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [release.serviceDeploymentArn!] }))).serviceDeployments![0],
      (x) => x.status === 'ROLLBACK_SUCCESSFUL',
      'ROLLBACK_SUCCESSFUL',
    );
    expect(sd).toMatchObject({
      statusReason: 'ECS deployment circuit breaker: tasks failed to start.',
      rollback: {
        reason: 'ECS deployment circuit breaker: tasks failed to start.',
        serviceRevisionArn: `${ARN}:service-revision/${CLUSTER}/brk/${good.slice('ecs-svc/'.length)}`,
      },
      deploymentCircuitBreaker: { status: 'TRIGGERED', threshold: 3 },
      targetServiceRevision: { arn: `${ARN}:service-revision/${CLUSTER}/brk/${bad.slice('ecs-svc/'.length)}` },
    });
    expect(sd.deploymentCircuitBreaker!.failureCount).toBeGreaterThanOrEqual(3);
    expect(sd.finishedAt).toBeInstanceOf(Date);
  }, TEST_TIMEOUT);

  // /usr/bin/aws (CLI v1 here) has update-service but none of the service deployment commands: those go through the SDK.
  it('StopServiceDeployment ROLLBACK rolls back a deployment that cannot move (started with the AWS CLI)', async () => {
    const { service } = await create('hold', 2);
    const good = service!.deployments![0].id!;
    await stable('hold');
    const original = (await running('hold')).map((t) => t.taskArn).sort();
    // 100% / 100% of 2: nothing may stop or start, so the rollout stays IN_PROGRESS.
    const updated = await aws(
      'update-service', '--cluster', CLUSTER, '--service', 'hold', '--task-definition', 'app:2',
      '--deployment-configuration', 'minimumHealthyPercent=100,maximumPercent=100',
    );
    expect(updated.service.deployments.map((d: { status: string }) => d.status)).toEqual(['PRIMARY', 'ACTIVE']);
    const [listed] = (
      await until(
        () => ecs().send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: 'hold', status: ['IN_PROGRESS'] })),
        (out) => out.serviceDeployments?.length === 1,
        'the service deployment IN_PROGRESS',
      )
    ).serviceDeployments!;
    const arn = listed.serviceDeploymentArn!;
    const held = await describeService('hold');
    expect(held.events!.map((e) => e.message)).toContain(
      '(service hold) was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.',
    );
    const stopped = await ecs().send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }));
    expect(stopped.serviceDeploymentArn).toBe(arn);
    const done = await until(
      async () => (await ecs().send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0],
      (sd) => sd.status === 'ROLLBACK_SUCCESSFUL',
      'ROLLBACK_SUCCESSFUL',
    );
    expect(done.rollback!.serviceRevisionArn).toBe(`${ARN}:service-revision/${CLUSTER}/hold/${good.slice('ecs-svc/'.length)}`);
    const back = await until(() => describeService('hold'), completed(2), 'COMPLETED again');
    expect(back.taskDefinition).toBe(`${ARN}:task-definition/app:1`);
    expect(back.deployments![0].id).toBe(good);
    expect(back.events!.map((e) => e.message)).toContain(`(service hold) rolling back to deployment ${good}.`);
    expect((await running('hold')).map((t) => t.taskArn).sort()).toEqual(original);
  }, TEST_TIMEOUT);
});

describe('a 4-task service in local mode', () => {
  it.each([
    { min: 50, max: 150, to: 'app:2', floor: 2, ceiling: 6 },
    { min: 0, max: 100, to: 'app:1', floor: 0, ceiling: 4 },
  ])('rolls to $to with $min% / $max%: every poll inside [$floor available, $ceiling holding]', async ({ min, max, to, floor, ceiling }) => {
    if (to === 'app:2') {
      await create('roll', 4);
      await stable('roll');
    } else {
      await until(() => describeService('roll'), completed(4), 'the previous rollout COMPLETED');
    }
    const { service } = await ecs().send(
      new UpdateServiceCommand({
        cluster: CLUSTER,
        service: 'roll',
        taskDefinition: to,
        deploymentConfiguration: { minimumHealthyPercent: min, maximumPercent: max },
      }),
    );
    const fresh = service!.deployments![0].id!;
    let polls = 0;
    const observed = await until(
      async () => {
        // A task stopped between the two lists shows in both: count it once, as last described.
        const both = [...(await tasksOf('roll', 'RUNNING')), ...(await tasksOf('roll', 'STOPPED'))];
        const listed = [...new Map(both.map((t) => [t.taskArn, t])).values()];
        const available = listed.filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus === 'RUNNING').length;
        const holding = listed.filter((t) => t.lastStatus !== 'STOPPED').length;
        expect(available, 'available tasks at or above the minimumHealthyPercent floor').toBeGreaterThanOrEqual(floor);
        expect(holding, 'tasks holding resources at or below the maximumPercent ceiling').toBeLessThanOrEqual(ceiling);
        polls++;
        return describeService('roll');
      },
      (s) => completed(4)(s) && s.deployments![0].id === fresh,
      'rollout COMPLETED',
    );
    expect(polls).toBeGreaterThan(1);
    expect(observed.taskDefinition).toBe(`${ARN}:task-definition/${to}`);
    const now = await running('roll');
    expect(now).toHaveLength(4);
    expect(now.every((t) => t.startedBy === fresh && t.taskDefinitionArn!.endsWith(to))).toBe(true);
  }, TEST_TIMEOUT);

  it('replaces a task whose OS process was killed', async () => {
    const [victim] = await running('roll');
    const taskId = victim.taskArn!.split('/').pop()!;
    const { pid } = JSON.parse(readFileSync(join(local.berth.dataDirectory, 'tasks', taskId, 'main', 'container.json'), 'utf8'));
    killed.push(pid);
    process.kill(-pid, 'SIGKILL');
    const gone = await local.waitForTask(CLUSTER, victim.taskArn!, (t) => t.lastStatus === 'STOPPED');
    expect(gone.stopCode).toBe('EssentialContainerExited');
    const replaced = await until(
      () => running('roll'),
      (t) => t.length === 4 && !t.some((x) => x.taskArn === victim.taskArn),
      'a replacement RUNNING',
    );
    expect(replaced.every((t) => t.startedBy === victim.startedBy)).toBe(true);
  }, TEST_TIMEOUT);

  it('scales 4 -> 10 -> 0', async () => {
    await ecs().send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'roll', desiredCount: 10 }));
    await until(() => describeService('roll'), completed(10), '10 RUNNING and steady');
    expect(await running('roll')).toHaveLength(10);
    await ecs().send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'roll', desiredCount: 0 }));
    const zero = await until(() => describeService('roll'), completed(0), '0 tasks and steady');
    expect(zero.deployments![0].desiredCount).toBe(0);
    expect(await tasksOf('roll', 'RUNNING')).toEqual([]);
    const stopped = (await tasksOf('roll', 'STOPPED')).filter((t) => t.stoppedReason?.startsWith('Scaling activity initiated by'));
    expect(stopped.length).toBeGreaterThanOrEqual(10);
    for (const t of stopped) expect(t.stopCode).toBe('ServiceSchedulerInitiated');
  }, TEST_TIMEOUT);
});
