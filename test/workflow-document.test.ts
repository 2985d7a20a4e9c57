import { describe, expect, it } from "vitest";
import { validateWorkflowDocument, WorkflowDocumentSchema } from "../src/domain/workflow/document";

const base = {
  name: "Tier upgrade to Gold",
  trigger: { type: "event", action: "tier_change" },
  actions: [{ type: "sync_event", event: "loyalty_tier_gold", properties: { tier: "{{event.tier}}" } }],
};

const dateBase = {
  name: "Birthday",
  trigger: { type: "date", repeat: "daily", at: "09:00" },
  actions: [{ type: "sync_fields", fields: { last_birthday_run: "{{now}}" } }],
};

function issues(input: unknown) {
  const result = validateWorkflowDocument(input);
  if (result.success) throw new Error("expected validation to fail");
  return result.issues;
}

function messageAt(input: unknown, path: string) {
  const found = issues(input).filter((issue) => issue.path === path);
  expect(found, `no issue at ${path}: ${JSON.stringify(issues(input))}`).not.toHaveLength(0);
  return found.map((issue) => issue.message).join(" | ");
}

describe("workflow document schema", () => {
  it("accepts the DESIGN 4.3 example and fills defaults", () => {
    const doc = WorkflowDocumentSchema.parse({
      name: "Tier upgrade to Gold",
      kind: "general",
      startsAt: null,
      endsAt: null,
      trigger: { type: "event", action: "tier_change" },
      filters: [{ type: "event_attribute", attribute: "tier", operator: "equals", value: "Gold" }],
      actions: [
        {
          type: "sync_event",
          event: "loyalty_tier_gold",
          properties: { tier: "{{event.tier}}", points: "{{customer.score}}" },
        },
        { type: "sync_fields", fields: { last_tier_upgrade: "{{event.created_at}}" } },
        { type: "reward_claim", rewardId: "rw-1", free: true },
      ],
    });
    expect(doc.priority).toBe(100);
    const minimal = WorkflowDocumentSchema.parse(base);
    expect(minimal).toMatchObject({ kind: "general", priority: 100, startsAt: null, endsAt: null, filters: [] });
    expect(
      WorkflowDocumentSchema.parse({ ...base, actions: [{ type: "reward_claim", rewardId: "r" }] }).actions[0],
    ).toEqual({
      type: "reward_claim",
      rewardId: "r",
      free: false,
    });
  });

  it("rejects a non-integer or negative priority", () => {
    expect(messageAt({ ...base, priority: 1.5 }, "priority")).toMatch(/integer/);
    messageAt({ ...base, priority: -1 }, "priority");
  });

  it("names an unknown operator and where it is", () => {
    const input = {
      ...base,
      filters: [{ type: "event_attribute", attribute: "tier", operator: "starts_with", value: "G" }],
    };
    expect(messageAt(input, "filters.0.operator")).toMatch(/unknown operator "starts_with".*"equals"/);
  });

  it("checks each operator's value", () => {
    const filter = (operator: string, value?: unknown) => ({
      ...base,
      filters: [
        { type: "customer_attribute", attribute: "score", operator, ...(value === undefined ? {} : { value }) },
      ],
    });
    messageAt(filter("equals"), "filters.0.value");
    expect(messageAt(filter("equals", null), "filters.0.value")).toMatch(/exists: false/);
    messageAt(filter("in", "Gold"), "filters.0.value");
    messageAt(filter("in", []), "filters.0.value");
    messageAt(filter("exists", "yes"), "filters.0.value");
    expect(messageAt(filter("in_date", "tomorrow"), "filters.0.value")).toMatch(/"today", "this_week", "this_month"/);
    messageAt(filter("greater_than", "lots"), "filters.0.value");
    expect(WorkflowDocumentSchema.safeParse(filter("greater_than", "100")).success).toBe(true);
    expect(WorkflowDocumentSchema.safeParse(filter("less_than", "2025-01-01")).success).toBe(true);
    expect(WorkflowDocumentSchema.parse(filter("exists")).filters[0]).toMatchObject({ value: true });
  });

  it("rejects an unknown filter type and a bad attribute path", () => {
    messageAt(
      { ...base, filters: [{ type: "profile", attribute: "tier", operator: "equals", value: "G" }] },
      "filters.0.type",
    );
    messageAt(
      { ...base, filters: [{ type: "event_attribute", attribute: "a..b", operator: "equals", value: "G" }] },
      "filters.0.attribute",
    );
  });

  it("rejects an event_attribute filter on a date trigger", () => {
    const input = {
      ...dateBase,
      filters: [{ type: "event_attribute", attribute: "tier", operator: "equals", value: "Gold" }],
    };
    expect(messageAt(input, "filters.0.type")).toMatch(/customer_attribute/);
    const ok = {
      ...dateBase,
      filters: [{ type: "customer_attribute", attribute: "birth_date", operator: "in_date", value: "today" }],
    };
    expect(WorkflowDocumentSchema.safeParse(ok).success).toBe(true);
  });

  describe("campaigns", () => {
    it("need both startsAt and endsAt", () => {
      expect(messageAt({ ...base, kind: "campaign" }, "startsAt")).toMatch(/required/);
      expect(messageAt({ ...base, kind: "campaign", startsAt: "2025-06-01T00:00:00Z" }, "endsAt")).toMatch(/required/);
    });

    it("need endsAt after startsAt, in ISO-8601 or Unix seconds", () => {
      expect(
        messageAt({ ...base, kind: "campaign", startsAt: 1_750_000_000, endsAt: "2025-06-01T00:00:00Z" }, "endsAt"),
      ).toMatch(/after startsAt/);
      messageAt({ ...base, kind: "campaign", startsAt: 100, endsAt: 100 }, "endsAt");
      const ok = { ...base, kind: "campaign", startsAt: "2025-06-01T00:00:00+02:00", endsAt: 1_760_000_000 };
      expect(WorkflowDocumentSchema.safeParse(ok).success).toBe(true);
    });

    it("refuse dates that are not dates and millisecond timestamps", () => {
      messageAt({ ...base, kind: "campaign", startsAt: "next monday", endsAt: 1_760_000_000 }, "startsAt");
      messageAt({ ...base, kind: "campaign", startsAt: "2025-02-30", endsAt: 1_760_000_000 }, "startsAt");
      expect(
        messageAt({ ...base, kind: "campaign", startsAt: 1_700_000_000, endsAt: 1_760_000_000_000 }, "endsAt"),
      ).toMatch(/milliseconds/);
    });

    it("are the only kind with a window", () => {
      expect(messageAt({ ...base, startsAt: 1_700_000_000 }, "startsAt")).toMatch(/campaign/);
    });
  });

  describe("date triggers", () => {
    const trigger = (t: Record<string, unknown>) => ({ ...dateBase, trigger: { type: "date", ...t } });

    it("need `at` as HH:MM", () => {
      for (const at of ["9:00", "24:00", "09:60", "0900"]) {
        expect(messageAt(trigger({ repeat: "daily", at }), "trigger.at")).toMatch(/HH:MM/);
      }
    });

    it("need an anchor date except daily", () => {
      for (const repeat of ["once", "weekly", "monthly", "yearly"]) {
        expect(messageAt(trigger({ repeat, at: "09:00" }), "trigger.date")).toMatch(/required/);
      }
      expect(WorkflowDocumentSchema.safeParse(trigger({ repeat: "daily", at: "09:00" })).success).toBe(true);
      expect(
        WorkflowDocumentSchema.safeParse(trigger({ repeat: "weekly", at: "09:00", date: "2025-06-02" })).success,
      ).toBe(true);
    });

    it("need a real date and a known repeat", () => {
      messageAt(trigger({ repeat: "once", at: "09:00", date: "2025-02-29" }), "trigger.date");
      messageAt(trigger({ repeat: "once", at: "09:00", date: "01/02/2025" }), "trigger.date");
      expect(messageAt(trigger({ repeat: "hourly", at: "09:00" }), "trigger.repeat")).toMatch(
        /unknown repeat "hourly"/,
      );
    });

    it("reject an unknown trigger type", () => {
      messageAt({ ...base, trigger: { type: "webhook" } }, "trigger.type");
    });
  });

  describe("templates", () => {
    it("reject an unknown root with the property path", () => {
      const input = {
        ...base,
        actions: [{ type: "sync_event", event: "e", properties: { nested: { v: ["x", "{{order.total}}"] } } }],
      };
      expect(messageAt(input, "actions.0.properties.nested.v.1")).toMatch(/unknown root "order"/);
    });

    it("reject `event` in a date-triggered workflow", () => {
      const input = { ...dateBase, actions: [{ type: "sync_fields", fields: { tier: "Tier: {{event.tier}}" } }] };
      expect(messageAt(input, "actions.0.fields.tier")).toMatch(/no event/);
    });

    it("allow `claim` only after a reward_claim", () => {
      const before = {
        ...base,
        actions: [
          { type: "sync_event", event: "e", properties: { code: "{{claim.coupon.code}}" } },
          { type: "reward_claim", rewardId: "rw-1" },
        ],
      };
      expect(messageAt(before, "actions.0.properties.code")).toMatch(/after a reward_claim/);
      const after = { ...base, actions: [before.actions[1], before.actions[0]] };
      expect(WorkflowDocumentSchema.safeParse(after).success).toBe(true);
    });

    it("reject malformed placeholders and unknown template filters", () => {
      const props = (value: string) => ({
        ...base,
        actions: [{ type: "sync_event", event: "e", properties: { p: value } }],
      });
      messageAt(props("{{now.later}}"), "actions.0.properties.p");
      messageAt(props("{{customer}}"), "actions.0.properties.p");
      expect(messageAt(props("{{event.items|sum}}"), "actions.0.properties.p")).toMatch(/unknown filter "sum"/);
      expect(WorkflowDocumentSchema.safeParse(props("{{ event.items | count }} at {{now}}")).success).toBe(true);
    });
  });

  describe("actions", () => {
    it("need at least one", () => {
      expect(messageAt({ ...base, actions: [] }, "actions")).toMatch(/at least one action/);
      expect(messageAt({ name: "x", trigger: base.trigger }, "actions")).toMatch(/at least one action/);
    });

    it("reward_claim needs a rewardId", () => {
      expect(messageAt({ ...base, actions: [{ type: "reward_claim", free: true }] }, "actions.0.rewardId")).toBe(
        "rewardId is required",
      );
      expect(messageAt({ ...base, actions: [{ type: "reward_claim", rewardId: " " }] }, "actions.0.rewardId")).toBe(
        "rewardId is required",
      );
    });

    it("reject unknown action types, non-ASCII event names and empty field sets", () => {
      messageAt({ ...base, actions: [{ type: "send_email" }] }, "actions.0.type");
      expect(messageAt({ ...base, actions: [{ type: "sync_event", event: "bienvenüe" }] }, "actions.0.event")).toMatch(
        /ASCII/,
      );
      messageAt({ ...base, actions: [{ type: "sync_fields", fields: {} }] }, "actions.0.fields");
    });
  });
});
