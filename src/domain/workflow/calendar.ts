/**
 * UTC calendar arithmetic shared by date filters and date triggers. Cron runs in UTC and Antavo
 * sends `birth_date` as a bare `YYYY-MM-DD`, so every comparison happens on UTC calendar days; doing
 * it with plain integers (not local-time Date methods) keeps results independent of the runtime's zone.
 */

export interface CalendarDate {
  year: number;
  /** 1-12 */
  month: number;
  /** 1-31 */
  day: number;
}

const SECONDS_PER_DAY = 86_400;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
/**
 * Unix seconds beyond this are year 5138+: such a number is almost certainly milliseconds
 * (DESIGN invariant 6), and reading it as seconds would silently mean "forever".
 */
export const MAX_UNIX_SECONDS = 100_000_000_000;
const NUMERIC = /^\d+(\.\d+)?$/;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isValidDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** A strict `YYYY-MM-DD` that names a real day (no 2023-02-29). */
export function parseDateOnly(text: string): CalendarDate | undefined {
  const match = DATE_ONLY.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return isValidDate(year, month, day) ? { year, month, day } : undefined;
}

/**
 * ISO-8601 date or date-time to Unix seconds. A date-time without an offset is read as UTC rather
 * than left to the runtime's local zone.
 */
export function parseIsoInstant(text: string): number | undefined {
  const match = DATE_TIME.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (!isValidDate(year, month, day)) return undefined;
  const [hour, minute, second] = [Number(match[4] ?? 0), Number(match[5] ?? 0), Number(match[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = match[7];
  const utc = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
  if (!zone || zone.toUpperCase() === "Z") return utc;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return utc - sign * offsetMinutes * 60;
}

/** Unix seconds, or an ISO-8601 string; anything else (including millisecond-sized numbers) is undefined. */
export function parseInstant(value: unknown): number | undefined {
  if (typeof value === "number")
    return Number.isFinite(value) && value >= 0 && value < MAX_UNIX_SECONDS ? value : undefined;
  if (typeof value === "string") return parseIsoInstant(value);
  return undefined;
}

/**
 * A number or numeric text as Unix seconds, a value past MAX_UNIX_SECONDS read as milliseconds
 * (fractions kept); NaN when the value is not numeric, so the caller can try ISO-8601 instead.
 */
function numericSeconds(value: unknown): number {
  const numeric =
    typeof value === "number" ? value : typeof value === "string" && NUMERIC.test(value.trim()) ? Number(value) : NaN;
  return numeric >= MAX_UNIX_SECONDS ? numeric / 1000 : numeric;
}

function isoSeconds(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const instant = parseIsoInstant(value);
  return instant === undefined ? undefined : Math.floor(instant);
}

/**
 * A point in time as people and programs write it: Unix seconds or milliseconds (a number or numeric
 * text; a value past MAX_UNIX_SECONDS is milliseconds), or ISO-8601. Answers whole Unix seconds
 * (invariant 6). The epoch itself is a valid answer, e.g. a window "since 0".
 */
export function parseUnixTime(value: unknown): number | undefined {
  const seconds = numericSeconds(value);
  if (Number.isNaN(seconds)) return isoSeconds(value);
  return seconds >= 0 && seconds < MAX_UNIX_SECONDS ? Math.floor(seconds) : undefined;
}

/**
 * An event time as senders write it: `parseUnixTime`, except that a number at or before the epoch
 * is refused: a sender writing `0` means it had no time, not 1970.
 */
export function parseEventTime(value: unknown): number | undefined {
  const seconds = numericSeconds(value);
  if (Number.isNaN(seconds)) return isoSeconds(value);
  return seconds > 0 && seconds < MAX_UNIX_SECONDS ? Math.floor(seconds) : undefined;
}

export function calendarDateOf(unixSeconds: number): CalendarDate {
  const date = new Date(Math.floor(unixSeconds) * 1000);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/** Seconds since UTC midnight. */
export function secondOfDay(unixSeconds: number): number {
  const whole = Math.floor(unixSeconds);
  return ((whole % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
}

/**
 * A date attribute as a calendar day: `YYYY-MM-DD` as written (no zone shift, so a birthday never
 * moves a day), an ISO date-time or Unix seconds as its UTC day.
 */
export function toCalendarDate(value: unknown): CalendarDate | undefined {
  if (typeof value === "string") {
    const dateOnly = parseDateOnly(value.trim());
    if (dateOnly) return dateOnly;
  }
  const instant = parseInstant(value);
  return instant === undefined ? undefined : calendarDateOf(instant);
}

export function formatDate({ year, month, day }: CalendarDate): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

export function addDays(date: CalendarDate, days: number): CalendarDate {
  const ms = Date.UTC(date.year, date.month - 1, date.day) + days * SECONDS_PER_DAY * 1000;
  return calendarDateOf(ms / 1000);
}

/** ISO weekday: Monday = 1 … Sunday = 7. */
export function isoWeekday(date: CalendarDate): number {
  const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

/**
 * The day a recurring month-day falls on in `year`/`month`: a day past the month's end is clamped to
 * its last day, so Feb 29 becomes Feb 28 in non-leap years and the 31st becomes the 30th in April.
 */
export function clampDay(year: number, month: number, day: number): CalendarDate {
  return { year, month, day: Math.min(day, daysInMonth(year, month)) };
}

/** Whether `date`'s month and day (year ignored) fall on `day`, with leap-day clamping. */
export function isAnniversaryOn(date: CalendarDate, day: CalendarDate): boolean {
  if (date.month !== day.month) return false;
  return clampDay(day.year, date.month, date.day).day === day.day;
}

export function sameDay(a: CalendarDate, b: CalendarDate): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day;
}

export function compareDays(a: CalendarDate, b: CalendarDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}
