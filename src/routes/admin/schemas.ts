/**
 * zod schemas of the admin API bodies and queries that are not domain documents. The admin pages
 * parse their forms and searches with these same schemas (routes/ui/forms.ts `parseWith`), so a bad
 * value reads the same in a page as in the API.
 */
import { z } from "zod";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../../db/delivery-queries";
import { DIRECTIONS, type Direction } from "../../domain/event";
import { parseUnixTime } from "../../domain/workflow/calendar";
import { REPLAYABLE_STATUSES } from "../../services/deliveries";

export { AntavoConnectionSchema, BloomreachConnectionSchema } from "../../domain/config";

import { WebhookEventSchema } from "../webhook/schema";

export const PreviewSchema = z.object({
  event: WebhookEventSchema,
  /** Optional customer snapshot to plan against instead of the mirrored one. */
  customer: z.record(z.string(), z.unknown()).optional(),
  /** Include this workflow even while inactive; a date workflow is planned as today's run. */
  workflowId: z.string().trim().min(1).optional(),
});

/**
 * A window bound: Unix seconds or milliseconds (a number in the replay body, numeric text in a query
 * string) or an ISO-8601 date-time, read like an event time (domain/workflow/calendar) so a bound
 * copied from an event or a log line means the same instant; 0 means "from the beginning".
 */
export const instant = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const seconds = parseUnixTime(value);
  if (seconds === undefined) {
    ctx.addIssue({ code: "custom", message: "must be Unix seconds, milliseconds or an ISO-8601 date-time" });
    return z.NEVER;
  }
  return seconds;
});

/** A window whose end comes before its start selects nothing: a typo, said so instead of an empty answer. */
function windowInOrder(window: { since?: number; until?: number }, ctx: z.RefinementCtx) {
  if (window.since !== undefined && window.until !== undefined && window.until < window.since)
    ctx.addIssue({ code: "custom", path: ["until"], message: "must not be before the start" });
}

const direction = z.enum(DIRECTIONS as [Direction, ...Direction[]]);

/** An exact-match search term; blank means "any", as in the UI's search form. */
const term = z
  .string()
  .trim()
  .max(200)
  .optional()
  .transform((value) => (value === "" ? undefined : value));

/** `GET /api/deliveries` and the Deliveries page's search. */
export const ListQuerySchema = z
  .object({
    status: z.enum(DELIVERY_STATUSES as [DeliveryStatus, ...DeliveryStatus[]]).optional(),
    direction: direction.optional(),
    /** Exact matches, each on an indexed column except `remoteEvent` (read from the commands). */
    eventId: term,
    customer: z.string().trim().min(1).max(200).optional(),
    action: term,
    remoteEvent: term,
    since: instant.optional(),
    until: instant.optional(),
    cursor: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .superRefine(windowInOrder);

/** `POST /api/deliveries/replay` and the Deliveries page's window replay. */
export const ReplaySchema = z
  .object({
    status: z
      .enum(REPLAYABLE_STATUSES, { error: "only dead or outcome_unknown deliveries can be replayed" })
      .default("dead"),
    direction: direction.optional(),
    since: instant.optional(),
    until: instant.optional(),
  })
  .superRefine(windowInOrder);
