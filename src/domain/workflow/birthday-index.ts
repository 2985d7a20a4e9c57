/**
 * Which `MM-DD` keys of the customer mirror's birthday index (`customers.birth_month_day`, derived
 * from `birth_date`) can hold the customers a date workflow's `in_date` filter on `birth_date`
 * matches at a given time. A birthday scan then reads a few index ranges instead of every customer.
 * The keys must be a superset of what filters.ts matches, so the leap-day rule is repeated here:
 * on Feb 28 of a non-leap year, `02-29` birthdays are due too.
 */
import { addDays, type CalendarDate, calendarDateOf, daysInMonth, isLeapYear, isoWeekday } from "./calendar";
import type { WorkflowFilter } from "./document";

/** The loyalty field the mirror derives `birth_month_day` from (db/customer-queries.ts mirrorRow). */
export const INDEXED_BIRTH_FIELD = "birth_date";

const monthDay = (date: CalendarDate) => `${String(date.month).padStart(2, "0")}-${String(date.day).padStart(2, "0")}`;

/** The anniversary keys a calendar day stands for. */
function keysOn(day: CalendarDate): string[] {
  const keys = [monthDay(day)];
  if (day.month === 2 && day.day === 28 && !isLeapYear(day.year)) keys.push("02-29");
  return keys;
}

function daysOf(range: string, today: CalendarDate): CalendarDate[] {
  if (range === "today") return [today];
  if (range === "this_week") {
    const monday = addDays(today, 1 - isoWeekday(today));
    return Array.from({ length: 7 }, (_, offset) => addDays(monday, offset));
  }
  if (range === "this_month") {
    return Array.from({ length: daysInMonth(today.year, today.month) }, (_, index) => ({ ...today, day: index + 1 }));
  }
  return [];
}

/**
 * The sorted index keys to scan, or undefined when no filter can use the index (the scan then reads
 * every customer and the filters decide).
 */
export function birthdayIndexKeys(filters: readonly WorkflowFilter[], now: number): string[] | undefined {
  const filter = filters.find(
    (f) => f.type === "customer_attribute" && f.attribute === INDEXED_BIRTH_FIELD && f.operator === "in_date",
  );
  if (!filter) return undefined;
  const keys = new Set(daysOf(String(filter.value), calendarDateOf(now)).flatMap(keysOn));
  return [...keys].sort();
}
