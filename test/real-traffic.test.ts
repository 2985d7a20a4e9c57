/**
 * What real Antavo traffic looks like (issue 8): bodies without ids, `timestamp` instead of
 * `created_at`, customers keyed `_id` or `customer_id`, `account` / `external_id`, and one event
 * time for every command it produces. Webhooks go through the real app with the time injected;
 * their queue messages then run through the real consumer against the vendor fakes.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventMessage, QueueMessage } from "../src/domain/queue-message";
import { appWith, recordingQueue } from "./support/app";
import { admin, basicAuth, json } from "./support/http";
import { deliveryRow, relayWithFakes, runQueue } from "./support/pipeline";

const mapping = {
  hardId: { loyaltyField: "email", remoteId: "registered" },
  fields: [{ loyaltyField: "score", remoteField: "loyalty_points" }],
};
const settings = {
  asyncSync: true,
  events: [
    { action: "daily_login", remoteEvent: "loyalty_daily_login" },
    { action: "tier_change", remoteEvent: "loyalty_tier_change" },
    { action: "point_add", remoteEvent: "loyalty_point_add" },
  ],
};
const relay = relayWithFakes({ mapping, settings });

const T = 1_767_225_600; // 2026-01-01T00:00:00Z

/** Posts webhooks at an injected time and keeps what each one put on the queue. */
function webhooksAt(now: () => number) {
  const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<QueueMessage>);
  const post = appWith(() => ({ queue: recorder.queue, now }));
  const send = async (body: unknown) => {
    const response = await post("/webhooks/antavo", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: basicAuth() },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await json(response) };
  };
  return { send, sent: recorder.sent };
}

const deliver = (sent: EventMessage[]) => runQueue(sent.map((body, i) => ({ body, id: `m-${body.event.id}-${i}` })));

const login = (customer: string) => ({
  action: "daily_login",
  customer: { id: customer, email: `${customer}@example.com`, score: 10 },
  data: {},
});

describe("id-less events: a redelivery only within the dedupe window", () => {
  it("treats an identical body inside the window as the same event, outside it as a new one", async () => {
    const { bloomreach } = await relay();
    let now = T;
    const { send, sent } = webhooksAt(() => now);

    const first = await send(login("win-1"));
    expect(first).toMatchObject({ status: 202, body: { accepted: 1, duplicates: 0 } });
    now = T + 10; // Antavo's redelivery, 10 s later
    const redelivery = await send(login("win-1"));
    expect(redelivery.body).toEqual({ accepted: 0, duplicates: 1, ids: first.body.ids });

    now = T + 601; // a second daily_login the next time the member logs in
    const later = await send(login("win-1"));
    expect(later.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(later.body.ids[0]).not.toBe(first.body.ids[0]);

    // Both events are real: the customer's object does not drop the second one either.
    expect(sent).toHaveLength(2);
    await deliver(sent);
    const logins = bloomreach.events().filter((e) => e.event_type === "loyalty_daily_login");
    expect(logins.map((e) => e.properties.antavo_event_id)).toEqual([first.body.ids[0], later.body.ids[0]]);
  });

  it("accepts every identical body when the window is 0", async () => {
    await relay();
    expect((await admin("/settings", { body: { ...settings, dedupeWindowSeconds: 0 } })).status).toBe(200);
    const { send, sent } = webhooksAt(() => T + 5_000);
    const answers = [await send(login("win-0")), await send(login("win-0"))];
    expect(answers.map((a) => a.body.accepted)).toEqual([1, 1]);
    expect(new Set(sent.map((m) => m.event.id)).size).toBe(2);
    expect((await admin("/settings", { body: { ...settings, dedupeWindowSeconds: 600 } })).status).toBe(200);
  });

  it("keeps a redelivery with an id a duplicate long after the window", async () => {
    await relay();
    let now = T;
    const { send } = webhooksAt(() => now);
    await send({ ...login("win-id"), id: "antavo-evt-9" });
    now = T + 20 * 24 * 3600;
    expect((await send({ ...login("win-id"), id: "antavo-evt-9" })).body).toEqual({
      accepted: 0,
      duplicates: 1,
      ids: ["antavo-evt-9"],
    });
  });
});

describe("the shapes Antavo's bodies take", () => {
  it("reads the customer id from customer._id and from a top-level customer_id", async () => {
    await relay();
    const { send, sent } = webhooksAt(() => T);
    expect((await send({ action: "point_add", customer: { _id: "under-1", email: "u@example.com" } })).status).toBe(
      202,
    );
    expect((await send({ action: "point_add", customer_id: "top-1", data: { points: 5 } })).status).toBe(202);
    expect(sent.map((m) => m.event.customerId)).toEqual(["under-1", "top-1"]);
  });

  it("names the customer path when no id is anywhere", async () => {
    await relay();
    const { send } = webhooksAt(() => T);
    const answer = await send({ action: "point_add", customer: { email: "nobody@example.com" } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.issues).toEqual([expect.objectContaining({ path: "customer" })]);
  });

  it("takes the event time from `timestamp` as ISO-8601 or milliseconds, `created_at` first", async () => {
    await relay();
    const { send, sent } = webhooksAt(() => T + 999);
    await send({ ...login("ts-1"), id: "ts-iso", timestamp: "2025-06-15T12:30:00.000Z" });
    await send({ ...login("ts-1"), id: "ts-ms", timestamp: 1_750_000_000_123 });
    await send({ ...login("ts-1"), id: "ts-both", created_at: 1_700_000_000, timestamp: "2025-06-15T12:30:00Z" });
    await send({ ...login("ts-1"), id: "ts-none" });
    expect(sent.map((m) => [m.event.id, m.event.createdAt])).toEqual([
      ["ts-iso", 1_749_990_600],
      ["ts-ms", 1_750_000_000],
      ["ts-both", 1_700_000_000],
      ["ts-none", T + 999],
    ]);
  });

  it("carries account and external_id to the Bloomreach event, with antavo_event_id", async () => {
    const { bloomreach } = await relay();
    const { send, sent } = webhooksAt(() => T);
    await send({ ...login("acct-1"), id: "acct-evt", account: "acc-7", external_id: "ext-42" });
    await deliver(sent);
    expect(bloomreach.events()).toEqual([
      expect.objectContaining({
        event_type: "loyalty_daily_login",
        properties: { antavo_event_id: "acct-evt", account: "acc-7", external_id: "ext-42" },
      }),
    ]);
  });
});

describe("one time per event", () => {
  it("stamps the mapping, the event sync and the workflow's commands with the event's own time", async () => {
    const { bloomreach } = await relay();
    const created = await admin("/workflows", {
      method: "POST",
      body: {
        name: "Gold",
        kind: "general",
        startsAt: null,
        endsAt: null,
        trigger: { type: "event", action: "tier_change" },
        filters: [],
        actions: [
          { type: "sync_event", event: "loyalty_tier_gold", properties: { tier: "{{event.tier}}" } },
          { type: "sync_fields", fields: { last_tier: "{{event.tier}}" } },
        ],
      },
    });
    expect(created.status).toBe(201);
    const { id } = await json(created);
    expect((await admin(`/workflows/${id}/activate`, { method: "POST" })).status).toBe(200);

    const eventTime = 1_750_000_000;
    const { send, sent } = webhooksAt(() => eventTime + 3_600); // received an hour after it happened
    await send({
      id: "time-1",
      action: "tier_change",
      customer: { id: "time-c", email: "time-c@example.com", score: 700 },
      data: { tier: "Gold" },
      timestamp: new Date(eventTime * 1000).toISOString(),
    });
    await deliver(sent);
    expect((await deliveryRow("time-1"))?.status).toBe("delivered");
    const events = bloomreach.events();
    const customers = bloomreach.customers();
    expect(events.map((e) => [e.event_type, e.timestamp])).toEqual([
      ["loyalty_tier_change", eventTime],
      ["loyalty_tier_gold", eventTime],
    ]);
    expect(customers.map((c) => [Object.keys(c.properties), c.update_timestamp])).toEqual([
      [["loyalty_points"], eventTime],
      [["last_tier"], eventTime],
    ]);
    expect(events.every((e) => e.properties.antavo_event_id === "time-1")).toBe(true);
    await admin(`/workflows/${id}/deactivate`, { method: "POST" });
  });
});
