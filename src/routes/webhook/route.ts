/**
 * `POST /webhooks/antavo` (DESIGN 4.1): authenticate, read, validate, normalise, then hand off.
 * Async mode answers 202 once the queue holds the events; sync mode delivers first and answers 200.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { normaliseEvent } from "../../domain/normalise";
import { RelayError } from "../../lib/errors";
import { getSettingsCached } from "../../services/config";
import { ingestAsync, ingestSync } from "../../services/ingest";
import type { AppEnv } from "../middleware/deps";
import { webhookAuth } from "../middleware/webhook-auth";
import { zodIssues } from "../validation";
import { parseWebhookBody } from "./body";
import { webhookEventsSchema } from "./schema";

export const MAX_WEBHOOK_BYTES = 1024 * 1024;

export const webhookRoutes = new Hono<AppEnv>().post(
  "/antavo",
  webhookAuth,
  bodyLimit({
    maxSize: MAX_WEBHOOK_BYTES,
    onError: () => {
      throw new RelayError("payload_too_large", `the body is larger than ${MAX_WEBHOOK_BYTES} bytes`);
    },
  }),
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
);
