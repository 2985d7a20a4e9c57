/**
 * The delivery log: one row per event (its commands and fate) and one row per call made for it.
 * Written in one D1 batch per consumer batch, so the log costs one round trip.
 */
import { inArray, sql } from "drizzle-orm";
import type { Direction } from "../domain/event";
import { chunk, type Database, IDS_PER_STATEMENT, rowsPerStatement } from "./client";
import { mirrorRow, upsertCustomerStatement } from "./customer-queries";
import { deliveries, deliveryAttempts, workflows } from "./schema";
import { deleteSettlementsStatements, insertSettlementsStatements, type NewSettlement } from "./settlement-queries";

export type DeliveryStatus = "pending" | "retrying" | "delivered" | "dead" | "paused" | "outcome_unknown";
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = [
  "pending",
  "retrying",
  "delivered",
  "dead",
  "paused",
  "outcome_unknown",
];

export interface AttemptEntry {
  /** The delivery attempt (the queue message's attempt number, or the replay's). */
  attempt: number;
  target: "bloomreach" | "antavo";
  outcome: string;
  httpStatus?: number;
  error?: string;
  request?: string;
  response?: string;
  durationMs: number;
  startedAt: number;
}

export interface DeliveryEntry {
  eventId: string;
  /** For `to_antavo`, the Antavo customer once the mirror found it (the hard-ID value before). */
  customerId: string;
  action: string;
  /** Default `to_bloomreach`. */
  direction?: Direction;
  status: Exclude<DeliveryStatus, "pending">;
  commands: unknown[];
  lastError?: string;
  nextAttemptAt?: number;
  /** What planning left out and why; absent keeps what the log already says. */
  warnings?: string[];
  attempts: AttemptEntry[];
  /** Bloomreach calls that took the event in full and are not kept as attempt rows. */
  unloggedCalls?: number;
}

/** What a consumer batch writes besides the log, in the same D1 batch (one round trip). */
export interface BatchSideWrites {
  /** Customers whose snapshot changed: the mirror the date workflows and filters read. */
  mirrors?: Map<string, Record<string, unknown>>;
  /** Workflows whose commands went out: their "last run" in the admin UI. */
  workflowsRun?: string[];
  /** The batch's outcomes for the customers' objects (the settlement outbox). */
  settlements?: NewSettlement[];
  /** Outbox rows the batch's plan calls carried to their objects: done. */
  appliedSettlements?: number[];
}

export async function writeDeliveryLog(
  db: Database,
  entries: DeliveryEntry[],
  now: number,
  side: BatchSideWrites = {},
): Promise<void> {
  const mirrorRows = [...(side.mirrors ?? [])].map(([id, snapshot]) => mirrorRow(id, { ...snapshot, id }, now));
  const workflowsRun = side.workflowsRun ?? [];
  const outbox = [
    ...insertSettlementsStatements(db, side.settlements ?? [], now),
    ...deleteSettlementsStatements(db, side.appliedSettlements ?? []),
  ];
  if (entries.length === 0 && mirrorRows.length === 0 && workflowsRun.length === 0 && outbox.length === 0) return;
  const rows = entries.map((e) => ({
    id: e.eventId,
    eventId: e.eventId,
    customerId: e.customerId,
    action: e.action,
    direction: e.direction ?? "to_bloomreach",
    status: e.status,
    // Calls to the delivery's destination; enrichment and claims are attempts of their own kind.
    attempts:
      e.attempts.filter((a) => a.target === (e.direction === "to_antavo" ? "antavo" : "bloomreach")).length +
      (e.unloggedCalls ?? 0),
    commands: JSON.stringify(e.commands),
    lastError: e.lastError ?? null,
    warnings: e.warnings && e.warnings.length > 0 ? JSON.stringify(e.warnings) : null,
    nextAttemptAt: e.nextAttemptAt ?? null,
    createdAt: now,
    updatedAt: now,
  }));
  const attemptRows = entries.flatMap((e) =>
    e.attempts.map((a) => ({
      deliveryId: e.eventId,
      attempt: a.attempt,
      target: a.target,
      outcome: a.outcome,
      httpStatus: a.httpStatus ?? null,
      error: a.error ?? null,
      request: a.request ?? null,
      response: a.response ?? null,
      durationMs: Math.round(a.durationMs),
      startedAt: a.startedAt,
    })),
  );
  const statements = [
    ...chunk(rows, rowsPerStatement(13)).map((part) =>
      db
        .insert(deliveries)
        .values(part)
        .onConflictDoUpdate({
          target: deliveries.id,
          set: {
            status: sql`excluded.status`,
            direction: sql`excluded.direction`,
            // A planned entry names the customer it was planned for (an Antavo event found its customer on a replay).
            customerId: sql`case when excluded.commands = '[]' then ${deliveries.customerId} else excluded.customer_id end`,
            attempts: sql`${deliveries.attempts} + excluded.attempts`,
            // Entries written without planning (paused, dead-lettered) keep the commands already logged.
            commands: sql`case when excluded.commands = '[]' then ${deliveries.commands} else excluded.commands end`,
            lastError: sql`excluded.last_error`,
            warnings: sql`coalesce(excluded.warnings, ${deliveries.warnings})`,
            nextAttemptAt: sql`excluded.next_attempt_at`,
            updatedAt: sql`excluded.updated_at`,
          },
        }),
    ),
    ...chunk(attemptRows, rowsPerStatement(10)).map((part) => db.insert(deliveryAttempts).values(part)),
    ...chunk(mirrorRows, rowsPerStatement(5)).map((part) => upsertCustomerStatement(db, part)),
    ...(workflowsRun.length > 0
      ? [db.update(workflows).set({ lastRunAt: now }).where(inArray(workflows.id, workflowsRun))]
      : []),
    ...outbox,
  ];
  await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}

/** Status and last error of the given deliveries (those that have a row). */
export async function readDeliveryStates(
  db: Database,
  ids: string[],
): Promise<Map<string, { status: string; lastError: string | null }>> {
  const states = new Map<string, { status: string; lastError: string | null }>();
  for (const part of chunk(ids, IDS_PER_STATEMENT)) {
    const rows = await db
      .select({ id: deliveries.id, status: deliveries.status, lastError: deliveries.lastError })
      .from(deliveries)
      .where(inArray(deliveries.id, part));
    for (const row of rows) states.set(row.id, { status: row.status, lastError: row.lastError });
  }
  return states;
}
