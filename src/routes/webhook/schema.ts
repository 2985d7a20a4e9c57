/**
 * The webhook body contract (DESIGN 4.1), guarded with zod. One event or `{"events": [...]}` of up
 * to 100. Antavo's bodies are written by workflow authors, so the shapes vary: the customer id may
 * be `customer` (a string), `customer.id`, `customer._id` or a top-level `customer_id`, and the
 * event time `created_at` or `timestamp` (Antavo's event documents). Form-encoded bodies carry every
 * value as a string, so numbers accept numeric strings.
 */
import { z } from "zod";
import { parseEventTime } from "../../domain/workflow/calendar";

export const MAX_EVENTS_PER_REQUEST = 100;

export const idValue = z.union([z.string().trim().min(1).max(256), z.number().finite()]).transform(String);

/** Unix seconds or milliseconds (number or numeric string), or an ISO-8601 date-time. */
export const eventTime = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const seconds = parseEventTime(value);
  if (seconds === undefined) {
    ctx.addIssue({ code: "custom", message: "must be Unix seconds, milliseconds or an ISO-8601 date-time" });
    return z.NEVER;
  }
  return seconds;
});

const customerObject = z.looseObject({ id: idValue.optional(), _id: idValue.optional() });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The customer id, from the first of the places Antavo bodies put it. */
function customerIdOf(event: { customer?: unknown; customer_id?: unknown }): string | undefined {
  const { customer, customer_id } = event;
  if (typeof customer === "string" || typeof customer === "number") return String(customer).trim() || undefined;
  const object = isRecord(customer) ? customer : {};
  const id = [object.id, object._id, customer_id].find((v) => typeof v === "string" || typeof v === "number");
  return id === undefined ? undefined : String(id).trim() || undefined;
}

const CUSTOMER_ID_MISSING =
  "needs a customer id: `customer` (a string), `customer.id`, `customer._id` or `customer_id`";

export const WebhookEventSchema = z
  .object({
    id: idValue.optional(),
    action: z.string().trim().min(1).max(200),
    customer: z.union([idValue, customerObject], { error: "must be a customer id or an object" }).optional(),
    customer_id: idValue.optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    created_at: eventTime.optional(),
    timestamp: eventTime.optional(),
    account: idValue.optional(),
    external_id: idValue.optional(),
  })
  // Checked even when other fields failed, so that one answer lists every problem.
  .refine((event) => customerIdOf(event) !== undefined, {
    path: ["customer"],
    message: CUSTOMER_ID_MISSING,
    when: (payload) => isRecord(payload.value) && customerIdOf(payload.value) === undefined,
  })
  .transform((event) => {
    const object = typeof event.customer === "object" ? event.customer : undefined;
    const customerId = customerIdOf(event)!;
    return {
      ...(event.id !== undefined ? { id: event.id } : {}),
      action: event.action,
      customerId,
      ...(object ? { customer: object } : {}),
      data: event.data ?? {},
      ...(event.created_at !== undefined || event.timestamp !== undefined
        ? { createdAt: (event.created_at ?? event.timestamp) as number }
        : {}),
      ...(event.account !== undefined ? { account: event.account } : {}),
      ...(event.external_id !== undefined ? { externalId: event.external_id } : {}),
    };
  });
/** One webhook event after validation: the input of normaliseEvent. */
export type WebhookEvent = z.output<typeof WebhookEventSchema>;

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
