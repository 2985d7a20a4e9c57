/**
 * Input limits for the admin JSON API (invariant 8): at most MAX_ADMIN_BODY_BYTES (413
 * `payload_too_large`), and a JSON body is parsed once here and held to the input limits (depth,
 * prototype keys, well-formed strings) before any route, zod or the workflow engine reads it.
 *
 * Hono caches the body text, not the parsed value: zValidator's `c.req.json()` parses the cached
 * text again, which yields the same value that was checked here. The customer import is streamed and
 * has its own, larger limit (MAX_IMPORT_BYTES, enforced as it reads), so it is left alone here.
 */
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { RelayError } from "../../lib/errors";
import { inputIssues } from "../../lib/input-limits";
import type { AppEnv } from "./deps";

export const MAX_ADMIN_BODY_BYTES = 1024 * 1024;
const STREAMED_PATHS = new Set(["/api/customers/import"]);
// The media types Hono's validator reads as JSON.
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

const limit = bodyLimit({
  maxSize: MAX_ADMIN_BODY_BYTES,
  onError: () => {
    throw new RelayError("payload_too_large", `the body is larger than ${MAX_ADMIN_BODY_BYTES} bytes`);
  },
});

export const adminBody = createMiddleware<AppEnv>(async (c, next) => {
  if (STREAMED_PATHS.has(c.req.path) || !c.req.raw.body) return next();
  return limit(c, async () => {
    const media = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
    if (JSON_TYPE.test(media)) {
      const text = await c.req.text();
      if (text.trim() !== "") parseAdminJson(text);
    }
    await next();
  });
});

/** A JSON body held to the input limits; for a route that reads its body whatever its content type. */
export function parseAdminJson(text: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new RelayError("invalid_body", `the body is not valid JSON: ${(error as Error).message}`, [
      { path: "$", message: "malformed JSON" },
    ]);
  }
  const issues = inputIssues(body);
  if (issues.length > 0) throw new RelayError("validation_failed", "the body exceeds the input limits", issues);
  return body;
}
