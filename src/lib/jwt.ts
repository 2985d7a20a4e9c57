/**
 * HS256 JWT verification for Antavo's Trusted-site JWT authentication. Only HS256 is accepted:
 * `alg: none` and every other algorithm are refused before any signature work.
 */
import { fromBase64Url, utf8 } from "./encoding";

export type JwtCheck = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

const LEEWAY_SECONDS = 60;

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(fromBase64Url(segment)));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function verifyHs256Jwt(token: string, secret: string, nowSeconds: number): Promise<JwtCheck> {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed token" };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (!header) return { ok: false, reason: "malformed header" };
  if (header.alg !== "HS256") return { ok: false, reason: `algorithm ${String(header.alg)} is not accepted` };

  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = fromBase64Url(signaturePart);
  } catch {
    return { ok: false, reason: "malformed signature" };
  }
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  // subtle.verify compares in constant time.
  const valid = await crypto.subtle.verify("HMAC", key, signature, utf8(`${headerPart}.${payloadPart}`));
  if (!valid) return { ok: false, reason: "bad signature" };

  const claims = decodeJson(payloadPart);
  if (!claims) return { ok: false, reason: "malformed claims" };
  if (typeof claims.exp === "number" && nowSeconds > claims.exp + LEEWAY_SECONDS)
    return { ok: false, reason: "token expired" };
  if (typeof claims.nbf === "number" && nowSeconds < claims.nbf - LEEWAY_SECONDS)
    return { ok: false, reason: "token not yet valid" };
  return { ok: true, claims };
}
