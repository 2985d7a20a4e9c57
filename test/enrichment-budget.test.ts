/**
 * Enrichment within Antavo's limits (issue 8): at most one `GET /customers/{id}` per customer per
 * `enrichmentTtlSeconds`, also when Antavo's record lacks a mapped field; concurrent events of one
 * customer share one lookup; every Antavo call spends one shared per-minute budget. The pipeline runs
 * with the real Durable Objects and D1, with time and sleep injected (never slept).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDeps } from "../src/composition";
import type { RelayEvent } from "../src/domain/event";
import { type DeliveryDeps, deliverEvents } from "../src/services/deliver";
import { admin } from "./support/http";
import { ANTAVO, deliveryRow, relayEvent, relayWithFakes } from "./support/pipeline";

const mapping = {
  hardId: { loyaltyField: "email", remoteId: "registered" },
  fields: [
    { loyaltyField: "score", remoteField: "loyalty_points" },
    // Optional at Antavo: most customers have none, which used to cost one lookup per event.
    { loyaltyField: "birth_date", remoteField: "birthday", type: "date" },
  ],
};
const settings = { asyncSync: true, events: [{ action: "point_add", remoteEvent: "loyalty_point_add" }] };
const relay = relayWithFakes({ mapping, settings, antavo: true });

const T = 1_767_225_600;

function depsAt(now: () => number, extra: Partial<DeliveryDeps> = {}): DeliveryDeps {
  return { ...createDeps(env), now, ...extra };
}

/** An event whose body lacks birth_date: the customer object the planner sees lacks it too. */
const pointAdd = (id: string, customerId: string, at: number): RelayEvent =>
  relayEvent({
    id,
    customerId,
    action: "point_add",
    customer: { email: `${customerId}@example.com`, score: 10 },
    createdAt: at,
    receivedAt: at,
  });

const lookupsOf = (requests: { method: string; path: string }[], customerId: string) =>
  requests.filter((r) => r.method === "GET" && r.path === `/customers/${customerId}`).length;

describe("enrichment at most once per customer per TTL", () => {
  it("asks Antavo once for ten events of a customer whose record lacks a mapped field, again after the TTL", async () => {
    const { antavo, bloomreach } = await relay();
    antavo.seedCustomer({ id: "ttl-c", email: "ttl-c@example.com", score: 10 }); // no birth_date
    let now = T;
    const deps = depsAt(() => now);
    for (let batch = 0; batch < 2; batch++) {
      const events = Array.from({ length: 5 }, (_, i) => pointAdd(`ttl-${batch}-${i}`, "ttl-c", T + batch * 5 + i));
      await deliverEvents(
        deps,
        events.map((event) => ({ event, attempt: 1 })),
      );
      now += 60;
    }
    expect(lookupsOf(antavo.requests, "ttl-c")).toBe(1);
    expect(bloomreach.events()).toHaveLength(10);

    now = T + 3_599;
    await deliverEvents(deps, [{ event: pointAdd("ttl-late", "ttl-c", now), attempt: 1 }]);
    expect(lookupsOf(antavo.requests, "ttl-c")).toBe(1);

    now = T + 3_601;
    await deliverEvents(deps, [{ event: pointAdd("ttl-after", "ttl-c", now), attempt: 1 }]);
    expect(lookupsOf(antavo.requests, "ttl-c")).toBe(2);
    expect((await deliveryRow("ttl-after"))?.status).toBe("delivered");
    antavo.assertNoUnexpected();
  });

  it("shares one lookup between concurrent deliveries of one customer", async () => {
    const { antavo } = await relay();
    antavo.seedCustomer({ id: "conc-c", email: "conc-c@example.com", score: 5, birth_date: "1990-05-06" });
    const deps = depsAt(() => T);
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        deliverEvents(deps, [{ event: pointAdd(`conc-${i}`, "conc-c", T + i), attempt: 1 }]),
      ),
    );
    expect(lookupsOf(antavo.requests, "conc-c")).toBe(1);
    for (let i = 0; i < 4; i++) expect((await deliveryRow(`conc-${i}`))?.status).toBe("delivered");
  });
});

/**
 * A virtual clock: `sleep` parks the caller until the clock reaches its wake-up time, and the
 * sleepers wake one by one in time order, so calls made after a wait happen at the virtual time.
 */
/**
 * Virtual time runs ahead of the real clock: the Antavo budget's object is shared with test files
 * running beside this one on the real clock, and their calls must fall in this clock's past.
 */
const AHEAD_MS = Date.now() + 30 * 86_400_000;

function virtualTime(startMs: number) {
  let clock = startMs;
  const sleepers: { at: number; wake: () => void }[] = [];
  let pumping = false;
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    while (sleepers.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      sleepers.sort((a, b) => a.at - b.at);
      const next = sleepers.shift()!;
      clock = Math.max(clock, next.at);
      next.wake();
    }
    pumping = false;
  };
  return {
    nowMs: () => clock,
    sleep: (ms: number) =>
      new Promise<void>((wake) => {
        sleepers.push({ at: clock + ms, wake });
        void pump();
      }),
  };
}

describe("the shared Antavo budget", () => {
  it("holds a burst of lookups to antavoRateLimitPerMinute, counted at the fake", async () => {
    const { antavo } = await relay();
    expect((await admin("/settings", { body: { ...settings, antavoRateLimitPerMinute: 60 } })).status).toBe(200);
    const customers = Array.from({ length: 90 }, (_, i) => `burst-${i}`);
    for (const id of customers)
      antavo.seedCustomer({ id, email: `${id}@example.com`, score: 1, birth_date: "1990-01-01" });

    const time = virtualTime(AHEAD_MS);
    const calls: number[] = [];
    const deps = depsAt(() => Math.floor(time.nowMs() / 1000), {
      nowMs: time.nowMs,
      sleep: time.sleep,
      fetch: async (input, init) => {
        if (String(input).startsWith(ANTAVO.baseUrl)) calls.push(time.nowMs());
        return fetch(input, init);
      },
    });
    // A wait longer than the budget allows to sleep comes back as a retry: run the batch again when due.
    let pending = customers.map((id, i) => ({ event: pointAdd(`burst-evt-${i}`, id, T), attempt: 1 }));
    for (let round = 0; pending.length > 0 && round < 30; round++) {
      const report = await deliverEvents(deps, pending);
      pending = pending.filter((job) => report.outcomes.get(job.event.id)?.status === "retry");
      const due = Math.max(
        0,
        ...pending.map((job) => (report.outcomes.get(job.event.id) as any).retryAfterSeconds ?? 0),
      );
      if (pending.length > 0) await time.sleep(due * 1000);
    }
    expect(pending).toEqual([]);
    expect(calls).toHaveLength(90);
    // Any 60 s window holds at most one minute's budget plus the one-call burst.
    const sorted = [...calls].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; i++) {
      const inWindow = sorted.filter((t) => t >= sorted[i]! && t < sorted[i]! + 60_000).length;
      expect(inWindow).toBeLessThanOrEqual(61);
    }
    expect(sorted.at(-1)! - sorted[0]!).toBeGreaterThanOrEqual(88_000);
    await admin("/settings", { body: settings });
  });

  it("pauses the budget on Antavo's 429 so the next call waits for its Retry-After", async () => {
    const { antavo } = await relay();
    antavo.script({ status: 429, retryAfter: 30 });
    antavo.seedCustomer({ id: "slow-b", email: "slow-b@example.com", score: 1, birth_date: "1990-01-01" });
    const time = virtualTime(AHEAD_MS + 10_000_000);
    const deps = depsAt(() => Math.floor(time.nowMs() / 1000), { nowMs: time.nowMs, sleep: time.sleep });
    const limited = await deliverEvents(deps, [{ event: pointAdd("slow-1", "slow-a", T), attempt: 1 }]);
    expect(limited.outcomes.get("slow-1")).toMatchObject({ status: "retry", retryAfterSeconds: 30 });

    // Within the pause the lookup is not made: the event waits for the budget, Antavo sees nothing.
    const before = antavo.requests.length;
    const held = await deliverEvents(deps, [{ event: pointAdd("slow-2", "slow-b", T), attempt: 1 }]);
    const wait = held.outcomes.get("slow-2") as { status: string; retryAfterSeconds: number };
    expect(wait.status).toBe("retry");
    expect(wait.retryAfterSeconds).toBeGreaterThanOrEqual(30);
    expect(antavo.requests.length).toBe(before);

    await time.sleep(wait.retryAfterSeconds * 1000);
    await deliverEvents(deps, [{ event: pointAdd("slow-2", "slow-b", T), attempt: 2 }]);
    expect(antavo.requests.length).toBe(before + 1);
    expect((await deliveryRow("slow-2"))?.status).toBe("delivered");
  });
});

describe("typed mappings", () => {
  it("sends Antavo's numeric fields as numbers and a mapped date as Unix seconds", async () => {
    const { antavo, bloomreach } = await relay();
    antavo.seedCustomer({ id: "typed-c", email: "typed-c@example.com" });
    const event = relayEvent({
      id: "typed-1",
      customerId: "typed-c",
      action: "point_add",
      // What a form body or an Antavo template makes of the numbers: text.
      customer: { email: "typed-c@example.com", score: "325", birth_date: "1990-05-06" },
    });
    await deliverEvents(
      depsAt(() => T),
      [{ event, attempt: 1 }],
    );
    expect(bloomreach.customers()).toEqual([
      expect.objectContaining({ properties: { loyalty_points: 325, birthday: 641_952_000 } }),
    ]);
  });

  it("leaves out a value that cannot take its type, with a warning, and sends the rest", async () => {
    const { bloomreach } = await relay();
    const event = relayEvent({
      id: "typed-2",
      customerId: "typed-d",
      action: "point_add",
      customer: { email: "typed-d@example.com", score: "lots", birth_date: "1991-02-03" },
    });
    await deliverEvents(
      depsAt(() => T),
      [{ event, attempt: 1 }],
    );
    expect(bloomreach.customers()).toEqual([expect.objectContaining({ properties: { birthday: 665_539_200 } })]);
    const row = await deliveryRow("typed-2");
    expect(row?.status).toBe("delivered");
    expect(JSON.parse(row?.warnings)).toEqual(['score -> loyalty_points left out: "lots" is not a number']);
  });
});
