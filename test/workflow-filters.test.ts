import { describe, expect, it } from "vitest";
import type { WorkflowFilter } from "../src/domain/workflow/document";
import { evaluateFilter, evaluateFilters } from "../src/domain/workflow/filters";

const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`) / 1000;
const now = day("2025-06-15");

/** Filters as stored JSON: wrong types included on purpose, as a hand-edited row could have. */
const customerFilter = (operator: string, value?: unknown, attribute = "value") =>
  ({ type: "customer_attribute", attribute, operator, value }) as WorkflowFilter;

function check(operator: string, attribute: unknown, value?: unknown, at = now) {
  const customer = attribute === undefined ? {} : { value: attribute };
  return evaluateFilter(customerFilter(operator, value), { customer, now: at });
}

describe("filter operators", () => {
  it("equals compares numbers loosely and everything else strictly", () => {
    expect(check("equals", "Gold", "Gold")).toBe(true);
    expect(check("equals", "gold", "Gold")).toBe(false);
    expect(check("equals", "12.50", 12.5)).toBe(true);
    expect(check("equals", 10, "10")).toBe(true);
    expect(check("equals", "0x10", 16)).toBe(false);
    expect(check("equals", true, "true")).toBe(false);
    expect(check("equals", { a: 1 }, "x")).toBe(false);
    expect(check("equals", undefined, "Gold")).toBe(false);
    expect(check("equals", null, "Gold")).toBe(false);
  });

  it("not_equals is the only comparison a missing attribute satisfies", () => {
    expect(check("not_equals", "Gold", "Silver")).toBe(true);
    expect(check("not_equals", "5", 5)).toBe(false);
    expect(check("not_equals", undefined, "Gold")).toBe(true);
    expect(check("not_equals", null, "Gold")).toBe(true);
  });

  it("greater_than / less_than order numbers and numeric strings", () => {
    expect(check("greater_than", 150, 100)).toBe(true);
    expect(check("greater_than", 100, 100)).toBe(false);
    expect(check("greater_than", "150.5", "99")).toBe(true);
    expect(check("less_than", "9", "10")).toBe(true); // numeric, not lexicographic
    expect(check("less_than", " 9 ", 10)).toBe(true);
  });

  it("greater_than / less_than order ISO dates, else fail", () => {
    expect(check("greater_than", "2025-06-02", "2025-06-01")).toBe(true);
    expect(check("less_than", "2025-06-01T10:00:00+02:00", "2025-06-01T09:00:00Z")).toBe(true);
    expect(check("greater_than", "Gold", "Silver")).toBe(false);
    expect(check("less_than", "Gold", "Silver")).toBe(false);
    expect(check("greater_than", 1_750_000_000, "2025-01-01")).toBe(false);
    expect(check("greater_than", true, 0)).toBe(false);
    expect(check("greater_than", [5], 1)).toBe(false);
    expect(check("greater_than", undefined, 1)).toBe(false);
    expect(check("less_than", undefined, 1)).toBe(false);
  });

  it("contains finds substrings and array members", () => {
    expect(check("contains", "vip-gold", "gold")).toBe(true);
    expect(check("contains", "room 42", 42)).toBe(true);
    expect(check("contains", ["a", "b"], "b")).toBe(true);
    expect(check("contains", ["1", "2"], 2)).toBe(true);
    expect(check("contains", ["a", "b"], "c")).toBe(false);
    expect(check("contains", { b: 1 }, "b")).toBe(false);
    expect(check("contains", 1234, "23")).toBe(false);
    expect(check("contains", "abc", { x: 1 })).toBe(false);
    expect(check("contains", undefined, "a")).toBe(false);
  });

  it("in checks membership of a list", () => {
    expect(check("in", "Gold", ["Silver", "Gold"])).toBe(true);
    expect(check("in", "3", [1, 2, 3])).toBe(true);
    expect(check("in", "Bronze", ["Silver", "Gold"])).toBe(false);
    expect(check("in", ["Gold"], ["Gold"])).toBe(false);
    expect(check("in", "Gold", "Gold")).toBe(false); // not a list: no match, no throw
    expect(check("in", undefined, ["Gold"])).toBe(false);
  });

  it("exists tests presence; null counts as absent", () => {
    expect(check("exists", "", true)).toBe(true);
    expect(check("exists", 0, true)).toBe(true);
    expect(check("exists", undefined, true)).toBe(false);
    expect(check("exists", null, true)).toBe(false);
    expect(check("exists", undefined, false)).toBe(true);
    expect(check("exists", "x", false)).toBe(false);
  });

  describe("in_date", () => {
    it("today matches month and day, ignoring the year", () => {
      expect(check("in_date", "1990-06-15", "today")).toBe(true);
      expect(check("in_date", "1990-06-14", "today")).toBe(false);
      expect(check("in_date", "1990-07-15", "today")).toBe(false);
      expect(check("in_date", "1990-06-15", "today", day("2025-06-15") - 12 * 3600)).toBe(true); // 00:00 UTC
      expect(check("in_date", "1990-06-15", "today", day("2025-06-15") + 11 * 3600 + 3599)).toBe(true); // 23:59:59 UTC
      expect(check("in_date", "1990-06-15", "today", day("2025-06-16") - 12 * 3600)).toBe(false);
    });

    it("reads date-times and Unix seconds as UTC days", () => {
      expect(check("in_date", "2020-06-15T23:30:00Z", "today")).toBe(true);
      expect(check("in_date", "2020-06-16T01:30:00+02:00", "today")).toBe(true); // 2020-06-15T23:30Z
      expect(check("in_date", "2020-06-15T23:30:00-02:00", "today")).toBe(false); // 2020-06-16T01:30Z
      expect(check("in_date", day("2020-06-15"), "today")).toBe(true);
    });

    it("never matches what is not a date", () => {
      expect(check("in_date", "1990-02-30", "today")).toBe(false);
      expect(check("in_date", "June 15", "today")).toBe(false);
      expect(check("in_date", true, "today")).toBe(false);
      expect(check("in_date", { y: 1990 }, "today")).toBe(false);
      expect(check("in_date", "1990-06-15", "yesterday")).toBe(false);
      expect(check("in_date", undefined, "today")).toBe(false);
    });

    it("matches Feb 29 birthdays on Feb 28 in non-leap years only", () => {
      expect(check("in_date", "2000-02-29", "today", day("2025-02-28"))).toBe(true);
      expect(check("in_date", "2000-02-29", "today", day("2025-03-01"))).toBe(false);
      expect(check("in_date", "2000-02-29", "today", day("2024-02-29"))).toBe(true);
      expect(check("in_date", "2000-02-29", "today", day("2024-02-28"))).toBe(false);
      expect(check("in_date", "2000-02-29", "today", day("2100-02-28"))).toBe(true); // 2100 is not a leap year
      expect(check("in_date", "1999-02-28", "today", day("2024-02-29"))).toBe(false);
    });

    it("this_week is the ISO week (Monday to Sunday, UTC), across a year boundary", () => {
      const wednesday = day("2025-12-31"); // week of Mon 2025-12-29 .. Sun 2026-01-04
      expect(check("in_date", "1990-12-29", "this_week", wednesday)).toBe(true);
      expect(check("in_date", "1990-01-04", "this_week", wednesday)).toBe(true);
      expect(check("in_date", "1990-12-28", "this_week", wednesday)).toBe(false);
      expect(check("in_date", "1990-01-05", "this_week", wednesday)).toBe(false);
      const sunday = day("2026-01-04");
      expect(check("in_date", "1990-12-29", "this_week", sunday)).toBe(true);
      expect(check("in_date", "1990-01-05", "this_week", sunday)).toBe(false);
    });

    it("this_week finds a leap-day birthday in a non-leap year's Feb 28 week", () => {
      expect(check("in_date", "2000-02-29", "this_week", day("2025-03-02"))).toBe(true); // Sun; week starts Mon Feb 24
      expect(check("in_date", "2000-02-29", "this_week", day("2025-03-03"))).toBe(false);
    });

    it("this_month matches the month", () => {
      expect(check("in_date", "1990-06-30", "this_month")).toBe(true);
      expect(check("in_date", "1990-07-01", "this_month")).toBe(false);
    });
  });
});

describe("filter attributes", () => {
  const event = { tier: "Gold", customer: "c-1", data: { nested: 3 } };
  const customer = { tiers: [{ name: "Silver" }], properties: { store: "Oslo" } };

  it("event_attribute reads the event context, customer_attribute the snapshot (with tier)", () => {
    const tierFrom = (type: string) =>
      ({ type, attribute: "tier", operator: "equals", value: "Gold" }) as WorkflowFilter;
    expect(evaluateFilter(tierFrom("event_attribute"), { event, customer, now })).toBe(true);
    expect(evaluateFilter(tierFrom("customer_attribute"), { event, customer, now })).toBe(false);
    const silver = {
      type: "customer_attribute",
      attribute: "tier",
      operator: "equals",
      value: "Silver",
    } as WorkflowFilter;
    expect(evaluateFilter(silver, { event, customer, now })).toBe(true);
    const store = {
      type: "customer_attribute",
      attribute: "properties.store",
      operator: "equals",
      value: "Oslo",
    } as WorkflowFilter;
    expect(evaluateFilter(store, { customer, now })).toBe(true);
  });

  it("event_attribute without an event does not match", () => {
    const filter = { type: "event_attribute", attribute: "tier", operator: "equals", value: "Gold" } as WorkflowFilter;
    expect(evaluateFilter(filter, { customer, now })).toBe(false);
  });

  it("all filters must pass", () => {
    const pass = { type: "event_attribute", attribute: "tier", operator: "equals", value: "Gold" } as WorkflowFilter;
    const fail = {
      type: "event_attribute",
      attribute: "data.nested",
      operator: "greater_than",
      value: 5,
    } as WorkflowFilter;
    expect(evaluateFilters([], { event, customer, now })).toBe(true);
    expect(evaluateFilters([pass], { event, customer, now })).toBe(true);
    expect(evaluateFilters([pass, fail], { event, customer, now })).toBe(false);
  });
});
