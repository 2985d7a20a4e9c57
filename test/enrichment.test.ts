import { describe, expect, it } from "vitest";
import { demoMapping } from "./support/fixtures";
import { asMessage, attemptRows, deliveryRow, relayEvent, relayWithFakes, runQueue } from "./support/pipeline";

const relay = relayWithFakes({
  mapping: demoMapping,
  settings: { asyncSync: true, events: [{ action: "point_add" }] },
  antavo: true,
});

describe("enrichment from Antavo", () => {
  it("fetches a customer whose event lacks the hard-ID field, with a signed request", async () => {
    const { antavo, bloomreach } = await relay();
    antavo.seedCustomer({
      id: "rich-c",
      email: "Rich@Example.com",
      first_name: "Rich",
      score: 900,
      tiers: [{ name: "Gold" }],
    });
    const result = await runQueue([
      asMessage(relayEvent({ id: "rich-1", customerId: "rich-c", action: "point_add", customer: undefined })),
    ]);
    expect(result.acked).toEqual(["msg-rich-1"]);
    expect(bloomreach.customers()).toEqual([
      expect.objectContaining({
        customer_ids: { registered: "Rich@Example.com" },
        properties: { first_name: "Rich", loyalty_points: 900, loyalty_tier: "Gold" },
      }),
    ]);
    expect(bloomreach.events()).toHaveLength(1);
    expect((await attemptRows("rich-1")).map((a) => [a.target, a.outcome])).toEqual([
      ["antavo", "delivered"],
      ["bloomreach", "delivered"],
    ]);
    antavo.assertNoUnexpected();
  });

  it("does not ask Antavo again once the customer is known", async () => {
    const { antavo } = await relay();
    const before = antavo.requests.length;
    await runQueue([
      asMessage(relayEvent({ id: "rich-2", customerId: "rich-c", action: "point_add", customer: { score: 950 } })),
    ]);
    expect(antavo.requests.length).toBe(before);
    expect((await deliveryRow("rich-2"))?.status).toBe("delivered");
  });

  it("retries when Antavo is rate limited, and dead-letters an unknown customer with the reason", async () => {
    const { antavo } = await relay();
    antavo.script({ status: 429 });
    const limited = await runQueue([
      asMessage(relayEvent({ id: "rich-3", customerId: "busy-c", action: "point_add", customer: undefined })),
    ]);
    expect(limited.retried.map((r) => r.msgId)).toEqual(["msg-rich-3"]);
    expect((await deliveryRow("rich-3"))?.last_error).toMatch(/enrichment from Antavo/);

    await runQueue([
      asMessage(relayEvent({ id: "rich-4", customerId: "ghost-c", action: "point_add", customer: undefined })),
    ]);
    const row = await deliveryRow("rich-4");
    expect(row).toMatchObject({ status: "dead" });
    expect(row!.last_error).toMatch(/hard-ID field "email"/);
  });
});
