/**
 * Erasure in D1 (DESIGN 4.6): the customer's mirror row, inbound events and outbox settlements go; its delivery-log rows
 * stay with their statuses and counts, but every command, warning, error and attempt body in them is
 * replaced by a marker. One batch, so the erasure is all or nothing.
 */
import { and, eq, inArray, or, sql } from "drizzle-orm";
import type { Database } from "./client";
import { customers, deliveries, deliveryAttempts, inboundEvents, objectSettlements } from "./schema";

export const ERASED_MARKER = "[erased]";

/**
 * `hardIdValue` also matches the rows of the other direction (Bloomreach → Antavo) that still carry
 * the hard ID Bloomreach named the customer by: its received events, and the log rows of events that
 * were not (yet) matched to the customer.
 */
export async function eraseCustomerRows(
  db: Database,
  customerId: string,
  hardIdValue?: string,
): Promise<{ mirror: number; events: number; deliveries: number }> {
  const eventKeys = hardIdValue ? [customerId, hardIdValue] : [customerId];
  const logged = hardIdValue
    ? or(
        eq(deliveries.customerId, customerId),
        and(eq(deliveries.customerId, hardIdValue), eq(deliveries.direction, "to_antavo")),
      )
    : eq(deliveries.customerId, customerId);
  const ofCustomer = db.select({ id: deliveries.id }).from(deliveries).where(logged);
  const [mirror, events, , marked] = await db.batch([
    db.delete(customers).where(eq(customers.id, customerId)).returning({ id: customers.id }),
    db.delete(inboundEvents).where(inArray(inboundEvents.customerId, eventKeys)).returning({ id: inboundEvents.id }),
    db
      .update(deliveryAttempts)
      .set({
        request: sql`case when ${deliveryAttempts.request} is null then null else ${ERASED_MARKER} end`,
        response: sql`case when ${deliveryAttempts.response} is null then null else ${ERASED_MARKER} end`,
        error: sql`case when ${deliveryAttempts.error} is null then null else ${ERASED_MARKER} end`,
      })
      .where(inArray(deliveryAttempts.deliveryId, ofCustomer)),
    db
      .update(deliveries)
      .set({
        // Each command keeps its id and source (what produced it), so the log still counts them.
        commands: sql`(select json_group_array(json_object('id', value ->> '$.id', 'source', value -> '$.source', 'command', ${ERASED_MARKER})) from json_each(${deliveries.commands}))`,
        lastError: sql`case when ${deliveries.lastError} is null then null else ${ERASED_MARKER} end`,
        warnings: sql`case when ${deliveries.warnings} is null then null else json_array(${ERASED_MARKER}) end`,
      })
      .where(logged)
      .returning({ id: deliveries.id }),
    // Outcomes still on their way to the (now emptied) object carry Bloomreach's error texts.
    db.delete(objectSettlements).where(eq(objectSettlements.customerId, customerId)),
  ]);
  return { mirror: mirror.length, events: events.length, deliveries: marked.length };
}
