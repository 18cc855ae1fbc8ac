/**
 * EventBridge Scheduler's schedule expressions and when they fire:
 *   rate(N minute|minutes|hour|hours|day|days)   every N units from StartDate (or from creation)
 *   cron(min hour day-of-month month day-of-week year)   in ScheduleExpressionTimezone
 *   at(yyyy-mm-ddThh:mm:ss)   once, at that wall-clock time in ScheduleExpressionTimezone
 * plus StartDate / EndDate, the flexible time window and the RunTask clientToken of a firing.
 */
import { createHash } from 'node:crypto';
import { CronSyntaxError, nextCronTime, parseCron, type CronSchedule } from './cron-expression';
import { ValidationException } from './errors';
import { daysInMonth, isKnownTimeZone, resolveLocal, type LocalDateTime } from './zoned-time';

export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly periodMs: number }
  | { readonly kind: 'cron'; readonly cron: CronSchedule }
  | { readonly kind: 'at'; readonly local: LocalDateTime };

const MINUTE_MS = 60_000;
// "days" is a 24-hour duration, not a calendar day: Scheduler evaluates rate(1 day) 24 hours after
// the previous run even when a daylight saving change makes the day 23 or 25 hours long.
const UNIT_MS: Readonly<Record<string, number>> = {
  minute: MINUTE_MS,
  minutes: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  hours: 60 * MINUTE_MS,
  day: 24 * 60 * MINUTE_MS,
  days: 24 * 60 * MINUTE_MS,
};

/** Scheduler's own wording for any expression it cannot read. */
const invalid = (text: string) => new ValidationException(`Invalid Schedule Expression ${text}.`);

export function parseScheduleExpression(text: string): ScheduleExpression {
  const match = /^(rate|cron|at)\((.*)\)$/s.exec(text);
  if (!match) throw invalid(text);
  const [, kind, body] = match;
  if (kind === 'rate') {
    const rate = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body);
    if (!rate || Number(rate[1]) < 1) throw invalid(text);
    return { kind: 'rate', periodMs: Number(rate[1]) * UNIT_MS[rate[2]] };
  }
  if (kind === 'at') {
    const at = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
    if (!at) throw invalid(text);
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number);
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
      throw invalid(text);
    }
    return { kind: 'at', local: { year, month, day, hour, minute, second } };
  }
  try {
    return { kind: 'cron', cron: parseCron(body) };
  } catch (error) {
    if (error instanceof CronSyntaxError) throw invalid(text);
    throw error;
  }
}

export const DEFAULT_TIMEZONE = 'UTC';

export function validateTimezone(timeZone: string): void {
  if (!isKnownTimeZone(timeZone)) throw new ValidationException(`Invalid ScheduleExpressionTimezone ${timeZone}.`);
}

export interface FiringWindow {
  readonly timeZone?: string;
  /** Recurring schedules fire on or after it; one-time schedules ignore it (as Scheduler does). */
  readonly startDateMs?: number;
  /** Recurring schedules fire before it; one-time schedules ignore it. */
  readonly endDateMs?: number;
  /** Where a rate without StartDate counts from: when the schedule got its expression. */
  readonly rateAnchorMs: number;
}

/** The first scheduled time strictly after `afterMs`, or undefined when the schedule is done. */
export function nextScheduledTime(expression: ScheduleExpression, afterMs: number, window: FiringWindow): number | undefined {
  const timeZone = window.timeZone ?? DEFAULT_TIMEZONE;
  if (expression.kind === 'at') {
    const at = resolveLocal(expression.local, timeZone);
    return at > afterMs ? at : undefined;
  }
  const from = window.startDateMs !== undefined ? Math.max(afterMs, window.startDateMs - 1) : afterMs;
  let next: number | undefined;
  if (expression.kind === 'rate') {
    const anchor = window.startDateMs ?? window.rateAnchorMs;
    const periods = from < anchor ? 0 : Math.floor((from - anchor) / expression.periodMs) + 1;
    next = anchor + periods * expression.periodMs;
  } else {
    next = nextCronTime(expression.cron, from, timeZone);
  }
  if (next === undefined || (window.endDateMs !== undefined && next >= window.endDateMs)) return undefined;
  return next;
}

export type FlexibleTimeWindow = { readonly Mode: 'OFF' } | { readonly Mode: 'FLEXIBLE'; readonly MaximumWindowInMinutes: number };

export function validateFlexibleTimeWindow(window: { Mode?: string; MaximumWindowInMinutes?: number }): void {
  if (window.Mode === 'FLEXIBLE' && window.MaximumWindowInMinutes === undefined) {
    throw new ValidationException('MaximumWindowInMinutes is required when Mode is FLEXIBLE.');
  }
  if (window.Mode === 'OFF' && window.MaximumWindowInMinutes !== undefined) {
    throw new ValidationException('MaximumWindowInMinutes must not be set when Mode is OFF.');
  }
}

const digest = (scheduleArn: string, scheduledMs: number) =>
  createHash('sha256').update(`${scheduleArn}\n${new Date(scheduledMs).toISOString()}`).digest();

/**
 * When a firing happens: at the scheduled time, or, with a flexible window, at a point within
 * [scheduled, scheduled + window) derived from the schedule and the scheduled time, so every process
 * that computes it (a restart, a second runner) agrees, while a fleet of schedules still spreads out.
 */
export function fireTime(scheduleArn: string, scheduledMs: number, window: FlexibleTimeWindow): number {
  if (window.Mode !== 'FLEXIBLE') return scheduledMs;
  const spanMs = window.MaximumWindowInMinutes * MINUTE_MS;
  return scheduledMs + (digest(scheduleArn, scheduledMs).readUInt32BE(0) % spanMs);
}

/** The last instant a firing may still happen: the end of its flexible window (a minute when OFF). */
export function windowEnd(scheduledMs: number, window: FlexibleTimeWindow): number {
  return scheduledMs + (window.Mode === 'FLEXIBLE' ? window.MaximumWindowInMinutes : 1) * MINUTE_MS;
}

/**
 * RunTask's clientToken for one firing: the same schedule and scheduled time always give the same
 * token, so a retried or duplicated firing launches nothing new. 64 hex characters, ECS's maximum.
 */
export const runTaskClientToken = (scheduleArn: string, scheduledMs: number) =>
  digest(scheduleArn, scheduledMs).toString('hex');
