/**
 * A delivery's page numbers as attempts only the calls to its destination. The customer lookup of
 * enrichment and a workflow's reward claim, both Antavo calls made for a delivery to Bloomreach,
 * are shown as what they are, unnumbered: a customer Antavo does not know is planned with what the
 * event carried, not a dead attempt (a new admin read "Attempt 1 to antavo: dead" as Antavo failing).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/client";
import { writeDeliveryLog } from "../src/db/delivery-queries";
import { demoMapping } from "./support/fixtures";
import { admin, json } from "./support/http";
import { asMessage, deliveryRow, relayEvent, relayWithFakes, runQueue } from "./support/pipeline";
import { loggedIn, textOf } from "./ui-helpers";

const relay = relayWithFakes({
  mapping: demoMapping,
  settings: { asyncSync: true, events: [{ action: "point_add" }] },
  antavo: true,
});

const now = () => Math.floor(Date.now() / 1000);

/** An event with the hard ID but without the mapped score and tier: the relay asks Antavo for them. */
const lacking = (id: string, customerId: string) =>
  relayEvent({
    id,
    customerId,
    action: "point_add",
    customer: { email: `${customerId}@example.com`, first_name: "Lu" },
    createdAt: now(),
    receivedAt: now(),
  });

async function detailText(id: string) {
  const ui = await loggedIn();
  const page = await ui.get(`/admin/deliveries/${id}`);
  expect(page.status).toBe(200);
  return { html: page.html, text: textOf(page.html) };
}

describe("the calls made for a delivery besides its attempts", () => {
  it("shows a lookup that found nobody as a neutral 'not found', outside the attempts", async () => {
    const { antavo, bloomreach } = await relay();
    await runQueue([asMessage(lacking("look-1", "look-nobody"))]);
    expect((await deliveryRow("look-1"))?.status).toBe("delivered");
    expect(bloomreach.events()).toHaveLength(1);

    const { html, text } = await detailText("look-1");
    expect(text).toContain("Customer lookup in Antavo : not found — planned with what the event carried");
    expect(text).not.toContain("to antavo");
    expect(text).toContain("Attempt 1 to bloomreach");
    // The heading counts what the summary counts: the calls to Bloomreach.
    expect(text).toContain("Attempts 1 ");
    expect(text).toContain("Attempts (1)");
    expect(text).toContain("The attempts are the calls to Bloomreach.");
    // Nothing on the page is red for a delivered delivery.
    expect(html).not.toMatch(/class="badge dead"/);
    expect(html).toMatch(/<span class="badge muted">not found<\/span>/);

    const api = await json(await admin("/deliveries/look-1"));
    expect(api.attempts).toBe(1);
    expect(api.attemptLog.map((a: { kind: string; number: number | null }) => [a.kind, a.number])).toEqual([
      ["lookup", null],
      ["delivery", 1],
    ]);
    antavo.assertNoUnexpected();
  });

  it("shows a lookup that found the customer as 'found'", async () => {
    const { antavo } = await relay();
    antavo.seedCustomer({ id: "look-known", email: "look-known@example.com", score: 40, tiers: [{ name: "Gold" }] });
    await runQueue([asMessage(lacking("look-2", "look-known"))]);
    const { text } = await detailText("look-2");
    expect(text).toContain("Customer lookup in Antavo : found — planned with Antavo's profile of the customer");
    expect(text).toContain("Attempts (1)");
  });

  it("numbers only the calls to Bloomreach when a failed lookup held the delivery up", async () => {
    const { antavo } = await relay();
    antavo.script({ status: 503 });
    await runQueue([asMessage(lacking("look-3", "look-busy"))]);
    expect((await deliveryRow("look-3"))?.status).toBe("retrying");
    await runQueue([asMessage(lacking("look-3", "look-busy"), 2)]);
    expect((await deliveryRow("look-3"))?.status).toBe("delivered");

    const { text } = await detailText("look-3");
    expect(text).toContain(
      "Customer lookup in Antavo : failed, to be tried again — the delivery waits for its next attempt",
    );
    expect(text).toContain("Customer lookup in Antavo : not found");
    // The second pass's call to Bloomreach is the delivery's first attempt, as the summary says.
    expect(text).toContain("Attempt 1 to bloomreach");
    expect(text).not.toContain("Attempt 2");
    expect(text).toContain("Attempts 1 ");
    expect(text).toContain("Attempts (1)");
  });
});

describe("reward claims and deliveries to Antavo", () => {
  const log = (entries: Parameters<typeof writeDeliveryLog>[1]) =>
    writeDeliveryLog(openDatabase(env.DB), entries, now());

  it("says a timed-out reward claim's outcome is unknown, not that Antavo refused it", async () => {
    await log([
      {
        eventId: "claim-unknown-1",
        customerId: "claim-c",
        action: "birthday",
        status: "outcome_unknown",
        commands: [],
        attempts: [
          {
            attempt: 1,
            target: "antavo",
            outcome: "outcome_unknown",
            error: "claim reward rw-1 for claim-c (outcome unknown): timeout: no answer within 10000 ms",
            request: "claim reward rw-1 (free)",
            durationMs: 10_000,
            startedAt: now(),
          },
        ],
      },
    ]);
    const { text } = await detailText("claim-unknown-1");
    expect(text).toContain("Reward claim in Antavo : unknown outcome");
    expect(text).not.toContain("refused");
  });

  it("labels a reward claim of a delivery to Bloomreach, unnumbered", async () => {
    await log([
      {
        eventId: "claim-1",
        customerId: "claim-c",
        action: "birthday",
        status: "delivered",
        commands: [],
        // As claim.ts and send.ts record them.
        attempts: [
          {
            attempt: 1,
            target: "antavo",
            outcome: "delivered",
            request: "claim reward rw-1 (free)",
            response: JSON.stringify({ coupon: "BDAY-1" }),
            durationMs: 12,
            startedAt: now(),
          },
          {
            attempt: 1,
            target: "bloomreach",
            outcome: "delivered",
            httpStatus: 200,
            request: JSON.stringify([{ name: "customers/events", data: { event_type: "loyalty_birthday_reward" } }]),
            durationMs: 20,
            startedAt: now(),
          },
        ],
      },
    ]);
    const { text } = await detailText("claim-1");
    expect(text).toContain("Reward claim in Antavo : claimed");
    expect(text).toContain("claim reward rw-1 (free)");
    expect(text).toContain("Attempt 1 to bloomreach");
    expect(text).not.toContain("to antavo");
    expect(text).toContain("Attempts (1)");
  });

  it("keeps numbering the Antavo calls of a delivery to Antavo: they are its attempts", async () => {
    await log([
      {
        eventId: "to-ant-1",
        customerId: "ant-c",
        action: "newsletter_signup",
        direction: "to_antavo",
        status: "dead",
        lastError: "Antavo refused the event",
        commands: [
          {
            id: "to-ant-1#0",
            source: { kind: "inbound_rule", eventType: "newsletter_signup" },
            command: { name: "antavo/events", data: { customer: "ant-c", action: "point_add", data: { points: 50 } } },
          },
        ],
        attempts: [
          {
            attempt: 1,
            target: "antavo",
            outcome: "retry",
            httpStatus: 503,
            error: "HTTP 503",
            durationMs: 9,
            startedAt: now(),
          },
          {
            attempt: 2,
            target: "antavo",
            outcome: "dead",
            httpStatus: 400,
            error: "Antavo refused the event",
            durationMs: 9,
            startedAt: now(),
          },
        ],
      },
    ]);
    const { text } = await detailText("to-ant-1");
    expect(text).toContain("Attempt 1 to antavo");
    expect(text).toContain("Attempt 2 to antavo");
    expect(text).toContain("Attempts (2)");
    // The stored command is named as the domain names it.
    expect(text).toContain("Command 1 Antavo event point_add");
    expect(text).not.toContain("Customer lookup");
    expect(text).not.toContain("unnumbered");
  });
});
