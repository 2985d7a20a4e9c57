/**
 * Invariant 10: a 2xx from Bloomreach whose answer cannot be read is no reason to resend blindly.
 * Events in such a call end `outcome_unknown` (never tracked twice); customer properties are resent,
 * since their `update_timestamp` makes a second copy harmless; an admin may replay deliberately.
 */
import { describe, expect, it } from "vitest";
import { demoMapping, demoSettings } from "./support/fixtures";
import { admin, json } from "./support/http";
import { asMessage, deliveryRow, relayEvent, relayWithFakes, runQueue } from "./support/pipeline";

const relay = relayWithFakes({ mapping: demoMapping, settings: demoSettings });

describe("an unreadable 2xx from Bloomreach", () => {
  it("resends the customer properties but not the event, and logs the event outcome_unknown", async () => {
    const { bloomreach } = await relay();
    bloomreach.script({ status: 200, body: "<html><body>OK</body></html>" });
    const first = await runQueue([asMessage(relayEvent({ id: "unk-1", customerId: "unk-c" }))]);
    // The properties are due again; the event's fate stays unknown and is not resent.
    expect(first.retried.map((r) => r.msgId)).toEqual(["msg-unk-1"]);
    expect(bloomreach.events()).toHaveLength(0); // the scripted answer applied nothing in the fake

    const second = await runQueue([asMessage(relayEvent({ id: "unk-1", customerId: "unk-c" }), 2)]);
    expect(second.acked).toEqual(["msg-unk-1"]);
    expect(bloomreach.customers()).toHaveLength(1);
    expect(bloomreach.events()).toHaveLength(0);
    const row = await deliveryRow("unk-1");
    expect(row?.status).toBe("outcome_unknown");
    expect(row?.last_error).toMatch(/not Bloomreach's JSON/);

    const listed = await json(await admin("/deliveries?status=outcome_unknown"));
    expect(listed.items.map((d: { id: string }) => d.id)).toEqual(["unk-1"]);
  });

  it("lets an admin replay an outcome_unknown delivery deliberately", async () => {
    const { bloomreach } = await relay();
    const replay = await admin("/deliveries/unk-1/replay", { method: "POST" });
    expect(replay.status).toBe(202);
    await runQueue([
      { body: { type: "event", event: relayEvent({ id: "unk-1", customerId: "unk-c" }), replay: true } },
    ]);
    expect(bloomreach.events().map((e) => e.properties.antavo_event_id)).toEqual(["unk-1"]);
    expect((await deliveryRow("unk-1"))?.status).toBe("delivered");
  });
});
