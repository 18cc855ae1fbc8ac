/**
 * EventBridge's six-field cron (`minutes hours day-of-month month day-of-week year`, the Quartz
 * dialect without seconds) and its next match in a time zone.
 *
 * Written here rather than taken from a library: cron-parser (the maintained JavaScript choice) has no
 * `W`, no year field and numbers weekdays from 0 = Sunday, so using it would mean rewriting the
 * expression and filtering its answers, which is more code than the evaluator below.
 *
 * Daylight saving, as EventBridge Scheduler documents it: a wall-clock time that does not exist
 * (spring forward) is skipped; one that happens twice (fall back) fires once, at its first occurrence.
 */
import { dayOfWeek, daysInMonth, instantsOf, localTimeAt, wallClockMs, type LocalDateTime } from './zoned-time';

export class CronSyntaxError extends Error {
  override readonly name = 'CronSyntaxError';
}

type DayOfMonthRule =
  | { readonly kind: 'days'; readonly days: ReadonlySet<number> }
  | { readonly kind: 'last' }
  | { readonly kind: 'lastWeekday' }
  | { readonly kind: 'nearestWeekday'; readonly day: number };

type DayOfWeekRule =
  | { readonly kind: 'days'; readonly days: ReadonlySet<number> }
  | { readonly kind: 'lastOf'; readonly weekday: number }
  | { readonly kind: 'nth'; readonly weekday: number; readonly nth: number };

export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** Undefined for `?`: exactly one of the two day fields is `?`. */
  readonly dayOfMonth?: DayOfMonthRule;
  readonly months: ReadonlySet<number>;
  readonly dayOfWeek?: DayOfWeekRule;
  readonly years: readonly number[];
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59 };
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23 };
const DAYS_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTHS: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const DAYS_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] };
const YEARS: FieldSpec = { name: 'year', min: 1970, max: 2199 };

/** Parses the text inside `cron(...)`; throws CronSyntaxError saying what is wrong. */
export function parseCron(fieldsText: string): CronSchedule {
  const fields = fieldsText.trim().split(/\s+/);
  if (fields.length !== 6) throw new CronSyntaxError(`expected 6 fields, found ${fields.length}`);
  const [minute, hour, dom, month, dow, year] = fields;
  if ((dom === '?') === (dow === '?')) {
    throw new CronSyntaxError('exactly one of day-of-month and day-of-week must be ?');
  }
  return {
    minutes: sorted(parseList(minute, MINUTES)),
    hours: sorted(parseList(hour, HOURS)),
    dayOfMonth: dom === '?' ? undefined : parseDayOfMonth(dom),
    months: parseList(month, MONTHS),
    dayOfWeek: dow === '?' ? undefined : parseDayOfWeek(dow),
    years: sorted(parseList(year, YEARS)),
  };
}

function parseDayOfMonth(text: string): DayOfMonthRule {
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'last' };
  if (upper === 'LW') return { kind: 'lastWeekday' };
  const weekday = /^(\d{1,2})W$/.exec(upper);
  if (weekday) return { kind: 'nearestWeekday', day: valueInRange(weekday[1], DAYS_OF_MONTH) };
  return { kind: 'days', days: parseList(text, DAYS_OF_MONTH) };
}

function parseDayOfWeek(text: string): DayOfWeekRule {
  const upper = text.toUpperCase();
  // `L` alone is the last day of the week, Saturday.
  if (upper === 'L') return { kind: 'days', days: new Set([7]) };
  const last = /^([A-Z0-9]+)L$/.exec(upper);
  if (last) return { kind: 'lastOf', weekday: value(last[1], DAYS_OF_WEEK) };
  if (upper.includes('#')) {
    // Only one `#` expression is allowed in the field ("3#1,6#3" is invalid).
    const nth = /^([A-Z0-9]+)#([1-5])$/.exec(upper);
    if (!nth) throw new CronSyntaxError(`day-of-week ${text}: # takes one weekday and an occurrence 1-5`);
    return { kind: 'nth', weekday: value(nth[1], DAYS_OF_WEEK), nth: Number(nth[2]) };
  }
  return { kind: 'days', days: parseList(text, DAYS_OF_WEEK) };
}

/** `*`, `?` excluded: lists of values, ranges (`a-b`, wrapping past the maximum) and steps (`x/n`). */
function parseList(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText, ...extra] = item.split('/');
    if (extra.length > 0) throw new CronSyntaxError(`${spec.name} ${text}: more than one /`);
    const step = stepText === undefined ? 1 : positiveInteger(stepText, spec);
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.max;
    } else if (range.includes('-')) {
      const [a, b, ...more] = range.split('-');
      if (more.length > 0) throw new CronSyntaxError(`${spec.name} ${text}: bad range`);
      from = value(a, spec);
      to = value(b, spec);
    } else {
      from = value(range, spec);
      // `5/15` runs from 5 to the end of the field; a bare value is just itself.
      to = stepText === undefined ? from : spec.max;
    }
    const span = to >= from ? to - from : to + (spec.max - spec.min + 1) - from;
    for (let offset = 0; offset <= span; offset += step) {
      values.add(((from - spec.min + offset) % (spec.max - spec.min + 1)) + spec.min);
    }
  }
  return values;
}

function value(text: string, spec: FieldSpec): number {
  const upper = text.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + spec.min;
  return valueInRange(text, spec);
}

function valueInRange(text: string, spec: FieldSpec): number {
  if (!/^\d{1,4}$/.test(text)) throw new CronSyntaxError(`${spec.name}: ${JSON.stringify(text)} is not a value`);
  const number = Number(text);
  if (number < spec.min || number > spec.max) {
    throw new CronSyntaxError(`${spec.name}: ${number} is outside ${spec.min}-${spec.max}`);
  }
  return number;
}

function positiveInteger(text: string, spec: FieldSpec): number {
  if (!/^\d{1,4}$/.test(text) || Number(text) === 0) throw new CronSyntaxError(`${spec.name}: bad step ${text}`);
  return Number(text);
}

const sorted = (values: Set<number>) => [...values].sort((a, b) => a - b);

export function dayMatches(cron: CronSchedule, year: number, month: number, day: number): boolean {
  const last = daysInMonth(year, month);
  if (day > last) return false;
  const weekday = dayOfWeek(year, month, day);
  const dom = cron.dayOfMonth;
  if (dom) {
    switch (dom.kind) {
      case 'days':
        return dom.days.has(day);
      case 'last':
        return day === last;
      case 'lastWeekday':
        return day === nearestWeekday(year, month, last);
      case 'nearestWeekday':
        return dom.day <= last && day === nearestWeekday(year, month, dom.day);
    }
  }
  const dow = cron.dayOfWeek!;
  switch (dow.kind) {
    case 'days':
      return dow.days.has(weekday);
    case 'lastOf':
      return weekday === dow.weekday && day + 7 > last;
    case 'nth':
      return weekday === dow.weekday && Math.ceil(day / 7) === dow.nth;
  }
}

/** Quartz's `W`: the weekday nearest the given day, never leaving the month. */
function nearestWeekday(year: number, month: number, day: number): number {
  const last = daysInMonth(year, month);
  const weekday = dayOfWeek(year, month, day);
  if (weekday === 7) return day === 1 ? 3 : day - 1; // Saturday: Friday, or Monday the 3rd
  if (weekday === 1) return day === last ? day - 2 : day + 1; // Sunday: Monday, or Friday before
  return day;
}

// A later instant can read an earlier wall clock after a fall-back by at most the size of the change
// (one hour in practice, two in a few historical zones): candidates this far before the wall clock
// at `after` must still be looked at.
const FALL_BACK_SLACK_MS = 3 * 60 * 60 * 1000;

/**
 * The first instant strictly after `afterMs` at which the cron fires in `timeZone`, or undefined if it
 * never does again (a past year, February 30th).
 */
export function nextCronTime(cron: CronSchedule, afterMs: number, timeZone: string): number | undefined {
  const start = localTimeAt(afterMs, timeZone);
  const earliestWall = wallClockMs(start) - FALL_BACK_SLACK_MS;
  const firstDay = localTimeAt(afterMs - FALL_BACK_SLACK_MS, timeZone);
  for (const year of cron.years) {
    if (year < firstDay.year) continue;
    for (let month = 1; month <= 12; month++) {
      if (!cron.months.has(month)) continue;
      if (year === firstDay.year && month < firstDay.month) continue;
      const last = daysInMonth(year, month);
      const fromDay = year === firstDay.year && month === firstDay.month ? firstDay.day : 1;
      for (let day = fromDay; day <= last; day++) {
        if (!dayMatches(cron, year, month, day)) continue;
        const found = firstFiringOnDay(cron, { year, month, day }, afterMs, earliestWall, timeZone);
        if (found !== undefined) return found;
      }
    }
  }
  return undefined;
}

function firstFiringOnDay(
  cron: CronSchedule,
  date: Pick<LocalDateTime, 'year' | 'month' | 'day'>,
  afterMs: number,
  earliestWall: number,
  timeZone: string,
): number | undefined {
  for (const hour of cron.hours) {
    if (wallClockMs({ ...date, hour, minute: 59, second: 0 }) < earliestWall) continue;
    for (const minute of cron.minutes) {
      const local = { ...date, hour, minute, second: 0 };
      if (wallClockMs(local) < earliestWall) continue;
      // No instant: skipped by a spring-forward gap. Two: only the first fires.
      const [first] = instantsOf(local, timeZone);
      if (first !== undefined && first > afterMs) return first;
    }
  }
  return undefined;
}
