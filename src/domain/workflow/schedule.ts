/**
 * When a date-triggered workflow is due. Cron Triggers run in UTC and may fire late or twice, so
 * instead of "is it exactly HH:MM" the question is "which occurrence is due today, if any": the
 * answer (a UTC date) is the idempotency key the pipeline stores per (workflow, customer, date).
 *
 * An occurrence stays due from `at` until UTC midnight, so a late or repeated cron run on the same
 * day finds the same date. Days on which no cron run happened after `at` are not caught up: a
 * birthday reward sent three days late is worse than none, and a backlog after an outage would
 * otherwise fire all at once.
 */
import {
  type CalendarDate,
  calendarDateOf,
  clampDay,
  compareDays,
  formatDate,
  isoWeekday,
  parseDateOnly,
  sameDay,
  secondOfDay,
} from "./calendar";
import type { DateTrigger } from "./document";

function occursOn(trigger: DateTrigger, anchor: CalendarDate | undefined, today: CalendarDate): boolean {
  // The anchor is also the first occurrence: nothing is due before it.
  if (anchor && compareDays(today, anchor) < 0) return false;
  switch (trigger.repeat) {
    case "daily":
      return true;
    case "once":
      return anchor !== undefined && sameDay(anchor, today);
    case "weekly":
      return anchor !== undefined && isoWeekday(anchor) === isoWeekday(today);
    case "monthly":
      // The 31st runs on the last day of shorter months.
      return anchor !== undefined && clampDay(today.year, today.month, anchor.day).day === today.day;
    case "yearly":
      // Feb 29 runs on Feb 28 in non-leap years.
      return (
        anchor !== undefined &&
        anchor.month === today.month &&
        clampDay(today.year, anchor.month, anchor.day).day === today.day
      );
    default:
      return false;
  }
}

/** The UTC date (YYYY-MM-DD) of the occurrence due at `now` (Unix seconds), or undefined. */
export function dueOccurrence(trigger: DateTrigger, now: number): string | undefined {
  const [hours, minutes] = trigger.at.split(":").map(Number);
  if (hours === undefined || minutes === undefined || !Number.isFinite(hours) || !Number.isFinite(minutes))
    return undefined;
  if (secondOfDay(now) < hours * 3600 + minutes * 60) return undefined;
  const anchor = trigger.date === undefined ? undefined : parseDateOnly(trigger.date);
  if (trigger.date !== undefined && !anchor) return undefined;
  const today = calendarDateOf(now);
  return occursOn(trigger, anchor, today) ? formatDate(today) : undefined;
}
