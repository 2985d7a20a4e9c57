import { describe, expect, it } from "vitest";
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
