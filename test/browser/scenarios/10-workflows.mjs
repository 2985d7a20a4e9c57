/**
 * The workflow editor in a browser: "Add a filter" and "+ Track event" add their node in place
 * (no reload: the URL, the scroll position and the page itself stay, focus lands in the new node),
 * "Remove" likewise, and saving stores what was added. The same edit without JavaScript (script
 * execution turned off over CDP, since the run's persistent context cannot open a no-JS context)
 * goes through the server round trip and saves the same way. Then Try it names the failing filter,
 * and the birthday template warns that no Antavo API connection is configured.
 */
import assert from "node:assert/strict";
import { SECRETS } from "../local-relay.mjs";

async function api(relay, path, init = {}) {
  const response = await fetch(`${relay.url}/api${path}`, {
    ...init,
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}`, "content-type": "application/json" },
  });
  const body = await response.json();
  assert.ok(response.ok, `${path} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

const draft = (name) => ({
  name,
  trigger: { type: "event", action: "tier_change" },
  actions: [{ type: "sync_fields", fields: { last_tier_change: "{{event.created_at}}" } }],
});

/** Clicks a button that must edit the flow in place, and checks that nothing was reloaded. */
async function clickInPlace(page, button, nodeSelector) {
  await button.scrollIntoViewIfNeeded();
  const before = await page.evaluate(() => {
    window.__samePage = true;
    return { url: location.href, scrollY: window.scrollY };
  });
  assert.ok(before.scrollY > 0, "the button should be below the fold, so a jump to the top would show");
  await button.click();
  const after = await page.evaluate(
    (selector) => ({
      url: location.href,
      scrollY: window.scrollY,
      samePage: window.__samePage === true,
      focusInNode: Boolean(document.activeElement?.closest(selector)),
      focused: document.activeElement?.id ?? document.activeElement?.tagName,
    }),
    nodeSelector,
  );
  assert.equal(after.url, before.url, "the URL changed: the page was posted instead of edited in place");
  assert.ok(after.samePage, "the page was reloaded");
  assert.ok(after.scrollY > 0, `the page jumped to the top (scrollY ${after.scrollY})`);
  return after;
}

export default async function workflows(page, relay, kit) {
  const { expectText, log, screenshots } = kit;
  const original = page.viewportSize();
  // A short window, so the flow's buttons are below the fold and a jump to the top is visible.
  await page.setViewportSize({ width: 1440, height: 520 });
  try {
    log("workflow editor: add a filter and an action in place, then save");
    const created = await api(relay, "/workflows", { method: "POST", body: JSON.stringify(draft("Browser tiers")) });
    await page.goto(`${relay.url}/admin/workflows/${encodeURIComponent(created.id)}`);

    const filter = await clickInPlace(page, page.getByRole("button", { name: "Add a filter" }), "[data-node=filter]");
    assert.ok(filter.focusInNode, `the focus is not in the new filter: ${filter.focused}`);
    assert.equal(filter.focused, "f-filters-0-type");
    await page.locator("#f-filters-0-attribute").fill("tier");
    await page.locator("#f-filters-0-operator").selectOption({ label: "equal with" });
    await page.locator("#f-filters-0-value").fill("Gold");

    const action = await clickInPlace(page, page.getByRole("button", { name: "+ Track event" }), "[data-node=action]");
    assert.ok(action.focusInNode, `the focus is not in the new action: ${action.focused}`);
    assert.equal(action.focused, "f-actions-1-event");
    await page.locator("#f-actions-1-event").fill("loyalty_browser_gold");
    await page.locator("#f-actions-1-properties").fill("tier = {{event.tier}}");

    // A node added and removed again in place leaves nothing behind.
    await clickInPlace(page, page.getByRole("button", { name: "+ Update customer" }), "[data-node=action]");
    assert.equal(await page.locator("[data-node=action]").count(), 3);
    await clickInPlace(page, page.getByRole("button", { name: "Remove action 3" }), "form");
    assert.equal(await page.locator("[data-node=action]").count(), 2);
    await expectText(page, "And then Track a Bloomreach event");
    await screenshots(page, "workflow-editor-added-in-place");

    await page.getByRole("button", { name: "Save workflow" }).click();
    await expectText(page, "Saved.");
    const saved = await api(relay, `/workflows/${encodeURIComponent(created.id)}`);
    assert.deepEqual(saved.document.filters, [
      { type: "event_attribute", attribute: "tier", operator: "equals", value: "Gold" },
    ]);
    assert.deepEqual(saved.document.actions, [
      { type: "sync_fields", fields: { last_tier_change: "{{event.created_at}}" } },
      { type: "sync_event", event: "loyalty_browser_gold", properties: { tier: "{{event.tier}}" } },
    ]);

    log("Try it names the filter that failed");
    await page.locator("#f-sample").fill(
      JSON.stringify({
        action: "tier_change",
        customer: { id: "try-9", email: "t9@example.com" },
        data: { tier: "Silver" },
      }),
    );
    await page.getByRole("button", { name: "Try it", exact: true }).click();
    await expectText(page, "filter 1 (the event's tier equal with “Gold”) did not pass: the event's tier is “Silver”.");
    await screenshots(page, "workflow-try-it-no-match");

    log("workflow editor without JavaScript: the same edit through the server");
    const plain = await api(relay, "/workflows", { method: "POST", body: JSON.stringify(draft("Browser no-JS")) });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Emulation.setScriptExecutionDisabled", { value: true });
    try {
      await page.goto(`${relay.url}/admin/workflows/${encodeURIComponent(plain.id)}`);
      await page.getByRole("button", { name: "Add a filter" }).click();
      await expectText(page, "Changed, not saved yet.");
      await page.locator("#f-filters-0-attribute").fill("tier");
      await page.locator("#f-filters-0-operator").selectOption({ label: "not equal with" });
      await page.locator("#f-filters-0-value").fill("Bronze");
      await page.getByRole("button", { name: "+ Track event" }).click();
      await expectText(page, "Changed, not saved yet.");
      assert.equal(await page.locator("#f-filters-0-attribute").inputValue(), "tier", "the filter was lost");
      await page.locator("#f-actions-1-event").fill("loyalty_no_js");
      await page.getByRole("button", { name: "Save workflow" }).click();
      await expectText(page, "Saved.");
    } finally {
      await cdp.send("Emulation.setScriptExecutionDisabled", { value: false });
      await cdp.detach();
    }
    const plainSaved = await api(relay, `/workflows/${encodeURIComponent(plain.id)}`);
    assert.deepEqual(plainSaved.document.filters, [
      { type: "event_attribute", attribute: "tier", operator: "not_equals", value: "Bronze" },
    ]);
    assert.deepEqual(
      plainSaved.document.actions.map((a) => a.event ?? a.type),
      ["sync_fields", "loyalty_no_js"],
    );

    log("birthday template: warned that no Antavo API connection is configured");
    await page.goto(`${relay.url}/admin/workflows/new`);
    const card = page.locator("section", { has: page.getByRole("heading", { name: "Birthday reward" }) });
    await card.getByText("Needs the Antavo API connection, which is not set up yet").waitFor();
    await page.locator("#f-birthday_reward-params-rewardId").fill("rw-browser");
    await page.getByRole("button", { name: "Create from “Birthday reward”" }).click();
    await expectText(page, "Workflow created (inactive until you activate it).");
    await expectText(page, "This workflow claims Antavo rewards, and no Antavo API connection is configured");
    // Try it starts from a customer (a date workflow has no event) whose birthday is today.
    assert.doesNotMatch(await page.locator("#f-sample").inputValue(), /"action"/);
    await page.getByRole("button", { name: "Try it", exact: true }).click();
    await expectText(page, "Claim reward rw-browser for customer sample-customer-1, free");
    await expectText(page, "this shows the reward claim, but the relay cannot make it");
    await screenshots(page, "workflow-birthday-no-antavo");
    await page.getByRole("button", { name: /^Activate/ }).click();
    await expectText(page, "It claims Antavo rewards and no Antavo API connection is configured");
    await page.getByRole("button", { name: /^Deactivate/ }).click();
    await expectText(page, "Workflow deactivated.");
  } finally {
    await page.setViewportSize(original);
  }
}
