/**
 * The EventBridge Scheduler API served on Berth's port, through the real @aws-sdk/client-scheduler and
 * the real AWS CLI: schedules and groups, listing with filters and pages, tags, and the errors the
 * model defines (ValidationException 400, ResourceNotFoundException 404, ConflictException 409).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  ListTagsForResourceCommand,
  SchedulerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { MAX_BODY_BYTES } from '../../src/local/http-server';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const AWS = '/usr/bin/aws';
const CLUSTER = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/jobs`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/scheduler`;
const TD = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/backup:1`;

let berth: Harness;
let scheduler: SchedulerClient;
beforeAll(async () => {
  berth = await startHarness();
  scheduler = new SchedulerClient({
    endpoint: berth.server.url,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  scheduler?.destroy();
  await berth?.close();
});

const schedule = (name: string, overrides: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
  Name: name,
  ScheduleExpression: 'rate(5 minutes)',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: TD, LaunchType: 'FARGATE' } },
  ...overrides,
});

async function failure(send: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await send;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

describe('schedules through the Scheduler SDK', () => {
  it('creates, reads, updates and deletes a schedule in the default group', async () => {
    const created = await scheduler.send(
      new CreateScheduleCommand(
        schedule('nightly', {
          ScheduleExpression: 'cron(0 3 * * ? *)',
          ScheduleExpressionTimezone: 'Europe/Berlin',
          StartDate: new Date('2030-01-01T00:00:00Z'),
          Description: 'backs up',
          Target: {
            Arn: CLUSTER,
            RoleArn: ROLE,
            EcsParameters: { TaskDefinitionArn: TD, TaskCount: 2, Group: 'backups', Tags: [{ key: 'team', value: 'ops' }] },
          },
        }),
      ),
    );
    expect(created.ScheduleArn).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/nightly`);

    const got = await scheduler.send(new GetScheduleCommand({ Name: 'nightly' }));
    expect(got).toMatchObject({
      Arn: created.ScheduleArn,
      Name: 'nightly',
      GroupName: 'default',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      Description: 'backs up',
      ActionAfterCompletion: 'NONE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: TD, TaskCount: 2, Group: 'backups' } },
    });
    expect(got.StartDate).toEqual(new Date('2030-01-01T00:00:00Z'));
    expect(got.CreationDate).toBeInstanceOf(Date);
    expect((got as unknown as Record<string, unknown>).expressionSetAt).toBeUndefined();

    await scheduler.send(
      new UpdateScheduleCommand(schedule('nightly', { State: 'DISABLED', FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 } })),
    );
    const updated = await scheduler.send(new GetScheduleCommand({ Name: 'nightly', GroupName: 'default' }));
    expect(updated).toMatchObject({ State: 'DISABLED', ScheduleExpression: 'rate(5 minutes)', FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 } });
    expect(updated.CreationDate).toEqual(got.CreationDate);
    expect(updated.StartDate).toBeUndefined();

    await scheduler.send(new DeleteScheduleCommand({ Name: 'nightly' }));
    expect(await failure(scheduler.send(new GetScheduleCommand({ Name: 'nightly' })))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
      message: 'Schedule nightly does not exist.',
    });
  });

  it('answers the model\'s errors with its status codes, writing nothing', async () => {
    await scheduler.send(new CreateScheduleCommand(schedule('taken')));
    expect(await failure(scheduler.send(new CreateScheduleCommand(schedule('taken'))))).toMatchObject({
      name: 'ConflictException',
      status: 409,
      message: 'Schedule taken already exists.',
    });
    expect(await failure(scheduler.send(new CreateScheduleCommand(schedule('bad-expr', { ScheduleExpression: 'cron(0 12 * * * *)' }))))).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: 'Invalid Schedule Expression cron(0 12 * * * *).',
    });
    expect(await failure(scheduler.send(new CreateScheduleCommand(schedule('bad name!'))))).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(await failure(scheduler.send(new CreateScheduleCommand(schedule('bad-zone', { ScheduleExpressionTimezone: 'Mars/Base' }))))).toMatchObject({
      name: 'ValidationException',
    });
    expect(
      await failure(
        scheduler.send(
          new CreateScheduleCommand(
            schedule('too-many', { Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: TD, TaskCount: 11 } } }),
          ),
        ),
      ),
    ).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(
      await failure(
        scheduler.send(
          new CreateScheduleCommand(
            schedule('both', {
              Target: {
                Arn: CLUSTER,
                RoleArn: ROLE,
                EcsParameters: { TaskDefinitionArn: TD, LaunchType: 'FARGATE', CapacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] },
              },
            }),
          ),
        ),
      ),
    ).toMatchObject({ name: 'ValidationException', message: 'LaunchType and CapacityProviderStrategy cannot both be set.' });
    expect(await failure(scheduler.send(new CreateScheduleCommand(schedule('flex', { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }))))).toMatchObject({
      name: 'ValidationException',
    });
    expect(await failure(scheduler.send(new CreateScheduleCommand(schedule('nogroup', { GroupName: 'missing' }))))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    expect(await failure(scheduler.send(new UpdateScheduleCommand(schedule('never-created'))))).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await failure(scheduler.send(new DeleteScheduleCommand({ Name: 'never-created' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    const names = (await scheduler.send(new ListSchedulesCommand({}))).Schedules!.map((s) => s.Name);
    expect(names).toContain('taken');
    expect(names.filter((name) => name !== 'taken' && !name!.startsWith('list-'))).toEqual([]);
  });
});

describe('hostile input on the Scheduler API', () => {
  const post = (name: string, body: string) =>
    fetch(`${berth.server.url}/schedules/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const valid = (name: string) => JSON.stringify({ ...schedule(name), Name: undefined });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])(
    'a member named %s, at the top or nested in the target, is ignored like any unknown member (never a 500)',
    async (member) => {
      const name = `proto-${member.replace(/_/g, '')}`;
      const body = valid(name).replace('{', `{"${member}": 1, `).replace('"RoleArn"', `"${member}": {"${member}": []}, "RoleArn"`);
      const response = await post(name, body);
      expect([response.status, await response.text()]).toEqual([200, expect.stringContaining('ScheduleArn')]);
      const stored = await scheduler.send(new GetScheduleCommand({ Name: name }));
      expect(Object.keys(stored.Target!).sort()).toEqual(['Arn', 'EcsParameters', 'RoleArn']);
    },
  );

  it.each(['/schedules/%E0%A4%A', '/tags/%ZZ', '/schedule-groups/%C0'])('answers broken percent-encoding in %s with ValidationException', async (path) => {
    const response = await fetch(`${berth.server.url}${path}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { Message?: string }).Message).toMatch(/invalid percent-encoding/);
  });

  it('refuses a body nested deeper than the bound with ValidationException, creating nothing', async () => {
    const deep = valid('too-deep').replace('"RoleArn"', `"unknown": ${'['.repeat(5000)}${']'.repeat(5000)}, "RoleArn"`);
    const response = await post('too-deep', deep);
    expect(response.status).toBe(400);
    const errorType = response.headers.get('x-amzn-errortype') ?? ((await response.json()) as { __type?: string }).__type;
    expect(errorType).toMatch(/^ValidationException/);
    expect(await failure(scheduler.send(new GetScheduleCommand({ Name: 'too-deep' })))).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('answers a body over 4 MiB in Scheduler’s error form (the SDK names it ValidationException), creating nothing', async () => {
    // Found by the fuzz suite: the 413 went out in the ECS form (`__type`), which the Scheduler SDK cannot name.
    const huge = valid('too-big').replace('"RoleArn"', `"padding": "${'p'.repeat(MAX_BODY_BYTES)}", "RoleArn"`);
    const response = await post('too-big', huge);
    expect([response.status, response.headers.get('x-amzn-errortype')]).toEqual([413, 'ValidationException']);
    expect(((await response.json()) as { Message?: string }).Message).toEqual(expect.any(String));
    expect(await failure(scheduler.send(new GetScheduleCommand({ Name: 'too-big' })))).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('listing and groups', () => {
  it('lists by NamePrefix, State and GroupName, page by page', async () => {
    await scheduler.send(new CreateScheduleGroupCommand({ Name: 'reports', Tags: [{ Key: 'team', Value: 'data' }] }));
    for (let i = 0; i < 5; i++) {
      await scheduler.send(new CreateScheduleCommand(schedule(`list-${i}`, { State: i % 2 ? 'DISABLED' : 'ENABLED' })));
    }
    await scheduler.send(new CreateScheduleCommand(schedule('list-in-reports', { GroupName: 'reports' })));

    const pages: string[][] = [];
    let NextToken: string | undefined;
    do {
      const page = await scheduler.send(new ListSchedulesCommand({ NamePrefix: 'list-', MaxResults: 2, NextToken }));
      pages.push(page.Schedules!.map((s) => s.Name!));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(pages.flat()).toEqual(['list-0', 'list-1', 'list-2', 'list-3', 'list-4', 'list-in-reports']);
    expect(pages.every((page) => page.length <= 2)).toBe(true);

    const disabled = await scheduler.send(new ListSchedulesCommand({ NamePrefix: 'list-', State: 'DISABLED' }));
    expect(disabled.Schedules!.map((s) => s.Name)).toEqual(['list-1', 'list-3']);
    const inReports = await scheduler.send(new ListSchedulesCommand({ GroupName: 'reports' }));
    expect(inReports.Schedules).toEqual([
      expect.objectContaining({ Name: 'list-in-reports', GroupName: 'reports', State: 'ENABLED', Target: { Arn: CLUSTER } }),
    ]);
    expect(await failure(scheduler.send(new ListSchedulesCommand({ GroupName: 'nope' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await failure(scheduler.send(new ListSchedulesCommand({ NextToken: 'forged' })))).toMatchObject({ name: 'ValidationException' });
  });

  it('has the default group, creates, tags, lists and deletes groups (with their schedules)', async () => {
    const groups = await scheduler.send(new ListScheduleGroupsCommand({}));
    expect(groups.ScheduleGroups!.map((g) => g.Name)).toContain('default');
    const fallback = await scheduler.send(new GetScheduleGroupCommand({ Name: 'default' }));
    expect(fallback).toMatchObject({ Name: 'default', State: 'ACTIVE', Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/default` });

    const { ScheduleGroupArn } = await scheduler.send(new CreateScheduleGroupCommand({ Name: 'ops' }));
    expect(await failure(scheduler.send(new CreateScheduleGroupCommand({ Name: 'ops' })))).toMatchObject({ name: 'ConflictException', status: 409 });
    await scheduler.send(new TagResourceCommand({ ResourceArn: ScheduleGroupArn, Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await scheduler.send(new UntagResourceCommand({ ResourceArn: ScheduleGroupArn, TagKeys: ['a'] }));
    expect((await scheduler.send(new ListTagsForResourceCommand({ ResourceArn: ScheduleGroupArn }))).Tags).toEqual([{ Key: 'b', Value: '2' }]);
    expect(
      await failure(scheduler.send(new ListTagsForResourceCommand({ ResourceArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/ghost` }))),
    ).toMatchObject({ name: 'ResourceNotFoundException' });

    await scheduler.send(new CreateScheduleCommand(schedule('in-ops', { GroupName: 'ops' })));
    await scheduler.send(new DeleteScheduleGroupCommand({ Name: 'ops' }));
    expect(await failure(scheduler.send(new GetScheduleGroupCommand({ Name: 'ops' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await failure(scheduler.send(new GetScheduleCommand({ Name: 'in-ops', GroupName: 'ops' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(await failure(scheduler.send(new DeleteScheduleGroupCommand({ Name: 'default' })))).toMatchObject({ name: 'ValidationException' });
  });

  it('keeps ECS working on the same port', async () => {
    const clusters = await berth.raw('ListClusters', '{}');
    expect(clusters.status).toBe(200);
  });
});

describe.skipIf(!existsSync(AWS))('the AWS CLI against Berth\'s Scheduler API', { timeout: 180_000 }, () => {
  const aws = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(AWS, ['scheduler', ...args, '--endpoint-url', berth.server.url, '--region', REGION, '--output', 'json'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true' },
    });
    return stdout.trim() ? JSON.parse(stdout) : {};
  };

  it('creates, gets, lists and deletes a schedule, and tags a group through its ARN', async () => {
    const target = JSON.stringify({ Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: TD } });
    const created = await aws('create-schedule', '--name', 'cli-job', '--schedule-expression', 'at(2031-05-01T10:00:00)', '--flexible-time-window', 'Mode=OFF', '--target', target);
    expect(created.ScheduleArn).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/cli-job`);
    const got = await aws('get-schedule', '--name', 'cli-job');
    expect(got).toMatchObject({ Name: 'cli-job', ScheduleExpression: 'at(2031-05-01T10:00:00)', State: 'ENABLED', Target: { Arn: CLUSTER } });
    const listed = await aws('list-schedules', '--name-prefix', 'cli-');
    expect(listed.Schedules.map((s: { Name: string }) => s.Name)).toEqual(['cli-job']);

    const { ScheduleGroupArn } = await aws('create-schedule-group', '--name', 'cli-group');
    await aws('tag-resource', '--resource-arn', ScheduleGroupArn, '--tags', 'Key=env,Value=test');
    expect((await aws('list-tags-for-resource', '--resource-arn', ScheduleGroupArn)).Tags).toEqual([{ Key: 'env', Value: 'test' }]);

    await aws('delete-schedule', '--name', 'cli-job');
    await expect(aws('get-schedule', '--name', 'cli-job')).rejects.toThrow(/ResourceNotFoundException/);
    await expect(aws('create-schedule', '--name', 'cli-bad', '--schedule-expression', 'rate(0 minutes)', '--flexible-time-window', 'Mode=OFF', '--target', target)).rejects.toThrow(
      /ValidationException.*Invalid Schedule Expression rate\(0 minutes\)\./,
    );
  });
});
