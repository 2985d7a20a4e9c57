/**
 * The settlement outbox (schema.ts `object_settlements`): outcomes written with the delivery log
 * and carried to each customer's object by its next plan call, or by the minute sweep. The
 * statements that ride in the delivery batch's two D1 batches (the context read, the log write)
 * are built here; the sweep's own reads and deletes too.
 */
import { and, asc, count, gt, inArray, lte } from "drizzle-orm";
import * as v from "valibot";
import { type SettleRequest, SettleRequestSchema } from "../domain/customer-state";
import { parseJson } from "../lib/http-exchange";
import { logger } from "../lib/logger";
import { chunk, type Database, IDS_PER_STATEMENT, rowsPerStatement } from "./client";
import { objectSettlements } from "./schema";

export interface Settlement {
  id: number;
  customerId: string;
  request: SettleRequest;
}

export type NewSettlement = SettleRequest & { customerId: string };

/** The statements that read the settlements waiting for these customers, oldest first. */
export function settlementsForQueries(db: Database, customerIds: readonly string[]) {
  return chunk(customerIds, IDS_PER_STATEMENT).map((part) =>
    db
      .select()
      .from(objectSettlements)
      .where(inArray(objectSettlements.customerId, part))
      .orderBy(asc(objectSettlements.id)),
  );
}

type SettlementRow = typeof objectSettlements.$inferSelect;

/** The readable rows; one that is not (it cannot happen short of corruption) is skipped, not the batch. */
export function toSettlements(results: SettlementRow[][]): Settlement[] {
  return results.flat().flatMap((row) => {
    const parsed = v.safeParse(SettleRequestSchema, parseJson(row.body));
    if (parsed.success) return [{ id: row.id, customerId: row.customerId, request: parsed.output }];
    logger.error("unreadable settlement row skipped", { settlementId: row.id, customerId: row.customerId });
    return [];
  });
}

/** The statements that queue new settlements (in the log write's batch). */
export function insertSettlementsStatements(db: Database, settlements: readonly NewSettlement[], now: number) {
  const rows = settlements.map(({ customerId, ...request }) => ({
    customerId,
    body: JSON.stringify(request),
    createdAt: now,
  }));
  return chunk(rows, rowsPerStatement(3)).map((part) => db.insert(objectSettlements).values(part));
}

/** The statements that drop settlements their objects have applied. */
export function deleteSettlementsStatements(db: Database, ids: readonly number[]) {
  return chunk(ids, IDS_PER_STATEMENT).map((part) =>
    db.delete(objectSettlements).where(inArray(objectSettlements.id, part)),
  );
}

/**
 * The settlements written at or before `before` (the ones no plan call picked up), in id order after
 * `afterId`; `last` is the page's last row id, readable or not, for the next page to start after;
 * `unreadable` the ids of rows no object can ever apply (for the sweep to drop).
 */
export async function selectStaleSettlements(
  db: Database,
  before: number,
  afterId: number,
  limit: number,
): Promise<{ settlements: Settlement[]; unreadable: number[]; last?: number }> {
  const rows = await db
    .select()
    .from(objectSettlements)
    .where(and(gt(objectSettlements.id, afterId), lte(objectSettlements.createdAt, before)))
    .orderBy(asc(objectSettlements.id))
    .limit(limit);
  const settlements = toSettlements([rows]);
  const readable = new Set(settlements.map((s) => s.id));
  return {
    settlements,
    unreadable: rows.filter((row) => !readable.has(row.id)).map((row) => row.id),
    ...(rows.length > 0 ? { last: rows[rows.length - 1]!.id } : {}),
  };
}

export async function deleteSettlements(db: Database, ids: readonly number[]): Promise<void> {
  const statements = deleteSettlementsStatements(db, ids);
  if (statements.length > 0) await db.batch(statements as [(typeof statements)[number]]);
}

/** Most rows the backlog count reads: past it the dashboard says "more than". */
export const BACKLOG_COUNT_CAP = 10_000;

/**
 * The settlements written at or before `before` that still wait: how many (at most
 * BACKLOG_COUNT_CAP + 1) and the oldest's time. Ids grow with time, so the oldest row is the first
 * by id and the count reads old rows first; no index on created_at is needed.
 */
export async function settlementBacklog(db: Database, before: number): Promise<{ count: number; oldestAt?: number }> {
  const [oldest] = await db
    .select({ createdAt: objectSettlements.createdAt })
    .from(objectSettlements)
    .orderBy(asc(objectSettlements.id))
    .limit(1);
  if (!oldest || oldest.createdAt > before) return { count: 0 };
  const waiting = db
    .select({ id: objectSettlements.id })
    .from(objectSettlements)
    .where(lte(objectSettlements.createdAt, before))
    .orderBy(asc(objectSettlements.id))
    .limit(BACKLOG_COUNT_CAP + 1)
    .as("waiting");
  const [row] = await db.select({ count: count() }).from(waiting);
  return { count: row?.count ?? 0, oldestAt: oldest.createdAt };
}
