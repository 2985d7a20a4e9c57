/**
 * The delivery log: one row per event (its commands and fate) and one row per call made for it.
 * Written in one D1 batch per consumer batch, so the log costs one round trip.
 */
import { inArray, sql } from "drizzle-orm";
import { chunk, type Database, rowsPerStatement } from "./client";
import { deliveries, deliveryAttempts } from "./schema";

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
  customerId: string;
  action: string;
  status: Exclude<DeliveryStatus, "pending">;
  commands: unknown[];
  lastError?: string;
  nextAttemptAt?: number;
  /** What planning left out and why; absent keeps what the log already says. */
  warnings?: string[];
  attempts: AttemptEntry[];
}

export async function writeDeliveryLog(db: Database, entries: DeliveryEntry[], now: number): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({
    id: e.eventId,
    eventId: e.eventId,
    customerId: e.customerId,
    action: e.action,
    status: e.status,
    attempts: e.attempts.filter((a) => a.target === "bloomreach").length,
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
    ...chunk(rows, rowsPerStatement(12)).map((part) =>
      db
        .insert(deliveries)
        .values(part)
        .onConflictDoUpdate({
          target: deliveries.id,
          set: {
            status: sql`excluded.status`,
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
  ];
  await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}

/** Status and last error of the given deliveries (those that have a row). */
export async function readDeliveryStates(
  db: Database,
  ids: string[],
): Promise<Map<string, { status: string; lastError: string | null }>> {
  const states = new Map<string, { status: string; lastError: string | null }>();
  for (const part of chunk(ids, 90)) {
    const rows = await db
      .select({ id: deliveries.id, status: deliveries.status, lastError: deliveries.lastError })
      .from(deliveries)
      .where(inArray(deliveries.id, part));
    for (const row of rows) states.set(row.id, { status: row.status, lastError: row.lastError });
  }
  return states;
}
