/**
 * Issue 10's walkthrough, as README.md ("Walkthrough: the five use cases") tells a new admin, on a
 * 375×812 phone window: set up the five use cases (welcome e-mail on opt-in, "you reached Gold",
 * reward-claim follow-up, last-purchase fields, birthday reward) with the templates, Sync fields,
 * Event sync and the Antavo API page, send the Antavo webhooks that trigger them and check each
 * reached the Bloomreach sandbox; then make a delivery fail with the sandbox page's "Refuse one
 * command" (by its event type, never its place in the batch), find it by its event id, read why it
 * failed, clear the failure, replay it and see it delivered. The failure, search, explanation and
 * replay run again at 1440×900, refused by event type and customer.
 *
 * What the main flow set up is reused, not made again: the Bloomreach connection (to the sandbox),
 * the hard ID email → registered with first_name and score, opt_in in Event sync and the active
 * "Welcome" workflow. What npm start seeds and the main flow does not is added through the UI, as
 * on a real project: the Antavo API connection (this scenario starts an Antavo sandbox and saves it
 * on the Antavo API page), `tier` → `loyalty_tier` beside the README's `birth_date` on Sync fields,
 * and `checkout` → `loyalty_checkout` on Event sync. The birthday run is started the way the
 * README says to run the cron now (`GET /__scheduled`; local-relay passes --test-scheduled).
 *
 * Every page visited at 375 px is checked for sideways scrolling here, and saved at both widths with
 * the kit's own checks.
 */
import assert from "node:assert/strict";
import { startAntavoSandbox } from "../../../src/dev/antavo-sandbox.mjs";
import { freePort, SECRETS } from "../local-relay.mjs";

const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1440, height: 900 };
const DELIVERY_TIMEOUT_MS = 45_000;

/** Fresh ids per run would hide nothing here: the relay's state is thrown away after each run. */
const WELCOME = { id: "walk-welcome-1", customer: "walk-ada", email: "walk.ada@example.com" };
const GOLD = { id: "walk-gold-1", customer: "walk-ada", email: WELCOME.email };
const CLAIM = { id: "walk-claim-1", customer: "walk-ada", email: WELCOME.email };
const PURCHASE = { id: "walk-checkout-1", customer: "walk-ada", email: WELCOME.email };
const BIRTHDAY = { id: "walk-bday-optin", customer: "walk-bea", email: "walk.bea@example.com" };
const REWARD_ID = "rw-birthday";
const FAIL_PHONE = { id: "walk-fail-phone", customer: "walk-cy", email: "walk.cy@example.com" };
const FAIL_DESKTOP = { id: "walk-fail-desktop", customer: "walk-dee", email: "walk.dee@example.com" };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, check, timeoutMs = DELIVERY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

async function api(relay, path) {
  const response = await fetch(`${relay.url}/api${path}`, {
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` },
  });
  assert.equal(response.status, 200, `GET /api${path} answered ${response.status}`);
  return response.json();
}

/** What the Bloomreach sandbox accepted (refused calls and commands are recorded as `refused`). */
async function bloomreachRecords(relay) {
  return (await (await fetch(`${relay.sandbox.url}/records`)).json()).records;
}

const eventsFor = (records, email, eventType) =>
  records.filter(
    (r) =>
      r.kind === "customers/events" && r.data.customer_ids?.registered === email && r.data.event_type === eventType,
  );

const propertiesFor = (records, email) =>
  Object.assign(
    {},
    ...records
      .filter((r) => r.kind === "customers" && r.data.customer_ids?.registered === email)
      .reverse()
      .map((r) => r.data.properties),
  );

/** Waits until the sandbox accepted `eventType` for `email`; answers its records. */
function arrived(relay, email, eventType) {
  return until(`the Bloomreach sandbox receiving ${eventType} for ${email}`, async () => {
    const found = eventsFor(await bloomreachRecords(relay), email, eventType);
    return found.length > 0 ? found : undefined;
  });
}

/**
 * Nothing in flight: a delivery still retrying (scenario 40's 500) or queued could carry an event
 * of the refused type first, so that the refusal would be someone else's.
 */
function quiet(relay) {
  return until("no delivery pending or retrying", async () => {
    for (const status of ["pending", "retrying"])
      if ((await api(relay, `/deliveries?status=${status}&limit=1`)).items.length > 0) return false;
    return true;
  });
}

export default async function walkthrough(page, relay, kit) {
  const { expectText, log, nav, postWebhook } = kit;
  const base = relay.url;

  /** At 375 px no page visited may scroll sideways (checked on every page, not only the saved ones). */
  async function flat(name) {
    if (page.viewportSize().width !== PHONE.width) return;
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `walkthrough ${name} scrolls sideways at ${PHONE.width} px (${scrollWidth})`);
  }

  /** Checked, then saved at both widths with the kit's own checks (labels, duplicate ids). */
  async function look(name) {
    await flat(name);
    await kit.screenshots(page, `walk-${name}`);
  }

  /**
   * README: "Workflows → New workflow → the template's card → Create from “…”"; `created` is what
   * the page then says (one workflow: its page, in the singular; several: the list names them).
   */
  async function fromTemplate(title, params, created = "Workflow created (inactive until you activate it).") {
    await nav(page, "Workflows");
    await page.getByRole("link", { name: "New workflow" }).click();
    await flat("workflow-new");
    const card = page.locator("section.card", { has: page.getByRole("heading", { name: title, exact: true }) });
    for (const [label, value] of Object.entries(params)) await card.getByLabel(label).fill(value);
    await card.getByRole("button", { name: `Create from “${title}”` }).click();
    await expectText(page, created);
    await flat(`created-${title}`);
  }

  /** The workflow's own page from the list, then Activate. */
  async function activate(name) {
    await nav(page, "Workflows");
    await flat("workflows");
    const row = page.locator("tr", { has: page.getByRole("link", { name, exact: true }) });
    assert.equal(await row.count(), 1, `the workflow list should show one “${name}”`);
    await row.getByRole("link", { name, exact: true }).click();
    await page.getByRole("button", { name: /^Activate/ }).click();
    await expectText(page, "Workflow activated.");
    assert.equal(await page.locator("dl.kv .badge.active").count(), 1, `“${name}” is not shown active`);
    await flat(`workflow-${name}`);
  }

  /**
   * The sandbox page's "Refuse one command" form, by what the admin knows: the next event of
   * `eventType` (for `customer`, the hard-ID value, when given), wherever it is in its batch.
   */
  async function refuseNextEvent({ eventType, customer }, shot) {
    await page.goto(`${relay.sandbox.url}/`);
    const form = page.locator("form", { has: page.getByRole("button", { name: "Refuse a command" }) });
    await form.getByLabel("Event type").fill(eventType);
    if (customer) await form.getByLabel("Customer id value").fill(customer);
    await form.getByLabel("Times").fill("1");
    await form.getByRole("button", { name: "Refuse a command" }).click();
    await page.waitForURL(`${relay.sandbox.url}/`);
    await expectText(page, `The next event ${eventType}${customer ? ` for ${customer}` : ""} is refused`);
    await look(shot);
  }

  /**
   * Deliveries → Event ID → Search; the row turns dead; its page marks the refused command with
   * Bloomreach's own words; the sandbox back to normal; Replay this delivery; delivered.
   */
  async function findExplainReplay(who, { refusedEvent, refusedFor, otherCommands, shot }) {
    log(`walkthrough (${shot}): find ${who.id} by its event id`);
    await page.goto(`${base}/admin`);
    await flat("dashboard");
    await nav(page, "Deliveries");
    await flat("deliveries");
    await page.getByLabel("Event ID").fill(who.id);
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(new RegExp(`eventId=${who.id}`));
    const rows = page.locator("tr.linked");
    await until(`${who.id} listed as dead`, async () => {
      if ((await rows.locator(".badge.dead").count()) > 0) return true;
      await page.reload();
      return false;
    });
    assert.equal(await rows.count(), 1, "the search by event id should list exactly that delivery");
    assert.match((await rows.first().textContent()) ?? "", new RegExp(who.customer));
    await look(`${shot}-search`);

    log(`walkthrough (${shot}): the page says why it failed`);
    await rows.first().getByRole("link", { name: who.id }).click();
    await expectText(page, `Delivery ${who.id}`);
    assert.equal(await page.locator("dl.kv .badge.dead").count(), 1, "the delivery is not shown dead");
    const refused = page.locator(".command-results li.refused");
    assert.equal(await refused.count(), 1, "exactly one command of the attempt should be marked refused");
    const refusedText = (await refused.textContent()) ?? "";
    assert.match(refusedText, new RegExp(`event ${refusedEvent}`), "the refused command is not the one asked for");
    assert.match(refusedText, /refused by Bloomreach/);
    // Bloomreach's own words (the sandbox's), not only the relay's status.
    const target = `the event ${refusedEvent}${refusedFor ? ` for ${refusedFor}` : ""}`;
    assert.ok(
      refusedText.includes(`sandbox refusal on purpose (${target}, command `),
      `the refused command does not show the sandbox's error: ${refusedText}`,
    );
    const delivered = await page.locator(".command-results li:not(.refused) .badge.delivered").count();
    assert.equal(delivered, otherCommands, "the other commands of the batch should be marked delivered");
    // The planned commands repeat it: the refused one stands out there too.
    assert.equal(await page.locator("li.card.refused").count(), 1, "the planned command is not marked refused");
    await page.getByText("Answer", { exact: true }).first().click();
    await expectText(page, "What Bloomreach answered (HTTP 200)");
    await expectText(page, '"success": false');
    await look(`${shot}-explained`);

    log(`walkthrough (${shot}): clear the failure on the sandbox page, replay`);
    const detail = page.url();
    await page.goto(`${relay.sandbox.url}/`);
    await page.getByRole("button", { name: "Answer normally" }).click();
    await page.waitForURL(`${relay.sandbox.url}/`);
    await expectText(page, "Normal: every call is answered as Bloomreach would.");
    await flat("sandbox-normal");
    await page.goto(detail);
    await page.getByRole("button", { name: "Replay this delivery" }).click();
    await expectText(page, "Delivery queued for replay.");
    await flat("delivery-queued-for-replay");
    await until(`${who.id} delivered after its replay`, async () => {
      if ((await page.locator("dl.kv .badge.delivered").count()) > 0) return true;
      await page.reload();
      return false;
    });
    await expectText(page, "Replay 1 requested");
    assert.equal(await page.locator(".command-results li.refused").count(), 1, "the first attempt keeps its refusal");
    assert.equal(await page.getByText("replay 1", { exact: true }).count(), 1, "the replay's attempt is not marked");
    assert.equal(await page.getByRole("button", { name: "Replay this delivery" }).count(), 0);
    await look(`${shot}-replayed`);
    // Bloomreach got the refused event once, on the replay; what it had taken was not sent again.
    const accepted = eventsFor(await bloomreachRecords(relay), who.email, refusedEvent);
    assert.equal(accepted.length, 1, `${refusedEvent} for ${who.email} reached Bloomreach ${accepted.length} times`);
  }

  const original = page.viewportSize();
  const antavo = await startAntavoSandbox({ port: await freePort() });
  try {
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/admin`);
    await flat("dashboard");

    log("walkthrough: the Antavo API connection (the Antavo sandbox)");
    await nav(page, "Antavo API");
    await page.getByLabel("API base URL").fill(antavo.url);
    await page.getByLabel("Environment name").fill(antavo.environment);
    await page.getByLabel("API key").fill(antavo.apiKey);
    await page.getByLabel("API secret").fill(antavo.apiSecret);
    await page.getByRole("button", { name: "Save Antavo connection" }).click();
    await expectText(page, "Saved.");
    assert.equal(await page.locator(".badge.ok", { hasText: "configured" }).count(), 1, "Antavo is not configured");
    await look("antavo");

    log("walkthrough: Sync fields, birth date and tier");
    await nav(page, "Sync fields");
    await expectText(page, "Locked: email → registered");
    for (const [loyaltyField, remoteField, type] of [
      ["birth_date", "birth_date", "Date (Unix seconds)"],
      ["tier", "loyalty_tier", "As Antavo sends it"],
    ]) {
      const index = await page.locator("[data-row]").count();
      await page.getByRole("button", { name: "Add a field" }).click();
      await page.locator(`#f-fields-${index}-loyaltyField`).fill(loyaltyField);
      await page.locator(`#f-fields-${index}-remoteField`).fill(remoteField);
      await page.locator(`#f-fields-${index}-type`).selectOption({ label: type });
    }
    await page.getByRole("button", { name: "Save fields" }).click();
    await expectText(page, "Saved.");
    const mapping = await api(relay, "/mapping");
    assert.deepEqual(
      mapping.fields.map((f) => `${f.loyaltyField}>${f.remoteField}${f.type ? `:${f.type}` : ""}`),
      ["first_name>first_name", "score>loyalty_points", "birth_date>birth_date:date", "tier>loyalty_tier"],
    );
    await look("mapping");

    log("walkthrough: Event sync, checkout as loyalty_checkout");
    await nav(page, "Event sync");
    const eventRow = await page.locator("[data-row]").count();
    await page.getByRole("button", { name: "Add an event" }).click();
    await page.locator(`#f-events-${eventRow}-action`).fill("checkout");
    await page.locator(`#f-events-${eventRow}-remoteEvent`).fill("loyalty_checkout");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expectText(page, "Saved.");
    await look("event-sync");

    log("walkthrough 1: welcome e-mail on opt-in (the main flow's Welcome workflow)");
    await nav(page, "Workflows");
    const welcome = page.locator("tr", { has: page.getByRole("link", { name: "Welcome", exact: true }) });
    assert.equal(await welcome.count(), 1, "the main flow's Welcome workflow is not listed once");
    assert.equal(await welcome.locator(".badge.active").count(), 1, "the Welcome workflow is not active");
    await look("workflows");

    log("walkthrough 2: you reached Gold (Tier upgrade template, the Gold workflow active)");
    await fromTemplate(
      "Tier upgrade",
      {
        "Antavo action": "tier_change",
        "Tier names": "Silver, Gold, Platinum",
        "Tier field in the event data": "tier",
        "Bloomreach event name prefix": "loyalty_tier_",
      },
      "3 workflows created (inactive until you activate them): Tier upgrade to Silver, Tier upgrade to Gold, Tier upgrade to Platinum.",
    );
    // Three workflows: the template lands on the list, each inactive and marked new.
    assert.match(page.url(), /\/admin\/workflows\?created=/, "several workflows should land on the list");
    for (const tier of ["Silver", "Gold", "Platinum"]) {
      const row = page.locator("tr", { has: page.getByRole("link", { name: `Tier upgrade to ${tier}`, exact: true }) });
      assert.equal(await row.locator(".badge", { hasText: /^new$/ }).count(), 1, `${tier} is not marked new`);
      assert.equal(await row.locator(".badge.inactive").count(), 1, `${tier} is not inactive`);
    }
    const welcomeRow = page.locator("tr", { has: page.getByRole("link", { name: "Welcome", exact: true }) });
    assert.equal(await welcomeRow.locator(".badge", { hasText: /^new$/ }).count(), 0, "Welcome is marked new");
    await look("tiers-created");
    await activate("Tier upgrade to Gold");
    await page.locator("#f-sample").fill(
      JSON.stringify({
        action: "tier_change",
        customer: { id: "try-gold", email: "g@example.com" },
        data: { tier: "Gold" },
      }),
    );
    await page.getByRole("button", { name: "Try it", exact: true }).click();
    await page
      .locator("[data-preview-output]")
      .getByText("Track event loyalty_tier_gold for registered g@example.com")
      .waitFor();
    await look("workflow-gold");

    log("walkthrough 3: reward-claim follow-up (Reward claimed template)");
    await fromTemplate("Reward claimed", {
      "Antavo action": "reward_claim",
      "Bloomreach event name": "loyalty_reward_claim",
    });
    await activate("Reward claimed");

    log("walkthrough 4: last-purchase fields (Last purchase template, checkout)");
    await fromTemplate("Last purchase", { "Antavo purchase actions": "checkout" });
    await activate("Last purchase (checkout)");

    log("walkthrough 5: birthday reward (Birthday reward template, due from 00:00 UTC)");
    await fromTemplate("Birthday reward", {
      "Antavo reward ID (required)": REWARD_ID,
      "Time of day (UTC)": "00:00",
      "Birth date field": "birth_date",
      "Bloomreach event name": "loyalty_birthday_reward",
    });
    const birthdayPage = page.url();
    assert.match(birthdayPage, /\/admin\/workflows\/wf_/, "one template workflow should open its own page");
    // The Antavo API connection is set: no warning that claims cannot be made.
    assert.equal(await page.getByText("no Antavo API connection is configured").count(), 0);
    await page.getByRole("button", { name: /^Activate/ }).click();
    await expectText(page, "Workflow activated.");
    await expectText(page, "daily at 00:00 UTC");
    await look("workflow-birthday");

    log("walkthrough: the webhooks that trigger them");
    const today = new Date().toISOString().slice(5, 10);
    await postWebhook(base, {
      id: WELCOME.id,
      action: "opt_in",
      customer: { id: WELCOME.customer, email: WELCOME.email, first_name: "Ada", score: 50 },
      data: { points: 50 },
    });
    await arrived(relay, WELCOME.email, "loyalty_welcome");
    await postWebhook(base, {
      id: GOLD.id,
      action: "tier_change",
      customer: { id: GOLD.customer, email: GOLD.email, score: 1200, tiers: [{ name: "Gold" }] },
      data: { tier: "Gold" },
    });
    await postWebhook(base, {
      id: CLAIM.id,
      action: "reward_claim",
      customer: { id: CLAIM.customer, email: CLAIM.email },
      data: {
        reward_id: "rw-10",
        reward_name: "10 % off",
        coupon: { code: "TENOFF-42", value: 10, type: "percent", expires_at: 1_900_000_000 },
      },
    });
    await postWebhook(base, {
      id: PURCHASE.id,
      action: "checkout",
      customer: { id: PURCHASE.customer, email: PURCHASE.email },
      data: {
        transaction_id: "T-1001",
        total: 59.9,
        items: [
          { product_name: "Mug", price: 19.9, quantity: 1 },
          { product_name: "Tea", price: 20, quantity: 2 },
        ],
      },
    });
    // The birthday customer reaches the mirror (the scan's source) with an event of its own.
    await postWebhook(base, {
      id: BIRTHDAY.id,
      action: "opt_in",
      customer: { id: BIRTHDAY.customer, email: BIRTHDAY.email, first_name: "Bea", birth_date: `1990-${today}` },
      data: { points: 10 },
    });

    const [gold] = await arrived(relay, GOLD.email, "loyalty_tier_gold");
    assert.equal(gold.data.properties.tier, "Gold");
    assert.equal(gold.data.properties.antavo_event_id, GOLD.id);
    const [claim] = await arrived(relay, CLAIM.email, "loyalty_reward_claim");
    assert.equal(claim.data.properties.coupon_code, "TENOFF-42");
    assert.equal(claim.data.properties.reward_name, "10 % off");
    await arrived(relay, PURCHASE.email, "loyalty_checkout");
    const purchase = await until("the last-purchase fields on the Bloomreach customer", async () => {
      const properties = propertiesFor(await bloomreachRecords(relay), PURCHASE.email);
      return properties.last_transaction_id ? properties : undefined;
    });
    assert.equal(purchase.last_purchase_total, 59.9);
    assert.equal(purchase.last_transaction_id, "T-1001");
    assert.equal(purchase.last_purchase_items_count, 2);
    assert.equal(typeof purchase.last_purchase_date, "number");
    assert.equal(typeof purchase.last_tier_upgrade, "number", "the Gold workflow did not store last_tier_upgrade");
    assert.equal(purchase.loyalty_tier, "Gold", "the tier mapping did not reach Bloomreach");
    assert.equal(
      eventsFor(await bloomreachRecords(relay), GOLD.email, "loyalty_tier_silver").length,
      0,
      "the Silver workflow is inactive and must not run",
    );
    await arrived(relay, BIRTHDAY.email, "loyalty_welcome");
    const bea = propertiesFor(await bloomreachRecords(relay), BIRTHDAY.email);
    assert.equal(bea.birth_date, Date.parse(`1990-${today}T00:00:00Z`) / 1000, "birth_date is not sent as a date");

    log("walkthrough 5: the birthday run (the minute cron, run now)");
    const cron = await fetch(`${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
    assert.equal(cron.status, 200, `the cron run answered ${cron.status}`);
    const [birthday] = await arrived(relay, BIRTHDAY.email, "loyalty_birthday_reward");
    // Imported members born on this day would be claimed for too: only this customer's claims count.
    const claimed = antavo.records.filter((r) => r.kind === "claim" && r.claim.customers.includes(BIRTHDAY.customer));
    assert.equal(claimed.length, 1, `the Antavo sandbox recorded ${claimed.length} claims for ${BIRTHDAY.customer}`);
    assert.deepEqual(claimed[0].claim.customers, [BIRTHDAY.customer], "a free claim is made one customer at a time");
    assert.equal(claimed[0].claim.rewardId, REWARD_ID);
    assert.equal(claimed[0].claim.free, true, "the birthday reward is claimed for free (the bulk claim)");
    assert.equal(birthday.data.properties.coupon_code, claimed[0].claim.coupon.code, "the claim's coupon was not sent");
    await page.goto(`${base}/admin/deliveries?customer=${BIRTHDAY.customer}`);
    const run = page.locator("tr.linked", { hasText: "Birthday reward (date run)" });
    assert.equal(await run.count(), 1, "the birthday run is not in the delivery log under its workflow's name");
    assert.equal(await run.locator(".badge.delivered").count(), 1, "the birthday run is not delivered");
    await look("deliveries-birthday");

    log("walkthrough: a delivery fails on purpose (phone)");
    await quiet(relay);
    // The README's "refuse the event type": where the Gold event sits in its batch does not matter.
    await refuseNextEvent({ eventType: "loyalty_tier_gold" }, "sandbox-refuse-phone");
    await postWebhook(base, {
      id: FAIL_PHONE.id,
      action: "tier_change",
      customer: { id: FAIL_PHONE.customer, email: FAIL_PHONE.email, first_name: "Cy" },
      data: { tier: "Gold" },
    });
    await findExplainReplay(FAIL_PHONE, { refusedEvent: "loyalty_tier_gold", otherCommands: 2, shot: "fail-phone" });

    log("walkthrough: the same at 1440×900");
    await page.setViewportSize(DESKTOP);
    await quiet(relay);
    await refuseNextEvent(
      { eventType: "loyalty_reward_claim", customer: FAIL_DESKTOP.email },
      "sandbox-refuse-desktop",
    );
    await postWebhook(base, {
      id: FAIL_DESKTOP.id,
      action: "reward_claim",
      customer: { id: FAIL_DESKTOP.customer, email: FAIL_DESKTOP.email, first_name: "Dee" },
      data: { reward_id: "rw-10", reward_name: "10 % off", coupon: { code: "TENOFF-43" } },
    });
    await findExplainReplay(FAIL_DESKTOP, {
      refusedEvent: "loyalty_reward_claim",
      refusedFor: FAIL_DESKTOP.email,
      otherCommands: 1,
      shot: "fail-desktop",
    });
  } finally {
    relay.sandbox.setFailure({ mode: "normal", remaining: 0 });
    await antavo.close();
    await page.setViewportSize(original);
    await page.goto(`${base}/admin`);
  }
}
