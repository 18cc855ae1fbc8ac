/**
 * The real AWS CLI v2 against Berth. Needs /usr/bin/aws (Debian's awscli; .ci/run installs it). Where
 * it cannot be installed the suite is skipped and says so: the SDK suites cover the same operations.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, startHarness, type Harness } from '../support/berth-harness';

const AWS = '/usr/bin/aws';
const hasCli = existsSync(AWS);
if (!hasCli) console.warn(`SKIPPED aws-cli suite: ${AWS} not found (apt-get install -y awscli)`);

let berth: Harness;
beforeAll(async () => {
  if (hasCli) berth = await startHarness();
});
afterAll(async () => {
  await berth?.close();
});

async function aws(...args: string[]): Promise<any> {
  const { stdout } = await promisify(execFile)(
    AWS,
    ['ecs', ...args, '--endpoint-url', berth.server.url, '--region', 'eu-west-3', '--output', 'json'],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_PAGER: '',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    },
  );
  return stdout.trim() ? JSON.parse(stdout) : {};
}

describe.skipIf(!hasCli)('the AWS CLI against Berth', { timeout: 180_000 }, () => {
  it('creates a cluster, registers a task definition, runs, lists, describes and stops a task', async () => {
    const cluster = await aws('create-cluster', '--cluster-name', 'cli');
    expect(cluster.cluster.clusterArn).toBe(`arn:aws:ecs:eu-west-3:${ACCOUNT}:cluster/cli`);
    await aws(
      'register-task-definition',
      '--family',
      'cli-job',
      '--container-definitions',
      JSON.stringify([{ name: 'main', image: 'busybox', memory: 64, command: ['true'] }]),
    );
    // EC2 tasks are placed at RunTask: a host first (no agent behind it; the tasks stay PENDING).
    await expect(aws('run-task', '--cluster', 'cli', '--task-definition', 'cli-job', '--launch-type', 'EC2')).rejects.toThrow(
      /InvalidParameterException.*No Container Instances were found in your cluster/,
    );
    const host = await aws(
      'register-container-instance',
      '--cluster',
      'cli',
      '--total-resources',
      'name=CPU,type=INTEGER,integerValue=1024',
      'name=MEMORY,type=INTEGER,integerValue=1024',
    );
    const refused = await aws('run-task', '--cluster', 'cli', '--task-definition', 'cli-job', '--launch-type', 'EC2', '--overrides', '{"memory":"4096"}');
    expect(refused.tasks).toEqual([]);
    expect(refused.failures).toEqual([
      { arn: host.containerInstance.containerInstanceArn, reason: 'RESOURCE:MEMORY', detail: expect.stringContaining('4096 MiB') },
    ]);
    const run = await aws('run-task', '--cluster', 'cli', '--task-definition', 'cli-job', '--count', '2', '--launch-type', 'EC2');
    expect(run.tasks).toHaveLength(2);
    expect(run.tasks[0].lastStatus).toBe('PROVISIONING');
    expect(typeof run.tasks[0].createdAt).toBe('string'); // the CLI parsed the epoch-seconds timestamp

    const listed = await aws('list-tasks', '--cluster', 'cli');
    expect(listed.taskArns.sort()).toEqual(run.tasks.map((t: { taskArn: string }) => t.taskArn).sort());
    const stopped = await aws('stop-task', '--cluster', 'cli', '--task', run.tasks[0].taskArn, '--reason', 'cli says stop');
    expect(stopped.task).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'cli says stop' });
    const described = await aws('describe-tasks', '--cluster', 'cli', '--tasks', run.tasks[0].taskArn, 'nope');
    expect(described.tasks[0].desiredStatus).toBe('STOPPED');
    expect(described.failures[0].reason).toBe('MISSING');
  });

  it('reports ECS errors the way the CLI prints them', async () => {
    const failure = aws('describe-task-definition', '--task-definition', 'does-not-exist:3');
    await expect(failure).rejects.toMatchObject({
      stderr: expect.stringContaining(
        'An error occurred (ClientException) when calling the DescribeTaskDefinition operation: Unable to describe task definition.',
      ),
    });
  });
});
