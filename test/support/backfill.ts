/**
 * Drives backfill jobs in tests: starts one through the admin API with a recording queue (under
 * test the queues have no consumer), then runs its page messages through the events consumer
 * until the job stops queueing pages. Seeds the mirror in batches.
 */
import { env } from "cloudflare:test";
import { openDatabase } from "../../src/db/client";
import { mirrorRow, upsertCustomerStatement } from "../../src/db/customer-queries";
import type { BackfillPageMessage, QueueMessage } from "../../src/domain/queue-message";
import { appWith, recordingQueue } from "./app";
import { consume, type Overrides } from "./date-runs";
import { secrets } from "./http";

/** Tests run pages without the pause a page leaves live deliveries (the bench measures that). */
export const NO_PACE = { backfillPace: 0 };

export const isPage = (m: QueueMessage): m is BackfillPageMessage => m.type === "backfill_page";

/** Puts customers in the mirror, 20 rows a statement, as mirrored at `at` (Unix seconds). */
export async function seedCustomers(customers: ({ id: string } & Record<string, unknown>)[], at: number) {
  const db = openDatabase(env.DB);
  const rows = customers.map((c) => mirrorRow(c.id, c, at));
  const statements = [];
  for (let i = 0; i < rows.length; i += 20) statements.push(upsertCustomerStatement(db, rows.slice(i, i + 20)));
  for (let i = 0; i < statements.length; i += 50) {
    const part = statements.slice(i, i + 50);
    await db.batch(part as [(typeof part)[number], ...(typeof part)[number][]]);
  }
}

/** `POST /api/backfill`; answers the response and the page messages it queued. */
export async function startJob(body: unknown = {}) {
  const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<QueueMessage>);
  const call = appWith(() => ({ queue: recorder.queue, backfillQueue: recorder.queue }));
  const response = await call("/api/backfill", {
    method: "POST",
    headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { response, pages: (recorder.sent as QueueMessage[]).filter(isPage) };
}

/** Runs page messages (and the pages they queue) to the end; answers the pages run. */
export async function runPages(pages: QueueMessage[], overrides: Overrides = {}) {
  let pending = pages.filter(isPage);
  const run: BackfillPageMessage[] = [];
  for (let round = 0; pending.length > 0; round++) {
    if (round > 200) throw new Error("runPages: the job does not end");
    run.push(...pending);
    const { sent, retried } = await consume(pending, { ...NO_PACE, ...overrides });
    if (retried.length > 0) throw new Error(`runPages: ${retried.length} page(s) were retried`);
    pending = sent.filter(isPage);
  }
  return run;
}
