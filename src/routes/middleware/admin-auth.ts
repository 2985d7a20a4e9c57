/** Guards the admin JSON API with `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
import { createMiddleware } from "hono/factory";
import { RelayError } from "../../lib/errors";
import { matchesSecret } from "../../lib/secrets";
import type { AppEnv } from "./deps";

export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.get("deps").adminToken;
  if (!token) throw new RelayError("unauthorized", "ADMIN_TOKEN is not configured on the relay");
  const match = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "");
  if (!match || !(await matchesSecret(match[1] ?? "", token)))
    throw new RelayError("unauthorized", "a valid admin bearer token is required");
  await next();
});
