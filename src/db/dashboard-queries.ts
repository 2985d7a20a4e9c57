/**
 * Read-only aggregates only the dashboard needs (the delivery service has no use for them): status
 * counts, deliveries per hour and the latest failures. Nothing here writes.
 */
import { and, count, desc, eq, gte, inArray, isNull, sql } from "drizzle-orm";
import type { Direction } from "../domain/event";
import type { Database } from "./client";
import { DELIVERY_STATUSES, type DeliveryStatus } from "./delivery-queries";
import { deliveries, inboundEvents } from "./schema";

export type StatusCounts = Record<DeliveryStatus, number>;

/** Both directions, or one (`to_antavo`: the events from Bloomreach's webhook). */
export async function deliveryStatusCounts(db: Database, direction?: Direction): Promise<StatusCounts> {
  const pendingOf = direction
    ? sql`json_extract(${inboundEvents.payload}, '$.bloomreach') is ${sql.raw(direction === "to_antavo" ? "not null" : "null")}`
    : undefined;
  const [byStatus, pending] = await db.batch([
    db
      .select({ status: deliveries.status, n: count() })
      .from(deliveries)
      .where(direction ? eq(deliveries.direction, direction) : undefined)
      .groupBy(deliveries.status),
    // Accepted but not yet through the pipeline: an inbound event without a delivery row.
    db
      .select({ n: count() })
      .from(inboundEvents)
      .leftJoin(deliveries, eq(deliveries.id, inboundEvents.id))
      .where(and(isNull(deliveries.id), pendingOf)),
  ]);
  const counts = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as StatusCounts;
  for (const row of byStatus) if (row.status in counts) counts[row.status as DeliveryStatus] = row.n;
  counts.pending = pending[0]?.n ?? 0;
  return counts;
}

/** `paused` too: parked events are the first sign of a broken connection, so the chart shows them. */
export const CHART_STATUSES = ["delivered", "retrying", "dead", "paused"] as const;
export type ChartStatus = (typeof CHART_STATUSES)[number];
/** `toAntavo`: how many of the hour's deliveries went the other way (from Bloomreach to Antavo). */
export type HourBucket = { hour: number; toAntavo: number } & Record<ChartStatus, number>;

/** The last 24 hours (the current one included), one bucket per hour, by the hour a delivery started. */
export async function deliveriesPerHour(db: Database, now: number): Promise<HourBucket[]> {
  const firstHour = Math.floor(now / 3600) * 3600 - 23 * 3600;
  // Counted in D1 (the deliveries_created index covers the range), so a busy day is 72 rows, not millions.
  const hour = sql<number>`(${deliveries.createdAt} / 3600) * 3600`;
  const rows = await db
    .select({ hour, status: deliveries.status, direction: deliveries.direction, n: count() })
    .from(deliveries)
    .where(and(gte(deliveries.createdAt, firstHour), inArray(deliveries.status, [...CHART_STATUSES])))
    .groupBy(hour, deliveries.status, deliveries.direction);
  const buckets: HourBucket[] = Array.from({ length: 24 }, (_, i) => ({
    hour: firstHour + i * 3600,
    toAntavo: 0,
    delivered: 0,
    retrying: 0,
    dead: 0,
    paused: 0,
  }));
  for (const row of rows) {
    const bucket = buckets[(row.hour - firstHour) / 3600];
    if (!bucket) continue;
    bucket[row.status as ChartStatus] += row.n;
    if (row.direction === "to_antavo") bucket.toAntavo += row.n;
  }
  return buckets;
}

/** Statuses that need an admin: refused (dead) and sent without a readable answer. */
export const FAILED_STATUSES = ["dead", "outcome_unknown"] as const;

export interface RecentFailure {
  id: string;
  customerId: string;
  action: string;
  status: (typeof FAILED_STATUSES)[number];
  direction: string;
  lastError: string | null;
  createdAt: number;
}

/**
 * The latest failed deliveries, newest first. Each status is read on its own through the
 * `deliveries_status` (status, created_at) index, so a day with a million dead rows still reads
 * `limit` rows per status instead of sorting them all.
 */
function failedOf(db: Database, status: string, limit: number) {
  return db
    .select({
      id: deliveries.id,
      customerId: deliveries.customerId,
      action: deliveries.action,
      status: deliveries.status,
      direction: deliveries.direction,
      lastError: deliveries.lastError,
      createdAt: deliveries.createdAt,
    })
    .from(deliveries)
    .where(eq(deliveries.status, status))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(limit);
}

export async function recentFailures(db: Database, limit = 10): Promise<RecentFailure[]> {
  const [dead, unknown] = await db.batch([failedOf(db, "dead", limit), failedOf(db, "outcome_unknown", limit)]);
  return ([...dead, ...unknown] as RecentFailure[])
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
    .slice(0, limit);
}
