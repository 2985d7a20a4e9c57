/**
 * The Deliveries search and detail in the admin UI (issue 10): the search by event id among many
 * rows on an index, the other filters (shared with `/api/deliveries`), the next attempt of retrying
 * rows, a partly refused event with the refused command marked and Bloomreach's own answer, the
 * numbering and banner around a replay, a retried request shown once, and the list after a bulk replay.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/client";
import { type DeliveryLogFilter, selectDeliveriesPage } from "../src/db/delivery-log-queries";
import { type DeliveryEntry, writeDeliveryLog } from "../src/db/delivery-queries";
import { formatTime } from "../src/ui/format";
import { STYLES } from "../src/ui/styles";
import { demoMapping } from "./support/fixtures";
import { admin, json } from "./support/http";
import { asMessage, deliveryRow, relayEvent, runQueue, setUpRelay } from "./support/pipeline";
import { loggedIn, textOf } from "./ui-helpers";

const settings = {
  asyncSync: true,
  events: [
    { action: "opt_in", remoteEvent: "loyalty_opt_in" },
    { action: "point_add", remoteEvent: "loyalty_points" },
  ],
};
let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});
async function relay() {
  restore?.();
  const fakes = await setUpRelay({ mapping: demoMapping, settings });
  restore = fakes.restore;
  return fakes;
}

const now = () => Math.floor(Date.now() / 1000);

/** The deliveries a list page links to, in order (each row's first-cell link). */
const listedIds = (html: string) =>
  [...html.matchAll(/class="row-link" href="\/admin\/deliveries\/([^"]+)"/g)].map((m) => m[1]);

/** How SQLite would run the list query for this filter. */
async function queryPlan(filter: DeliveryLogFilter) {
  const query = selectDeliveriesPage(openDatabase(env.DB), filter, undefined, 51) as unknown as {
    toSQL(): { sql: string; params: unknown[] };
  };
  const { sql, params } = query.toSQL();
  const plan = await env.DB.prepare(`explain query plan ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return plan.results.map((r) => r.detail).join(" | ");
}

describe("deliveries search", () => {
  it("finds the one delivery among 1,000 by its event id, on an index (as for action and customer)", async () => {
    const at = now() - 600;
    const entries: DeliveryEntry[] = Array.from({ length: 1000 }, (_, i) => ({
      eventId: `bulk-${String(i).padStart(4, "0")}`,
      customerId: `bulk-c${i % 40}`,
      action: i % 2 === 0 ? "bulk_even" : "bulk_odd",
      status: "delivered",
      commands: [
        {
          id: `bulk-${i}#0`,
          source: { kind: "event_sync" },
          command: { name: "customers/events", data: { event_type: `bulk_event_${i % 5}` } },
        },
      ],
      attempts: [],
      unloggedCalls: 1,
    }));
    // The consumer's own log write: chunked statements in one D1 batch.
    await writeDeliveryLog(openDatabase(env.DB), entries, at);

    const ui = await loggedIn();
    const found = await ui.get("/admin/deliveries?eventId=bulk-0537");
    expect(found.status).toBe(200);
    expect(listedIds(found.html)).toEqual(["bulk-0537"]);
    expect(textOf(found.html)).toContain("bulk-c17");
    // The search keeps what was asked in the form.
    expect(found.html).toMatch(/id="f-eventId"[^>]*value="bulk-0537"/);
    const api = await json(await admin("/deliveries?eventId=bulk-0537"));
    expect(api.items.map((d: { id: string }) => d.id)).toEqual(["bulk-0537"]);
    expect(listedIds((await ui.get("/admin/deliveries?eventId=bulk-05")).html)).toEqual([]);

    // Each exact filter is an index search, not a scan of the log.
    expect(await queryPlan({ eventId: "bulk-0537" })).toMatch(
      /SEARCH deliveries USING (COVERING )?INDEX deliveries_event/,
    );
    expect(await queryPlan({ action: "bulk_odd" })).toMatch(
      /SEARCH deliveries USING (COVERING )?INDEX deliveries_action/,
    );
    expect(await queryPlan({ customer: "bulk-c3" })).toMatch(
      /SEARCH deliveries USING (COVERING )?INDEX deliveries_customer/,
    );

    // Filters combine, on the page and in the API alike.
    const combined = await json(
      await admin("/deliveries?action=bulk_odd&customer=bulk-c3&remoteEvent=bulk_event_3&limit=200"),
    );
    // Customer bulk-c3 is i % 40 = 3 (always odd), and bulk_event_3 is i % 5 = 3: newest (highest i) first.
    const expected = Array.from({ length: 1000 }, (_, i) => i)
      .filter((i) => i % 40 === 3 && i % 2 === 1 && i % 5 === 3)
      .map((i) => `bulk-${String(i).padStart(4, "0")}`)
      .reverse();
    expect(combined.items.map((d: { id: string }) => d.id)).toEqual(expected);
    expect(
      listedIds((await ui.get("/admin/deliveries?action=bulk_odd&customer=bulk-c3&remoteEvent=bulk_event_3")).html),
    ).toEqual(expected);
  });

  it("says what the search found above the form, and folds the filters but the event id on a phone", async () => {
    // Delivered, of an action of their own: the other tests' searches and replays leave them alone.
    const entry = (eventId: string, customerId: string): DeliveryEntry => ({
      eventId,
      customerId,
      action: "said_action",
      status: "delivered",
      commands: [],
      attempts: [],
      unloggedCalls: 1,
    });
    await writeDeliveryLog(
      openDatabase(env.DB),
      [entry("said-1", "said-c1"), entry("said-2", "said-c2"), entry("said-3", "said-c2")],
      now(),
    );
    const ui = await loggedIn();

    const one = await ui.get("/admin/deliveries?eventId=said-1");
    const oneText = textOf(one.html);
    expect(oneText).toContain("1 delivery found for event id “said-1”. Go to the result");
    // Above the form, linking down to the list, which is what it names.
    const said = one.html.indexOf("data-match-summary");
    expect(said).toBeGreaterThan(0);
    expect(said).toBeLessThan(one.html.indexOf('role="search"'));
    expect(one.html).toMatch(/data-match-summary="true">[\s\S]*?<a href="#results">Go to the result<\/a>/);
    expect(one.html).toContain('<div data-delivery-list="true" id="results">');
    // Only the event id was set: the other filters stay folded (closed) behind "More filters".
    expect(one.html).toMatch(/<details class="more-filters"><summary>More filters<\/summary>/);
    const folded = one.html.slice(one.html.indexOf('<details class="more-filters"'), one.html.indexOf("</details>"));
    for (const id of ["f-status", "f-direction", "f-customer", "f-action", "f-remoteEvent", "f-since", "f-until"])
      expect(folded).toContain(`id="${id}"`);
    expect(folded).not.toContain('id="f-eventId"');

    // Another filter set: open, saying how many are.
    const two = await ui.get("/admin/deliveries?eventId=&customer=said-c2&status=delivered");
    expect(textOf(two.html)).toContain(
      "2 deliveries found for customer “said-c2”, status delivered. Go to the results",
    );
    expect(two.html).toMatch(/<details class="more-filters" open=""><summary>More filters \(2 set\)<\/summary>/);

    const none = textOf((await ui.get("/admin/deliveries?eventId=said-nope")).html);
    expect(none).toContain("No delivery found for event id “said-nope”.");
    expect(none).not.toContain("Go to the result");
    // No search, or a search that is not valid (its errors say so): no summary.
    expect((await ui.get("/admin/deliveries")).html).not.toContain("data-match-summary");
    expect((await ui.get("/admin/deliveries?since=yesterday")).html).not.toContain("data-match-summary");
    // From 640 px the folded filters are laid out in the grid, as before, where the browser can.
    expect(STYLES).toMatch(
      /@supports selector\(::details-content\)\{@media \(min-width:640px\)\{[^}]*\.more-filters\{display:contents\}[^}]*\.more-filters>summary\{display:none\}[^}]*\.more-filters::details-content\{display:contents;content-visibility:visible\}/,
    );
  });

  it("filters by Antavo action, Bloomreach event, customer and status, and shows when a retrying row is tried next", async () => {
    const { bloomreach } = await relay();
    bloomreach.failCommands(
      (c) => c.name === "customers/events" && c.data.customer_ids.registered === "sf-dead@example.com",
      "Invalid event",
    );
    const event = (id: string, customerId: string, action: string, email: string) =>
      relayEvent({
        id,
        customerId,
        action,
        customer: { email, first_name: "Ada", score: 1 },
        createdAt: now(),
        receivedAt: now(),
      });
    await runQueue([
      asMessage(event("sf-opt", "sf-c1", "opt_in", "sf-opt@example.com")),
      asMessage(event("sf-points", "sf-c2", "point_add", "sf-points@example.com")),
      asMessage(event("sf-dead", "sf-c3", "opt_in", "sf-dead@example.com")),
    ]);
    bloomreach.script({ route: "batch", status: 503 });
    await runQueue([asMessage(event("sf-retry", "sf-c4", "point_add", "sf-retry@example.com"))]);

    const ui = await loggedIn();
    const ids = async (query: string) => listedIds((await ui.get(`/admin/deliveries?${query}`)).html);
    expect(await ids("action=point_add")).toEqual(["sf-retry", "sf-points"]);
    expect(await ids("remoteEvent=loyalty_points&status=delivered")).toEqual(["sf-points"]);
    expect((await ids("remoteEvent=loyalty_opt_in")).sort()).toEqual(["sf-dead", "sf-opt"]);
    expect(await ids("customer=sf-c3")).toEqual(["sf-dead"]);
    expect(await ids("status=dead&action=opt_in")).toEqual(["sf-dead"]);
    expect(await ids("action=opt_in&status=delivered&customer=sf-c1")).toEqual(["sf-opt"]);
    expect(await ids("remoteEvent=no_such_event")).toEqual([]);
    expect(textOf((await ui.get("/admin/deliveries?remoteEvent=no_such_event")).html)).toContain(
      "No deliveries match these filters.",
    );
    // The API answers the same filters.
    const api = await json(await admin("/deliveries?remoteEvent=loyalty_points&action=point_add"));
    expect(api.items.map((d: { id: string }) => d.id)).toEqual(["sf-retry", "sf-points"]);

    // A retrying row says when it is tried next; the row's first cell leads to the detail.
    const retrying = await deliveryRow("sf-retry");
    expect(retrying).toMatchObject({ status: "retrying" });
    const list = await ui.get("/admin/deliveries?status=retrying");
    expect(textOf(list.html)).toContain(`next ${formatTime(retrying!.next_attempt_at)}`);
    expect(list.html).toContain('<tr class="linked">');
    expect(list.html).toContain('class="row-link" href="/admin/deliveries/sf-retry"');

    const tooLong = await ui.get(`/admin/deliveries?eventId=${"x".repeat(201)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.html).toContain('id="f-eventId-error"');
  });
});

describe("a bad search", () => {
  /** Each field's error under it on the page, by path. */
  const fieldErrors = (html: string) =>
    Object.fromEntries(
      [...html.matchAll(/<p class="error" id="f-([\w-]+)-error">([^<]*)<\/p>/g)].map((m) => [m[1], textOf(m[2]!)]),
    );

  it("reads as /api/deliveries reads it: the same fields, the same words", async () => {
    const ui = await loggedIn();
    const queries = [
      `status=lost&direction=sideways&since=yesterday&action=${"a".repeat(201)}`,
      // A window that ends before it starts selects nothing: a typo, refused by both.
      "since=2026-02-01T00:00&until=2026-01-01T00:00",
      `until=${"9".repeat(17)}`,
    ];
    for (const query of queries) {
      const api = await admin(`/deliveries?${query}`);
      expect(api.status).toBe(400);
      const issues = (await json(api)).error.issues as { path: string; message: string }[];
      const page = await ui.get(`/admin/deliveries?${query}`);
      expect(page.status).toBe(400);
      expect(fieldErrors(page.html)).toEqual(Object.fromEntries(issues.map((i) => [i.path, i.message])));
      expect(textOf(page.html)).toContain("Some filters are not valid.");
    }
    expect(fieldErrors((await ui.get(`/admin/deliveries?${queries[1]}`)).html)).toEqual({
      until: "must not be before the start",
    });
    // Blank fields are "any" on the page, as absent keys are in the API.
    const blank = await ui.get("/admin/deliveries?eventId=&status=&direction=&customer=&action=&since=&until=");
    expect(blank.status).toBe(200);
    expect(fieldErrors(blank.html)).toEqual({});
  });
});

describe("delivery detail", () => {
  it("marks the command Bloomreach refused in a partly delivered event and shows Bloomreach's own answer", async () => {
    const { bloomreach } = await relay();
    const workflow = await json(
      await admin("/workflows", {
        method: "POST",
        body: {
          name: "Welcome",
          trigger: { type: "event", action: "opt_in" },
          filters: [],
          actions: [
            { type: "sync_event", event: "loyalty_welcome", properties: { points: "{{event.points}}" } },
            { type: "sync_event", event: "loyalty_hello", properties: {} },
          ],
        },
      }),
    );
    expect((await admin(`/workflows/${workflow.id}/activate`, { method: "POST" })).status).toBe(200);
    bloomreach.failCommands(
      (c) => c.name === "customers/events" && c.data.event_type === "loyalty_welcome",
      "Event type loyalty_welcome is not allowed",
    );
    await runQueue([
      asMessage(
        relayEvent({
          id: "part-1",
          customerId: "part-c",
          customer: { email: "part@example.com", first_name: "Pat", score: 3 },
          createdAt: now(),
          receivedAt: now(),
        }),
      ),
    ]);
    const row = await deliveryRow("part-1");
    expect(row).toMatchObject({ status: "dead" });
    expect(JSON.parse(row!.commands)).toHaveLength(4);
    // Three of the four reached Bloomreach.
    expect(bloomreach.commands.filter((c) => JSON.stringify(c).includes("part@example.com"))).toHaveLength(3);

    // The API keeps Bloomreach's own results for this event's commands, in request order.
    const detail = await json(await admin("/deliveries/part-1"));
    const answer = JSON.parse(detail.attemptLog[0].response.body);
    expect(answer).toMatchObject({ success: true, start_time: expect.any(Number) });
    const refusedAt = detail.attemptLog[0].request.findIndex(
      (c: { data: { event_type?: string } }) => c.data.event_type === "loyalty_welcome",
    );
    expect(answer.results[refusedAt]).toEqual({
      success: false,
      errors: ["Event type loyalty_welcome is not allowed"],
    });
    expect(answer.results.filter((r: { success: boolean }) => r.success)).toHaveLength(3);

    const ui = await loggedIn();
    const page = await ui.get("/admin/deliveries/part-1");
    const refused = [...page.html.matchAll(/<li class="refused">([\s\S]*?)<\/li>/g)].map((m) => textOf(m[1]!));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain("event loyalty_welcome");
    expect(refused[0]).toContain("refused by Bloomreach");
    expect(refused[0]).toContain("Event type loyalty_welcome is not allowed");
    const text = textOf(page.html);
    expect(text.match(/ delivered /g)?.length).toBeGreaterThanOrEqual(3);
    expect(text).toContain("What Bloomreach answered (HTTP 200)");
    expect(text).toContain('"success": false');
    expect(text).toContain('"errors": [ "Event type loyalty_welcome is not allowed" ]');
    // The planned commands say the same: the refused one stands out.
    const cards = [...page.html.matchAll(/<li class="card refused">([\s\S]*?)<\/li>/g)].map((m) => textOf(m[1]!));
    expect(cards).toHaveLength(1);
    expect(cards[0]).toContain("loyalty_welcome");
  });

  it("numbers a replay's attempts after the first run's and drops the replay banner once it is delivered", async () => {
    const ui = await loggedIn();
    await ui.get("/admin/deliveries/part-1");
    const replayed = await ui.post("/admin/deliveries/part-1/replay");
    expect(replayed.location).toBe("/admin/deliveries/part-1?notice=replayed");
    const queued = textOf((await ui.get(replayed.location!)).html);
    expect(queued).toContain("Delivery queued for replay.");
    expect(queued).toContain("retrying queued for replay");
    expect(queued).toContain("Replay 1 requested");
    // The list says so too, instead of dead.
    const list = await ui.get("/admin/deliveries?customer=part-c");
    expect(textOf(list.html)).toContain("retrying queued for replay");

    // Bloomreach takes the refused command now (fresh fakes); the replay's queue message is attempt 1 again.
    const fakes = await relay();
    const event = await env.DB.prepare("select payload from inbound_events where id = 'part-1'").first<{
      payload: string;
    }>();
    await runQueue([{ body: { type: "event", event: JSON.parse(event!.payload), replay: true } }]);
    expect(fakes.bloomreach.events().map((e) => e.event_type)).toEqual(["loyalty_welcome"]);
    expect((await deliveryRow("part-1"))?.status).toBe("delivered");

    const after = textOf((await ui.get("/admin/deliveries/part-1?notice=replayed")).html);
    expect(after).not.toContain("queued for replay");
    expect(after.match(/Attempt 1 to bloomreach/g)).toHaveLength(1);
    expect(after).toMatch(/Replay 1 requested .* Attempt 2 to bloomreach replay 1 : delivered/);
    const api = await json(await admin("/deliveries/part-1"));
    expect(
      api.attemptLog.map((a: { number: number; replay: number; outcome: string }) => [a.number, a.replay, a.outcome]),
    ).toEqual([
      [1, 0, "dead"],
      [2, 1, "delivered"],
    ]);
    expect(api.replays).toHaveLength(1);
  });

  it("shows a request once when the retries send the same one", async () => {
    const { bloomreach } = await relay();
    const event = relayEvent({
      id: "same-1",
      customerId: "same-c",
      customer: { email: "same@example.com", first_name: "Sam", score: 2 },
      createdAt: now(),
      receivedAt: now(),
    });
    bloomreach.script(
      { route: "batch", status: 503 },
      { route: "batch", status: 503 },
      { route: "batch", status: 503 },
    );
    for (const attempt of [1, 2, 3, 4]) await runQueue([asMessage(event, attempt)]);
    expect((await deliveryRow("same-1"))?.status).toBe("delivered");

    const ui = await loggedIn();
    const page = await ui.get("/admin/deliveries/same-1");
    const text = textOf(page.html);
    expect(text).toContain("Attempts (4)");
    expect(text.match(/Request sent/g)).toHaveLength(1);
    expect(text.match(/Same request as attempt 1\./g)).toHaveLength(3);
    expect(text).toContain("Attempt 4 to bloomreach");
  });

  it("lists bulk-replayed deliveries as queued for replay, no longer dead, keeping the list's search", async () => {
    const { bloomreach } = await relay();
    bloomreach.failCommands((c) => c.name === "customers/events", "Invalid event");
    const events = [1, 2].map((i) =>
      relayEvent({ id: `bulk-r${i}`, customerId: "bulk-rc", createdAt: now(), receivedAt: now() }),
    );
    await runQueue(events.map((e) => asMessage(e)));
    const ui = await loggedIn();
    const before = await ui.get("/admin/deliveries?customer=bulk-rc");
    expect(before.html).toContain('action="/admin/deliveries/replay?customer=bulk-rc"');
    expect(before.html.match(/badge dead/g)).toHaveLength(2);

    const since = new Date((now() - 3600) * 1000).toISOString().slice(0, 16);
    const page = await ui.post("/admin/deliveries/replay?customer=bulk-rc", { since, until: "", done: "0" });
    expect(page.status).toBe(200);
    // The window also holds this file's other dead deliveries: at least these two were replayed.
    expect(textOf(page.html)).toMatch(/Done: \d+ deliveries queued for replay/);
    expect(listedIds(page.html).sort()).toEqual(["bulk-r1", "bulk-r2"]);
    expect(page.html).not.toContain("badge dead");
    expect(textOf(page.html).match(/retrying queued for replay/g)).toHaveLength(2);
    // With JS, the replay script refreshes just the list: the same rows, without the page around them.
    const fragment = await ui.get("/admin/deliveries?customer=bulk-rc", { "x-ui-fragment": "1" });
    expect(fragment.html).not.toContain("<html");
    expect(listedIds(fragment.html).sort()).toEqual(["bulk-r1", "bulk-r2"]);
    expect(fragment.html).not.toContain("badge dead");
  });
});
