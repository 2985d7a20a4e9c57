/**
 * Reading the delivery log as admins see it: pages of deliveries (or of pending events, which have
 * no delivery row yet) in keyset order, one delivery with its attempts and inbound event, and the
 * retention prune. Paging is by (time, id), newest first; the cursor's encoding belongs to the
 * service, these take it decoded.
 */
import { and, desc, eq, gte, inArray, isNull, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { Direction } from "../domain/event";
import type { Database } from "./client";
import type { DeliveryStatus } from "./delivery-queries";
import { deliveries, deliveryAttempts, inboundEvents } from "./schema";

export type DeliveryRow = typeof deliveries.$inferSelect;

export interface DeliveryLogFilter {
  status?: Exclude<DeliveryStatus, "pending">;
  /** The event (= delivery) id, exactly: the unique index finds it among any number of rows. */
  eventId?: string;
  customer?: string;
  /** The Antavo action (or the Bloomreach event type of a `to_antavo` delivery), exactly. */
  action?: string;
  /** A Bloomreach event name one of the delivery's commands sends (`event_type`), exactly. */
  remoteEvent?: string;
  since?: number;
  until?: number;
  direction?: Direction;
}

/**
 * The commands column holds `[{id, source, command: {name, data}}]`. No index can serve this one:
 * it reads the JSON of the rows the other conditions (and the time order) leave, until a page is full.
 */
const sendsRemoteEvent = (name: string) =>
  sql`exists (select 1 from json_each(${deliveries.commands}) c where json_extract(c.value, '$.command.name') = 'customers/events' and json_extract(c.value, '$.command.data.event_type') = ${name})`;

/** The last row of the previous page: the next page starts strictly after it. */
export interface PageCursor {
  at: number;
  id: string;
}

/** Up to `limit` deliveries, newest first, after the cursor. */
export function selectDeliveriesPage(
  db: Database,
  filter: DeliveryLogFilter,
  cursor: PageCursor | undefined,
  limit: number,
): Promise<DeliveryRow[]> {
  const conditions: (SQL | undefined)[] = [
    filter.status ? eq(deliveries.status, filter.status) : undefined,
    filter.eventId ? eq(deliveries.eventId, filter.eventId) : undefined,
    filter.customer ? eq(deliveries.customerId, filter.customer) : undefined,
    filter.action ? eq(deliveries.action, filter.action) : undefined,
    filter.remoteEvent ? sendsRemoteEvent(filter.remoteEvent) : undefined,
    filter.direction ? eq(deliveries.direction, filter.direction) : undefined,
    filter.since !== undefined ? gte(deliveries.createdAt, filter.since) : undefined,
    filter.until !== undefined ? lte(deliveries.createdAt, filter.until) : undefined,
    cursor
      ? or(lt(deliveries.createdAt, cursor.at), and(eq(deliveries.createdAt, cursor.at), lt(deliveries.id, cursor.id)))
      : undefined,
  ];
  return db
    .select()
    .from(deliveries)
    .where(and(...conditions))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(limit);
}

/**
 * Up to `limit` accepted events without a delivery row (pending), newest first, after the cursor.
 * A pending event has no commands yet, so a Bloomreach event filter is the caller's to answer.
 */
export function selectPendingPage(
  db: Database,
  filter: Omit<DeliveryLogFilter, "status" | "remoteEvent">,
  cursor: PageCursor | undefined,
  limit: number,
) {
  const conditions: (SQL | undefined)[] = [
    isNull(deliveries.id),
    filter.eventId ? eq(inboundEvents.id, filter.eventId) : undefined,
    filter.customer ? eq(inboundEvents.customerId, filter.customer) : undefined,
    filter.action ? eq(inboundEvents.action, filter.action) : undefined,
    // A pending event has no delivery row yet: its direction is in its stored payload.
    filter.direction
      ? filter.direction === "to_antavo"
        ? sql`json_extract(${inboundEvents.payload}, '$.bloomreach') is not null`
        : sql`json_extract(${inboundEvents.payload}, '$.bloomreach') is null`
      : undefined,
    filter.since !== undefined ? gte(inboundEvents.receivedAt, filter.since) : undefined,
    filter.until !== undefined ? lte(inboundEvents.receivedAt, filter.until) : undefined,
    cursor
      ? or(
          lt(inboundEvents.receivedAt, cursor.at),
          and(eq(inboundEvents.receivedAt, cursor.at), lt(inboundEvents.id, cursor.id)),
        )
      : undefined,
  ];
  return db
    .select({
      id: inboundEvents.id,
      action: inboundEvents.action,
      customerId: inboundEvents.customerId,
      receivedAt: inboundEvents.receivedAt,
      direction: sql<Direction>`case when json_extract(${inboundEvents.payload}, '$.bloomreach') is null then 'to_bloomreach' else 'to_antavo' end`,
    })
    .from(inboundEvents)
    .leftJoin(deliveries, eq(deliveries.id, inboundEvents.id))
    .where(and(...conditions))
    .orderBy(desc(inboundEvents.receivedAt), desc(inboundEvents.id))
    .limit(limit);
}

/** One delivery's row, attempts (in order) and inbound event, each possibly absent; one round trip. */
export async function selectDeliveryRecord(db: Database, id: string) {
  const [rows, attempts, inbound] = await db.batch([
    db.select().from(deliveries).where(eq(deliveries.id, id)),
    db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, id)).orderBy(deliveryAttempts.id),
    db.select().from(inboundEvents).where(eq(inboundEvents.id, id)),
  ]);
  return { delivery: rows[0], attempts, inbound: inbound[0] };
}

/**
 * Removes attempts, finished deliveries and inbound events older than `olderThan`; an inbound event
 * whose delivery row is still kept stays, so a replay can read it back.
 */
export async function pruneDeliveryLog(db: Database, olderThan: number): Promise<void> {
  await db.batch([
    db.delete(deliveryAttempts).where(lt(deliveryAttempts.startedAt, olderThan)),
    db
      .delete(deliveries)
      .where(and(lt(deliveries.updatedAt, olderThan), inArray(deliveries.status, ["delivered", "dead"]))),
    db
      .delete(inboundEvents)
      .where(
        and(
          lt(inboundEvents.receivedAt, olderThan),
          sql`not exists (select 1 from deliveries d where d.id = ${inboundEvents.id})`,
        ),
      ),
  ]);
}
