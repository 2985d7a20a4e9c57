/**
 * The five common use cases end to end: a webhook (or a cron run) through the queue consumer to the
 * Bloomreach and Antavo fakes, with the workflows created from the built-in templates through the
 * admin API, the way an admin would set them up.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { QueueMessage } from "../src/domain/queue-message";
import { appWith, recordingQueue } from "./support/app";
import { cronTick, runScans } from "./support/date-runs";
import { demoMapping } from "./support/fixtures";
import { admin, basicAuth, json, secrets } from "./support/http";
import { deliveryRow, relayWithFakes, runQueue } from "./support/pipeline";

const settings = { asyncSync: true, events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }] };
const relay = relayWithFakes({ mapping: demoMapping, settings, antavo: true });

const post = (path: string, body?: unknown) => admin(path, { method: "POST", ...(body === undefined ? {} : { body }) });

/** Creates a template's workflows and activates them all; answers their ids in template order. */
async function activeTemplate(template: string, params: Record<string, unknown> = {}): Promise<string[]> {
  const response = await post("/workflows", { template, params });
  expect(response.status, await response.clone().text()).toBe(201);
  const ids: string[] = (await json(response)).items.map((w: any) => w.id);
  for (const id of ids) expect((await post(`/workflows/${id}/activate`)).status).toBe(200);
  return ids;
}

async function activeWorkflow(document: Record<string, unknown>): Promise<string> {
  const response = await post("/workflows", document);
  expect(response.status, await response.clone().text()).toBe(201);
  const { id } = await json(response);
  return id;
}

const customer = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  email: `${id}@example.com`,
  first_name: "Ada",
  score: 1500,
  tiers: [{ name: "Gold" }],
  ...extra,
});

/** Posts a webhook the way Antavo does and runs what it queued through the Worker's queue handler. */
async function webhook(event: Record<string, unknown>) {
  const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<QueueMessage>);
  const post = appWith(() => ({ queue: recorder.queue }));
  const response = await post("/webhooks/antavo", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: basicAuth() },
    body: JSON.stringify(event),
  });
  expect(response.status).toBe(202);
  const result = await runQueue(recorder.sent.map((body) => ({ body })));
  expect(result.retried).toEqual([]);
  return result;
}

const eventsOfType = (bloomreach: { events(): { event_type: string }[] }, type: string) =>
  bloomreach.events().filter((e) => e.event_type === type);

describe("use cases end to end", () => {
  it("welcome: an opt-in tracks the welcome event with the opt-in date and points", async () => {
    const { bloomreach, antavo } = await relay();
    const [workflowId] = await activeTemplate("welcome");
    await webhook({
      id: "uc-welcome",
      action: "opt_in",
      customer: customer("welcome-c"),
      data: { points: 50 },
      created_at: 1_767_225_600,
    });

    expect(eventsOfType(bloomreach, "loyalty_welcome")).toEqual([
      {
        customer_ids: { registered: "welcome-c@example.com" },
        event_type: "loyalty_welcome",
        timestamp: expect.any(Number),
        properties: { opt_in_date: 1_767_225_600, points_added: 50, antavo_event_id: "uc-welcome" },
      },
    ]);
    // The event selection still runs beside the workflow.
    expect(eventsOfType(bloomreach, "loyalty_opt_in")).toHaveLength(1);
    const row = await deliveryRow("uc-welcome");
    expect(row?.status).toBe("delivered");
    expect(JSON.parse(row!.commands).map((c: any) => c.source)).toContainEqual({
      kind: "workflow",
      workflowId,
      workflowName: "Welcome",
    });
    bloomreach.assertNoUnexpected();
    antavo.assertNoUnexpected();
  });

  it("birthday reward: the daily cron claims a free reward for today's birthdays and tracks the coupon", async () => {
    const { bloomreach, antavo } = await relay();
    antavo.seedReward({ id: "rw-bday", price: 500, coupon: { code: "BDAY-2027", type: "fixed", value: 10 } });
    const birthdayChild = customer("bday-today", { birth_date: "1990-03-14" });
    const notToday = customer("bday-tomorrow", { birth_date: "1990-03-15" });
    antavo.seedCustomer(birthdayChild).seedCustomer(notToday);
    // The mirror is seeded by the bulk import, as on a fresh installation.
    const imported = await SELF.fetch("https://relay.test/api/customers/import", {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "application/x-ndjson" },
      body: [birthdayChild, notToday].map((c) => JSON.stringify(c)).join("\n"),
    });
    expect(await json(imported)).toMatchObject({ imported: 2, rejectedCount: 0 });
    const [workflowId] = await activeTemplate("birthday_reward", { rewardId: "rw-bday", at: "09:00" });

    const scans = await cronTick("2027-03-14T09:00:00Z");
    expect(scans).toHaveLength(1);
    const { events } = await runScans(scans);
    expect(events.map((m) => m.event.id)).toEqual([`date:${workflowId}:bday-today:2027-03-14`]);
    // The consumer may run well after the tick: the birthday is judged at the tick's time.
    const result = await runQueue(events.map((body) => ({ body })));
    expect(result.retried).toEqual([]);

    expect(antavo.claims).toEqual([
      expect.objectContaining({ customerId: "bday-today", rewardId: "rw-bday", free: true, spent: 0 }),
    ]);
    expect(antavo.requests.filter((r) => r.method === "POST")).toEqual([
      { method: "POST", path: "/v1/bulk-operation/reward/claim/rw-bday" },
    ]);
    expect(eventsOfType(bloomreach, "loyalty_birthday_reward")).toEqual([
      {
        customer_ids: { registered: "bday-today@example.com" },
        event_type: "loyalty_birthday_reward",
        timestamp: expect.any(Number),
        properties: {
          reward_id: "rw-bday",
          coupon_code: "BDAY-2027",
          coupon_value: 10,
          coupon_type: "fixed",
          antavo_event_id: events[0]!.event.id,
        },
      },
    ]);
    expect((await deliveryRow(events[0]!.event.id))?.status).toBe("delivered");

    // Cron again the same day, and the same synthetic events redelivered: no second claim, no second event.
    expect(await cronTick("2027-03-14T09:01:00Z")).toEqual([]);
    await runQueue(events.map((body) => ({ body })));
    expect(antavo.claims).toHaveLength(1);
    expect(eventsOfType(bloomreach, "loyalty_birthday_reward")).toHaveLength(1);
    bloomreach.assertNoUnexpected();
    antavo.assertNoUnexpected();
  });

  it("reward claim: a claim event tracks the reward's name, description and coupon", async () => {
    const { bloomreach, antavo } = await relay();
    await activeTemplate("reward_claim");
    await webhook({
      id: "uc-claim",
      action: "reward_claim",
      customer: customer("claim-c"),
      data: {
        reward_id: "rw-coffee",
        reward_name: "Free coffee",
        reward_description: "One coffee of any size",
        coupon: { code: "COFFEE-42", value: 3.5, type: "fixed", expires_at: "2027-01-31T23:59:59Z" },
      },
    });
    expect(eventsOfType(bloomreach, "loyalty_reward_claim")).toEqual([
      expect.objectContaining({
        customer_ids: { registered: "claim-c@example.com" },
        properties: {
          reward_id: "rw-coffee",
          reward_name: "Free coffee",
          reward_description: "One coffee of any size",
          coupon_code: "COFFEE-42",
          coupon_value: 3.5,
          coupon_type: "fixed",
          coupon_expiration: "2027-01-31T23:59:59Z",
          antavo_event_id: "uc-claim",
        },
      }),
    ]);
    // Tracking the claim does not claim anything at Antavo.
    expect(antavo.claims).toEqual([]);
    bloomreach.assertNoUnexpected();
  });

  it("tier upgrade: Silver, Gold and Platinum each have their own event; only the matching one fires", async () => {
    const { bloomreach } = await relay();
    const [silver, gold, platinum] = await activeTemplate("tier_upgrade");
    await webhook({
      id: "uc-tier-gold",
      action: "tier_change",
      customer: customer("tier-c"),
      data: { tier: "Gold" },
      created_at: 1_767_300_000,
    });

    const tierEvents = () => bloomreach.events().filter((e) => e.event_type.startsWith("loyalty_tier_"));
    expect(tierEvents()).toEqual([
      expect.objectContaining({
        event_type: "loyalty_tier_gold",
        properties: { tier: "Gold", points: 1500, antavo_event_id: "uc-tier-gold" },
      }),
    ]);
    expect(bloomreach.customers().filter((c) => "last_tier_upgrade" in c.properties)).toEqual([
      expect.objectContaining({
        customer_ids: { registered: "tier-c@example.com" },
        properties: { last_tier_upgrade: 1_767_300_000 },
      }),
    ]);
    const sources = JSON.parse((await deliveryRow("uc-tier-gold"))!.commands)
      .map((c: any) => c.source.workflowId)
      .filter(Boolean);
    expect(new Set(sources)).toEqual(new Set([gold]));

    await webhook({
      id: "uc-tier-platinum",
      action: "tier_change",
      customer: customer("tier-c", { tiers: [{ name: "Platinum" }] }),
      data: { tier: "Platinum" },
    });
    expect(tierEvents().map((e) => e.event_type)).toEqual(["loyalty_tier_gold", "loyalty_tier_platinum"]);
    await webhook({
      id: "uc-tier-bronze",
      action: "tier_change",
      customer: customer("tier-c"),
      data: { tier: "Bronze" },
    });
    expect(tierEvents()).toHaveLength(2);
    const fired = [];
    for (const id of ["uc-tier-gold", "uc-tier-platinum", "uc-tier-bronze"]) {
      fired.push(
        ...JSON.parse((await deliveryRow(id))!.commands)
          .map((c: any) => c.source.workflowId)
          .filter(Boolean),
      );
    }
    expect(new Set(fired)).toEqual(new Set([gold, platinum]));
    expect(fired).not.toContain(silver);
    bloomreach.assertNoUnexpected();
  });

  it("last purchase: checkout and checkout_accept store total, date, transaction id and item count", async () => {
    const { bloomreach } = await relay();
    await activeTemplate("last_purchase");
    const items = [
      { product_id: "p1", product_name: "Tea", price: 4, quantity: 2, subtotal: 8 },
      { product_id: "p2", product_name: "Mug", price: 12, quantity: 1, subtotal: 12 },
      { product_id: "p3", product_name: "Honey", price: 6.5, quantity: 3, subtotal: 19.5 },
    ];
    await webhook({
      id: "uc-checkout",
      action: "checkout",
      customer: customer("shop-c"),
      data: { transaction_id: "T-1001", total: 39.5, currency: "EUR", items },
      created_at: 1_767_400_000,
    });
    await webhook({
      id: "uc-accept",
      action: "checkout_accept",
      customer: customer("shop-c"),
      data: { transaction_id: "T-1002", total: 12, items: items.slice(1, 2) },
      created_at: 1_767_500_000,
    });

    const purchases = bloomreach
      .customers()
      .filter((c) => "last_transaction_id" in c.properties)
      .map((c) => c.properties);
    expect(purchases).toEqual([
      {
        last_purchase_total: 39.5,
        last_purchase_date: 1_767_400_000,
        last_transaction_id: "T-1001",
        last_purchase_items_count: 3,
      },
      {
        last_purchase_total: 12,
        last_purchase_date: 1_767_500_000,
        last_transaction_id: "T-1002",
        last_purchase_items_count: 1,
      },
    ]);
    bloomreach.assertNoUnexpected();
  });

  it("a campaign outside its window does nothing; inside it, it runs", async () => {
    const { bloomreach } = await relay();
    const campaign = (name: string, event: string, startsAt: string, endsAt: string) => ({
      name,
      kind: "campaign",
      startsAt,
      endsAt,
      trigger: { type: "event", action: "point_add" },
      actions: [{ type: "sync_event", event, properties: { points: "{{event.points}}" } }],
    });
    for (const document of [
      campaign("Last year's double points", "loyalty_old_campaign", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"),
      campaign(
        "Next century's double points",
        "loyalty_future_campaign",
        "2100-01-01T00:00:00Z",
        "2101-01-01T00:00:00Z",
      ),
      campaign("Running double points", "loyalty_current_campaign", "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"),
    ]) {
      await post(`/workflows/${await activeWorkflow(document)}/activate`);
    }
    await webhook({ id: "uc-campaign", action: "point_add", customer: customer("camp-c"), data: { points: 20 } });
    expect(bloomreach.events().map((e) => e.event_type)).toEqual(["loyalty_current_campaign"]);
  });

  it("an inactive workflow is ignored, and fires once activated", async () => {
    const { bloomreach } = await relay();
    const id = await activeWorkflow({
      name: "Profile changed",
      trigger: { type: "event", action: "profile" },
      actions: [
        { type: "sync_event", event: "loyalty_profile_changed", properties: { name: "{{customer.first_name}}" } },
      ],
    });
    await webhook({ id: "uc-profile-1", action: "profile", customer: customer("prof-c"), data: {} });
    expect(eventsOfType(bloomreach, "loyalty_profile_changed")).toEqual([]);

    await post(`/workflows/${id}/activate`);
    await webhook({
      id: "uc-profile-2",
      action: "profile",
      customer: customer("prof-c", { first_name: "Grace" }),
      data: {},
    });
    expect(eventsOfType(bloomreach, "loyalty_profile_changed")).toEqual([
      expect.objectContaining({ properties: { name: "Grace", antavo_event_id: "uc-profile-2" } }),
    ]);
    // A redelivery of the same webhook does not fire it again.
    await webhook({
      id: "uc-profile-2",
      action: "profile",
      customer: customer("prof-c", { first_name: "Grace" }),
      data: {},
    });
    expect(eventsOfType(bloomreach, "loyalty_profile_changed")).toHaveLength(1);
  });

  it("preview shows a workflow's output and which workflow produced it, without sending anything", async () => {
    const { bloomreach, antavo } = await relay();
    const ids = await activeTemplate("tier_upgrade", { tiers: ["Bronze", "Diamond"], eventPrefix: "preview_tier_" });
    const response = await post("/preview", {
      event: {
        action: "tier_change",
        customer: customer("preview-c"),
        data: { tier: "Diamond" },
        created_at: 1_767_600_000,
      },
    });
    expect(response.status).toBe(200);
    const preview = await json(response);
    const fromWorkflows = preview.commands.filter((c: any) => c.source.kind === "workflow");
    expect(fromWorkflows).toEqual([
      {
        source: { kind: "workflow", workflowId: ids[1], workflowName: "Tier upgrade to Diamond" },
        command: expect.objectContaining({
          name: "customers/events",
          data: expect.objectContaining({
            event_type: "preview_tier_diamond",
            properties: { tier: "Diamond", points: 1500, antavo_event_id: expect.any(String) },
          }),
        }),
      },
      {
        source: { kind: "workflow", workflowId: ids[1], workflowName: "Tier upgrade to Diamond" },
        command: expect.objectContaining({
          name: "customers",
          data: expect.objectContaining({ properties: { last_tier_upgrade: 1_767_600_000 } }),
        }),
      },
    ]);
    expect(bloomreach.calls).toBe(0);
    expect(antavo.calls).toBe(0);
    expect(
      await env.DB.prepare("select count(*) as n from deliveries where customer_id = 'preview-c'").first("n"),
    ).toBe(0);
  });
});
