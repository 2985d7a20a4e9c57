/**
 * `POST /webhooks/antavo` (DESIGN 4.1): authenticate, read, validate, normalise, then hand off.
 * Async mode answers 202 once the queue holds the events; sync mode delivers first and answers 200.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { normaliseEvent } from "../../domain/normalise";
import { RelayError } from "../../lib/errors";
import { getSettingsCached } from "../../services/config";
import { ingestAsync, ingestSync } from "../../services/ingest";
import type { AppEnv } from "../middleware/deps";
import { webhookAuth } from "../middleware/webhook-auth";
import { answer, createRoute, errorResponses, mount, z } from "../openapi";
import { zodIssues } from "../validation";
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
