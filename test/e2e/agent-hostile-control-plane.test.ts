/**
 * An agent never runs a task that is not its host's, whatever the control plane answers. The control
 * plane here is hostile (a real HTTP server speaking the agent protocol, not Berth): its poll answer
 * hands the agent, beside one task that is its own, tasks held by another host, of another cluster,
 * of another account, of a capacity kind the host does not offer. The agent runs (real processes,
 * the process runtime) and reports on its own task only. And a task of its own whose ACTIVATING
 * report is refused (Berth refuses it when the task was stopped between the poll answer and the
 * report) gets no process either.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthAgent } from '../../src/agent/agent';
import { ControlPlaneClient } from '../../src/agent/control-plane-client';
import { ProcessRuntime } from '../../src/agent/process-runtime';

const PREFIX = 'arn:aws:ecs:us-east-1:123456789012';
const SELF = `${PREFIX}:container-instance/web/${'a'.repeat(32)}`;
const OTHER_HOST = `${PREFIX}:container-instance/web/${'b'.repeat(32)}`;
const id = (digit: string) => digit.repeat(32);

function task(taskId: string, options: { cluster?: string; holder?: string; prefix?: string; launchType?: string } = {}) {
  const { cluster = 'web', holder = SELF, prefix = PREFIX, launchType = 'EC2' } = options;
  return {
    task: {
      taskArn: `${prefix}:task/${cluster}/${taskId}`,
      clusterArn: `${prefix}:cluster/${cluster}`,
      taskDefinitionArn: `${prefix}:task-definition/sleepy:1`,
      lastStatus: 'PENDING',
      desiredStatus: 'RUNNING',
      launchType,
      containers: [{ name: 'main', lastStatus: 'PENDING' }],
      overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [] },
      version: 3,
      reservation: { containerInstanceArn: holder, cpu: 256, memory: 128 },
    },
    containers: [{ name: 'main', image: 'busybox', command: ['sleep', '30'], essential: true, stopTimeout: 1 }],
  };
}

const own = task(id('1'));
/** Its ACTIVATING report is refused, as Berth refuses one for a task stopped since the poll answer. */
const stoppedMeanwhile = task(id('6'));
const hostile = {
  'held by another host': task(id('2'), { holder: OTHER_HOST }),
  'of another cluster': task(id('3'), { cluster: 'api' }),
  'of another account': task(id('4'), { prefix: 'arn:aws:ecs:us-east-1:999999999999' }),
  'of Fargate capacity': task(id('5'), { launchType: 'FARGATE' }),
};

const scratch = mkdtempSync(join(tmpdir(), 'berth-hostile-cp-'));
const reports: { target: string; body: Record<string, unknown> }[] = [];
let server: Server;
let agent: BerthAgent;
let runtime: ProcessRuntime;

function respond(res: ServerResponse, body: unknown) {
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  const target = String(req.headers['x-amz-target'] ?? '');
  const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  if (target.endsWith('.RegisterContainerInstance')) return respond(res, { containerInstance: { containerInstanceArn: SELF } });
  if (target === 'BerthAgentV1.PollAssignments') {
    // Answers at once the first time, then as a long poll would (briefly, to keep the test short).
    if (Object.keys(body.known as object).length > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    return respond(res, { containerInstanceStatus: 'ACTIVE', assignments: [own, stoppedMeanwhile, ...Object.values(hostile)] });
  }
  reports.push({ target, body });
  if (body.task === stoppedMeanwhile.task.taskArn) {
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
    return res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'The container instance does not hold the task.' }));
  }
  return respond(res, { acknowledgment: 'ACK' });
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  runtime = new ProcessRuntime({ rootDir: join(scratch, 'tasks') });
  agent = new BerthAgent({
    client: new ControlPlaneClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    runtime,
    cluster: 'web',
    resources: { cpu: 1024, memory: 1024 },
    availabilityZone: 'us-east-1a',
    pollWaitSeconds: 1,
  });
});

afterAll(async () => {
  await agent?.stop({ stopContainers: true, timeoutSeconds: 0 }).catch(() => undefined);
  await new Promise((resolve) => server?.close(resolve));
  rmSync(scratch, { recursive: true, force: true });
});

async function waitFor(what: string, probe: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('an agent handed tasks that are not its host’s', () => {
  it('runs its own task and starts, and reports on, none of the others', async () => {
    expect(await agent.start()).toBe(SELF);
    const ownArn = own.task.taskArn;
    await waitFor('the own task reported RUNNING', () => reports.some((r) => r.body.task === ownArn && r.body.status === 'RUNNING'));
    // Several more poll answers with the same assignments: a refusal is not a one-off.
    const polled = reports.length;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await agent.stop({ stopContainers: true, timeoutSeconds: 0 });

    // Every tracked start has settled now: a refused task has no container directory at all.
    expect(existsSync(runtime.scratchDir(id('1'), 'main'))).toBe(true);
    for (const [name, assignment] of Object.entries(hostile)) {
      const taskId = assignment.task.taskArn.split('/').pop()!;
      expect([name, existsSync(join(scratch, 'tasks', taskId))]).toEqual([name, false]);
    }
    // Every report is about a task of its own and names this host as the reporter.
    expect(reports.length).toBeGreaterThanOrEqual(polled);
    expect(new Set(reports.map((r) => r.body.task))).toEqual(new Set([ownArn, stoppedMeanwhile.task.taskArn]));
    expect(new Set(reports.map((r) => r.body.containerInstance))).toEqual(new Set([SELF]));
    expect(reports.filter((r) => r.body.task === ownArn).map((r) => r.body.status)).toEqual(['ACTIVATING', 'RUNNING', 'STOPPED']);
    // The refused one: never started, and tried again on later answers that still assign it PENDING
    // (an ACTIVATING report lost on the way must not leave a task PENDING for good).
    const refused = reports.filter((r) => r.body.task === stoppedMeanwhile.task.taskArn).map((r) => r.body.status);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(new Set(refused)).toEqual(new Set(['ACTIVATING']));
    expect(existsSync(join(scratch, 'tasks', id('6')))).toBe(false);
  }, 40_000);
});
