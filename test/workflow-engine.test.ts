import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../src/domain/config";
import type { RelayEvent } from "../src/domain/event";
import { type PlanConfig, planConfigFor, planEvent } from "../src/domain/plan-event";
import { type WorkflowDocumentInput, WorkflowDocumentSchema } from "../src/domain/workflow/document";
import {
  eventContext,
  matchDateWorkflow,
  matchEventWorkflows,
  runActions,
  type StoredWorkflow,
} from "../src/domain/workflow/engine";

const now = 1_750_000_000;

const event: RelayEvent = {
  id: "ev-1",
  action: "tier_change",
  customerId: "c-1",
  data: { tier: "Gold", created_at: "ignored", points: 40 },
  createdAt: 1_749_999_000,
  receivedAt: 1_749_999_100,
};
const customer = {
  id: "c-1",
  email: "ada@example.com",
  score: 1200,
  birth_date: "1990-06-15",
  tiers: [{ name: "Silver" }],
};

function workflow(
  id: string,
  doc: Partial<WorkflowDocumentInput>,
  extra: Partial<StoredWorkflow> = {},
): StoredWorkflow {
  const document = WorkflowDocumentSchema.parse({
    name: `wf ${id}`,
    trigger: { type: "event", action: "tier_change" },
    actions: [{ type: "sync_event", event: "e" }],
    ...doc,
  });
  return {
    id,
    name: document.name,
    active: true,
    priority: document.priority,
    createdAt: 1_700_000_000,
    document,
    ...extra,
  };
}

const ids = (workflows: StoredWorkflow[]) => workflows.map((w) => w.id);

describe("eventContext", () => {
  it("puts the envelope over the event data", () => {
    expect(eventContext(event)).toEqual({
      tier: "Gold",
      points: 40,
      id: "ev-1",
      action: "tier_change",
      customer: "c-1",
      created_at: 1_749_999_000,
    });
  });
});

describe("matchEventWorkflows", () => {
  it("selects active event workflows for the action whose filters pass", () => {
    const workflows = [
      workflow("match", {
        filters: [{ type: "event_attribute", attribute: "tier", operator: "equals", value: "Gold" }],
      }),
      workflow("other-tier", {
        filters: [{ type: "event_attribute", attribute: "tier", operator: "equals", value: "Platinum" }],
      }),
      workflow("other-action", { trigger: { type: "event", action: "opt_in" } }),
      workflow("inactive", {}, { active: false }),
      workflow("date", { trigger: { type: "date", repeat: "daily", at: "00:00" } }),
      workflow("customer-filter", {
        filters: [{ type: "customer_attribute", attribute: "tier", operator: "equals", value: "Silver" }],
      }),
      workflow("created-at", {
        filters: [{ type: "event_attribute", attribute: "created_at", operator: "equals", value: 1_749_999_000 }],
      }),
    ];
    expect(ids(matchEventWorkflows(workflows, event, customer, now))).toEqual([
      "created-at",
      "customer-filter",
      "match",
    ]);
  });

  it("runs a campaign only inside [startsAt, endsAt)", () => {
    const campaign = (startsAt: number | string, endsAt: number | string) =>
      workflow("c", { kind: "campaign", startsAt, endsAt });
    expect(matchEventWorkflows([campaign(now - 10, now + 10)], event, customer, now)).toHaveLength(1);
    expect(matchEventWorkflows([campaign(now, now + 10)], event, customer, now)).toHaveLength(1);
    expect(matchEventWorkflows([campaign(now + 1, now + 10)], event, customer, now)).toHaveLength(0);
    expect(matchEventWorkflows([campaign(now - 10, now)], event, customer, now)).toHaveLength(0);
    expect(matchEventWorkflows([campaign("2020-01-01T00:00:00Z", "2021-01-01")], event, customer, now)).toHaveLength(0);
  });

  it("orders by priority, then creation time, then id, whatever the input order", () => {
    const workflows = [
      workflow("b", {}, { priority: 100, createdAt: 5 }),
      workflow("late", {}, { priority: 100, createdAt: 9 }),
      workflow("first", {}, { priority: 1, createdAt: 99 }),
      workflow("a", {}, { priority: 100, createdAt: 5 }),
    ];
    const expected = ["first", "a", "b", "late"];
    expect(ids(matchEventWorkflows(workflows, event, customer, now))).toEqual(expected);
    expect(ids(matchEventWorkflows([...workflows].reverse(), event, customer, now))).toEqual(expected);
  });
});

describe("matchDateWorkflow", () => {
  const birthday = (extra: Partial<WorkflowDocumentInput> = {}, stored: Partial<StoredWorkflow> = {}) =>
    workflow(
      "bday",
      {
        trigger: { type: "date", repeat: "daily", at: "09:00" },
        filters: [{ type: "customer_attribute", attribute: "birth_date", operator: "in_date", value: "today" }],
        ...extra,
      },
      stored,
    );
  const onBirthday = Date.parse("2025-06-15T09:05:00Z") / 1000;

  it("applies customer filters", () => {
    expect(matchDateWorkflow(birthday(), customer, onBirthday)).toBe(true);
    expect(matchDateWorkflow(birthday(), { ...customer, birth_date: "1990-06-16" }, onBirthday)).toBe(false);
    expect(matchDateWorkflow(birthday(), { id: "c-2" }, onBirthday)).toBe(false);
  });

  it("respects the campaign window, active flag and trigger type", () => {
    expect(
      matchDateWorkflow(
        birthday({ kind: "campaign", startsAt: onBirthday + 60, endsAt: onBirthday + 3600 }),
        customer,
        onBirthday,
      ),
    ).toBe(false);
    expect(
      matchDateWorkflow(
        birthday({ kind: "campaign", startsAt: onBirthday - 60, endsAt: onBirthday + 3600 }),
        customer,
        onBirthday,
      ),
    ).toBe(true);
    expect(matchDateWorkflow(birthday({}, { active: false }), customer, onBirthday)).toBe(false);
    expect(matchDateWorkflow(workflow("ev", {}), customer, onBirthday)).toBe(false);
  });
});

describe("runActions", () => {
  const customerIds = { registered: "ada@example.com" };
  const wf = workflow("wf-1", {
    name: "Tier upgrade to Gold",
    actions: [
      {
        type: "sync_event",
        event: "loyalty_tier_gold",
        properties: { tier: "{{event.tier}}", points: "{{customer.score}}", gone: "{{event.nope}}" },
      },
      { type: "sync_fields", fields: { last_tier_upgrade: "{{event.created_at}}" } },
      { type: "sync_fields", fields: { only_missing: "{{event.nope}}" } },
      { type: "reward_claim", rewardId: "rw-1", free: true },
      {
        type: "sync_event",
        event: "loyalty_reward",
        properties: { code: "{{claim.coupon.code}}", label: "Code {{claim.coupon.code}}" },
      },
      { type: "reward_claim", rewardId: "rw-2" },
      { type: "sync_fields", fields: { after_second: "{{claim.id}}" } },
    ],
  });
  const source = { kind: "workflow", workflowId: "wf-1", workflowName: "Tier upgrade to Gold" };
  const ctx = { event: eventContext(event), customer, now, at: now, envelope: {} };

  it("renders actions into commands up to the first reward_claim", () => {
    const run = runActions(wf, wf.document.actions, ctx, customerIds, "c-1");
    expect(run.commands).toEqual([
      {
        source,
        command: {
          name: "customers/events",
          data: {
            customer_ids: customerIds,
            event_type: "loyalty_tier_gold",
            timestamp: now,
            properties: { tier: "Gold", points: 1200 },
          },
        },
      },
      {
        source,
        command: {
          name: "customers",
          data: { customer_ids: customerIds, properties: { last_tier_upgrade: 1_749_999_000 }, update_timestamp: now },
        },
      },
    ]);
    expect(run.claim?.action).toEqual({
      type: "reward_claim",
      customerId: "c-1",
      rewardId: "rw-1",
      free: true,
      source,
    });
    expect(run.claim?.remaining).toEqual(wf.document.actions.slice(4));
  });

  it("continues after the claim with the claim's answer, stopping at the next claim", () => {
    const first = runActions(wf, wf.document.actions, ctx, customerIds, "c-1");
    const second = runActions(
      wf,
      first.claim!.remaining,
      { ...ctx, claim: { id: "cl-1", coupon: { code: "GOLD-10" } } },
      customerIds,
      "c-1",
    );
    expect(second.commands).toHaveLength(1);
    expect(second.commands[0]!.command).toMatchObject({
      name: "customers/events",
      data: { event_type: "loyalty_reward", properties: { code: "GOLD-10", label: "Code GOLD-10" } },
    });
    expect(second.claim?.action).toMatchObject({ rewardId: "rw-2", free: false });
    const third = runActions(wf, second.claim!.remaining, { ...ctx, claim: { id: "cl-2" } }, customerIds, "c-1");
    expect(third.claim).toBeUndefined();
    expect(third.commands[0]!.command.data.properties).toEqual({ after_second: "cl-2" });
  });

  it("leaves claim values out when the claim answered without a coupon", () => {
    const first = runActions(wf, wf.document.actions, ctx, customerIds, "c-1");
    const second = runActions(wf, first.claim!.remaining, { ...ctx, claim: { id: "cl-1" } }, customerIds, "c-1");
    expect(second.commands[0]!.command.data.properties).toEqual({ label: "Code " });
  });
});

describe("planConfigFor (the config an object call carries)", () => {
  const workflows = [
    workflow("on-tier", { actions: [{ type: "sync_event", event: "tier_wf" }] }),
    workflow("on-opt-in", { trigger: { type: "event", action: "opt_in" } }),
    workflow("daily", { trigger: { type: "date", repeat: "daily", at: "00:00" } }),
    workflow("other-daily", { trigger: { type: "date", repeat: "daily", at: "09:00" } }),
  ];
  const config: PlanConfig = {
    mapping: { hardId: { loyaltyField: "email", remoteId: "registered" }, fields: [] },
    settings: { ...DEFAULT_SETTINGS, events: [{ action: "tier_change", remoteEvent: "loyalty_tier" }] },
    workflows,
  };
  const dateRun: RelayEvent = {
    ...event,
    id: "run-1",
    action: "date_run",
    dateRun: { workflowId: "daily", occurrence: "2026-06-15" },
  };

  it("keeps only the workflows the events can trigger", () => {
    expect(ids(planConfigFor(config, [event]).workflows)).toEqual(["on-tier"]);
    expect(ids(planConfigFor(config, [dateRun]).workflows)).toEqual(["daily"]);
    expect(ids(planConfigFor(config, [event, dateRun]).workflows)).toEqual(["on-tier", "daily"]);
    expect(planConfigFor(config, [{ ...event, action: "unknown" }]).workflows).toEqual([]);
    expect(planConfigFor(config, [event]).mapping).toBe(config.mapping);
  });

  it("plans every event exactly as the whole config does", () => {
    for (const e of [event, dateRun, { ...event, action: "opt_in" }]) {
      const whole = planEvent(config, e, customer, now);
      expect(planEvent(planConfigFor(config, [e]), e, customer, now)).toEqual(whole);
    }
    // The check has teeth: the workflows matter to these plans.
    expect(planEvent(config, event, customer, now).commands.map((c) => c.command.data)).toContainEqual(
      expect.objectContaining({ event_type: "tier_wf" }),
    );
  });
});
