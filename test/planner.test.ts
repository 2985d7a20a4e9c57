import { describe, expect, it } from "vitest";
import type { SyncConfig } from "../src/domain/config";
import { DEFAULT_SETTINGS } from "../src/domain/config";
import type { RelayEvent } from "../src/domain/event";
import { mergeSnapshot, planSync, toHardIdValue } from "../src/domain/planner";

const config: SyncConfig = {
  mapping: {
    hardId: { loyaltyField: "email", remoteId: "registered" },
    fields: [
      { loyaltyField: "score", remoteField: "loyalty_points" },
      { loyaltyField: "tier", remoteField: "loyalty_tier" },
      { loyaltyField: "properties.store", remoteField: "favourite_store" },
    ],
  },
  settings: {
    ...DEFAULT_SETTINGS,
    asyncSync: true,
    events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }],
  },
};

const event = (overrides: Partial<RelayEvent> = {}): RelayEvent => ({
  id: "e1",
  action: "opt_in",
  customerId: "c1",
  customer: { email: "  Mixed.Case@Example.COM ", score: 10, unmapped_field: "ignored", tiers: [{ name: "Gold" }] },
  data: { points: 5 },
  createdAt: 1_767_225_600,
  receivedAt: 1_767_225_601,
  ...overrides,
});

const plan = (e: RelayEvent, stored?: Record<string, unknown>) => planSync(config, e, mergeSnapshot(stored, e));

describe("planner", () => {
  it("keeps the hard ID's case and trims whitespace", () => {
    const [customer] = plan(event()).commands;
    expect(customer?.command.data.customer_ids).toEqual({ registered: "Mixed.Case@Example.COM" });
  });

  it("sends Unix seconds, never milliseconds", () => {
    const commands = plan(event()).commands.map((c) => c.command);
    expect(commands[0]).toMatchObject({ name: "customers", data: { update_timestamp: 1_767_225_600 } });
    expect(commands[1]).toMatchObject({ name: "customers/events", data: { timestamp: 1_767_225_600 } });
  });

  it("sends mapped fields only, and reads tier and nested paths", () => {
    const [customer] = plan(event(), { properties: { store: "Oslo" } }).commands;
    expect(customer?.command.data).toMatchObject({
      properties: { loyalty_points: 10, loyalty_tier: "Gold", favourite_store: "Oslo" },
    });
    expect(JSON.stringify(customer)).not.toContain("unmapped_field");
  });

  it("produces no event command for an action that is not selected", () => {
    const commands = plan(event({ action: "point_add" })).commands;
    expect(commands.map((c) => c.command.name)).toEqual(["customers"]);
  });

  it("names the selected event by its remote name with the event data as properties", () => {
    const eventCommand = plan(event()).commands.find((c) => c.command.name === "customers/events");
    expect(eventCommand).toEqual({
      source: { kind: "event_sync", action: "opt_in" },
      command: {
        name: "customers/events",
        data: {
          customer_ids: { registered: "Mixed.Case@Example.COM" },
          event_type: "loyalty_opt_in",
          timestamp: 1_767_225_600,
          properties: { points: 5, antavo_event_id: "e1" },
        },
      },
    });
  });

  it("falls back to the mirrored snapshot for the hard ID and warns when there is none", () => {
    const withoutEmail = event({ customer: undefined });
    expect(plan(withoutEmail, { email: "stored@example.com" }).commands[0]?.command.data.customer_ids).toEqual({
      registered: "stored@example.com",
    });
    const nothing = plan(withoutEmail);
    expect(nothing.commands).toEqual([]);
    expect(nothing.warnings[0]).toMatch(/hard-ID field "email"/);
  });

  it("rejects hard-ID values Bloomreach would refuse", () => {
    expect(toHardIdValue("  ")).toBeUndefined();
    expect(toHardIdValue("---")).toBeUndefined();
    expect(toHardIdValue("null")).toBeUndefined();
    expect(toHardIdValue(null)).toBeUndefined();
    expect(toHardIdValue(42)).toBe("42");
  });
});
