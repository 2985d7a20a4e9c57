/** Request helpers for tests: auth headers, an HS256 JWT signer, and admin API calls through SELF. */
import { SELF } from "cloudflare:test";

export const secrets = {
  adminToken: "test-admin-token",
  basicUser: "antavo",
  basicPassword: "webhook-password",
  jwtSecret: "webhook-jwt-secret",
} as const;

export const basicAuth = (user: string = secrets.basicUser, password: string = secrets.basicPassword) =>
  `Basic ${btoa(`${user}:${password}`)}`;

const b64url = (bytes: Uint8Array | string) =>
  btoa(typeof bytes === "string" ? bytes : String.fromCharCode(...bytes))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");

/** Signs HS256 over whatever header says; claims given as text are used verbatim (e.g. `{"exp":1e400}`). */
export async function signJwt(
  claims: Record<string, unknown> | string,
  secret: string = secrets.jwtSecret,
  header: Record<string, unknown> = { alg: "HS256", typ: "JWT" },
) {
  const payload = typeof claims === "string" ? claims : JSON.stringify(claims);
  const unsigned = `${b64url(JSON.stringify(header))}.${b64url(payload)}`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(unsigned)));
  return `${unsigned}.${b64url(signature)}`;
}

export function postWebhook(body: unknown, init: { auth?: string | null; contentType?: string; raw?: string } = {}) {
  const headers: Record<string, string> = { "content-type": init.contentType ?? "application/json" };
  const auth = init.auth === undefined ? basicAuth() : init.auth;
  if (auth) headers.authorization = auth;
  return SELF.fetch("https://relay.test/webhooks/antavo", {
    method: "POST",
    headers,
    body: init.raw ?? JSON.stringify(body),
  });
}

export function admin(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? secrets.adminToken : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return SELF.fetch(`https://relay.test/api${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "PUT"),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

export async function json<T = any>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
