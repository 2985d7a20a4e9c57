import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/client";
import { findCustomersByHardId, selectCustomersByHardIdPrefix } from "../src/db/customer-queries";
import { writeDeliveryLog } from "../src/db/delivery-queries";
import { demoMapping } from "./support/fixtures";
import { admin, json } from "./support/http";
import { loggedIn, textOf } from "./ui-helpers";

function upload(name: string, text: string, extra: Record<string, string> = {}) {
  const form = new FormData();
  form.set(
    "file",
    new File([text], name, {
      type: name.endsWith(".csv") ? "text/csv" : name.endsWith(".ndjson") ? "application/x-ndjson" : "text/plain",
    }),
  );
  for (const [key, value] of Object.entries(extra)) form.set(key, value);
  return form;
}

describe("customers in the admin UI", () => {
  it("says so when a customer is not in the mirror", async () => {
    const ui = await loggedIn();
    const text = textOf((await ui.get("/admin/customers?id=nobody")).html);
    expect(text).toContain("No customer “nobody” in the mirror.");
    expect(text).toContain("No deliveries for this customer.");
  });

  it("imports a CSV file through the import service and shows the summary with rejected lines", async () => {
    const ui = await loggedIn();
    await ui.get("/admin/customers");
    const csv =
      "id,email,birth_date,score,tiers.0.name\nc-1,ada@example.com,1990-02-14,120,Gold\nc-2,bo@example.com,not-a-date,5,\n";
    const result = await ui.postMultipart("/admin/customers/import", upload("export.csv", csv, { format: "auto" }));
    expect(result.status).toBe(200);
    const text = textOf(result.text);
    expect(text).toContain("Read 2 row(s): 1 new, 0 updated, 1 rejected.");
    expect(text).toMatch(/line 3: birth_date: must be a real date/);
    expect(await json(await admin("/customers/c-1"))).toMatchObject({
      email: "ada@example.com",
      snapshot: { score: 120, tiers: [{ name: "Gold" }] },
    });

    const lookup = textOf((await ui.get("/admin/customers?id=c-1")).html);
    expect(lookup).toContain("ada@example.com");
    expect(lookup).toContain("02-14");
  });

  it("answers the page script's slices as JSON, with line numbers shifted to the whole file", async () => {
    const ui = await loggedIn();
    await ui.get("/admin/customers");
    const ndjson = `${JSON.stringify({ id: "c-3", email: "c3@example.com" })}\nnot json\n`;
    const result = await ui.postMultipart(
      "/admin/customers/import",
      upload("part.ndjson", ndjson, { format: "ndjson", lineOffset: "5000" }),
      { accept: "application/json" },
    );
    expect(result.status).toBe(200);
    expect(JSON.parse(result.text)).toMatchObject({ imported: 1, rejectedCount: 1, rejected: [{ line: 5002 }] });
  });

  it("shows a bad upload next to the file input", async () => {
    const ui = await loggedIn();
    await ui.get("/admin/customers");
    const noFormat = await ui.postMultipart(
      "/admin/customers/import",
      upload("export.txt", "id\nx\n", { format: "auto" }),
    );
    expect(noFormat.status).toBe(415);
    expect(noFormat.text).toContain('id="f-file-error"');
    const badHeader = await ui.postMultipart("/admin/customers/import", upload("export.csv", "email\nx@example.com\n"));
    expect(badHeader.status).toBe(400);
    expect(textOf(badHeader.text)).toContain("needs an id column");
  });
});

describe("finding a customer by hard-ID value, and what the page shows of it", () => {
  const csv = [
    "id,email,first_name,score,tiers.0.name,properties.store",
    "hid-1,ada@hid.example,Ada,120,Gold,Soho",
    "hid-2,adam@hid.example,Adam,5,,",
    "hid-3,adamo@hid.example,Adamo,7,,",
    "hid-4,,Nomail,1,,",
    "hid-5,100%_pure@hid.example,Pure,2,,",
  ].join("\n");

  async function importSample() {
    expect((await admin("/mapping", { method: "PUT", body: demoMapping })).status).toBe(200);
    const ui = await loggedIn();
    await ui.get("/admin/customers");
    const result = await ui.postMultipart("/admin/customers/import", upload("hid.csv", `${csv}\n`));
    expect(result.status).toBe(200);
    return { ui, result };
  }

  it("accepts an import row without a hard-ID value, with a warning naming its line", async () => {
    const { ui, result } = await importSample();
    const text = textOf(result.text);
    expect(text).toContain("Read 5 row(s): 5 new, 0 updated, 0 rejected.");
    expect(text).toContain("line 5: no email value; this customer can't be matched in Bloomreach until it has one");
    expect(text).not.toMatch(/line [2346]: no email/);
    // The script's slices get the same warnings as JSON, on the whole file's line numbers.
    const slice = await ui.postMultipart(
      "/admin/customers/import",
      upload("part.csv", "id,email\nhid-6,\n", { lineOffset: "99" }),
      { accept: "application/json" },
    );
    expect(JSON.parse(slice.text)).toMatchObject({
      imported: 1,
      warningCount: 1,
      warnings: [{ line: 101, message: expect.stringContaining("no email value") }],
    });
    expect(await json(await admin("/customers/hid-4"))).toMatchObject({ id: "hid-4", hardId: null });
  });

  it("finds a customer by its e-mail (the hard ID), and by its id", async () => {
    const { ui } = await importSample();
    const byEmail = await ui.get("/admin/customers?id=ada%40hid.example");
    const text = textOf(byEmail.html);
    expect(text).toContain("Customer hid-1");
    expect(text).toContain("Found by its email.");
    // The start of a value that only one customer has is enough.
    expect(textOf((await ui.get("/admin/customers?id=ada%40hid")).html)).toContain("Customer hid-1");
    expect(textOf((await ui.get("/admin/customers?id=hid-2")).html)).toContain("Customer hid-2");
    expect(textOf((await ui.get("/admin/customers?id=adamo")).html)).toContain("Customer hid-3");
    // A LIKE wildcard typed into the search is a character, not a wildcard.
    expect(textOf((await ui.get("/admin/customers?id=100%25_")).html)).toContain("Customer hid-5");
    expect(textOf((await ui.get("/admin/customers?id=1%25")).html)).toContain("No customer “1%” in the mirror.");
    expect(textOf((await ui.get("/admin/customers?id=a_a")).html)).toContain("No customer “a_a” in the mirror.");
    // The API searches the same way.
    const api = await json(await admin("/customers?q=ada%40hid"));
    expect(api).toMatchObject({ items: [{ id: "hid-1", hardId: "ada@hid.example" }], more: false });
  });

  it("finds a hard-ID value by its start in any (ASCII) case, on an index; the webhook's lookup stays exact", async () => {
    const { ui } = await importSample();
    const more =
      "id,email\ncase-1,Grace.Hopper@Hid.example\ncase-2,grace.hopper@hid.example.org\ncase-3,Élodie@hid.example\n";
    expect((await ui.postMultipart("/admin/customers/import", upload("case.csv", more))).status).toBe(200);
    const page = async (q: string) => textOf((await ui.get(`/admin/customers?id=${encodeURIComponent(q)}`)).html);

    expect(await page("ADA@HID")).toContain("Customer hid-1");
    // The value that differs only in case wins over a longer one, as an exact value does.
    const grace = await page("grace.hopper@hid.example");
    expect(grace).toContain("Customer case-1");
    expect(grace).toContain("1 other customer(s) whose email starts with “grace.hopper@hid.example”");
    expect(await page("GRACE.hopper")).toContain("2 customers whose email starts with “GRACE.hopper”");
    // Only ASCII letters fold, as SQLite's lower() does: É is not é.
    expect(await page("élodie")).toContain("No customer “élodie” in the mirror.");
    expect(await page("Élodie")).toContain("Customer case-3");
    // The API searches the same way, in value order whatever the case.
    const api = await json(await admin("/customers?q=GRACE.HOPPER%40HID"));
    expect(api).toMatchObject({
      items: [
        { id: "case-1", hardId: "Grace.Hopper@Hid.example" },
        { id: "case-2", hardId: "grace.hopper@hid.example.org" },
      ],
      more: false,
    });
    expect((await json(await admin("/customers?q=AdAm"))).items.map((m: { id: string }) => m.id)).toEqual([
      "hid-2",
      "hid-3",
    ]);

    // A Bloomreach webhook's customer is still the exact value, case kept.
    const db = openDatabase(env.DB);
    const found = await findCustomersByHardId(db, ["grace.hopper@hid.example", "Grace.Hopper@Hid.example"]);
    expect([...found]).toEqual([["Grace.Hopper@Hid.example", ["case-1"]]]);

    // The search is a range on lower(hard_id)'s index, in the index's order: no scan, no sort.
    const { sql, params } = (
      selectCustomersByHardIdPrefix(db, "Grace", 21) as unknown as { toSQL(): { sql: string; params: unknown[] } }
    ).toSQL();
    const plan = await env.DB.prepare(`explain query plan ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail).join(" | ");
    expect(details).toMatch(/SEARCH customers USING INDEX customers_hard_id_lower \(<expr>>\? AND <expr><\?\)/);
    expect(details).not.toContain("TEMP B-TREE");
  });

  it("lists the customers when several match, each linking to its page", async () => {
    const { ui } = await importSample();
    const { html } = await ui.get("/admin/customers?id=adam");
    const text = textOf(html);
    expect(text).toContain("Customers matching “adam”");
    expect(text).toContain("2 customers whose email starts with “adam”");
    const list = /<ul[^>]*data-matches[\s\S]*?<\/ul>/.exec(html)?.[0] ?? "";
    for (const id of ["hid-2", "hid-3"]) expect(list).toContain(`href="/admin/customers?id=${id}"`);
    expect(list).not.toContain("hid-1");
    expect(text).not.toContain("Recent deliveries");
  });

  it("shows the snapshot as labelled fields, the raw JSON folded away, and what Bloomreach last received", async () => {
    const { ui } = await importSample();
    const at = Math.floor(Date.now() / 1000);
    await writeDeliveryLog(
      openDatabase(env.DB),
      [
        {
          eventId: "hid-evt-1",
          customerId: "hid-1",
          action: "opt_in",
          status: "delivered",
          attempts: [],
          commands: [
            {
              id: "c1",
              source: { kind: "mapping" },
              command: {
                name: "customers",
                data: {
                  customer_ids: { registered: "ada@hid.example" },
                  properties: { loyalty_points: 120, first_name: "Ada" },
                  update_timestamp: at,
                },
              },
            },
            {
              id: "c2",
              source: { kind: "event_sync", action: "opt_in" },
              command: {
                name: "customers/events",
                data: {
                  customer_ids: { registered: "ada@hid.example" },
                  event_type: "loyalty_opt_in",
                  timestamp: at,
                  properties: {},
                },
              },
            },
          ],
        },
        // Dead: Bloomreach did not take it, so it is not what Bloomreach received.
        {
          eventId: "hid-evt-2",
          customerId: "hid-1",
          action: "point_add",
          status: "dead",
          attempts: [],
          commands: [
            {
              id: "c3",
              source: { kind: "mapping" },
              command: {
                name: "customers",
                data: { customer_ids: { registered: "ada@hid.example" }, properties: { loyalty_points: 999 } },
              },
            },
          ],
        },
      ],
      at,
    );
    const { html } = await ui.get("/admin/customers?id=hid-1");
    const fields = /<dl[^>]*data-snapshot[\s\S]*?<\/dl>/.exec(html)?.[0] ?? "";
    expect(fields).toMatch(/<dt class="mono">tiers\.0\.name<\/dt><dd>Gold<\/dd>/);
    expect(fields).toMatch(/<dt class="mono">properties\.store<\/dt><dd>Soho<\/dd>/);
    expect(fields).toMatch(/<dt class="mono">score<\/dt><dd>120<\/dd>/);
    expect(html).toMatch(/<details><summary>Snapshot as JSON<\/summary><pre>\{/);
    expect(textOf(html)).toContain("Hard ID (email) ada@hid.example");

    const received = textOf(/<section[^>]*data-last-received[\s\S]*?<\/section>/.exec(html)?.[0] ?? "");
    expect(received).toContain("What Bloomreach last received");
    expect(received).toContain("From the delivery log");
    expect(received).toMatch(/loyalty_points 120 \(as of/);
    expect(received).toContain("loyalty_opt_in");
    expect(received).not.toContain("999");

    // A customer without a hard-ID value says what that means.
    expect(textOf((await ui.get("/admin/customers?id=hid-4")).html)).toContain(
      "none: no email value, so Bloomreach can't match this customer yet",
    );
  });
});
