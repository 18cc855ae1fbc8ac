/**
 * An agent that restarts comes back as the same container instance and finds its tasks again: a
 * task whose process still runs is adopted (it stays RUNNING, and StopTask really stops it), one
 * whose process ended while no agent watched is reported STOPPED with what is known, never with an
 * invented exit. An agent that falls silent shows agentConnected false, and true again once it polls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthAgent } from '../../src/agent/agent';
import { ControlPlaneClient } from '../../src/agent/control-plane-client';
import { ProcessRuntime } from '../../src/agent/process-runtime';
import { AGENT_SHUT_DOWN, PROCESSES_LOST } from '../../src/agent/reasons';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';
import { isAlive } from '../support/processes';
import { waitFor } from '../support/wait-for';

/** Small, so the test sees a silent agent marked; agents here poll every second to stay inside it. */
const AGENT_TIMEOUT_MS = 3_000;

let local: LocalBerth;
const scratch = mkdtempSync(join(tmpdir(), 'berth-agent-restart-'));
const agents: BerthAgent[] = [];
const children: ChildProcess[] = [];
const pids: number[] = [];

beforeAll(async () => {
  local = await startLocalBerth({ agent: false, agentTimeoutMs: AGENT_TIMEOUT_MS });
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'long',
      containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 256, memory: 128, command: ['sleep', '600'], stopTimeout: 2 }],
    }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop({ stopContainers: true, timeoutSeconds: 0 }).catch(() => undefined)));
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await local?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Alive and not a zombie (an orphan's zombie may linger when PID 1 does not reap). */

function agentIn(cluster: string, stateDirectory: string): BerthAgent {
  const agent = new BerthAgent({
    client: new ControlPlaneClient({ endpoint: local.berth.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    runtime: new ProcessRuntime({ rootDir: join(stateDirectory, 'tasks') }),
    cluster,
    resources: { cpu: 2048, memory: 2048 },
    availabilityZone: 'us-east-1a',
    stateDirectory,
    pollWaitSeconds: 1,
  });
  agents.push(agent);
  return agent;
}

async function runTasks(cluster: string, count: number): Promise<string[]> {
  const { tasks, failures } = await local.ecs.send(new RunTaskCommand({ cluster, taskDefinition: 'long', launchType: 'EC2', count }));
  expect(failures).toEqual([]);
  const arns = tasks!.map((t) => t.taskArn!);
  for (const arn of arns) await local.waitForTask(cluster, arn, (t) => t.lastStatus === 'RUNNING');
  return arns;
}

/** The pid the process runtime recorded for the task's container. */
function pidOf(stateDirectory: string, taskArn: string): number {
  const record = JSON.parse(readFileSync(join(stateDirectory, 'tasks', taskArn.split('/').pop()!, 'main', 'container.json'), 'utf8'));
  pids.push(record.pid);
  return record.pid;
}

async function instance(cluster: string, arn: string) {
  const { containerInstances } = await local.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] }));
  return containerInstances![0];
}

describe('an agent object stopped and started again on the same state directory', () => {
  it('is the same container instance, silent meanwhile, and adopts the task that still runs', async () => {
    await local.ecs.send(new CreateClusterCommand({ clusterName: 'restart' }));
    const state = join(scratch, 'in-process');
    const first = agentIn('restart', state);
    const arn = await first.start();
    const [kept, killed] = await runTasks('restart', 2);
    const [keptPid, killedPid] = [pidOf(state, kept), pidOf(state, killed)];

    await first.stop(); // the containers keep running
    process.kill(-killedPid, 'SIGKILL');
    await waitFor('the killed process to end', () => !isAlive(killedPid));
    await waitFor('the silent agent to show disconnected', async () => (await instance('restart', arn)).agentConnected === false);

    const second = agentIn('restart', state);
    expect(await second.start()).toBe(arn);
    expect((await local.ecs.send(new ListContainerInstancesCommand({ cluster: 'restart' }))).containerInstanceArns).toEqual([arn]);
    expect(await instance('restart', arn)).toMatchObject({ status: 'ACTIVE', agentConnected: true });

    // Its process ended while no agent watched; the process that started it (still this test's
    // node process) saw the exit and recorded it, so it is reported as the exit it was.
    const stopped = await local.waitForTask('restart', killed, (t) => t.lastStatus === 'STOPPED');
    expect(stopped).toMatchObject({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
    expect(stopped.containers![0]).toMatchObject({ lastStatus: 'STOPPED', exitCode: 137 });

    const adopted = await local.waitForTask('restart', kept, () => true);
    expect(adopted).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING', containerInstanceArn: arn });
    expect(isAlive(keptPid)).toBe(true);

    await local.ecs.send(new StopTaskCommand({ cluster: 'restart', task: kept, reason: 'done' }));
    const done = await local.waitForTask('restart', kept, (t) => t.lastStatus === 'STOPPED');
    expect(done).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'done' });
    expect(isAlive(keptPid)).toBe(false);
  }, 90_000);
});

describe('an agent shut down with its containers', () => {
  it('reports its tasks stopped by the agent, not as if their containers had exited', async () => {
    await local.ecs.send(new CreateClusterCommand({ clusterName: 'shutdown' }));
    const state = join(scratch, 'shutdown');
    const agent = agentIn('shutdown', state);
    await agent.start();
    const [taskArn] = await runTasks('shutdown', 1);
    const pid = pidOf(state, taskArn);
    await agent.stop({ stopContainers: true });
    expect(isAlive(pid)).toBe(false);
    const stopped = await local.waitForTask('shutdown', taskArn, (t) => t.lastStatus === 'STOPPED');
    expect(stopped).toMatchObject({ stopCode: 'TerminationNotice', stoppedReason: AGENT_SHUT_DOWN });
    // `sleep` ends on the SIGTERM: that exit happened, and the task's reason says who sent it.
    expect(stopped.containers![0]).toMatchObject({ lastStatus: 'STOPPED', exitCode: 143 });
  }, 60_000);
});

describe('a berth-agent process killed with SIGKILL and started again', () => {
  const state = join(scratch, 'process');

  async function startAgentProcess(): Promise<{ child: ChildProcess; arn: string }> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bin/berth-agent.ts', '--endpoint', local.berth.url, '--cluster', 'crashing', '--work-dir', state, '--cpu', '2048', '--memory', '2048', '--poll-wait', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_REGION: 'us-east-1' } },
    );
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const arn = await waitFor('the agent to register', () => {
      if (child.exitCode !== null) throw new Error(`berth-agent exited:\n${output}`);
      return /registered as (\S+)/.exec(output)?.[1];
    }, 60_000);
    return { child, arn };
  }

  it('comes back as the same instance; a task whose process died meanwhile stops as lost, with no exit code', async () => {
    await local.ecs.send(new CreateClusterCommand({ clusterName: 'crashing' }));
    const first = await startAgentProcess();
    const [kept, lost] = await runTasks('crashing', 2);
    const [keptPid, lostPid] = [pidOf(state, kept), pidOf(state, lost)];

    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await exited;
    // Nobody is left to see this exit or record its status.
    process.kill(-lostPid, 'SIGKILL');
    await waitFor('the lost process to end', () => !isAlive(lostPid));

    const second = await startAgentProcess();
    expect(second.arn).toBe(first.arn);

    const stopped = await local.waitForTask('crashing', lost, (t) => t.lastStatus === 'STOPPED');
    expect(stopped).toMatchObject({ stopCode: 'InfrastructureHealth', stoppedReason: PROCESSES_LOST });
    expect(stopped.containers![0].lastStatus).toBe('STOPPED');
    expect(stopped.containers![0].exitCode).toBeUndefined();
    expect(stopped.containers![0].reason).toMatch(/ended while the agent was not running; its exit code is unknown/);

    expect(await local.waitForTask('crashing', kept, () => true)).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    await local.ecs.send(new StopTaskCommand({ cluster: 'crashing', task: kept }));
    expect(await local.waitForTask('crashing', kept, (t) => t.lastStatus === 'STOPPED')).toMatchObject({ stopCode: 'UserInitiated' });
    expect(isAlive(keptPid)).toBe(false);

    const ended = new Promise((resolve) => second.child.once('exit', resolve));
    second.child.kill('SIGTERM');
    await ended;
  }, 120_000);
});
