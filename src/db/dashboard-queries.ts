/**
 * Read-only aggregates only the dashboard needs (the delivery service has no use for them): status
 * counts and deliveries per hour. Nothing here writes.
 */
import { and, count, eq, gte, inArray, isNull, sql } from "drizzle-orm";
import type { Database } from "./client";
import { DELIVERY_STATUSES, type DeliveryStatus } from "./delivery-queries";
import { deliveries, inboundEvents } from "./schema";

export type StatusCounts = Record<DeliveryStatus, number>;

export async function deliveryStatusCounts(db: Database): Promise<StatusCounts> {
  const [byStatus, pending] = await db.batch([
    db.select({ status: deliveries.status, n: count() }).from(deliveries).groupBy(deliveries.status),
    // Accepted but not yet through the pipeline: an inbound event without a delivery row.
    db
      .select({ n: count() })
      .from(inboundEvents)
      .leftJoin(deliveries, eq(deliveries.id, inboundEvents.id))
      .where(isNull(deliveries.id)),
  ]);
  const counts = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as StatusCounts;
  for (const row of byStatus) if (row.status in counts) counts[row.status as DeliveryStatus] = row.n;
  counts.pending = pending[0]?.n ?? 0;
  return counts;
}

export const CHART_STATUSES = ["delivered", "retrying", "dead"] as const;
export type ChartStatus = (typeof CHART_STATUSES)[number];
export type HourBucket = { hour: number } & Record<ChartStatus, number>;

/** The last 24 hours (the current one included), one bucket per hour, by the hour a delivery started. */
export async function deliveriesPerHour(db: Database, now: number): Promise<HourBucket[]> {
  const firstHour = Math.floor(now / 3600) * 3600 - 23 * 3600;
  // Counted in D1 (the deliveries_created index covers the range), so a busy day is 72 rows, not millions.
  const hour = sql<number>`(${deliveries.createdAt} / 3600) * 3600`;
  const rows = await db
    .select({ hour, status: deliveries.status, n: count() })
    .from(deliveries)
    .where(and(gte(deliveries.createdAt, firstHour), inArray(deliveries.status, [...CHART_STATUSES])))
    .groupBy(hour, deliveries.status);
  const buckets: HourBucket[] = Array.from({ length: 24 }, (_, i) => ({
    hour: firstHour + i * 3600,
    delivered: 0,
    retrying: 0,
    dead: 0,
  }));
  for (const row of rows) {
    const bucket = buckets[(row.hour - firstHour) / 3600];
    if (bucket) bucket[row.status as ChartStatus] += row.n;
  }
  return buckets;
}
