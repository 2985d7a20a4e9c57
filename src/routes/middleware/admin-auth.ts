/**
 * Guards the admin JSON API with `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 * Wrong tokens are throttled per client address (10 in 15 minutes, then 429 with Retry-After for
 * every attempt from it, the right token included, until the oldest failure is 15 minutes old).
 */
import { createMiddleware } from "hono/factory";
import { errorBody, RelayError } from "../../lib/errors";
import { matchesSecret } from "../../lib/secrets";
import { registerAdminAttempt, retryAfterMessage } from "../../services/admin-auth-throttle";
import { clientAddress } from "./client-address";
import type { AppEnv } from "./deps";

export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const deps = c.get("deps");
  const token = deps.adminToken;
  if (!token) throw new RelayError("unauthorized", "ADMIN_TOKEN is not configured on the relay");
  const match = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "");
  // No bearer token is no guess: it is refused without counting.
  if (!match) throw new RelayError("unauthorized", "a valid admin bearer token is required");
  const matches = await matchesSecret(match[1] ?? "", token);
  const verdict = await registerAdminAttempt(deps, clientAddress(c), !matches);
  if (!verdict.allowed)
    return c.json(
      errorBody("too_many_requests", retryAfterMessage(verdict.retryAfterSeconds), c.get("requestId")),
      429,
      { "Retry-After": String(verdict.retryAfterSeconds) },
    );
  if (!matches) throw new RelayError("unauthorized", "a valid admin bearer token is required");
  await next();
});
