import { describe, expect, it } from "vitest";
import type { DateTrigger } from "../src/domain/workflow/document";
import { dueOccurrence } from "../src/domain/workflow/schedule";

const at = (iso: string) => Date.parse(iso) / 1000;
const trigger = (repeat: DateTrigger["repeat"], time: string, date?: string): DateTrigger =>
  ({ type: "date", repeat, at: time, ...(date ? { date } : {}) }) as DateTrigger;

describe("dueOccurrence", () => {
  it("daily is due from `at` until UTC midnight, the same key when cron fires late or twice", () => {
    const daily = trigger("daily", "09:00");
    expect(dueOccurrence(daily, at("2025-06-15T08:59:59Z"))).toBeUndefined();
    expect(dueOccurrence(daily, at("2025-06-15T09:00:00Z"))).toBe("2025-06-15");
    expect(dueOccurrence(daily, at("2025-06-15T09:00:00Z"))).toBe("2025-06-15");
    expect(dueOccurrence(daily, at("2025-06-15T23:59:59Z"))).toBe("2025-06-15");
    expect(dueOccurrence(daily, at("2025-06-16T00:00:00Z"))).toBeUndefined();
    expect(dueOccurrence(trigger("daily", "00:00"), at("2025-06-16T00:00:00Z"))).toBe("2025-06-16");
  });

  it("daily with a date starts on that date", () => {
    const daily = trigger("daily", "09:00", "2025-06-15");
    expect(dueOccurrence(daily, at("2025-06-14T10:00:00Z"))).toBeUndefined();
    expect(dueOccurrence(daily, at("2025-06-15T10:00:00Z"))).toBe("2025-06-15");
    expect(dueOccurrence(daily, at("2025-07-01T10:00:00Z"))).toBe("2025-07-01");
  });

  it("once is due only on its date, and a missed day is not caught up", () => {
    const once = trigger("once", "18:30", "2025-06-15");
    expect(dueOccurrence(once, at("2025-06-15T18:29:00Z"))).toBeUndefined();
    expect(dueOccurrence(once, at("2025-06-15T21:00:00Z"))).toBe("2025-06-15");
    expect(dueOccurrence(once, at("2025-06-16T18:30:00Z"))).toBeUndefined();
    expect(dueOccurrence(once, at("2026-06-15T18:30:00Z"))).toBeUndefined();
  });

  it("weekly repeats on the anchor's weekday, from the anchor on", () => {
    const weekly = trigger("weekly", "09:00", "2025-06-02"); // a Monday
    expect(dueOccurrence(weekly, at("2025-06-02T09:00:00Z"))).toBe("2025-06-02");
    expect(dueOccurrence(weekly, at("2025-06-09T12:00:00Z"))).toBe("2025-06-09");
    expect(dueOccurrence(weekly, at("2025-06-10T12:00:00Z"))).toBeUndefined();
    expect(dueOccurrence(weekly, at("2025-05-26T12:00:00Z"))).toBeUndefined(); // a Monday before the anchor
    expect(dueOccurrence(weekly, at("2026-01-05T12:00:00Z"))).toBe("2026-01-05");
  });

  it("monthly repeats on the anchor's day, clamped to short months", () => {
    const monthly = trigger("monthly", "09:00", "2025-01-31");
    expect(dueOccurrence(monthly, at("2025-02-27T12:00:00Z"))).toBeUndefined();
    expect(dueOccurrence(monthly, at("2025-02-28T12:00:00Z"))).toBe("2025-02-28");
    expect(dueOccurrence(monthly, at("2025-03-30T12:00:00Z"))).toBeUndefined();
    expect(dueOccurrence(monthly, at("2025-03-31T12:00:00Z"))).toBe("2025-03-31");
    expect(dueOccurrence(monthly, at("2025-04-30T12:00:00Z"))).toBe("2025-04-30");
    expect(dueOccurrence(trigger("monthly", "09:00", "2024-01-30"), at("2024-02-29T12:00:00Z"))).toBe("2024-02-29");
    expect(dueOccurrence(trigger("monthly", "09:00", "2024-01-30"), at("2024-02-28T12:00:00Z"))).toBeUndefined();
    expect(dueOccurrence(trigger("monthly", "09:00", "2025-01-15"), at("2025-02-15T08:00:00Z"))).toBeUndefined();
  });

  it("yearly repeats on the anchor's month and day; Feb 29 falls on Feb 28 in non-leap years", () => {
    expect(dueOccurrence(trigger("yearly", "09:00", "2025-06-15"), at("2026-06-15T09:30:00Z"))).toBe("2026-06-15");
    expect(dueOccurrence(trigger("yearly", "09:00", "2025-06-15"), at("2026-07-15T09:30:00Z"))).toBeUndefined();
    const leap = trigger("yearly", "09:00", "2024-02-29");
    expect(dueOccurrence(leap, at("2025-02-28T10:00:00Z"))).toBe("2025-02-28");
    expect(dueOccurrence(leap, at("2025-03-01T10:00:00Z"))).toBeUndefined();
    expect(dueOccurrence(leap, at("2028-02-28T10:00:00Z"))).toBeUndefined();
    expect(dueOccurrence(leap, at("2028-02-29T10:00:00Z"))).toBe("2028-02-29");
  });
});
