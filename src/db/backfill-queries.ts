/**
 * What backfill jobs read and write: the job row (one running at a time, by a partial unique index),
 * keyset pages of the customer mirror, and the job's failures as the delivery log holds them.
 * A page is finished by one conditional update (the cursor must still be where the page started),
 * which is what makes a redelivered or resumed page count once.
 */
import { and, asc, count, desc, eq, gt, gte, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "./client";
import { backfillJobs, customers, deliveries } from "./schema";

export type BackfillJobRow = typeof backfillJobs.$inferSelect;
export type BackfillStatus = "running" | "done" | "cancelled" | "failed";

export const backfillEventPrefix = (jobId: string) => `backfill:${jobId}:`;
export const backfillEventId = (jobId: string, customerId: string) => `${backfillEventPrefix(jobId)}${customerId}`;

const sinceFilter = (updatedSince: number | null | undefined) =>
  updatedSince === null || updatedSince === undefined ? undefined : gte(customers.updatedAt, updatedSince);

export async function countMirror(db: Database, updatedSince?: number): Promise<number> {
  const row = await db.select({ n: count() }).from(customers).where(sinceFilter(updatedSince)).get();
  return row?.n ?? 0;
}

/** Inserts the job as running; false when another job is running (the partial unique index). */
export async function insertRunningJob(db: Database, job: typeof backfillJobs.$inferInsert): Promise<boolean> {
  const inserted = await db.insert(backfillJobs).values(job).onConflictDoNothing().returning({ id: backfillJobs.id });
  return inserted.length > 0;
}

export async function readJob(db: Database, id: string): Promise<BackfillJobRow | undefined> {
  return db.select().from(backfillJobs).where(eq(backfillJobs.id, id)).get();
}

export async function readRunningJob(db: Database): Promise<BackfillJobRow | undefined> {
  return db.select().from(backfillJobs).where(eq(backfillJobs.status, "running")).get();
}

export async function latestJob(db: Database): Promise<BackfillJobRow | undefined> {
  return db.select().from(backfillJobs).orderBy(desc(backfillJobs.startedAt), desc(backfillJobs.id)).limit(1).get();
}

export interface BackfillMirrorRow {
  id: string;
  snapshot: string;
  updatedAt: number;
}

/** Up to `limit` mirrored customers after `cursor`, in id order (a seek on the primary key). */
export async function readBackfillPage(
  db: Database,
  options: { limit: number; cursor?: string | null; updatedSince?: number | null },
): Promise<BackfillMirrorRow[]> {
  return db
    .select({ id: customers.id, snapshot: customers.snapshot, updatedAt: customers.updatedAt })
    .from(customers)
    .where(and(options.cursor ? gt(customers.id, options.cursor) : undefined, sinceFilter(options.updatedSince)))
    .orderBy(asc(customers.id))
    .limit(options.limit);
}

const cursorIs = (cursor: string | null | undefined) =>
  cursor ? eq(backfillJobs.cursor, cursor) : isNull(backfillJobs.cursor);

/**
 * Finishes the page that started at `from`: moves the cursor to `to`, adds the counts, and ends the
 * job when it was the last page. False when the page was already finished (or the job stopped).
 */
export async function finishPage(
  db: Database,
  jobId: string,
  page: { from?: string | null; to: string; sent: number; skipped: number; failed: number; last: boolean },
  now: number,
): Promise<boolean> {
  const updated = await db
    .update(backfillJobs)
    .set({
      cursor: page.to,
      sent: sql`${backfillJobs.sent} + ${page.sent}`,
      skipped: sql`${backfillJobs.skipped} + ${page.skipped}`,
      failed: sql`${backfillJobs.failed} + ${page.failed}`,
      pages: sql`${backfillJobs.pages} + 1`,
      heartbeatAt: now,
      ...(page.last ? { status: "done", finishedAt: now } : {}),
    })
    .where(and(eq(backfillJobs.id, jobId), eq(backfillJobs.status, "running"), cursorIs(page.from)))
    .returning({ id: backfillJobs.id });
  return updated.length > 0;
}

/** Ends a running job (done, cancelled or failed); false when it was not running. */
export async function endJob(
  db: Database,
  jobId: string,
  status: Exclude<BackfillStatus, "running">,
  now: number,
  error?: string,
): Promise<boolean> {
  const updated = await db
    .update(backfillJobs)
    .set({ status, finishedAt: now, heartbeatAt: now, ...(error ? { error } : {}) })
    .where(and(eq(backfillJobs.id, jobId), eq(backfillJobs.status, "running")))
    .returning({ id: backfillJobs.id });
  return updated.length > 0;
}

export async function touchJob(db: Database, jobId: string, heartbeatAt: number): Promise<void> {
  await db.update(backfillJobs).set({ heartbeatAt }).where(eq(backfillJobs.id, jobId));
}

/** A running job whose pages have been quiet since before `cutoff`: its next page was lost. */
export async function readStalledJob(db: Database, cutoff: number): Promise<BackfillJobRow | undefined> {
  return db
    .select()
    .from(backfillJobs)
    .where(and(eq(backfillJobs.status, "running"), lt(backfillJobs.heartbeatAt, cutoff)))
    .get();
}

const FAILED_STATUSES = ["dead", "outcome_unknown", "paused", "retrying"];

/** The job's customers that did not make it, from the delivery log (a range seek on the event id). */
export async function readJobFailures(db: Database, jobId: string, limit: number) {
  const prefix = backfillEventPrefix(jobId);
  // ';' sorts right after ':' the prefix ends with, so [prefix, upper) is exactly the job's events.
  const upper = `${prefix.slice(0, -1)};`;
  return db
    .select({ customerId: deliveries.customerId, status: deliveries.status, error: deliveries.lastError })
    .from(deliveries)
    .where(
      and(
        gte(deliveries.eventId, prefix),
        lt(deliveries.eventId, upper),
        or(inArray(deliveries.status, FAILED_STATUSES)),
      ),
    )
    .orderBy(asc(deliveries.eventId))
    .limit(limit);
}

/** Marks the job's deliveries still waiting for a retry as dead: the job will not retry them. */
export async function abandonJobRetries(db: Database, jobId: string, reason: string, now: number): Promise<void> {
  const prefix = backfillEventPrefix(jobId);
  await db
    .update(deliveries)
    .set({ status: "dead", lastError: reason, nextAttemptAt: null, updatedAt: now })
    .where(
      and(
        gte(deliveries.eventId, prefix),
        lt(deliveries.eventId, `${prefix.slice(0, -1)};`),
        eq(deliveries.status, "retrying"),
      ),
    );
}
