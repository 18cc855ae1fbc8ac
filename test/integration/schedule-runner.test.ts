/**
 * The schedule runner (src/local/schedule-runner.ts, src/app/schedule-firing.ts) on DynamoDB Local
 * with a clock the test moves: rate schedules fire once per period, a restart or a replayed firing
 * starts nothing new, runs missed while Berth was down fire once if their window is open and are
 * skipped (with a log line) otherwise, DISABLED fires nothing, one-time schedules with
 * ActionAfterCompletion DELETE are gone after their run.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CreateClusterCommand, ListTasksCommand, RegisterTaskDefinitionCommand, type ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { ScheduleRunner } from '../../src/local/schedule-runner';
import { invokeTarget } from '../../src/app/schedule-firing';
import { scheduleGroupArn } from '../../src/domain/schedule';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const MINUTE = 60_000;
const CLUSTER = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/timed`;

let now = T0;
/** When set, every reading of the clock moves it on by a millisecond, as a real clock moves during a request. */
let ticking = false;
let berth: Harness;
let ecs: ECSClient;
let scheduler: SchedulerClient;
let taskDefinitionArn: string;
const lines: string[] = [];
const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };

beforeAll(async () => {
  berth = await startHarness({ clock: () => (ticking ? now++ : now) });
  ecs = berth.ecs();
  scheduler = new SchedulerClient({ endpoint: berth.server.url, region: REGION, credentials: { accessKeyId: 't', secretAccessKey: 't' }, maxAttempts: 1 });
  await ecs.send(new CreateClusterCommand({ clusterName: 'timed' }));
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'job',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox', command: ['true'] }],
    }),
  );
  taskDefinitionArn = registered.taskDefinition!.taskDefinitionArn!;
});
// Each test's schedules go with it, so one test's firings never count in another's.
afterEach(async () => {
  for (const { Name } of (await scheduler.send(new ListSchedulesCommand({}))).Schedules ?? []) {
    await scheduler.send(new DeleteScheduleCommand({ Name }));
  }
});
afterAll(async () => {
  scheduler?.destroy();
  await berth?.close();
});

const runner = () => new ScheduleRunner({ context: berth.context, logger });
const schedule = (name: string, overrides: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
  Name: name,
  ScheduleExpression: 'rate(1 minute)',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: {
    Arn: CLUSTER,
    RoleArn: `arn:aws:iam::${ACCOUNT}:role/scheduler`,
    EcsParameters: {
      TaskDefinitionArn: taskDefinitionArn,
      LaunchType: 'FARGATE',
      NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-local'] } },
      Group: 'scheduled',
    },
  },
  ...overrides,
});
const runsOf = async (name: string) =>
  (await ecs.send(new ListTasksCommand({ cluster: 'timed', startedBy: name, desiredStatus: 'RUNNING' }))).taskArns ?? [];

describe('rate(1 minute), time-scaled', () => {
  it('fires at creation and then once per minute; a restart or a replayed firing starts nothing new; runs missed while down are skipped with a log line', async () => {
    now = T0;
    await scheduler.send(new CreateScheduleCommand(schedule('every-minute')));
    const first = runner();
    expect(await first.runOnce()).toBe(1);
    expect(await first.runOnce()).toBe(0);
    now = T0 + 30_000;
    expect(await first.runOnce()).toBe(0);
    now = T0 + MINUTE;
    expect(await first.runOnce()).toBe(1);
    now = T0 + 2 * MINUTE;
    expect(await first.runOnce()).toBe(1);
    expect(await runsOf('every-minute')).toHaveLength(3);

    // A restart: a new runner has only the table's checkpoints.
    expect(await runner().runOnce()).toBe(0);
    expect(await runsOf('every-minute')).toHaveLength(3);

    // A crash after RunTask and before the checkpoint: the run already happened once.
    now = T0 + 3 * MINUTE;
    const record = (await berth.context.schedules.getSchedule(scheduleGroupArn({ account: ACCOUNT, region: REGION }, 'default'), 'every-minute'))!.record;
    const started = await invokeTarget(berth.context, record, T0 + 3 * MINUTE);
    expect(started).toHaveLength(1);
    expect(await runner().runOnce()).toBe(1); // the firing is repeated ...
    expect(await runsOf('every-minute')).toHaveLength(4); // ... and RunTask's clientToken starts nothing new
    expect(await invokeTarget(berth.context, record, T0 + 3 * MINUTE)).toEqual(started);

    // Down from T0 + 3m on: when it is back, the T0 + 4m run's window closed long ago.
    now = T0 + 10 * MINUTE + 5_000;
    const restarted = runner();
    expect(await restarted.runOnce()).toBe(0);
    expect(lines).toContain(
      `schedule arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/every-minute: skipped the run scheduled at 2026-06-01T00:04:00.000Z: its window closed at 2026-06-01T00:05:00.000Z while Berth was not running`,
    );
    expect(await restarted.runOnce()).toBe(1); // the T0 + 10m run, still inside its minute
    expect(await runsOf('every-minute')).toHaveLength(5);
  });
});

describe('a rate without StartDate', () => {
  it('runs at once, even though the clock moves while the schedule is created', async () => {
    now = T0 + 1_000 * MINUTE;
    ticking = true;
    try {
      await scheduler.send(new CreateScheduleCommand(schedule('at-once', { ScheduleExpression: 'rate(1 hour)' })));
      expect(await runner().runOnce()).toBe(1);
    } finally {
      ticking = false;
    }
    expect(await runsOf('at-once')).toHaveLength(1);
  });
});

describe('flexible windows after an outage', () => {
  it('fires a missed run once while its window is open, skips it once the window has passed', async () => {
    now = T0 + 20 * MINUTE;
    await scheduler.send(
      new CreateScheduleCommand(
        schedule('hourly-flex', { ScheduleExpression: 'cron(0 * * * ? *)', FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 } }),
      ),
    );
    // Down from before 01:00 until just before 01:15: the 01:00 run is still in its window.
    now = T0 + 75 * MINUTE - 1;
    expect(await runner().runOnce()).toBe(1);
    expect(await runner().runOnce()).toBe(0);
    // Down from before 02:00 until after 02:15: that run is skipped.
    now = T0 + 135 * MINUTE + 1_000;
    expect(await runner().runOnce()).toBe(0);
    expect(lines.some((line) => line.includes('hourly-flex: skipped the run scheduled at 2026-06-01T02:00:00.000Z'))).toBe(true);
    expect(await runsOf('hourly-flex')).toHaveLength(1);
  });
});

describe('state and completion', () => {
  it('a DISABLED schedule fires nothing until it is enabled', async () => {
    now = T0 + 200 * MINUTE;
    await scheduler.send(new CreateScheduleCommand(schedule('paused', { State: 'DISABLED' })));
    for (let minute = 0; minute < 3; minute++) {
      now = T0 + (200 + minute) * MINUTE;
      await runner().runOnce();
    }
    expect(await runsOf('paused')).toEqual([]);
    await scheduler.send(new UpdateScheduleCommand(schedule('paused', { State: 'ENABLED' })));
    await runner().runOnce();
    expect(await runsOf('paused')).toHaveLength(1);
  });

  it('a one-time schedule runs once; with ActionAfterCompletion DELETE it is then gone', async () => {
    now = T0 + 300 * MINUTE;
    const at = 'at(2026-06-01T05:05:00)';
    await scheduler.send(new CreateScheduleCommand(schedule('once-keep', { ScheduleExpression: at })));
    await scheduler.send(new CreateScheduleCommand(schedule('once-delete', { ScheduleExpression: at, ActionAfterCompletion: 'DELETE' })));
    expect(await runner().runOnce()).toBe(0);
    now = T0 + 305 * MINUTE + 10_000;
    expect(await runner().runOnce()).toBe(2);
    now = T0 + 400 * MINUTE;
    await runner().runOnce();
    expect(await runsOf('once-keep')).toHaveLength(1);
    expect(await runsOf('once-delete')).toHaveLength(1);
    expect((await scheduler.send(new GetScheduleCommand({ Name: 'once-keep' }))).State).toBe('ENABLED');
    await expect(scheduler.send(new GetScheduleCommand({ Name: 'once-delete' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('a firing whose RunTask is refused is logged and does not block the schedule', async () => {
    now = T0 + 500 * MINUTE;
    await scheduler.send(
      new CreateScheduleCommand(
        schedule('no-cluster', {
          Target: { Arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/missing`, RoleArn: `arn:aws:iam::${ACCOUNT}:role/s`, EcsParameters: { TaskDefinitionArn: taskDefinitionArn } },
        }),
      ),
    );
    expect(await runner().runOnce()).toBe(0);
    expect(lines.some((line) => line.includes('no-cluster: run scheduled at') && line.includes('ClusterNotFoundException'))).toBe(true);
    now = T0 + 501 * MINUTE;
    await runner().runOnce();
    expect(lines.filter((line) => line.includes('no-cluster: run scheduled at'))).toHaveLength(2);
  });
});
