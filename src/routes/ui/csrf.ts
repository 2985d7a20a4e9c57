/**
 * Cross-site request forgery defences for every admin UI POST, in two independent layers:
 * the browser's Origin (or Sec-Fetch-Site) must be this origin, and the form must carry the
 * session's CSRF token. The first stops forged posts from modern browsers outright; the second
 * holds where a proxy or old client drops those headers.
 */
import { timingSafeEqualText } from "../../lib/secrets";
import { CSRF_FIELD } from "../../ui/form";
import type { UiContext } from "./context";

/**
 * False when the request says it came from another site; absent headers are left to the token.
 * `Origin: null` (sent under a no-referrer policy, or from a sandboxed frame) proves nothing either
 * way, so Sec-Fetch-Site decides then.
 */
export function isSameOrigin(c: UiContext): boolean {
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== "null") return origin === new URL(c.req.url).origin;
  const site = c.req.header("sec-fetch-site");
  return site === undefined || site === "same-origin" || site === "none";
}

/** A urlencoded body as text (read as bytes: workerd warns when .text() meets a non-text type). */
export async function bodyText(c: UiContext): Promise<string> {
  return new TextDecoder().decode(await c.req.arrayBuffer());
}

/** The submitted token, from a urlencoded or multipart body (Hono caches the body for the handler). */
export async function submittedToken(c: UiContext): Promise<string | undefined> {
  const type = c.req.header("content-type") ?? "";
  try {
    if (type.startsWith("application/x-www-form-urlencoded"))
      return new URLSearchParams(await bodyText(c)).get(CSRF_FIELD) ?? undefined;
    if (type.startsWith("multipart/form-data")) {
      const value = (await c.req.formData()).get(CSRF_FIELD);
      return typeof value === "string" ? value : undefined;
    }
  } catch {
    // an unreadable body carries no token
  }
  return undefined;
}

export async function tokenMatches(c: UiContext, expected: string | undefined): Promise<boolean> {
  const given = await submittedToken(c);
  if (!given || !expected) return false;
  return timingSafeEqualText(given, expected);
}
