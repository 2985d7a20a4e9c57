/**
 * Authenticates Antavo's Trusted-site calls: HTTP Basic or an HS256 JWT bearer token, compared in
 * constant time. With neither configured the relay refuses every call rather than run open.
 */
import { createMiddleware } from "hono/factory";
import { RelayError } from "../../lib/errors";
import { verifyHs256Jwt } from "../../lib/jwt";
import { matchesSecret } from "../../lib/secrets";
import type { AppEnv } from "./deps";

/** The exact credentials Antavo sends: comparing them whole checks user and password in one go. */
const basicCredentials = (user: string, password: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));

export const webhookAuth = createMiddleware<AppEnv>(async (c, next) => {
  const { webhookAuth: auth, now } = c.get("deps");
  if (!auth.basic && !auth.jwtSecret)
    throw new RelayError("unauthorized", "webhook authentication is not configured on the relay");
  const header = c.req.header("authorization") ?? "";
  const [scheme = "", credentials = ""] = header.split(/\s+/, 2);

  if (scheme.toLowerCase() === "basic" && auth.basic) {
    // One constant-time comparison of the whole user:password, so neither part leaks separately.
    if (await matchesSecret(credentials, basicCredentials(auth.basic.user, auth.basic.password))) return next();
    throw new RelayError("unauthorized", "invalid Basic credentials");
  }
  if (scheme.toLowerCase() === "bearer" && auth.jwtSecret) {
    const check = await verifyHs256Jwt(credentials, auth.jwtSecret, now());
    if (check.ok) return next();
    throw new RelayError("unauthorized", `invalid JWT: ${check.reason}`);
  }
  throw new RelayError("unauthorized", "missing or unsupported Authorization header");
});
