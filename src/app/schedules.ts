/**
 * EventBridge Scheduler's operations on schedules, schedule groups and their tags. Inputs arrive
 * checked against the Scheduler model (member names as on the wire, timestamps as epoch seconds or
 * ISO text); the rules the model cannot express are checked here, before anything is written.
 */
import { ConflictException, ResourceNotFoundException, ValidationException } from '../domain/errors';
import { validateEcsTarget } from '../domain/ecs-parameters';
import {
  DEFAULT_GROUP,
  firstScheduledTime,
  parseScheduleGroupArn,
  scheduleArn,
  scheduleGroupArn,
  type ScheduleGroupRecord,
  type ScheduleRecord,
  type ScheduleTarget,
  type SchedulerTag,
} from '../domain/schedule';
import {
  DEFAULT_TIMEZONE,
  fireTime,
  parseScheduleExpression,
  validateFlexibleTimeWindow,
  validateTimezone,
  type FlexibleTimeWindow,
} from '../domain/schedule-expression';
import type { NextFiring, StoredSchedule } from '../adapters/dynamodb/schedule-repository';
import { timestampMs } from '../api/scheduler-model';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';

type WireTime = number | string;

export interface ScheduleInput {
  Name: string;
  GroupName?: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  StartDate?: WireTime;
  EndDate?: WireTime;
  Description?: string;
  State?: 'ENABLED' | 'DISABLED';
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  Target: ScheduleTarget;
  ActionAfterCompletion?: 'NONE' | 'DELETE';
  KmsKeyArn?: string;
  ClientToken?: string;
}

const DEFAULT_PAGE = 100;

const scheduleNotFound = (name: string) => new ResourceNotFoundException(`Schedule ${name} does not exist.`);
const groupNotFound = (name: string) => new ResourceNotFoundException(`Schedule group ${name} does not exist.`);

/** The `default` group always exists: it is written the first time anything needs it. */
async function ensureDefaultGroup(ctx: RequestContext): Promise<void> {
  const arn = scheduleGroupArn(ctx.scope, DEFAULT_GROUP);
  if (await ctx.schedules.getGroup(arn)) return;
  const now = ctx.clock();
  await ctx.schedules.createGroup(
    ctx.scope,
    { Name: DEFAULT_GROUP, Arn: arn, State: 'ACTIVE', CreationDate: now, LastModificationDate: now },
    [],
  );
}

/** The ACTIVE group a request names (the default one when it names none). */
async function activeGroup(ctx: RequestContext, name = DEFAULT_GROUP) {
  if (name === DEFAULT_GROUP) await ensureDefaultGroup(ctx);
  const stored = await ctx.schedules.getGroup(scheduleGroupArn(ctx.scope, name));
  if (!stored || stored.record.State !== 'ACTIVE') throw groupNotFound(name);
  return stored;
}

/** Builds and checks the stored form of a schedule from a Create or Update request. */
// `now` is read once per request: a rate without StartDate runs first at the instant it was set,
// so the checkpoint must be computed from that same instant.
function scheduleRecord(ctx: RequestContext, input: ScheduleInput, group: string, now: number, previous?: ScheduleRecord): ScheduleRecord {
  parseScheduleExpression(input.ScheduleExpression);
  const timeZone = input.ScheduleExpressionTimezone ?? DEFAULT_TIMEZONE;
  validateTimezone(timeZone);
  validateFlexibleTimeWindow(input.FlexibleTimeWindow);
  validateEcsTarget(input.Target.Arn, input.Target.EcsParameters);
  const startDate = input.StartDate === undefined ? undefined : timestampMs(input.StartDate);
  const endDate = input.EndDate === undefined ? undefined : timestampMs(input.EndDate);
  if (startDate !== undefined && endDate !== undefined && startDate >= endDate) {
    throw new ValidationException('The StartDate must be before the EndDate.');
  }
  const window: FlexibleTimeWindow =
    input.FlexibleTimeWindow.Mode === 'FLEXIBLE'
      ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: input.FlexibleTimeWindow.MaximumWindowInMinutes! }
      : { Mode: 'OFF' };
  const sameTiming =
    previous?.ScheduleExpression === input.ScheduleExpression && previous.StartDate === startDate;
  return {
    Name: input.Name,
    GroupName: group,
    Arn: scheduleArn(ctx.scope, group, input.Name),
    ScheduleExpression: input.ScheduleExpression,
    ScheduleExpressionTimezone: timeZone,
    ...(startDate !== undefined ? { StartDate: startDate } : {}),
    ...(endDate !== undefined ? { EndDate: endDate } : {}),
    ...(input.Description !== undefined ? { Description: input.Description } : {}),
    State: input.State ?? 'ENABLED',
    FlexibleTimeWindow: window,
    Target: input.Target,
    ActionAfterCompletion: input.ActionAfterCompletion ?? 'NONE',
    ...(input.KmsKeyArn !== undefined ? { KmsKeyArn: input.KmsKeyArn } : {}),
    CreationDate: previous?.CreationDate ?? now,
    LastModificationDate: now,
    // A rate keeps its rhythm through edits that leave its timing alone.
    expressionSetAt: sameTiming ? previous.expressionSetAt : now,
  };
}

function firstFiring(record: ScheduleRecord, nowMs: number): NextFiring | undefined {
  const scheduledAt = firstScheduledTime(record, nowMs);
  return scheduledAt === undefined ? undefined : { scheduledAt, fireAt: fireTime(record.Arn, scheduledAt, record.FlexibleTimeWindow) };
}

export async function createSchedule(ctx: RequestContext, input: ScheduleInput) {
  const group = input.GroupName ?? DEFAULT_GROUP;
  const now = ctx.clock();
  const record = scheduleRecord(ctx, input, group, now);
  const stored = await activeGroup(ctx, group);
  const outcome = await ctx.schedules.createSchedule(ctx.scope, stored.record.Arn, record, firstFiring(record, now));
  if (outcome === 'exists') throw new ConflictException(`Schedule ${input.Name} already exists.`);
  if (outcome === 'no-group') throw groupNotFound(group);
  return { ScheduleArn: record.Arn };
}

async function findSchedule(ctx: RequestContext, name: string, group = DEFAULT_GROUP): Promise<StoredSchedule> {
  const stored = await ctx.schedules.getSchedule(scheduleGroupArn(ctx.scope, group), name);
  if (!stored) throw scheduleNotFound(name);
  return stored;
}

export async function getSchedule(ctx: RequestContext, input: { Name: string; GroupName?: string }) {
  return (await findSchedule(ctx, input.Name, input.GroupName)).record;
}

export async function updateSchedule(ctx: RequestContext, input: ScheduleInput) {
  const group = input.GroupName ?? DEFAULT_GROUP;
  return withOptimisticRetry(async () => {
    const stored = await findSchedule(ctx, input.Name, group);
    const now = ctx.clock();
    const record = scheduleRecord(ctx, input, group, now, stored.record);
    await ctx.schedules.updateSchedule(ctx.scope, stored, record, firstFiring(record, now));
    return { ScheduleArn: record.Arn };
  });
}

export async function deleteSchedule(ctx: RequestContext, input: { Name: string; GroupName?: string }) {
  await withOptimisticRetry(async () => {
    const stored = await findSchedule(ctx, input.Name, input.GroupName);
    await ctx.schedules.deleteSchedule(stored);
  });
  return {};
}

export async function listSchedules(
  ctx: RequestContext,
  input: { GroupName?: string; NamePrefix?: string; State?: string; MaxResults?: number; NextToken?: string },
) {
  const groupArn = input.GroupName ? (await activeGroup(ctx, input.GroupName)).record.Arn : undefined;
  const page = await ctx.schedules.listSchedules(
    ctx.scope,
    { groupArn, namePrefix: input.NamePrefix, state: input.State },
    { maxResults: input.MaxResults ?? DEFAULT_PAGE, nextToken: input.NextToken },
  );
  return {
    Schedules: page.items.map(({ record }) => ({
      Arn: record.Arn,
      Name: record.Name,
      GroupName: record.GroupName,
      State: record.State,
      CreationDate: record.CreationDate,
      LastModificationDate: record.LastModificationDate,
      Target: { Arn: record.Target.Arn },
    })),
    NextToken: page.nextToken,
  };
}

export async function createScheduleGroup(ctx: RequestContext, input: { Name: string; Tags?: SchedulerTag[] }) {
  const tags = checkedTags(input.Tags ?? []);
  const now = ctx.clock();
  const record: ScheduleGroupRecord = {
    Name: input.Name,
    Arn: scheduleGroupArn(ctx.scope, input.Name),
    State: 'ACTIVE',
    CreationDate: now,
    LastModificationDate: now,
  };
  if (input.Name === DEFAULT_GROUP) await ensureDefaultGroup(ctx);
  if (!(await ctx.schedules.createGroup(ctx.scope, record, tags))) {
    throw new ConflictException(`Schedule group ${input.Name} already exists.`);
  }
  return { ScheduleGroupArn: record.Arn };
}

export async function getScheduleGroup(ctx: RequestContext, input: { Name: string }) {
  if (input.Name === DEFAULT_GROUP) await ensureDefaultGroup(ctx);
  const stored = await ctx.schedules.getGroup(scheduleGroupArn(ctx.scope, input.Name));
  if (!stored) throw groupNotFound(input.Name);
  return stored.record;
}

/** Deletes the group and every schedule in it (Scheduler does the same, asynchronously). */
export async function deleteScheduleGroup(ctx: RequestContext, input: { Name: string }) {
  if (input.Name === DEFAULT_GROUP) throw new ValidationException('The default schedule group cannot be deleted.');
  const arn = scheduleGroupArn(ctx.scope, input.Name);
  await withOptimisticRetry(async () => {
    const stored = await ctx.schedules.getGroup(arn);
    if (!stored) throw groupNotFound(input.Name);
    // DELETING first: from here no schedule can be created in it, so none survives the sweep below.
    if (stored.record.State === 'ACTIVE') await ctx.schedules.markGroupDeleting(stored.record, stored.version, ctx.clock());
  });
  for await (const schedule of ctx.schedules.schedulesOfGroup(arn)) {
    await withOptimisticRetry(async () => {
      const current = await ctx.schedules.getSchedule(arn, schedule.record.Name);
      if (current) await ctx.schedules.deleteSchedule(current);
    });
  }
  await ctx.schedules.deleteGroupItem(arn);
  return {};
}

export async function listScheduleGroups(ctx: RequestContext, input: { NamePrefix?: string; MaxResults?: number; NextToken?: string }) {
  await ensureDefaultGroup(ctx);
  const page = await ctx.schedules.listGroups(ctx.scope, input.NamePrefix, {
    maxResults: input.MaxResults ?? DEFAULT_PAGE,
    nextToken: input.NextToken,
  });
  return { ScheduleGroups: page.items.map(({ record }) => record), NextToken: page.nextToken };
}

/** Only schedule groups carry tags in Scheduler; the ARN must name one in the caller's account and region. */
async function taggedGroup(ctx: RequestContext, resourceArn: string) {
  const parsed = parseScheduleGroupArn(resourceArn);
  if (!parsed || parsed.scope.account !== ctx.scope.account || parsed.scope.region !== ctx.scope.region) {
    throw new ResourceNotFoundException(`Resource ${resourceArn} does not exist.`);
  }
  if (parsed.name === DEFAULT_GROUP) await ensureDefaultGroup(ctx);
  const stored = await ctx.schedules.getGroup(resourceArn);
  if (!stored || stored.record.State !== 'ACTIVE') throw new ResourceNotFoundException(`Resource ${resourceArn} does not exist.`);
  return stored;
}

const MAX_TAGS = 200;

function checkedTags(tags: SchedulerTag[]): SchedulerTag[] {
  const keys = new Set<string>();
  for (const tag of tags) {
    if (keys.has(tag.Key)) throw new ValidationException(`Duplicate tag key: ${tag.Key}`);
    keys.add(tag.Key);
  }
  return tags;
}

export async function tagResource(ctx: RequestContext, input: { ResourceArn: string; Tags: SchedulerTag[] }) {
  const added = checkedTags(input.Tags);
  await withOptimisticRetry(async () => {
    const stored = await taggedGroup(ctx, input.ResourceArn);
    const merged = new Map(stored.tags.map((tag) => [tag.Key, tag]));
    for (const tag of added) merged.set(tag.Key, tag);
    if (merged.size > MAX_TAGS) throw new ValidationException(`A resource can have at most ${MAX_TAGS} tags.`);
    await ctx.schedules.updateGroupTags(stored.record.Arn, [...merged.values()], stored.version);
  });
  return {};
}

export async function untagResource(ctx: RequestContext, input: { ResourceArn: string; TagKeys: string[] }) {
  const removed = new Set(input.TagKeys);
  await withOptimisticRetry(async () => {
    const stored = await taggedGroup(ctx, input.ResourceArn);
    const kept = stored.tags.filter((tag) => !removed.has(tag.Key));
    await ctx.schedules.updateGroupTags(stored.record.Arn, kept, stored.version);
  });
  return {};
}

export async function listTagsForResource(ctx: RequestContext, input: { ResourceArn: string }) {
  const stored = await taggedGroup(ctx, input.ResourceArn);
  return { Tags: stored.tags };
}
