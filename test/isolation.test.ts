/**
 * Failures are one event's, not its batch's (invariant 9): a poison message in a consumer batch, a
 * customer whose object throws, a group-commit member whose flush fails, and a sweeper facing rows it
 * cannot resend. Real bindings throughout; the vendor fakes fail closed.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDeps } from "../src/composition";
import { eventMessage, type QueueMessage } from "../src/domain/queue-message";
import { groupCommit } from "../src/lib/group-commit";
import { consumeEvents } from "../src/queue/consumer";
import type { CustomerStore } from "../src/services/delivery/ports";
import { sweepDeliveries } from "../src/services/housekeeping";
import { recordingQueue } from "./support/app";
import { demoMapping, demoSettings } from "./support/fixtures";
import { postWebhook } from "./support/http";
import { deliveryRow, relayEvent, relayWithFakes, runQueue } from "./support/pipeline";

const relay = relayWithFakes({ mapping: demoMapping, settings: demoSettings });

function nested(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe("a poison message in a consumer batch", () => {
  it("dead-letters the poison event with its reason and delivers the other 99 in one pass", async () => {
    const { bloomreach } = await relay();
    const good = Array.from({ length: 99 }, (_, i) => relayEvent({ id: `good-${i}`, customerId: `good-c${i}` }));
    const poison = relayEvent({ id: "poison-1", customerId: "poison-c", data: { deep: nested(3_000) } });
    const messages = [...good.slice(0, 50), poison, ...good.slice(50)].map((event) => ({
      body: eventMessage(event),
      id: `msg-${event.id}`,
    }));
    const result = await runQueue(messages);
    expect(result.retried).toEqual([]);
    expect(result.acked).toHaveLength(100);
    expect(bloomreach.events()).toHaveLength(99);
    const row = await deliveryRow("poison-1");
    expect(row?.status).toBe("dead");
    expect(row?.last_error).toMatch(/input limits: data\.deep(\.0)+: nests deeper than 32 levels/);
    expect((await deliveryRow("good-98"))?.status).toBe("delivered");
  });

  it("retries only the events of a customer whose object fails, and delivers the rest", async () => {
    const { bloomreach } = await relay();
    const deps = createDeps(env);
    // The real objects, except that one customer's object fails every plan call.
    const customerStore: CustomerStore = {
      ...deps.customerStore,
      plan: (customerId, call) =>
        customerId === "cursed-c"
          ? Promise.reject(new Error("object storage unavailable"))
          : deps.customerStore.plan(customerId, call),
    };
    const events = [
      relayEvent({ id: "iso-1", customerId: "calm-a" }),
      relayEvent({ id: "iso-2", customerId: "cursed-c" }),
      relayEvent({ id: "iso-3", customerId: "calm-b" }),
    ];
    const batch = createMessageBatch<QueueMessage>(
      "relay-events-local",
      events.map((event) => ({ id: `m-${event.id}`, timestamp: new Date(), attempts: 1, body: eventMessage(event) })),
    );
    const ctx = createExecutionContext();
    await consumeEvents(batch as MessageBatch<unknown>, { ...deps, customerStore });
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m-iso-1", "m-iso-3"]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m-iso-2"]);
    expect(bloomreach.events()).toHaveLength(2);
    const row = await deliveryRow("iso-2");
    expect(row?.status).toBe("retrying");
    expect(row?.last_error).toMatch(/planning failed: object storage unavailable/);
  });
});

describe("a poison webhook among concurrent ones", () => {
  it("answers the poison one 400 and every valid neighbour 202", async () => {
    await relay();
    const deep = `action=opt_in&customer=c-deep&data${"[a]".repeat(40)}=x`;
    const answers = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) =>
        postWebhook({ id: `nb-${i}`, action: "opt_in", customer: { id: `nb-c${i}`, email: `nb${i}@example.com` } }),
      ),
      postWebhook(undefined, { raw: deep, contentType: "application/x-www-form-urlencoded" }),
    ]);
    expect(answers.slice(0, 40).map((r) => r.status)).toEqual(Array(40).fill(202));
    expect(answers[40]!.status).toBe(400);
  });
});

describe("group commit", () => {
  it("settles each member on its own when a shared flush fails", async () => {
    const flushes: string[][] = [];
    const commit = groupCommit(async (items: string[]) => {
      flushes.push(items);
      if (items.includes("bad")) throw new Error("bad item in the group");
      return items.map((item) => `ok:${item}`);
    }, 50);
    const results = await Promise.allSettled(["a", "b", "bad", "c"].map((item) => commit(item)));
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
      "ok:a",
      "ok:b",
      "bad item in the group",
      "ok:c",
    ]);
    // The first caller flushes alone; the others share a group that fails, then go one by one.
    expect(flushes.some((group) => group.length > 1 && group.includes("bad"))).toBe(true);
  });
});

describe("the sweeper", () => {
  it("recovers a lost event while 500 rows it cannot resend are older", async () => {
    await relay();
    const deps = createDeps(env);
    const now = deps.now();
    const old = now - 3_600;
    const statements = Array.from({ length: 500 }, (_, i) =>
      env.DB.prepare(
        "insert into inbound_events (id, action, customer_id, payload, received_at) values (?, 'opt_in', 'c', ?, ?)",
      ).bind(`mangled-${String(i).padStart(3, "0")}`, '{"id": "x-\uFFFD', old - 500 + i),
    );
    await env.DB.batch(statements);
    const lost = relayEvent({ id: "lost-1", customerId: "lost-c", receivedAt: old + 60, createdAt: old + 60 });
    await env.DB.prepare(
      "insert into inbound_events (id, action, customer_id, payload, received_at) values (?, ?, ?, ?, ?)",
    )
      .bind(lost.id, lost.action, lost.customerId, JSON.stringify(lost), lost.receivedAt)
      .run();

    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<QueueMessage>);
    const report = await sweepDeliveries({ ...deps, queue: recorder.queue });
    expect(report.requeuedStuck).toBe(1);
    expect(recorder.sent.map((m) => m.event.id)).toEqual(["lost-1"]);
    expect((await deliveryRow("mangled-000"))?.last_error).toMatch(/cannot be read back/);

    // The next sweep has nothing left to try: the unreadable rows are dead, the lost one retrying.
    const again = recordingQueue(env.EVENTS_QUEUE as Queue<QueueMessage>);
    expect((await sweepDeliveries({ ...deps, queue: again.queue })).requeuedStuck).toBe(0);
  });
});

describe("dedupe keys", () => {
  it("are pruned by the sweeper once past their window or the retention, and kept before", async () => {
    await relay();
    const deps = createDeps(env);
    const now = deps.now();
    const keys: [string, number | null, number][] = [
      ["body:expired", now - 10, now - 700],
      ["body:live", now + 500, now - 100],
      ["id:ancient", null, now - 40 * 86_400],
      ["id:recent", null, now - 86_400],
    ];
    await env.DB.batch(
      keys.map(([key, expiresAt, claimedAt]) =>
        env.DB.prepare("insert into dedupe_keys (key, event_id, expires_at, claimed_at) values (?, ?, ?, ?)").bind(
          key,
          `e-${key}`,
          expiresAt,
          claimedAt,
        ),
      ),
    );
    await sweepDeliveries({ ...deps, queue: recordingQueue(env.EVENTS_QUEUE as Queue<QueueMessage>).queue });
    const left = await env.DB.prepare("select key from dedupe_keys where key in (?, ?, ?, ?) order by key")
      .bind(...keys.map(([key]) => key))
      .all<{ key: string }>();
    expect(left.results.map((r) => r.key)).toEqual(["body:live", "id:recent"]);
  });
});
