/**
 * EventBridge Scheduler's resources (schedules and schedule groups, member names as in its API) and the
 * decisions about firing them: the first scheduled time, and what a due firing does (run, or skip when
 * its window passed while Berth was down) and what comes after it.
 */
import { partitionOf, type Scope } from './arns';
import type { EcsParameters } from './ecs-parameters';
import {
  nextScheduledTime,
  parseScheduleExpression,
  windowEnd,
  type FlexibleTimeWindow,
} from './schedule-expression';

export const DEFAULT_GROUP = 'default';

export interface ScheduleTarget {
  Arn: string;
  RoleArn: string;
  EcsParameters?: EcsParameters;
  Input?: string;
  [member: string]: unknown;
}

/** Timestamps are epoch ms (written to the wire as epoch seconds). */
export interface ScheduleRecord {
  Name: string;
  GroupName: string;
  Arn: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone: string;
  StartDate?: number;
  EndDate?: number;
  Description?: string;
  State: 'ENABLED' | 'DISABLED';
  FlexibleTimeWindow: FlexibleTimeWindow;
  Target: ScheduleTarget;
  ActionAfterCompletion: 'NONE' | 'DELETE';
  KmsKeyArn?: string;
  CreationDate: number;
  LastModificationDate: number;
  /** Not on the wire: when the expression was set, where a rate without StartDate counts from. */
  expressionSetAt: number;
}

/** Scheduler's tag shape (schedule groups only). */
export interface SchedulerTag {
  Key: string;
  Value: string;
}

export interface ScheduleGroupRecord {
  Name: string;
  Arn: string;
  State: 'ACTIVE' | 'DELETING';
  CreationDate: number;
  LastModificationDate: number;
}

const prefix = (scope: Scope) => `arn:${scope.partition ?? partitionOf(scope.region)}:scheduler:${scope.region}:${scope.account}`;
export const scheduleArn = (scope: Scope, group: string, name: string) => `${prefix(scope)}:schedule/${group}/${name}`;
export const scheduleGroupArn = (scope: Scope, name: string) => `${prefix(scope)}:schedule-group/${name}`;

/** The scope and group name of a schedule group ARN (the model's pattern has checked its form). */
export function parseScheduleGroupArn(arn: string): { scope: Scope; name: string } | undefined {
  const match = /^arn:(aws[a-z-]*):scheduler:([a-z0-9-]+):(\d{12}):schedule-group\/([0-9a-zA-Z-_.]+)$/.exec(arn);
  if (!match) return undefined;
  return { scope: { partition: match[1], region: match[2], account: match[3] }, name: match[4] };
}

/** The scope a schedule's ARN names (its firings run there). */
export function scopeOfScheduleArn(arn: string): Scope {
  const [, partition, , region, account] = arn.split(':');
  return { partition, region, account };
}

const windowOf = (record: ScheduleRecord) => ({
  timeZone: record.ScheduleExpressionTimezone,
  startDateMs: record.StartDate,
  endDateMs: record.EndDate,
  rateAnchorMs: record.expressionSetAt,
});

/**
 * The first time an ENABLED schedule is due after `nowMs` (undefined: nothing left to run). A rate
 * without StartDate runs at once, as Scheduler's does, so its first time is when it was set.
 */
export function firstScheduledTime(record: ScheduleRecord, nowMs: number): number | undefined {
  if (record.State !== 'ENABLED') return undefined;
  const expression = parseScheduleExpression(record.ScheduleExpression);
  return nextScheduledTime(expression, nowMs - 1, windowOf(record));
}

export type FiringDecision =
  | { readonly action: 'fire'; readonly next?: number }
  | { readonly action: 'skip'; readonly next?: number; readonly reason: string };

/**
 * What to do with a firing scheduled at `scheduledMs` that came due, judged at `nowMs`: run it if its
 * window (the flexible window, or Scheduler's one-minute precision when OFF) is still open, otherwise
 * skip it (Berth was down). `next` is the following scheduled time whose window is still open, so a
 * long outage skips every missed run at once rather than replaying them.
 */
export function decideFiring(record: ScheduleRecord, scheduledMs: number, nowMs: number): FiringDecision {
  const expression = parseScheduleExpression(record.ScheduleExpression);
  const window = windowOf(record);
  const span = windowEnd(0, record.FlexibleTimeWindow);
  const open = nowMs < windowEnd(scheduledMs, record.FlexibleTimeWindow);
  const after = open ? scheduledMs : Math.max(scheduledMs, nowMs - span);
  const next = nextScheduledTime(expression, after, window);
  if (open) return { action: 'fire', next };
  return {
    action: 'skip',
    next,
    reason: `its window closed at ${new Date(windowEnd(scheduledMs, record.FlexibleTimeWindow)).toISOString()}`,
  };
}
