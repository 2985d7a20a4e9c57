/**
 * Deliveries: an event Bloomreach partly refuses is found by its event id with the search (on a
 * phone the answer is said above the form, the other filters folded), its page
 * marks the refused command beside Bloomreach's own answer, and a bulk replay leaves the list
 * showing the new state (no longer dead) and, once delivered, the replay's attempt numbered after
 * the first run's.
 *
 * The refusal is the sandbox's own failure on purpose (`POST /fail?mode=refuse-command&eventType=…
 * &customer=…`, src/dev/sandbox-failures.mjs): the batch that carries the Welcome workflow's event
 * for this customer answers 200 with `success: false` for that command, wherever it sits. One
 * command only, so the replay finds the sandbox answering normally.
 */
import assert from "node:assert/strict";

const EVENT_ID = "browser-partial-1";
const CUSTOMER = "browser-cust-partial";
const EVENT = {
  id: EVENT_ID,
  action: "opt_in",
  customer: { id: CUSTOMER, email: "partial@example.com", first_name: "Pia", score: 7 },
  data: { points: 5 },
};
const REFUSED_EVENT = "loyalty_welcome";

/** The sandbox's refusal: the next `eventType` event for `customer` is refused inside a 200 answer. */
async function refuseNextEvent(sandboxUrl, eventType, customer) {
  const query = new URLSearchParams({ mode: "refuse-command", eventType, customer, times: "1" });
  const response = await fetch(`${sandboxUrl}/fail?${query}`, { method: "POST" });
  assert.equal(response.status, 200, `the sandbox did not take /fail: ${response.status} ${await response.text()}`);
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
  try {
    log("deliveries: an event Bloomreach partly refuses");
    await refuseNextEvent(relay.sandbox.url, REFUSED_EVENT, EVENT.customer.email);
    await postWebhook(relay.url, EVENT);

    log("deliveries: find it by event id");
    await nav(page, "Deliveries");
    await page.getByLabel("Event ID").fill(EVENT_ID);
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/eventId=browser-partial-1/);
    await waitForRow(page, "dead");
    assert.equal(await page.locator("tr.linked").count(), 1, "the search by event id lists more than that delivery");
    await screenshots(page, "deliveries-search");

    log("deliveries: the search's answer on a phone, first thing on the page");
    const wide = page.viewportSize();
    const status = page.getByLabel("Status", { exact: true });
    assert.ok(await status.isVisible(), `at ${wide.width} px the Status filter should show without unfolding`);
    await page.setViewportSize({ width: 375, height: 812 });
    await page.reload();
    const said = page.locator("[data-match-summary]");
    assert.equal((await said.textContent())?.trim(), `1 delivery found for event id “${EVENT_ID}”. Go to the result`);
    const box = await said.boundingBox();
    assert.ok(box && box.y + box.height <= 812, `the search's answer is below the first screen at 375 px: ${box?.y}`);
    // Only the event id shows; the other filters are folded, and unfold on a tap.
    assert.equal(await status.isVisible(), false, "at 375 px the Status filter should be folded");
    await page.getByText("More filters", { exact: true }).click();
    assert.ok(await status.isVisible(), "More filters does not unfold the Status filter");
    await said.getByRole("link", { name: "Go to the result" }).click();
    await page.waitForURL(/#results$/);
    assert.ok(
      await page.locator("tr.linked", { hasText: EVENT_ID }).evaluate((row) => row.getBoundingClientRect().top < 812),
      "Go to the result does not bring the row into view",
    );
    await page.setViewportSize(wide);

    log("deliveries: the refused command is marked, with Bloomreach's answer");
    await page.locator("tr.linked", { hasText: EVENT_ID }).getByRole("link", { name: EVENT_ID }).click();
    await expectText(page, `Delivery ${EVENT_ID}`);
    const refused = page.locator(".command-results li.refused");
    assert.equal(await refused.count(), 1, "exactly one command should be marked refused");
    const refusedText = (await refused.textContent()) ?? "";
    assert.match(refusedText, new RegExp(REFUSED_EVENT));
    assert.match(refusedText, /refused by Bloomreach/);
    // The sandbox's own words for its refusal, as Bloomreach's per-command error.
    assert.ok(
      refusedText.includes(
        `sandbox refusal on purpose (the event ${REFUSED_EVENT} for ${EVENT.customer.email}, command `,
      ),
      `the refused command does not show the sandbox's error: ${refusedText}`,
    );
    assert.ok((await page.locator(".command-results li:not(.refused) .badge.delivered").count()) >= 2);
    await page.getByText("Answer", { exact: true }).first().click();
    await expectText(page, "What Bloomreach answered (HTTP 200)");
    await expectText(page, '"success": false');
    await screenshots(page, "delivery-partly-refused");

    log("deliveries: bulk replay, and the list shows the new state");
    assert.equal((await (await fetch(`${relay.sandbox.url}/fail`)).json()).failing.mode, "normal");
    await page.goto(`${relay.url}/admin/deliveries?customer=${CUSTOMER}`);
    await waitForRow(page, "dead", 5_000);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16);
    await page.locator("#f-replay-since").fill(hourAgo);
    await page.getByRole("button", { name: "Replay dead deliveries" }).click();
    await expectText(page, "queued for replay; the list above shows them as they are now");
    // The script swaps the list in before it says so: once the message shows, the row is no longer
    // dead, read at once (no wait, no reload), so a message that came before the list would fail here.
    const rows = page.locator("tr.linked", { hasText: EVENT_ID });
    assert.equal(await rows.count(), 1, "the replayed delivery is not in the list");
    assert.equal(await rows.locator(".badge.dead").count(), 0, "the message came before the list was refreshed");
    assert.match((await rows.textContent()) ?? "", /queued for replay|delivered|retrying/);
    assert.equal(await page.getByRole("button", { name: "Replay dead deliveries" }).isDisabled(), false);
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
    // Later scenarios need a sandbox that answers normally, even when a step above failed.
    relay.sandbox.setFailure({ mode: "normal", remaining: 0 });
  }
}
