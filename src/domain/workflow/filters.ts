/**
 * Workflow filters: every filter must pass. A filter is configuration typed by an admin against
 * data nobody validated, so a missing attribute or a wrong type is an ordinary "no match", never an
 * exception (only `not_equals` and `exists: false` are satisfied by a missing attribute).
 * Missing means undefined or null: Antavo sends null for unset profile fields.
 */
import { readLoyaltyField, readPath } from "../paths";
import { addDays, type CalendarDate, calendarDateOf, isAnniversaryOn, isoWeekday, toCalendarDate } from "./calendar";
import { compareOrdered, looselyEqual } from "./compare";
import type { WorkflowFilter } from "./document";

export interface FilterContext {
  /** The event context (engine.eventContext); absent for date-triggered workflows. */
  event?: Record<string, unknown>;
  customer: Record<string, unknown>;
  /** Unix seconds. */
  now: number;
}

export function readFilterAttribute(filter: WorkflowFilter, ctx: FilterContext): unknown {
  if (filter.type === "event_attribute") return readPath(ctx.event, filter.attribute);
  return readLoyaltyField(ctx.customer, filter.attribute);
}

function isMissing(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

/**
 * in_date compares anniversaries (the year is ignored), which is what birthdays need. A Feb 29
 * date falls on Feb 28 in non-leap years, so leap-day birthdays are not skipped three years in four.
 */
function inDate(value: unknown, range: unknown, now: number): boolean {
  const date = toCalendarDate(value);
  if (!date) return false;
  const today = calendarDateOf(now);
  if (range === "today") return isAnniversaryOn(date, today);
  if (range === "this_month") return date.month === today.month;
  if (range === "this_week") {
    // ISO week, Monday first; each day carries its own year so a week spanning New Year works.
    const monday = addDays(today, 1 - isoWeekday(today));
    const week: CalendarDate[] = Array.from({ length: 7 }, (_, offset) => addDays(monday, offset));
    return week.some((day) => isAnniversaryOn(date, day));
  }
  return false;
}

function contains(attribute: unknown, value: unknown): boolean {
  if (typeof attribute === "string") {
    return (
      (typeof value === "string" || typeof value === "number" || typeof value === "boolean") &&
      attribute.includes(String(value))
    );
  }
  if (Array.isArray(attribute)) return attribute.some((item) => looselyEqual(item, value));
  return false;
}

export function evaluateFilter(filter: WorkflowFilter, ctx: FilterContext): boolean {
  const attribute = readFilterAttribute(filter, ctx);
  if (filter.operator === "exists") return !isMissing(attribute) === (filter.value !== false);
  if (isMissing(attribute)) return filter.operator === "not_equals";
  switch (filter.operator) {
    case "equals":
      return looselyEqual(attribute, filter.value);
    case "not_equals":
      return !looselyEqual(attribute, filter.value);
    case "greater_than": {
      const order = compareOrdered(attribute, filter.value);
      return order !== undefined && order > 0;
    }
    case "less_than": {
      const order = compareOrdered(attribute, filter.value);
      return order !== undefined && order < 0;
    }
    case "contains":
      return contains(attribute, filter.value);
    case "in":
      return Array.isArray(filter.value) && filter.value.some((item: unknown) => looselyEqual(attribute, item));
    case "in_date":
      return inDate(attribute, filter.value, ctx.now);
    default:
      return false;
  }
}

export function evaluateFilters(filters: readonly WorkflowFilter[], ctx: FilterContext): boolean {
  return filters.every((filter) => evaluateFilter(filter, ctx));
}
