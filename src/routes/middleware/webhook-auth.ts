/**
 * Authenticates Antavo's Trusted-site calls: HTTP Basic or an HS256 JWT bearer token, compared in
 * constant time. With neither configured the relay refuses every call rather than run open.
 */
import { createMiddleware } from "hono/factory";
import { verifyHs256Jwt } from "../../lib/jwt";
import { RelayError } from "../../lib/errors";
import { timingSafeEqualText } from "../../lib/secrets";
import type { AppEnv } from "./deps";

function decodeBasic(value: string): { user: string; password: string } | undefined {
  try {
    const decoded = atob(value);
    const colon = decoded.indexOf(":");
    return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  } catch {
    return undefined;
  }
}

export const webhookAuth = createMiddleware<AppEnv>(async (c, next) => {
  const { webhookAuth: auth, now } = c.get("deps");
  if (!auth.basic && !auth.jwtSecret) throw new RelayError("unauthorized", "webhook authentication is not configured on the relay");
  const header = c.req.header("authorization") ?? "";
  const [scheme = "", credentials = ""] = header.split(/\s+/, 2);

  if (scheme.toLowerCase() === "basic" && auth.basic) {
    const given = decodeBasic(credentials);
    // Both comparisons always run, so a wrong user and a wrong password take the same time.
    const [userOk, passwordOk] = await Promise.all([
      timingSafeEqualText(given?.user ?? "", auth.basic.user),
      timingSafeEqualText(given?.password ?? "", auth.basic.password),
    ]);
    if (given && userOk && passwordOk) return next();
    throw new RelayError("unauthorized", "invalid Basic credentials");
  }
  if (scheme.toLowerCase() === "bearer" && auth.jwtSecret) {
    const check = await verifyHs256Jwt(credentials, auth.jwtSecret, now());
    if (check.ok) return next();
    throw new RelayError("unauthorized", `invalid JWT: ${check.reason}`);
  }
  throw new RelayError("unauthorized", "missing or unsupported Authorization header");
});
