/**
 * First run in the admin UI: "Test connection" checks the values in the form (saved or not) and
 * saves nothing, skipped checks are not shown as failures, Bloomreach's clock is readable, a fix of
 * a paused connection says how many parked events went out again, and event sync keeps the
 * admin's order of the rows (UI and API).
 */
import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeBloomreach } from "./fakes/fake-bloomreach";
import { installOutboundFakes } from "./fakes/outbound";
import { demoMapping } from "./support/fixtures";
import { admin, json } from "./support/http";
import { asMessage, BLOOMREACH, deliveryRow, relayEvent, runQueue, setUpRelay } from "./support/pipeline";
import { loggedIn, textOf } from "./ui-helpers";

const SAVED = { baseUrl: "https://bloomreach.test", projectToken: "proj-saved", apiKeyId: "key-saved" };
const SAVED_SECRET = "SAVED-secret-first-run";
/** Values typed into the form and never saved. */
const TYPED = { baseUrl: "https://bloomreach.test", projectToken: "proj-typed", apiKeyId: "key-typed" };
const TYPED_SECRET = "TYPED-secret-first-run";

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});
beforeEach(async () => {
  // Storage is per file and shared by its tests: each starts with no connection and no deliveries.
  await env.DB.batch([
    env.DB.prepare("delete from delivery_attempts"),
    env.DB.prepare("delete from deliveries"),
    env.DB.prepare("delete from bloomreach_connection"),
  ]);
});

async function saveConnection(values = SAVED, apiSecret = SAVED_SECRET) {
  const response = await admin("/connection", { body: { ...values, apiSecret } });
  expect(response.status).toBe(200);
}

const inputValue = (html: string, id: string) =>
  new RegExp(`<input[^>]*id="${id}"[^>]*value="([^"]*)"|<input[^>]*value="([^"]*)"[^>]*id="${id}"`)
    .exec(html)
    ?.slice(1)
    .find((v) => v !== undefined);

describe("Test connection with the form's values", () => {
  it("tests unsaved values (the fake sees the typed credentials) and saves nothing", async () => {
    await saveConnection();
    // This Bloomreach accepts only the typed credentials: a pass proves they were the ones sent.
    const bloomreach = new FakeBloomreach({ ...TYPED, apiSecret: TYPED_SECRET });
    restore = installOutboundFakes(bloomreach);
    const ui = await loggedIn();
    await ui.get("/admin/connection");
    const page = await ui.post("/admin/connection/test", { ...TYPED, apiSecret: TYPED_SECRET });
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain("Connection test passed");
    expect(text).toContain("Tested the values in the form; they are not saved yet.");
    expect(text).toContain("The API secret you typed is not kept in the page");
    expect(bloomreach.requests.map((r) => r.path)).toEqual([
      "/track/v2/projects/proj-typed/system/time",
      "/data/v2/projects/proj-typed/customers/attributes",
    ]);
    // The form still shows what was typed (not the saved values), never the secret.
    expect(inputValue(page.html, "f-projectToken")).toBe("proj-typed");
    expect(inputValue(page.html, "f-apiSecret")).toBe("");
    expect(page.html).not.toContain(TYPED_SECRET);
    // Nothing was saved.
    expect(await json(await admin("/connection"))).toMatchObject({ ...SAVED, apiSecretSet: true });
    bloomreach.assertNoUnexpected();
  });

  it("a blank secret tests with the saved secret, on the saved host only", async () => {
    await saveConnection();
    const sameHost = new FakeBloomreach({ ...SAVED, projectToken: "proj-typed", apiSecret: SAVED_SECRET });
    const otherHost = new FakeBloomreach({
      ...SAVED,
      baseUrl: "https://other-bloomreach.test",
      apiSecret: SAVED_SECRET,
    });
    restore = installOutboundFakes(sameHost, otherHost);
    const ui = await loggedIn();
    await ui.get("/admin/connection");

    const kept = textOf((await ui.post("/admin/connection/test", { ...SAVED, projectToken: "proj-typed" })).html);
    expect(kept).toContain("Connection test passed");
    expect(kept).not.toContain("The API secret you typed");

    const moved = await ui.post("/admin/connection/test", { ...SAVED, baseUrl: "https://other-bloomreach.test" });
    const text = textOf(moved.html);
    expect(text).toContain("Connection test failed");
    expect(text).toMatch(/pass reachability/);
    expect(text).toMatch(/fail credentials\s*: not checked: the base URL names another host than the saved one/);
    // Only the time check, which carries no credentials, reached the other host.
    expect(otherHost.requests.map((r) => r.path)).toEqual(["/track/v2/projects/proj-saved/system/time"]);
    expect(await json(await admin("/connection"))).toMatchObject(SAVED);
  });

  it("shows what is missing next to its field instead of testing", async () => {
    restore = installOutboundFakes();
    const ui = await loggedIn();
    await ui.get("/admin/connection");
    const page = await ui.post("/admin/connection/test", { ...TYPED, projectToken: "" });
    expect(page.status).toBe(400);
    expect(page.html).toContain('id="f-projectToken-error"');
    expect((await json(await admin("/connection"))).configured).toBe(false);
  });

  it("the API tests a connection in the body without saving it, and the saved one without a body", async () => {
    await saveConnection();
    const typed = new FakeBloomreach({ ...TYPED, apiSecret: TYPED_SECRET });
    restore = installOutboundFakes(typed);
    const result = await json(
      await admin("/connection/test", { method: "POST", body: { ...TYPED, apiSecret: TYPED_SECRET } }),
    );
    expect(result).toMatchObject({ ok: true, tested: "unsaved" });
    expect(await json(await admin("/connection"))).toMatchObject(SAVED);
    // Without a body: the saved values, which this fake refuses.
    const saved = await json(await admin("/connection/test", { method: "POST" }));
    expect(saved).toMatchObject({ ok: false, tested: "saved" });
  });

  it("a pass of unsaved values does not end a pause; a pass of the saved values does, with a count", async () => {
    const fakes = await setUpRelay({
      mapping: demoMapping,
      settings: { asyncSync: true, events: [{ action: "opt_in" }] },
    });
    restore = fakes.restore;
    fakes.bloomreach.script({ status: 401, body: { success: false, error: "Unknown API key" } });
    await runQueue([asMessage(relayEvent({ id: "fr-paused-1", customerId: "fr-c1" }))]);
    expect(await deliveryRow("fr-paused-1")).toMatchObject({ status: "paused" });

    const ui = await loggedIn();
    await ui.get("/admin/connection");
    const { apiSecret: _, ...saved } = BLOOMREACH;
    const elsewhere = textOf(
      (await ui.post("/admin/connection/test", { ...saved, projectToken: "proj-1", apiSecret: "x" })).html,
    );
    expect(elsewhere).toContain("Connection test failed");
    expect(await json(await admin("/connection"))).toMatchObject({ deliveryState: "paused" });

    const page = textOf((await ui.post("/admin/connection/test", { ...saved, apiSecret: "" })).html);
    expect(page).toContain("Connection test passed");
    expect(page).toContain("Delivery resumed: 1 parked event was queued again.");
    expect(await json(await admin("/connection"))).toMatchObject({ deliveryState: "active" });
  });
});

describe("Test connection results", () => {
  it("shows checks not reached as skipped, not as failures", async () => {
    await saveConnection();
    restore = installOutboundFakes(new FakeBloomreach({ ...SAVED, apiKeyId: "another-key", apiSecret: SAVED_SECRET }));
    const ui = await loggedIn();
    await ui.get("/admin/connection");
    const page = await ui.post("/admin/connection/test", { ...SAVED, apiSecret: "" });
    const text = textOf(page.html);
    expect(text).toMatch(/fail credentials\s*: rejected with HTTP 401/);
    expect(text).toMatch(/skipped permissions\s*: the credentials were rejected/);
    expect(text).not.toMatch(/fail permissions/);
    expect(page.html).toMatch(/<span class="badge muted">skipped<\/span> <strong>permissions<\/strong>/);

    const result = await json(await admin("/connection/test", { method: "POST" }));
    expect(result.checks[2]).toMatchObject({ name: "permissions", ok: false, skipped: true });
    expect(result.checks[1]).not.toHaveProperty("skipped");
  });

  it("with nothing saved and a bare test, every check is skipped: not run, not failed", async () => {
    restore = installOutboundFakes();
    const ui = await loggedIn();
    await ui.get("/admin/connection");
    const text = textOf((await ui.post("/admin/connection/test")).html);
    expect(text).toContain("Connection test not run");
    expect(text).not.toMatch(/\bfail\b/);
  });

  it("shows Bloomreach's clock as a UTC time with the skew in seconds, not as a Unix number", async () => {
    await saveConnection();
    const serverNow = Date.now() + 90_000;
    restore = installOutboundFakes(new FakeBloomreach({ ...SAVED, apiSecret: SAVED_SECRET, now: () => serverNow }));
    const ui = await loggedIn();
    await ui.get("/admin/connection");
    const text = textOf((await ui.post("/admin/connection/test", { ...SAVED, apiSecret: "" })).html);
    const iso = new Date(Math.round(serverNow / 1000) * 1000).toISOString().replace(".000Z", "Z");
    expect(text).toContain(`Bloomreach's clock reads ${iso} (UTC)`);
    expect(text).toMatch(/, (89|90|91) s ahead of the relay's/);
    expect(text).not.toMatch(/\d{10}\.\d/);

    const result = await json(await admin("/connection/test", { method: "POST" }));
    expect(result.checks[0].serverTime).toBeCloseTo(serverNow / 1000, 0);
    expect(Math.abs(result.checks[0].clockSkewSeconds - 90)).toBeLessThanOrEqual(1);
  });
});

describe("Saving a paused connection", () => {
  it("says delivery resumed and how many parked events were queued again", async () => {
    const fakes = await setUpRelay({
      mapping: demoMapping,
      settings: { asyncSync: true, events: [{ action: "opt_in" }] },
    });
    restore = fakes.restore;
    fakes.bloomreach.script({ status: 401, body: { success: false, error: "Unknown API key" } });
    await runQueue([asMessage(relayEvent({ id: "fr-save-1", customerId: "fr-s1" }))]);
    await runQueue([asMessage(relayEvent({ id: "fr-save-2", customerId: "fr-s2" }))]);
    expect(await deliveryRow("fr-save-2")).toMatchObject({ status: "paused" });

    const ui = await loggedIn();
    await ui.get("/admin/connection");
    const saved = await ui.post("/admin/connection", { ...BLOOMREACH, apiSecret: "" });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe("/admin/connection?notice=saved&requeued=2&resumed=1");
    const text = textOf((await ui.get(saved.location!)).html);
    expect(text).toContain("Saved. Delivery resumed: 2 parked events were queued again.");

    // A plain save says only "Saved."
    const again = await ui.post("/admin/connection", { ...BLOOMREACH, apiSecret: "" });
    expect(again.location).toBe("/admin/connection?notice=saved");
    const plain = textOf((await ui.get(again.location!)).html);
    expect(plain).toContain("Saved.");
    expect(plain).not.toMatch(/resumed|queued again/);
  });

  it("a crafted count cannot put words on the page", async () => {
    const ui = await loggedIn();
    const text = textOf((await ui.get("/admin/connection?notice=saved&requeued=%3Cb%3Ehi&resumed=1")).html);
    expect(text).toContain("Saved. Delivery resumed: no events were parked.");
    expect(text).not.toContain("<b>hi");
  });
});

describe("Event sync order", () => {
  const rows = (actions: string[]) =>
    Object.fromEntries(
      actions.flatMap((action, i) => [
        [`events[${i}][action]`, action],
        [`events[${i}][remoteEvent]`, ""],
      ]),
    );

  it("keeps the admin's order of the rows after a save (UI)", async () => {
    const ui = await loggedIn();
    await ui.get("/admin/settings");
    const saved = await ui.post("/admin/settings", { asyncSync: "on", ...rows(["point_add", "checkout", "opt_in"]) });
    expect(saved.status).toBe(303);
    const html = (await ui.get("/admin/settings")).html;
    expect([0, 1, 2].map((i) => inputValue(html, `f-events-${i}-action`))).toEqual(["point_add", "checkout", "opt_in"]);
    expect((await json(await admin("/settings"))).events.map((e: { action: string }) => e.action)).toEqual([
      "point_add",
      "checkout",
      "opt_in",
    ]);
  });

  it("keeps the order of the API's list, and a reorder is saved as such", async () => {
    const put = (actions: string[]) =>
      admin("/settings", { body: { asyncSync: true, events: actions.map((action) => ({ action })) } });
    expect((await json(await put(["tier_change", "birthday", "opt_in"]))).events.map((e: any) => e.action)).toEqual([
      "tier_change",
      "birthday",
      "opt_in",
    ]);
    await put(["opt_in", "tier_change", "birthday"]);
    expect((await json(await admin("/settings"))).events).toEqual([
      { action: "opt_in", remoteEvent: "opt_in" },
      { action: "tier_change", remoteEvent: "tier_change" },
      { action: "birthday", remoteEvent: "birthday" },
    ]);
  });
});
