import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/client";
import { importCustomers } from "../src/services/customer-import";
import { admin, json, secrets } from "./support/http";

function upload(body: BodyInit, contentType: string) {
  return SELF.fetch("https://relay.test/api/customers/import", {
    method: "POST",
    headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": contentType },
    body,
  });
}

async function mirrored(id: string) {
  return env.DB.prepare("select id, email, birth_month_day, snapshot from customers where id = ?")
    .bind(id)
    .first<Record<string, any>>();
}

/** A body that arrives in pieces cut anywhere, even inside a line or a multi-byte character. */
function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

describe("customer import", () => {
  it("imports NDJSON, keeping good rows and reporting bad ones by line", async () => {
    const lines = [
      JSON.stringify({
        id: "nd-1",
        email: "one@example.com",
        birth_date: "1990-02-14",
        score: 120,
        tiers: [{ name: "Gold" }],
      }),
      JSON.stringify({ email: "no-id@example.com" }),
      "",
      "{not json",
      JSON.stringify({ id: "nd-2", email: "two@example.com", birth_date: "1990-02-30" }),
      JSON.stringify({ id: "nd-3", email: "three@example.com", score: "85", properties: { store: "Leeds" } }),
      JSON.stringify(["an", "array"]),
      JSON.stringify({ id: "nd-4", score: "lots" }),
    ];
    const response = await upload(`${lines.join("\n")}\n`, "application/x-ndjson");
    expect(response.status).toBe(200);
    const summary = await json(response);
    expect(summary).toMatchObject({ imported: 2, updated: 0, total: 7, rejectedCount: 5 });
    expect(summary.rejected).toEqual([
      { line: 2, reason: expect.stringMatching(/^id: is required/) },
      { line: 4, reason: expect.stringMatching(/^not valid JSON/) },
      { line: 5, reason: "birth_date: must be a real date as YYYY-MM-DD" },
      { line: 7, reason: expect.stringMatching(/JSON object/) },
      { line: 8, reason: "score: must be a number" },
    ]);

    expect(await mirrored("nd-1")).toMatchObject({ email: "one@example.com", birth_month_day: "02-14" });
    const three = await json(await admin("/customers/nd-3"));
    // A numeric field sent as a numeric string is stored as a number; everything else as sent.
    expect(three).toMatchObject({
      id: "nd-3",
      email: "three@example.com",
      snapshot: { id: "nd-3", score: 85, properties: { store: "Leeds" } },
      updatedAt: expect.any(Number),
    });
    expect(await mirrored("nd-2")).toBeNull();
    expect(await mirrored("nd-4")).toBeNull();
  });

  it("counts customers already in the mirror as updated and replaces their snapshot", async () => {
    await upload(
      `${JSON.stringify({ id: "up-1", email: "old@example.com", birth_date: "1980-01-01" })}\n`,
      "application/x-ndjson",
    );
    const again = [
      { id: "up-1", email: "new@example.com", birth_date: "1980-12-24" },
      { id: "up-2", email: "fresh@example.com" },
      { id: "up-2", email: "fresher@example.com" },
    ];
    const summary = await json(await upload(again.map((c) => JSON.stringify(c)).join("\n"), "application/x-ndjson"));
    expect(summary).toMatchObject({ imported: 1, updated: 2, rejectedCount: 0, total: 3 });
    expect(await mirrored("up-1")).toMatchObject({ email: "new@example.com", birth_month_day: "12-24" });
    expect((await mirrored("up-2"))?.email).toBe("fresher@example.com");
  });

  it("imports CSV with nested properties columns, typed numbers and quoted cells", async () => {
    const csv = [
      "id,email,first_name,birth_date,score,spendable,properties.zip,properties.note,tiers.0.name",
      'csv-1,ada@example.com,Ada,1815-12-10,1200,300,01234,"likes, commas",Gold',
      ",nobody@example.com,No,,,,,,",
      "csv-2,bob@example.com,Bob,1990-13-01,10,,,,",
      'csv-3,cy@example.com,"Cy ""the"" Third",1992-02-29,abc,,,,',
      'csv-4,di@example.com,Di,,,,,"two',
      'lines",Silver',
      "csv-5,ed@example.com,Ed,,,,,,,,extra",
      "",
      "csv-6,  fay@example.com  ,Fay,1992-02-29,7.5,,,,",
    ].join("\r\n");
    const summary = await json(await upload(csv, "text/csv; charset=utf-8"));
    expect(summary).toMatchObject({ imported: 3, updated: 0, rejectedCount: 4, total: 7 });
    expect(summary.rejected).toEqual([
      { line: 3, reason: expect.stringMatching(/^id: is required/) },
      { line: 4, reason: "birth_date: must be a real date as YYYY-MM-DD" },
      { line: 5, reason: "score: must be a number" },
      { line: 8, reason: "has 11 cells; the header has 9 columns" },
    ]);

    const ada = JSON.parse((await mirrored("csv-1"))!.snapshot);
    expect(ada).toEqual({
      id: "csv-1",
      email: "ada@example.com",
      first_name: "Ada",
      birth_date: "1815-12-10",
      score: 1200,
      spendable: 300,
      // Not a numeric field: stays text, leading zero and all.
      properties: { zip: "01234", note: "likes, commas" },
      tiers: [{ name: "Gold" }],
    });
    expect(JSON.parse((await mirrored("csv-4"))!.snapshot)).toMatchObject({
      properties: { note: "two\nlines" },
      tiers: [{ name: "Silver" }],
    });
    expect(await mirrored("csv-6")).toMatchObject({ email: "fay@example.com", birth_month_day: "02-29" });
    expect(JSON.parse((await mirrored("csv-6"))!.snapshot).score).toBe(7.5);
  });

  it("refuses a CSV header without an id column, and other content types", async () => {
    const noId = await upload("email,score\na@example.com,1\n", "text/csv");
    expect(noId.status).toBe(400);
    expect((await json(noId)).error).toMatchObject({
      code: "validation_failed",
      issues: [{ path: "header", message: "needs an id column" }],
    });

    const wrongType = await upload("{}", "application/json");
    expect(wrongType.status).toBe(415);
    expect((await json(wrongType)).error.code).toBe("unsupported_media_type");

    const unauthenticated = await SELF.fetch("https://relay.test/api/customers/import", {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: "id\nx\n",
    });
    expect(unauthenticated.status).toBe(401);
    expect(await mirrored("x")).toBeNull();
  });

  it("reads the body as a stream, whatever the chunking, and caps the rejected list", async () => {
    const good = Array.from({ length: 1200 }, (_, i) =>
      JSON.stringify({ id: `st-${i}`, email: `s${i}@example.com`, first_name: "Zoë", birth_date: "2000-07-04" }),
    );
    const bad = Array.from({ length: 150 }, () => JSON.stringify({ email: "missing-id@example.com" }));
    const body = chunked([...good, ...bad].join("\n"), 37);
    const summary = await importCustomers({ db: openDatabase(env.DB), now: () => 1_800_000_000 }, "ndjson", body);
    expect(summary).toMatchObject({ imported: 1200, updated: 0, rejectedCount: 150, total: 1350 });
    expect(summary.rejected).toHaveLength(100);
    expect(summary.rejected[0]).toEqual({ line: 1201, reason: expect.stringMatching(/^id/) });
    expect(JSON.parse((await mirrored("st-1199"))!.snapshot).first_name).toBe("Zoë");
    const count = await env.DB.prepare(
      "select count(*) as n from customers where birth_month_day = '07-04' and id like 'st-%'",
    ).first("n");
    expect(count).toBe(1200);
  });

  it("stops at the row limit and says where to resume", async () => {
    const rows = [
      "id,email",
      "lim-1,a@example.com",
      "lim-2,b@example.com",
      "lim-3,c@example.com",
      "lim-4,d@example.com",
    ].join("\n");
    const summary = await importCustomers(
      { db: openDatabase(env.DB), now: () => 1_800_000_000 },
      "csv",
      chunked(rows, 8),
      { maxRows: 2 },
    );
    expect(summary).toMatchObject({ imported: 2, total: 2, truncated: { nextLine: 4 } });
    expect(summary.truncated!.message).toMatch(/header row/);
    expect(await mirrored("lim-3")).toBeNull();
  });

  it("answers 404 for a customer not in the mirror", async () => {
    const response = await admin("/customers/nobody-here");
    expect(response.status).toBe(404);
    expect((await json(response)).error.code).toBe("not_found");
  });
});
