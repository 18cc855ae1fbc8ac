/**
 * Scheduled tasks end to end in local mode, driven by the real AWS CLI: an `at()` schedule a few
 * seconds ahead launches a real task process, found by `aws ecs list-tasks --started-by <schedule>`;
 * a DISABLED schedule for the same time launches nothing; a duplicate invocation of the firing
 * launches nothing new; a schedule whose target is Berth's scheduled-run function (the input
 * BerthScheduledTask gives it in AWS) launches its task the same way.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateClusterCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { startLocalBerth, type LocalBerth } from '../support/local-berth';
import { invokeTarget } from '../../src/app/schedule-firing';
import { scheduleGroupArn } from '../../src/domain/schedule';

const AWS = '/usr/bin/aws';
const hasCli = existsSync(AWS);
if (!hasCli) console.warn(`SKIPPED scheduled-tasks suite: ${AWS} not found (apt-get install -y awscli)`);
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

let local: LocalBerth;
beforeAll(async () => {
  if (!hasCli) return;
  local = await startLocalBerth();
  await local.ecs.send(new CreateClusterCommand({ clusterName: 'cron' }));
  await local.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'nightly',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo scheduled; sleep 60'] }],
    }),
  );
}, 120_000);
afterAll(async () => {
  await local?.close();
});

async function aws(...args: string[]): Promise<any> {
  const { stdout } = await promisify(execFile)(AWS, [...args, '--endpoint-url', local.berth.url, '--region', REGION, '--output', 'json'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true' },
  });
  return stdout.trim() ? JSON.parse(stdout) : {};
}

const startedBy = async (name: string): Promise<string[]> =>
  (await aws('ecs', 'list-tasks', '--cluster', 'cron', '--started-by', name)).taskArns;

describe.skipIf(!hasCli)('scheduled tasks in local mode, through the AWS CLI', { timeout: 240_000 }, () => {
  it('an at() schedule launches a real task on time; a disabled one launches nothing; a duplicate firing launches nothing new; the scheduled-run function target runs too', async () => {
    // Far enough ahead for the three CLI calls below, each a Python start-up: a second on a quiet
    // machine, ten on a loaded one, so the margin is measured from one call rather than guessed.
    // Whole seconds, in UTC (the default ScheduleExpressionTimezone).
    const before = Date.now();
    await aws('scheduler', 'list-schedules');
    const oneCall = Date.now() - before;
    const at = Math.ceil((Date.now() + Math.max(10_000, 3 * oneCall + 5_000)) / 1000) * 1000;
    const expression = `at(${new Date(at).toISOString().slice(0, 19)})`;
    const target = (name: string) =>
      JSON.stringify({
        Arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/cron`,
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/scheduler`,
        EcsParameters: {
          TaskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/nightly:1`,
          LaunchType: 'FARGATE',
          NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-local'] } },
          Group: `scheduled:${name}`,
        },
      });
    const create = (name: string, ...extra: string[]) =>
      aws('scheduler', 'create-schedule', '--name', name, '--schedule-expression', expression, '--flexible-time-window', 'Mode=OFF', '--target', target(name), ...extra);
    // The function target: the same EcsParameters in the Input, with Scheduler's context attributes.
    const functionTarget = JSON.stringify({
      Arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:berth-scheduled-run`,
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/scheduler`,
      Input: JSON.stringify({
        ClusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/cron`,
        EcsParameters: { ...JSON.parse(target('cli-function')).EcsParameters },
        ScheduleArn: '<aws.scheduler.schedule-arn>',
        ScheduledTime: '<aws.scheduler.scheduled-time>',
      }),
    });
    // The three CLI calls at once: each is a Python start-up, seconds on a loaded machine.
    await Promise.all([
      create('cli-once'),
      create('cli-paused', '--state', 'DISABLED'),
      aws('scheduler', 'create-schedule', '--name', 'cli-function', '--schedule-expression', expression, '--flexible-time-window', 'Mode=OFF', '--target', functionTarget),
    ]);
    expect(Date.now()).toBeLessThan(at); // all exist before their time

    let taskArns: string[] = [];
    for (const deadline = Date.now() + 90_000; taskArns.length === 0; ) {
      if (Date.now() > deadline) throw new Error('the at() schedule never launched a task');
      taskArns = await startedBy('cli-once');
    }
    expect(taskArns).toHaveLength(1);
    const task = await local.waitForTask('cron', taskArns[0], (t) => t.lastStatus === 'RUNNING', 60_000);
    expect(task).toMatchObject({ startedBy: 'cli-once', group: 'scheduled:cli-once', launchType: 'FARGATE' });
    expect(task.createdAt!.getTime()).toBeGreaterThanOrEqual(at); // not before its time
    expect(task.containers![0].runtimeId).toBeTruthy(); // a real process runs it

    // Same time as the one that fired: had it been enabled, it would have fired too.
    expect(await startedBy('cli-paused')).toEqual([]);

    // Scheduler may deliver a firing twice; the second delivery launches nothing.
    const record = (await local.berth.context.schedules.getSchedule(scheduleGroupArn({ account: ACCOUNT, region: REGION }, 'default'), 'cli-once'))!.record;
    expect(await invokeTarget(local.berth.context, record, at)).toEqual(taskArns);
    expect(await startedBy('cli-once')).toEqual(taskArns);

    await aws('ecs', 'stop-task', '--cluster', 'cron', '--task', taskArns[0]);

    let viaFunction: string[] = [];
    for (const deadline = Date.now() + 60_000; viaFunction.length === 0; ) {
      if (Date.now() > deadline) throw new Error('the scheduled-run function target never launched a task');
      viaFunction = await startedBy('cli-function');
    }
    expect(viaFunction).toHaveLength(1);
    const fromFunction = await local.waitForTask('cron', viaFunction[0], (t) => t.lastStatus === 'RUNNING', 60_000);
    expect(fromFunction).toMatchObject({ startedBy: 'cli-function', group: 'scheduled:cli-function', launchType: 'FARGATE' });
    expect(fromFunction.createdAt!.getTime()).toBeGreaterThanOrEqual(at);
    expect(fromFunction.containers![0].runtimeId).toBeTruthy();
    await aws('ecs', 'stop-task', '--cluster', 'cron', '--task', viaFunction[0]);
  });
});
