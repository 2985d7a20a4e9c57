import { createScheduledController, env, SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import sampleCsv from "../samples/antavo-customers.csv?raw";
import { createDeps } from "../src/composition";
import { runScheduled } from "../src/cron/scheduled";
import { openDatabase } from "../src/db/client";
import type { QueueMessage } from "../src/domain/queue-message";
import { deliveryLog } from "../src/services/delivery/ports";
import { recordingQueue } from "./support/app";
import { isPage, NO_PACE, runPages, seedCustomers, startJob } from "./support/backfill";
import { failingDeliveryLog } from "./support/d1-faults";
import { consume } from "./support/date-runs";
import { demoMapping, demoSettings } from "./support/fixtures";
import { admin, json, secrets } from "./support/http";
import { asMessage, relayEvent, relayWithFakes, runQueue } from "./support/pipeline";

const relay = relayWithFakes({ mapping: demoMapping, settings: demoSettings });

const MIRRORED_AT = 1_767_000_000;

const members = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(5, "0")}`,
    email: `${prefix}-${i}@example.com`,
    first_name: `Member ${i}`,
    score: 100 + i,
    tiers: [{ name: "Silver" }],
  }));

const batchCalls = (fake: { requests: { path: string }[] }) => fake.requests.filter((r) => r.path.endsWith("/batch"));
const progress = async (id: string) => json(await admin(`/backfill/${id}`));

// The mirror is shared by the tests of this file: each test backfills only its own customers.
beforeEach(async () => {
  await env.DB.prepare("delete from customers").run();
  await env.DB.prepare("update backfill_jobs set status = 'cancelled' where status = 'running'").run();
});

describe("backfill", () => {
  it("sends 1,200 customers once each in full batches, and nothing again for unchanged customers", async () => {
    const { bloomreach } = await relay();
    await seedCustomers(members("full", 1200), MIRRORED_AT);

    const first = await startJob();
    expect(first.response.status).toBe(202);
    const { id, total } = await json(first.response);
    expect(total).toBe(1200);
    await runPages(first.pages);

    const sent = bloomreach.customers();
    expect(sent).toHaveLength(1200);
    expect(new Set(sent.map((c) => c.customer_ids.registered)).size).toBe(1200);
    // 1,200 commands in 24 calls of at most 50: every call full.
    expect(batchCalls(bloomreach)).toHaveLength(24);
    expect(sent[0]).toEqual({
      customer_ids: { registered: "full-0@example.com" },
      properties: { first_name: "Member 0", loyalty_points: 100, loyalty_tier: "Silver" },
      update_timestamp: MIRRORED_AT,
    });
    bloomreach.assertNoUnexpected();
    expect(await progress(id)).toMatchObject({
      status: "done",
      total: 1200,
      sent: 1200,
      skipped: 0,
      failed: 0,
      failures: [],
      finishedAt: expect.any(Number),
    });
    // No live event was tracked, and no delivery waits for a retry.
    expect(bloomreach.events()).toEqual([]);

    const second = await startJob();
    expect(second.response.status).toBe(202);
    const again = await json(second.response);
    await runPages(second.pages);
    expect(bloomreach.customers()).toHaveLength(1200);
    expect(batchCalls(bloomreach)).toHaveLength(24);
    expect(await progress(again.id)).toMatchObject({ status: "done", sent: 0, skipped: 1200, failed: 0 });
  }, 60_000);

  it("never overwrites a live value newer than the mirrored snapshot", async () => {
    const { bloomreach } = await relay();
    // A live event (newer than the export) reached Bloomreach first...
    const liveAt = MIRRORED_AT + 5000;
    await runQueue([
      asMessage(
        relayEvent({
          id: "live-newer-1",
          customerId: "live-a",
          customer: { email: "live-a@example.com", first_name: "Ada", score: 900 },
          createdAt: liveAt,
          receivedAt: liveAt,
        }),
      ),
    ]);
    expect(bloomreach.customers().at(-1)?.properties).toMatchObject({ loyalty_points: 900 });
    const before = bloomreach.customers().length;
    // ...then an older export was imported over the mirror.
    await seedCustomers(
      [
        { id: "live-a", email: "live-a@example.com", first_name: "Ada", score: 100, tiers: [{ name: "Gold" }] },
        { id: "live-b", email: "live-b@example.com", first_name: "Bea", score: 200 },
      ],
      MIRRORED_AT,
    );

    const job = await startJob();
    const { id } = await json(job.response);
    await runPages(job.pages);

    const backfilled = bloomreach.customers().slice(before);
    const a = backfilled.filter((c) => c.customer_ids.registered === "live-a@example.com");
    // The stale score is dropped, the unchanged first name skipped; only the tier is new.
    expect(a).toEqual([
      {
        customer_ids: { registered: "live-a@example.com" },
        properties: { loyalty_tier: "Gold" },
        update_timestamp: MIRRORED_AT,
      },
    ]);
    expect(backfilled.find((c) => c.customer_ids.registered === "live-b@example.com")).toEqual({
      customer_ids: { registered: "live-b@example.com" },
      properties: { first_name: "Bea", loyalty_points: 200 },
      update_timestamp: MIRRORED_AT,
    });
    expect(await progress(id)).toMatchObject({ status: "done", sent: 2, skipped: 0 });
  });

  it("resumes after a crash without resending finished pages", async () => {
    const { bloomreach } = await relay();
    await seedCustomers(members("crash", 600), MIRRORED_AT);
    const job = await startJob();
    const { id } = await json(job.response);

    // Page 1 finishes; the message for page 2 is lost with the crashed consumer.
    const one = await consume(job.pages, NO_PACE);
    expect(one.acked).toHaveLength(1);
    const lost = one.sent.filter(isPage);
    expect(lost).toEqual([{ type: "backfill_page", jobId: id, cursor: "crash-00249" }]);
    expect(bloomreach.customers()).toHaveLength(250);

    // Page 2 then crashes half-way: Bloomreach took its commands, the log write failed.
    const faulty = openDatabase(failingDeliveryLog(env.DB, 1).db);
    const two = await consume(lost, { db: faulty, deliveryLog: deliveryLog(faulty), ...NO_PACE });
    expect(two.retried).toHaveLength(1);
    expect(bloomreach.customers()).toHaveLength(500);
    expect(await progress(id)).toMatchObject({ status: "running", sent: 250 });

    // The retried page sends nothing its first run sent, and the job goes on.
    const retriedPage = await consume(lost, NO_PACE);
    expect(bloomreach.customers()).toHaveLength(500);
    const three = retriedPage.sent.filter(isPage);
    expect(three).toEqual([{ type: "backfill_page", jobId: id, cursor: "crash-00499" }]);

    // Page 3's message is lost too: the cron sweep finds the job quiet and queues it again.
    expect(await cronPages(Date.now() + 60_000)).toEqual([]);
    const resumed = await cronPages(Date.now() + 400_000);
    expect(resumed).toEqual([{ type: "backfill_page", jobId: id, cursor: "crash-00499" }]);
    await runPages(resumed);

    const sent = bloomreach.customers().map((c) => c.customer_ids.registered);
    expect(sent).toHaveLength(600);
    expect(new Set(sent).size).toBe(600);
    // A late copy of a finished page changes nothing.
    await runPages(job.pages);
    expect(bloomreach.customers()).toHaveLength(600);
    expect(await progress(id)).toMatchObject({ status: "done", total: 600, sent: 600, skipped: 0, failed: 0 });
    bloomreach.assertNoUnexpected();
  }, 30_000);

  it("answers 409 while a job runs, and a cancelled job sends no further page", async () => {
    const { bloomreach } = await relay();
    await seedCustomers(members("cancel", 600), MIRRORED_AT);
    const job = await startJob();
    const { id } = await json(job.response);

    const second = await startJob();
    expect(second.response.status).toBe(409);
    expect((await json(second.response)).error.code).toBe("conflict");
    expect(second.pages).toEqual([]);

    const one = await consume(job.pages, NO_PACE);
    const cancelled = await admin(`/backfill/${id}`, { method: "DELETE" });
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toMatchObject({ status: "cancelled", sent: 250, finishedAt: expect.any(Number) });
    await runPages(one.sent);
    expect(bloomreach.customers()).toHaveLength(250);
    expect(await progress(id)).toMatchObject({ status: "cancelled", sent: 250 });
    // Cancelled twice is the same answer; a finished job cannot be cancelled; another can start.
    expect((await admin(`/backfill/${id}`, { method: "DELETE" })).status).toBe(200);
    const next = await startJob({ updatedSince: MIRRORED_AT + 1 });
    expect(next.response.status).toBe(202);
    expect((await json(next.response)).total).toBe(0);
    await runPages(next.pages);
    const doneId = next.pages[0]!.jobId;
    expect(await progress(doneId)).toMatchObject({ status: "done", total: 0, sent: 0 });
    expect((await admin(`/backfill/${doneId}`, { method: "DELETE" })).status).toBe(409);
  }, 30_000);

  it("lists the customers that failed, with the reason", async () => {
    const { bloomreach } = await relay();
    bloomreach.failCommands((c) => c.data.customer_ids.registered === "fail-1@example.com", "Property too long");
    await seedCustomers(
      [
        { id: "fail-0", email: "fail-0@example.com", score: 1 },
        { id: "fail-1", email: "fail-1@example.com", score: 2 },
        { id: "fail-2", first_name: "No e-mail" },
      ],
      MIRRORED_AT,
    );
    const job = await startJob();
    const { id } = await json(job.response);
    await runPages(job.pages);
    const state = await progress(id);
    expect(state).toMatchObject({ status: "done", total: 3, sent: 1, failed: 2 });
    expect(state.failures).toEqual([
      { customerId: "fail-1", status: "dead", error: expect.stringContaining("Property too long") },
      { customerId: "fail-2", status: "dead", error: expect.stringContaining("hard-ID") },
    ]);
  });

  it("imports the README's sample file and sends each of its customers once", async () => {
    const { bloomreach } = await relay();
    const imported = await SELF.fetch("https://relay.test/api/customers/import", {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "text/csv" },
      body: sampleCsv,
    });
    expect(await json(imported)).toMatchObject({ total: 20, imported: 20, rejectedCount: 0 });
    const job = await startJob();
    const { id } = await json(job.response);
    await runPages(job.pages);
    const sent = bloomreach.customers();
    expect(sent).toHaveLength(20);
    expect(new Set(sent.map((c) => c.customer_ids.registered)).size).toBe(20);
    expect(sent[0]).toMatchObject({
      customer_ids: { registered: "ada.lovelace@example.com" },
      properties: { first_name: "Ada", loyalty_points: 120, loyalty_tier: "Bronze" },
    });
    expect(await progress(id)).toMatchObject({ status: "done", total: 20, sent: 20 });
  });

  it("refuses a bad updatedSince with its path, and an unknown job with 404", async () => {
    await relay();
    const bad = await startJob({ updatedSince: "yesterday" });
    expect(bad.response.status).toBe(400);
    expect((await json(bad.response)).error.issues[0].path).toBe("updatedSince");
    expect((await admin("/backfill/bf-nope")).status).toBe(404);
  });
});

/** One cron run scheduled for `at`; answers the backfill pages it queued. */
async function cronPages(at: number) {
  const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<QueueMessage>);
  const controller = createScheduledController({ scheduledTime: new Date(at), cron: "* * * * *" });
  await runScheduled(controller, { ...createDeps(env), queue: recorder.queue, backfillQueue: recorder.queue });
  return (recorder.sent as QueueMessage[]).filter(isPage);
}
