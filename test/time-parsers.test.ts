/**
 * The "seconds or ISO" readers in domain/workflow/calendar, and which call sites take milliseconds:
 * event times and delivery-window bounds do (parseEventTime, parseUnixTime); workflow startsAt/endsAt
 * do not (parseInstant, as the document schema refuses them).
 */
import { describe, expect, it } from "vitest";
import { MAX_UNIX_SECONDS, parseEventTime, parseInstant, parseUnixTime } from "../src/domain/workflow/calendar";
import { workflowToForm } from "../src/ui/workflow-form";

const SECONDS = 1_767_225_600; // 2026-01-01T00:00:00Z
const ISO = "2026-01-01T00:00:00Z";

describe("parseUnixTime (delivery-window bounds)", () => {
  it.each([SECONDS, `${SECONDS}`, SECONDS * 1000, `${SECONDS * 1000}`, SECONDS * 1000 + 999, ISO, "2026-01-01T00:00"])(
    "reads %s as the same second",
    (value) => {
      expect(parseUnixTime(value)).toBe(SECONDS);
    },
  );

  it("keeps the epoch (a window since 0) and floors fractions", () => {
    expect(parseUnixTime(0)).toBe(0);
    expect(parseUnixTime("0")).toBe(0);
    expect(parseUnixTime(`${SECONDS}.9`)).toBe(SECONDS);
  });

  it.each([-1, "-1", "yesterday", "", "1e12", Number.NaN, Number.POSITIVE_INFINITY, MAX_UNIX_SECONDS * 1000, null, {}])(
    "refuses %s",
    (value) => {
      expect(parseUnixTime(value)).toBeUndefined();
    },
  );
});

describe("parseEventTime (webhook event times)", () => {
  it("agrees with parseUnixTime on seconds, milliseconds and ISO", () => {
    for (const value of [SECONDS, `${SECONDS * 1000}`, SECONDS * 1000, ISO])
      expect(parseEventTime(value)).toBe(SECONDS);
  });

  it("refuses a zero time: a sender writing 0 had no time", () => {
    expect(parseEventTime(0)).toBeUndefined();
    expect(parseEventTime("0")).toBeUndefined();
  });
});

describe("parseInstant and the workflow form (startsAt/endsAt refuse milliseconds)", () => {
  it("reads seconds and ISO but not milliseconds", () => {
    expect(parseInstant(SECONDS)).toBe(SECONDS);
    expect(parseInstant(ISO)).toBe(SECONDS);
    expect(parseInstant(SECONDS * 1000)).toBeUndefined();
  });

  it("shows seconds and ISO as the UTC datetime-local value, and milliseconds as written (not year 57,000)", () => {
    expect(workflowToForm({ startsAt: SECONDS, endsAt: ISO })).toMatchObject({
      startsAt: "2026-01-01T00:00",
      endsAt: "2026-01-01T00:00",
    });
    expect(workflowToForm({ startsAt: SECONDS * 1000, endsAt: "next monday" })).toMatchObject({
      startsAt: String(SECONDS * 1000),
      endsAt: "next monday",
    });
    expect(workflowToForm({ startsAt: null })).toMatchObject({ startsAt: "", endsAt: "" });
  });
});
