import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { seedCustomers } from "./support/backfill";
import { demoMapping } from "./support/fixtures";
import { admin } from "./support/http";
import { relayWithFakes } from "./support/pipeline";
import { loggedIn, textOf } from "./ui-helpers";

const relay = relayWithFakes({ mapping: demoMapping });

describe("sync all and erasure in the admin UI", () => {
  it("starts a sync from the Customers page, shows its progress bar, and stops it", async () => {
    await relay();
    await env.DB.prepare("delete from customers").run();
    await seedCustomers(
      [
        { id: "ui-1", email: "ui-1@example.com", score: 1 },
        { id: "ui-2", email: "ui-2@example.com", score: 2 },
      ],
      1_767_000_000,
    );
    const ui = await loggedIn();
    const before = await ui.get("/admin/customers");
    expect(textOf(before.html)).toContain("Sync all to Bloomreach");

    // The page script starts it in place and follows it as JSON.
    const started = await ui.post("/admin/customers/backfill", {}, { headers: { accept: "application/json" } });
    expect(started.status).toBe(202);
    const job = JSON.parse(started.html);
    expect(job).toMatchObject({ status: "running", total: 2, sent: 0 });
    const polled = await ui.get(`/admin/customers/backfill/${job.id}`, { accept: "application/json" });
    expect(JSON.parse(polled.html)).toMatchObject({ id: job.id, status: "running" });

    // Without the script: the page shows the bar, a second start is refused in words.
    const page = await ui.get("/admin/customers");
    expect(page.html).toMatch(/<progress id="backfill-progress" max="2" value="0"/);
    expect(page.html).toContain(`data-backfill-poll="/admin/customers/backfill/${job.id}"`);
    expect(textOf(page.html)).toContain("Syncing… 0 of 2 customers");
    const again = await ui.post("/admin/customers/backfill");
    expect(again.status).toBe(409);
    expect(textOf(again.html)).toContain("a backfill is already running");

    const stopped = await ui.post(`/admin/customers/backfill/${job.id}/cancel`);
    expect(stopped.status).toBe(303);
    expect(textOf((await ui.get("/admin/customers")).html)).toContain("Stopped: 0 of 2 customers");
  });

  it("erases a customer from its page only after the confirmation", async () => {
    await relay();
    await seedCustomers([{ id: "ui-erase", email: "gone@example.com", score: 3 }], 1_767_000_000);
    const ui = await loggedIn();
    const lookup = await ui.get("/admin/customers?id=ui-erase");
    expect(textOf(lookup.html)).toContain("Erase this customer (GDPR)");
    expect(lookup.html).toContain('data-confirm="Erase customer ui-erase from the relay? This cannot be undone."');

    const unconfirmed = await ui.post("/admin/customers/erase", { id: "ui-erase" });
    expect(unconfirmed.status).toBe(400);
    expect(textOf(unconfirmed.html)).toContain("Tick the box to confirm the erasure.");
    expect((await admin("/customers/ui-erase")).status).toBe(200);

    const erased = await ui.post("/admin/customers/erase", { id: "ui-erase", confirm: "1" });
    expect(erased.status).toBe(200);
    const text = textOf(erased.html);
    expect(text).toContain("Customer ui-erase was erased from the relay.");
    expect(text).toContain("Bloomreach was not asked to anonymize the customer.");
    expect(text).not.toContain("gone@example.com");
    expect((await admin("/customers/ui-erase")).status).toBe(404);
  });
});
