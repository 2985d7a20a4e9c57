import { describe, expect, it } from "vitest";
import type { RelayEvent } from "../src/domain/event";
import { buildTemplate, TEMPLATE_CATALOG, TEMPLATE_NAMES } from "../src/domain/workflow/builtin-templates";
import { type WorkflowDocument, WorkflowDocumentSchema } from "../src/domain/workflow/document";
import {
  eventContext,
  matchDateWorkflow,
  matchEventWorkflows,
  runActions,
  type StoredWorkflow,
} from "../src/domain/workflow/engine";
import { dueOccurrence } from "../src/domain/workflow/schedule";
import { RelayError } from "../src/lib/errors";

const now = 1_750_000_000;
const customerIds = { registered: "ada@example.com" };
const customer = { id: "c-1", email: "ada@example.com", score: 1200, birth_date: "1992-02-29" };

const stored = (documents: WorkflowDocument[]): StoredWorkflow[] =>
  documents.map((document, index) => ({
    id: `wf-${index}`,
    name: document.name,
    active: true,
    priority: document.priority,
    createdAt: index,
    document,
  }));

const relayEvent = (action: string, data: Record<string, unknown>): RelayEvent => ({
  id: "ev-1",
  action,
  customerId: "c-1",
  data,
  createdAt: 1_749_990_000,
  receivedAt: 1_749_990_005,
});

/** What an event would produce through every matching workflow (claims not followed). */
function commandsFor(documents: WorkflowDocument[], event: RelayEvent) {
  return matchEventWorkflows(stored(documents), event, customer, now).flatMap((workflow) =>
    runActions(
      workflow,
      workflow.document.actions,
      { event: eventContext(event), customer, now, at: now, envelope: {} },
      customerIds,
      "c-1",
    ).commands.map((planned) => planned.command),
  );
}

function validationIssues(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).code).toBe("validation_failed");
    return (error as RelayError).issues ?? [];
  }
  throw new Error("expected a validation error");
}

describe("built-in templates", () => {
  it("are listed in the catalog with their parameters", () => {
    expect(TEMPLATE_NAMES).toEqual(["welcome", "birthday_reward", "reward_claim", "tier_upgrade", "last_purchase"]);
    const tier = TEMPLATE_CATALOG.find((entry) => entry.name === "tier_upgrade");
    expect(tier?.params.find((param) => param.name === "tiers")?.default).toEqual(["Silver", "Gold", "Platinum"]);
    expect(
      TEMPLATE_CATALOG.find((entry) => entry.name === "birthday_reward")?.params.find((p) => p.name === "rewardId")
        ?.required,
    ).toBe(true);
  });

  it("each builds documents the schema accepts unchanged", () => {
    for (const name of TEMPLATE_NAMES) {
      const documents = buildTemplate(name, name === "birthday_reward" ? { rewardId: "rw-bday" } : {});
      expect(documents.length).toBeGreaterThan(0);
      for (const document of documents) expect(WorkflowDocumentSchema.parse(document)).toEqual(document);
    }
  });

  it("welcome tracks loyalty_welcome on opt_in with the opt-in date and points", () => {
    const documents = buildTemplate("welcome");
    expect(commandsFor(documents, relayEvent("opt_in", { points: 50 }))).toEqual([
      {
        name: "customers/events",
        data: {
          customer_ids: customerIds,
          event_type: "loyalty_welcome",
          timestamp: now,
          properties: { opt_in_date: 1_749_990_000, points_added: 50 },
        },
      },
    ]);
    expect(commandsFor(documents, relayEvent("opt_out", {}))).toEqual([]);
    expect(commandsFor(buildTemplate("welcome", { action: "register" }), relayEvent("register", {}))).toHaveLength(1);
  });

  describe("birthday_reward", () => {
    it("needs a rewardId", () => {
      expect(validationIssues(() => buildTemplate("birthday_reward"))).toEqual([
        { path: "params.rewardId", message: "is required" },
      ]);
    });

    it("claims a free reward on the birthday, then tracks the coupon from the claim", () => {
      const [document] = buildTemplate("birthday_reward", { rewardId: "rw-bday", at: "08:30" });
      const [workflow] = stored([document!]);
      // 2025 is not a leap year: a Feb 29 birthday is celebrated on Feb 28.
      const morning = Date.parse("2025-02-28T08:45:00Z") / 1000;
      expect(document!.trigger.type === "date" && dueOccurrence(document!.trigger, morning)).toBe("2025-02-28");
      expect(matchDateWorkflow(workflow!, customer, morning)).toBe(true);
      expect(matchDateWorkflow(workflow!, { ...customer, birth_date: "1992-03-01" }, morning)).toBe(false);

      const first = runActions(
        workflow!,
        workflow!.document.actions,
        { customer, now: morning, at: morning, envelope: {} },
        customerIds,
        "c-1",
      );
      expect(first.commands).toEqual([]);
      expect(first.claim?.action).toMatchObject({ rewardId: "rw-bday", free: true, customerId: "c-1" });

      const claim = { id: "cl-1", coupon: { code: "BDAY-42", value: 10, type: "fixed", expires_at: "2025-03-31" } };
      const after = runActions(
        workflow!,
        first.claim!.remaining,
        { customer, now: morning, at: morning, envelope: {}, claim },
        customerIds,
        "c-1",
      );
      expect(after.commands.map((c) => c.command)).toEqual([
        {
          name: "customers/events",
          data: {
            customer_ids: customerIds,
            event_type: "loyalty_birthday_reward",
            timestamp: morning,
            properties: {
              reward_id: "rw-bday",
              coupon_code: "BDAY-42",
              coupon_value: 10,
              coupon_type: "fixed",
              coupon_expiration: "2025-03-31",
            },
          },
        },
      ]);
    });
  });

  it("reward_claim tracks the claimed reward from the event data", () => {
    const data = {
      reward_id: "rw-1",
      reward_name: "Free coffee",
      reward_description: "One coffee",
      coupon: { code: "C-1", value: 3.5 },
    };
    expect(commandsFor(buildTemplate("reward_claim"), relayEvent("reward_claim", data))).toEqual([
      {
        name: "customers/events",
        data: {
          customer_ids: customerIds,
          event_type: "loyalty_reward_claim",
          timestamp: now,
          properties: {
            reward_id: "rw-1",
            reward_name: "Free coffee",
            reward_description: "One coffee",
            coupon_code: "C-1",
            coupon_value: 3.5,
          },
        },
      },
    ]);
    expect(commandsFor(buildTemplate("reward_claim", { action: "reward" }), relayEvent("reward", data))).toHaveLength(
      1,
    );
  });

  describe("tier_upgrade", () => {
    it("makes one workflow per tier, each firing only for its tier", () => {
      const documents = buildTemplate("tier_upgrade");
      expect(documents.map((d) => d.name)).toEqual([
        "Tier upgrade to Silver",
        "Tier upgrade to Gold",
        "Tier upgrade to Platinum",
      ]);
      expect(commandsFor(documents, relayEvent("tier_change", { tier: "Gold" }))).toEqual([
        {
          name: "customers/events",
          data: {
            customer_ids: customerIds,
            event_type: "loyalty_tier_gold",
            timestamp: now,
            properties: { tier: "Gold", points: 1200 },
          },
        },
        {
          name: "customers",
          data: { customer_ids: customerIds, properties: { last_tier_upgrade: 1_749_990_000 }, update_timestamp: now },
        },
      ]);
      expect(commandsFor(documents, relayEvent("tier_change", { tier: "Bronze" }))).toEqual([]);
    });

    it("takes custom tiers, action and attribute", () => {
      const documents = buildTemplate("tier_upgrade", {
        tiers: ["Platinum Plus"],
        action: "tier_up",
        attribute: "new_tier",
      });
      const commands = commandsFor(documents, relayEvent("tier_up", { new_tier: "Platinum Plus" }));
      expect(commands[0]).toMatchObject({
        data: { event_type: "loyalty_tier_platinum_plus", properties: { tier: "Platinum Plus" } },
      });
    });
  });

  it("last_purchase stores the purchase on each purchase action", () => {
    const documents = buildTemplate("last_purchase");
    expect(documents.map((d) => d.trigger)).toEqual([
      { type: "event", action: "checkout" },
      { type: "event", action: "checkout_accept" },
    ]);
    const checkout = {
      transaction_id: "t-9",
      total: 59.9,
      currency: "EUR",
      items: [
        { product_id: "p1", quantity: 3 },
        { product_id: "p2", quantity: 1 },
      ],
    };
    const expected = {
      name: "customers",
      data: {
        customer_ids: customerIds,
        properties: {
          last_purchase_total: 59.9,
          last_purchase_date: 1_749_990_000,
          last_transaction_id: "t-9",
          last_purchase_items_count: 2,
        },
        update_timestamp: now,
      },
    };
    expect(commandsFor(documents, relayEvent("checkout", checkout))).toEqual([expected]);
    expect(commandsFor(documents, relayEvent("checkout_accept", checkout))).toEqual([expected]);
    const withoutItems = commandsFor(documents, relayEvent("checkout", { transaction_id: "t-10", total: 5 }));
    expect(withoutItems[0]?.data.properties).not.toHaveProperty("last_purchase_items_count");
  });

  it("reject unknown templates, unknown and invalid parameters", () => {
    expect(validationIssues(() => buildTemplate("nope"))[0]?.path).toBe("template");
    expect(validationIssues(() => buildTemplate("welcome", { acton: "x" }))[0]?.message).toMatch(
      /unknown parameter.*acton/,
    );
    expect(validationIssues(() => buildTemplate("tier_upgrade", { tiers: [] }))[0]?.path).toBe("params.tiers");
    expect(validationIssues(() => buildTemplate("birthday_reward", { rewardId: "r", at: "9am" }))[0]?.path).toBe(
      "params.at",
    );
    expect(validationIssues(() => buildTemplate("welcome", { event: "bienvenüe" }))[0]?.path).toBe(
      "documents.0.actions.0.event",
    );
  });
});
