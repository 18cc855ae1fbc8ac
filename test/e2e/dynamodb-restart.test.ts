/**
 * DynamoDB Local killed (SIGKILL of the JVM, by its tracked pid) while clients call the API: every
 * request gets an answer (never a dropped connection), a failure is a typed error (a ServerException
 * or ThrottlingException with its name, never a bare 500), and the runtime recovers by itself: it
 * starts DynamoDB Local again on the same port and data directory, and the API, the stream-driven
 * lifecycle and the embedded agent work on. On a data directory the data is still there; in memory
 * it is gone (said in the log), and the runtime starts over empty.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateClusterCommand, ListClustersCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';
import { isAlive } from '../support/processes';

const scratch = mkdtempSync(join(tmpdir(), 'berth-dynamodb-restart-'));
const runtimes: LocalBerth[] = [];
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.close().catch(() => undefined)));
  rmSync(scratch, { recursive: true, force: true });
});

const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };

async function start(inMemory: boolean): Promise<{ local: LocalBerth; log: string[] }> {
  const log: string[] = [];
  const line = (...args: unknown[]) => log.push(args.map(String).join(' '));
  const local = await startLocalBerth({
    inMemory,
    ...(inMemory ? {} : { dataDirectory: join(scratch, 'data') }),
    logger: { info: line, warn: line, error: line },
  });
  runtimes.push(local);
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'long',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sleep', '600'], stopTimeout: 1 }],
    }),
  );
  return { local, log };
}

async function runningTask(local: LocalBerth, cluster: string): Promise<string> {
  const { tasks } = await local.ecs.send(new RunTaskCommand({ cluster, taskDefinition: 'long', launchType: 'FARGATE', networkConfiguration: NETWORK }));
  const taskArn = tasks![0].taskArn!;
  await local.waitForTask(cluster, taskArn, (t) => t.lastStatus === 'RUNNING', 60_000);
  return taskArn;
}

interface Answer {
  readonly at: number;
  readonly ms: number;
  readonly status?: number;
  readonly type?: string;
  readonly dropped?: string;
}

/**
 * Clients calling the API (raw HTTP, no SDK retries, so every answer is seen) until stopped: reads and
 * writes, each loop one request at a time.
 */
function load(url: string, clients: number) {
  const answers: Answer[] = [];
  let running = true;
  const requests = [
    ['ListClusters', {}],
    ['DescribeClusters', { clusters: ['survivor'] }],
    ['ListTasks', { cluster: 'survivor' }],
    ['TagResource', { resourceArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/survivor', tags: [{ key: 'load', value: 'yes' }] }],
  ] as const;
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let i = client; running; i++) {
      const [operation, body] = requests[i % requests.length];
      const started = Date.now();
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonEC2ContainerServiceV20141113.${operation}` },
          body: JSON.stringify(body),
        });
        const json = (await response.json()) as { __type?: string };
        answers.push({ at: started, ms: Date.now() - started, status: response.status, type: json.__type });
      } catch (error) {
        answers.push({ at: started, ms: Date.now() - started, dropped: (error as Error).message });
      }
    }
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Kills the JVM under load; returns the answers and when it was killed. */
async function killUnderLoad(local: LocalBerth) {
  const traffic = load(local.berth.url, 4);
  await until('some answers before the kill', () => traffic.answers.length >= 20);
  const killedPid = local.berth.dynamoDb.pid;
  const killedAt = Date.now();
  process.kill(killedPid, 'SIGKILL');
  await until('DynamoDB Local started again', () => local.berth.dynamoDb.restarts === 1 && local.berth.dynamoDb.pid !== killedPid);
  await until('the API answering again', () => traffic.answers.some((a) => a.at > killedAt && a.status === 200));
  const recoveredAt = Date.now();
  await until('more answers after recovery', () => traffic.answers.filter((a) => a.at > recoveredAt).length >= 20);
  await traffic.stop();
  expect(isAlive(killedPid)).toBe(false);

  const { answers } = traffic;
  // Every request was answered: none dropped, every failure a typed error.
  expect(answers.filter((a) => a.dropped)).toEqual([]);
  const failures = answers.filter((a) => a.status !== 200);
  for (const failure of failures) {
    // A server fault is ECS's ServerException (SDKs retry it); a 4xx names its ECS error (in memory,
    // the cluster is gone after the restart: ClusterNotFoundException).
    expect(failure.status === 500 ? failure.type === 'ServerException' : failure.status === 400 && typeof failure.type === 'string', JSON.stringify(failure)).toBe(true);
  }
  // The outage was hit: requests made while the JVM was down failed as server faults.
  expect(failures.filter((f) => f.status === 500).length).toBeGreaterThan(0);
  const firstOk = Math.min(...answers.filter((a) => a.at > killedAt && a.status === 200).map((a) => a.at + a.ms));
  const figures = {
    requests: answers.length,
    failed: failures.length,
    failedBy: Object.fromEntries([...new Set(failures.map((f) => f.type))].map((t) => [t, failures.filter((f) => f.type === t).length])),
    outageMs: firstOk - killedAt,
    slowestMs: Math.max(...answers.map((a) => a.ms)),
  };
  console.info(`DynamoDB Local killed under load: ${JSON.stringify(figures)}`);
  return figures;
}

describe('DynamoDB Local killed under load', () => {
  it('on a data directory: the API answers typed errors meanwhile, then works on with its data', async () => {
    const { local, log } = await start(false);
    await local.ecs.send(new CreateClusterCommand({ clusterName: 'survivor' }));
    const before = await runningTask(local, 'survivor');

    await killUnderLoad(local);
    expect(log.some((l) => l.includes('DynamoDB Local') && l.includes('exited'))).toBe(true);

    // The data is still there, the lifecycle (stream poller, engine, agent) works on.
    expect((await local.ecs.send(new ListClustersCommand({}))).clusterArns).toContain('arn:aws:ecs:us-east-1:000000000000:cluster/survivor');
    const after = await runningTask(local, 'survivor');
    for (const taskArn of [before, after]) {
      await local.ecs.send(new StopTaskCommand({ cluster: 'survivor', task: taskArn, reason: 'done' }));
      await local.waitForTask('survivor', taskArn, (t) => t.lastStatus === 'STOPPED', 60_000);
    }
  }, 240_000);

  it('in memory: the same answers; the data is lost (and the log says so), and the runtime starts over', async () => {
    const { local, log } = await start(true);
    await local.ecs.send(new CreateClusterCommand({ clusterName: 'survivor' }));
    await runningTask(local, 'survivor');

    await killUnderLoad(local);
    await until('the runtime to start over', () => log.some((l) => l.includes('its data is lost')));

    expect((await local.ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
    // Empty but whole: a new cluster's task runs (the poller reads the new table's stream, the
    // embedded agent joined again).
    await local.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'long',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sleep', '600'], stopTimeout: 1 }],
      }),
    );
    await local.ecs.send(new CreateClusterCommand({ clusterName: 'again' }));
    const taskArn = await runningTask(local, 'again');
    await local.ecs.send(new StopTaskCommand({ cluster: 'again', task: taskArn }));
    await local.waitForTask('again', taskArn, (t) => t.lastStatus === 'STOPPED', 60_000);
  }, 240_000);
});
