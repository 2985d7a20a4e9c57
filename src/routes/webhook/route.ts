/**
 * `POST /webhooks/antavo` (DESIGN 4.1): authenticate, read, validate, normalise, then hand off.
 * Async mode answers 202 once the queue holds the events; sync mode delivers first and answers 200.
 * `POST /webhooks/bloomreach` (DESIGN 4.4): the other way, with the same limits, envelope, dedupe
 * and durable hand-off; always async (202), and 422 `no_rule` before anything is stored.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { normaliseEvent } from "../../domain/normalise";
import { RelayError } from "../../lib/errors";
import type { PathSegment } from "../../lib/input-limits";
import { getSettingsCached } from "../../services/config";
import { normaliseBloomreachEvents } from "../../services/inbound";
import { ingestAsync, ingestSync } from "../../services/ingest";
import type { AppEnv } from "../middleware/deps";
import { bloomreachWebhookAuth, webhookAuth } from "../middleware/webhook-auth";
import { answer, createRoute, errorResponses, mount, z } from "../openapi";
import { zodIssues } from "../validation";
import { BloomreachBatchSchema, BloomreachEventSchema, bloomreachEventsSchema } from "./bloomreach-schema";
import { parseWebhookBody } from "./body";
import { WebhookBatchSchema, WebhookEventSchema, webhookEventsSchema } from "./schema";

export const MAX_WEBHOOK_BYTES = 1024 * 1024;

const limitBody = bodyLimit({
  maxSize: MAX_WEBHOOK_BYTES,
  onError: () => {
    throw new RelayError("payload_too_large", `the body is larger than ${MAX_WEBHOOK_BYTES} bytes`);
  },
});

const route = createRoute({
  method: "post",
  path: "/antavo",
  summary: "Antavo event(s) in",
  security: [{ webhookBasic: [] }, { webhookJwt: [] }],
  middleware: [webhookAuth, limitBody] as const,
  request: {
    body: {
      content: {
        "application/json": {
          schema: z.union([WebhookEventSchema.openapi("WebhookEvent"), WebhookBatchSchema.openapi("WebhookBatch")]),
        },
        "application/x-www-form-urlencoded": {
          schema: { type: "object", description: "the same fields with bracket keys, e.g. data[total]=12" },
        },
      },
    },
  },
  responses: {
    200: answer("sync mode: delivered now; `results` per event"),
    202: answer("async mode (or sync fallback): durably queued; `{accepted, duplicates, ids}`"),
    ...errorResponses(400, 401, 413, 415, 503),
  },
});

export const webhookRoutes = new OpenAPIHono<AppEnv>();

// The body is read here, not by mount: JSON or a bracket form, held to the input limits first.
mount(
  webhookRoutes,
  route,
  async (c) => {
    const deps = c.get("deps");
    const text = new TextDecoder().decode(await c.req.arrayBuffer());
    const body = parseWebhookBody(c.req.header("content-type"), text);
    const parsed = webhookEventsSchema(body).safeParse(body);
    if (!parsed.success)
      throw new RelayError("validation_failed", "the webhook body is not valid", zodIssues(parsed.error));
    const receivedAt = deps.now();
    const settings = await getSettingsCached(deps);
    const events = await Promise.all(
      parsed.data.map((event) => normaliseEvent(event, receivedAt, settings.dedupeWindowSeconds)),
    );

    if (settings.asyncSync) {
      const result = await ingestAsync(deps, events);
      return c.json({ accepted: result.accepted.length, duplicates: result.duplicates.length, ids: result.ids }, 202);
    }
    const result = await ingestSync(deps, events);
    if (result.queued.length === 0) return c.json({ results: result.results }, 200);
    return c.json(
      {
        accepted: result.accepted.length,
        duplicates: result.duplicates.length,
        ids: result.ids,
        results: result.results,
      },
      202,
    );
  },
  { jsonBody: false },
);

/** Property names of an event's `properties` and `customer_ids` must be ASCII, as Antavo's `data` keys are. */
function bloomreachAsciiKeys(path: readonly PathSegment[]): boolean {
  const event = path.length === 3 && path[0] === "events" && typeof path[1] === "number" ? path.slice(2) : path;
  return event.length === 1 && (event[0] === "properties" || event[0] === "customer_ids");
}

const bloomreachRoute = createRoute({
  method: "post",
  path: "/bloomreach",
  summary: "Bloomreach event(s) in, for Antavo (a scenario's Webhook node)",
  security: [{ bloomreachWebhook: [] }],
  middleware: [bloomreachWebhookAuth, limitBody] as const,
  request: {
    body: {
      content: {
        "application/json": {
          schema: z.union([
            BloomreachEventSchema.openapi("BloomreachEvent"),
            BloomreachBatchSchema.openapi("BloomreachBatch"),
          ]),
        },
      },
    },
  },
  responses: {
    202: answer("durably queued; `{accepted, duplicates, ids}`"),
    ...errorResponses(400, 401, 413, 415, 422, 503),
  },
});

mount(
  webhookRoutes,
  bloomreachRoute,
  async (c) => {
    const deps = c.get("deps");
    const text = new TextDecoder().decode(await c.req.arrayBuffer());
    const body = parseWebhookBody(c.req.header("content-type"), text, bloomreachAsciiKeys);
    const parsed = bloomreachEventsSchema(body).safeParse(body);
    if (!parsed.success)
      throw new RelayError("validation_failed", "the webhook body is not valid", zodIssues(parsed.error));
    const events = await normaliseBloomreachEvents(deps, parsed.data);
    const result = await ingestAsync(deps, events);
    return c.json({ accepted: result.accepted.length, duplicates: result.duplicates.length, ids: result.ids }, 202);
  },
  { jsonBody: false },
);
