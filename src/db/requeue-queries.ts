/**
 * What putting events back on the queue reads and writes: the candidates (dead deliveries in a
 * window, parked ones, accepted events that never got a delivery row, overdue retries), their stored
 * payloads, and the rows marked retrying once they are sent. Candidates come oldest first.
 */
import { and, asc, eq, gte, inArray, isNull, lt, lte, sql } from "drizzle-orm";
import type { Direction } from "../domain/event";
import { chunk, type Database, IDS_PER_STATEMENT, rowsPerStatement } from "./client";
import { deliveries, deliveryAttempts, inboundEvents } from "./schema";

export interface TimeWindow {
  /** The settled status to replay: `dead` (the default) or `outcome_unknown`. */
  status?: "dead" | "outcome_unknown";
  since?: number;
  until?: number;
  /** Only deliveries of one direction (both when absent). */
  direction?: Direction;
}

/** The stored payloads (JSON text) of the given inbound events that are still kept. */
export async function selectInboundPayloads(db: Database, ids: string[]): Promise<string[]> {
  const payloads: string[] = [];
  for (const part of chunk(ids, IDS_PER_STATEMENT)) {
    for (const row of await db
      .select({ payload: inboundEvents.payload })
      .from(inboundEvents)
      .where(inArray(inboundEvents.id, part)))
      payloads.push(row.payload);
  }
  return payloads;
}

/** How a replay is noted ahead of the last error; the next log write replaces it with the outcome. */
export const REPLAY_NOTE = "replay requested; was: ";
/** The attempt-log row a replay leaves, so the detail can tell the replay's attempts from the first run's. */
export const REPLAY_MARKER = { target: "relay", outcome: "replay_requested" } as const;

/**
 * Marks the deliveries retrying from `now`. A replay also notes it ahead of the last error and
 * leaves a marker in the attempt log: the replay's queue message counts its attempts from 1 again.
 */
export async function markDeliveriesRetrying(db: Database, ids: string[], now: number, replay: boolean) {
  for (const part of chunk(ids, IDS_PER_STATEMENT)) {
    const mark = db
      .update(deliveries)
      .set({
        status: "retrying",
        nextAttemptAt: now,
        updatedAt: now,
        ...(replay ? { lastError: sql`${REPLAY_NOTE} || coalesce(${deliveries.lastError}, '')` } : {}),
      })
      .where(inArray(deliveries.id, part));
    if (!replay) {
      await mark;
      continue;
    }
    const markers = part.map((deliveryId) => ({
      deliveryId,
      attempt: 0,
      ...REPLAY_MARKER,
      durationMs: 0,
      startedAt: now,
    }));
    await db.batch([
      mark,
      ...chunk(markers, rowsPerStatement(10)).map((rows) => db.insert(deliveryAttempts).values(rows)),
    ]);
  }
}

export async function selectDeliveryStatus(db: Database, id: string): Promise<string | undefined> {
  const row = await db.select({ status: deliveries.status }).from(deliveries).where(eq(deliveries.id, id)).get();
  return row?.status;
}

const deadInWindow = (window: TimeWindow) =>
  and(
    eq(deliveries.status, window.status ?? "dead"),
    window.since !== undefined ? gte(deliveries.createdAt, window.since) : undefined,
    window.until !== undefined ? lte(deliveries.createdAt, window.until) : undefined,
    window.direction ? eq(deliveries.direction, window.direction) : undefined,
  );

/** Ids of dead (or outcome_unknown) deliveries created in the window, oldest first. */
export async function selectDeadDeliveryIds(db: Database, window: TimeWindow, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(deadInWindow(window))
    .orderBy(deliveries.createdAt)
    .limit(limit);
  return rows.map((r) => r.id);
}

export async function countDeadDeliveries(db: Database, window: TimeWindow): Promise<number> {
  const [{ remaining } = { remaining: 0 }] = await db
    .select({ remaining: sql<number>`count(*)` })
    .from(deliveries)
    .where(deadInWindow(window));
  return remaining;
}

/** Ids of deliveries parked while the connection was missing or refused, oldest first. */
export async function selectPausedDeliveryIds(db: Database, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(eq(deliveries.status, "paused"))
    .orderBy(deliveries.createdAt)
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Accepted events received before `cutoff` that have no delivery row, oldest first. */
export function selectLostInboundEvents(db: Database, cutoff: number, limit: number) {
  return db
    .select({
      id: inboundEvents.id,
      action: inboundEvents.action,
      customerId: inboundEvents.customerId,
      payload: inboundEvents.payload,
    })
    .from(inboundEvents)
    .leftJoin(deliveries, eq(deliveries.id, inboundEvents.id))
    .where(and(isNull(deliveries.id), lt(inboundEvents.receivedAt, cutoff)))
    .orderBy(asc(inboundEvents.receivedAt), asc(inboundEvents.id))
    .limit(limit);
}

/** Inserts delivery rows, leaving any row that already exists as it is. */
export async function insertDeliveryRowsIfAbsent(
  db: Database,
  rows: (typeof deliveries.$inferInsert)[],
): Promise<void> {
  for (const part of chunk(rows, rowsPerStatement(12))) await db.insert(deliveries).values(part).onConflictDoNothing();
}

/** Ids of retrying deliveries whose next attempt was due before `cutoff`, most overdue first. */
export async function selectOverdueRetryIds(db: Database, cutoff: number, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(eq(deliveries.status, "retrying"), lt(deliveries.nextAttemptAt, cutoff)))
    .orderBy(asc(deliveries.nextAttemptAt), asc(deliveries.id))
    .limit(limit);
  return rows.map((r) => r.id);
}
