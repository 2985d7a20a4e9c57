/**
 * The messages on the events queue, checked with valibot on the consumer's hot path. A message
 * carries the whole normalised event so the consumer never reads it back from D1.
 */
import * as v from "valibot";
import { RelayEventSchema } from "../domain/event";

export const EventMessageSchema = v.object({
  type: v.literal("event"),
  event: RelayEventSchema,
  /** An admin replay of a dead delivery: the CustomerSync object plans it again. */
  replay: v.optional(v.boolean()),
});

export const QueueMessageSchema = v.variant("type", [EventMessageSchema]);
export type QueueMessage = v.InferOutput<typeof QueueMessageSchema>;

export const eventMessage = (event: v.InferOutput<typeof RelayEventSchema>, replay = false): QueueMessage =>
  replay ? { type: "event", event, replay } : { type: "event", event };
