/**
 * EventBridge Scheduler expressions (src/domain/schedule-expression.ts, cron-expression.ts,
 * zoned-time.ts): what parses, the error Scheduler gives for what does not, when each kind fires
 * (across daylight saving changes in two zones), StartDate / EndDate, the flexible window and the
 * RunTask clientToken of a firing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  fireTime,
  nextScheduledTime,
  parseScheduleExpression,
  runTaskClientToken,
  validateFlexibleTimeWindow,
  validateTimezone,
  windowEnd,
  type FiringWindow,
} from '../../src/domain/schedule-expression';
import { nextCronTime, parseCron } from '../../src/domain/cron-expression';
import { localTimeAt } from '../../src/domain/zoned-time';
import { ValidationException } from '../../src/domain/errors';

const ms = (iso: string) => Date.parse(iso);
const iso = (instant: number | undefined) => (instant === undefined ? undefined : new Date(instant).toISOString());
const NEVER_ANCHOR: FiringWindow = { rateAnchorMs: 0 };

/** The next `count` scheduled times after `after`, as ISO strings. */
function fires(expression: string, after: string, window: Partial<FiringWindow> = {}, count = 1): (string | undefined)[] {
  const parsed = parseScheduleExpression(expression);
  const result: (string | undefined)[] = [];
  let from = ms(after);
  for (let i = 0; i < count; i++) {
    const next = nextScheduledTime(parsed, from, { ...NEVER_ANCHOR, ...window });
    result.push(iso(next));
    if (next === undefined) break;
    from = next;
  }
  return result;
}

describe('parseScheduleExpression: valid expressions', () => {
  it.each([
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 hour)',
    'rate(12 hours)',
    'rate(1 day)',
    'rate(30 days)',
    'cron(0 12 * * ? *)',
    'cron(15 10 ? * 6L 2026-2030)',
    'cron(0/15 * * * ? *)',
    'cron(1/10 8-17 ? * MON-FRI *)',
    'cron(0 18 ? * mon-fri *)',
    'cron(0 8 1 * ? *)',
    'cron(0 0 L * ? *)',
    'cron(0 0 LW * ? *)',
    'cron(0 0 15W * ? *)',
    'cron(0 10 ? * 3#2 *)',
    'cron(0 10 ? * FRI#3 *)',
    'cron(0 10 ? * L *)',
    'cron(0 10 ? JAN,JUL * *)',
    'cron(0 22-2 * * ? *)',
    'cron(*/5 * * * ? 2026/2)',
    'at(2026-11-20T13:00:00)',
    'at(2028-02-29T00:00:00)',
  ])('%s', (expression) => {
    expect(() => parseScheduleExpression(expression)).not.toThrow();
  });
});

describe('parseScheduleExpression: invalid expressions get Scheduler\'s error', () => {
  it.each([
    ['empty', ''],
    ['not an expression', 'every 5 minutes'],
    ['rate of zero', 'rate(0 minutes)'],
    ['negative rate', 'rate(-1 minutes)'],
    ['fractional rate', 'rate(1.5 hours)'],
    ['unknown rate unit', 'rate(2 weeks)'],
    ['rate without a space', 'rate(5minutes)'],
    ['rate unit in capitals', 'rate(5 MINUTES)'],
    ['five cron fields', 'cron(0 12 * * ?)'],
    ['seven cron fields', 'cron(0 0 12 * * ? *)'],
    ['both day fields *', 'cron(0 12 * * * *)'],
    ['both day fields ?', 'cron(0 12 ? * ? *)'],
    ['minute 60', 'cron(60 12 * * ? *)'],
    ['hour 24', 'cron(0 24 * * ? *)'],
    ['day-of-month 32', 'cron(0 12 32 * ? *)'],
    ['month 13', 'cron(0 12 1 13 ? *)'],
    ['day-of-week 8', 'cron(0 12 ? * 8 *)'],
    ['day-of-week 0', 'cron(0 12 ? * 0 *)'],
    ['two # expressions', 'cron(0 12 ? * 3#1,6#3 *)'],
    ['sixth occurrence', 'cron(0 12 ? * 3#6 *)'],
    ['year 1969', 'cron(0 12 * * ? 1969)'],
    ['year 2200', 'cron(0 12 * * ? 2200)'],
    ['step of zero', 'cron(0/0 12 * * ? *)'],
    ['W past the month', 'cron(0 12 32W * ? *)'],
    ['L in the hours', 'cron(0 L * * ? *)'],
    ['W in day-of-week', 'cron(0 12 ? * 2W *)'],
    ['? in the minutes', 'cron(? 12 * * ? *)'],
    ['unknown month name', 'cron(0 12 1 JANUARY ? *)'],
    ['at February 30th', 'at(2026-02-30T10:00:00)'],
    ['at 29 February of a common year', 'at(2027-02-29T10:00:00)'],
    ['at month 13', 'at(2026-13-01T10:00:00)'],
    ['at with a space', 'at(2026-01-01 10:00:00)'],
    ['at hour 24', 'at(2026-01-01T24:00:00)'],
    ['at with a zone suffix', 'at(2026-01-01T10:00:00Z)'],
    ['at without seconds', 'at(2026-01-01T10:00)'],
  ])('%s: %s', (_name, expression) => {
    const attempt = () => parseScheduleExpression(expression);
    expect(attempt).toThrow(ValidationException);
    expect(attempt).toThrow(`Invalid Schedule Expression ${expression}.`);
  });
});

describe('time zones', () => {
  it.each(['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata'])('%s is accepted', (zone) => {
    expect(() => validateTimezone(zone)).not.toThrow();
  });
  it.each(['Mars/Olympus_Mons', 'EST+5', ''])('%s is refused', (zone) => {
    expect(() => validateTimezone(zone)).toThrow(ValidationException);
  });
});

describe('next fire times across daylight saving changes', () => {
  it.each<{ name: string; expression: string; zone: string; after: string; expected: string[] }>([
    {
      name: 'New York spring forward: 02:30 does not exist on 8 March, skipped',
      expression: 'cron(30 2 * * ? *)',
      zone: 'America/New_York',
      after: '2026-03-07T12:00:00Z',
      expected: ['2026-03-09T06:30:00.000Z'],
    },
    {
      name: 'New York spring forward: 09:00 keeps its wall-clock time (UTC moves by an hour)',
      expression: 'cron(0 9 * * ? *)',
      zone: 'America/New_York',
      after: '2026-03-07T12:00:00Z',
      expected: ['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z', '2026-03-09T13:00:00.000Z'],
    },
    {
      name: 'New York fall back: 01:30 happens twice on 1 November, fires once (the first)',
      expression: 'cron(30 1 * * ? *)',
      zone: 'America/New_York',
      after: '2026-10-31T12:00:00Z',
      expected: ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    },
    {
      name: 'New York fall back: every 15 minutes does not repeat the hour that comes twice',
      expression: 'cron(0/15 * * * ? *)',
      zone: 'America/New_York',
      after: '2026-11-01T05:20:00Z',
      expected: ['2026-11-01T05:30:00.000Z', '2026-11-01T05:45:00.000Z', '2026-11-01T07:00:00.000Z'],
    },
    {
      name: 'Berlin spring forward: 02:30 does not exist on 29 March, skipped',
      expression: 'cron(30 2 * * ? *)',
      zone: 'Europe/Berlin',
      after: '2026-03-28T12:00:00Z',
      expected: ['2026-03-30T00:30:00.000Z'],
    },
    {
      name: 'Berlin spring forward: every 30 minutes jumps from 01:30 to 03:00',
      expression: 'cron(0/30 * * * ? *)',
      zone: 'Europe/Berlin',
      after: '2026-03-29T00:15:00Z',
      expected: ['2026-03-29T00:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z'],
    },
    {
      name: 'Berlin fall back: 02:30 happens twice on 25 October, fires once',
      expression: 'cron(30 2 * * ? *)',
      zone: 'Europe/Berlin',
      after: '2026-10-24T12:00:00Z',
      expected: ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    },
    {
      name: 'asked during the second 02:30 of the Berlin fall back: the next day, not a repeat',
      expression: 'cron(30 2 * * ? *)',
      zone: 'Europe/Berlin',
      after: '2026-10-25T01:15:00Z',
      expected: ['2026-10-26T01:30:00.000Z'],
    },
    {
      name: 'UTC has no changes',
      expression: 'cron(30 2 * * ? *)',
      zone: 'UTC',
      after: '2026-03-08T00:00:00Z',
      expected: ['2026-03-08T02:30:00.000Z', '2026-03-09T02:30:00.000Z'],
    },
    {
      name: 'rate(1 day) is 24 hours, also across a change',
      expression: 'rate(1 day)',
      zone: 'America/New_York',
      after: '2026-03-07T14:00:00Z',
      expected: ['2026-03-08T14:00:00.000Z', '2026-03-09T14:00:00.000Z'],
    },
    {
      name: 'at() in the New York gap runs just after it (offset from before the change)',
      expression: 'at(2026-03-08T02:30:00)',
      zone: 'America/New_York',
      after: '2026-03-01T00:00:00Z',
      expected: ['2026-03-08T07:30:00.000Z'],
    },
    {
      name: 'at() in the Berlin overlap runs at the first of the two',
      expression: 'at(2026-10-25T02:30:00)',
      zone: 'Europe/Berlin',
      after: '2026-10-01T00:00:00Z',
      expected: ['2026-10-25T00:30:00.000Z'],
    },
  ])('$name', ({ expression, zone, after, expected }) => {
    const window = { timeZone: zone, rateAnchorMs: ms('2026-03-07T14:00:00Z') };
    expect(fires(expression, after, window, expected.length)).toEqual(expected);
  });
});

describe('cron special characters (UTC)', () => {
  it.each<{ name: string; expression: string; after: string; expected: (string | undefined)[] }>([
    { name: 'L: last day of February', expression: 'cron(0 12 L * ? 2026)', after: '2026-02-01T00:00:00Z', expected: ['2026-02-28T12:00:00.000Z'] },
    { name: '15W, the 15th a Saturday: Friday 14th', expression: 'cron(0 12 15W * ? *)', after: '2026-08-01T00:00:00Z', expected: ['2026-08-14T12:00:00.000Z'] },
    { name: '15W, the 15th a Sunday: Monday 16th', expression: 'cron(0 12 15W * ? *)', after: '2026-02-01T00:00:00Z', expected: ['2026-02-16T12:00:00.000Z'] },
    { name: '1W, the 1st a Saturday: Monday 3rd (never the month before)', expression: 'cron(0 12 1W * ? *)', after: '2026-07-31T00:00:00Z', expected: ['2026-08-03T12:00:00.000Z'] },
    { name: 'LW, the last day a Sunday: Friday 29th', expression: 'cron(0 12 LW * ? *)', after: '2026-05-01T00:00:00Z', expected: ['2026-05-29T12:00:00.000Z'] },
    { name: '6#3: third Friday', expression: 'cron(0 10 ? * 6#3 *)', after: '2026-01-01T00:00:00Z', expected: ['2026-01-16T10:00:00.000Z', '2026-02-20T10:00:00.000Z'] },
    { name: '6L: last Friday', expression: 'cron(0 10 ? * 6L *)', after: '2026-01-01T00:00:00Z', expected: ['2026-01-30T10:00:00.000Z'] },
    { name: 'L in day-of-week: Saturday', expression: 'cron(0 10 ? * L *)', after: '2026-01-01T00:00:00Z', expected: ['2026-01-03T10:00:00.000Z'] },
    {
      name: 'MON-FRI skips the weekend',
      expression: 'cron(0 10 ? * MON-FRI *)',
      after: '2026-01-02T11:00:00Z',
      expected: ['2026-01-05T10:00:00.000Z'],
    },
    { name: 'ranges wrap: 22-2', expression: 'cron(0 22-2 * * ? *)', after: '2026-01-01T02:30:00Z', expected: ['2026-01-01T22:00:00.000Z', '2026-01-01T23:00:00.000Z', '2026-01-02T00:00:00.000Z'] },
    { name: '1/10 minutes: 1, 11, 21 ...', expression: 'cron(1/10 * * * ? *)', after: '2026-01-01T00:00:00Z', expected: ['2026-01-01T00:01:00.000Z', '2026-01-01T00:11:00.000Z'] },
    { name: 'a past year never fires again', expression: 'cron(0 0 1 1 ? 2020)', after: '2026-01-01T00:00:00Z', expected: [undefined] },
    { name: 'February 30th never fires', expression: 'cron(0 0 30 2 ? *)', after: '2026-01-01T00:00:00Z', expected: [undefined] },
    { name: 'the last year, 2199', expression: 'cron(0 0 1 1 ? 2199)', after: '2026-01-01T00:00:00Z', expected: ['2199-01-01T00:00:00.000Z', undefined] },
  ])('$name', ({ expression, after, expected }) => {
    expect(fires(expression, after, {}, expected.length)).toEqual(expected);
  });
});

describe('StartDate and EndDate', () => {
  it('a cron fires from StartDate on, StartDate itself included', () => {
    expect(fires('cron(0 * * * ? *)', '2026-01-01T00:00:00Z', { startDateMs: ms('2026-01-05T03:00:00Z') })).toEqual([
      '2026-01-05T03:00:00.000Z',
    ]);
  });
  it('nothing fires at or after EndDate', () => {
    expect(fires('cron(0 * * * ? *)', '2026-01-01T00:30:00Z', { endDateMs: ms('2026-01-01T02:00:00Z') }, 3)).toEqual([
      '2026-01-01T01:00:00.000Z',
      undefined,
    ]);
  });
  it('a rate counts from StartDate', () => {
    expect(fires('rate(10 minutes)', '2026-01-01T00:00:00Z', { startDateMs: ms('2026-01-01T05:03:00Z') }, 2)).toEqual([
      '2026-01-01T05:03:00.000Z',
      '2026-01-01T05:13:00.000Z',
    ]);
  });
  it('a rate without StartDate counts from its anchor (when it was set), first firing at the anchor', () => {
    const anchor = { rateAnchorMs: ms('2026-01-01T00:00:30Z') };
    expect(fires('rate(5 minutes)', '2026-01-01T00:00:00Z', anchor, 2)).toEqual(['2026-01-01T00:00:30.000Z', '2026-01-01T00:05:30.000Z']);
    expect(fires('rate(5 minutes)', '2026-01-01T01:07:00Z', anchor)).toEqual(['2026-01-01T01:10:30.000Z']);
  });
  it('one-time schedules ignore StartDate and EndDate', () => {
    const window = { startDateMs: ms('2027-01-01T00:00:00Z'), endDateMs: ms('2025-01-01T00:00:00Z') };
    expect(fires('at(2026-06-01T12:00:00)', '2026-01-01T00:00:00Z', window)).toEqual(['2026-06-01T12:00:00.000Z']);
  });
  it('an at() in the past is done', () => {
    expect(fires('at(2026-06-01T12:00:00)', '2026-06-01T12:00:00Z')).toEqual([undefined]);
  });
});

describe('flexible time window', () => {
  const arn = 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly';
  const scheduled = ms('2026-01-01T03:00:00Z');
  it('OFF fires at the scheduled time', () => {
    expect(fireTime(arn, scheduled, { Mode: 'OFF' })).toBe(scheduled);
    expect(windowEnd(scheduled, { Mode: 'OFF' })).toBe(scheduled + 60_000);
  });
  it('FLEXIBLE fires at the same point of the window every time it is computed', () => {
    const window = { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 } as const;
    expect(fireTime(arn, scheduled, window)).toBe(fireTime(arn, scheduled, window));
    expect(windowEnd(scheduled, window)).toBe(scheduled + 15 * 60_000);
  });
  it('FLEXIBLE spreads schedules and scheduled times over the window', () => {
    const window = { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 60 } as const;
    const points = new Set(Array.from({ length: 20 }, (_, i) => fireTime(`${arn}-${i}`, scheduled, window)));
    expect(points.size).toBeGreaterThan(15);
    const times = new Set(Array.from({ length: 20 }, (_, i) => fireTime(arn, scheduled + i * 3_600_000, window) - i * 3_600_000));
    expect(times.size).toBeGreaterThan(15);
  });
  it('the point is always inside [scheduled, scheduled + window)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 1, max: 1440 }), (name, at, minutes) => {
        const point = fireTime(name, at, { Mode: 'FLEXIBLE', MaximumWindowInMinutes: minutes });
        return point >= at && point < at + minutes * 60_000;
      }),
    );
  });
  it.each([
    ['FLEXIBLE without a window', { Mode: 'FLEXIBLE' }],
    ['OFF with a window', { Mode: 'OFF', MaximumWindowInMinutes: 5 }],
  ])('%s is refused', (_name, window) => {
    expect(() => validateFlexibleTimeWindow(window)).toThrow(ValidationException);
  });
});

describe('RunTask clientToken of a firing', () => {
  const arn = 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly';
  it('is the same for the same schedule and scheduled time, and fits ECS (1-64 characters)', () => {
    const token = runTaskClientToken(arn, ms('2026-01-01T03:00:00Z'));
    expect(token).toBe(runTaskClientToken(arn, ms('2026-01-01T03:00:00Z')));
    expect(token).toMatch(/^[0-9a-f]{64}$/);
  });
  it('differs for another scheduled time or another schedule', () => {
    const token = runTaskClientToken(arn, ms('2026-01-01T03:00:00Z'));
    expect(runTaskClientToken(arn, ms('2026-01-01T03:01:00Z'))).not.toBe(token);
    expect(runTaskClientToken(`${arn}2`, ms('2026-01-01T03:00:00Z'))).not.toBe(token);
  });
});

describe('cron property: the next fire time is the first matching instant after the given one', () => {
  const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata'];
  const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
  const subset = (max: number) => fc.uniqueArray(fc.integer({ min: 0, max }), { minLength: 1, maxLength: 4 });
  // Matching, written independently of the evaluator: the wall clock's fields are in the sets, and it
  // is the first instant showing that wall clock (offsets change in steps of 15 minutes, at most 3 h).
  const matches = (instant: number, zone: string, minutes: number[], hours: number[], weekdays: number[] | undefined) => {
    if (instant % 60_000 !== 0) return false;
    const local = localTimeAt(instant, zone);
    const weekday = new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay() + 1;
    if (!minutes.includes(local.minute) || !hours.includes(local.hour)) return false;
    if (weekdays && !weekdays.includes(weekday)) return false;
    for (let back = 15; back <= 180; back += 15) {
      const earlier = localTimeAt(instant - back * 60_000, zone);
      if (JSON.stringify(earlier) === JSON.stringify(local)) return false;
    }
    return true;
  };
  it('holds for random minutes, hours and weekdays in zones with DST (including half-hour DST)', () => {
    fc.assert(
      fc.property(
        subset(59),
        subset(23),
        fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
        fc.constantFrom(...ZONES),
        // Around the 2026 changes as well as anywhere in 2025-2027.
        fc.oneof(
          fc.integer({ min: ms('2025-01-01T00:00:00Z'), max: ms('2027-12-31T00:00:00Z') }),
          fc.constantFrom(ms('2026-03-08T05:00:00Z'), ms('2026-11-01T04:30:00Z'), ms('2026-03-29T00:00:00Z'), ms('2026-10-25T00:10:00Z'), ms('2026-04-04T14:00:00Z'), ms('2026-10-03T14:40:00Z')),
        ),
        (minutes, hours, weekdays, zone, after) => {
          const dow = weekdays ? weekdays.map((day) => WEEKDAYS[day - 1]).join(',') : '?';
          const cron = parseCron(`${minutes.join(',')} ${hours.join(',')} ${weekdays ? '?' : '*'} * ${dow} *`);
          const first = nextCronTime(cron, after, zone)!;
          const second = nextCronTime(cron, first, zone)!;
          expect(first).toBeGreaterThan(after);
          expect(second).toBeGreaterThan(first);
          expect(matches(first, zone, minutes, hours, weekdays)).toBe(true);
          expect(matches(second, zone, minutes, hours, weekdays)).toBe(true);
          // Every zone's offset is a multiple of 15 minutes, so only these UTC minutes can match.
          const residues = new Set(minutes.map((minute) => minute % 15));
          for (let minute = Math.floor(after / 60_000) + 1; minute * 60_000 < second; minute++) {
            if (!residues.has(minute % 15)) continue;
            const instant = minute * 60_000;
            if (instant !== first) expect(matches(instant, zone, minutes, hours, weekdays)).toBe(false);
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
