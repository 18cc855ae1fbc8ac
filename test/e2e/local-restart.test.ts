/**
 * `npm start` restarted on the same data directory: its embedded agent comes back as the same Fargate
 * host; after a crash (SIGKILL) the task whose process still runs is adopted and stays RUNNING; after
 * a clean stop (SIGTERM) the tasks it stopped read as stopped by the agent, never as an essential
 * container exit that did not happen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_SHUT_DOWN } from '../../src/agent/reasons';
import { freePort } from '../../src/local/dynamodb-local';
import { isAlive } from '../support/processes';

const dataDirectory = mkdtempSync(join(tmpdir(), 'berth-local-restart-'));
const children: ChildProcess[] = [];
const pids: number[] = [];
const jvmPids: number[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const pid of jvmPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
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
  const deadline = Date.now() + 120_000; // seconds when quiet; minutes under load 20+
  while (!output.includes('  Try: aws ecs')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`runtime did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // A runtime killed with SIGKILL cannot stop its DynamoDB Local: the test does.
  const jvm = /DynamoDB Local: pid (\d+)/.exec(output)?.[1];
  if (jvm) jvmPids.push(Number(jvm));
  return { child, exited: new Promise((resolve) => child.once('exit', resolve)), output: () => output };
}

const agentArn = () => (JSON.parse(readFileSync(join(dataDirectory, 'agent.json'), 'utf8')) as { containerInstanceArn: string }).containerInstanceArn;

function pidOf(taskArn: string): number {
  const record = JSON.parse(readFileSync(join(dataDirectory, 'tasks', taskArn.split('/').pop()!, 'main', 'container.json'), 'utf8'));
  pids.push(record.pid);
  return record.pid;
}

async function waitForTask(ecs: ECSClient, taskArn: string, until: (task: Task) => boolean, timeoutMs = 60_000): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = (await ecs.send(new DescribeTasksCommand({ cluster: 'again', tasks: [taskArn] }))).tasks?.[0];
    if (task && until(task)) return task;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${taskArn}: ${task?.lastStatus}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('npm start restarted on the same data directory', () => {
  it('adopts a running task after a crash, and reports tasks it stopped on a clean stop as stopped by the agent', async () => {
    const port = await freePort();
    const ecs = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const first = await startRuntime(port);
    const host = agentArn();
    await ecs.send(new CreateClusterCommand({ clusterName: 'again' }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'long',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sleep', '600'], stopTimeout: 2 }],
      }),
    );
    const run = async () => {
      const { tasks } = await ecs.send(
        new RunTaskCommand({
          cluster: 'again',
          taskDefinition: 'long',
          launchType: 'FARGATE',
          networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
        }),
      );
      const taskArn = tasks![0].taskArn!;
      await waitForTask(ecs, taskArn, (t) => t.lastStatus === 'RUNNING');
      return taskArn;
    };
    const survivor = await run();
    const survivorPid = pidOf(survivor);

    // A crash: nothing stops the task's process, nothing is reported.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(isAlive(survivorPid)).toBe(true);

    const second = await startRuntime(port);
    expect(agentArn()).toBe(host);
    expect(await waitForTask(ecs, survivor, () => true)).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    expect(isAlive(survivorPid)).toBe(true);

    // A clean stop ends the runtime's tasks; the next start shows why they stopped.
    const stoppedAtShutdown = await run();
    const shutdownPid = pidOf(stoppedAtShutdown);
    second.child.kill('SIGTERM');
    await second.exited;
    expect(isAlive(shutdownPid)).toBe(false);
    // Only an agent that adopted it could stop it.
    expect(isAlive(survivorPid)).toBe(false);

    const third = await startRuntime(port);
    expect(agentArn()).toBe(host);
    for (const taskArn of [survivor, stoppedAtShutdown]) {
      const stopped = await waitForTask(ecs, taskArn, (t) => t.lastStatus === 'STOPPED');
      expect(stopped, taskArn).toMatchObject({ stopCode: 'TerminationNotice', stoppedReason: AGENT_SHUT_DOWN });
    }
    third.child.kill('SIGTERM');
    await third.exited;
    ecs.destroy();
  }, 240_000);
});
