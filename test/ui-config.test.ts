import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { emptyState } from "../src/ui/form";
import { AntavoPage } from "../src/ui/pages/antavo";
import { FakeBloomreach } from "./fakes/fake-bloomreach";
import { installOutboundFakes } from "./fakes/outbound";
import { admin, json } from "./support/http";
import { loggedIn, textOf } from "./ui-helpers";

const SECRET = "TOP-SECRET-bloomreach-ui";
const ANTAVO_SECRET = "TOP-SECRET-antavo-ui";
const connection = { baseUrl: "https://bloomreach.test", projectToken: "proj-ui", apiKeyId: "key-ui" };

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** Every table that could hold a secret, as text. */
async function database() {
  const tables = ["bloomreach_connection", "antavo_connection"];
  return (
    await Promise.all(
      tables.map(async (t) => JSON.stringify((await env.DB.prepare(`select * from ${t}`).all()).results)),
    )
  ).join("\n");
}

describe("Connect Bloomreach", () => {
  it("asks for the secret the first time, next to its field", async () => {
    const ui = await loggedIn();
    const page = await ui.post("/admin/connection", { ...connection, apiSecret: "" });
    expect(page.status).toBe(400);
    expect(page.html).toMatch(/<p class="error" id="f-apiSecret-error">is required<\/p>/);
    expect(page.html).toMatch(/id="f-apiSecret"[^>]*aria-invalid="true"/);
    // The other values are kept in the form.
    expect(page.html).toMatch(/id="f-projectToken"[^>]*value="proj-ui"|value="proj-ui"[^>]*id="f-projectToken"/);
  });

  it("shows a schema error next to the field at fault", async () => {
    const ui = await loggedIn();
    const page = await ui.post("/admin/connection", { ...connection, baseUrl: "ftp://nope", apiSecret: SECRET });
    expect(page.status).toBe(400);
    expect(page.html).toContain('id="f-baseUrl-error"');
    expect(page.html).not.toContain(SECRET);
    expect((await json(await admin("/connection"))).configured).toBe(false);
  });

  it("saves through the service, shows the secret only as set, and never renders it", async () => {
    const ui = await loggedIn();
    expect(textOf((await ui.get("/admin/connection")).html)).toContain("not set");
    const saved = await ui.post("/admin/connection", { ...connection, apiSecret: SECRET });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe("/admin/connection?notice=saved");
    expect(await json(await admin("/connection"))).toMatchObject({
      configured: true,
      ...connection,
      apiSecretSet: true,
    });

    const page = await ui.get(saved.location!);
    expect(textOf(page.html)).toContain("Saved.");
    expect(textOf(page.html)).toMatch(/API secret set/);
    expect(page.html).not.toContain(SECRET);
    expect(page.html).toMatch(/id="f-apiSecret"[^>]*value=""/);
    expect(await database()).not.toContain(SECRET);

    // A later save without the secret keeps it.
    expect(
      (await ui.post("/admin/connection", { ...connection, projectToken: "proj-ui-2", apiSecret: "" })).status,
    ).toBe(303);
    expect(await json(await admin("/connection"))).toMatchObject({ projectToken: "proj-ui-2", apiSecretSet: true });
    await ui.post("/admin/connection", { ...connection, apiSecret: "" });
  });

  it("tests the connection and shows each check's result", async () => {
    const ui = await loggedIn();
    const bloomreach = new FakeBloomreach({ ...connection, apiSecret: SECRET });
    restore = installOutboundFakes(bloomreach);
    await ui.get("/admin/connection");
    const page = await ui.post("/admin/connection/test");
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain("Connection test passed");
    for (const check of ["reachability", "credentials", "permissions"])
      expect(text).toMatch(new RegExp(`pass ${check}`));
    expect(page.html).not.toContain(SECRET);
  });

  it("shows a failed check with its reason", async () => {
    const ui = await loggedIn();
    const bloomreach = new FakeBloomreach({ ...connection, apiSecret: "another-secret" });
    restore = installOutboundFakes(bloomreach);
    await ui.get("/admin/connection");
    const text = textOf((await ui.post("/admin/connection/test")).html);
    expect(text).toContain("Connection test failed");
    expect(text).toMatch(/fail credentials/);
  });

  it("shows a delivery paused by a 403 on the page and the dashboard", async () => {
    await env.DB.prepare(
      "update bloomreach_connection set delivery_state = 'paused', paused_reason = '403 from Bloomreach: Invalid API secret', paused_at = 1767225600",
    ).run();
    const ui = await loggedIn();
    expect(textOf((await ui.get("/admin/connection")).html)).toContain(
      "paused: 403 from Bloomreach: Invalid API secret",
    );
    expect(textOf((await ui.get("/admin")).html)).toContain("paused: 403 from Bloomreach: Invalid API secret");
    await env.DB.prepare(
      "update bloomreach_connection set delivery_state = 'active', paused_reason = null, paused_at = null",
    ).run();
  });
});

describe("Antavo API connection", () => {
  it("saves through the service and never renders the secret", async () => {
    const ui = await loggedIn();
    const bad = await ui.post("/admin/antavo", {
      baseUrl: "https://api.demo.antavo.com",
      environment: "bad env!",
      apiKey: "k",
      apiSecret: ANTAVO_SECRET,
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('id="f-environment-error"');
    expect(bad.html).not.toContain(ANTAVO_SECRET);

    const saved = await ui.post("/admin/antavo", {
      baseUrl: "https://api.demo.antavo.com",
      environment: "demo",
      apiKey: "antavo-key",
      apiSecret: ANTAVO_SECRET,
    });
    expect(saved.status).toBe(303);
    expect(await json(await admin("/antavo"))).toMatchObject({
      configured: true,
      environment: "demo",
      apiKey: "antavo-key",
      apiSecretSet: true,
    });
    const page = await ui.get("/admin/antavo");
    expect(page.html).not.toContain(ANTAVO_SECRET);
    expect(textOf(page.html)).toMatch(/API secret set/);
    expect(await database()).not.toContain(ANTAVO_SECRET);
  });

  it("names the Antavo sandbox as the base URL when the relay runs locally, and only then", async () => {
    // The tests run with wrangler.toml's ENVIRONMENT, local, as npm start does.
    const ui = await loggedIn();
    expect(textOf((await ui.get("/admin/antavo")).html)).toContain(
      "An Antavo API host on antavo.com, over https (locally: the Antavo sandbox, http://127.0.0.1:8789).",
    );
    const view = (environment: string) =>
      String(
        AntavoPage({
          ctx: { nonce: "n", csrf: "c", path: "/admin/antavo", environment },
          connection: { configured: false, apiSecretSet: false },
          state: emptyState({}),
        }),
      );
    const production = textOf(view("production"));
    expect(production).toContain("An Antavo API host on antavo.com, over https.");
    expect(production).not.toContain("sandbox");
    expect(textOf(view("local"))).toContain("(locally: the Antavo sandbox, http://127.0.0.1:8789)");
  });
});

describe("Sync fields", () => {
  it("saves the mapping through the service (it shows in GET /api/mapping) and then locks the hard ID", async () => {
    const ui = await loggedIn();
    const before = await ui.get("/admin/mapping");
    expect(before.html).toContain('list="loyalty-fields"');
    expect(before.html).toContain('<option value="tiers.0.name">');
    expect(before.html).not.toContain('id="hard-id-locked"');

    const saved = await ui.post("/admin/mapping", {
      "hardId[loyaltyField]": "email",
      "hardId[remoteId]": "registered",
      "fields[0][loyaltyField]": "score",
      "fields[0][remoteField]": "loyalty_points",
      "fields[1][loyaltyField]": "",
      "fields[1][remoteField]": "",
      "fields[2][loyaltyField]": "tier",
      "fields[2][remoteField]": "loyalty_tier",
    });
    expect(saved.status).toBe(303);
    expect(await json(await admin("/mapping"))).toEqual({
      hardId: { loyaltyField: "email", remoteId: "registered" },
      fields: [
        { loyaltyField: "score", remoteField: "loyalty_points" },
        { loyaltyField: "tier", remoteField: "loyalty_tier" },
      ],
    });

    const locked = await ui.get("/admin/mapping");
    expect(locked.html).toContain('id="hard-id-locked"');
    expect(textOf(locked.html)).toContain("Locked: email → registered");
    expect(locked.html).toMatch(/id="f-hardId-loyaltyField"[^>]*readonly/);

    // Changing it anyway (e.g. a crafted post) is refused by the service, with the reason beside it.
    const refused = await ui.post("/admin/mapping", { "hardId[loyaltyField]": "id", "hardId[remoteId]": "registered" });
    expect(refused.status).toBe(409);
    expect(refused.html).toMatch(/id="f-hardId-error">is locked</);
    expect(textOf(refused.html)).toContain("cannot change");
    expect((await json(await admin("/mapping"))).hardId).toEqual({ loyaltyField: "email", remoteId: "registered" });
  });

  it("puts a field error on the row at fault", async () => {
    const ui = await loggedIn();
    const page = await ui.post("/admin/mapping", {
      "hardId[loyaltyField]": "email",
      "hardId[remoteId]": "registered",
      "fields[0][loyaltyField]": "score",
      "fields[0][remoteField]": "points",
      "fields[1][loyaltyField]": "spendable",
      "fields[1][remoteField]": "points",
      "fields[2][loyaltyField]": "not a path!",
      "fields[2][remoteField]": "x",
    });
    expect(page.status).toBe(400);
    expect(page.html).toMatch(/id="f-fields-1-remoteField-error">is mapped twice</);
    expect(page.html).toContain('id="f-fields-2-loyaltyField-error"');
    expect(page.html).toMatch(/href="#f-fields-1-remoteField"/);
    expect(page.html).not.toContain('id="f-fields-0-remoteField-error"');
    // The summary names the row as the page numbers it, in the field's label, not its path.
    expect(textOf(page.html)).toContain("Row 2, Bloomreach property : is mapped twice");
    expect(textOf(page.html)).not.toContain("fields.1");
  });

  it("refuses an event name with a space (a typo that would never match) at its row", async () => {
    const ui = await loggedIn();
    const page = await ui.post("/admin/settings", {
      "events[0][action]": "opt_in",
      "events[1][action]": "reward claim",
    });
    expect(page.status).toBe(400);
    expect(page.html).toMatch(/id="f-events-1-action-error">has a space: Antavo action names have none/);
    expect((await json(await admin("/settings"))).events).not.toContainEqual(
      expect.objectContaining({ action: "reward claim" }),
    );
  });

  it("says what is wrong in the form's words, not the validator's", async () => {
    const ui = await loggedIn();
    const page = await ui.post("/admin/settings", { rateLimitPerSecond: "1000000", retentionDays: "0" });
    expect(page.status).toBe(400);
    const text = textOf(page.html);
    expect(text).toMatch(/Bloomreach calls per second ?: must be at most \d+/);
    expect(text).toMatch(/Keep the delivery log for \(days\) ?: must be at least 1/);
    expect(text).not.toMatch(/Too (small|big)|expected (number|string)/);
  });

  it("saves the type chosen per field (GET /api/mapping shows it) and shows it selected again", async () => {
    const ui = await loggedIn();
    const page = await ui.get("/admin/mapping");
    for (const label of ["As Antavo sends it", "Text", "Number", "True/false", "Date (Unix seconds)"])
      expect(page.html).toContain(`>${label}</option>`);

    const saved = await ui.post("/admin/mapping", {
      "hardId[loyaltyField]": "email",
      "hardId[remoteId]": "registered",
      "fields[0][loyaltyField]": "birth_date",
      "fields[0][remoteField]": "birthday",
      "fields[0][type]": "date",
      "fields[1][loyaltyField]": "score",
      "fields[1][remoteField]": "loyalty_points",
      "fields[1][type]": "",
      "fields[2][loyaltyField]": "properties.vip",
      "fields[2][remoteField]": "vip",
      "fields[2][type]": "boolean",
      // A blank row with a type left on it is still a blank row.
      "fields[3][loyaltyField]": "",
      "fields[3][remoteField]": "",
      "fields[3][type]": "number",
    });
    expect(saved.status).toBe(303);
    expect((await json(await admin("/mapping"))).fields).toEqual([
      { loyaltyField: "birth_date", remoteField: "birthday", type: "date" },
      { loyaltyField: "score", remoteField: "loyalty_points" },
      { loyaltyField: "properties.vip", remoteField: "vip", type: "boolean" },
    ]);

    const again = (await ui.get("/admin/mapping")).html;
    const selected = (row: number) =>
      /<option value="([^"]*)" selected/.exec(
        again.split(`name="fields[${row}][type]"`)[1]!.split("</select>")[0]!,
      )?.[1];
    expect([selected(0), selected(1), selected(2)]).toEqual(["date", "", "boolean"]);

    // A type the API does not know is refused beside its select, and nothing is saved.
    const bad = await ui.post("/admin/mapping", {
      "hardId[loyaltyField]": "email",
      "hardId[remoteId]": "registered",
      "fields[0][loyaltyField]": "birth_date",
      "fields[0][remoteField]": "birthday",
      "fields[0][type]": "timestamp",
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('id="f-fields-0-type-error"');
    expect((await json(await admin("/mapping"))).fields[0]).toEqual({
      loyaltyField: "birth_date",
      remoteField: "birthday",
      type: "date",
    });
  });

  it("adds and removes rows without JavaScript and without saving", async () => {
    const ui = await loggedIn();
    const stored = await json(await admin("/mapping"));
    const added = await ui.post("/admin/mapping", {
      "hardId[loyaltyField]": "email",
      "hardId[remoteId]": "registered",
      "fields[0][loyaltyField]": "first_name",
      "fields[0][remoteField]": "first_name",
      _add: "1",
    });
    expect(added.status).toBe(200);
    expect(textOf(added.html)).toContain("not saved yet");
    expect(added.html).toContain('name="fields[1][loyaltyField]"');
    const removed = await ui.post("/admin/mapping", {
      "fields[0][loyaltyField]": "a",
      "fields[0][remoteField]": "a",
      "fields[1][loyaltyField]": "b",
      "fields[1][remoteField]": "b",
      _remove: "0",
    });
    expect(removed.html).toMatch(
      /name="fields\[0\]\[loyaltyField\]"[^>]*value="b"|value="b"[^>]*name="fields\[0\]\[loyaltyField\]"/,
    );
    expect(removed.html).not.toContain('value="a"');
    expect(await json(await admin("/mapping"))).toEqual(stored);
  });
});

describe("Event sync settings", () => {
  it("saves actions with their Bloomreach names and the async switch through the service", async () => {
    const ui = await loggedIn();
    const page = await ui.get("/admin/settings");
    expect(textOf(page.html)).toContain("answers Antavo (202) as soon as the event is safely queued");
    expect(page.html).toMatch(/id="f-asyncSync"[^>]*checked/);

    const saved = await ui.post("/admin/settings", {
      "events[0][action]": "opt_in",
      "events[0][remoteEvent]": "loyalty_opt_in",
      "events[1][action]": "checkout",
      "events[1][remoteEvent]": "",
      rateLimitPerSecond: "20",
      retentionDays: "",
    });
    expect(saved.status).toBe(303);
    expect(await json(await admin("/settings"))).toEqual({
      asyncSync: false,
      rateLimitPerSecond: 20,
      retentionDays: 30,
      dedupeWindowSeconds: 600,
      enrichmentTtlSeconds: 3600,
      antavoRateLimitPerMinute: 1200,
      // The rows' order is the admin's, not sorted by action.
      events: [
        { action: "opt_in", remoteEvent: "loyalty_opt_in" },
        { action: "checkout", remoteEvent: "checkout" },
      ],
    });
    expect((await ui.get("/admin/settings")).html).not.toMatch(/id="f-asyncSync"[^>]*checked/);
  });

  it("saves the Antavo traffic settings, keeps them when left blank, and refuses out-of-range values", async () => {
    const ui = await loggedIn();
    const page = await ui.get("/admin/settings");
    expect(textOf(page.html)).toContain("How long an identical event without an id counts as Antavo's redelivery");
    expect(page.html).toMatch(/id="f-dedupeWindowSeconds"[^>]*value="600"/);
    expect(page.html).toMatch(/id="f-enrichmentTtlSeconds"[^>]*value="3600"/);
    expect(page.html).toMatch(/id="f-antavoRateLimitPerMinute"[^>]*value="1200"/);

    const events = { "events[0][action]": "opt_in", "events[0][remoteEvent]": "loyalty_opt_in" };
    const saved = await ui.post("/admin/settings", {
      asyncSync: "on",
      ...events,
      dedupeWindowSeconds: "0",
      enrichmentTtlSeconds: "86400",
      antavoRateLimitPerMinute: "1500",
    });
    expect(saved.status).toBe(303);
    expect(await json(await admin("/settings"))).toMatchObject({
      dedupeWindowSeconds: 0,
      enrichmentTtlSeconds: 86_400,
      antavoRateLimitPerMinute: 1500,
    });
    const shown = (await ui.get("/admin/settings")).html;
    expect(shown).toMatch(/id="f-dedupeWindowSeconds"[^>]*value="0"/);
    expect(shown).toMatch(/id="f-enrichmentTtlSeconds"[^>]*value="86400"/);

    // Blank keeps the saved value, as an omitted API key does.
    expect((await ui.post("/admin/settings", { asyncSync: "on", ...events, dedupeWindowSeconds: "" })).status).toBe(
      303,
    );
    expect((await json(await admin("/settings"))).dedupeWindowSeconds).toBe(0);

    const out = await ui.post("/admin/settings", {
      asyncSync: "on",
      ...events,
      dedupeWindowSeconds: "86401",
      antavoRateLimitPerMinute: "0",
    });
    expect(out.status).toBe(400);
    expect(out.html).toContain('id="f-dedupeWindowSeconds-error"');
    expect(out.html).toContain('id="f-antavoRateLimitPerMinute-error"');
    expect(out.html).toMatch(/id="f-dedupeWindowSeconds"[^>]*value="86401"/);
    expect((await json(await admin("/settings"))).antavoRateLimitPerMinute).toBe(1500);
  });

  it("shows duplicate actions and bad numbers next to their inputs", async () => {
    const ui = await loggedIn();
    const twice = await ui.post("/admin/settings", {
      asyncSync: "on",
      "events[0][action]": "opt_in",
      "events[1][action]": "opt_in",
    });
    expect(twice.status).toBe(400);
    expect(twice.html).toMatch(/id="f-events-1-action-error">is listed twice</);
    expect(twice.html).toMatch(/id="f-asyncSync"[^>]*checked/);
    const lots = await ui.post("/admin/settings", {
      asyncSync: "on",
      "events[0][action]": "opt_in",
      rateLimitPerSecond: "lots",
    });
    expect(lots.status).toBe(400);
    expect(lots.html).toContain('id="f-rateLimitPerSecond-error"');
    expect(lots.html).toMatch(/id="f-rateLimitPerSecond"[^>]*value="lots"/);
  });
});
