/**
 * Every admin page on a phone: at 375 px no page scrolls sideways, and the list tables become one
 * card per row instead of scrolling inside their box (where "Last error" and the Activate buttons
 * were off-screen with no hint). Also the dashboard's recent failures and the customer search by
 * e-mail, against what the main flow left: browser-cust-1 (ada@example.com) and imp-1… imported
 * as imp1@example.com…
 */
import assert from "node:assert/strict";

const PHONE = 375;

/** At 375 px: the page's own width, and every visible table (or table role) inside its container. */
async function phoneLayout(page) {
  await page.setViewportSize({ width: PHONE, height: 900 });
  return page.evaluate(() => {
    const visible = (el) => el.getClientRects().length > 0;
    const tables = [...document.querySelectorAll("table, [role=table], [role=grid]")].filter(visible).map((table) => ({
      html: table.outerHTML.slice(0, 60),
      scrollWidth: table.scrollWidth,
      parentWidth: table.parentElement.clientWidth,
    }));
    // A cell whose right edge is past the viewport is off-screen, whatever scrolls. A header row
    // hidden for screen readers only (the cards label their own cells) is not on screen at all.
    const srOnly = (el) => {
      const head = el.closest("thead");
      return head !== null && getComputedStyle(head).position === "absolute";
    };
    const offscreen = [...document.querySelectorAll("td, th, button, pre")]
      .filter((el) => visible(el) && !srOnly(el))
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
      .map((el) => el.outerHTML.slice(0, 60));
    return { scrollWidth: document.documentElement.scrollWidth, tables, offscreen };
  });
}

async function checkPage(page, kit, name, { tables = false } = {}) {
  const layout = await phoneLayout(page);
  assert.ok(layout.scrollWidth <= PHONE, `${name} at ${PHONE} px is ${layout.scrollWidth} px wide`);
  if (tables) {
    assert.ok(layout.tables.length > 0, `${name}: no table to check`);
    for (const t of layout.tables)
      assert.ok(
        t.scrollWidth <= t.parentWidth,
        `${name}: a table is ${t.scrollWidth} px wide in a ${t.parentWidth} px box at ${PHONE} px: ${t.html}`,
      );
    assert.deepEqual(layout.offscreen, [], `${name}: off-screen at ${PHONE} px`);
  }
  // Both widths saved, and the kit's own 375 px checks (labels, duplicate ids) for every page.
  await kit.screenshots(page, `page-${name}`);
}

export default async function pages(page, relay, kit) {
  const base = relay.url;

  kit.log("pages: a refused delivery for the dashboard's recent failures");
  const fail = await fetch(`${relay.sandbox.url}/fail?status=400&times=1`, { method: "POST" });
  assert.equal(fail.status, 200, `the sandbox did not take /fail: ${fail.status}`);
  await kit.postWebhook(base, {
    id: "browser-dead-1",
    action: "opt_in",
    customer: { id: "browser-dead-cust", email: "dead@example.com", first_name: "Dee" },
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.goto(`${base}/admin`);
    if ((await page.locator("[data-recent-failures]").getByText("browser-dead-cust").count()) > 0) break;
    assert.ok(Date.now() < deadline, "the refused delivery did not reach the recent failures within 30 s");
    await new Promise((r) => setTimeout(r, 1000));
  }
  const failures = page.locator("[data-recent-failures]");
  await failures.getByText("Recent failures").waitFor();
  const link = failures.locator('a[href="/admin/deliveries/browser-dead-1"]');
  assert.equal(await link.count(), 1, "the recent failure does not link to its delivery");
  await checkPage(page, kit, "dashboard");
  await link.click();
  await page.waitForURL(`${base}/admin/deliveries/browser-dead-1`);
  await kit.expectText(page, "dead");
  await checkPage(page, kit, "delivery-detail-dead");

  kit.log("pages: every admin page at 375 px");
  for (const [name, path, options] of [
    ["deliveries", "/admin/deliveries", { tables: true }],
    ["workflows", "/admin/workflows", { tables: true }],
    ["customers", "/admin/customers"],
    ["connection", "/admin/connection"],
    ["antavo", "/admin/antavo"],
    ["mapping", "/admin/mapping"],
    ["settings", "/admin/settings"],
    ["inbound", "/admin/inbound"],
    ["workflow-new", "/admin/workflows/new"],
  ]) {
    await page.goto(`${base}${path}`);
    await checkPage(page, kit, name, options);
  }
  // The delivered one from the main flow: its attempts' JSON blocks open.
  await page.goto(`${base}/admin/deliveries?customer=browser-cust-1`);
  await checkPage(page, kit, "deliveries-filtered", { tables: true });
  // The card labels of the monospace cells (Event, Customer) are in the body font, as the others.
  await page.setViewportSize({ width: PHONE, height: 900 });
  const fonts = await page.evaluate(() => {
    const label = (name) => getComputedStyle(document.querySelector(`td[data-label="${name}"]`), "::before").fontFamily;
    return { body: getComputedStyle(document.body).fontFamily, event: label("Event"), customer: label("Customer") };
  });
  assert.equal(fonts.event, fonts.body, "the Event card label is not in the body font");
  assert.equal(fonts.customer, fonts.body, "the Customer card label is not in the body font");
  await page.locator("td a").first().click();
  await kit.expectText(page, "Attempt 1 to bloomreach");
  for (const summary of await page.locator("details > summary").all()) await summary.click();
  await checkPage(page, kit, "delivery-detail");
  await page.goto(`${base}/admin/workflows`);
  await page.locator("td a").first().click();
  await kit.expectText(page, "Try it");
  await checkPage(page, kit, "workflow-editor");

  kit.log("pages: customer search by e-mail");
  await page.goto(`${base}/admin/customers`);
  await page.getByLabel("Antavo customer ID").fill("ada@example.com");
  await page.getByRole("button", { name: "Look up" }).click();
  await kit.expectText(page, "Customer browser-cust-1");
  await kit.expectText(page, "Found by its email.");
  await kit.expectText(page, "What Bloomreach last received");
  await checkPage(page, kit, "customer-by-email", { tables: true });
  // imp1@, imp10@ … imp19@: several match, each a link to its customer.
  await page.getByLabel("Antavo customer ID").fill("imp1");
  await page.getByRole("button", { name: "Look up" }).click();
  await kit.expectText(page, "11 customers whose email starts with “imp1”");
  await checkPage(page, kit, "customer-matches");
  await page.locator("[data-matches]").getByRole("link", { name: "imp-12", exact: true }).click();
  await kit.expectText(page, "Customer imp-12");
  await kit.expectText(page, "imp12@example.com");
  await page.setViewportSize({ width: 1440, height: 900 });
}
