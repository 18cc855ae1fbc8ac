/**
 * The REPLICA scheduler's judgment end to end in local mode (one local Berth for the file: its service
 * loop, the stream-driven engine and the embedded agent running tasks as OS processes with real
 * container health checks), through the real ECS SDK:
 * - a task whose health check fails is replaced in seed 001's order: the replacement starts first and
 *   the unhealthy task stops only once its replacement is HEALTHY;
 * - a service whose tasks cannot start shows "(service ...) is unable to consistently start tasks
 *   successfully." and SERVICE_TASK_START_IMPAIRED, with gaps between attempts that grow by the
 *   throttle's curve (scaled: base 0.5 s, cap 2 s), then a new task definition clears it;
 * - a task with scale-in protection survives a scale-in; GetTaskProtection / UpdateTaskProtection
 *   answer as ECS does (failures, bad input).
 * The three services are independent and run side by side. Waits poll with bounds.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  GetTaskProtectionCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  UpdateServiceCommand,
  UpdateTaskProtectionCommand,
  type ContainerDefinition,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { throttleDelaySeconds } from '../../src/domain/throttle';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

const CLUSTER = 'judgment';
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
const THROTTLE = { baseSeconds: 0.5, maxSeconds: 2 };
/** Generous bounds: on a quiet machine the file takes about 25 s, but 2 cores shared by seven sessions stretch it. */
const TEST_TIMEOUT = 150_000;
let local: LocalBerth;
let homes: string;

const register = (family: string, container: Partial<ContainerDefinition>) =>
  local.ecs.send(new RegisterTaskDefinitionCommand({
    family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
    containerDefinitions: [{ name: 'main', image: 'busybox', ...container }],
  }));

beforeAll(async () => {
  homes = mkdtempSync(join(tmpdir(), 'berth-judgment-'));
  local = await startLocalBerth({ throttle: THROTTLE });
  await local.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  // Each container writes its own scratch HOME where the test can find it; its health check fails
  // once a file named `sick` appears there, so the test makes exactly one task UNHEALTHY.
  await register('checked', {
    command: ['sh', '-c', `echo "$HOME" > "${homes}/$$"; exec sleep 300`],
    // A timeout well above what `test` takes, so a loaded machine does not fail a healthy container's check.
    healthCheck: { command: ['CMD-SHELL', 'test ! -e "$HOME/sick"'], interval: 5, timeout: 4, retries: 1 },
  });
  await register('broken', { command: ['/nonexistent/berth-no-such-binary'] });
  await register('plain', { command: ['sh', '-c', 'exec sleep 300'] });
}, 60_000);
afterAll(async () => {
  await local?.close();
  if (homes) rmSync(homes, { recursive: true, force: true });
});

const create = (serviceName: string, taskDefinition: string, desiredCount: number) =>
  local.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName, taskDefinition, desiredCount, launchType: 'FARGATE', networkConfiguration: NETWORK }));
const describeService = async (name: string): Promise<Service> =>
  (await local.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [name] }))).services![0]!;
async function allTasks(name: string): Promise<Task[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
    arns.push(...((await local.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: name, desiredStatus }))).taskArns ?? []));
  }
  if (arns.length === 0) return [];
  return (await local.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks!;
}
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value, null, 1).slice(0, 3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const ms = (d: Date | undefined) => d!.getTime();

describe.concurrent('the REPLICA scheduler\'s judgment in local mode', () => {
  it('replaces a task whose container health check fails: the replacement first, then the unhealthy task once it is HEALTHY', async () => {
    await create('sick', 'checked:1', 2);
    const healthy = await until(() => allTasks('sick'), (ts) => ts.filter((t) => t.healthStatus === 'HEALTHY').length === 2, 'two HEALTHY tasks');
    // Replacement first is the rule outside a rollout; during one, seed 001 stops an unhealthy task
    // first (R7). Under load the deployment may still be IN_PROGRESS when both tasks are HEALTHY.
    await until(() => describeService('sick'), (s) => s.deployments?.[0]?.rolloutState === 'COMPLETED', 'the deployment COMPLETED');
    const containerHomes = readdirSync(homes).map((f) => readFileSync(join(homes, f), 'utf8').trim());
    expect(new Set(containerHomes).size).toBe(2);
    writeFileSync(join(containerHomes[0]!, 'sick'), 'x'); // exactly one container fails its checks from now on
    const sick = await until(() => allTasks('sick'), (ts) => ts.some((t) => t.healthStatus === 'UNHEALTHY'), 'an UNHEALTHY task');
    const victim = sick.find((t) => t.healthStatus === 'UNHEALTHY')!;
    expect(healthy.map((t) => t.taskArn)).toContain(victim.taskArn);

    const done = await until(() => allTasks('sick'), (ts) => ts.find((t) => t.taskArn === victim.taskArn)?.lastStatus === 'STOPPED', 'the unhealthy task STOPPED');
    const stopped = done.find((t) => t.taskArn === victim.taskArn)!;
    expect(stopped).toMatchObject({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed container health checks' });
    // The first task started in its place (were it UNHEALTHY too, seed 001 has the scheduler stop one of
    // the two at random and start another: that later one is not what the order below is about).
    const replacement = done
      .filter((t) => !healthy.some((h) => h.taskArn === t.taskArn))
      .sort((a, b) => ms(a.createdAt) - ms(b.createdAt))[0]!;
    expect(replacement).toBeDefined();
    // Seed 001's order: the replacement was created, and RUNNING, before the unhealthy task was told to stop.
    expect(ms(replacement.createdAt)).toBeLessThan(ms(stopped.stoppingAt ?? stopped.stoppedAt));
    expect(ms(replacement.startedAt)).toBeLessThanOrEqual(ms(stopped.stoppingAt ?? stopped.stoppedAt));
    const service = await until(() => describeService('sick'), (s) => s.runningCount === 2, 'two running tasks again');
    const messages = service.events!.map((e) => e.message);
    expect(messages).toContain(`(service sick) (task ${victim.taskArn!.split('/').pop()}) failed container health checks.`);
    const order = messages.slice().reverse();
    const startedReplacement = order.findIndex((m) => m!.includes('has started') && m!.includes(replacement.taskArn!.split('/').pop()!));
    const stoppedVictim = order.findIndex((m) => m!.includes('has stopped') && m!.includes(victim.taskArn!.split('/').pop()!));
    expect(startedReplacement).toBeGreaterThanOrEqual(0);
    expect(stoppedVictim).toBeGreaterThan(startedReplacement);
  }, TEST_TIMEOUT);

  it('throttles a service whose tasks cannot start: the impaired event, growing gaps between attempts, cleared by a new task definition', async () => {
    await create('stuck', 'broken:1', 1);
    const attempts = await until(() => allTasks('stuck'), (ts) => ts.filter((t) => t.lastStatus === 'STOPPED').length >= 4, 'four failed attempts');
    const byCreation = attempts.sort((a, b) => ms(a.createdAt) - ms(b.createdAt));
    for (const t of byCreation.filter((t) => t.lastStatus === 'STOPPED')) {
      expect(t.stopCode).toBe('TaskFailedToStart');
      expect(t.startedAt).toBeUndefined();
    }
    // Each attempt after the k-th failure in a row waits at least the curve's k-th delay (0.5, 1, 2 s)
    // from that failure (from when its containers were gone: executionStoppedAt). Lower bounds only: a
    // loaded machine makes every gap longer, never shorter.
    for (let k = 1; k < 4; k++) {
      const failure = byCreation[k - 1]!;
      const next = byCreation[k]!;
      expect(ms(next.createdAt) - ms(failure.executionStoppedAt)).toBeGreaterThanOrEqual(throttleDelaySeconds(k, THROTTLE) * 1000);
    }
    const service = await describeService('stuck');
    expect(service.events!.map((e) => e.message)).toContain('(service stuck) is unable to consistently start tasks successfully.');
    expect(service).not.toHaveProperty('throttle');
    await local.waitForEvent((e) => e['detail-type'] === 'ECS Service Action' && e.detail.eventName === 'SERVICE_TASK_START_IMPAIRED' && e.resources[0] === service.serviceArn);

    // A new task definition returns the service to normal at once: it starts and runs.
    await local.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'stuck', taskDefinition: 'plain:1' }));
    await until(() => describeService('stuck'), (s) => s.runningCount === 1, 'the new task definition running');
  }, TEST_TIMEOUT);

  it('a task with scale-in protection survives a scale-in; the protection APIs answer as ECS does', async () => {
    await create('guarded', 'plain:1', 3);
    const running = await until(() => allTasks('guarded'), (ts) => ts.filter((t) => t.lastStatus === 'RUNNING').length === 3, 'three RUNNING tasks');
    const keep = running[1]!.taskArn!;
    const taskId = keep.split('/').pop()!;

    const protectedAnswer = await local.ecs.send(new UpdateTaskProtectionCommand({ cluster: CLUSTER, tasks: [taskId, 'f'.repeat(32)], protectionEnabled: true, expiresInMinutes: 5 }));
    expect(protectedAnswer.protectedTasks).toEqual([expect.objectContaining({ taskArn: keep, protectionEnabled: true })]);
    expect(protectedAnswer.failures).toEqual([expect.objectContaining({ reason: 'MISSING', arn: expect.stringContaining('f'.repeat(32)) })]);
    const expires = ms(protectedAnswer.protectedTasks![0]!.expirationDate);
    expect(expires).toBeGreaterThan(Date.now() + 4 * 60_000);

    await local.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'guarded', desiredCount: 1 }));
    const after = await until(() => allTasks('guarded'), (ts) => ts.filter((t) => t.lastStatus === 'STOPPED').length === 2, 'two tasks stopped by the scale-in');
    expect(after.find((t) => t.taskArn === keep)).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    const read = await local.ecs.send(new GetTaskProtectionCommand({ cluster: CLUSTER, tasks: [keep] }));
    expect(read.protectedTasks).toEqual([{ taskArn: keep, protectionEnabled: true, expirationDate: new Date(expires) }]);

    // Only service tasks can be protected; a bad duration is refused before anything is written.
    const standalone = (await local.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'plain:1', launchType: 'FARGATE', networkConfiguration: NETWORK }))).tasks![0];
    const refused = await local.ecs.send(new UpdateTaskProtectionCommand({ cluster: CLUSTER, tasks: [standalone!.taskArn!], protectionEnabled: true }));
    expect(refused).toMatchObject({ protectedTasks: [], failures: [expect.objectContaining({ arn: standalone!.taskArn, reason: 'TASK_NOT_VALID' })] });
    await expect(local.ecs.send(new UpdateTaskProtectionCommand({ cluster: CLUSTER, tasks: [keep], protectionEnabled: true, expiresInMinutes: 2881 })))
      .rejects.toMatchObject({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    expect((await local.ecs.send(new GetTaskProtectionCommand({ cluster: CLUSTER, tasks: [keep] }))).protectedTasks![0]!.expirationDate).toEqual(new Date(expires));

    // Protection off: the next pass may scale it in like any other (the service then keeps one task).
    const off = await local.ecs.send(new UpdateTaskProtectionCommand({ cluster: CLUSTER, tasks: [keep], protectionEnabled: false }));
    expect(off.protectedTasks).toEqual([{ taskArn: keep, protectionEnabled: false }]);
  }, TEST_TIMEOUT);
});
