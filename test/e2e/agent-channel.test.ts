/**
 * The agent channel end to end (docs/agent-channel.md): a real berth-agent process holds a WebSocket
 * to the local runtime, with the safety nets turned away (resync every 10 minutes, no long poll while
 * the channel is down), so a task that starts within the test's bound started because the channel
 * said so: a notification (which carries the task: no fetch), or the fetch after a reconnect. A
 * connection cut server-side, with a task placed while the agent could not reconnect, loses nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';

const CLUSTER = 'channel';
let local: LocalBerth;
let agent: ChildProcess;
let agentArn: string;
let output = '';
/** The answers to the agent's fetches (PollAssignments), as sent. */
const fetchAnswers: string[] = [];
const fetchedWith = (taskArn: string) => fetchAnswers.filter((answer) => answer.includes(taskArn)).length;
/** The agent logs each fetch with why it fetched. */
const fetchLines = () => output.split('\n').filter((line) => line.includes('fetching assignments ('));
const STARTING = /\(((the agent started|the agent channel connected)(; )?)+\)$/;
const scratch = mkdtempSync(join(tmpdir(), 'berth-agent-channel-'));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nagent output:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const connections = () => output.match(/agent channel connected \(/g)?.length ?? 0;
const connected = () => local.berth.agentChannel.connectedInstances().includes(agentArn);

async function runTask(): Promise<string> {
  const { tasks, failures } = await local.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'sleeper', launchType: 'EC2' }));
  expect(failures).toEqual([]);
  return tasks![0].taskArn!;
}

async function stopTask(taskArn: string) {
  await local.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
  return local.waitForTask(CLUSTER, taskArn, (t) => t.lastStatus === 'STOPPED');
}

beforeAll(async () => {
  local = await startLocalBerth({
    agent: false,
    instrument: {
      apiServer: (server) =>
        server.on('request', (request, response) => {
          if (!String(request.headers['x-amz-target']).endsWith('.PollAssignments')) return;
          const end = response.end.bind(response) as (...args: unknown[]) => typeof response;
          response.end = ((...args: unknown[]) => {
            fetchAnswers.push(String(args[0] ?? ''));
            return end(...args);
          }) as typeof response.end;
        }),
    },
  });
  await local.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'sleeper',
      containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 128, memory: 64, command: ['sleep', '600'], stopTimeout: 2 }],
    }),
  );
  agent = spawn(
    process.execPath,
    [
      '--import', 'tsx', 'bin/berth-agent.ts', '--endpoint', local.berth.url, '--cluster', CLUSTER, '--work-dir', scratch,
      '--cpu', '1024', '--memory', '1024',
      // Only the channel can bring work promptly: no long poll while it is down, a resync every 10 minutes.
      '--poll-wait', '0', '--resync-seconds', '600',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_REGION: 'us-east-1' } },
  );
  agent.stdout!.on('data', (chunk) => (output += chunk));
  agent.stderr!.on('data', (chunk) => (output += chunk));
  agentArn = await waitFor('the agent to register', () => {
    if (agent.exitCode !== null) throw new Error(`berth-agent exited:\n${output}`);
    return /registered as (\S+)/.exec(output)?.[1];
  }, 60_000);
  await waitFor('the agent channel to connect', connected);
}, 90_000);

afterAll(async () => {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((resolve) => agent.once('exit', resolve));
    agent.kill('SIGTERM');
    await exited;
  }
  // The agent leaves its containers running when it stops: stop what the tests left.
  await local?.close();
  rmSync(scratch, { recursive: true, force: true });
}, 60_000);

describe('an agent behind the push channel', () => {
  it('starts a new task on a notification and stops it on the next, with no fetch, no poll and no reconnect', async () => {
    const sent = local.berth.agentChannel.sent;
    const fetchedBefore = fetchLines().length;
    const taskArn = await runTask();
    await local.waitForTask(CLUSTER, taskArn, (t) => t.lastStatus === 'RUNNING');
    expect(local.berth.agentChannel.sent).toBeGreaterThan(sent);
    const stopped = await stopTask(taskArn);
    expect(stopped).toMatchObject({ stopCode: 'UserInitiated', containers: [expect.objectContaining({ exitCode: 143 })] });
    expect(local.berth.agentChannel.sent).toBeGreaterThanOrEqual(sent + 2);
    // Both notifications carried their task: the agent acted on them as they were, with no fetch.
    // (Under load, a fetch of the agent's own start may still land here; nothing else may.)
    expect(fetchLines().slice(fetchedBefore).filter((line) => !STARTING.test(line))).toEqual([]);
    expect(connections()).toBe(1);
  }, 60_000);

  it('loses nothing when its connection is cut: a task placed while it could not reconnect starts after it does', async () => {
    const before = connections();
    local.berth.agentChannel.setAccepting(false);
    expect(local.berth.agentChannel.drop(agentArn)).toBe(1);
    await waitFor('the server to see the socket gone', () => !connected());

    const taskArn = await runTask();
    // Placed, and its notification went nowhere: no socket of the agent's was open.
    await local.waitForTask(CLUSTER, taskArn, (t) => t.lastStatus === 'PENDING');
    expect(connected()).toBe(false);

    local.berth.agentChannel.setAccepting(true);
    await local.waitForTask(CLUSTER, taskArn, (t) => t.lastStatus === 'RUNNING');
    // Learned from the fetch every reconnect starts.
    expect(fetchedWith(taskArn)).toBeGreaterThan(0);
    expect(connections()).toBe(before + 1);
    await stopTask(taskArn);
  }, 60_000);
});
