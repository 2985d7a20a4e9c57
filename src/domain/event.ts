/**
 * The one internal event type every transport hands on: an Antavo event after validation and
 * normalisation. Timestamps are Unix seconds (DESIGN invariant 6). The valibot schema guards the
 * queue message and Durable Object boundaries on the hot path.
 */
import * as v from "valibot";

export const JsonObjectSchema = v.record(v.string(), v.unknown());
export type JsonObject = v.InferOutput<typeof JsonObjectSchema>;

export const RelayEventSchema = v.object({
  /** Antavo's event id, or one the relay made for this acceptance (`evt-…`) when the body had none. */
  id: v.pipe(v.string(), v.minLength(1)),
  action: v.pipe(v.string(), v.minLength(1)),
  customerId: v.pipe(v.string(), v.minLength(1)),
  /** Loyalty fields sent with the event (when `customer` was an object), else absent. */
  customer: v.optional(JsonObjectSchema),
  data: JsonObjectSchema,
  /** When the event happened (Unix seconds). Orders one customer's updates. */
  createdAt: v.number(),
  /** When the relay accepted it (Unix seconds). */
  receivedAt: v.number(),
  /** Antavo's account and external id, when the body carried them: they travel as event properties. */
  account: v.optional(v.string()),
  externalId: v.optional(v.string()),
  /**
   * Set on an event that came from Bloomreach's webhook (DESIGN 4.4), bound for Antavo: `action` is
   * its `event_type`, `data` its `properties`, `customerId` its hard-ID value (the Antavo customer
   * is found in the mirror at delivery), and `customerIds` its `customer_ids` as sent.
   */
  bloomreach: v.optional(v.object({ customerIds: v.record(v.string(), v.string()) })),
  /** Set on the synthetic events a cron run creates for one date workflow and one customer. */
  dateRun: v.optional(v.object({ workflowId: v.string(), occurrence: v.string() })),
  /**
   * Set on the synthetic events of a backfill job (DESIGN 4.5): the customer's mapped fields from the
   * mirror, planned as a mapping update only (no event, no workflow, no enrichment).
   */
  backfill: v.optional(v.object({ jobId: v.string() })),
});
export type RelayEvent = v.InferOutput<typeof RelayEventSchema>;

export type Direction = "to_bloomreach" | "to_antavo";
export const DIRECTIONS: readonly Direction[] = ["to_bloomreach", "to_antavo"];
export const directionOf = (event: RelayEvent): Direction => (event.bloomreach ? "to_antavo" : "to_bloomreach");
