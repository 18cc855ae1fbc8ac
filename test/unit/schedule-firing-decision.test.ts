/**
 * When a due firing runs or is skipped, and which firing comes next (src/domain/schedule.ts):
 * inside its window (a minute when OFF, the flexible window otherwise) it runs; after it, it is
 * skipped and the schedule resumes with the first run whose window is still open.
 */
import { describe, expect, it } from 'vitest';
import { decideFiring, firstScheduledTime, type ScheduleRecord } from '../../src/domain/schedule';

const ms = (iso: string) => Date.parse(iso);
const record = (overrides: Partial<ScheduleRecord> = {}): ScheduleRecord => ({
  Name: 's',
  GroupName: 'default',
  Arn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/s',
  ScheduleExpression: 'cron(0 * * * ? *)',
  ScheduleExpressionTimezone: 'UTC',
  State: 'ENABLED',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: { Arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/c', RoleArn: 'arn:aws:iam::000000000000:role/r' },
  ActionAfterCompletion: 'NONE',
  CreationDate: ms('2026-01-01T00:00:00Z'),
  LastModificationDate: ms('2026-01-01T00:00:00Z'),
  expressionSetAt: ms('2026-01-01T00:00:00Z'),
  ...overrides,
});
const FLEX = { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 } } as const;
const iso = (value: number | undefined) => (value === undefined ? undefined : new Date(value).toISOString());

describe('decideFiring', () => {
  it.each<{ name: string; overrides?: Partial<ScheduleRecord>; scheduled: string; now: string; action: string; next?: string }>([
    { name: 'on time', scheduled: '2026-01-01T01:00:00Z', now: '2026-01-01T01:00:00.500Z', action: 'fire', next: '2026-01-01T02:00:00.000Z' },
    { name: 'late within the minute (OFF)', scheduled: '2026-01-01T01:00:00Z', now: '2026-01-01T01:00:59Z', action: 'fire', next: '2026-01-01T02:00:00.000Z' },
    { name: 'a minute late (OFF): skipped', scheduled: '2026-01-01T01:00:00Z', now: '2026-01-01T01:01:00Z', action: 'skip', next: '2026-01-01T02:00:00.000Z' },
    { name: 'inside a 15-minute flexible window', overrides: FLEX, scheduled: '2026-01-01T01:00:00Z', now: '2026-01-01T01:14:00Z', action: 'fire', next: '2026-01-01T02:00:00.000Z' },
    { name: 'after the flexible window: skipped', overrides: FLEX, scheduled: '2026-01-01T01:00:00Z', now: '2026-01-01T01:15:00Z', action: 'skip', next: '2026-01-01T02:00:00.000Z' },
    {
      name: 'down for hours: every missed run skipped at once, resuming with the one whose window is open',
      overrides: FLEX,
      scheduled: '2026-01-01T01:00:00Z',
      now: '2026-01-01T05:10:00Z',
      action: 'skip',
      next: '2026-01-01T05:00:00.000Z',
    },
    { name: 'the last run before EndDate', overrides: { EndDate: ms('2026-01-01T01:30:00Z') }, scheduled: '2026-01-01T01:00:00Z', now: '2026-01-01T01:00:01Z', action: 'fire', next: undefined },
    { name: 'a one-time schedule has nothing after it', overrides: { ScheduleExpression: 'at(2026-01-01T01:00:00)' }, scheduled: '2026-01-01T01:00:00Z', now: '2026-01-01T01:00:01Z', action: 'fire', next: undefined },
  ])('$name', ({ overrides, scheduled, now, action, next }) => {
    const decision = decideFiring(record(overrides), ms(scheduled), ms(now));
    expect(decision.action).toBe(action);
    expect(iso(decision.next)).toBe(next);
  });
});

describe('firstScheduledTime', () => {
  it.each<{ name: string; overrides?: Partial<ScheduleRecord>; now: string; expected?: string }>([
    { name: 'a cron: its next match', now: '2026-01-01T00:30:00Z', expected: '2026-01-01T01:00:00.000Z' },
    { name: 'a cron exactly at a match: that match', now: '2026-01-01T01:00:00Z', expected: '2026-01-01T01:00:00.000Z' },
    { name: 'a rate without StartDate: at once', overrides: { ScheduleExpression: 'rate(1 hour)', expressionSetAt: ms('2026-01-01T00:30:00Z') }, now: '2026-01-01T00:30:00Z', expected: '2026-01-01T00:30:00.000Z' },
    { name: 'DISABLED: nothing', overrides: { State: 'DISABLED' }, now: '2026-01-01T00:30:00Z', expected: undefined },
    { name: 'an at() in the past: nothing', overrides: { ScheduleExpression: 'at(2025-01-01T00:00:00)' }, now: '2026-01-01T00:30:00Z', expected: undefined },
    { name: 'an at() in New York time', overrides: { ScheduleExpression: 'at(2026-07-01T09:00:00)', ScheduleExpressionTimezone: 'America/New_York' }, now: '2026-01-01T00:30:00Z', expected: '2026-07-01T13:00:00.000Z' },
  ])('$name', ({ overrides, now, expected }) => {
    expect(iso(firstScheduledTime(record(overrides), ms(now)))).toBe(expected);
  });
});
