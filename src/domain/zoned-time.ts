/**
 * Wall-clock time in an IANA time zone, on the platform's Intl (its tz database ships with Node), so
 * schedules follow the zone's rules across daylight saving changes without a tz library.
 */

/** A wall-clock reading: month 1-12, day 1-31, hour 0-23. */
export interface LocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True for a zone name the platform's tz database knows (`UTC`, `Europe/Berlin`, ...). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `timeZone` at `instantMs` (milliseconds are dropped). */
export function localTimeAt(instantMs: number, timeZone: string): LocalDateTime {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year,
    month: fields.month,
    day: fields.day,
    hour: fields.hour,
    minute: fields.minute,
    second: fields.second,
  };
}

/** The wall clock read as if it were UTC: a number that orders and subtracts like local time. */
export const wallClockMs = (local: LocalDateTime) =>
  Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);

/** Offset of the zone from UTC at an instant, in ms (east positive). */
const offsetAt = (instantMs: number, timeZone: string) => {
  const whole = instantMs - (((instantMs % 1000) + 1000) % 1000);
  return wallClockMs(localTimeAt(whole, timeZone)) - whole;
};

// Zone offsets never change twice within this span (real transitions are months apart), so the
// offsets seen on either side of a wall-clock time are all the candidates there are.
const AROUND_MS = 36 * 60 * 60 * 1000;

/**
 * Every instant at which the zone's clock reads `local`, earliest first: none in a spring-forward gap,
 * two in a fall-back overlap, one otherwise.
 */
export function instantsOf(local: LocalDateTime, timeZone: string): number[] {
  const naive = wallClockMs(local);
  const offsets = new Set([offsetAt(naive - AROUND_MS, timeZone), offsetAt(naive, timeZone), offsetAt(naive + AROUND_MS, timeZone)]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const candidate = naive - offset;
    if (wallClockMs(localTimeAt(candidate, timeZone)) === naive) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * One instant for a wall-clock time that must happen (an `at()` schedule): in an overlap the earlier
 * one; in a gap the time read with the offset from before the change, which lands just after the gap
 * (what java.time and Temporal's "compatible" choice do).
 */
export function resolveLocal(local: LocalDateTime, timeZone: string): number {
  const instants = instantsOf(local, timeZone);
  if (instants.length > 0) return instants[0];
  const naive = wallClockMs(local);
  return naive - offsetAt(naive - AROUND_MS, timeZone);
}

export const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Day of week of a calendar date, 1 = Sunday ... 7 = Saturday (EventBridge's numbering). */
export const dayOfWeek = (year: number, month: number, day: number) => new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
