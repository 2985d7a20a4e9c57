/**
 * The Bloomreach sandbox's page: its credentials, "fail the next call with 500" set through its
 * form, a webhook whose delivery then goes `retrying` in the relay's Deliveries page (and, once the
 * backoff has passed and the sandbox answers normally, is not lost). The sandbox is left answering
 * normally for later scenarios, whatever happens here.
 */
import assert from "node:assert/strict";
import { SANDBOX } from "../local-relay.mjs";

const DEADLINE_MS = 30_000;

export default async function sandboxScenario(page, relay, kit) {
  const { expectText, log, nav, postWebhook, screenshots } = kit;
  // The admin's dashboard, not the page the main flow ended on (that may be a form post's answer).
  const adminPage = `${relay.url}/admin`;
  try {
    log("sandbox page: credentials, then fail the next call with 500");
    await page.goto(`${relay.sandbox.url}/`);
    await expectText(page, "Bloomreach sandbox");
    for (const value of [SANDBOX.projectToken, SANDBOX.apiKeyId, SANDBOX.apiSecret]) await expectText(page, value);
    await expectText(page, "Normal: every call is answered as Bloomreach would.");
    const form = page.locator("form", { has: page.getByRole("button", { name: "Fail with 500" }) });
    await form.getByLabel("Calls").fill("1");
    await form.getByRole("button", { name: "Fail with 500" }).click();
    await page.waitForURL(`${relay.sandbox.url}/`);
    await expectText(page, "Failing: the next call answers HTTP 500.");
    await screenshots(page, "sandbox-failing");

    log("a webhook meets the 500 and its delivery goes retrying");
    await page.goto(adminPage);
    await postWebhook(relay.url, {
      id: "browser-sandbox-500",
      action: "opt_in",
      customer: { id: "browser-cust-500", email: "grace@example.com", first_name: "Grace" },
    });
    await nav(page, "Deliveries");
    const row = page.locator("tr", { hasText: "browser-cust-500" });
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      if ((await row.count()) > 0 && (await row.first().getByText("retrying").count()) > 0) break;
      assert.ok(Date.now() < deadline, "the delivery did not go retrying within 30 s of the sandbox's 500");
      await new Promise((r) => setTimeout(r, 1000));
      await page.reload();
    }
    await screenshots(page, "deliveries-retrying");

    log("the sandbox page shows the refused call, and answers normally again");
    await page.goto(`${relay.sandbox.url}/`);
    await expectText(page, "failed on purpose: HTTP 500");
    await expectText(page, "Normal: every call is answered as Bloomreach would.");
    await screenshots(page, "sandbox");
  } finally {
    // Later scenarios need a sandbox that answers normally, even when a step above failed.
    relay.sandbox.setFailure({ mode: "normal", remaining: 0 });
    await page.goto(adminPage);
  }
}
