import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  runInDurableObject,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDeps } from "../src/composition";
import { runScheduled } from "../src/cron/scheduled";
import { openDatabase } from "../src/db/client";
import { inboundRules } from "../src/db/schema";
import { DEFAULT_SETTINGS } from "../src/domain/config";
import type { EventMessage } from "../src/domain/queue-message";
import type { CustomerSync } from "../src/durable/customer-sync";
import { consumeEvents } from "../src/queue/consumer";
import { deliverEvents } from "../src/services/deliver";
import { deliveryLog } from "../src/services/delivery/ports";
import { applyStaleSettlements, SETTLEMENT_GRACE_SECONDS } from "../src/services/settlement-sweep";
import { failingDeliveryLog } from "./support/d1-faults";
import { demoMapping } from "./support/fixtures";
import {
  asMessage,
  attemptRows,
  deliveryRow,
  EVENTS_QUEUE,
  relayEvent,
  relayWithFakes,
  runQueue,
} from "./support/pipeline";

const settings = { asyncSync: true, events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }] };
const relay = relayWithFakes({ mapping: demoMapping, settings });

/** The settlement outbox's rows for a customer. */
async function settlementRows(customerId: string) {
  const rows = await env.DB.prepare("select * from object_settlements where customer_id = ? order by id")
    .bind(customerId)
    .all<{ body: string; created_at: number }>();
  return rows.results.map((row) => ({ ...row, event_id: (JSON.parse(row.body) as { eventId: string }).eventId }));
}

/** The event's record as the customer's object holds it. */
async function objectRecord(customerId: string, eventId: string) {
  const stub = env.CUSTOMER_SYNC.get(
    env.CUSTOMER_SYNC.idFromName(customerId),
  ) as unknown as DurableObjectStub<CustomerSync>;
  return runInDurableObject(stub, async (instance: CustomerSync) => (await instance.inspect(eventId)).event);
}

/** Runs the consumer with the real bindings but some dependencies replaced. */
async function consumeWith(messages: ReturnType<typeof asMessage>[], overrides: Record<string, unknown>) {
  const batch = createMessageBatch<EventMessage>(
    EVENTS_QUEUE,
    messages.map((m) => ({ id: m.id!, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
  );
  const ctx = createExecutionContext();
  await consumeEvents(batch as MessageBatch<unknown>, { ...createDeps(env), ...overrides });
  return getQueueResult(batch, ctx);
}

describe("Bloomreach faults", () => {
  it("retries a 429 no sooner than Retry-After, then delivers once", async () => {
    const { bloomreach } = await relay();
    bloomreach.script({ status: 429, retryAfter: 120 });
    const event = relayEvent({ id: "rl-1", customerId: "rl-c" });
    const first = await runQueue([asMessage(event)]);
    expect(first.acked).toEqual([]);
    expect(first.retryDelay("msg-rl-1")).toBeGreaterThanOrEqual(120);
    const row = await deliveryRow("rl-1");
    expect(row).toMatchObject({ status: "retrying", attempts: 1 });
    expect(row!.last_error).toMatch(/429/);
    expect(row!.next_attempt_at).toBeGreaterThan(row!.updated_at + 119);

    const second = await runQueue([asMessage(event, 2)]);
    expect(second.acked).toEqual(["msg-rl-1"]);
    expect(bloomreach.events()).toHaveLength(1);
    expect(await deliveryRow("rl-1")).toMatchObject({ status: "delivered", attempts: 2 });
    expect((await attemptRows("rl-1")).map((a) => [a.attempt, a.outcome, a.http_status])).toEqual([
      [1, "retry", 429],
      [2, "delivered", 200],
    ]);
  });

  it("backs off exponentially with jitter when a 429 has no Retry-After", async () => {
    const { bloomreach } = await relay();
    bloomreach.script({ status: 429 }, { status: 429 });
    const first = await runQueue([asMessage(relayEvent({ id: "rl-2", customerId: "rl-c2" }), 1)]);
    expect(first.retryDelay("msg-rl-2")).toBeGreaterThanOrEqual(5);
    expect(first.retryDelay("msg-rl-2")).toBeLessThanOrEqual(10);
    const fifth = await runQueue([asMessage(relayEvent({ id: "rl-2", customerId: "rl-c2" }), 5)]);
    expect(fifth.retryDelay("msg-rl-2")).toBeGreaterThanOrEqual(80);
    expect(fifth.retryDelay("msg-rl-2")).toBeLessThanOrEqual(160);
  });

  it.each([500, 503])("retries a %i and keeps nothing half-done", async (status) => {
    const { bloomreach } = await relay();
    bloomreach.script({ status });
    const event = relayEvent({ id: `http-${status}`, customerId: `http-${status}-c` });
    expect((await runQueue([asMessage(event)])).retried).toHaveLength(1);
    expect(bloomreach.events()).toHaveLength(0);
    expect((await runQueue([asMessage(event, 2)])).acked).toHaveLength(1);
    expect(bloomreach.events()).toHaveLength(1);
    expect(bloomreach.customers()).toHaveLength(1);
  });

  it("retries a reset connection", async () => {
    const { bloomreach } = await relay();
    bloomreach.script({ kind: "reset" });
    const result = await runQueue([asMessage(relayEvent({ id: "reset-1", customerId: "reset-c" }))]);
    expect(result.retried).toHaveLength(1);
    expect((await deliveryRow("reset-1"))?.status).toBe("retrying");
  });

  it("retries a call that times out", async () => {
    const { bloomreach } = await relay();
    bloomreach.script({ kind: "timeout" });
    const message = asMessage(relayEvent({ id: "slow-1", customerId: "slow-c" }));
    const result = await consumeWith([message], { vendorTimeoutMs: 5 });
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["msg-slow-1"]);
    expect((await deliveryRow("slow-1"))?.last_error).toMatch(/timeout/);
  });

  it("dead-letters the whole batch on a batch-level 400 with Bloomreach's message", async () => {
    const { bloomreach } = await relay();
    bloomreach.script({ status: 400, body: { success: false, message: "Invalid JSON" } });
    const result = await runQueue([asMessage(relayEvent({ id: "bad-1", customerId: "bad-c" }))]);
    expect(result.acked).toEqual(["msg-bad-1"]);
    const row = await deliveryRow("bad-1");
    expect(row).toMatchObject({ status: "dead" });
    expect(row!.last_error).toMatch(/Invalid JSON/);
  });

  it("dead-letters only the event whose command Bloomreach refused", async () => {
    const { bloomreach } = await relay();
    bloomreach.failCommands(
      (c) => c.data.customer_ids.registered === "refused-c@example.com" && c.name === "customers/events",
      "Event type is invalid",
    );
    const refused = relayEvent({ id: "cmd-refused", customerId: "refused-c" });
    const fine = relayEvent({ id: "cmd-fine", customerId: "fine-c" });
    const result = await runQueue([asMessage(refused), asMessage(fine)]);
    expect(result.acked.sort()).toEqual(["msg-cmd-fine", "msg-cmd-refused"]);
    expect(await deliveryRow("cmd-fine")).toMatchObject({ status: "delivered" });
    const row = await deliveryRow("cmd-refused");
    expect(row).toMatchObject({ status: "dead" });
    // The last error says which of the event's commands Bloomreach refused, then Bloomreach's words.
    expect(row!.last_error).toBe("event loyalty_opt_in refused by Bloomreach: Event type is invalid");
    // The attempt says the same; the command's own result keeps Bloomreach's words alone.
    const [attempt] = await attemptRows("cmd-refused");
    expect(attempt!.error).toBe("event loyalty_opt_in refused by Bloomreach: Event type is invalid");
    expect(JSON.parse(attempt!.response).results).toEqual([
      { status: "delivered" },
      { status: "dead", error: "Event type is invalid" },
    ]);
    // The refused event's profile update did reach Bloomreach; only its event command is dead.
    expect(bloomreach.customers().some((c) => c.customer_ids.registered === "refused-c@example.com")).toBe(true);
  });

  it("gives up with a dead letter once the retry budget is spent", async () => {
    const { bloomreach } = await relay();
    bloomreach.script({ status: 503 });
    const result = await runQueue([asMessage(relayEvent({ id: "budget-1", customerId: "budget-c" }), 20)]);
    expect(result.acked).toEqual(["msg-budget-1"]);
    expect((await deliveryRow("budget-1"))?.last_error).toMatch(/gave up after 20 attempts: .*503/);
  });
});

describe("the rate limiter's object failing", () => {
  it("turns the calls it could not admit into retries of their events, and records the batch", async () => {
    const { bloomreach } = await relay();
    const broken = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: () => ({
        reserve: async () => {
          throw new Error("rate limiter object reset");
        },
      }),
    };
    const events = [
      relayEvent({ id: "rlo-1", customerId: "rlo-c1" }),
      relayEvent({ id: "rlo-2", customerId: "rlo-c2" }),
    ];
    const result = await consumeWith(
      events.map((e) => asMessage(e)),
      { rateLimiter: broken },
    );
    // Nothing reached Bloomreach, nothing hung, and each event is retried on its own with the reason.
    expect(bloomreach.calls).toBe(0);
    expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual(["msg-rlo-1", "msg-rlo-2"]);
    const row = await deliveryRow("rlo-1");
    expect(row).toMatchObject({ status: "retrying" });
    expect(row?.last_error).toMatch(/Bloomreach call not made: rate limiter object reset/);
  });
});

describe("a batch of both directions", () => {
  it("fails only after the Bloomreach side has finished and logged, when the Antavo side throws", async () => {
    const { bloomreach } = await relay();
    const real = createDeps(env);
    // The Antavo side's first read (its rules) fails; every other read works.
    const db = new Proxy(real.db, {
      get(target, prop, receiver) {
        if (prop !== "select") return Reflect.get(target, prop, receiver);
        return (...args: Parameters<typeof target.select>) => {
          const builder = target.select(...args);
          return new Proxy(builder, {
            get(b, p, r) {
              if (p !== "from") return Reflect.get(b, p, r);
              return (table: unknown) => {
                if (table === inboundRules) throw new Error("D1 hiccup on the rules");
                return b.from(table as never);
              };
            },
          });
        };
      },
    });
    const toBloomreach = relayEvent({ id: "mixed-br-1", customerId: "mixed-c1" });
    const toAntavo = relayEvent({
      id: "br-mixed-1",
      customerId: "mixed-c2",
      bloomreach: { customerIds: { registered: "x@example.com" } },
    });
    await expect(
      deliverEvents({ ...real, db }, [
        { event: toBloomreach, attempt: 1 },
        { event: toAntavo, attempt: 1 },
      ]),
    ).rejects.toThrow("D1 hiccup on the rules");
    // By the time the batch failed, the Bloomreach side had sent and logged its event: the
    // one-by-one pass that follows finds it delivered instead of sending it beside a live send.
    expect(bloomreach.events()).toHaveLength(1);
    expect(await deliveryRow("mixed-br-1")).toMatchObject({ status: "delivered" });
  });
});

describe("crashes and D1 faults", () => {
  it("does not send an event again when the consumer fails after Bloomreach's success (log write error)", async () => {
    const { bloomreach } = await relay();
    const faulty = failingDeliveryLog(env.DB);
    const event = relayEvent({ id: "crash-1", customerId: "crash-c" });
    const db = openDatabase(faulty.db);
    const first = await consumeWith([asMessage(event)], { db, deliveryLog: deliveryLog(db) });
    expect(faulty.failuresLeft()).toBe(0);
    // Not acked: the platform will deliver the message again.
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages.map((m) => m.msgId)).toEqual(["msg-crash-1"]);
    expect(bloomreach.events()).toHaveLength(1);

    const second = await runQueue([asMessage(event, 2)]);
    expect(second.acked).toEqual(["msg-crash-1"]);
    expect(bloomreach.events()).toHaveLength(1);
    expect(bloomreach.duplicateEvents()).toEqual([]);
    // The log catches up and tells the story.
    expect(await deliveryRow("crash-1")).toMatchObject({ status: "delivered" });
  });

  it("settles through the outbox: one object call per customer, the outcome in D1 before the ack", async () => {
    const { bloomreach } = await relay();
    const real = createDeps(env);
    const calls: string[] = [];
    const counting = {
      ...real.customerStore,
      plan: (customerId: string, call: Parameters<typeof real.customerStore.plan>[1]) => {
        calls.push(`plan ${customerId}`);
        return real.customerStore.plan(customerId, call);
      },
      settle: (customerId: string, results: Parameters<typeof real.customerStore.settle>[1]) => {
        calls.push(`settle ${customerId}`);
        return real.customerStore.settle(customerId, results);
      },
    };
    const events = [
      relayEvent({ id: "ob-1", customerId: "ob-a" }),
      relayEvent({ id: "ob-2", customerId: "ob-a", createdAt: 1_767_225_601 }),
      relayEvent({ id: "ob-3", customerId: "ob-b" }),
    ];
    const result = await consumeWith(
      events.map((e) => asMessage(e)),
      { customerStore: counting },
    );
    expect(result.explicitAcks.sort()).toEqual(["msg-ob-1", "msg-ob-2", "msg-ob-3"]);
    expect(calls.sort()).toEqual(["plan ob-a", "plan ob-b"]);
    expect(bloomreach.events()).toHaveLength(3);
    const waiting = await settlementRows("ob-a");
    expect(waiting.map((r) => r.event_id).sort()).toEqual(["ob-1", "ob-2"]);
    expect(JSON.parse(waiting.find((r) => r.event_id === "ob-1")!.body)).toMatchObject({
      eventId: "ob-1",
      delivered: ["ob-1#0", "ob-1#1"],
      dead: [],
    });
  });

  it("carries the waiting outcome with the customer's next plan: a redelivered message sends nothing", async () => {
    const { bloomreach } = await relay();
    const event = relayEvent({ id: "carry-1", customerId: "carry-c" });
    expect((await runQueue([asMessage(event)])).acked).toEqual(["msg-carry-1"]);
    expect(await settlementRows("carry-c")).toHaveLength(1);
    // Not yet in the object: the record still lists its commands as pending.
    expect((await objectRecord("carry-c", "carry-1"))?.state).toBe("planned");

    // At-least-once: the platform delivers the message again.
    expect((await runQueue([asMessage(event)])).acked).toEqual(["msg-carry-1"]);
    expect(bloomreach.events()).toHaveLength(1);
    expect(bloomreach.duplicateEvents()).toEqual([]);
    expect((await objectRecord("carry-c", "carry-1"))?.outcome).toEqual({ status: "delivered" });
    expect(await settlementRows("carry-c")).toEqual([]);
  });

  it("sends a refused field again on the customer's next event: the refusal reaches the object first", async () => {
    const { bloomreach } = await relay();
    let refusing = true;
    bloomreach.failCommands((c) => refusing && c.name === "customers", "Property value too long");
    const customer = { email: "refused@example.com", first_name: "Ada", score: 100 };
    const first = relayEvent({ id: "rf-1", customerId: "rf-c", customer });
    await runQueue([asMessage(first)]);
    expect((await deliveryRow("rf-1"))?.status).toBe("dead");
    expect(bloomreach.customers()).toHaveLength(0);

    refusing = false;
    // The same values again: unchanged fields are not sent, but these never reached Bloomreach.
    await runQueue([asMessage(relayEvent({ id: "rf-2", customerId: "rf-c", customer, createdAt: 1_767_225_700 }))]);
    expect(bloomreach.customers().map((c) => c.properties)).toEqual([
      expect.objectContaining({ first_name: "Ada", loyalty_points: 100 }),
    ]);
  });

  it("applies the outcomes no plan call carried in the minute cron, and leaves fresh ones to the plans", async () => {
    await relay();
    const event = relayEvent({ id: "sweep-1", customerId: "sweep-c" });
    await runQueue([asMessage(event)]);
    const [row] = await settlementRows("sweep-c");
    const tick = (at: number) =>
      runScheduled(createScheduledController({ scheduledTime: new Date(at * 1000), cron: "* * * * *" }), {
        ...createDeps(env),
      });
    await tick(row!.created_at + 30);
    expect(await settlementRows("sweep-c")).toHaveLength(1);
    expect((await objectRecord("sweep-c", "sweep-1"))?.state).toBe("planned");
    // (The file's earlier tests left theirs in the outbox too: the sweep takes every stale one.)
    await tick(row!.created_at + SETTLEMENT_GRACE_SECONDS);
    expect(await settlementRows("sweep-c")).toEqual([]);
    expect((await objectRecord("sweep-c", "sweep-1"))?.outcome).toEqual({ status: "delivered" });
  });

  it("sweeps past a customer whose object fails: its rows stay for the next run, the others' go", async () => {
    await relay();
    await runQueue([asMessage(relayEvent({ id: "sf-1", customerId: "sf-bad" }))]);
    await runQueue([asMessage(relayEvent({ id: "sf-2", customerId: "sf-good" }))]);
    const [bad] = await settlementRows("sf-bad");
    const real = createDeps(env);
    const failing = {
      settle: async (customerId: string, results: Parameters<typeof real.customerStore.settle>[1]) => {
        if (customerId === "sf-bad") throw new Error("the object is overloaded");
        return real.customerStore.settle(customerId, results);
      },
    };
    await applyStaleSettlements({ db: real.db, customerStore: failing, now: () => bad!.created_at + 3600 });
    expect(await settlementRows("sf-bad")).toHaveLength(1);
    expect(await settlementRows("sf-good")).toEqual([]);
  });

  it("drops a stale row no object can read instead of keeping it forever", async () => {
    await relay();
    const at = 1_767_225_600;
    await env.DB.prepare("insert into object_settlements (customer_id, body, created_at) values (?, ?, ?)")
      .bind("unreadable-c", "{not json", at)
      .run();
    const real = createDeps(env);
    const left = () =>
      env.DB.prepare("select count(*) as n from object_settlements where customer_id = ?")
        .bind("unreadable-c")
        .first("n");
    expect(await left()).toBe(1);
    await applyStaleSettlements({ db: real.db, customerStore: real.customerStore, now: () => at + 3600 });
    expect(await left()).toBe(0);
  });

  it("resends on retry the commands planned but not yet delivered", async () => {
    const { bloomreach } = await relay();
    bloomreach.script({ status: 502 });
    const event = relayEvent({ id: "pending-1", customerId: "pending-c" });
    await runQueue([asMessage(event)]);
    expect(bloomreach.commands).toHaveLength(0);
    await runQueue([asMessage(event, 2)]);
    expect(bloomreach.commands.map((c) => c.name)).toEqual(["customers", "customers/events"]);
  });

  it("keeps an event dead when part of it was refused on an earlier attempt and the rest goes through later", async () => {
    const { bloomreach } = await relay();
    const event = relayEvent({ id: "half-1", customerId: "half-c" });
    // An earlier attempt: the profile update was refused for good, the event command still pending.
    const stub = env.CUSTOMER_SYNC.get(
      env.CUSTOMER_SYNC.idFromName("half-c"),
    ) as unknown as DurableObjectStub<CustomerSync>;
    const config = {
      mapping: demoMapping,
      settings: {
        ...settings,
        ...DEFAULT_SETTINGS,
        events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }],
      },
      workflows: [],
    };
    await runInDurableObject(stub, async (instance: CustomerSync) => {
      await instance.plan({ config, events: [event], canEnrich: false, now: 1 });
      await instance.settle([
        { eventId: "half-1", delivered: [], dead: [{ id: "half-1#0", error: "Property value too long" }] },
      ]);
    });

    const result = await runQueue([asMessage(event, 2)]);
    expect(result.acked).toEqual(["msg-half-1"]);
    expect(bloomreach.events()).toHaveLength(1);
    const row = await deliveryRow("half-1");
    expect(row).toMatchObject({ status: "dead" });
    expect(row!.last_error).toMatch(/Property value too long/);
  });
});
