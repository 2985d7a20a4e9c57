/**
 * Authenticates Antavo's Trusted-site calls: HTTP Basic, or a JWT bearer token (HS256 with a shared
 * secret, RS256 with Antavo's public key), compared in constant time. With no method configured the
 * relay refuses every call rather than run open.
 */
import { createMiddleware } from "hono/factory";
import { RelayError } from "../../lib/errors";
import { verifyJwt } from "../../lib/jwt";
import { matchesSecret } from "../../lib/secrets";
import type { AppEnv } from "./deps";

/** The exact credentials Antavo sends: comparing them whole checks user and password in one go. */
const basicCredentials = (user: string, password: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));

/** `<scheme> <credentials>` and nothing else: text after the credentials is refused, not ignored. */
const AUTHORIZATION = /^([A-Za-z]+) +([^\s]+)$/;

export const webhookAuth = createMiddleware<AppEnv>(async (c, next) => {
  const { webhookAuth: auth, now } = c.get("deps");
  const jwtConfigured = Boolean(auth.jwtSecret || auth.jwtPublicKey);
  if (!auth.basic && !jwtConfigured)
    throw new RelayError("unauthorized", "webhook authentication is not configured on the relay");
  const match = AUTHORIZATION.exec(c.req.header("authorization") ?? "");
  const scheme = match?.[1]?.toLowerCase();
  const credentials = match?.[2] ?? "";

  if (scheme === "basic" && auth.basic) {
    // One constant-time comparison of the whole user:password, so neither part leaks separately.
    if (await matchesSecret(credentials, basicCredentials(auth.basic.user, auth.basic.password))) return next();
    throw new RelayError("unauthorized", "invalid Basic credentials");
  }
  if (scheme === "bearer" && jwtConfigured) {
    const check = await verifyJwt(
      credentials,
      { hs256Secret: auth.jwtSecret, rs256PublicKey: auth.jwtPublicKey },
      now(),
      c.get("log"),
    );
    if (check.ok) return next();
    throw new RelayError("unauthorized", `invalid JWT: ${check.reason}`);
  }
  throw new RelayError("unauthorized", "missing or unsupported Authorization header");
});

/**
 * Bloomreach's scenario Webhook node (DESIGN 4.4): `Authorization: Bearer <BLOOMREACH_WEBHOOK_TOKEN>`,
 * compared in constant time; with no token configured every call is refused.
 */
export const bloomreachWebhookAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.get("deps").bloomreachWebhookToken;
  if (!token) throw new RelayError("unauthorized", "Bloomreach webhook authentication is not configured on the relay");
  const match = AUTHORIZATION.exec(c.req.header("authorization") ?? "");
  if (match?.[1]?.toLowerCase() !== "bearer") throw new RelayError("unauthorized", "missing Bearer token");
  if (await matchesSecret(match[2] ?? "", token)) return next();
  throw new RelayError("unauthorized", "invalid Bearer token");
});
