import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventMessage } from "../src/domain/queue-message";
import type { CustomerSync } from "../src/durable/customer-sync";
import { consume } from "./support/date-runs";
import { demoMapping, demoSettings } from "./support/fixtures";
import { admin, json } from "./support/http";
import { asMessage, relayEvent, relayWithFakes, runQueue } from "./support/pipeline";

const relay = relayWithFakes({ mapping: demoMapping, settings: demoSettings });

const objectOf = (customerId: string) =>
  env.CUSTOMER_SYNC.get(env.CUSTOMER_SYNC.idFromName(customerId)) as unknown as DurableObjectStub<CustomerSync>;

/** Every row of every table of the relay's D1, as text. */
async function everyD1Row(): Promise<string[]> {
  const { results: tables } = await env.DB.prepare(
    "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%'",
  ).all<{ name: string }>();
  const rows: string[] = [];
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`select * from "${name}"`).all();
    for (const row of results) rows.push(`${name}: ${JSON.stringify(row)}`);
  }
  return rows;
}

const erase = (id: string, query = "") => admin(`/customers/${id}${query}`, { method: "DELETE" });

describe("erasure", () => {
  it("leaves no trace of the customer in D1 or its object, anonymizes once, and drops its queued events", async () => {
    const { bloomreach } = await relay();
    const email = "Erase.Me@Example.com";
    const customer = { email, first_name: "Erin", score: 40 };
    // Two deliveries, one of them after a retry (so attempt rows with request bodies exist).
    bloomreach.script({ route: "batch", status: 500 });
    await runQueue([asMessage(relayEvent({ id: "erase-ev-1", customerId: "erase-1", customer }))]);
    await runQueue([asMessage(relayEvent({ id: "erase-ev-1", customerId: "erase-1", customer }), 2)]);
    // Bloomreach's refusal names the customer: its text waits in the settlement outbox too.
    bloomreach.failCommands((c) => JSON.stringify(c).includes('"loyalty_points":45'), `no such customer: ${email}`);
    await runQueue([
      asMessage(relayEvent({ id: "erase-ev-2", customerId: "erase-1", customer: { ...customer, score: 45 } })),
    ]);
    const needle = email.toLowerCase();
    expect((await everyD1Row()).filter((r) => r.toLowerCase().includes(needle)).length).toBeGreaterThan(3);
    expect((await everyD1Row()).some((r) => r.startsWith("object_settlements:") && r.includes(email))).toBe(true);
    // An event received before the erasure is still on the queue.
    const queued = eventMessage(
      relayEvent({ id: "erase-ev-3", customerId: "erase-1", customer: { ...customer, score: 99 } }),
    );
    const callsBefore = bloomreach.calls;

    const response = await erase("erase-1", "?bloomreach=anonymize");
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      erased: { mirror: 1, events: 2, deliveries: 2 },
      bloomreach: "anonymized",
    });
    expect(bloomreach.anonymized).toEqual([{ registered: email }]);

    const leftovers = (await everyD1Row()).filter((r) => r.toLowerCase().includes(needle));
    expect(leftovers).toEqual([]);
    const stored = await objectOf("erase-1").dumpStorage();
    expect(JSON.stringify(stored).toLowerCase()).not.toContain(needle);
    expect(Object.keys(stored)).toEqual(["erasedAt"]);
    // The log keeps its rows, statuses and counts, with the data replaced by the marker.
    const detail = await json(await admin("/deliveries/erase-ev-1"));
    expect(detail).toMatchObject({ status: "delivered", attempts: 2 });
    expect(JSON.stringify(detail)).toContain("[erased]");
    expect((await admin("/customers/erase-1")).status).toBe(404);

    // The queued event comes out of the queue after the erasure: it is not sent.
    const late = await consume([queued]);
    expect(late.acked).toHaveLength(1);
    expect(bloomreach.calls).toBe(callsBefore + 1);
    expect(bloomreach.customers().filter((c) => c.properties.loyalty_points === 99)).toEqual([]);
    const dropped = await json(await admin("/deliveries/erase-ev-3"));
    expect(dropped).toMatchObject({ status: "dead", lastError: expect.stringContaining("erased") });
    expect((await everyD1Row()).filter((r) => r.toLowerCase().includes(needle))).toEqual([]);
    expect(JSON.stringify(await objectOf("erase-1").dumpStorage()).toLowerCase()).not.toContain(needle);

    // An event that arrives after the erasure is a new customer: everything is sent again.
    const now = Math.floor(Date.now() / 1000) + 5;
    await consume([
      eventMessage(relayEvent({ id: "erase-ev-4", customerId: "erase-1", customer, createdAt: now, receivedAt: now })),
    ]);
    expect(bloomreach.customers().at(-1)).toEqual({
      customer_ids: { registered: email },
      properties: { first_name: "Erin", loyalty_points: 40 },
      update_timestamp: now,
    });
    bloomreach.assertNoUnexpected();
  });

  it("skips Bloomreach unless asked, reports a refused anonymization, and is idempotent", async () => {
    const { bloomreach } = await relay();
    await runQueue([
      asMessage(relayEvent({ id: "keep-ev-1", customerId: "keep-1", customer: { email: "keep@example.com" } })),
    ]);
    expect(await json(await erase("keep-1"))).toEqual({
      erased: { mirror: 1, events: 1, deliveries: 1 },
      bloomreach: "skipped",
    });
    expect(bloomreach.anonymized).toEqual([]);
    // Nothing left to erase (the log row stays, scrubbed), and without a hard ID Bloomreach cannot
    // be told: said so, not a 500.
    expect(await json(await erase("keep-1", "?bloomreach=anonymize"))).toEqual({
      erased: { mirror: 0, events: 0, deliveries: 1 },
      bloomreach: expect.stringMatching(/^failed: .*hard ID/),
    });

    await runQueue([
      asMessage(relayEvent({ id: "deny-ev-1", customerId: "deny-1", customer: { email: "deny@example.com" } })),
    ]);
    bloomreach.script({ route: "anonymize", status: 403, body: { success: false, errors: ["No permission"] } });
    const denied = await json(await erase("deny-1", "?bloomreach=anonymize"));
    expect(denied.bloomreach).toMatch(/^failed: HTTP 403: No permission .*GDPR > Anonymize customer/);
    expect(denied.erased.mirror).toBe(1);

    const bad = await erase("deny-1", "?bloomreach=yes");
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.issues[0].path).toBe("bloomreach");
    bloomreach.assertNoUnexpected();
  });

  it("retries a transient failure of the anonymize call", async () => {
    const { bloomreach } = await relay();
    await runQueue([
      asMessage(relayEvent({ id: "retry-ev-1", customerId: "retry-1", customer: { email: "retry@example.com" } })),
    ]);
    bloomreach.script({ route: "anonymize", status: 503 });
    const answer = await json(await erase("retry-1", "?bloomreach=anonymize"));
    expect(answer.bloomreach).toBe("anonymized");
    expect(bloomreach.anonymized).toEqual([{ registered: "retry@example.com" }]);
    bloomreach.assertNoUnexpected();
  });
});
