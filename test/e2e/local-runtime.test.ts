/**
 * `npm start` as a user runs it: a real process with its own DynamoDB Local. Data survives a restart;
 * SIGTERM stops the server and the JVM; even SIGKILL of the runtime leaves no JVM behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateClusterCommand, DescribeClustersCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/dynamodb-local';
import { isAlive } from '../support/processes';

const dataDirectory = mkdtempSync(join(tmpdir(), 'berth-local-'));
const started: ChildProcess[] = [];
const jvmPids: number[] = [];

afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  for (const pid of jvmPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dataDirectory, { recursive: true, force: true });
});

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}

async function startRuntime(port: number, extra: string[] = []) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/berth-local.ts', '--port', String(port), '--data-dir', dataDirectory, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BERTH_REGION: 'us-west-2', BERTH_ACCOUNT_ID: '111122223333' } },
  );
  started.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  // The last line of the ready message, so the lines before it (the JVM pid) are there too.
  const ready = await until(() => output.includes('  Try: aws ecs'), 120_000);
  if (!ready) throw new Error(`runtime did not start:\n${output}`);
  const jvmPid = Number(/DynamoDB Local: pid (\d+)/.exec(output)![1]);
  jvmPids.push(jvmPid);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, jvmPid, exited, output: () => output };
}

const client = (port: number) =>
  new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-west-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

describe('the local runtime process', () => {
  it('prints a ready line with an example command, keeps data across a restart and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const first = await startRuntime(port);
    expect(first.output()).toContain(`aws ecs create-cluster --cluster-name demo --endpoint-url http://127.0.0.1:${port}`);
    const created = await client(port).send(new CreateClusterCommand({ clusterName: 'durable' }));
    expect(created.cluster?.clusterArn).toBe('arn:aws:ecs:us-west-2:111122223333:cluster/durable');

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await until(() => !isAlive(first.jvmPid), 10_000)).toBe(true);

    const second = await startRuntime(port);
    const described = await client(port).send(new DescribeClustersCommand({ clusters: ['durable'] }));
    expect(described.clusters?.[0]?.status).toBe('ACTIVE');
    second.child.kill('SIGTERM');
    await second.exited;
    expect(await until(() => !isAlive(second.jvmPid), 10_000)).toBe(true);
  }, 240_000);

  it('leaves no DynamoDB Local JVM behind when the runtime is killed with SIGKILL', async () => {
    const runtime = await startRuntime(await freePort(), ['--in-memory']);
    runtime.child.kill('SIGKILL');
    await runtime.exited;
    expect(await until(() => !isAlive(runtime.jvmPid), 15_000)).toBe(true);
  }, 180_000);
});
