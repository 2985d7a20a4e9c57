/**
 * Deliveries: an event Bloomreach partly refuses is found by its event id with the search, its page
 * marks the refused command beside Bloomreach's own answer, and a bulk replay leaves the list
 * showing the new state (no longer dead) and, once delivered, the replay's attempt numbered after
 * the first run's.
 *
 * The sandbox (src/dev/bloomreach-sandbox.mjs) refuses only whole calls (`POST /fail`) or commands
 * the relay never makes (no customer id), so for the refusal the connection points, for this
 * scenario only, at a stand-in on loopback that answers like Bloomreach's batch API and refuses
 * the Welcome workflow's event of one customer; it is pointed back at the sandbox before the replay.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { freePort, SANDBOX, SECRETS } from "../local-relay.mjs";

const EVENT_ID = "browser-partial-1";
const CUSTOMER = "browser-cust-partial";
const EMAIL = "partial@example.com";
const REFUSAL = "Event type loyalty_welcome is not allowed for this project";

/** Bloomreach's batch answer, with one `success: false` for the refused command. */
async function startRefusingBloomreach() {
  const port = await freePort();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const send = (status, body) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "POST" || !req.url.endsWith("/batch"))
        return send(404, { success: false, error: "Not found" });
      const { commands = [] } = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      const start = Date.now() / 1000;
      const results = commands.map((c) =>
        c.name === "customers/events" &&
        c.data?.event_type === "loyalty_welcome" &&
        c.data?.customer_ids?.registered === EMAIL
          ? { success: false, errors: [REFUSAL] }
          : { success: true },
      );
      send(200, { success: true, start_time: start, end_time: Date.now() / 1000, results });
    });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

async function connectTo(relayUrl, baseUrl) {
  const response = await fetch(`${relayUrl}/api/connection`, {
    method: "PUT",
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}`, "content-type": "application/json" },
    // The secret again: a stored one is only sent to the host it was saved for.
    body: JSON.stringify({ baseUrl, ...SANDBOX }),
  });
  assert.equal(response.status, 200, `saving the connection answered ${response.status}: ${await response.text()}`);
}

/** Reloads the page until the row of the event shows `status`. */
async function waitForRow(page, status, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = page.locator("tr.linked", { hasText: EVENT_ID });
    if ((await row.count()) > 0 && (await row.first().locator(`.badge.${status}`).count()) > 0) return row.first();
    assert.ok(Date.now() < deadline, `the delivery ${EVENT_ID} did not reach ${status} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
    await page.reload();
  }
}

export default async function deliveries(page, relay, kit) {
  const { expectText, log, nav, postWebhook, screenshots } = kit;
  const standIn = await startRefusingBloomreach();
  try {
    log("deliveries: an event Bloomreach partly refuses");
    await connectTo(relay.url, standIn.url);
    await postWebhook(relay.url, {
      id: EVENT_ID,
      action: "opt_in",
      customer: { id: CUSTOMER, email: EMAIL, first_name: "Pia", score: 7 },
      data: { points: 5 },
    });

    log("deliveries: find it by event id");
    await nav(page, "Deliveries");
    await page.getByLabel("Event ID").fill(EVENT_ID);
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/eventId=browser-partial-1/);
    await waitForRow(page, "dead");
    assert.equal(await page.locator("tr.linked").count(), 1, "the search by event id lists more than that delivery");
    await screenshots(page, "deliveries-search");

    log("deliveries: the refused command is marked, with Bloomreach's answer");
    await page.locator("tr.linked", { hasText: EVENT_ID }).getByRole("link", { name: EVENT_ID }).click();
    await expectText(page, `Delivery ${EVENT_ID}`);
    const refused = page.locator(".command-results li.refused");
    assert.equal(await refused.count(), 1, "exactly one command should be marked refused");
    const refusedText = (await refused.textContent()) ?? "";
    assert.match(refusedText, /loyalty_welcome/);
    assert.match(refusedText, /refused by Bloomreach/);
    assert.match(refusedText, new RegExp(REFUSAL));
    assert.ok((await page.locator(".command-results li:not(.refused) .badge.delivered").count()) >= 2);
    await page.getByText("Answer", { exact: true }).first().click();
    await expectText(page, "What Bloomreach answered (HTTP 200)");
    await expectText(page, '"success": false');
    await screenshots(page, "delivery-partly-refused");

    log("deliveries: bulk replay, and the list shows the new state");
    await connectTo(relay.url, relay.sandbox.url);
    await page.goto(`${relay.url}/admin/deliveries?customer=${CUSTOMER}`);
    await waitForRow(page, "dead", 5_000);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16);
    await page.locator("#f-replay-since").fill(hourAgo);
    await page.getByRole("button", { name: "Replay dead deliveries" }).click();
    await expectText(page, "queued for replay; the list above shows them as they are now");
    // The script swaps the list for the server's once the replay loop is done (the message can come
    // first): the row stops being dead without a reload.
    const row = page.locator("tr.linked", { hasText: EVENT_ID }).first();
    await row.waitFor();
    await row
      .locator(".badge.dead")
      .waitFor({ state: "detached", timeout: 10_000 })
      .catch(() => assert.fail("the replayed delivery is still listed as dead"));
    assert.match((await row.textContent()) ?? "", /queued for replay|delivered|retrying/);
    await screenshots(page, "deliveries-bulk-replayed");

    log("deliveries: the replay delivered, numbered after the first run");
    await waitForRow(page, "delivered");
    await page.locator("tr.linked", { hasText: EVENT_ID }).getByRole("link", { name: EVENT_ID }).click();
    await expectText(page, "Replay 1 requested");
    await expectText(page, "Attempt 2 to bloomreach");
    assert.equal(await page.getByText("Attempt 1 to bloomreach").count(), 1);
    assert.equal(await page.getByText("queued for replay").count(), 0);
    await screenshots(page, "delivery-replayed");
  } finally {
    await connectTo(relay.url, relay.sandbox.url).catch(() => {});
    await standIn.close();
  }
}
