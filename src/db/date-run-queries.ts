/**
 * What date-workflow runs read and write: keyset pages of the customer mirror (by id, or through
 * the birthday index) and `workflow_runs`, whose primary key makes each (workflow, customer,
 * occurrence) happen once. A row with customer id `*` marks that the scan for an occurrence was
 * started, so a cron that fires twice or late starts it once.
 */
import { and, asc, desc, eq, gt, inArray, lt, ne, sql } from "drizzle-orm";
import { chunk, type Database, rowsPerStatement } from "./client";
import { customers, workflowRuns, workflows } from "./schema";

export const SCAN_MARKER = "*";

export interface MirrorRow {
  id: string;
  birthMonthDay: string | null;
  snapshot: string;
}

export interface PageCursor {
  id: string;
  monthDay?: string;
}

const mirrorColumns = { id: customers.id, birthMonthDay: customers.birthMonthDay, snapshot: customers.snapshot };

/**
 * Up to `limit` customers after `cursor`. With `monthDays` (sorted), reads index range after index
 * range, each in id order, so every query is a seek on (birth_month_day, id) and nothing is sorted.
 */
export async function readCustomerPage(
  db: Database,
  options: { limit: number; cursor?: PageCursor; monthDays?: string[] },
): Promise<MirrorRow[]> {
  const { limit, cursor, monthDays } = options;
  if (!monthDays) {
    return db
      .select(mirrorColumns)
      .from(customers)
      .where(cursor ? gt(customers.id, cursor.id) : undefined)
      .orderBy(asc(customers.id))
      .limit(limit);
  }
  const rows: MirrorRow[] = [];
  for (const key of monthDays) {
    if (cursor?.monthDay !== undefined && key < cursor.monthDay) continue;
    const after = cursor?.monthDay === key ? gt(customers.id, cursor.id) : undefined;
    const part = await db
      .select(mirrorColumns)
      .from(customers)
      .where(and(eq(customers.birthMonthDay, key), after))
      .orderBy(asc(customers.id))
      .limit(limit - rows.length);
    rows.push(...part);
    if (rows.length >= limit) break;
  }
  return rows;
}

/** Claims the scan of one occurrence; false when another cron run already did. */
export async function claimScan(db: Database, workflowId: string, occurrence: string, now: number): Promise<boolean> {
  const inserted = await db
    .insert(workflowRuns)
    .values({ workflowId, customerId: SCAN_MARKER, runDate: occurrence, createdAt: now })
    .onConflictDoNothing()
    .returning({ workflowId: workflowRuns.workflowId });
  return inserted.length > 0;
}

/** Gives a claim back when the scan could not be started, so the next cron run tries again. */
export async function releaseScan(db: Database, workflowId: string, occurrence: string): Promise<void> {
  await db
    .delete(workflowRuns)
    .where(
      and(
        eq(workflowRuns.workflowId, workflowId),
        eq(workflowRuns.customerId, SCAN_MARKER),
        eq(workflowRuns.runDate, occurrence),
      ),
    );
}

/** Records the runs; answers the customers whose run is new (the others already ran). */
export async function recordRuns(
  db: Database,
  workflowId: string,
  occurrence: string,
  customerIds: string[],
  now: number,
): Promise<Set<string>> {
  const rows = customerIds.map((customerId) => ({ workflowId, customerId, runDate: occurrence, createdAt: now }));
  const inserts = chunk(rows, rowsPerStatement(4)).map((part) =>
    db.insert(workflowRuns).values(part).onConflictDoNothing().returning({ customerId: workflowRuns.customerId }),
  );
  const fresh = new Set<string>();
  if (inserts.length === 0) return fresh;
  const results = await db.batch(inserts as [(typeof inserts)[number], ...(typeof inserts)[number][]]);
  for (const result of results) for (const row of result) fresh.add(row.customerId);
  return fresh;
}

/**
 * Forgets one workflow's runs of occurrences before `beforeDate` (YYYY-MM-DD). Runs are only
 * needed while their occurrence can still be scanned (its day, plus queue retries).
 */
export async function pruneRuns(db: Database, workflowId: string, beforeDate: string): Promise<void> {
  await db
    .delete(workflowRuns)
    .where(and(eq(workflowRuns.workflowId, workflowId), lt(workflowRuns.runDate, beforeDate)));
}

export async function markWorkflowRun(db: Database, workflowId: string, at: number): Promise<void> {
  await db.update(workflows).set({ lastRunAt: at }).where(eq(workflows.id, workflowId));
}

/** The latest scans of a workflow, newest first, with how many customers each ran for so far. */
export async function recentScans(db: Database, workflowId: string, limit: number) {
  const markers = await db
    .select({ occurrence: workflowRuns.runDate, startedAt: workflowRuns.createdAt })
    .from(workflowRuns)
    .where(and(eq(workflowRuns.workflowId, workflowId), eq(workflowRuns.customerId, SCAN_MARKER)))
    .orderBy(desc(workflowRuns.runDate))
    .limit(limit);
  if (markers.length === 0) return [];
  const counts = await db
    .select({ occurrence: workflowRuns.runDate, customers: sql<number>`count(*)` })
    .from(workflowRuns)
    .where(
      and(
        eq(workflowRuns.workflowId, workflowId),
        inArray(
          workflowRuns.runDate,
          markers.map((m) => m.occurrence),
        ),
        ne(workflowRuns.customerId, SCAN_MARKER),
      ),
    )
    .groupBy(workflowRuns.runDate);
  const byOccurrence = new Map(counts.map((c) => [c.occurrence, c.customers]));
  return markers.map((m) => ({ ...m, customers: byOccurrence.get(m.occurrence) ?? 0 }));
}

export async function deleteRuns(db: Database, workflowId: string): Promise<void> {
  await db.delete(workflowRuns).where(eq(workflowRuns.workflowId, workflowId));
}
