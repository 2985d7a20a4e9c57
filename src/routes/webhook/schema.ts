/**
 * The webhook body contract (DESIGN 4.1), guarded with zod. One event or `{"events": [...]}` of up
 * to 100. Form-encoded bodies carry every value as a string, so numbers accept numeric strings.
 */
import { z } from "zod";

export const MAX_EVENTS_PER_REQUEST = 100;

const idValue = z.union([z.string().trim().min(1).max(256), z.number().finite()]).transform(String);

/** Unix seconds (number or numeric string) or an ISO-8601 date-time. */
const timestamp = z
  .union([z.number().finite().positive(), z.string().trim().min(1)])
  .transform((value: number | string, ctx) => {
    const numeric = typeof value === "number" ? value : /^\d+(\.\d+)?$/.test(value) ? Number(value) : undefined;
    // Milliseconds would be read by Bloomreach as seconds far in the future (invariant 6).
    if (numeric !== undefined) return Math.floor(numeric > 1e11 ? numeric / 1000 : numeric);
    const text = String(value);
    const parsed = Date.parse(text);
    if (Number.isNaN(parsed) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
      ctx.addIssue({ code: "custom", message: "must be Unix seconds or an ISO-8601 date-time" });
      return z.NEVER;
    }
    return Math.floor(parsed / 1000);
  });

const customerObject = z.looseObject({ id: idValue });

export const WebhookEventSchema = z.object({
  id: idValue.optional(),
  action: z.string().trim().min(1).max(200),
  customer: z.union([idValue, customerObject], { error: "must be a customer id or an object with an id" }),
  data: z.record(z.string(), z.unknown()).optional(),
  created_at: timestamp.optional(),
});
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

export const WebhookBatchSchema = z.object({
  events: z
    .array(WebhookEventSchema)
    .min(1)
    .max(MAX_EVENTS_PER_REQUEST, `at most ${MAX_EVENTS_PER_REQUEST} events per request`),
});

// Built once: zod compiles a schema on first use, so a schema made per request is never fast.
const batchOfEvents = WebhookBatchSchema.transform((b) => b.events);
const singleEvent = WebhookEventSchema.transform((e) => [e]);

/** Both shapes, told apart by the `events` key so that errors point at the right paths. */
export function webhookEventsSchema(body: unknown) {
  const isBatch = typeof body === "object" && body !== null && !Array.isArray(body) && "events" in body;
  return isBatch ? batchOfEvents : singleEvent;
}
