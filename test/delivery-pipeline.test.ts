import { env } from "cloudflare:test";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { createDeps } from "../src/composition";
import { CLAIM_INFLIGHT_SECONDS } from "../src/domain/customer-state";
import { deliverEvents } from "../src/services/deliver";
import { demoMapping } from "./support/fixtures";
import { admin, json } from "./support/http";
import { ANTAVO, asMessage, attemptRows, deliveryRow, relayEvent, relayWithFakes, runQueue } from "./support/pipeline";

const settings = {
  asyncSync: true,
  events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }, { action: "point_add" }],
};
const relay = relayWithFakes({ mapping: demoMapping, settings });

/**
 * Creates and activates a workflow on `action`; answers its id. D1 outlives the test, so it is
 * deleted when the test ends, before it can run in the tests after this one.
 */
async function activeWorkflow(action: string, actions: unknown[]): Promise<string> {
  const created = await admin("/workflows", {
    method: "POST",
    body: { name: `on ${action}: ${JSON.stringify(actions)}`, trigger: { type: "event", action }, actions },
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const { id } = await json(created);
  onTestFinished(async () => {
    await admin(`/workflows/${id}`, { method: "DELETE" });
  });
  expect((await admin(`/workflows/${id}/activate`, { method: "POST" })).status).toBe(200);
  return id as string;
}

describe("delivery pipeline", () => {
  it("sends the plan config to an object only when it may not hold it: first call, or not called lately", async () => {
    await relay();
    const real = createDeps(env);
    const carried: boolean[] = [];
    let now = 1_767_225_600;
    const deps = {
      ...real,
      now: () => now,
      customerStore: {
        ...real.customerStore,
        plan: (customerId: string, call: Parameters<typeof real.customerStore.plan>[1]) => {
          carried.push(call.config !== undefined);
          return real.customerStore.plan(customerId, call);
        },
      },
    };
    for (const [i, at] of [0, 2, 4, 30].entries()) {
      now = 1_767_225_600 + at;
      const event = relayEvent({ id: `cfg-${i}`, customerId: "cfg-c", createdAt: now });
      expect((await deliverEvents(deps, [{ event, attempt: 1 }])).outcomes.get(event.id)).toEqual({
        status: "delivered",
      });
    }
    expect(carried).toEqual([true, false, false, true]);
  });

  it("carries to the object only the workflows the customer's events can trigger", async () => {
    const { bloomreach } = await relay();
    const ids = [
      await activeWorkflow("opt_in", [{ type: "sync_event", event: "wf_welcome" }]),
      await activeWorkflow("point_add", [{ type: "sync_event", event: "wf_points" }]),
      await activeWorkflow("tier_change", [{ type: "sync_event", event: "wf_tier" }]),
    ];
    const real = createDeps(env);
    const carried: string[][] = [];
    const deps = {
      ...real,
      customerStore: {
        ...real.customerStore,
        plan: (customerId: string, call: Parameters<typeof real.customerStore.plan>[1]) => {
          if (call.config) carried.push(call.config.workflows.map((w) => w.id));
          return real.customerStore.plan(customerId, call);
        },
      },
    };
    const event = relayEvent({ id: "slim-1", customerId: "slim-c" });
    expect((await deliverEvents(deps, [{ event, attempt: 1 }])).outcomes.get(event.id)).toEqual({
      status: "delivered",
    });
    expect(carried).toEqual([[ids[0]]]);
    expect(bloomreach.events().map((e) => e.event_type)).toEqual(["loyalty_opt_in", "wf_welcome"]);
  });

  it("delivers the commands of many customers together and logs each delivery with its attempt", async () => {
    const { bloomreach } = await relay();
    const events = Array.from({ length: 30 }, (_, i) => relayEvent({ id: `many-${i}`, customerId: `many-c${i}` }));
    const result = await runQueue(events.map((e) => asMessage(e)));

    expect(result.acked.sort()).toEqual(events.map((e) => `msg-${e.id}`).sort());
    // 30 customers x (profile + opt-in event) = 60 commands: two calls, not sixty.
    expect(bloomreach.calls).toBe(2);
    expect(bloomreach.events()).toHaveLength(30);
    expect(bloomreach.customers()).toHaveLength(30);
    expect(bloomreach.events()[0]).toMatchObject({
      customer_ids: { registered: "many-c0@example.com" },
      event_type: "loyalty_opt_in",
      timestamp: 1_767_225_600,
    });
    bloomreach.assertNoUnexpected();

    const row = await deliveryRow("many-7");
    expect(row).toMatchObject({ status: "delivered", customer_id: "many-c7", attempts: 1 });
    expect(JSON.parse(row!.commands)).toHaveLength(2);
    // A first try Bloomreach took in full keeps no attempt rows; the detail shows it from the row.
    expect(await attemptRows("many-7")).toEqual([]);
    const detail = await json(await admin("/deliveries/many-7"));
    expect(detail.attemptLog).toEqual([
      expect.objectContaining({ attempt: 1, target: "bloomreach", outcome: "delivered", httpStatus: 200 }),
    ]);
    expect(detail.attemptLog[0].request).toHaveLength(2);
  });

  it("mirrors the customer into D1 for date workflows", async () => {
    await relay();
    await runQueue([
      asMessage(
        relayEvent({
          id: "mirror-1",
          customerId: "mirror-c",
          customer: { email: "m@example.com", birth_date: "1990-02-14" },
        }),
      ),
    ]);
    const row = await env.DB.prepare("select * from customers where id = ?")
      .bind("mirror-c")
      .first<Record<string, any>>();
    expect(row).toMatchObject({ email: "m@example.com", birth_month_day: "02-14" });
    expect(JSON.parse(row!.snapshot)).toMatchObject({ id: "mirror-c", birth_date: "1990-02-14" });
  });

  it("sends only changed fields on the next update", async () => {
    const { bloomreach } = await relay();
    await runQueue([
      asMessage(
        relayEvent({
          id: "diff-1",
          customerId: "diff-c",
          action: "point_add",
          customer: { email: "d@example.com", first_name: "Ada", score: 100 },
        }),
      ),
    ]);
    await runQueue([
      asMessage(
        relayEvent({
          id: "diff-2",
          customerId: "diff-c",
          action: "point_add",
          createdAt: 1_767_225_700,
          customer: { email: "d@example.com", first_name: "Ada", score: 150 },
        }),
      ),
    ]);
    expect(bloomreach.customers().map((c) => c.properties)).toEqual([
      { first_name: "Ada", loyalty_points: 100 },
      { loyalty_points: 150 },
    ]);
  });

  it("never lets an older update overwrite a newer one, whichever arrives first", async () => {
    const { bloomreach } = await relay();
    const older = relayEvent({
      id: "order-old",
      customerId: "order-c",
      action: "point_add",
      createdAt: 1_767_225_600,
      customer: { email: "o@example.com", score: 10 },
    });
    const newer = relayEvent({
      id: "order-new",
      customerId: "order-c",
      action: "point_add",
      createdAt: 1_767_225_900,
      customer: { email: "o@example.com", score: 20 },
    });
    await runQueue([asMessage(newer)]);
    await runQueue([asMessage(older)]);
    const points = bloomreach.customers().filter((c) => "loyalty_points" in c.properties);
    expect(points).toEqual([
      expect.objectContaining({ properties: { loyalty_points: 20 }, update_timestamp: 1_767_225_900 }),
    ]);
    // The older event's own Bloomreach event still goes out, at its own time.
    expect(
      bloomreach
        .events()
        .map((e) => e.timestamp)
        .sort(),
    ).toEqual([1_767_225_600, 1_767_225_900]);
    expect((await deliveryRow("order-old"))?.status).toBe("delivered");
  });

  it("orders one customer's events by time inside a batch", async () => {
    const { bloomreach } = await relay();
    const first = relayEvent({
      id: "batch-a",
      customerId: "batch-c",
      action: "point_add",
      createdAt: 100,
      customer: { email: "b@example.com", score: 1 },
    });
    const second = relayEvent({
      id: "batch-b",
      customerId: "batch-c",
      action: "point_add",
      createdAt: 200,
      customer: { email: "b@example.com", score: 2 },
    });
    await runQueue([asMessage(second), asMessage(first)]);
    expect(bloomreach.customers().map((c) => [c.properties.loyalty_points, c.update_timestamp])).toEqual([
      [1, 100],
      [2, 200],
    ]);
  });

  it("sends an event redelivered five times to Bloomreach once", async () => {
    const { bloomreach } = await relay();
    const event = relayEvent({ id: "five-times", customerId: "five-c" });
    for (let attempt = 1; attempt <= 5; attempt++) {
      const result = await runQueue([asMessage(event, attempt)]);
      expect(result.acked).toEqual(["msg-five-times"]);
    }
    expect(bloomreach.events()).toHaveLength(1);
    expect(bloomreach.duplicateEvents()).toEqual([]);
  });

  it("answers a message twice in one batch once", async () => {
    const { bloomreach } = await relay();
    const event = relayEvent({ id: "same-batch", customerId: "same-batch-c" });
    const result = await runQueue([
      { ...asMessage(event), id: "m1" },
      { ...asMessage(event), id: "m2" },
    ]);
    expect(result.acked.sort()).toEqual(["m1", "m2"]);
    expect(bloomreach.events()).toHaveLength(1);
  });

  it("dead-letters an event whose customer cannot be identified, with the reason", async () => {
    await relay();
    const result = await runQueue([
      asMessage(relayEvent({ id: "no-email", customerId: "anon", customer: { first_name: "Nobody" } })),
    ]);
    expect(result.acked).toEqual(["msg-no-email"]);
    const row = await deliveryRow("no-email");
    expect(row).toMatchObject({ status: "dead" });
    expect(row!.last_error).toMatch(/hard-ID field "email"/);
  });

  it("records what the dead-letter queue gives up on, without overwriting a delivered event", async () => {
    await relay();
    await runQueue([asMessage(relayEvent({ id: "dlq-done", customerId: "dlq-c1" }))]);
    const lost = relayEvent({ id: "dlq-lost", customerId: "dlq-c2" });
    const result = await runQueue(
      [asMessage(lost, 21), asMessage(relayEvent({ id: "dlq-done", customerId: "dlq-c1" }), 21)],
      "relay-events-dlq-local",
    );
    expect(result.acked.sort()).toEqual(["msg-dlq-done", "msg-dlq-lost"]);
    expect(await deliveryRow("dlq-lost")).toMatchObject({
      status: "dead",
      last_error: "the queue gave up after 21 attempts",
    });
    expect((await deliveryRow("dlq-done"))?.status).toBe("delivered");
  });

  it("keeps one customer's commands in order when they span two Bloomreach calls", async () => {
    const { bloomreach } = await relay();
    // The first batch call is slow: without ordering, the customer's second call would overtake it.
    const send = bloomreach.fetch;
    let delayed = false;
    bloomreach.fetch = async (input, init) => {
      if (!delayed && String(input instanceof Request ? input.url : input).endsWith("/batch")) {
        delayed = true;
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return send(input, init);
    };
    const events = Array.from({ length: 60 }, (_, i) =>
      relayEvent({ id: `span-${i}`, customerId: "span-c", createdAt: 1_000 + i }),
    );
    await runQueue(events.map((e) => asMessage(e)).reverse());
    expect(bloomreach.calls).toBe(2);
    const times = bloomreach.events().map((e) => e.timestamp);
    expect(times).toHaveLength(60);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe("the delivery batch log line", () => {
  it("reports each consumer batch once: its id, outcomes by status and the time of each stage", async () => {
    await relay();
    const lines: Record<string, unknown>[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      if (typeof line === "string" && line.startsWith("{")) lines.push(JSON.parse(line));
    });
    try {
      const events = [
        relayEvent({ id: "line-1", customerId: "line-c1" }),
        relayEvent({ id: "line-2", customerId: "line-c1", createdAt: 1_767_225_700 }),
        relayEvent({ id: "line-3", customerId: "line-c2" }),
      ];
      await runQueue(events.map((e, i) => ({ ...asMessage(e), id: `line-msg-${i}` })));
    } finally {
      spy.mockRestore();
    }
    const batches = lines.filter((l) => l.message === "delivery batch");
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({
      level: "info",
      queue: "relay-events-local",
      batchId: "line-msg-0",
      direction: "to_bloomreach",
      events: 3,
      outcomes: { delivered: 3 },
      logged: true,
    });
    const stageMs = batches[0]!.stageMs as Record<string, number>;
    expect(Object.keys(stageMs)).toEqual(["context", "plan", "claim", "send", "log"]);
    for (const ms of Object.values(stageMs)) expect(ms).toBeGreaterThanOrEqual(0);
  });
});

describe("reward claims in a batch", () => {
  const withAntavo = relayWithFakes({ mapping: demoMapping, settings, antavo: true });

  /** Every mapped field present: no enrichment lookup goes to Antavo before the claim. */
  const complete = (id: string) => ({
    email: `${id}@example.com`,
    first_name: "Ada",
    score: 100,
    tiers: [{ name: "Gold" }],
  });

  /** An active workflow that claims `rewardId` on opt_in; deleted after the test. */
  const claimingWorkflow = (rewardId: string) => activeWorkflow("opt_in", [{ type: "reward_claim", rewardId }]);

  it("claims once even when the object answers nothing for it (another batch recorded it first)", async () => {
    const { antavo } = await withAntavo();
    await claimingWorkflow("rw-once");
    const real = createDeps(env);
    const deps = { ...real, customerStore: { ...real.customerStore, completeClaims: async () => [] } };
    const event = relayEvent({ id: "claim-once-1", customerId: "claim-once-c" });
    const report = await deliverEvents(deps, [{ event, attempt: 1 }]);
    // Antavo refuses it (no such reward there): a dead claim is as final as a made one.
    expect(antavo.requests.filter((r) => r.path.endsWith("/rewards/rw-once/claim"))).toHaveLength(1);
    // Done in this batch: not left listed (a second round would find it taken and retry the event).
    expect(report.outcomes.get(event.id)?.status).not.toBe("retry");
  });

  it("ends outcome_unknown, with one call, when the claim call times out (Antavo may have made it)", async () => {
    const { antavo } = await withAntavo();
    antavo.seedReward({ id: "rw-to", price: 0 });
    await claimingWorkflow("rw-to");
    antavo.script({ kind: "timeout" });
    const deps = { ...createDeps(env), vendorTimeoutMs: 5 };
    const event = relayEvent({ id: "claim-to-1", customerId: "claim-to-c", customer: complete("claim-to-c") });
    const first = await deliverEvents(deps, [{ event, attempt: 1 }]);
    expect(first.outcomes.get(event.id)).toMatchObject({
      status: "outcome_unknown",
      error: expect.stringMatching(/rw-to/),
    });
    expect(await deliveryRow("claim-to-1")).toMatchObject({ status: "outcome_unknown" });
    // Delivered again (a redelivery): the claim is not made a second time.
    await deliverEvents(deps, [{ event, attempt: 2 }]);
    expect(antavo.requests.filter((r) => r.path.endsWith("/rewards/rw-to/claim"))).toHaveLength(1);
  });

  it("marks the event dead when Antavo refuses its claim, even though its commands were delivered", async () => {
    const { antavo, bloomreach } = await withAntavo();
    await claimingWorkflow("rw-missing");
    const event = relayEvent({ id: "claim-refused-1", customerId: "claim-refused-c" });
    const report = await deliverEvents(createDeps(env), [{ event, attempt: 1 }]);
    expect(bloomreach.events().map((e) => e.event_type)).toContain("loyalty_opt_in");
    expect(antavo.requests.filter((r) => r.path.endsWith("/rewards/rw-missing/claim"))).toHaveLength(1);
    expect(report.outcomes.get(event.id)).toMatchObject({
      status: "dead",
      error: expect.stringMatching(/reward claim rw-missing/),
    });
  });

  it("retries a claim whose call never started (the budget's object threw), and makes it once later", async () => {
    const { antavo } = await withAntavo();
    antavo.seedReward({ id: "rw-later", price: 0 }).seedCustomer({ id: "claim-later-c", ...complete("claim-later-c") });
    await claimingWorkflow("rw-later");
    const real = createDeps(env);
    const broken = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = env.RATE_LIMITER.get(id);
        // Only Antavo's budget fails; Bloomreach's limiter works.
        return String(id) === String(env.RATE_LIMITER.idFromName(`antavo:${new URL(ANTAVO.baseUrl).host}`))
          ? { reserve: async () => Promise.reject(new Error("budget object reset")), backOff: async () => 0 }
          : stub;
      },
    };
    const event = relayEvent({ id: "claim-later-1", customerId: "claim-later-c", customer: complete("claim-later-c") });
    const first = await deliverEvents({ ...real, rateLimiter: broken as never }, [{ event, attempt: 1 }]);
    expect(first.outcomes.get(event.id)).toMatchObject({ status: "retry" });
    expect(antavo.requests.filter((r) => r.path.endsWith("/rewards/rw-later/claim"))).toHaveLength(0);
    const second = await deliverEvents(real, [{ event, attempt: 2 }]);
    expect(second.outcomes.get(event.id)).toEqual({ status: "delivered" });
    expect(antavo.requests.filter((r) => r.path.endsWith("/rewards/rw-later/claim"))).toHaveLength(1);
  });

  it("takes and records one customer's claims before it takes the next customer's", async () => {
    const { antavo } = await withAntavo();
    antavo.seedReward({ id: "rw-seq", price: 0 });
    for (const id of ["seq-a", "seq-b"]) antavo.seedCustomer({ id, ...complete(id) });
    await claimingWorkflow("rw-seq");
    const real = createDeps(env);
    const order: string[] = [];
    const store = real.customerStore;
    const deps = {
      ...real,
      customerStore: {
        ...store,
        startClaims: (...args: Parameters<typeof store.startClaims>) => {
          order.push(`take ${args[0]}`);
          return store.startClaims(...args);
        },
        completeClaims: (...args: Parameters<typeof store.completeClaims>) => {
          order.push(`record ${args[0]}`);
          return store.completeClaims(...args);
        },
      },
    };
    const events = ["seq-a", "seq-b"].map((c) => relayEvent({ id: `${c}-1`, customerId: c, customer: complete(c) }));
    const report = await deliverEvents(
      deps,
      events.map((event) => ({ event, attempt: 1 })),
    );
    expect([...report.outcomes.values()].map((o) => o.status)).toEqual(["delivered", "delivered"]);
    // A crash between the two leaves only one customer's claim in flight.
    expect(order).toEqual(["take seq-a", "record seq-a", "take seq-b", "record seq-b"]);
  });

  it("never makes a claim twice when its answer could not be recorded: it ends outcome_unknown", async () => {
    const { antavo } = await withAntavo();
    antavo.seedReward({ id: "rw-lost", price: 0 });
    await claimingWorkflow("rw-lost");
    const real = createDeps(env);
    let now = 1_767_225_600;
    let recordFails = true;
    const deps = {
      ...real,
      now: () => now,
      customerStore: {
        ...real.customerStore,
        completeClaims: (...args: Parameters<typeof real.customerStore.completeClaims>) => {
          if (recordFails) return Promise.reject(new Error("the object was reset"));
          return real.customerStore.completeClaims(...args);
        },
      },
    };
    const claimCalls = () => antavo.requests.filter((r) => r.path.endsWith("/rewards/rw-lost/claim")).length;
    const event = relayEvent({ id: "lost-claim-1", customerId: "lost-claim-c" });
    const first = await deliverEvents(deps, [{ event, attempt: 1 }]);
    expect(claimCalls()).toBe(1);
    expect(first.outcomes.get(event.id)?.status).toBe("retry");

    // The retry finds the claim taken: recent, so it may still be under way; it waits.
    recordFails = false;
    now += 60;
    const second = await deliverEvents(deps, [{ event, attempt: 2 }]);
    expect(second.outcomes.get(event.id)).toMatchObject({
      status: "retry",
      error: expect.stringMatching(/another delivery/),
    });
    // Taken for longer than any call lasts: its answer was lost. Not claimed again.
    now += CLAIM_INFLIGHT_SECONDS;
    const third = await deliverEvents(deps, [{ event, attempt: 3 }]);
    expect(third.outcomes.get(event.id)).toMatchObject({ status: "outcome_unknown" });
    expect(claimCalls()).toBe(1);
  });
});
