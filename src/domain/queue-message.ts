/**
 * The messages on the events queue, checked with valibot on the consumer's hot path. A message
 * carries the whole normalised event so the consumer never reads it back from D1. The same queue
 * carries the pages of date-workflow scans (`date_scan`), so a scan of a million customers is many
 * small consumer runs instead of one that hits a time or query limit. `EventMessage` is the event
 * message most producers send; `QueueMessage` is everything on the queue.
 */
import * as v from "valibot";
import { RelayEventSchema } from "./event";

export const EventMessageSchema = v.object({
  type: v.literal("event"),
  event: RelayEventSchema,
  /** An admin replay of a dead delivery: the CustomerSync object plans it again. */
  replay: v.optional(v.boolean()),
});

export type EventMessage = v.InferOutput<typeof EventMessageSchema>;

/** Most customers one scan page reads; the default (services/date-runs) is lower. */
export const MAX_SCAN_PAGE = 1000;

/** One page of a date workflow's scan of the customer mirror, for one occurrence. */
export const DateScanMessageSchema = v.object({
  type: v.literal("date_scan"),
  workflowId: v.pipe(v.string(), v.minLength(1)),
  /** The occurrence (UTC date, YYYY-MM-DD): with the workflow and customer, the run's idempotency key. */
  occurrence: v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/)),
  /** The cron tick (Unix seconds) that started the scan: every page evaluates filters at this instant. */
  at: v.number(),
  /** Chosen when the scan starts and kept by every page. */
  pageSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_SCAN_PAGE))),
  /** Keyset position: the last customer read, and its birth month-day when the scan uses that index. */
  cursor: v.optional(v.object({ id: v.string(), monthDay: v.optional(v.string()) })),
});
export type DateScanMessage = v.InferOutput<typeof DateScanMessageSchema>;

/**
 * One page of a backfill job (DESIGN 4.5): the customers after `cursor` (the job's cursor when the
 * page was queued; none for the first page). Its customers are delivered by the page itself, so the
 * queue holds one page of a job at a time and live events are never behind a backlog of it.
 */
export const BackfillPageMessageSchema = v.object({
  type: v.literal("backfill_page"),
  jobId: v.pipe(v.string(), v.minLength(1)),
  cursor: v.optional(v.string()),
});
export type BackfillPageMessage = v.InferOutput<typeof BackfillPageMessageSchema>;

export const QueueMessageSchema = v.variant("type", [
  EventMessageSchema,
  DateScanMessageSchema,
  BackfillPageMessageSchema,
]);
export type QueueMessage = v.InferOutput<typeof QueueMessageSchema>;

export const eventMessage = (event: v.InferOutput<typeof RelayEventSchema>, replay = false): EventMessage =>
  replay ? { type: "event", event, replay } : { type: "event", event };
