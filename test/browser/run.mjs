/**
 * `npm run test:browser`: the admin UI in a real browser, end to end, against the relay started
 * locally (wrangler dev --local) and the Bloomreach sandbox on loopback. It logs in, connects
 * Bloomreach, maps fields, enables an event, creates a workflow from a template, activates and tries
 * it, posts a webhook, and follows the delivery to its attempt; it imports customers too. Every page
 * is saved at 375 and 1440 px to test-artifacts/browser/ for a human look.
 *
 * Browser: Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH) through playwright-core; never
 * a downloaded browser. Any console error (CSP violations included) fails the run.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import * as kit from "./kit.mjs";
import { SANDBOX, SECRETS, startLocalRelay } from "./local-relay.mjs";

const { ARTIFACTS, STEP_TIMEOUT_MS, expectText, layoutProblems, log, nav, postWebhook, screenshots } = kit;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), "scenarios");

/**
 * Each file of scenarios/ exports a default `async (page, relay, kit)`, run in name order after the
 * main flow (logged in, Bloomreach connected, fields mapped, one workflow active) on the same page.
 */
async function scenarios(page, relay) {
  const files = readdirSync(SCENARIOS)
    .filter((name) => name.endsWith(".mjs"))
    .sort();
  for (const file of files) {
    log(`scenario ${file}`);
    const { default: run } = await import(pathToFileURL(join(SCENARIOS, file)).href);
    await run(page, relay, kit);
  }
}

async function flow(page, relay) {
  const base = relay.url;

  log("login");
  await page.goto(`${base}/admin`);
  assert.match(page.url(), /\/admin\/login\?next=%2Fadmin$/);
  await screenshots(page, "login");
  await page.getByLabel("Admin token").fill("wrong-token");
  await page.getByRole("button", { name: "Log in" }).click();
  await expectText(page, "That admin token is not valid.");
  await page.getByLabel("Admin token").fill(SECRETS.ADMIN_TOKEN);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${base}/admin`);
  await expectText(page, "not connected");
  await screenshots(page, "dashboard-empty");

  log("connect Bloomreach (against the sandbox)");
  await nav(page, "Bloomreach");
  await page.getByLabel("API base URL").fill(relay.sandbox.url);
  await page.getByLabel("Project token").fill(SANDBOX.projectToken);
  await page.getByLabel("API key ID").fill(SANDBOX.apiKeyId);
  await page.getByLabel("API secret").fill(SANDBOX.apiSecret);
  await page.getByRole("button", { name: "Save connection" }).click();
  await expectText(page, "Saved.");
  assert.equal(await page.getByLabel("API secret").inputValue(), "", "the secret must never come back into the page");
  assert.ok(!(await page.content()).includes(SANDBOX.apiSecret), "the secret must never be rendered");
  await page.getByRole("button", { name: "Test connection" }).click();
  await expectText(page, "Connection test passed");
  await screenshots(page, "connection");

  log("Antavo API page");
  await nav(page, "Antavo API");
  await expectText(page, "not configured");
  await screenshots(page, "antavo");

  log("map fields (rows added with the page script)");
  await nav(page, "Sync fields");
  await page.locator("#f-hardId-loyaltyField").fill("email");
  await page.locator("#f-hardId-remoteId").fill("registered");
  await page.locator("#f-fields-0-loyaltyField").fill("first_name");
  await page.locator("#f-fields-0-remoteField").fill("first_name");
  await page.getByRole("button", { name: "Add a field" }).click();
  await page.locator("#f-fields-1-loyaltyField").fill("score");
  await page.locator("#f-fields-1-remoteField").fill("loyalty_points");
  await page.getByRole("button", { name: "Add a field" }).click();
  await page.locator("#f-fields-2-loyaltyField").fill("spent");
  await page.locator("#f-fields-2-remoteField").fill("to_be_removed");
  await page
    .locator("[data-row]")
    .nth(2)
    .getByRole("button", { name: /Remove/ })
    .click();
  assert.equal(await page.locator("[data-row]").count(), 2);
  await page.getByRole("button", { name: "Save fields" }).click();
  await expectText(page, "Saved.");
  await expectText(page, "Locked: email → registered");
  await screenshots(page, "mapping");

  log("enable an event");
  await nav(page, "Event sync");
  await page.locator("#f-events-0-action").fill("opt_in");
  await page.locator("#f-events-0-remoteEvent").fill("loyalty_opt_in");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expectText(page, "Saved.");
  await screenshots(page, "settings");

  log("inbound from Bloomreach: a rule, then Try it");
  await nav(page, "Inbound from Bloomreach");
  await expectText(page, "/webhooks/bloomreach");
  await page.getByRole("button", { name: "Add a rule" }).click();
  await page.locator("#f-rules-0-eventType").fill("newsletter_signup");
  await page.locator("#f-rules-0-antavoAction").fill("point_add");
  await page.locator("#f-rules-0-data").fill('{"points": 50, "reason": "{{properties.source}}"}');
  await page.getByRole("button", { name: "Save rules" }).click();
  await expectText(page, "Saved.");
  await page.getByRole("button", { name: "Try it" }).click();
  await expectText(page, "What the relay would send to Antavo");
  await expectText(page, '"points": 50');
  await screenshots(page, "inbound");

  log("create a workflow from a template, activate it, try it");
  await nav(page, "Workflows");
  await expectText(page, "No workflows yet.");
  await screenshots(page, "workflows-empty");
  await page.getByRole("link", { name: "New workflow" }).click();
  await screenshots(page, "workflow-new");
  await page.locator("#f-welcome-params-event").fill("loyalty_welcome");
  await page.getByRole("button", { name: "Create from “Welcome”" }).click();
  await expectText(page, "Workflow created (inactive until you activate it).");
  await page.getByRole("button", { name: /^Activate/ }).click();
  await expectText(page, "Workflow activated.");
  await page.locator("#f-sample").fill(
    JSON.stringify(
      {
        action: "opt_in",
        customer: { id: "try-1", email: "try@example.com", first_name: "Tia" },
        data: { points: 10 },
      },
      null,
      2,
    ),
  );
  // The live preview answers while typing; the button does the same.
  await page.getByRole("button", { name: "Try it" }).click();
  await expectText(page, "this workflow matched");
  // The result sums the commands up; the exact JSON is folded away in a <details>.
  await page
    .locator("[data-preview-output]")
    .getByText("Track event loyalty_welcome for registered try@example.com")
    .waitFor({ timeout: STEP_TIMEOUT_MS });
  await screenshots(page, "workflow-editor");
  // Enter in the Name field moves on to the next field; it does not save a half-edited workflow.
  const editorUrl = page.url();
  await page.locator("#f-name").fill("Welcome, edited");
  await page.locator("#f-name").press("Enter");
  assert.equal(page.url(), editorUrl, "Enter in the Name field submitted the form");
  const focus = await page.evaluate(() => ({
    id: document.activeElement?.id,
    inEditor: Boolean(document.activeElement?.closest("form[data-enter-moves]")),
  }));
  assert.ok(
    focus.inEditor && focus.id !== "f-name",
    `Enter did not move the focus to the next field: ${JSON.stringify(focus)}`,
  );
  await page.locator("#f-name").fill("Welcome");
  await page.getByRole("link", { name: "All workflows" }).click();
  await expectText(page, "on Antavo event opt_in");
  await screenshots(page, "workflows");

  log("post a webhook and follow the delivery");
  await postWebhook(base, {
    id: "browser-evt-1",
    action: "opt_in",
    customer: { id: "browser-cust-1", email: "ada@example.com", first_name: "Ada", score: 120 },
    data: { points: 50 },
  });
  await nav(page, "Deliveries");
  const deadline = Date.now() + 30_000;
  for (;;) {
    const row = page.locator("tr", { hasText: "browser-cust-1" });
    if ((await row.count()) > 0 && (await row.first().getByText("delivered").count()) > 0) break;
    assert.ok(Date.now() < deadline, "the delivery did not reach delivered within 30 s");
    await new Promise((r) => setTimeout(r, 1000));
    await page.reload();
  }
  await screenshots(page, "deliveries");
  await page.locator("tr", { hasText: "browser-cust-1" }).first().getByRole("link").first().click();
  await expectText(page, "Attempt 1 to bloomreach");
  await page.getByText("Request sent").first().click();
  await page.getByText("Answer").first().click();
  await expectText(page, '"event_type": "loyalty_welcome"');
  await screenshots(page, "delivery-detail");

  const records = await (await fetch(`${relay.sandbox.url}/records`)).json();
  const sent = JSON.stringify(records);
  assert.ok(sent.includes("loyalty_welcome"), "the sandbox did not receive the workflow's event");
  assert.ok(sent.includes("loyalty_opt_in"), "the sandbox did not receive the synced event");

  log("customers: lookup and import with progress");
  await nav(page, "Customers");
  await page.getByLabel("Antavo customer ID").fill("browser-cust-1");
  await page.getByRole("button", { name: "Look up" }).click();
  await expectText(page, "ada@example.com");
  const csv = [
    "id,email,birth_date,score",
    ...Array.from(
      { length: 30 },
      (_, i) => `imp-${i},imp${i}@example.com,1990-01-${String((i % 28) + 1).padStart(2, "0")},${i}`,
    ),
    "imp-bad,x@example.com,nope,1",
  ].join("\n");
  await page
    .locator("#f-file")
    .setInputFiles({ name: "customers.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Import" }).click();
  await expectText(page, "Done. Read 31 rows: 30 new, 0 updated, 1 rejected.");
  await expectText(page, "line 32: birth_date");
  await screenshots(page, "customers");

  log("customers: sync all to Bloomreach with progress, then erase one");
  await page.getByRole("button", { name: "Sync all to Bloomreach" }).click();
  await expectText(page, "Finished:");
  await expectText(page, "0 failed");
  const synced = (await (await fetch(`${relay.sandbox.url}/records`)).json()).records.filter(
    (r) => r.kind === "customers" && /^imp\d+@example\.com$/.test(r.data.customer_ids?.registered ?? ""),
  );
  const perCustomer = new Map();
  for (const r of synced)
    perCustomer.set(r.data.customer_ids.registered, (perCustomer.get(r.data.customer_ids.registered) ?? 0) + 1);
  assert.equal(perCustomer.size, 30, "the sandbox did not receive every imported customer");
  assert.ok(
    [...perCustomer.values()].every((n) => n === 1),
    "a customer was synced twice",
  );
  await screenshots(page, "customers-synced");
  await page.getByLabel("Antavo customer ID").fill("imp-0");
  await page.getByRole("button", { name: "Look up" }).click();
  await page.getByText("Erase this customer (GDPR)").click();
  await page.getByLabel("I understand that this cannot be undone").check();
  await page.getByRole("button", { name: "Erase customer" }).click();
  await expectText(page, "Customer imp-0 was erased from the relay.");
  const lookup = await fetch(`${relay.url}/api/customers/imp-0`, {
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` },
  });
  assert.equal(lookup.status, 404, "the erased customer is still in the mirror");

  await scenarios(page, relay);

  log("dashboard with data");
  await nav(page, "Dashboard");
  await expectText(page, "Deliveries per hour");
  await screenshots(page, "dashboard");

  log("keyboard: skip link and focus order");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Skip to content");

  log("log out");
  await page.getByRole("button", { name: "Log out" }).click();
  await expectText(page, "You are logged out.");
  await page.goto(`${base}/admin/settings`);
  assert.match(page.url(), /\/admin\/login/);
}

async function main() {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  log("starting the Bloomreach sandbox and wrangler dev --local");
  const relay = await startLocalRelay();
  log(`relay on ${relay.url}, sandbox on ${relay.sandbox.url}`);
  const profile = mkdtempSync(join(tmpdir(), "relay-browser-profile-"));
  let context;
  const problems = [];
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1440, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on("console", (message) => {
      // The wrong-token login answers 401 on purpose; Chromium logs that as a failed load.
      const expected = message.text().includes("status of 401") && message.location().url.endsWith("/admin/login");
      if (message.type() === "error" && !expected)
        problems.push(`console: ${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("dialog", (dialog) => dialog.accept());
    // Form posts must carry the real Origin (not "null"), so the same-origin check has something to check.
    // Only the relay's: a scenario may post a form of the Bloomreach sandbox's own page.
    const origins = new Set();
    const headerReads = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().startsWith(`${relay.url}/`))
        headerReads.push(request.allHeaders().then((h) => origins.add(h.origin ?? "(none)")));
    });
    try {
      await flow(page, relay);
    } catch (error) {
      await page.screenshot({ path: join(ARTIFACTS, "failure.png"), fullPage: true }).catch(() => {});
      throw error;
    }
    await Promise.all(headerReads);
    assert.deepEqual([...origins], [relay.url], "form posts must send this origin");
    assert.deepEqual(problems, [], "the pages logged errors (a CSP violation shows up here)");
    assert.deepEqual(layoutProblems, [], "layout or labelling problems");
    log(`passed; screenshots in ${ARTIFACTS}`);
  } finally {
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    await relay.stop();
  }
}

main().catch((error) => {
  console.error(`[browser] FAILED: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
