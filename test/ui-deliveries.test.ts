import { afterEach, describe, expect, it } from "vitest";
import { demoMapping } from "./support/fixtures";
import { admin, json, postWebhook } from "./support/http";
import { asMessage, relayEvent, runQueue, setUpRelay } from "./support/pipeline";
import { loggedIn, textOf } from "./ui-helpers";

const settings = { asyncSync: true, events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }] };
let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

const now = () => Math.floor(Date.now() / 1000);

describe("deliveries and dashboard in the admin UI", () => {
  it("shows clear empty states before anything arrived", async () => {
    const ui = await loggedIn();
    expect(textOf((await ui.get("/admin/deliveries")).html)).toContain("No deliveries yet.");
    const dashboard = textOf((await ui.get("/admin")).html);
    expect(dashboard).toContain("not connected");
    expect(dashboard).toContain("Deliveries per hour, last 24 hours (UTC) — 0 in total");
  });

  it("lists deliveries with filters and shows one with every attempt, request and answer", async () => {
    const fakes = await setUpRelay({ mapping: demoMapping, settings });
    restore = fakes.restore;
    fakes.bloomreach.failCommands(
      (c) => c.name === "customers/events" && c.data.customer_ids.registered === "dead@example.com",
      "Invalid event",
    );
    const ok = relayEvent({
      id: "ui-ok",
      customerId: "ui-c1",
      customer: { email: "ok@example.com", first_name: "Ada", score: 5 },
      createdAt: now(),
      receivedAt: now(),
    });
    const dead = relayEvent({
      id: "ui-dead",
      customerId: "ui-c2",
      customer: { email: "dead@example.com", first_name: "Bo", score: 7 },
      createdAt: now(),
      receivedAt: now(),
    });
    await runQueue([asMessage(ok), asMessage(dead)]);
    // One more accepted but never consumed (the test queue has no consumer): pending.
    expect(
      (await postWebhook({ id: "ui-pending", action: "opt_in", customer: { id: "ui-c3", email: "p@example.com" } }))
        .status,
    ).toBe(202);

    const ui = await loggedIn();
    const all = textOf((await ui.get("/admin/deliveries")).html);
    expect(all).toContain("ui-c1");
    expect(all).toContain("ui-c2");

    const deadOnly = textOf((await ui.get("/admin/deliveries?status=dead")).html);
    expect(deadOnly).toContain("ui-c2");
    expect(deadOnly).not.toContain("ui-c1");
    const byCustomer = textOf((await ui.get("/admin/deliveries?customer=ui-c1")).html);
    expect(byCustomer).toContain("ui-c1");
    expect(byCustomer).not.toContain("ui-c2");
    expect(textOf((await ui.get("/admin/deliveries?status=pending")).html)).toContain("ui-c3");
    const future = new Date((now() + 3600) * 1000).toISOString().slice(0, 16);
    expect(textOf((await ui.get(`/admin/deliveries?since=${future}`)).html)).toContain(
      "No deliveries match these filters.",
    );
    // Unix seconds and milliseconds are read alike (domain/workflow/calendar), not ms as seconds.
    const hourAgo = now() - 3600;
    for (const since of [hourAgo, hourAgo * 1000])
      expect(textOf((await ui.get(`/admin/deliveries?since=${since}&customer=ui-c1`)).html)).toContain("ui-c1");
    for (const since of [now() + 3600, (now() + 3600) * 1000])
      expect(textOf((await ui.get(`/admin/deliveries?since=${since}`)).html)).toContain(
        "No deliveries match these filters.",
      );
    const bad = await ui.get("/admin/deliveries?since=yesterday&status=lost");
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('id="f-since-error"');
    expect(bad.html).toContain('id="f-status-error"');

    const detail = await ui.get("/admin/deliveries/ui-dead");
    const text = textOf(detail.html);
    expect(text).toContain("dead");
    expect(text).toContain("Attempt 1 to bloomreach");
    expect(text).toContain("Request sent");
    expect(text).toContain('"event_type": "loyalty_opt_in"');
    expect(text).toContain("Invalid event");
    expect(detail.html).toContain('action="/admin/deliveries/ui-dead/replay"');
    expect((await ui.get("/admin/deliveries/ui-ok")).html).not.toContain('/replay"');

    const dashboard = textOf((await ui.get("/admin")).html);
    expect(dashboard).toMatch(/1 pending/);
    expect(dashboard).toMatch(/1 delivered/);
    expect(dashboard).toMatch(/1 dead/);
    expect(dashboard).toContain("Deliveries per hour, last 24 hours (UTC) — 2 in total");
    expect(dashboard).toContain("1 event(s) waiting in the queue");
    expect((await ui.get("/admin")).html).toMatch(/<svg[^>]*role="img"/);
  });

  it("shows the warnings of a delivery whose mapped value could not take its type (the API answers them as a list)", async () => {
    const fakes = await setUpRelay({ mapping: demoMapping, settings });
    restore = fakes.restore;
    const typed = relayEvent({
      id: "ui-warned",
      customerId: "ui-c4",
      // score is one of Antavo's numeric fields: "lots" cannot be sent as a number.
      customer: { email: "warned@example.com", first_name: "Cy", score: "lots" },
      createdAt: now(),
      receivedAt: now(),
    });
    await runQueue([asMessage(typed)]);

    const api = await json(await admin("/deliveries/ui-warned"));
    expect(api.status).toBe("delivered");
    expect(api.warnings).toEqual(['score -> loyalty_points left out: "lots" is not a number']);

    const ui = await loggedIn();
    const page = await ui.get("/admin/deliveries/ui-warned");
    expect(page.html).toContain('id="delivery-warnings"');
    expect(textOf(page.html)).toContain(
      'Warnings from planning (1) score -> loyalty_points left out: "lots" is not a number',
    );
    // The rest was sent: the first name reached Bloomreach.
    expect(fakes.bloomreach.customers()).toEqual([
      expect.objectContaining({ properties: expect.objectContaining({ first_name: "Cy" }) }),
    ]);
    // A delivery without warnings has no such box.
    expect((await ui.get("/admin/deliveries/ui-ok")).html).not.toContain('id="delivery-warnings"');
    expect((await json(await admin("/deliveries/ui-ok"))).warnings).toEqual([]);
  });

  it("replays one dead delivery and refuses to replay a delivered one", async () => {
    const ui = await loggedIn();
    const refused = await ui.post("/admin/deliveries/ui-ok/replay");
    expect(refused.status).toBe(409);
    expect(textOf(refused.html)).toContain("only dead or outcome_unknown deliveries can be replayed");

    const replayed = await ui.post("/admin/deliveries/ui-dead/replay");
    expect(replayed.status).toBe(303);
    expect(replayed.location).toBe("/admin/deliveries/ui-dead?notice=replayed");
    expect((await json(await admin("/deliveries/ui-dead"))).status).toBe("retrying");
  });

  it("replays dead deliveries in a window, a page per request, as JSON for the script and a page without it", async () => {
    const fakes = await setUpRelay({ mapping: demoMapping, settings });
    restore = fakes.restore;
    fakes.bloomreach.failCommands((c) => c.name === "customers/events", "Invalid event");
    const events = [1, 2, 3].map((i) =>
      relayEvent({ id: `win-${i}`, customerId: `win-c${i}`, createdAt: now(), receivedAt: now() }),
    );
    await runQueue(events.map((e) => asMessage(e)));
    const ui = await loggedIn();
    await ui.get("/admin/deliveries");

    const badWindow = await ui.post(
      "/admin/deliveries/replay",
      { since: "2026-02-01T00:00", until: "2026-01-01T00:00" },
      { headers: { accept: "application/json" } },
    );
    expect(badWindow.status).toBe(400);
    expect(JSON.parse(badWindow.html).error.issues[0].path).toBe("until");

    const script = await ui.post(
      "/admin/deliveries/replay",
      { since: new Date((now() - 3600) * 1000).toISOString().slice(0, 16) },
      { headers: { accept: "application/json" } },
    );
    expect(script.status).toBe(200);
    expect(JSON.parse(script.html)).toEqual({ replayed: 3, remaining: 0 });

    await runQueue(events.map((e) => asMessage(e)));
    // A blank window is every dead delivery: it asks first, and replays nothing until confirmed.
    const asked = await ui.post("/admin/deliveries/replay", { since: "", until: "", done: "0" });
    expect(asked.status).toBe(200);
    expect(textOf(asked.html)).toContain("this replays every dead delivery");
    expect(asked.html).toContain('name="confirmAll" value="yes"');
    expect(textOf(asked.html)).toContain("Yes, replay every dead delivery");
    const scriptAsked = await ui.post("/admin/deliveries/replay", {}, { headers: { accept: "application/json" } });
    expect(scriptAsked.status).toBe(400);
    expect((await json(await admin("/deliveries?status=dead"))).items).toHaveLength(3);

    const page = await ui.post("/admin/deliveries/replay", { since: "", until: "", done: "0", confirmAll: "yes" });
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<progress id="replay-progress" max="3" value="3"/);
    expect(textOf(page.html)).toContain("Done: 3 deliveries queued for replay");
  });
});
