import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { birthdayIndexKeys } from "../src/domain/workflow/birthday-index";
import { cronTick, runScans, seedMirror, unix } from "./support/date-runs";
import { admin, json } from "./support/http";

const post = (path: string, body?: unknown) => admin(path, { method: "POST", ...(body === undefined ? {} : { body }) });

async function dateWorkflow(name: string, filters: unknown[], options: { active?: boolean; at?: string } = {}) {
  const response = await post("/workflows", {
    name,
    trigger: { type: "date", repeat: "daily", at: options.at ?? "09:00" },
    filters,
    actions: [{ type: "sync_fields", fields: { last_daily_run: "{{now}}" } }],
  });
  expect(response.status, await response.clone().text()).toBe(201);
  const { id } = await json(response);
  if (options.active !== false) expect((await post(`/workflows/${id}/activate`)).status).toBe(200);
  return id as string;
}

const segment = (value: string) => ({
  type: "customer_attribute",
  attribute: "properties.segment",
  operator: "equals",
  value,
});

async function runRows(workflowId: string) {
  const { results } = await env.DB.prepare(
    "select customer_id, run_date from workflow_runs where workflow_id = ? order by run_date, customer_id",
  )
    .bind(workflowId)
    .all<{ customer_id: string; run_date: string }>();
  return results.map((r) => `${r.run_date} ${r.customer_id}`);
}

const customersOf = (events: { event: { customerId: string } }[]) => events.map((m) => m.event.customerId).sort();

// Storage is shared by the tests of a file: each test's workflows stop at its end so later ticks see only their own.
afterEach(async () => {
  await env.DB.prepare("update workflows set active = 0").run();
});

describe("date workflows on cron", () => {
  it("starts one scan per occurrence however often cron fires, and one run per customer", async () => {
    await seedMirror([
      { id: "once-a", email: "a@example.com", properties: { segment: "once" } },
      { id: "once-b", email: "b@example.com", properties: { segment: "once" } },
      { id: "once-x", email: "x@example.com", properties: { segment: "other" } },
    ]);
    const id = await dateWorkflow("Daily once", [segment("once")]);

    expect(await cronTick("2026-05-04T08:59:00Z")).toEqual([]);
    const first = await cronTick("2026-05-04T09:00:00Z");
    expect(first).toEqual([
      { type: "date_scan", workflowId: id, occurrence: "2026-05-04", at: unix("2026-05-04T09:00:00Z") },
    ]);
    // The same minute twice, and a late run the same day: nothing more starts.
    expect(await cronTick("2026-05-04T09:00:00Z")).toEqual([]);
    expect(await cronTick("2026-05-04T17:30:00Z")).toEqual([]);

    const { events } = await runScans(first);
    expect(customersOf(events)).toEqual(["once-a", "once-b"]);
    const event = events.find((m) => m.event.customerId === "once-a")!.event;
    expect(event).toEqual({
      id: `date:${id}:once-a:2026-05-04`,
      action: "workflow_date_run",
      customerId: "once-a",
      customer: { id: "once-a", email: "a@example.com", properties: { segment: "once" } },
      data: { workflow_id: id, occurrence: "2026-05-04" },
      createdAt: unix("2026-05-04T09:00:00Z"),
      receivedAt: expect.any(Number),
      dateRun: { workflowId: id, occurrence: "2026-05-04" },
    });
    expect(await runRows(id)).toEqual(["2026-05-04 *", "2026-05-04 once-a", "2026-05-04 once-b"]);
    // Recorded like webhook events, so the delivery log and the sweeper see them.
    const inbound = await env.DB.prepare("select id, action, customer_id from inbound_events where id = ?")
      .bind(event.id)
      .first();
    expect(inbound).toEqual({ id: event.id, action: "workflow_date_run", customer_id: "once-a" });

    // A redelivered scan page finds the runs recorded and sends nothing again.
    expect((await runScans(first)).events).toEqual([]);

    const listed = (await json(await admin("/workflows"))).items.find((w: any) => w.id === id);
    expect(listed.lastRunAt).toBe(unix("2026-05-04T09:00:00Z"));
    expect((await json(await admin(`/workflows/${id}`))).recentRuns).toEqual([
      { occurrence: "2026-05-04", startedAt: unix("2026-05-04T09:00:00Z"), customers: 2 },
    ]);

    // The next day is a new occurrence.
    const next = await cronTick("2026-05-05T09:01:00Z");
    expect(customersOf((await runScans(next)).events)).toEqual(["once-a", "once-b"]);
  });

  it("pages through the mirror with a keyset cursor, one queue message a page", async () => {
    const members = Array.from({ length: 7 }, (_, i) => ({
      id: `page-${i}`,
      email: `p${i}@example.com`,
      properties: { segment: "paging" },
    }));
    await seedMirror([...members, { id: "page-3x", email: "n@example.com", properties: { segment: "none" } }]);
    const id = await dateWorkflow("Paged", [segment("paging")]);

    const { pages, events } = await runScans(await cronTick("2026-06-01T10:00:00Z", { scanPageSize: 3 }));
    // Every customer is read once, three at a time in id order; a short page ends the scan.
    const ids = (await env.DB.prepare("select id from customers order by id").all<{ id: string }>()).results.map(
      (r) => r.id,
    );
    const cursors: (string | null)[] = [null];
    for (let read = 3; read <= ids.length; read += 3) cursors.push(ids[read - 1]!);
    expect(pages.map((p) => p.cursor?.id ?? null)).toEqual(cursors);
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.every((p) => p.pageSize === 3 && p.workflowId === id)).toBe(true);
    expect(customersOf(events)).toEqual(members.map((m) => m.id));
    expect(new Set(events.map((m) => m.event.id)).size).toBe(7);
    expect(await runRows(id)).toHaveLength(8);
  });

  it("finds birthdays through the birth_month_day index, with Feb 29 on Feb 28 of non-leap years", async () => {
    await seedMirror([
      { id: "bd-feb28", email: "f28@example.com", birth_date: "1990-02-28" },
      { id: "bd-leap", email: "leap@example.com", birth_date: "1992-02-29" },
      { id: "bd-mar1", email: "m1@example.com", birth_date: "1990-03-01" },
      { id: "bd-none", email: "none@example.com" },
    ]);
    // Outside the index (no birth_month_day): a full scan would find it, the index scan must not.
    await env.DB.prepare(
      "insert into customers (id, email, birth_month_day, snapshot, updated_at) values ('bd-unindexed', null, null, ?, 0)",
    )
      .bind(JSON.stringify({ id: "bd-unindexed", email: "u@example.com", birth_date: "1970-02-28" }))
      .run();
    const id = await dateWorkflow("Birthday", [
      { type: "customer_attribute", attribute: "birth_date", operator: "in_date", value: "today" },
    ]);

    // One customer a page, so the cursor has to move from the 02-28 range to the 02-29 range.
    const nonLeap = await runScans(await cronTick("2027-02-28T09:00:00Z", { scanPageSize: 1 }));
    expect(customersOf(nonLeap.events)).toEqual(["bd-feb28", "bd-leap"]);
    expect(nonLeap.pages.map((p) => p.cursor ?? null)).toEqual([
      null,
      { id: "bd-feb28", monthDay: "02-28" },
      { id: "bd-leap", monthDay: "02-29" },
    ]);

    const leapYear = await runScans(await cronTick("2028-02-28T09:00:00Z"));
    expect(customersOf(leapYear.events)).toEqual(["bd-feb28"]);
    const leapDay = await runScans(await cronTick("2028-02-29T09:00:00Z"));
    expect(customersOf(leapDay.events)).toEqual(["bd-leap"]);
    expect(await runRows(id)).toContain("2028-02-29 bd-leap");
  });

  it("ignores an inactive workflow until it is activated, and stops a scan when it is deactivated", async () => {
    await seedMirror([
      { id: "toggle-1", email: "t1@example.com", properties: { segment: "toggle" } },
      { id: "toggle-2", email: "t2@example.com", properties: { segment: "toggle" } },
    ]);
    const id = await dateWorkflow("Toggle", [segment("toggle")], { active: false });

    expect(await cronTick("2026-07-01T09:00:00Z")).toEqual([]);
    expect(await runRows(id)).toEqual([]);

    await post(`/workflows/${id}/activate`);
    const started = await cronTick("2026-07-01T09:01:00Z");
    expect(started).toHaveLength(1);
    expect(customersOf((await runScans(started)).events)).toEqual(["toggle-1", "toggle-2"]);

    // Deactivated between pages: the remaining pages do nothing.
    const tomorrow = await cronTick("2026-07-02T09:00:00Z", { scanPageSize: 1 });
    await post(`/workflows/${id}/deactivate`);
    const stopped = await runScans(tomorrow);
    expect(stopped.events).toEqual([]);
    expect(stopped.pages).toHaveLength(1);
    expect(await cronTick("2026-07-03T09:00:00Z")).toEqual([]);
  });

  it("leaves campaigns outside their window unscanned", async () => {
    await seedMirror([{ id: "camp-1", email: "c1@example.com", properties: { segment: "campaign" } }]);
    const response = await post("/workflows", {
      name: "Summer campaign",
      kind: "campaign",
      startsAt: "2026-08-01T00:00:00Z",
      endsAt: "2026-09-01T00:00:00Z",
      trigger: { type: "date", repeat: "daily", at: "09:00" },
      filters: [segment("campaign")],
      actions: [{ type: "sync_fields", fields: { summer: "{{now}}" } }],
    });
    const { id } = await json(response);
    await post(`/workflows/${id}/activate`);
    expect(await cronTick("2026-07-31T09:00:00Z")).toEqual([]);
    expect(customersOf((await runScans(await cronTick("2026-08-15T09:00:00Z"))).events)).toEqual(["camp-1"]);
    expect(await cronTick("2026-09-01T09:00:00Z")).toEqual([]);
  });
});

describe("birthday index keys", () => {
  const filter = (value: string) => [
    {
      type: "customer_attribute" as const,
      attribute: "birth_date",
      operator: "in_date" as const,
      value: value as "today",
    },
  ];

  it("adds 02-29 on Feb 28 of non-leap years only", () => {
    expect(birthdayIndexKeys(filter("today"), unix("2027-02-28T12:00:00Z"))).toEqual(["02-28", "02-29"]);
    expect(birthdayIndexKeys(filter("today"), unix("2028-02-28T12:00:00Z"))).toEqual(["02-28"]);
    expect(birthdayIndexKeys(filter("today"), unix("2028-02-29T12:00:00Z"))).toEqual(["02-29"]);
  });

  it("covers a week across the year end and a whole month", () => {
    // 2026-12-31 is a Thursday: the ISO week runs Monday 12-28 to Sunday 01-03.
    expect(birthdayIndexKeys(filter("this_week"), unix("2026-12-31T00:00:00Z"))).toEqual([
      "01-01",
      "01-02",
      "01-03",
      "12-28",
      "12-29",
      "12-30",
      "12-31",
    ]);
    const february = birthdayIndexKeys(filter("this_month"), unix("2027-02-10T00:00:00Z"))!;
    expect(february).toHaveLength(29);
    expect(february.at(-1)).toBe("02-29");
  });

  it("is not used for other attributes or operators", () => {
    expect(birthdayIndexKeys([{ ...filter("today")[0]!, attribute: "properties.birthday" }], 0)).toBeUndefined();
    expect(
      birthdayIndexKeys([{ type: "customer_attribute", attribute: "birth_date", operator: "exists", value: true }], 0),
    ).toBeUndefined();
  });
});
