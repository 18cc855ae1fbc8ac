/**
 * The stream is the outbox: kill -9 the local runtime while tasks are churning, start it again on the
 * same data, and every committed change still has its event in the log: nothing lost, duplicates
 * only as repeats of the same id with the same content.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/dynamodb-local';
import { isLegalTransition, type TaskStatus } from '../../src/domain/task-lifecycle';

const dataDirectory = mkdtempSync(join(tmpdir(), 'berth-crash-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDirectory, { recursive: true, force: true });
});

async function startRuntime(port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/berth-local.ts', '--port', String(port), '--data-dir', dataDirectory], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  while (!output.includes('  Try: aws ecs')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`runtime did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

const client = (port: number) =>
  new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });

async function settled(ecs: ECSClient, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = [];
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
      let nextToken: string | undefined;
      do {
        const page = await ecs.send(new ListTasksCommand({ cluster: 'crash', desiredStatus, nextToken }));
        all.push(...page.taskArns!);
        nextToken = page.nextToken;
      } while (nextToken);
    }
    const tasks = [];
    for (let i = 0; i < all.length; i += 100) {
      tasks.push(...(await ecs.send(new DescribeTasksCommand({ cluster: 'crash', tasks: all.slice(i, i + 100) }))).tasks!);
    }
    if (tasks.length > 0 && tasks.every((t) => t.lastStatus === 'STOPPED')) return tasks;
    if (Date.now() > deadline) throw new Error(`tasks did not settle: ${tasks.map((t) => t.lastStatus).join(',')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('a crash between a write and its event', () => {
  it('loses no event: after kill -9 and a restart every task change has exactly one event id', async () => {
    const port = await freePort();
    const first = await startRuntime(port);
    const ecs = client(port);
    await ecs.send(new CreateClusterCommand({ clusterName: 'crash' }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'blip',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sleep', '1'], stopTimeout: 1 }],
      }),
    );
    // Churn: tasks start, some are stopped early, the rest exit by themselves after a second.
    const started: string[] = [];
    const churnUntil = Date.now() + 2_500;
    while (Date.now() < churnUntil) {
      const { tasks } = await ecs.send(
        new RunTaskCommand({
          cluster: 'crash',
          taskDefinition: 'blip',
          count: 3,
          launchType: 'FARGATE',
          networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
        }),
      );
      started.push(...tasks!.map((t) => t.taskArn!));
      await ecs.send(new StopTaskCommand({ cluster: 'crash', task: tasks![0].taskArn! }));
    }
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startRuntime(port);
    const tasks = await settled(ecs, 60_000);
    expect(tasks.map((t) => t.taskArn).sort()).toEqual([...started].sort());
    // Let the last STOPPED events reach the log, then stop cleanly.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    second.child.kill('SIGTERM');
    await second.exited;
    ecs.destroy();

    const log = readFileSync(join(dataDirectory, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const byId = new Map<string, string>();
    for (const event of log) {
      const text = JSON.stringify(event);
      // A repeated id is a repeat of the same event, never a different one.
      if (byId.has(event.id)) expect(text).toBe(byId.get(event.id));
      byId.set(event.id, text);
    }
    const distinct = [...byId.values()].map((t) => JSON.parse(t)).filter((e) => e['detail-type'] === 'ECS Task State Change');
    for (const task of tasks) {
      const chain = distinct
        .filter((e) => e.resources[0] === task.taskArn)
        .map((e) => e.detail)
        .sort((a, b) => a.version - b.version);
      expect(chain[0], task.taskArn).toMatchObject({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', version: 1 });
      for (let i = 1; i < chain.length; i++) {
        const [before, after] = [chain[i - 1], chain[i]];
        const step = before.lastStatus === after.lastStatus
          ? before.desiredStatus === 'RUNNING' && after.desiredStatus === 'STOPPED'
          : isLegalTransition(before.lastStatus as TaskStatus, after.lastStatus as TaskStatus);
        expect(step, `${task.taskArn}: ${before.lastStatus}/${before.desiredStatus} -> ${after.lastStatus}/${after.desiredStatus}`).toBe(true);
      }
      expect(chain.at(-1), task.taskArn).toMatchObject({ lastStatus: 'STOPPED', version: task.version });
    }
  }, 180_000);
});
