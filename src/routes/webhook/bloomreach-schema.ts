/**
 * The Bloomreach webhook body (DESIGN 4.4), guarded with zod: Bloomreach's own event command
 * fields, one event or `{"events": [...]}` of up to 100. A scenario's Webhook node writes the body
 * with personalisation, so ids may come as numbers and the time as seconds, milliseconds or ISO-8601.
 */
import { z } from "zod";
import { eventTime, idValue, MAX_EVENTS_PER_REQUEST } from "./schema";

export const BloomreachEventSchema = z.object({
  id: idValue.optional(),
  event_type: z.string().trim().min(1).max(200),
  customer_ids: z
    .record(z.string(), z.union([z.string(), z.number().finite()]).transform(String))
    .refine((ids) => Object.keys(ids).length > 0, 'needs at least one id, e.g. {"registered": "a@b.com"}'),
  properties: z.record(z.string(), z.unknown()).optional(),
  timestamp: eventTime.optional(),
});
export type BloomreachEvent = z.output<typeof BloomreachEventSchema>;

export const BloomreachBatchSchema = z.object({
  events: z
    .array(BloomreachEventSchema)
    .min(1)
    .max(MAX_EVENTS_PER_REQUEST, `at most ${MAX_EVENTS_PER_REQUEST} events per request`),
});

const batchOfEvents = BloomreachBatchSchema.transform((b) => b.events);
const singleEvent = BloomreachEventSchema.transform((e) => [e]);

/** Both shapes, told apart by the `events` key so that errors point at the right paths. */
export function bloomreachEventsSchema(body: unknown) {
  const isBatch = typeof body === "object" && body !== null && !Array.isArray(body) && "events" in body;
  return isBatch ? batchOfEvents : singleEvent;
}
