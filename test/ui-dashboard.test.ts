import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/client";
import { deliveriesPerHour, recentFailures } from "../src/db/dashboard-queries";
import { type DeliveryEntry, writeDeliveryLog } from "../src/db/delivery-queries";
import { loggedIn, textOf } from "./ui-helpers";

const now = () => Math.floor(Date.now() / 1000);

function entry(overrides: Partial<DeliveryEntry> & Pick<DeliveryEntry, "eventId" | "status">): DeliveryEntry {
  return { customerId: "dash-c1", action: "opt_in", commands: [], attempts: [], ...overrides };
}

// One D1 per test file: the tests below share these rows and assert on them alone.
async function seed() {
  const db = openDatabase(env.DB);
  const at = now();
  await writeDeliveryLog(
    db,
    [
      entry({ eventId: "dash-ok", status: "delivered" }),
      entry({
        eventId: "dash/dead 1",
        customerId: "dash-c2",
        action: "point_add",
        status: "dead",
        lastError: `Bloomreach refused the command: ${"very long reason ".repeat(20)}`,
      }),
      entry({ eventId: "dash-paused-1", status: "paused", lastError: "paused: 403 from Bloomreach" }),
      entry({ eventId: "dash-paused-2", customerId: "dash-c3", status: "paused" }),
    ],
    at,
  );
  return at;
}

describe("the dashboard", () => {
  it("lists the latest dead deliveries, each linking to its delivery, with a short reason", async () => {
    await seed();
    const failures = await recentFailures(openDatabase(env.DB));
    expect(failures.map((f) => f.id)).toEqual(["dash/dead 1"]);

    const ui = await loggedIn();
    const { html } = await ui.get("/admin");
    const panel = /<section[^>]*data-recent-failures[\s\S]*?<\/section>/.exec(html)?.[0] ?? "";
    expect(panel).toContain('href="/admin/deliveries/dash%2Fdead%201"');
    const text = textOf(panel);
    expect(text).toContain("Recent failures");
    expect(text).toContain("point_add");
    expect(text).toContain("dash-c2");
    expect(text).toContain("Bloomreach refused the command");
    // Short: the delivery's page has the whole reason.
    expect(text).not.toContain("very long reason ".repeat(20).trim());
    expect(text).not.toContain("dash-ok");
    // The link leads to the delivery's own page.
    expect((await ui.get("/admin/deliveries/dash%2Fdead%201")).status).toBe(200);
  });

  it("counts paused deliveries in the chart and its numbers", async () => {
    const buckets = await deliveriesPerHour(openDatabase(env.DB), now());
    expect(buckets.reduce((a, b) => a + b.paused, 0)).toBe(2);

    const ui = await loggedIn();
    const { html } = await ui.get("/admin");
    const text = textOf(html);
    expect(text).toContain("Deliveries per hour, last 24 hours (UTC) — 4 in total");
    expect(text).toContain("2 paused");
    expect(html).toContain('<span class="swatch paused"></span>');
    expect(html).toMatch(/<th scope="col">Paused<\/th>/);
  });
});

describe("the dashboard's settlement backlog", () => {
  const insert = (customerId: string, createdAt: number) =>
    env.DB.prepare("insert into object_settlements (customer_id, body, created_at) values (?, ?, ?)")
      .bind(customerId, JSON.stringify({ eventId: `${customerId}-e`, run: 0, results: [] }), createdAt)
      .run();
  const notice = (html: string) => /<p[^>]*data-settlement-backlog[\s\S]*?<\/p>/.exec(html)?.[0];

  it("says nothing while the cron keeps up, and warns once answers wait past five minutes", async () => {
    await env.DB.exec("delete from object_settlements");
    // Written a minute ago: the cron's to take, not late.
    await insert("backlog-fresh", now() - 60);
    const ui = await loggedIn();
    expect(notice((await ui.get("/admin")).html)).toBeUndefined();

    // Rows are written in time order (ids grow with created_at), as the relay writes them.
    await env.DB.exec("delete from object_settlements");
    await insert("backlog-old-1", now() - 3600);
    await insert("backlog-old-2", now() - 900);
    await insert("backlog-fresh", now() - 60);
    const text = textOf(notice((await ui.get("/admin")).html) ?? "");
    expect(text).toContain("2 Bloomreach answer(s) wait to be recorded");
    expect(text).toContain("up to 5,000 a minute");
    expect(text).toContain("check that the cron trigger runs");
    await env.DB.exec("delete from object_settlements");
  });
});
