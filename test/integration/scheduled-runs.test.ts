/**
 * The scheduled-run use case (src/app/scheduled-runs.ts) on DynamoDB Local: the real Lambda handler
 * (lambdas/scheduled-run.ts, built from its environment as in AWS) given the event Scheduler sends,
 * and the local schedule runner firing a schedule whose target is that function's ARN. A duplicate
 * invocation for the same scheduled time starts nothing new; the two paths agree on the clientToken.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { CreateClusterCommand, DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, SchedulerClient, type EcsParameters as SdkEcsParameters } from '@aws-sdk/client-scheduler';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { LOCAL_CREDENTIALS, LOCAL_DYNAMODB_REGION } from '../../src/adapters/dynamodb/document-client';
import { ScheduleRunner } from '../../src/local/schedule-runner';
import { runScheduledInvocation } from '../../src/app/scheduled-runs';
import { scheduledRunEvent } from '../../src/app/schedule-firing';
import { CONTEXT_ATTRIBUTE, scheduledRunFunctionArn, scheduledRunInput } from '../../src/domain/scheduled-run';
import { scheduleArn } from '../../src/domain/schedule';
import type { EcsParameters } from '../../src/domain/ecs-parameters';

const T0 = Date.parse('2026-07-01T12:00:00Z');
const SCOPE = { account: ACCOUNT, region: REGION };
const CLUSTER = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/cron`;
const SCHEDULE = scheduleArn(SCOPE, 'berth', 'nightly-backup');

let now = T0;
let berth: Harness;
let ecs: ECSClient;
let scheduler: SchedulerClient;
let parameters: EcsParameters;
let handler: (event: unknown, context: unknown) => Promise<{ taskArns: string[] }>;
const lines: string[] = [];
const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
const savedEnv = { ...process.env };

beforeAll(async () => {
  berth = await startHarness({ clock: () => now });
  ecs = berth.ecs();
  scheduler = new SchedulerClient({ endpoint: berth.server.url, region: REGION, credentials: { accessKeyId: 't', secretAccessKey: 't' }, maxAttempts: 1 });
  await ecs.send(new CreateClusterCommand({ clusterName: 'cron' }));
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'backup',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox', command: ['true'] }],
    }),
  );
  parameters = {
    TaskDefinitionArn: registered.taskDefinition!.taskDefinitionArn!,
    LaunchType: 'FARGATE',
    NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-local'] } },
    Group: 'backups',
    Tags: [{ key: 'job', value: 'backup' }],
  };
  // The handler builds its context from the environment its stack gives it, as in AWS; the SDK finds
  // DynamoDB Local through its standard endpoint variable.
  Object.assign(process.env, {
    BERTH_TABLE_NAME: berth.tableName,
    BERTH_ACCOUNT_ID: ACCOUNT,
    BERTH_REGION: REGION,
    AWS_REGION: LOCAL_DYNAMODB_REGION,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  });
  handler = (await import('../../lambdas/scheduled-run')).handler as typeof handler;
});
afterAll(async () => {
  process.env = savedEnv;
  scheduler?.destroy();
  await berth?.close();
});

const event = (scheduledTime: string, overrides: Record<string, unknown> = {}) => ({
  ...scheduledRunInput(CLUSTER, parameters),
  ScheduleArn: SCHEDULE,
  ScheduledTime: scheduledTime,
  ...overrides,
});
const runsOf = async (startedBy: string) =>
  (await ecs.send(new ListTasksCommand({ cluster: 'cron', startedBy, desiredStatus: 'RUNNING' }))).taskArns ?? [];

describe('the scheduled-run Lambda handler', () => {
  it('runs the task with startedBy the schedule name and the schedule\'s group; a duplicate invocation starts nothing new', async () => {
    const first = await handler(event('2026-07-01T03:00:00Z'), {});
    expect(first.taskArns).toHaveLength(1);
    const [task] = (await ecs.send(new DescribeTasksCommand({ cluster: 'cron', tasks: first.taskArns, include: ['TAGS'] }))).tasks!;
    expect(task).toMatchObject({ startedBy: 'nightly-backup', group: 'backups', launchType: 'FARGATE', tags: [{ key: 'job', value: 'backup' }] });

    // Scheduler retried, or delivered twice: the same scheduled time is the same clientToken.
    expect(await handler(event('2026-07-01T03:00:00Z'), {})).toEqual(first);
    expect(await runsOf('nightly-backup')).toEqual(first.taskArns);

    // The next night is another run.
    const second = await handler(event('2026-07-02T03:00:00Z'), {});
    expect(second.taskArns).not.toEqual(first.taskArns);
    expect((await runsOf('nightly-backup')).sort()).toEqual([...first.taskArns, ...second.taskArns].sort());
  });

  it('starts TaskCount tasks in one run', async () => {
    const result = await handler(event('2026-07-01T04:00:00Z', { ScheduleArn: scheduleArn(SCOPE, 'berth', 'fan-out'), EcsParameters: { ...parameters, TaskCount: 3 } }), {});
    expect(result.taskArns).toHaveLength(3);
    expect(await runsOf('fan-out')).toHaveLength(3);
  });

  it.each([
    ['not an object', () => 'run please', 'The scheduled-run input must be a JSON object.'],
    ['no cluster ARN', () => event('2026-07-01T05:00:00Z', { ClusterArn: undefined }), 'Invalid ClusterArn undefined.'],
    ['a service ARN for the cluster', () => event('2026-07-01T05:00:00Z', { ClusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/cron/web` }), /^Invalid ClusterArn/],
    ['no EcsParameters', () => event('2026-07-01T05:00:00Z', { EcsParameters: undefined }), 'EcsParameters is required when the target is an Amazon ECS cluster.'],
    ['TaskCount 11', () => event('2026-07-01T05:00:00Z', { EcsParameters: { ...parameters, TaskCount: 11 } }), 'TaskCount must be between 1 and 10.'],
    ['TaskCount 0', () => event('2026-07-01T05:00:00Z', { EcsParameters: { ...parameters, TaskCount: 0 } }), 'TaskCount must be between 1 and 10.'],
    [
      'LaunchType and CapacityProviderStrategy',
      () => event('2026-07-01T05:00:00Z', { EcsParameters: { ...parameters, CapacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] } }),
      'LaunchType and CapacityProviderStrategy cannot both be set.',
    ],
    [
      'seven capacity providers',
      () =>
        event('2026-07-01T05:00:00Z', {
          EcsParameters: { ...parameters, LaunchType: undefined, CapacityProviderStrategy: Array.from({ length: 7 }, (_, i) => ({ capacityProvider: `cp${i}` })) },
        }),
      'CapacityProviderStrategy can have at most 6 items.',
    ],
    ['the schedule ARN placeholder left in place', () => event('2026-07-01T05:00:00Z', { ScheduleArn: CONTEXT_ATTRIBUTE.scheduleArn }), /^Invalid ScheduleArn/],
    ['the scheduled time placeholder left in place', () => event(CONTEXT_ATTRIBUTE.scheduledTime), /^Invalid ScheduledTime/],
    ['a scheduled time without a zone', () => event('2026-07-01T05:00:00'), /^Invalid ScheduledTime/],
  ])('refuses %s with a ValidationException and starts nothing', async (_name, build, message) => {
    const before = await runsOf('nightly-backup');
    const refusal = handler(build(), {});
    await expect(refusal).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(refusal).rejects.toThrow(message);
    expect(await runsOf('nightly-backup')).toEqual(before);
  });

  it('passes on RunTask\'s refusal (an unknown cluster) as the ECS error', async () => {
    await expect(handler(event('2026-07-01T06:00:00Z', { ClusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/none` }), {})).rejects.toMatchObject({
      name: 'ClusterNotFoundException',
    });
  });
});

describe('a local schedule whose target is the scheduled-run function', () => {
  it('fires through the same use case, with the event Scheduler would send, and agrees with the handler on the clientToken', async () => {
    now = T0;
    const input = JSON.stringify(scheduledRunInput(CLUSTER, parameters));
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'hourly-scan',
        ScheduleExpression: 'rate(1 hour)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: scheduledRunFunctionArn(SCOPE), RoleArn: `arn:aws:iam::${ACCOUNT}:role/berth-scheduler`, Input: input },
      }),
    );
    try {
      expect(await new ScheduleRunner({ context: berth.context, logger }).runOnce()).toBe(1);
      const started = await runsOf('hourly-scan');
      expect(started).toHaveLength(1);

      // What AWS would deliver for that firing, through the handler: the run it already started.
      const arn = scheduleArn(SCOPE, 'default', 'hourly-scan');
      const delivered = { ...JSON.parse(input), ScheduleArn: arn, ScheduledTime: new Date(T0).toISOString().replace('.000Z', 'Z') };
      expect((await handler(delivered, {})).taskArns).toEqual(started);
      const stored = (await berth.context.schedules.getSchedule(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/default`, 'hourly-scan'))!;
      expect(scheduledRunEvent(stored.record, T0, 1)).toEqual(delivered);
      expect((await runScheduledInvocation(berth.context, scheduledRunEvent(stored.record, T0, 2))).taskArns).toEqual(started);
      expect(await runsOf('hourly-scan')).toEqual(started);

      // An hour on, the next run.
      now = T0 + 60 * 60_000;
      expect(await new ScheduleRunner({ context: berth.context, logger }).runOnce()).toBe(1);
      expect(await runsOf('hourly-scan')).toHaveLength(2);
    } finally {
      await scheduler.send(new DeleteScheduleCommand({ Name: 'hourly-scan' }));
    }
  });

  it('logs a refused invocation (an Input that is not JSON) and moves on', async () => {
    now = T0;
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'broken-input',
        ScheduleExpression: 'rate(1 hour)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: scheduledRunFunctionArn(SCOPE), RoleArn: `arn:aws:iam::${ACCOUNT}:role/berth-scheduler`, Input: '{not json' },
      }),
    );
    try {
      expect(await new ScheduleRunner({ context: berth.context, logger }).runOnce()).toBe(0);
      expect(lines.some((line) => line.includes('schedule/default/broken-input: run scheduled at') && line.includes('ValidationException'))).toBe(true);
      expect(await new ScheduleRunner({ context: berth.context, logger }).runOnce()).toBe(0);
    } finally {
      await scheduler.send(new DeleteScheduleCommand({ Name: 'broken-input' }));
    }
  });
});

describe('RetryPolicy and DeadLetterConfig, locally', () => {
  const MINUTE = 60_000;
  const runner = () => new ScheduleRunner({ context: berth.context, logger });
  const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:scheduled-failures`;
  const at = (ms: number) => `at(${new Date(ms).toISOString().slice(0, 19)})`;
  const linesAbout = (name: string) => lines.filter((line) => line.includes(`/${name}:`));

  it('retries a refused RunTask with backoff, across runner restarts and after the one-time schedule deleted itself, until it starts the task (once)', async () => {
    now = T0 + 1000 * MINUTE;
    const when = now;
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'late-cluster',
        ScheduleExpression: at(when),
        ActionAfterCompletion: 'DELETE',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/late`,
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/berth-scheduler`,
          EcsParameters: parameters as SdkEcsParameters,
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: DLQ },
        },
      }),
    );
    expect(await runner().runOnce()).toBe(0); // no cluster 'late' yet
    // Its only run is done (failed): the schedule is gone, its retry is not.
    await expect(scheduler.send(new GetScheduleCommand({ Name: 'late-cluster' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    now = when + 30_000;
    expect(await runner().runOnce()).toBe(0); // the first retry is a minute after the failure
    now = when + MINUTE;
    expect(await runner().runOnce()).toBe(0); // retry 1 fails too; retry 2 two minutes later
    await ecs.send(new CreateClusterCommand({ clusterName: 'late' }));
    now = when + 3 * MINUTE;
    expect(await runner().runOnce()).toBe(1);
    const started = (await ecs.send(new ListTasksCommand({ cluster: 'late', startedBy: 'late-cluster' }))).taskArns ?? [];
    expect(started).toHaveLength(1);
    now = when + 60 * MINUTE;
    expect(await runner().runOnce()).toBe(0); // nothing left to retry
    expect(linesAbout('late-cluster').filter((line) => line.includes('failed: ClusterNotFoundException'))).toHaveLength(2);
    expect(linesAbout('late-cluster').some((line) => line.includes('retry 2 of the run scheduled at') && line.includes(started[0]))).toBe(true);
    expect(linesAbout('late-cluster').some((line) => line.includes('dead-letter'))).toBe(false);
  });

  it('after MaximumRetryAttempts, writes the dead-letter event for the DeadLetterConfig queue', async () => {
    now = T0 + 2000 * MINUTE;
    const when = now;
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'never-cluster',
        ScheduleExpression: at(when),
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/never`,
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/berth-scheduler`,
          EcsParameters: parameters as SdkEcsParameters,
          RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: DLQ },
        },
      }),
    );
    await runner().runOnce();
    now = when + MINUTE;
    await runner().runOnce();
    now = when + 10 * MINUTE;
    await runner().runOnce();
    const deadLetters = linesAbout('never-cluster').filter((line) => line.includes(`dead-letter event for ${DLQ}: `));
    expect(deadLetters).toHaveLength(1);
    expect(JSON.parse(deadLetters[0].slice(deadLetters[0].indexOf('{')))).toEqual({
      scheduleArn: scheduleArn(SCOPE, 'default', 'never-cluster'),
      targetArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/never`,
      scheduledTime: new Date(when).toISOString().replace('.000Z', 'Z'),
      attempts: 2,
      errorCode: 'ClusterNotFoundException',
      errorMessage: expect.any(String),
      exhaustedRetryCondition: 'MaximumRetryAttempts',
    });
  });

  it("the scheduled-run function's target: Lambda's two retries; a bad input is not retried, and without a queue is dropped", async () => {
    now = T0 + 3000 * MINUTE;
    const when = now;
    const role = `arn:aws:iam::${ACCOUNT}:role/berth-scheduler`;
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'fn-no-cluster',
        ScheduleExpression: at(when),
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: scheduledRunFunctionArn(SCOPE),
          RoleArn: role,
          Input: JSON.stringify(scheduledRunInput(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/absent`, parameters)),
          // Lambda's retries apply to a failure inside the function, not the schedule's policy.
          RetryPolicy: { MaximumRetryAttempts: 100 },
          DeadLetterConfig: { Arn: DLQ },
        },
      }),
    );
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'fn-bad-input',
        ScheduleExpression: at(when),
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: scheduledRunFunctionArn(SCOPE), RoleArn: role, Input: JSON.stringify({ ...scheduledRunInput(CLUSTER, parameters), ClusterArn: 'nope' }) },
      }),
    );
    for (const offset of [0, 1, 3, 7, 15]) {
      now = when + offset * MINUTE;
      await runner().runOnce();
    }
    expect(linesAbout('fn-no-cluster').filter((line) => line.includes('failed: ClusterNotFoundException'))).toHaveLength(3);
    const [deadLetter, ...more] = linesAbout('fn-no-cluster').filter((line) => line.includes('dead-letter event'));
    expect(more).toEqual([]);
    expect(JSON.parse(deadLetter.slice(deadLetter.indexOf('{')))).toMatchObject({ attempts: 3, exhaustedRetryCondition: 'MaximumRetryAttempts' });

    expect(linesAbout('fn-bad-input').filter((line) => line.includes('failed: ValidationException'))).toHaveLength(1);
    const dropped = linesAbout('fn-bad-input').filter((line) => line.includes('dropped the run scheduled at'));
    expect(dropped).toHaveLength(1);
    expect(JSON.parse(dropped[0].slice(dropped[0].indexOf('{')))).toMatchObject({ attempts: 1, errorCode: 'ValidationException' });
    expect(JSON.parse(dropped[0].slice(dropped[0].indexOf('{'))).exhaustedRetryCondition).toBeUndefined();
  });
});
